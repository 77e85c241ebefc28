/* Data set module: IDX and gzip reading, loaders, arrays, views, splits,
 * normalisation, statistics and the gather path. White-box: links the
 * library objects and reaches fnn__* internals. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "internal.h"
#include "testutil.h"

/* ---- scratch files ----------------------------------------------------------- */

static char tmpdir[64];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/fnn-test-dataset-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    DIR *d = opendir(tmpdir);
    if (!d)
        return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(tmpdir);
}

/* Path of a file in the scratch directory; four calls may be live at once. */
static const char *tpath(const char *name)
{
    static char ring[4][512];
    static int next;
    char *p = ring[next++ % 4];
    snprintf(p, sizeof ring[0], "%s/%s", tmpdir, name);
    return p;
}

static const char *write_file(const char *name, const void *data, size_t len)
{
    const char *path = tpath(name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

/* gzip of data into a malloc'ed buffer. */
static uint8_t *gzip(const void *data, size_t len, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    ck_assert_int_eq(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8,
                                  Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&zs, (uLong)len) + 32;
    uint8_t *out = malloc(cap);
    ck_assert_ptr_nonnull(out);
    zs.next_in = (Bytef *)(uintptr_t)data;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
    *out_len = cap - zs.avail_out;
    deflateEnd(&zs);
    return out;
}

/* Writes the first keep bytes of gzip(data) (all when keep is SIZE_MAX). */
static const char *write_gz(const char *name, const void *data, size_t len, size_t keep)
{
    size_t glen;
    uint8_t *g = gzip(data, len, &glen);
    const char *path = write_file(name, g, keep < glen ? keep : glen);
    free(g);
    return path;
}

/* ---- IDX images ------------------------------------------------------------------ */

/* An IDX file: 00 00 08 ndims, big-endian dims, then data (count bytes). */
static size_t idx_build(uint8_t *buf, unsigned ndims, const uint32_t *dims,
                        const uint8_t *data, size_t count)
{
    size_t n = 0;
    buf[n++] = 0;
    buf[n++] = 0;
    buf[n++] = 0x08;
    buf[n++] = (uint8_t)ndims;
    for (unsigned i = 0; i < ndims; i++) {
        buf[n++] = (uint8_t)(dims[i] >> 24);
        buf[n++] = (uint8_t)(dims[i] >> 16);
        buf[n++] = (uint8_t)(dims[i] >> 8);
        buf[n++] = (uint8_t)dims[i];
    }
    if (count)
        memcpy(buf + n, data, count);
    return n + count;
}

/* Three 2 x 3 images and their labels. */
enum { N = 3, ROWS = 2, COLS = 3, DIM = ROWS * COLS };
static const uint8_t PIX[N * DIM] = {
    0, 255, 128, 1, 2, 3,
    10, 20, 30, 40, 50, 60,
    255, 254, 253, 0, 127, 129,
};
static const uint8_t LBL[N] = { 0, 9, 3 };

typedef struct {
    uint8_t img[16 + N * DIM + 8];
    size_t img_len;
    uint8_t lbl[8 + N + 8];
    size_t lbl_len;
} idx_pair;

static idx_pair pair_build(void)
{
    idx_pair p;
    const uint32_t idims[3] = { N, ROWS, COLS }, ldims[1] = { N };
    p.img_len = idx_build(p.img, 3, idims, PIX, sizeof PIX);
    p.lbl_len = idx_build(p.lbl, 1, ldims, LBL, sizeof LBL);
    return p;
}

/* The value a model sees for pixel v with the default normalisation. */
static float px(uint8_t v)
{
    return (float)v * (1.0f / 255.0f);
}

static fnn_dataset *load_pair(void)
{
    idx_pair p = pair_build();
    const char *img = write_file("img", p.img, p.img_len);
    const char *lbl = write_file("lbl", p.lbl, p.lbl_len);
    fnn_dataset *ds = NULL;
    char err[256] = "";
    ck_assert_msg(fnn_dataset_load_idx(&ds, img, lbl, 10, err, sizeof err) == FNN_OK, "%s",
                  err);
    return ds;
}

/* Loads images and labels written from the given bytes; returns the status
 * and leaves the message in err. */
static int load_bytes(const uint8_t *img, size_t img_len, const uint8_t *lbl,
                      size_t lbl_len, uint32_t classes, char *err, size_t err_size)
{
    const char *ip = write_file("img", img, img_len);
    const char *lp = write_file("lbl", lbl, lbl_len);
    fnn_dataset *ds = (fnn_dataset *)&ds; /* must be reset to NULL on failure */
    int rc = fnn_dataset_load_idx(&ds, ip, lp, classes, err, err_size);
    if (rc == FNN_OK) {
        ck_assert_ptr_nonnull(ds);
        fnn_dataset_free(ds);
    } else {
        ck_assert_ptr_null(ds);
    }
    return rc;
}

static void check_pair_contents(fnn_dataset *ds)
{
    uint32_t r = 0, c = 0, ch = 0;
    ck_assert_uint_eq(fnn_dataset_size(ds), N);
    ck_assert_uint_eq(fnn_dataset_num_classes(ds), 10);
    ck_assert_int_eq(fnn_dataset_shape(ds, &r, &c, &ch), FNN_OK);
    ck_assert_uint_eq(r, ROWS);
    ck_assert_uint_eq(c, COLS);
    ck_assert_uint_eq(ch, 1);
    int32_t y[N];
    ck_assert_int_eq(fnn_dataset_labels(ds, y, N), FNN_OK);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(y[i], LBL[i]);
    float x[N * DIM];
    ck_assert_int_eq(fnn_dataset_features(ds, x, N * DIM), FNN_OK);
    for (int k = 0; k < N * DIM; k++) {
        ck_assert_float_eq(x[k], px(PIX[k]));
        ck_assert_float_le(fabsf(x[k] - (float)PIX[k] / 255.0f), FLT_EPSILON);
    }
    /* The three exact points of the byte scaling. */
    ck_assert_float_eq(x[0], 0.0f);
    ck_assert_float_eq(x[1], 1.0f);
    ck_assert_float_eq(x[2], 128.0f / 255.0f);
}

START_TEST(load_raw_pair)
{
    fnn_dataset *ds = load_pair();
    check_pair_contents(ds);
    ck_assert_str_eq(fnn_dataset_errmsg(ds), "");
    fnn_dataset_free(ds);
}
END_TEST

START_TEST(load_gzip_pair)
{
    idx_pair p = pair_build();
    const char *img = write_gz("img.gz", p.img, p.img_len, SIZE_MAX);
    const char *lbl = write_gz("lbl.gz", p.lbl, p.lbl_len, SIZE_MAX);
    fnn_dataset *ds = NULL;
    char err[256] = "";
    ck_assert_msg(fnn_dataset_load_idx(&ds, img, lbl, 10, err, sizeof err) == FNN_OK, "%s",
                  err);
    check_pair_contents(ds);
    fnn_dataset_free(ds);
}
END_TEST

START_TEST(load_dir_prefers_gz)
{
    idx_pair p = pair_build();
    /* The raw files hold different labels: loading them would show. */
    idx_pair q = p;
    q.lbl[8] = 7;
    write_file("train-images-idx3-ubyte", q.img, q.img_len);
    write_file("train-labels-idx1-ubyte", q.lbl, q.lbl_len);
    write_gz("train-images-idx3-ubyte.gz", p.img, p.img_len, SIZE_MAX);
    write_gz("train-labels-idx1-ubyte.gz", p.lbl, p.lbl_len, SIZE_MAX);
    fnn_dataset *ds = NULL;
    char err[256] = "";
    ck_assert_msg(fnn_dataset_load_dir(&ds, tmpdir, FNN_SPLIT_TRAIN, err, sizeof err) ==
                      FNN_OK, "%s", err);
    check_pair_contents(ds);
    fnn_dataset_free(ds);

    /* Only raw test files: those are used. */
    write_file("t10k-images-idx3-ubyte", q.img, q.img_len);
    write_file("t10k-labels-idx1-ubyte", q.lbl, q.lbl_len);
    ck_assert_int_eq(fnn_dataset_load_dir(&ds, tmpdir, FNN_SPLIT_TEST, err, sizeof err),
                     FNN_OK);
    int32_t y[N];
    ck_assert_int_eq(fnn_dataset_labels(ds, y, N), FNN_OK);
    ck_assert_int_eq(y[0], 7);
    ck_assert_int_eq(y[1], 9);
    fnn_dataset_free(ds);

    ck_assert_int_eq(fnn_dataset_load_dir(&ds, tmpdir, 2, err, sizeof err), FNN_E_INVALID);
    ck_assert_ptr_null(ds);
}
END_TEST

START_TEST(load_dir_missing)
{
    fnn_dataset *ds = NULL;
    char err[256] = "";
    ck_assert_int_eq(fnn_dataset_load_dir(&ds, tmpdir, FNN_SPLIT_TEST, err, sizeof err),
                     FNN_E_IO);
    ck_assert_ptr_null(ds);
    char want[256];
    snprintf(want, sizeof want, "%s/t10k-images-idx3-ubyte: cannot open: %s", tmpdir,
             strerror(ENOENT));
    ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(load_bad_magic)
{
    idx_pair p = pair_build();
    p.img[0] = 0x01;
    char err[256];
    ck_assert_int_eq(load_bytes(p.img, p.img_len, p.lbl, p.lbl_len, 10, err, sizeof err),
                     FNN_E_FORMAT);
    char want[256];
    snprintf(want, sizeof want, "%s: bad magic: starts with 01 00, IDX starts with 00 00",
             tpath("img"));
    ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(load_wrong_type)
{
    idx_pair p = pair_build();
    p.lbl[2] = 0x0D; /* float elements */
    char err[256];
    ck_assert_int_eq(load_bytes(p.img, p.img_len, p.lbl, p.lbl_len, 10, err, sizeof err),
                     FNN_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "lbl: element type 0x0d is not supported"));
}
END_TEST

START_TEST(load_truncated_images)
{
    idx_pair p = pair_build();
    char err[256];
    ck_assert_int_eq(load_bytes(p.img, p.img_len - 1, p.lbl, p.lbl_len, 10, err,
                                sizeof err), FNN_E_TRUNCATED);
    char want[256];
    snprintf(want, sizeof want, "%s: truncated: header declares 18 data bytes, 17 present",
             tpath("img"));
    ck_assert_str_eq(err, want);
    /* Cut inside the header. */
    ck_assert_int_eq(load_bytes(p.img, 10, p.lbl, p.lbl_len, 10, err, sizeof err),
                     FNN_E_TRUNCATED);
    ck_assert_ptr_nonnull(strstr(err, "header of 3 dimensions needs 16 bytes, 10 present"));
    ck_assert_int_eq(load_bytes(p.img, 0, p.lbl, p.lbl_len, 10, err, sizeof err),
                     FNN_E_TRUNCATED);
}
END_TEST

START_TEST(load_trailing_bytes)
{
    idx_pair p = pair_build();
    p.lbl[p.lbl_len] = 0;
    char err[256];
    ck_assert_int_eq(load_bytes(p.img, p.img_len, p.lbl, p.lbl_len + 1, 10, err,
                                sizeof err), FNN_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "lbl: 1 trailing byte after the 3 data bytes"));
}
END_TEST

START_TEST(load_truncated_gzip)
{
    idx_pair p = pair_build();
    size_t glen;
    uint8_t *g = gzip(p.img, p.img_len, &glen);
    free(g);
    const char *lbl = write_file("lbl", p.lbl, p.lbl_len);
    char err[256];
    fnn_dataset *ds = NULL;
    /* Cut in the deflate data, in the trailer, and right after the magic. */
    const size_t cuts[] = { glen / 2, glen - 1, glen - 8, 2, 10 };
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        const char *img = write_gz("img.gz", p.img, p.img_len, cuts[i]);
        ck_assert_int_eq(fnn_dataset_load_idx(&ds, img, lbl, 10, err, sizeof err),
                         FNN_E_TRUNCATED);
        ck_assert_ptr_null(ds);
        ck_assert_ptr_nonnull(strstr(err, "img.gz: truncated: gzip stream ends"));
    }
}
END_TEST

START_TEST(load_label_range)
{
    uint8_t img[64], lbl[32];
    const uint8_t pix[4] = { 1, 2, 3, 4 }, lab[4] = { 0, 9, 3, 11 };
    const uint32_t idims[3] = { 4, 1, 1 }, ldims[1] = { 4 };
    size_t il = idx_build(img, 3, idims, pix, 4), ll = idx_build(lbl, 1, ldims, lab, 4);
    const char *ip = write_file("img", img, il);
    const char *lp = write_file("train-labels-idx1-ubyte", lbl, ll);
    fnn_dataset *ds = NULL;
    char err[256];
    ck_assert_int_eq(fnn_dataset_load_idx(&ds, ip, lp, 10, err, sizeof err), FNN_E_RANGE);
    ck_assert_ptr_null(ds);
    char want[256];
    snprintf(want, sizeof want, "%s: label 11 at sample 3 is >= num_classes 10", lp);
    ck_assert_str_eq(err, want);
    /* 12 classes admit it. */
    ck_assert_int_eq(fnn_dataset_load_idx(&ds, ip, lp, 12, err, sizeof err), FNN_OK);
    ck_assert_uint_eq(fnn_dataset_num_classes(ds), 12);
    fnn_dataset_free(ds);
}
END_TEST

START_TEST(load_count_mismatch)
{
    idx_pair p = pair_build();
    uint8_t lbl[16];
    const uint32_t ldims[1] = { 2 };
    size_t ll = idx_build(lbl, 1, ldims, LBL, 2);
    char err[256];
    ck_assert_int_eq(load_bytes(p.img, p.img_len, lbl, ll, 10, err, sizeof err),
                     FNN_E_SHAPE);
    char want[256];
    snprintf(want, sizeof want, "image count 3 (%s) differs from label count 2 (%s)",
             tpath("img"), tpath("lbl"));
    ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(load_wrong_dims)
{
    idx_pair p = pair_build();
    char err[256];
    /* Labels given as images and images as labels. */
    ck_assert_int_eq(load_bytes(p.lbl, p.lbl_len, p.img, p.img_len, 10, err, sizeof err),
                     FNN_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "img: 1 dimensions, images need 3"));
    ck_assert_int_eq(load_bytes(p.img, p.img_len, p.img, p.img_len, 10, err, sizeof err),
                     FNN_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "lbl: 3 dimensions, labels need 1"));
    /* 8192 x 8193 pixels: each dimension is within its limit, the product
     * is not (2^26 features per sample). */
    const uint32_t dims[3] = { 1, 8192, 8193 };
    size_t len = 16 + (size_t)8192 * 8193;
    uint8_t *img = calloc(1, len);
    ck_assert_ptr_nonnull(img);
    idx_build(img, 3, dims, NULL, 0);
    fnn_dataset *ds = (fnn_dataset *)&ds;
    ck_assert_int_eq(fnn__dataset_from_idx(&ds, img, len, p.lbl, p.lbl_len, 10, err,
                                           sizeof err), FNN_E_FORMAT);
    ck_assert_ptr_null(ds);
    ck_assert_str_eq(err, "images: 8192 x 8193 pixels per image exceed the limit of "
                          "67108864 features");
    free(img);
}
END_TEST

START_TEST(load_missing_file)
{
    idx_pair p = pair_build();
    const char *lbl = write_file("lbl", p.lbl, p.lbl_len);
    fnn_dataset *ds = NULL;
    char err[256];
    ck_assert_int_eq(fnn_dataset_load_idx(&ds, tpath("nope"), lbl, 10, err, sizeof err),
                     FNN_E_IO);
    ck_assert_ptr_null(ds);
    char want[256];
    snprintf(want, sizeof want, "%s: cannot open: %s", tpath("nope"), strerror(ENOENT));
    ck_assert_str_eq(err, want);
    /* A directory opens but cannot be read. */
    ck_assert_int_eq(fnn_dataset_load_idx(&ds, tmpdir, lbl, 10, err, sizeof err), FNN_E_IO);
    ck_assert_ptr_nonnull(strstr(err, strerror(EISDIR)));
    /* No message buffer, or a tiny one. */
    ck_assert_int_eq(fnn_dataset_load_idx(&ds, tpath("nope"), lbl, 10, NULL, 0), FNN_E_IO);
    char small[6] = "xxxxx";
    ck_assert_int_eq(fnn_dataset_load_idx(&ds, tpath("nope"), lbl, 10, small, 5), FNN_E_IO);
    ck_assert_uint_eq(strlen(small), 4);
}
END_TEST

START_TEST(load_num_classes)
{
    idx_pair p = pair_build();
    char err[256];
    ck_assert_int_eq(load_bytes(p.img, p.img_len, p.lbl, p.lbl_len, 0, err, sizeof err),
                     FNN_E_INVALID);
    ck_assert_str_eq(err, "num_classes 0 is outside 1..65536");
    ck_assert_int_eq(load_bytes(p.img, p.img_len, p.lbl, p.lbl_len, 65537, err,
                                sizeof err), FNN_E_INVALID);
    ck_assert_int_eq(load_bytes(p.img, p.img_len, p.lbl, p.lbl_len, 65536, err,
                                sizeof err), FNN_OK);
    ck_assert_int_eq(load_bytes(p.img, p.img_len, p.lbl, p.lbl_len, 9, err, sizeof err),
                     FNN_E_RANGE);
}
END_TEST

/* ---- IDX parsing ------------------------------------------------------------------- */

START_TEST(parse_four_dims)
{
    uint8_t buf[64];
    const uint32_t dims[4] = { 2, 1, 1, 3 };
    const uint8_t data[6] = { 9, 8, 7, 6, 5, 4 };
    size_t len = idx_build(buf, 4, dims, data, 6);
    fnn__idx idx;
    ck_assert_int_eq(fnn__idx_parse(buf, len, &idx, NULL, 0), FNN_OK);
    ck_assert_uint_eq(idx.type, 0x08);
    ck_assert_uint_eq(idx.ndims, 4);
    ck_assert_uint_eq(idx.dims[0], 2);
    ck_assert_uint_eq(idx.dims[3], 3);
    ck_assert_uint_eq(idx.count, 6);
    ck_assert_mem_eq(idx.data, data, 6);
    free(idx.data);
}
END_TEST

START_TEST(parse_bad_headers)
{
    uint8_t buf[64];
    fnn__idx idx;
    char err[256];
    const uint8_t three[3] = { 0, 0, 8 };
    ck_assert_int_eq(fnn__idx_parse(three, 3, &idx, err, sizeof err), FNN_E_TRUNCATED);
    ck_assert_str_eq(err, "truncated: 3 bytes, an IDX header needs at least 4");
    ck_assert_ptr_null(idx.data);

    const uint32_t dims[5] = { 1, 1, 1, 1, 1 };
    idx_build(buf, 0, dims, NULL, 0);
    ck_assert_int_eq(fnn__idx_parse(buf, 4, &idx, err, sizeof err), FNN_E_FORMAT);
    ck_assert_str_eq(err, "0 dimensions are not supported (1..4)");
    size_t len = idx_build(buf, 5, dims, (const uint8_t *)"x", 1);
    ck_assert_int_eq(fnn__idx_parse(buf, len, &idx, err, sizeof err), FNN_E_FORMAT);

    const uint32_t zero[2] = { 1, 0 };
    len = idx_build(buf, 2, zero, NULL, 0);
    ck_assert_int_eq(fnn__idx_parse(buf, len, &idx, err, sizeof err), FNN_E_FORMAT);
    ck_assert_str_eq(err, "dimension 1 is 0");

    const uint32_t wide[2] = { 1, 65537 };
    len = idx_build(buf, 2, wide, NULL, 0);
    ck_assert_int_eq(fnn__idx_parse(buf, len, &idx, err, sizeof err), FNN_E_FORMAT);
    ck_assert_str_eq(err, "dimension 1 is 65537, more than the limit 65536");

    /* The sample count may reach 2^32 - 1: the file is then merely short. */
    const uint32_t many[1] = { UINT32_MAX };
    len = idx_build(buf, 1, many, NULL, 0);
    ck_assert_int_eq(fnn__idx_parse(buf, len, &idx, err, sizeof err), FNN_E_TRUNCATED);
    ck_assert_str_eq(err, "truncated: header declares 4294967295 data bytes, 0 present");

    const uint32_t huge[4] = { UINT32_MAX, 65536, 65536, 65536 };
    len = idx_build(buf, 4, huge, NULL, 0);
    ck_assert_int_eq(fnn__idx_parse(buf, len, &idx, err, sizeof err), FNN_E_FORMAT);
    ck_assert_str_eq(err, "dimensions declare more elements than fit in memory");

    const uint32_t mnist[3] = { 60000, 28, 28 };
    len = idx_build(buf, 3, mnist, (const uint8_t *)"abcd", 4);
    ck_assert_int_eq(fnn__idx_parse(buf, len, &idx, err, sizeof err), FNN_E_TRUNCATED);
    ck_assert_str_eq(err, "truncated: header declares 47040000 data bytes, 4 present");

    ck_assert_int_eq(fnn__idx_parse(NULL, 4, &idx, err, sizeof err), FNN_E_NULL);
    ck_assert_int_eq(fnn__idx_parse(buf, len, NULL, err, sizeof err), FNN_E_NULL);
}
END_TEST

START_TEST(parse_limits_inclusive)
{
    /* 1 x 65536: the largest dimension is accepted. */
    size_t len = 12 + 65536;
    uint8_t *buf = calloc(1, len);
    ck_assert_ptr_nonnull(buf);
    const uint32_t dims[2] = { 1, 65536 };
    idx_build(buf, 2, dims, NULL, 0);
    buf[len - 1] = 42;
    fnn__idx idx;
    ck_assert_int_eq(fnn__idx_parse(buf, len, &idx, NULL, 0), FNN_OK);
    ck_assert_uint_eq(idx.count, 65536);
    ck_assert_uint_eq(idx.data[65535], 42);
    free(idx.data);
    free(buf);
}
END_TEST

/* ---- whole-file reading ---------------------------------------------------------------- */

START_TEST(read_caps)
{
    uint8_t data[100];
    for (int i = 0; i < 100; i++)
        data[i] = (uint8_t)(i * 7);
    const char *raw = write_file("raw", data, 100);
    const char *gz = write_gz("gz", data, 100, SIZE_MAX);
    uint8_t *buf = (uint8_t *)data;
    size_t len = 1;
    char err[256];
    ck_assert_int_eq(fnn__read_file(raw, 100, &buf, &len, err, sizeof err), FNN_OK);
    ck_assert_uint_eq(len, 100);
    ck_assert_mem_eq(buf, data, 100);
    free(buf);
    ck_assert_int_eq(fnn__read_file(gz, 100, &buf, &len, err, sizeof err), FNN_OK);
    ck_assert_uint_eq(len, 100);
    ck_assert_mem_eq(buf, data, 100);
    free(buf);

    ck_assert_int_eq(fnn__read_file(raw, 99, &buf, &len, err, sizeof err), FNN_E_FORMAT);
    ck_assert_ptr_null(buf);
    char want[256];
    snprintf(want, sizeof want, "%s: file is larger than the limit of 99 bytes", raw);
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(fnn__read_file(gz, 99, &buf, &len, err, sizeof err), FNN_E_FORMAT);
    snprintf(want, sizeof want, "%s: decompressed data exceeds the limit of 99 bytes", gz);
    ck_assert_str_eq(err, want);
    ck_assert_ptr_null(buf);
    ck_assert_int_eq(fnn__read_file(gz, 0, &buf, &len, err, sizeof err), FNN_E_FORMAT);

    /* Empty file: an empty buffer. */
    const char *empty = write_file("empty", data, 0);
    ck_assert_int_eq(fnn__read_file(empty, 0, &buf, &len, err, sizeof err), FNN_OK);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(len, 0);
    free(buf);
    ck_assert_int_eq(fnn__read_file(NULL, 10, &buf, &len, err, sizeof err), FNN_E_NULL);
}
END_TEST

START_TEST(read_large)
{
    /* Larger than the read and inflate chunks; compressible and not. */
    size_t n = 300000;
    uint8_t *data = malloc(n);
    ck_assert_ptr_nonnull(data);
    uint32_t s = 1;
    for (size_t i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        data[i] = i < n / 2 ? (uint8_t)(i % 13) : (uint8_t)(s >> 24);
    }
    const char *raw = write_file("raw", data, n);
    const char *gz = write_gz("gz", data, n, SIZE_MAX);
    uint8_t *buf;
    size_t len;
    char err[256];
    ck_assert_int_eq(fnn__read_file(raw, n, &buf, &len, err, sizeof err), FNN_OK);
    ck_assert_uint_eq(len, n);
    ck_assert_mem_eq(buf, data, n);
    free(buf);
    ck_assert_int_eq(fnn__read_file(gz, n, &buf, &len, err, sizeof err), FNN_OK);
    ck_assert_uint_eq(len, n);
    ck_assert_mem_eq(buf, data, n);
    free(buf);
    ck_assert_int_eq(fnn__read_file(gz, n - 1, &buf, &len, err, sizeof err), FNN_E_FORMAT);
    /* Far over the cap: reading stops early, with the same message. */
    ck_assert_int_eq(fnn__read_file(raw, 1000, &buf, &len, err, sizeof err), FNN_E_FORMAT);
    ck_assert_ptr_null(buf);
    char want[600];
    snprintf(want, sizeof want, "%s: file is larger than the limit of 1000 bytes", raw);
    ck_assert_str_eq(err, want);
    free(data);
}
END_TEST

START_TEST(read_gzip_members)
{
    /* Two members join; the trailer of the last one claims only its part. */
    const char part1[] = "first member, ", part2[] = "second";
    size_t l1, l2;
    uint8_t *g1 = gzip(part1, strlen(part1), &l1), *g2 = gzip(part2, strlen(part2), &l2);
    uint8_t *both = malloc(l1 + l2 + 3);
    ck_assert_ptr_nonnull(both);
    memcpy(both, g1, l1);
    memcpy(both + l1, g2, l2);
    const char *path = write_file("two.gz", both, l1 + l2);
    uint8_t *buf;
    size_t len;
    char err[256];
    ck_assert_int_eq(fnn__read_file(path, 100, &buf, &len, err, sizeof err), FNN_OK);
    ck_assert_uint_eq(len, strlen(part1) + strlen(part2));
    ck_assert_mem_eq(buf, "first member, second", len);
    free(buf);

    /* Anything else after a member is rejected. */
    memcpy(both + l1, "xyz", 3);
    path = write_file("junk.gz", both, l1 + 3);
    ck_assert_int_eq(fnn__read_file(path, 100, &buf, &len, err, sizeof err), FNN_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "junk.gz: 3 trailing bytes after the gzip data"));
    both[l1] = 0x1f;
    path = write_file("junk1.gz", both, l1 + 1);
    ck_assert_int_eq(fnn__read_file(path, 100, &buf, &len, err, sizeof err), FNN_E_FORMAT);

    /* A damaged checksum. */
    memcpy(both, g1, l1);
    both[l1 - 8] ^= 0x01;
    path = write_file("crc.gz", both, l1);
    ck_assert_int_eq(fnn__read_file(path, 100, &buf, &len, err, sizeof err), FNN_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "crc.gz: corrupt gzip data: incorrect data check"));
    free(both);
    free(g1);
    free(g2);
}
END_TEST

/* ---- arrays ----------------------------------------------------------------------------- */

/* n samples of 1 x 1 x 1 whose feature is the sample index; label i % 3. */
static fnn_dataset *indexed(size_t n)
{
    float *x = malloc(n * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    ck_assert(x && y);
    for (size_t i = 0; i < n; i++) {
        x[i] = (float)i;
        y[i] = (int32_t)(i % 3);
    }
    fnn_dataset *ds = NULL;
    ck_assert_int_eq(fnn_dataset_from_arrays(&ds, x, y, n, 1, 1, 1, 3, NULL, 0), FNN_OK);
    free(x);
    free(y);
    return ds;
}

/* The sample indices held by an indexed() view, in order. */
static void ids(fnn_dataset *ds, uint32_t *out)
{
    size_t n = fnn_dataset_size(ds);
    float *x = malloc(n * sizeof *x);
    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(fnn_dataset_features(ds, x, n), FNN_OK);
    for (size_t i = 0; i < n; i++)
        out[i] = (uint32_t)x[i];
    free(x);
}

START_TEST(arrays_copy)
{
    float x[2 * 4] = { 0.5f, -1.0f, 3.25f, 1e30f, -0.0f, 7.0f, FLT_MIN, -2.0f };
    int32_t y[2] = { 4, 0 };
    fnn_dataset *ds = NULL;
    ck_assert_int_eq(fnn_dataset_from_arrays(&ds, x, y, 2, 1, 2, 2, 5, NULL, 0), FNN_OK);
    const float orig[8] = { 0.5f, -1.0f, 3.25f, 1e30f, -0.0f, 7.0f, FLT_MIN, -2.0f };
    x[0] = 99.0f; /* the data set holds a copy */
    y[0] = 1;
    float got[8];
    ck_assert_int_eq(fnn_dataset_features(ds, got, 8), FNN_OK);
    for (int k = 0; k < 8; k++)
        ck_assert_float_eq(got[k], orig[k]);
    int32_t gy[2];
    ck_assert_int_eq(fnn_dataset_labels(ds, gy, 2), FNN_OK);
    ck_assert_int_eq(gy[0], 4);
    ck_assert_int_eq(gy[1], 0);
    uint32_t r, c, ch;
    ck_assert_int_eq(fnn_dataset_shape(ds, &r, &c, &ch), FNN_OK);
    ck_assert(r == 1 && c == 2 && ch == 2);
    ck_assert_int_eq(fnn_dataset_shape(ds, NULL, NULL, NULL), FNN_OK);
    /* Too little room. */
    ck_assert_int_eq(fnn_dataset_features(ds, got, 7), FNN_E_SHAPE);
    ck_assert_str_eq(fnn_dataset_errmsg(ds),
                     "features: capacity 7 is less than 2 samples x 4 features");
    ck_assert_int_eq(fnn_dataset_labels(ds, gy, 1), FNN_E_SHAPE);
    ck_assert_str_eq(fnn_dataset_errmsg(ds), "labels: capacity 1 is less than the 2 samples");
    fnn_dataset_free(ds);
}
END_TEST

START_TEST(arrays_invalid)
{
    float x[4] = { 1, 2, 3, 4 };
    int32_t y[4] = { 0, 1, 2, 1 };
    fnn_dataset *ds = (fnn_dataset *)&ds;
    char err[256];
    x[2] = NAN;
    ck_assert_int_eq(fnn_dataset_from_arrays(&ds, x, y, 2, 1, 2, 1, 3, err, sizeof err),
                     FNN_E_NUMERIC);
    ck_assert_ptr_null(ds);
    ck_assert_str_eq(err, "from_arrays: feature 0 of sample 1 is NaN");
    x[2] = -INFINITY;
    ck_assert_int_eq(fnn_dataset_from_arrays(&ds, x, y, 2, 1, 2, 1, 3, err, sizeof err),
                     FNN_E_NUMERIC);
    ck_assert_str_eq(err, "from_arrays: feature 0 of sample 1 is infinite");
    x[2] = 3;
    y[3] = 3;
    ck_assert_int_eq(fnn_dataset_from_arrays(&ds, x, y, 4, 1, 1, 1, 3, err, sizeof err),
                     FNN_E_RANGE);
    ck_assert_str_eq(err, "from_arrays: label 3 at sample 3 is outside [0, 3)");
    y[3] = -1;
    ck_assert_int_eq(fnn_dataset_from_arrays(&ds, x, y, 4, 1, 1, 1, 3, err, sizeof err),
                     FNN_E_RANGE);
    y[3] = 1;
    ck_assert_int_eq(fnn_dataset_from_arrays(&ds, x, y, 0, 1, 1, 1, 3, err, sizeof err),
                     FNN_E_EMPTY);
    ck_assert_int_eq(fnn_dataset_from_arrays(&ds, x, y, 4, 0, 1, 1, 3, err, sizeof err),
                     FNN_E_INVALID);
    ck_assert_int_eq(fnn_dataset_from_arrays(&ds, x, y, 4, 1, 1, 0, 3, err, sizeof err),
                     FNN_E_INVALID);
    ck_assert_int_eq(fnn_dataset_from_arrays(&ds, x, y, 1, 65537, 1, 1, 3, err, sizeof err),
                     FNN_E_INVALID);
    ck_assert_int_eq(fnn_dataset_from_arrays(&ds, x, y, 1, 65536, 65536, 1, 3, err,
                                             sizeof err), FNN_E_INVALID);
    ck_assert_int_eq(fnn_dataset_from_arrays(&ds, x, y, 4, 1, 1, 1, 0, err, sizeof err),
                     FNN_E_INVALID);
    ck_assert_int_eq(fnn_dataset_from_arrays(&ds, x, y, 4, 1, 1, 1, 65537, NULL, 0),
                     FNN_E_INVALID);
    ck_assert_ptr_null(ds);
}
END_TEST

/* ---- views ---------------------------------------------------------------------------- */

START_TEST(subset_contents)
{
    fnn_dataset *ds = indexed(10), *sub = NULL, *sub2 = NULL;
    const uint32_t pick[5] = { 7, 2, 7, 0, 9 }; /* duplicates allowed */
    ck_assert_int_eq(fnn_dataset_subset(ds, pick, 5, &sub), FNN_OK);
    ck_assert_uint_eq(fnn_dataset_size(sub), 5);
    ck_assert_uint_eq(fnn_dataset_num_classes(sub), 3);
    uint32_t got[5];
    ids(sub, got);
    for (int i = 0; i < 5; i++)
        ck_assert_uint_eq(got[i], pick[i]);
    int32_t y[5];
    ck_assert_int_eq(fnn_dataset_labels(sub, y, 5), FNN_OK);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(y[i], (int32_t)(pick[i] % 3));

    /* Positions of a view refer to the view. */
    const uint32_t pick2[2] = { 4, 1 };
    ck_assert_int_eq(fnn_dataset_subset(sub, pick2, 2, &sub2), FNN_OK);
    ids(sub2, got);
    ck_assert_uint_eq(got[0], 9);
    ck_assert_uint_eq(got[1], 2);
    fnn_dataset_free(sub2);

    const uint32_t bad[3] = { 1, 5, 0 };
    sub2 = (fnn_dataset *)&sub2;
    ck_assert_int_eq(fnn_dataset_subset(sub, bad, 3, &sub2), FNN_E_RANGE);
    ck_assert_ptr_null(sub2);
    ck_assert_str_eq(fnn_dataset_errmsg(sub), "subset: index 5 at position 1 is >= size 5");
    ck_assert_int_eq(fnn_dataset_subset(sub, bad, 0, &sub2), FNN_E_EMPTY);
    ck_assert_ptr_null(sub2);
    fnn_dataset_free(sub);
    fnn_dataset_free(ds);
}
END_TEST

START_TEST(view_composes)
{
    fnn_dataset *ds = indexed(6), *a = NULL, *b = NULL;
    const uint32_t p1[3] = { 5, 3, 1 }, p2[4] = { 2, 2, 0, 1 };
    ck_assert_int_eq(fnn__dataset_view(ds, p1, 3, &a), FNN_OK);
    ck_assert_int_eq(fnn__dataset_view(a, p2, 4, &b), FNN_OK);
    ck_assert_uint_eq(fnn_dataset_size(b), 4);
    const uint32_t want[4] = { 1, 1, 5, 3 };
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(b->index[i], want[i]);
    fnn_dataset_free(a);
    fnn_dataset_free(ds);
    uint32_t got[4];
    ids(b, got);
    ck_assert_mem_eq(got, want, sizeof want);
    fnn_dataset_free(b);
}
END_TEST

START_TEST(split_partition)
{
    const size_t n = 100;
    fnn_dataset *ds = indexed(n), *a = NULL, *b = NULL, *c = NULL, *d = NULL;
    ck_assert_int_eq(fnn_dataset_split(ds, 0.3, 42, &a, &b), FNN_OK);
    ck_assert_uint_eq(fnn_dataset_size(a), 30);
    ck_assert_uint_eq(fnn_dataset_size(b), 70);
    uint32_t ia[100], ib[100], ic[100];
    ids(a, ia);
    ids(b, ib);
    /* Every sample exactly once across the two parts. */
    int seen[100] = { 0 };
    for (int i = 0; i < 30; i++)
        seen[ia[i]]++;
    for (int i = 0; i < 70; i++)
        seen[ib[i]]++;
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(seen[i], 1);
    /* Shuffled, not the first 30 in order. */
    int in_order = 1;
    for (int i = 0; i < 30; i++)
        in_order &= ia[i] == (uint32_t)i;
    ck_assert_int_eq(in_order, 0);

    /* Exactly a Fisher-Yates shuffle seeded from the seed, first 30 first. */
    uint32_t perm[100];
    for (uint32_t i = 0; i < 100; i++)
        perm[i] = i;
    fnn__rng rng;
    fnn__rng_seed(&rng, 42);
    fnn__shuffle_u32(&rng, perm, n);
    ck_assert_mem_eq(ia, perm, 30 * sizeof perm[0]);
    ck_assert_mem_eq(ib, perm + 30, 70 * sizeof perm[0]);

    /* Same seed: the same partition in the same order. */
    ck_assert_int_eq(fnn_dataset_split(ds, 0.3, 42, &c, &d), FNN_OK);
    ids(c, ic);
    ck_assert_mem_eq(ia, ic, 30 * sizeof ia[0]);
    ids(d, ic);
    ck_assert_mem_eq(ib, ic, 70 * sizeof ib[0]);
    fnn_dataset_free(c);
    fnn_dataset_free(d);

    /* Another seed: another partition. */
    ck_assert_int_eq(fnn_dataset_split(ds, 0.3, 43, &c, &d), FNN_OK);
    ids(c, ic);
    int in_a[100] = { 0 };
    for (int i = 0; i < 30; i++)
        in_a[ia[i]] = 1;
    int shared = 0;
    for (int i = 0; i < 30; i++)
        shared += in_a[ic[i]];
    ck_assert_int_lt(shared, 30);
    fnn_dataset_free(c);
    fnn_dataset_free(d);
    fnn_dataset_free(a);
    fnn_dataset_free(b);
    fnn_dataset_free(ds);
}
END_TEST

START_TEST(split_sizes)
{
    fnn_dataset *ds = indexed(4), *a = (fnn_dataset *)&a, *b = (fnn_dataset *)&b;
    /* round(0.125 * 4) = round(0.5) = 1; round(0.625 * 4) = round(2.5) = 3. */
    ck_assert_int_eq(fnn_dataset_split(ds, 0.125, 1, &a, &b), FNN_OK);
    ck_assert_uint_eq(fnn_dataset_size(a), 1);
    ck_assert_uint_eq(fnn_dataset_size(b), 3);
    fnn_dataset_free(a);
    fnn_dataset_free(b);
    ck_assert_int_eq(fnn_dataset_split(ds, 0.625, 1, &a, &b), FNN_OK);
    ck_assert_uint_eq(fnn_dataset_size(a), 3);
    ck_assert_uint_eq(fnn_dataset_size(b), 1);
    fnn_dataset_free(a);
    fnn_dataset_free(b);

    ck_assert_int_eq(fnn_dataset_split(ds, 0.1, 1, &a, &b), FNN_E_EMPTY);
    ck_assert_ptr_null(a);
    ck_assert_ptr_null(b);
    ck_assert_str_eq(fnn_dataset_errmsg(ds),
                     "split: fraction 0.1 of 4 samples leaves the first part empty");
    ck_assert_int_eq(fnn_dataset_split(ds, 0.9, 1, &a, &b), FNN_E_EMPTY);
    const double bad[] = { 0.0, 1.0, -0.5, 1.5, NAN, INFINITY };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(fnn_dataset_split(ds, bad[i], 1, &a, &b), FNN_E_INVALID);
        ck_assert_ptr_null(a);
        ck_assert_ptr_null(b);
    }
    ck_assert_int_eq(fnn_dataset_split(ds, 0.5, 1, &a, &a), FNN_E_INVALID);
    ck_assert_ptr_null(a);
    fnn_dataset *one = indexed(1);
    ck_assert_int_eq(fnn_dataset_split(one, 0.5, 1, &a, &b), FNN_E_EMPTY);
    fnn_dataset_free(one);

    /* Splitting a view splits its samples. */
    const uint32_t pick[3] = { 3, 1, 2 };
    fnn_dataset *sub = NULL;
    ck_assert_int_eq(fnn_dataset_subset(ds, pick, 3, &sub), FNN_OK);
    ck_assert_int_eq(fnn_dataset_split(sub, 0.5, 9, &a, &b), FNN_OK);
    uint32_t ia[3], ib[3];
    ids(a, ia);
    ids(b, ib);
    ck_assert_uint_eq(fnn_dataset_size(a) + fnn_dataset_size(b), 3);
    ck_assert_uint_eq(ia[0] + ia[1] + ib[0], 1 + 2 + 3);
    ck_assert(ia[0] != 0 && ia[1] != 0 && ib[0] != 0);
    fnn_dataset_free(a);
    fnn_dataset_free(b);
    fnn_dataset_free(sub);
    fnn_dataset_free(ds);
}
END_TEST

START_TEST(views_outlive_parent)
{
    fnn_dataset *ds = load_pair(), *sub = NULL, *a = NULL, *b = NULL;
    const uint32_t pick[2] = { 2, 0 };
    ck_assert_int_eq(fnn_dataset_subset(ds, pick, 2, &sub), FNN_OK);
    ck_assert_int_eq(fnn_dataset_split(ds, 0.5, 5, &a, &b), FNN_OK);
    fnn_dataset_free(ds);
    float x[2 * DIM];
    ck_assert_int_eq(fnn_dataset_features(sub, x, 2 * DIM), FNN_OK);
    for (int j = 0; j < DIM; j++) {
        ck_assert_float_eq(x[j], px(PIX[2 * DIM + j]));
        ck_assert_float_eq(x[DIM + j], px(PIX[j]));
    }
    fnn_dataset_free(a);
    int32_t y[2];
    ck_assert_int_eq(fnn_dataset_labels(b, y, 2), FNN_OK);
    ck_assert_int_eq(fnn_dataset_labels(sub, y, 2), FNN_OK);
    ck_assert_int_eq(y[0], 3);
    ck_assert_int_eq(y[1], 0);
    fnn_dataset_free(sub);
    ck_assert_uint_eq(fnn_dataset_size(b), 1);
    ck_assert_int_eq(fnn_dataset_features(b, x, DIM), FNN_OK);
    fnn_dataset_free(b);
}
END_TEST

/* ---- gather ---------------------------------------------------------------------------- */

static void check_gather(fnn_dataset *ds)
{
    size_t n = fnn_dataset_size(ds), dim = ds->store->dim, room = n > 4 ? n : 4;
    float *all = malloc(n * dim * sizeof *all), *x = malloc(room * dim * sizeof *x);
    int32_t *labels = malloc(n * sizeof *labels), *y = malloc(room * sizeof *y);
    ck_assert(all && x && labels && y);
    ck_assert_int_eq(fnn_dataset_features(ds, all, n * dim), FNN_OK);
    ck_assert_int_eq(fnn_dataset_labels(ds, labels, n), FNN_OK);
    const uint32_t pos[4] = { (uint32_t)n - 1, 0, (uint32_t)n - 1, (uint32_t)(n / 2) };
    fnn__dataset_gather(ds, pos, 4, x, y);
    for (size_t i = 0; i < 4; i++) {
        ck_assert_mem_eq(x + i * dim, all + pos[i] * dim, dim * sizeof(float));
        ck_assert_int_eq(y[i], labels[pos[i]]);
    }
    fnn__dataset_gather(ds, pos, 2, x, NULL);
    ck_assert_mem_eq(x + dim, all, dim * sizeof(float));
    fnn__dataset_gather_range(ds, 1, n - 1, x, y);
    ck_assert_mem_eq(x, all + dim, (n - 1) * dim * sizeof(float));
    ck_assert_mem_eq(y, labels + 1, (n - 1) * sizeof(int32_t));
    free(all);
    free(x);
    free(labels);
    free(y);
}

START_TEST(gather_matches_features)
{
    fnn_dataset *ds = load_pair(), *sub = NULL;
    check_gather(ds);
    const float mean = 0.25f, sd = 0.5f;
    ck_assert_int_eq(fnn_dataset_set_normalization(ds, &mean, &sd, 1), FNN_OK);
    check_gather(ds);
    const uint32_t pick[3] = { 1, 1, 2 };
    ck_assert_int_eq(fnn_dataset_subset(ds, pick, 3, &sub), FNN_OK);
    check_gather(sub);
    fnn_dataset_free(sub);
    fnn_dataset_free(ds);

    float x[3 * 6];
    int32_t y[3] = { 0, 1, 0 };
    for (int k = 0; k < 18; k++)
        x[k] = (float)k * 0.5f - 3.0f;
    ck_assert_int_eq(fnn_dataset_from_arrays(&ds, x, y, 3, 1, 2, 3, 2, NULL, 0), FNN_OK);
    check_gather(ds);
    fnn_dataset_free(ds);
}
END_TEST

/* ---- normalisation and statistics ---------------------------------------------------- */

/* 2 samples of 1 x 2 x 2: channel 0 (even features) holds 1, 3, 5, 7 and
 * channel 1 (odd features) 10 throughout. */
static const float X2[8] = { 1.0f, 10.0f, 3.0f, 10.0f, 5.0f, 10.0f, 7.0f, 10.0f };

static fnn_dataset *two_channels(void)
{
    const int32_t y[2] = { 0, 1 };
    fnn_dataset *ds = NULL;
    ck_assert_int_eq(fnn_dataset_from_arrays(&ds, X2, y, 2, 1, 2, 2, 2, NULL, 0), FNN_OK);
    return ds;
}

START_TEST(normalization_values)
{
    const float *x = X2;
    fnn_dataset *ds = two_channels(), *before = NULL, *after = NULL;
    const uint32_t all[2] = { 0, 1 };
    ck_assert_int_eq(fnn_dataset_subset(ds, all, 2, &before), FNN_OK);
    const float mean[2] = { 1.0f, -2.0f }, sd[2] = { 2.0f, 0.5f };
    ck_assert_int_eq(fnn_dataset_set_normalization(ds, mean, sd, 2), FNN_OK);
    ck_assert_int_eq(fnn_dataset_subset(ds, all, 2, &after), FNN_OK);
    float got[8];
    ck_assert_int_eq(fnn_dataset_features(ds, got, 8), FNN_OK);
    for (int k = 0; k < 8; k++)
        ck_assert_float_eq_tol(got[k], (x[k] - mean[k % 2]) / sd[k % 2], 1e-5f);
    ck_assert_float_eq(got[0], 0.0f);
    ck_assert_float_eq(got[1], 24.0f);
    ck_assert_float_eq(got[6], 3.0f);
    /* Later views inherit it, earlier ones keep theirs. */
    float v[8];
    ck_assert_int_eq(fnn_dataset_features(after, v, 8), FNN_OK);
    ck_assert_mem_eq(v, got, sizeof v);
    ck_assert_int_eq(fnn_dataset_features(before, v, 8), FNN_OK);
    ck_assert_mem_eq(v, x, sizeof v);

    /* Bad arguments change nothing. */
    const float zero[2] = { 1.0f, 0.0f }, neg[2] = { -1.0f, 1.0f }, nan[2] = { NAN, 1.0f },
                inf[2] = { 1.0f, INFINITY };
    ck_assert_int_eq(fnn_dataset_set_normalization(ds, mean, zero, 2), FNN_E_INVALID);
    ck_assert_str_eq(fnn_dataset_errmsg(ds),
                     "set_normalization: std[1] is 0; it must be finite and > 0");
    ck_assert_int_eq(fnn_dataset_set_normalization(ds, mean, neg, 2), FNN_E_INVALID);
    ck_assert_int_eq(fnn_dataset_set_normalization(ds, mean, nan, 2), FNN_E_INVALID);
    ck_assert_int_eq(fnn_dataset_set_normalization(ds, mean, inf, 2), FNN_E_INVALID);
    ck_assert_int_eq(fnn_dataset_set_normalization(ds, nan, sd, 2), FNN_E_INVALID);
    ck_assert_int_eq(fnn_dataset_set_normalization(ds, mean, sd, 1), FNN_E_SHAPE);
    ck_assert_str_eq(fnn_dataset_errmsg(ds),
                     "set_normalization: 1 channels given, the data set has 2");
    ck_assert_int_eq(fnn_dataset_features(ds, v, 8), FNN_OK);
    ck_assert_mem_eq(v, got, sizeof v);

    /* Replacing it with the identity restores the raw values exactly. */
    const float m0[2] = { 0.0f, 0.0f }, s1[2] = { 1.0f, 1.0f };
    ck_assert_int_eq(fnn_dataset_set_normalization(ds, m0, s1, 2), FNN_OK);
    ck_assert_int_eq(fnn_dataset_features(ds, v, 8), FNN_OK);
    ck_assert_mem_eq(v, x, sizeof v);
    fnn_dataset_free(before);
    fnn_dataset_free(after);
    fnn_dataset_free(ds);
}
END_TEST

START_TEST(normalization_bytes)
{
    fnn_dataset *ds = load_pair();
    const float mean = 0.1307f, sd = 0.3081f;
    ck_assert_int_eq(fnn_dataset_set_normalization(ds, &mean, &sd, 1), FNN_OK);
    float x[N * DIM];
    ck_assert_int_eq(fnn_dataset_features(ds, x, N * DIM), FNN_OK);
    for (int k = 0; k < N * DIM; k++) {
        double want = (PIX[k] / 255.0 - mean) / sd;
        ck_assert_double_eq_tol(x[k], want, 1e-6 * (1.0 + fabs(want)));
    }
    ck_assert_float_eq_tol(x[0], -0.1307f / 0.3081f, 1e-6f);
    const float m0 = 0.0f, s1 = 1.0f;
    ck_assert_int_eq(fnn_dataset_set_normalization(ds, &m0, &s1, 1), FNN_OK);
    check_pair_contents(ds);
    fnn_dataset_free(ds);
}
END_TEST

START_TEST(channel_stats_known)
{
    fnn_dataset *ds = two_channels(), *sub = NULL;
    float mean[2], sd[2];
    ck_assert_int_eq(fnn_dataset_channel_stats(ds, mean, sd, 2), FNN_OK);
    /* Channel 0 holds 1, 3, 5, 7: mean 4, population variance 5. */
    ck_assert_float_eq(mean[0], 4.0f);
    ck_assert_float_eq(sd[0], (float)sqrt(5.0));
    ck_assert_float_eq(mean[1], 10.0f);
    ck_assert_float_eq(sd[1], 0.0f);
    /* Statistics ignore the normalisation. */
    const float m[2] = { 3.0f, 3.0f }, s[2] = { 7.0f, 7.0f };
    ck_assert_int_eq(fnn_dataset_set_normalization(ds, m, s, 2), FNN_OK);
    float mean2[2], sd2[2];
    ck_assert_int_eq(fnn_dataset_channel_stats(ds, mean2, sd2, 2), FNN_OK);
    ck_assert_mem_eq(mean2, mean, sizeof mean);
    ck_assert_mem_eq(sd2, sd, sizeof sd);
    /* Of a view, over its samples only: 5, 7 (sample 1 twice). */
    const uint32_t pick[2] = { 1, 1 };
    ck_assert_int_eq(fnn_dataset_subset(ds, pick, 2, &sub), FNN_OK);
    ck_assert_int_eq(fnn_dataset_channel_stats(sub, mean, sd, 2), FNN_OK);
    ck_assert_float_eq(mean[0], 6.0f);
    ck_assert_float_eq(sd[0], 1.0f);
    ck_assert_int_eq(fnn_dataset_channel_stats(sub, mean, sd, 3), FNN_E_SHAPE);
    ck_assert_str_eq(fnn_dataset_errmsg(sub),
                     "channel_stats: 3 channels given, the data set has 2");
    fnn_dataset_free(sub);
    fnn_dataset_free(ds);

    /* Bytes are scaled first: PIX has mean 1793 / 18 / 255. */
    ds = load_pair();
    ck_assert_int_eq(fnn_dataset_channel_stats(ds, mean, sd, 1), FNN_OK);
    double sum = 0, sq = 0;
    for (int k = 0; k < N * DIM; k++)
        sum += PIX[k] / 255.0;
    double mu = sum / (N * DIM);
    for (int k = 0; k < N * DIM; k++)
        sq += (PIX[k] / 255.0 - mu) * (PIX[k] / 255.0 - mu);
    ck_assert_double_eq_tol(mean[0], mu, 1e-6);
    ck_assert_double_eq_tol(sd[0], sqrt(sq / (N * DIM)), 1e-6);
    fnn_dataset_free(ds);
}
END_TEST

/* ---- NULL everywhere ------------------------------------------------------------------ */

START_TEST(null_arguments)
{
    fnn_dataset *ds = load_pair(), *out = (fnn_dataset *)&out, *o2 = (fnn_dataset *)&o2;
    char err[256];
    float f[64], m = 0, s = 1;
    int32_t y[8];
    uint32_t u[2] = { 0, 1 }, r;
    const uint8_t byte = 0;

    ck_assert_int_eq(fnn_dataset_load_idx(NULL, "a", "b", 10, err, sizeof err), FNN_E_NULL);
    ck_assert_int_eq(fnn_dataset_load_idx(&out, NULL, "b", 10, err, sizeof err), FNN_E_NULL);
    ck_assert_ptr_null(out);
    out = (fnn_dataset *)&out;
    ck_assert_int_eq(fnn_dataset_load_idx(&out, "a", NULL, 10, NULL, 0), FNN_E_NULL);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(fnn_dataset_load_dir(NULL, tmpdir, 0, err, sizeof err), FNN_E_NULL);
    out = (fnn_dataset *)&out;
    ck_assert_int_eq(fnn_dataset_load_dir(&out, NULL, 0, err, sizeof err), FNN_E_NULL);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(fnn_dataset_from_arrays(NULL, f, y, 1, 1, 1, 1, 2, err, sizeof err),
                     FNN_E_NULL);
    ck_assert_int_eq(fnn_dataset_from_arrays(&out, NULL, y, 1, 1, 1, 1, 2, err, sizeof err),
                     FNN_E_NULL);
    ck_assert_int_eq(fnn_dataset_from_arrays(&out, f, NULL, 1, 1, 1, 1, 2, NULL, 0),
                     FNN_E_NULL);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(fnn__dataset_from_idx(NULL, &byte, 1, &byte, 1, 10, NULL, 0),
                     FNN_E_NULL);
    ck_assert_int_eq(fnn__dataset_from_idx(&out, NULL, 1, &byte, 1, 10, NULL, 0),
                     FNN_E_NULL);
    ck_assert_int_eq(fnn__dataset_from_idx(&out, &byte, 1, NULL, 1, 10, NULL, 0),
                     FNN_E_NULL);

    fnn_dataset_free(NULL);
    ck_assert_str_eq(fnn_dataset_errmsg(NULL), "");
    ck_assert_uint_eq(fnn_dataset_size(NULL), 0);
    ck_assert_uint_eq(fnn_dataset_num_classes(NULL), 0);
    ck_assert_int_eq(fnn_dataset_shape(NULL, &r, &r, &r), FNN_E_NULL);
    ck_assert_int_eq(fnn_dataset_labels(NULL, y, 8), FNN_E_NULL);
    ck_assert_int_eq(fnn_dataset_labels(ds, NULL, 8), FNN_E_NULL);
    ck_assert_int_eq(fnn_dataset_features(NULL, f, 64), FNN_E_NULL);
    ck_assert_int_eq(fnn_dataset_features(ds, NULL, 64), FNN_E_NULL);
    ck_assert_str_eq(fnn_dataset_errmsg(ds), "features: output is NULL");

    out = (fnn_dataset *)&out;
    ck_assert_int_eq(fnn_dataset_subset(NULL, u, 2, &out), FNN_E_NULL);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(fnn_dataset_subset(ds, NULL, 2, &out), FNN_E_NULL);
    ck_assert_int_eq(fnn_dataset_subset(ds, u, 2, NULL), FNN_E_NULL);
    out = (fnn_dataset *)&out;
    ck_assert_int_eq(fnn_dataset_split(NULL, 0.5, 1, &out, &o2), FNN_E_NULL);
    ck_assert_ptr_null(out);
    ck_assert_ptr_null(o2);
    ck_assert_int_eq(fnn_dataset_split(ds, 0.5, 1, NULL, &o2), FNN_E_NULL);
    ck_assert_int_eq(fnn_dataset_split(ds, 0.5, 1, &out, NULL), FNN_E_NULL);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(fnn_dataset_set_normalization(NULL, &m, &s, 1), FNN_E_NULL);
    ck_assert_int_eq(fnn_dataset_set_normalization(ds, NULL, &s, 1), FNN_E_NULL);
    ck_assert_int_eq(fnn_dataset_set_normalization(ds, &m, NULL, 1), FNN_E_NULL);
    ck_assert_int_eq(fnn_dataset_channel_stats(NULL, &m, &s, 1), FNN_E_NULL);
    ck_assert_int_eq(fnn_dataset_channel_stats(ds, NULL, &s, 1), FNN_E_NULL);
    ck_assert_int_eq(fnn_dataset_channel_stats(ds, &m, NULL, 1), FNN_E_NULL);
    ck_assert_str_eq(fnn_dataset_errmsg(ds), "channel_stats: std is NULL");
    fnn_dataset_free(ds);
}
END_TEST

static Suite *dataset_suite(void)
{
    Suite *s = suite_create("dataset");
    struct {
        const char *name;
        const TTest *tests[16];
    } groups[] = {
        { "load", { load_raw_pair, load_gzip_pair, load_dir_prefers_gz, load_dir_missing,
                    load_bad_magic, load_wrong_type, load_truncated_images,
                    load_trailing_bytes, load_truncated_gzip, load_label_range,
                    load_count_mismatch, load_wrong_dims, load_missing_file,
                    load_num_classes } },
        { "parse", { parse_four_dims, parse_bad_headers, parse_limits_inclusive } },
        { "read", { read_caps, read_large, read_gzip_members } },
        { "arrays", { arrays_copy, arrays_invalid } },
        { "views", { subset_contents, view_composes, split_partition, split_sizes,
                     views_outlive_parent, gather_matches_features } },
        { "normalisation", { normalization_values, normalization_bytes,
                             channel_stats_known } },
        { "null", { null_arguments } },
    };
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        TCase *tc = tcase_create(groups[g].name);
        tcase_add_checked_fixture(tc, make_tmpdir, remove_tmpdir);
        for (size_t t = 0; t < 16 && groups[g].tests[t]; t++)
            tcase_add_test(tc, groups[g].tests[t]);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void)
{
    return fnn_test_main(dataset_suite());
}
