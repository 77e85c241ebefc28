/* Data sets: reference-counted sample storage, the views over it, and the
 * per-feature affine map (scale and normalisation) applied when samples are
 * gathered into a batch. */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* An IDX file whose header declares more content than this (header and
 * data) is refused before anything after its header is read: 16 GiB, or half
 * the address space. Below it, a file is read no further than its header
 * declares, plus one byte. */
#if SIZE_MAX > 0xFFFFFFFFu
#define IDX_MAX_BYTES ((size_t)1 << 34)
#else
#define IDX_MAX_BYTES (SIZE_MAX / 2)
#endif

static int ds_fail(fnn_dataset *ds, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A data set may be read by many threads at once, and reads that fail
 * (fnn_dataset_subset(), fnn_dataset_labels(), ...) write its message: the
 * writes are serialised, as fnn__model_fail() does for models. */
static pthread_mutex_t msg_lock = PTHREAD_MUTEX_INITIALIZER;

static int ds_fail(fnn_dataset *ds, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&msg_lock);
    fnn__vfail(ds->errmsg, sizeof ds->errmsg, code, fmt, ap);
    pthread_mutex_unlock(&msg_lock);
    va_end(ap);
    return code;
}

/* ---- storage -------------------------------------------------------------- */

/* A store of n samples with room for their labels unless unlabelled (pixels
 * are attached by the caller), holding one reference. */
static fnn__store *store_new(size_t n, uint32_t rows, uint32_t cols, uint32_t channels,
                             uint32_t num_classes, int kind, int unlabelled)
{
    size_t bytes;
    if (fnn__mul(n, sizeof(int32_t), &bytes) != 0)
        return NULL;
    fnn__store *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    if (!unlabelled && !(st->labels = malloc(bytes))) {
        free(st);
        return NULL;
    }
    atomic_init(&st->refs, 1);
    st->n = n;
    st->rows = rows;
    st->cols = cols;
    st->channels = channels;
    st->dim = (size_t)rows * cols * channels; /* callers checked <= FNN__MAX_FEATURES */
    st->num_classes = num_classes;
    st->kind = kind;
    st->scale = kind == FNN__STORE_U8 ? 1.0f / 255.0f : 1.0f;
    return st;
}

static void store_release(fnn__store *st)
{
    if (atomic_fetch_sub_explicit(&st->refs, 1, memory_order_acq_rel) != 1)
        return;
    free(st->owned);
    free(st->labels);
    free(st);
}

/* ---- handles --------------------------------------------------------------- */

/* Recomputes a[], b[] from the store's scale and the per-channel mean, std. */
static void update_affine(fnn_dataset *ds)
{
    const fnn__store *st = ds->store;
    for (size_t j = 0; j < st->dim; j++) {
        size_t c = j % st->channels;
        ds->a[j] = (float)((double)st->scale / ds->std[c]);
        ds->b[j] = (float)(-(double)ds->mean[c] / ds->std[c]);
    }
}

/* A handle over st for n positions (an index array when with_index, else the
 * identity), taking a reference to st; arrays are left uninitialised. */
static fnn_dataset *ds_alloc(fnn__store *st, size_t n, int with_index)
{
    size_t index_bytes;
    if (fnn__mul(n ? n : 1, sizeof(uint32_t), &index_bytes) != 0)
        return NULL;
    fnn_dataset *ds = calloc(1, sizeof *ds);
    if (!ds)
        return NULL;
    ds->a = malloc(st->dim * sizeof(float));
    ds->b = malloc(st->dim * sizeof(float));
    ds->mean = malloc(st->channels * sizeof(float));
    ds->std = malloc(st->channels * sizeof(float));
    ds->index = with_index ? malloc(index_bytes) : NULL;
    if (!ds->a || !ds->b || !ds->mean || !ds->std || (with_index && !ds->index)) {
        free(ds->a);
        free(ds->b);
        free(ds->mean);
        free(ds->std);
        free(ds->index);
        free(ds);
        return NULL;
    }
    atomic_fetch_add_explicit(&st->refs, 1, memory_order_relaxed);
    ds->store = st;
    ds->n = n;
    return ds;
}

/* Wraps a new store (whose reference it consumes) in an identity view with
 * mean 0, std 1. */
static int ds_from_store(fnn__store *st, fnn_dataset **out, char *err, size_t err_size)
{
    fnn_dataset *ds = ds_alloc(st, st->n, 0);
    if (ds) {
        for (uint32_t c = 0; c < st->channels; c++) {
            ds->mean[c] = 0.0f;
            ds->std[c] = 1.0f;
        }
        update_affine(ds);
    }
    store_release(st); /* ds holds its own reference */
    if (!ds)
        return fnn__fail(err, err_size, FNN_E_NOMEM, "cannot allocate the data set");
    *out = ds;
    return FNN_OK;
}

FNN_API void fnn_dataset_free(fnn_dataset *ds)
{
    if (!ds)
        return;
    store_release(ds->store);
    free(ds->index);
    free(ds->a);
    free(ds->b);
    free(ds->mean);
    free(ds->std);
    free(ds);
}

int fnn__dataset_view(const fnn_dataset *ds, const uint32_t *pos, size_t n,
                      fnn_dataset **out)
{
    *out = NULL;
    fnn_dataset *v = ds_alloc(ds->store, n, 1);
    if (!v)
        return FNN_E_NOMEM;
    for (size_t i = 0; i < n; i++)
        v->index[i] = (uint32_t)fnn__ds_at(ds, pos[i]); /* store indices fit u32 */
    memcpy(v->a, ds->a, ds->store->dim * sizeof(float));
    memcpy(v->b, ds->b, ds->store->dim * sizeof(float));
    memcpy(v->mean, ds->mean, ds->store->channels * sizeof(float));
    memcpy(v->std, ds->std, ds->store->channels * sizeof(float));
    *out = v;
    return FNN_OK;
}

int fnn__dataset_sample(const fnn_dataset *ds, size_t cap, fnn__rng *rng, fnn_dataset **out)
{
    uint32_t *pos = malloc(ds->n * sizeof *pos);
    if (!pos)
        return FNN_E_NOMEM;
    for (size_t i = 0; i < ds->n; i++)
        pos[i] = (uint32_t)i;
    if (cap < ds->n)
        fnn__shuffle_u32(rng, pos, ds->n);
    int rc = fnn__dataset_view(ds, pos, cap < ds->n ? cap : ds->n, out);
    free(pos);
    return rc;
}

/* ---- gathering (the training step's input path) ---------------------------- */

/* Store sample s through the affine map into x[0..dim): one pass, which the
 * compiler vectorises. */
static inline void put_sample(const fnn_dataset *ds, size_t s, float *restrict x)
{
    const fnn__store *st = ds->store;
    const size_t dim = st->dim;
    const float *restrict a = ds->a;
    const float *restrict b = ds->b;
    if (st->kind == FNN__STORE_U8) {
        const uint8_t *restrict src = st->u8 + s * dim;
        for (size_t j = 0; j < dim; j++)
            x[j] = (float)src[j] * a[j] + b[j];
    } else {
        const float *restrict src = st->f32 + s * dim;
        for (size_t j = 0; j < dim; j++)
            x[j] = src[j] * a[j] + b[j];
    }
}

/* Positions pos[0..count), or first + [0..count) when pos is NULL. */
static void gather(const fnn_dataset *ds, const uint32_t *pos, size_t first,
                   size_t count, float *x, int32_t *y)
{
    const size_t dim = ds->store->dim;
    for (size_t i = 0; i < count; i++) {
        size_t s = fnn__ds_at(ds, pos ? pos[i] : first + i);
        put_sample(ds, s, x + i * dim);
        if (y)
            y[i] = ds->store->labels[s];
    }
}

void fnn__dataset_gather(const fnn_dataset *ds, const uint32_t *pos, size_t count,
                         float *x, int32_t *y)
{
    gather(ds, pos, 0, count, x, y);
}

void fnn__dataset_gather_range(const fnn_dataset *ds, size_t first, size_t count,
                               float *x, int32_t *y)
{
    gather(ds, NULL, first, count, x, y);
}

/* ---- constructors ---------------------------------------------------------- */

/* What the three array constructors share: checks the arguments in the
 * order fnn_dataset_from_arrays() documents and builds the data set, copying
 * the features or (borrow) pointing at them; labels are always copied.
 * `what` starts the messages. */
static int from_arrays(fnn_dataset **out, const void *features, int dtype,
                       const int32_t *labels, size_t n, uint32_t rows, uint32_t cols,
                       uint32_t channels, uint32_t num_classes, int borrow,
                       const char *what, char *err, size_t err_size)
{
    if (!out)
        return fnn__fail(err, err_size, FNN_E_NULL, "%s: out is NULL", what);
    *out = NULL;
    if (!features)
        return fnn__fail(err, err_size, FNN_E_NULL, "%s: features is NULL", what);
    if (dtype != FNN_DTYPE_FLOAT32 && dtype != FNN_DTYPE_UINT8)
        return fnn__fail(err, err_size, FNN_E_INVALID,
                         "%s: dtype %d is neither FNN_DTYPE_FLOAT32 (0) nor "
                         "FNN_DTYPE_UINT8 (1)",
                         what, dtype);
    if (n == 0)
        return fnn__fail(err, err_size, FNN_E_EMPTY, "%s: no samples (n is 0)", what);
    if (n > FNN__MAX_SAMPLES)
        return fnn__fail(err, err_size, FNN_E_INVALID,
                         "%s: %zu samples exceed the limit of %zu", what, n,
                         FNN__MAX_SAMPLES);
    if (rows == 0 || cols == 0 || channels == 0 || rows > FNN__MAX_DIM ||
        cols > FNN__MAX_DIM || channels > FNN__MAX_DIM)
        return fnn__fail(err, err_size, FNN_E_INVALID,
                         "%s: shape %lu x %lu x %lu: each must be in 1..%u", what,
                         (unsigned long)rows, (unsigned long)cols, (unsigned long)channels,
                         FNN__MAX_DIM);
    uint64_t dim = (uint64_t)rows * cols * channels;
    if (dim > FNN__MAX_FEATURES)
        return fnn__fail(err, err_size, FNN_E_INVALID,
                         "%s: %llu features per sample exceed the limit of %u", what,
                         (unsigned long long)dim, FNN__MAX_FEATURES);
    if (labels && (num_classes == 0 || num_classes > FNN__MAX_CLASSES))
        return fnn__fail(err, err_size, FNN_E_INVALID, "%s: num_classes %lu is outside 1..%u",
                         what, (unsigned long)num_classes, FNN__MAX_CLASSES);
    size_t width = dtype == FNN_DTYPE_UINT8 ? 1 : sizeof(float);
    size_t count, bytes;
    if (fnn__mul(n, (size_t)dim, &count) != 0 || fnn__mul(count, width, &bytes) != 0)
        return fnn__fail(err, err_size, FNN_E_NOMEM,
                         "%s: %zu samples of %llu features overflow", what, n,
                         (unsigned long long)dim);
    if (borrow && dtype == FNN_DTYPE_FLOAT32 && (uintptr_t)features % _Alignof(float) != 0)
        return fnn__fail(err, err_size, FNN_E_INVALID,
                         "%s: float32 features at %p are not aligned to %zu bytes", what,
                         features, _Alignof(float));
    for (size_t i = 0; labels && i < n; i++)
        if (labels[i] < 0 || (uint32_t)labels[i] >= num_classes)
            return fnn__fail(err, err_size, FNN_E_RANGE,
                             "%s: label %ld at sample %zu is outside [0, %lu)", what,
                             (long)labels[i], i, (unsigned long)num_classes);

    int kind = dtype == FNN_DTYPE_UINT8 ? FNN__STORE_U8 : FNN__STORE_F32;
    fnn__store *st =
        store_new(n, rows, cols, channels, labels ? num_classes : 0, kind, !labels);
    if (!st)
        return fnn__fail(err, err_size, FNN_E_NOMEM, "%s: cannot allocate %zu labels", what,
                         n);
    void *copy = NULL;
    if (!borrow && !(copy = malloc(bytes))) {
        store_release(st);
        return fnn__fail(err, err_size, FNN_E_NOMEM,
                         "%s: cannot allocate %zu bytes of features", what, bytes);
    }
    if (copy)
        memcpy(copy, features, bytes);
    const void *x = copy ? copy : features;
    st->owned = copy;
    if (kind == FNN__STORE_U8) {
        st->u8 = x;
    } else {
        /* Checked in place (a copy is aligned; borrowed floats were checked). */
        const float *f = st->f32 = x;
        for (size_t k = 0; k < count; k++)
            if (!isfinite(f[k])) {
                fnn__fail(err, err_size, FNN_E_NUMERIC, "%s: feature %zu of sample %zu is %s",
                          what, k % (size_t)dim, k / (size_t)dim,
                          isnan(f[k]) ? "NaN" : "infinite");
                store_release(st); /* frees the copy f points into */
                return FNN_E_NUMERIC;
            }
    }
    if (labels)
        memcpy(st->labels, labels, n * sizeof(int32_t));
    return ds_from_store(st, out, err, err_size);
}

FNN_API int fnn_dataset_from_arrays(fnn_dataset **out, const float *features,
                                    const int32_t *labels, size_t n, uint32_t rows,
                                    uint32_t cols, uint32_t channels,
                                    uint32_t num_classes, char *err, size_t err_size)
{
    if (out && features && !labels) {
        *out = NULL;
        return fnn__fail(err, err_size, FNN_E_NULL, "from_arrays: labels is NULL");
    }
    return from_arrays(out, features, FNN_DTYPE_FLOAT32, labels, n, rows, cols, channels,
                       num_classes, 0, "from_arrays", err, err_size);
}

FNN_API int fnn_dataset_from_arrays_v2(fnn_dataset **out, const void *features, int dtype,
                                       const int32_t *labels, size_t n, uint32_t rows,
                                       uint32_t cols, uint32_t channels,
                                       uint32_t num_classes, char *err, size_t err_size)
{
    return from_arrays(out, features, dtype, labels, n, rows, cols, channels, num_classes,
                       0, "from_arrays", err, err_size);
}

int fnn__dataset_borrow(fnn_dataset **out, const void *features, int dtype,
                        const int32_t *labels, size_t n, uint32_t rows, uint32_t cols,
                        uint32_t channels, uint32_t num_classes, const char *what,
                        char *err, size_t err_size)
{
    return from_arrays(out, features, dtype, labels, n, rows, cols, channels, num_classes,
                       1, what, err, err_size);
}

FNN_API int fnn_dataset_borrow_arrays(fnn_dataset **out, const void *features, int dtype,
                                      const int32_t *labels, size_t n, uint32_t rows,
                                      uint32_t cols, uint32_t channels,
                                      uint32_t num_classes, char *err, size_t err_size)
{
    return fnn__dataset_borrow(out, features, dtype, labels, n, rows, cols, channels,
                               num_classes, "borrow_arrays", err, err_size);
}

/* Parses one IDX file image into *idx, naming it in messages. */
static int parse_named(const uint8_t *buf, size_t len, const char *name, fnn__idx *idx,
                       char *err, size_t err_size)
{
    char msg[FNN__ERRMSG_SIZE];
    int rc = fnn__idx_parse(buf, len, idx, msg, sizeof msg);
    return rc == FNN_OK ? FNN_OK : fnn__fail(err, err_size, rc, "%s: %s", name, msg);
}

/* What the headers of an image and a label file must say; nothing in them
 * needs their data. */
static int check_images(const fnn__idx *im, const char *name, char *err, size_t err_size)
{
    if (im->ndims != 3)
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         "%s: %u dimensions, images need 3 (N x rows x cols, magic 0x00000803)",
                         name, im->ndims);
    if ((uint64_t)im->dims[1] * im->dims[2] > FNN__MAX_FEATURES)
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         "%s: %lu x %lu pixels per image exceed the limit of %u features",
                         name, (unsigned long)im->dims[1], (unsigned long)im->dims[2],
                         FNN__MAX_FEATURES);
    return FNN_OK;
}

static int check_labels(const fnn__idx *im, const fnn__idx *lb, const char *img_name,
                        const char *lbl_name, char *err, size_t err_size)
{
    if (lb->ndims != 1)
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         "%s: %u dimensions, labels need 1 (N, magic 0x00000801)", lbl_name,
                         lb->ndims);
    if (lb->dims[0] != im->dims[0])
        return fnn__fail(err, err_size, FNN_E_SHAPE,
                         "image count %lu (%s) differs from label count %lu (%s)",
                         (unsigned long)im->dims[0], img_name, (unsigned long)lb->dims[0],
                         lbl_name);
    return FNN_OK;
}

/* A data set from checked images and labels with their data: takes im's
 * pixels on success; the caller frees what is left in im and lb. */
static int from_checked(fnn_dataset **out, fnn__idx *im, const fnn__idx *lb,
                        uint32_t num_classes, const char *lbl_name, char *err,
                        size_t err_size)
{
    size_t n = im->dims[0];
    for (size_t i = 0; i < n; i++)
        if (lb->data[i] >= num_classes)
            return fnn__fail(err, err_size, FNN_E_RANGE,
                             "%s: label %u at sample %zu is >= num_classes %lu", lbl_name,
                             lb->data[i], i, (unsigned long)num_classes);
    fnn__store *st =
        store_new(n, im->dims[1], im->dims[2], 1, num_classes, FNN__STORE_U8, 0);
    if (!st)
        return fnn__fail(err, err_size, FNN_E_NOMEM, "cannot allocate %zu labels", n);
    st->u8 = st->owned = im->data; /* the store takes the pixels as parsed */
    im->data = NULL;
    for (size_t i = 0; i < n; i++)
        st->labels[i] = lb->data[i];
    return ds_from_store(st, out, err, err_size);
}

static int check_num_classes(uint32_t num_classes, char *err, size_t err_size)
{
    if (num_classes == 0 || num_classes > FNN__MAX_CLASSES)
        return fnn__fail(err, err_size, FNN_E_INVALID, "num_classes %lu is outside 1..%u",
                         (unsigned long)num_classes, FNN__MAX_CLASSES);
    return FNN_OK;
}

/* fnn__dataset_from_idx() with the names that messages give the two inputs. */
static int from_idx_named(fnn_dataset **out, const uint8_t *img, size_t img_len,
                          const uint8_t *lbl, size_t lbl_len, uint32_t num_classes,
                          const char *img_name, const char *lbl_name, char *err,
                          size_t err_size)
{
    fnn__idx im = { 0 }, lb = { 0 };
    int rc = check_num_classes(num_classes, err, err_size);
    if (rc == FNN_OK)
        rc = parse_named(img, img_len, img_name, &im, err, err_size);
    if (rc == FNN_OK)
        rc = check_images(&im, img_name, err, err_size);
    if (rc == FNN_OK)
        rc = parse_named(lbl, lbl_len, lbl_name, &lb, err, err_size);
    if (rc == FNN_OK)
        rc = check_labels(&im, &lb, img_name, lbl_name, err, err_size);
    if (rc == FNN_OK)
        rc = from_checked(out, &im, &lb, num_classes, lbl_name, err, err_size);
    free(im.data);
    free(lb.data);
    return rc;
}

int fnn__dataset_from_idx(fnn_dataset **out, const uint8_t *img, size_t img_len,
                          const uint8_t *lbl, size_t lbl_len, uint32_t num_classes,
                          char *err, size_t err_size)
{
    if (!out)
        return fnn__fail(err, err_size, FNN_E_NULL, "from_idx: out is NULL");
    *out = NULL;
    if (!img || !lbl)
        return fnn__fail(err, err_size, FNN_E_NULL, "from_idx: %s is NULL",
                         img ? "labels" : "images");
    return from_idx_named(out, img, img_len, lbl, lbl_len, num_classes, "images",
                          "labels", err, err_size);
}

FNN_API int fnn_dataset_load_idx(fnn_dataset **out, const char *images_path,
                                 const char *labels_path, uint32_t num_classes,
                                 char *err, size_t err_size)
{
    if (!out)
        return fnn__fail(err, err_size, FNN_E_NULL, "load_idx: out is NULL");
    *out = NULL;
    if (!images_path || !labels_path)
        return fnn__fail(err, err_size, FNN_E_NULL, "load_idx: %s is NULL",
                         images_path ? "labels_path" : "images_path");
    int rc = check_num_classes(num_classes, err, err_size);
    if (rc != FNN_OK)
        return rc;
    /* Both headers are read and checked before any data, so that a file is
     * read no further than its header declares, and only once the header
     * makes sense. */
    fnn__idx_reader *ri = NULL, *rl = NULL;
    fnn__idx im = { 0 }, lb = { 0 };
    rc = fnn__idx_open(images_path, IDX_MAX_BYTES, &ri, &im, err, err_size);
    if (rc == FNN_OK)
        rc = check_images(&im, images_path, err, err_size);
    if (rc == FNN_OK)
        rc = fnn__idx_open(labels_path, IDX_MAX_BYTES, &rl, &lb, err, err_size);
    if (rc == FNN_OK)
        rc = check_labels(&im, &lb, images_path, labels_path, err, err_size);
    if (rc == FNN_OK)
        rc = fnn__idx_read_data(ri, &im, err, err_size);
    if (rc == FNN_OK)
        rc = fnn__idx_read_data(rl, &lb, err, err_size);
    fnn__idx_close(ri);
    fnn__idx_close(rl);
    if (rc == FNN_OK)
        rc = from_checked(out, &im, &lb, num_classes, labels_path, err, err_size);
    free(im.data);
    free(lb.data);
    return rc;
}

/* dir/name.gz unless that file does not exist, else dir/name; NULL on no
 * memory. A .gz that exists but cannot be opened is kept, so that the loader
 * reports why it cannot be opened. */
static char *idx_path(const char *dir, const char *name)
{
    size_t size = strlen(dir) + strlen(name) + sizeof "/.gz";
    char *path = malloc(size);
    if (!path)
        return NULL;
    snprintf(path, size, "%s/%s.gz", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0)
        (void)close(fd);
    else if (errno == ENOENT)
        path[strlen(path) - 3] = '\0';
    return path;
}

FNN_API int fnn_dataset_load_dir(fnn_dataset **out, const char *dir, int split,
                                 char *err, size_t err_size)
{
    if (!out)
        return fnn__fail(err, err_size, FNN_E_NULL, "load_dir: out is NULL");
    *out = NULL;
    if (!dir)
        return fnn__fail(err, err_size, FNN_E_NULL, "load_dir: dir is NULL");
    if (dir[0] == '\0')
        return fnn__fail(err, err_size, FNN_E_INVALID,
                         "load_dir: dir is the empty string (use \".\" for the current "
                         "directory)");
    if (split != FNN_SPLIT_TRAIN && split != FNN_SPLIT_TEST)
        return fnn__fail(err, err_size, FNN_E_INVALID,
                         "load_dir: split %d is neither FNN_SPLIT_TRAIN nor FNN_SPLIT_TEST",
                         split);
    const char *prefix = split == FNN_SPLIT_TRAIN ? "train" : "t10k";
    char images[32], labels[32];
    snprintf(images, sizeof images, "%s-images-idx3-ubyte", prefix);
    snprintf(labels, sizeof labels, "%s-labels-idx1-ubyte", prefix);
    char *img = idx_path(dir, images), *lbl = idx_path(dir, labels);
    int rc = img && lbl ? fnn_dataset_load_idx(out, img, lbl, 10, err, err_size)
                        : fnn__fail(err, err_size, FNN_E_NOMEM, "load_dir: out of memory");
    free(img);
    free(lbl);
    return rc;
}

/* ---- queries ---------------------------------------------------------------- */

FNN_API const char *fnn_dataset_errmsg(const fnn_dataset *ds)
{
    return ds ? ds->errmsg : "";
}

FNN_API size_t fnn_dataset_size(const fnn_dataset *ds)
{
    return ds ? ds->n : 0;
}

FNN_API uint32_t fnn_dataset_num_classes(const fnn_dataset *ds)
{
    return ds ? ds->store->num_classes : 0;
}

FNN_API int fnn_dataset_shape(const fnn_dataset *ds, uint32_t *rows, uint32_t *cols,
                              uint32_t *channels)
{
    if (!ds)
        return FNN_E_NULL;
    if (rows)
        *rows = ds->store->rows;
    if (cols)
        *cols = ds->store->cols;
    if (channels)
        *channels = ds->store->channels;
    return FNN_OK;
}

FNN_API int fnn_dataset_has_labels(const fnn_dataset *ds)
{
    return ds ? ds->store->labels != NULL : FNN_E_NULL;
}

FNN_API int fnn_dataset_labels(fnn_dataset *ds, int32_t *labels, size_t n)
{
    if (!ds)
        return FNN_E_NULL;
    if (!labels)
        return ds_fail(ds, FNN_E_NULL, "labels: output is NULL");
    if (!ds->store->labels)
        return ds_fail(ds, FNN_E_STATE, "labels: the data set was made without labels");
    if (n < ds->n)
        return ds_fail(ds, FNN_E_SHAPE, "labels: capacity %zu is less than the %zu samples",
                       n, ds->n);
    for (size_t i = 0; i < ds->n; i++)
        labels[i] = ds->store->labels[fnn__ds_at(ds, i)];
    return FNN_OK;
}

FNN_API int fnn_dataset_features(fnn_dataset *ds, float *x, size_t n)
{
    if (!ds)
        return FNN_E_NULL;
    if (!x)
        return ds_fail(ds, FNN_E_NULL, "features: output is NULL");
    size_t need;
    if (fnn__mul(ds->n, ds->store->dim, &need) != 0 || n < need)
        return ds_fail(ds, FNN_E_SHAPE,
                       "features: capacity %zu is less than %zu samples x %zu features", n,
                       ds->n, ds->store->dim);
    gather(ds, NULL, 0, ds->n, x, NULL);
    return FNN_OK;
}

/* ---- views ------------------------------------------------------------------ */

FNN_API int fnn_dataset_subset(fnn_dataset *ds, const uint32_t *indices, size_t n,
                               fnn_dataset **out)
{
    if (out)
        *out = NULL;
    if (!ds)
        return FNN_E_NULL;
    if (!indices || !out)
        return ds_fail(ds, FNN_E_NULL, "subset: %s is NULL", out ? "indices" : "out");
    if (n == 0)
        return ds_fail(ds, FNN_E_EMPTY, "subset: no indices (n is 0)");
    if (n > FNN__MAX_SAMPLES)
        return ds_fail(ds, FNN_E_NOMEM, "subset: %zu indices exceed the limit of %zu", n,
                       FNN__MAX_SAMPLES);
    for (size_t i = 0; i < n; i++)
        if (indices[i] >= ds->n)
            return ds_fail(ds, FNN_E_RANGE,
                           "subset: index %lu at position %zu is >= size %zu",
                           (unsigned long)indices[i], i, ds->n);
    if (fnn__dataset_view(ds, indices, n, out) != FNN_OK)
        return ds_fail(ds, FNN_E_NOMEM, "subset: cannot allocate a view of %zu samples", n);
    return FNN_OK;
}

FNN_API int fnn_dataset_split(fnn_dataset *ds, double fraction, uint64_t seed,
                              fnn_dataset **first, fnn_dataset **second)
{
    if (first)
        *first = NULL;
    if (second)
        *second = NULL;
    if (!ds)
        return FNN_E_NULL;
    if (!first || !second)
        return ds_fail(ds, FNN_E_NULL, "split: %s is NULL", first ? "second" : "first");
    if (first == second)
        return ds_fail(ds, FNN_E_INVALID, "split: first and second are the same pointer");
    if (!(fraction > 0.0 && fraction < 1.0))
        return ds_fail(ds, FNN_E_INVALID, "split: fraction %g is not in (0, 1)", fraction);
    size_t n = ds->n;
    size_t k = (size_t)(fraction * (double)n + 0.5); /* round half up; x >= 0 */
    if (k == 0 || k >= n)
        return ds_fail(ds, FNN_E_EMPTY,
                       "split: fraction %g of %zu samples leaves the %s part empty",
                       fraction, n, k == 0 ? "first" : "second");
    size_t bytes;
    uint32_t *perm = fnn__mul(n, sizeof *perm, &bytes) == 0 ? malloc(bytes) : NULL;
    if (!perm)
        return ds_fail(ds, FNN_E_NOMEM, "split: cannot allocate %zu indices", n);
    for (size_t i = 0; i < n; i++)
        perm[i] = (uint32_t)i;
    fnn__rng rng;
    fnn__rng_seed(&rng, seed);
    fnn__shuffle_u32(&rng, perm, n);
    int rc = fnn__dataset_view(ds, perm, k, first);
    if (rc == FNN_OK && (rc = fnn__dataset_view(ds, perm + k, n - k, second)) != FNN_OK) {
        fnn_dataset_free(*first);
        *first = NULL;
    }
    free(perm);
    if (rc != FNN_OK)
        return ds_fail(ds, rc, "split: cannot allocate views of %zu samples", n);
    return FNN_OK;
}

/* ---- normalisation ----------------------------------------------------------- */

/* The largest |value| of channel c in a float store. */
static double store_max_abs(const fnn__store *st, size_t c)
{
    double mx = 0.0;
    for (size_t i = c; i < st->n * st->dim; i += st->channels)
        if (fabs((double)st->f32[i]) > mx)
            mx = fabs((double)st->f32[i]);
    return mx;
}

FNN_API int fnn_dataset_set_normalization(fnn_dataset *ds, const float *mean,
                                          const float *std, size_t channels)
{
    if (!ds)
        return FNN_E_NULL;
    if (!mean || !std)
        return ds_fail(ds, FNN_E_NULL, "set_normalization: %s is NULL",
                       mean ? "std" : "mean");
    if (channels != ds->store->channels)
        return ds_fail(ds, FNN_E_SHAPE,
                       "set_normalization: %zu channels given, the data set has %lu",
                       channels, (unsigned long)ds->store->channels);
    for (size_t c = 0; c < channels; c++) {
        if (!isfinite(mean[c]))
            return ds_fail(ds, FNN_E_INVALID, "set_normalization: mean[%zu] is %g", c,
                           (double)mean[c]);
        if (!(std[c] > 0.0f) || !isfinite(std[c]))
            return ds_fail(ds, FNN_E_INVALID,
                           "set_normalization: std[%zu] is %g; it must be finite and > 0",
                           c, (double)std[c]);
        /* The affine map of the gather must stay finite for every feature
         * value the store can hold. */
        double range = ds->store->kind == FNN__STORE_U8 ? 255.0 : store_max_abs(ds->store, c);
        double a = (double)ds->store->scale / std[c], b = (double)mean[c] / std[c];
        if (!(fabs(a) * range + fabs(b) < 0.5 * FLT_MAX))
            return ds_fail(ds, FNN_E_INVALID,
                           "set_normalization: channel %zu: mean %g and std %g would make "
                           "features overflow (scale %g)",
                           c, (double)mean[c], (double)std[c], a);
    }
    memcpy(ds->mean, mean, channels * sizeof(float));
    memcpy(ds->std, std, channels * sizeof(float));
    update_affine(ds);
    return FNN_OK;
}

/* Sum over the view's samples of (raw * scale - center)^(square ? 2 : 1) for
 * channel c, in double. */
static double channel_moment(const fnn_dataset *ds, size_t c, double center, int square)
{
    const fnn__store *st = ds->store;
    const double scale = st->scale;
    double sum = 0.0;
    for (size_t i = 0; i < ds->n; i++) {
        size_t base = fnn__ds_at(ds, i) * st->dim;
        for (size_t k = base + c; k < base + st->dim; k += st->channels) {
            double raw = st->kind == FNN__STORE_U8 ? st->u8[k] : st->f32[k];
            double v = raw * scale - center;
            sum += square ? v * v : v;
        }
    }
    return sum;
}

/* Mean and standard deviation of the scaled features of channel c: two
 * passes (mean, then squared deviations) keep the variance accurate. */
static void channel_stat(const fnn_dataset *ds, size_t c, double *mean, double *std)
{
    double count = (double)ds->n * (double)(ds->store->dim / ds->store->channels);
    double m = channel_moment(ds, c, 0.0, 0) / count;
    *mean = m;
    *std = sqrt(channel_moment(ds, c, m, 1) / count);
}

int fnn__dataset_presented_stats(const fnn_dataset *ds, float *mean, float *std)
{
    size_t channels = ds->store->channels;
    double *m = malloc(2 * channels * sizeof *m);
    if (!m)
        return FNN_E_NOMEM;
    double *sd = m + channels;
    for (size_t c = 0; c < channels; c++)
        channel_stat(ds, c, &m[c], &sd[c]);
    /* The presented features are (raw - mean_c) / std_c of the view's own
     * normalisation. */
    for (size_t c = 0; c < channels; c++) {
        mean[c] = (float)((m[c] - ds->mean[c]) / ds->std[c]);
        std[c] = (float)(sd[c] / ds->std[c]);
    }
    free(m);
    return FNN_OK;
}

FNN_API int fnn_dataset_channel_stats(fnn_dataset *ds, float *mean, float *std,
                                      size_t channels)
{
    if (!ds)
        return FNN_E_NULL;
    if (!mean || !std)
        return ds_fail(ds, FNN_E_NULL, "channel_stats: %s is NULL", mean ? "std" : "mean");
    if (channels != ds->store->channels)
        return ds_fail(ds, FNN_E_SHAPE,
                       "channel_stats: %zu channels given, the data set has %lu", channels,
                       (unsigned long)ds->store->channels);
    for (size_t c = 0; c < channels; c++) {
        double m, sd;
        channel_stat(ds, c, &m, &sd);
        mean[c] = (float)m;
        std[c] = (float)sd;
    }
    return FNN_OK;
}
