/* Data sets over caller arrays and inference on raw arrays: the copied and
 * the borrowed constructors with both element types, data sets without
 * labels, the exact byte scaling of the IDX loader, the lifetime of borrowed
 * memory, the *_array inference calls, and the attack keys' domains.
 * White-box: links the library objects to see where a data set reads from. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

/* ---- helpers ----------------------------------------------------------------------------- */

/* n samples of dim bytes and labels in [0, classes): byte j of sample i is
 * (i * 37 + j * 11) % 256, so that every byte value occurs. */
static void fill_bytes(uint8_t *x, int32_t *y, size_t n, size_t dim, uint32_t classes)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < dim; j++)
            x[i * dim + j] = (uint8_t)((i * 37 + j * 11) % 256);
        if (y)
            y[i] = (int32_t)(i % classes);
    }
}

/* The features as ds presents them (n * dim floats, malloc'ed). */
static float *features_of(fnn_dataset *ds)
{
    uint32_t r, c, ch;
    ck_assert_int_eq(fnn_dataset_shape(ds, &r, &c, &ch), FNN_OK);
    size_t count = fnn_dataset_size(ds) * r * c * ch;
    float *x = malloc(count * sizeof *x);
    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(fnn_dataset_features(ds, x, count), FNN_OK);
    return x;
}

/* The image and label IDX files of n images of rows x cols bytes. */
static uint8_t *idx_images(const uint8_t *px, uint32_t n, uint32_t rows, uint32_t cols,
                           size_t *len)
{
    size_t count = (size_t)n * rows * cols;
    uint8_t *b = malloc(16 + count);
    ck_assert_ptr_nonnull(b);
    const uint32_t hdr[4] = { 0x00000803u, n, rows, cols };
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 4; i++)
            b[4 * k + i] = (uint8_t)(hdr[k] >> (24 - 8 * i));
    memcpy(b + 16, px, count);
    *len = 16 + count;
    return b;
}

static uint8_t *idx_labels(const int32_t *y, uint32_t n, size_t *len)
{
    uint8_t *b = malloc(8 + n);
    ck_assert_ptr_nonnull(b);
    const uint32_t hdr[2] = { 0x00000801u, n };
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 4; i++)
            b[4 * k + i] = (uint8_t)(hdr[k] >> (24 - 8 * i));
    for (uint32_t i = 0; i < n; i++)
        b[8 + i] = (uint8_t)y[i];
    *len = 8 + n;
    return b;
}

static fnn_train_options *quick_options(uint32_t epochs)
{
    fnn_train_options *o = NULL;
    ck_assert_int_eq(fnn_train_options_create(&o), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_EPOCHS, epochs), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_BATCH_SIZE, 16), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_LEARNING_RATE, 0.01), FNN_OK);
    return o;
}

static fnn_model *new_model(const char *spec)
{
    fnn_model *m = NULL;
    char err[256];
    ck_assert_msg(fnn_model_create(&m, spec, 7, err, sizeof err) == FNN_OK, "%s", err);
    return m;
}

/* ---- copied arrays ----------------------------------------------------------------------- */

START_TEST(v2_bytes_are_scaled_as_idx)
{
    /* 64 images of 2 x 4 bytes: all 256 byte values. */
    enum { N = 64, R = 2, C = 4, D = R * C };
    uint8_t px[N * D];
    int32_t y[N];
    fill_bytes(px, y, N, D, 10);
    size_t ilen, llen;
    uint8_t *img = idx_images(px, N, R, C, &ilen), *lbl = idx_labels(y, N, &llen);
    fnn_dataset *idx = NULL, *v2 = NULL, *bor = NULL;
    char err[256];
    ck_assert_int_eq(fnn__dataset_from_idx(&idx, img, ilen, lbl, llen, 10, err, sizeof err),
                     FNN_OK);
    ck_assert_int_eq(fnn_dataset_from_arrays_v2(&v2, px, FNN_DTYPE_UINT8, y, N, R, C, 1, 10,
                                                err, sizeof err),
                     FNN_OK);
    ck_assert_int_eq(fnn_dataset_borrow_arrays(&bor, px, FNN_DTYPE_UINT8, y, N, R, C, 1, 10,
                                               err, sizeof err),
                     FNN_OK);
    float *a = features_of(idx), *b = features_of(v2), *c = features_of(bor);
    for (size_t k = 0; k < (size_t)N * D; k++) {
        /* The documented expression, bit for bit. */
        float want = (float)px[k] * (1.0f / 255.0f);
        ck_assert_msg(memcmp(&a[k], &want, sizeof want) == 0, "idx feature %zu", k);
        ck_assert_msg(memcmp(&b[k], &want, sizeof want) == 0, "v2 feature %zu", k);
        ck_assert_msg(memcmp(&c[k], &want, sizeof want) == 0, "borrowed feature %zu", k);
    }
    /* The copy keeps bytes as bytes. */
    ck_assert_int_eq(v2->store->kind, FNN__STORE_U8);
    ck_assert_ptr_ne(v2->store->u8, px);
    ck_assert_ptr_eq(v2->store->u8, v2->store->owned);
    /* Normalised the same way, the three present the same floats. */
    const float mean = 0.25f, sd = 0.5f;
    ck_assert_int_eq(fnn_dataset_set_normalization(idx, &mean, &sd, 1), FNN_OK);
    ck_assert_int_eq(fnn_dataset_set_normalization(v2, &mean, &sd, 1), FNN_OK);
    ck_assert_int_eq(fnn_dataset_set_normalization(bor, &mean, &sd, 1), FNN_OK);
    free(a);
    free(b);
    free(c);
    a = features_of(idx);
    b = features_of(v2);
    c = features_of(bor);
    ck_assert_int_eq(memcmp(a, b, (size_t)N * D * sizeof *a), 0);
    ck_assert_int_eq(memcmp(a, c, (size_t)N * D * sizeof *a), 0);
    free(a);
    free(b);
    free(c);
    fnn_dataset_free(idx);
    fnn_dataset_free(v2);
    fnn_dataset_free(bor);
    free(img);
    free(lbl);
}
END_TEST

START_TEST(v2_copies)
{
    float x[6] = { 0.5f, -1.0f, 3.25f, 7.0f, -0.0f, 2.0f };
    uint8_t u[6] = { 0, 1, 2, 253, 254, 255 };
    int32_t y[3] = { 2, 0, 1 };
    fnn_dataset *f = NULL, *b = NULL;
    ck_assert_int_eq(fnn_dataset_from_arrays_v2(&f, x, FNN_DTYPE_FLOAT32, y, 3, 1, 2, 1, 3,
                                                NULL, 0),
                     FNN_OK);
    ck_assert_int_eq(fnn_dataset_from_arrays_v2(&b, u, FNN_DTYPE_UINT8, y, 3, 2, 1, 1, 3,
                                                NULL, 0),
                     FNN_OK);
    x[0] = 99.0f; /* both hold copies */
    u[0] = 99;
    y[0] = 0;
    float *gf = features_of(f), *gb = features_of(b);
    ck_assert_float_eq(gf[0], 0.5f);
    ck_assert_float_eq(gf[5], 2.0f);
    ck_assert_float_eq(gb[0], 0.0f);
    ck_assert_float_eq(gb[5], 1.0f);
    int32_t got[3];
    ck_assert_int_eq(fnn_dataset_labels(f, got, 3), FNN_OK);
    ck_assert_int_eq(got[0], 2);
    ck_assert_int_eq(fnn_dataset_labels(b, got, 3), FNN_OK);
    ck_assert_int_eq(got[0], 2);
    ck_assert_int_eq(fnn_dataset_has_labels(f), 1);
    ck_assert_uint_eq(fnn_dataset_num_classes(b), 3);
    free(gf);
    free(gb);
    fnn_dataset_free(f);
    fnn_dataset_free(b);
}
END_TEST

/* The errors of the copied and the borrowed constructor, which check in the
 * same order; `borrow` picks the constructor. */
static void check_errors(int borrow)
{
    typedef int (*ctor)(fnn_dataset **, const void *, int, const int32_t *, size_t, uint32_t,
                        uint32_t, uint32_t, uint32_t, char *, size_t);
    ctor make = borrow ? fnn_dataset_borrow_arrays : fnn_dataset_from_arrays_v2;
    const char *what = borrow ? "borrow_arrays" : "from_arrays";
    float x[4] = { 1, 2, 3, 4 };
    uint8_t u[4] = { 1, 2, 3, 4 };
    int32_t y[4] = { 0, 1, 2, 1 };
    fnn_dataset *ds = (fnn_dataset *)&ds;
    char err[256], want[256];

    ck_assert_int_eq(make(NULL, x, FNN_DTYPE_FLOAT32, y, 4, 1, 1, 1, 3, err, sizeof err),
                     FNN_E_NULL);
    snprintf(want, sizeof want, "%s: out is NULL", what);
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(make(&ds, NULL, FNN_DTYPE_UINT8, y, 4, 1, 1, 1, 3, err, sizeof err),
                     FNN_E_NULL);
    ck_assert_ptr_null(ds);
    snprintf(want, sizeof want, "%s: features is NULL", what);
    ck_assert_str_eq(err, want);
    /* Wrong dtype. */
    ck_assert_int_eq(make(&ds, u, 2, y, 4, 1, 1, 1, 3, err, sizeof err), FNN_E_INVALID);
    snprintf(want, sizeof want,
             "%s: dtype 2 is neither FNN_DTYPE_FLOAT32 (0) nor FNN_DTYPE_UINT8 (1)", what);
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(make(&ds, u, -1, y, 4, 1, 1, 1, 3, NULL, 0), FNN_E_INVALID);
    /* Zero sizes. */
    ck_assert_int_eq(make(&ds, u, FNN_DTYPE_UINT8, y, 0, 1, 1, 1, 3, err, sizeof err),
                     FNN_E_EMPTY);
    snprintf(want, sizeof want, "%s: no samples (n is 0)", what);
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(make(&ds, u, FNN_DTYPE_UINT8, y, 4, 0, 1, 1, 3, err, sizeof err),
                     FNN_E_INVALID);
    snprintf(want, sizeof want, "%s: shape 0 x 1 x 1: each must be in 1..65536", what);
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(make(&ds, u, FNN_DTYPE_UINT8, y, 4, 1, 0, 1, 3, NULL, 0), FNN_E_INVALID);
    ck_assert_int_eq(make(&ds, u, FNN_DTYPE_UINT8, y, 4, 1, 1, 0, 3, NULL, 0), FNN_E_INVALID);
    ck_assert_int_eq(make(&ds, u, FNN_DTYPE_UINT8, y, 1, 65536, 65536, 1, 3, NULL, 0),
                     FNN_E_INVALID);
    ck_assert_int_eq(make(&ds, u, FNN_DTYPE_UINT8, y, 4, 1, 1, 1, 0, err, sizeof err),
                     FNN_E_INVALID);
    snprintf(want, sizeof want, "%s: num_classes 0 is outside 1..65536", what);
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(make(&ds, u, FNN_DTYPE_UINT8, y, 4, 1, 1, 1, 65537, NULL, 0),
                     FNN_E_INVALID);
    /* Labels out of range. */
    y[3] = 3;
    ck_assert_int_eq(make(&ds, u, FNN_DTYPE_UINT8, y, 4, 1, 1, 1, 3, err, sizeof err),
                     FNN_E_RANGE);
    snprintf(want, sizeof want, "%s: label 3 at sample 3 is outside [0, 3)", what);
    ck_assert_str_eq(err, want);
    y[3] = -1;
    ck_assert_int_eq(make(&ds, x, FNN_DTYPE_FLOAT32, y, 4, 1, 1, 1, 3, NULL, 0), FNN_E_RANGE);
    y[3] = 1;
    /* NaN and infinite floats (bytes cannot be either). */
    x[2] = NAN;
    ck_assert_int_eq(make(&ds, x, FNN_DTYPE_FLOAT32, y, 2, 1, 2, 1, 3, err, sizeof err),
                     FNN_E_NUMERIC);
    snprintf(want, sizeof want, "%s: feature 0 of sample 1 is NaN", what);
    ck_assert_str_eq(err, want);
    x[2] = INFINITY;
    ck_assert_int_eq(make(&ds, x, FNN_DTYPE_FLOAT32, NULL, 2, 1, 2, 1, 0, err, sizeof err),
                     FNN_E_NUMERIC);
    snprintf(want, sizeof want, "%s: feature 0 of sample 1 is infinite", what);
    ck_assert_str_eq(err, want);
    ck_assert_ptr_null(ds);
    /* The order: a bad dtype is reported before an empty array. */
    ck_assert_int_eq(make(&ds, u, 7, y, 0, 1, 1, 1, 3, NULL, 0), FNN_E_INVALID);
}

START_TEST(v2_errors)
{
    check_errors(0);
}
END_TEST

START_TEST(borrow_errors)
{
    check_errors(1);
    /* Misaligned floats cannot be borrowed (a copy does not mind). */
    float buf[5] = { 0, 1, 2, 3, 4 };
    const char *p = (const char *)buf + 1;
    fnn_dataset *ds = NULL;
    char err[256], want[256];
    ck_assert_int_eq(fnn_dataset_borrow_arrays(&ds, p, FNN_DTYPE_FLOAT32, NULL, 2, 1, 1, 1, 0,
                                               err, sizeof err),
                     FNN_E_INVALID);
    snprintf(want, sizeof want,
             "borrow_arrays: float32 features at %p are not aligned to 4 bytes", (void *)p);
    ck_assert_str_eq(err, want);
    ck_assert_ptr_null(ds);
    /* Bytes have no alignment. */
    ck_assert_int_eq(fnn_dataset_borrow_arrays(&ds, p, FNN_DTYPE_UINT8, NULL, 3, 1, 1, 1, 0,
                                               NULL, 0),
                     FNN_OK);
    fnn_dataset_free(ds);
    ck_assert_int_eq(fnn_dataset_has_labels(NULL), FNN_E_NULL);
}
END_TEST

/* ---- borrowed arrays --------------------------------------------------------------------- */

START_TEST(borrow_reads_caller_memory)
{
    enum { N = 6, D = 4 };
    float x[N * D];
    uint8_t u[N * D];
    int32_t y[N];
    for (int k = 0; k < N * D; k++)
        x[k] = (float)k;
    fill_bytes(u, y, N, D, 3);
    fnn_dataset *f = NULL, *b = NULL, *view = NULL;
    ck_assert_int_eq(fnn_dataset_borrow_arrays(&f, x, FNN_DTYPE_FLOAT32, y, N, 2, 2, 1, 3,
                                               NULL, 0),
                     FNN_OK);
    ck_assert_int_eq(fnn_dataset_borrow_arrays(&b, u, FNN_DTYPE_UINT8, y, N, 1, 1, D, 3,
                                               NULL, 0),
                     FNN_OK);
    /* No copy: the stores point at the caller's arrays and own nothing. */
    ck_assert_ptr_eq(f->store->f32, x);
    ck_assert_ptr_eq(b->store->u8, u);
    ck_assert_ptr_null(f->store->owned);
    ck_assert_ptr_null(b->store->owned);
    /* A view reads the same memory, after the parent is gone too. */
    const uint32_t pick[2] = { 5, 1 };
    ck_assert_int_eq(fnn_dataset_subset(f, pick, 2, &view), FNN_OK);
    fnn_dataset_free(f);
    x[5 * D + 3] = -8.5f;
    float got[2 * D];
    ck_assert_int_eq(fnn_dataset_features(view, got, 2 * D), FNN_OK);
    ck_assert_float_eq(got[3], -8.5f);
    ck_assert_float_eq(got[D], 4.0f);
    /* Labels are copied: changing the caller's does not reach the set. */
    y[5] = 0;
    int32_t lab[2];
    ck_assert_int_eq(fnn_dataset_labels(view, lab, 2), FNN_OK);
    ck_assert_int_eq(lab[0], 5 % 3);
    /* Bytes, channels last. */
    float *gb = features_of(b);
    for (int k = 0; k < N * D; k++)
        ck_assert_float_eq(gb[k], (float)u[k] * (1.0f / 255.0f));
    free(gb);
    fnn_dataset_free(view);
    fnn_dataset_free(b);
}
END_TEST

/* Separable data: class c has feature c high. */
static void separable(float *x, int32_t *y, size_t n, size_t dim, uint32_t classes)
{
    fnn__rng r;
    fnn__rng_seed(&r, 3);
    for (size_t i = 0; i < n; i++) {
        y[i] = (int32_t)(i % classes);
        for (size_t j = 0; j < dim; j++)
            x[i * dim + j] = (j == (size_t)y[i] ? 1.0f : 0.0f) + 0.2f * fnn__rng_float(&r);
    }
}

START_TEST(borrow_trains_like_copy)
{
    enum { N = 120, D = 4 };
    float x[N * D];
    int32_t y[N];
    separable(x, y, N, D, 4);
    fnn_dataset *copy = NULL, *bor = NULL;
    ck_assert_int_eq(fnn_dataset_from_arrays(&copy, x, y, N, D, 1, 1, 4, NULL, 0), FNN_OK);
    ck_assert_int_eq(fnn_dataset_borrow_arrays(&bor, x, FNN_DTYPE_FLOAT32, y, N, D, 1, 1, 4,
                                               NULL, 0),
                     FNN_OK);
    fnn_model *a = new_model("input:4,dense:8,relu,dense:4");
    fnn_model *b = new_model("input:4,dense:8,relu,dense:4");
    fnn_train_options *o = quick_options(5);
    ck_assert_int_eq(fnn_model_train(a, copy, o), FNN_OK);
    ck_assert_int_eq(fnn_model_train(b, bor, o), FNN_OK);
    size_t np = fnn_model_num_params(a);
    float *pa = malloc(np * sizeof *pa), *pb = malloc(np * sizeof *pb);
    ck_assert_int_eq(fnn_model_get_params(a, pa, np), FNN_OK);
    ck_assert_int_eq(fnn_model_get_params(b, pb, np), FNN_OK);
    ck_assert_int_eq(memcmp(pa, pb, np * sizeof *pa), 0);
    free(pa);
    free(pb);
    fnn_train_options_free(o);
    fnn_model_free(a);
    fnn_model_free(b);
    fnn_dataset_free(copy);
    fnn_dataset_free(bor);
}
END_TEST

/* Once the last handle over borrowed memory is freed, the library holds no
 * pointer to it: the memory is freed here, and everything made with it goes
 * on working (valgrind, suite memcheck, sees any later read). */
START_TEST(borrow_lifetime)
{
    enum { N = 120, D = 4 };
    float *x = malloc(N * D * sizeof *x);
    int32_t *y = malloc(N * sizeof *y);
    ck_assert_ptr_nonnull(x);
    ck_assert_ptr_nonnull(y);
    separable(x, y, N, D, 4);
    fnn_dataset *train = NULL, *held = NULL, *fit = NULL, *test = NULL;
    ck_assert_int_eq(fnn_dataset_borrow_arrays(&train, x, FNN_DTYPE_FLOAT32, y, N, D, 1, 1, 4,
                                               NULL, 0),
                     FNN_OK);
    ck_assert_int_eq(fnn_dataset_split(train, 0.75, 1, &fit, &held), FNN_OK);
    fnn_model *m = new_model("input:4,dense:8,relu,dense:4");
    fnn_train_options *o = quick_options(5);
    ck_assert_int_eq(fnn_model_train(m, fit, o), FNN_OK);
    fnn_forget_request *req = NULL;
    char err[256];
    ck_assert_msg(fnn_forget_request_from_class(&req, fit, 2, err, sizeof err) == FNN_OK, "%s",
                  err);
    fnn_forget_options *fo = NULL;
    ck_assert_int_eq(fnn_forget_options_create(&fo), FNN_OK);
    ck_assert_int_eq(fnn_forget_options_set(fo, FNN_FORGET_METHOD, FNN_METHOD_FINETUNE),
                     FNN_OK);
    ck_assert_int_eq(fnn_forget_options_set(fo, FNN_FORGET_SEED, 4), FNN_OK);
    ck_assert_msg(fnn_model_forget(m, req, held, fo, NULL) == FNN_OK, "%s",
                  fnn_model_errmsg(m));
    /* Free every handle over the memory, then the memory. */
    fnn_forget_request_free(req);
    fnn_dataset_free(fit);
    fnn_dataset_free(held);
    fnn_dataset_free(train);
    separable(x, y, N, D, 4);
    ck_assert_int_eq(fnn_dataset_from_arrays(&test, x, y, N, D, 1, 1, 4, NULL, 0), FNN_OK);
    memset(x, 0xff, N * D * sizeof *x); /* NaN everywhere, then gone */
    free(x);
    free(y);
    /* The model and the options still work, with their own data. */
    double acc;
    ck_assert_int_eq(fnn_model_evaluate(m, test, &acc, NULL), FNN_OK);
    ck_assert(acc >= 0.0 && acc <= 1.0);
    ck_assert_uint_eq(fnn_model_history_count(m), 1);
    ck_assert_int_eq(fnn_model_train(m, test, o), FNN_OK);
    fnn_forget_options_free(fo);
    fnn_train_options_free(o);
    fnn_model_free(m);
    fnn_dataset_free(test);
}
END_TEST

/* ---- data sets without labels ------------------------------------------------------------ */

START_TEST(unlabelled)
{
    enum { N = 40, D = 4 };
    float x[N * D];
    int32_t y[N];
    separable(x, y, N, D, 4);
    fnn_dataset *lab = NULL, *bare = NULL, *view = NULL;
    ck_assert_int_eq(fnn_dataset_from_arrays(&lab, x, y, N, D, 1, 1, 4, NULL, 0), FNN_OK);
    /* num_classes is ignored without labels. */
    ck_assert_int_eq(fnn_dataset_borrow_arrays(&bare, x, FNN_DTYPE_FLOAT32, NULL, N, D, 1, 1,
                                               12345678, NULL, 0),
                     FNN_OK);
    ck_assert_int_eq(fnn_dataset_has_labels(bare), 0);
    ck_assert_uint_eq(fnn_dataset_num_classes(bare), 0);
    int32_t got[N];
    ck_assert_int_eq(fnn_dataset_labels(bare, got, N), FNN_E_STATE);
    ck_assert_str_eq(fnn_dataset_errmsg(bare), "labels: the data set was made without labels");
    const uint32_t pick[3] = { 0, 1, 2 };
    ck_assert_int_eq(fnn_dataset_subset(bare, pick, 3, &view), FNN_OK);
    ck_assert_int_eq(fnn_dataset_has_labels(view), 0);

    fnn_model *m = new_model("input:4,dense:8,relu,dense:4");
    fnn_train_options *o = quick_options(3);
    ck_assert_int_eq(fnn_model_train(m, lab, o), FNN_OK);
    /* Prediction works and agrees with the labelled set. */
    int32_t p1[N], p2[N];
    ck_assert_int_eq(fnn_model_predict(m, lab, p1, N), FNN_OK);
    ck_assert_int_eq(fnn_model_predict(m, bare, p2, N), FNN_OK);
    ck_assert_int_eq(memcmp(p1, p2, sizeof p1), 0);
    float pr[N * 4], lg[N * 4];
    ck_assert_int_eq(fnn_model_predict_proba(m, bare, pr, N * 4), FNN_OK);
    ck_assert_int_eq(fnn_model_logits(m, bare, lg, N * 4), FNN_OK);
    uint32_t ranks[8];
    ck_assert_int_eq(fnn_model_rank_neurons(m, bare, 0, ranks, 8), FNN_OK);
    /* What needs labels fails with FNN_E_STATE and says why. */
    const char *why = "the data set has no labels (made for prediction only)";
    double acc, cls[4];
    float loss[N];
    ck_assert_int_eq(fnn_model_train(m, bare, o), FNN_E_STATE);
    ck_assert_str_eq(fnn_model_errmsg(m), why);
    ck_assert_int_eq(fnn_model_evaluate(m, bare, &acc, NULL), FNN_E_STATE);
    ck_assert_str_eq(fnn_model_errmsg(m), why);
    ck_assert_int_eq(fnn_model_sample_losses(m, view, loss, N), FNN_E_STATE);
    ck_assert_int_eq(fnn_model_class_accuracies(m, bare, cls, NULL, 4), FNN_E_STATE);
    double fig[9];
    ck_assert_int_eq(fnn_model_membership(m, bare, lab, 1, fig, 9), FNN_E_STATE);
    ck_assert_int_eq(fnn_model_retrain(m, bare, NULL), FNN_E_STATE);
    fnn_forget_request *req = (fnn_forget_request *)&req;
    char err[256];
    ck_assert_int_eq(fnn_forget_request_from_class(&req, bare, 1, err, sizeof err),
                     FNN_E_STATE);
    ck_assert_ptr_null(req);
    ck_assert_str_eq(err,
                     "request_from_class: the training set has no labels (made for "
                     "prediction only)");
    ck_assert_int_eq(fnn_forget_request_from_indices(&req, bare, pick, 3, NULL, 0),
                     FNN_E_STATE);
    ck_assert_int_eq(fnn_forget_request_random(&req, bare, 3, 1, NULL, 0), FNN_E_STATE);
    ck_assert_int_eq(fnn_forget_request_from_index_text(&req, bare, "1 2", 3, NULL, 0),
                     FNN_E_STATE);
    /* A holdout set must have labels. */
    ck_assert_int_eq(fnn_forget_request_from_class(&req, lab, 1, NULL, 0), FNN_OK);
    ck_assert_int_eq(fnn_model_forget(m, req, bare, NULL, NULL), FNN_E_STATE);
    fnn_forget_request_free(req);
    /* So must an attack's universe. */
    fnn_attack *a = (fnn_attack *)&a;
    ck_assert_int_eq(fnn_attack_create(&a, m, bare, pick, 3, err, sizeof err), FNN_E_STATE);
    ck_assert_ptr_null(a);
    ck_assert_str_eq(err, "attack: the data set has no labels (made for prediction only)");
    fnn_train_options_free(o);
    fnn_model_free(m);
    fnn_dataset_free(view);
    fnn_dataset_free(bare);
    fnn_dataset_free(lab);
}
END_TEST

/* ---- inference on raw arrays ------------------------------------------------------------- */

START_TEST(array_inference_matches_datasets)
{
    enum { N = 50, R = 2, C = 3, D = R * C, K = 3 };
    uint8_t u[N * D];
    int32_t y[N];
    fill_bytes(u, y, N, D, K);
    float f[N * D];
    for (int k = 0; k < N * D; k++)
        f[k] = (float)u[k] * 0.01f - 1.0f;
    fnn_model *m = new_model("input:2x3x1,dense:5,relu,dense:3");
    for (int dt = 0; dt < 2; dt++) {
        const void *x = dt == FNN_DTYPE_UINT8 ? (const void *)u : (const void *)f;
        fnn_dataset *ds = NULL;
        ck_assert_int_eq(fnn_dataset_from_arrays_v2(&ds, x, dt, y, N, R, C, 1, K, NULL, 0),
                         FNN_OK);
        int32_t p1[N], p2[N];
        float a1[N * K], a2[N * K], l1[N], l2[N];
        ck_assert_int_eq(fnn_model_predict(m, ds, p1, N), FNN_OK);
        ck_assert_int_eq(fnn_model_predict_array(m, x, dt, N, p2, N), FNN_OK);
        ck_assert_int_eq(memcmp(p1, p2, sizeof p1), 0);
        ck_assert_int_eq(fnn_model_predict_proba(m, ds, a1, N * K), FNN_OK);
        ck_assert_int_eq(fnn_model_predict_proba_array(m, x, dt, N, a2, N * K), FNN_OK);
        ck_assert_int_eq(memcmp(a1, a2, sizeof a1), 0);
        ck_assert_int_eq(fnn_model_logits(m, ds, a1, N * K), FNN_OK);
        ck_assert_int_eq(fnn_model_logits_array(m, x, dt, N, a2, N * K), FNN_OK);
        ck_assert_int_eq(memcmp(a1, a2, sizeof a1), 0);
        ck_assert_int_eq(fnn_model_sample_losses(m, ds, l1, N), FNN_OK);
        ck_assert_int_eq(fnn_model_sample_losses_array(m, x, dt, y, N, l2, N), FNN_OK);
        ck_assert_int_eq(memcmp(l1, l2, sizeof l1), 0);
        fnn_dataset_free(ds);
    }
    fnn_model_free(m);
}
END_TEST

START_TEST(array_inference_errors)
{
    enum { N = 4, D = 6, K = 3 };
    float f[N * D] = { 0 };
    uint8_t u[N * D] = { 0 };
    int32_t y[N] = { 0, 1, 2, 0 };
    int32_t p[N];
    float out[N * K];
    fnn_model *m = new_model("input:2x3x1,dense:5,relu,dense:3");
    ck_assert_int_eq(fnn_model_predict_array(NULL, u, FNN_DTYPE_UINT8, N, p, N), FNN_E_NULL);
    ck_assert_int_eq(fnn_model_predict_array(m, NULL, FNN_DTYPE_UINT8, N, p, N), FNN_E_NULL);
    ck_assert_str_eq(fnn_model_errmsg(m), "predict_array: features is NULL");
    ck_assert_int_eq(fnn_model_predict_array(m, u, FNN_DTYPE_UINT8, N, NULL, N), FNN_E_NULL);
    ck_assert_int_eq(fnn_model_predict_array(m, u, 5, N, p, N), FNN_E_INVALID);
    ck_assert_str_eq(fnn_model_errmsg(m),
                     "predict_array: dtype 5 is neither FNN_DTYPE_FLOAT32 (0) nor "
                     "FNN_DTYPE_UINT8 (1)");
    ck_assert_int_eq(fnn_model_predict_array(m, u, FNN_DTYPE_UINT8, 0, p, N), FNN_E_EMPTY);
    ck_assert_str_eq(fnn_model_errmsg(m), "predict_array: no samples (n is 0)");
    ck_assert_int_eq(fnn_model_predict_array(m, u, FNN_DTYPE_UINT8, N, p, N - 1), FNN_E_SHAPE);
    ck_assert_int_eq(fnn_model_predict_proba_array(m, u, FNN_DTYPE_UINT8, N, out, N * K - 1),
                     FNN_E_SHAPE);
    ck_assert_str_eq(fnn_model_errmsg(m), "output buffer holds 11 values, 4 samples need 12");
    ck_assert_int_eq(fnn_model_logits_array(m, f, FNN_DTYPE_FLOAT32, N, out, N * K - 1),
                     FNN_E_SHAPE);
    ck_assert_int_eq(fnn_model_logits_array(NULL, f, FNN_DTYPE_FLOAT32, N, out, N * K),
                     FNN_E_NULL);
    f[7] = NAN;
    ck_assert_int_eq(fnn_model_predict_proba_array(m, f, FNN_DTYPE_FLOAT32, N, out, N * K),
                     FNN_E_NUMERIC);
    ck_assert_str_eq(fnn_model_errmsg(m), "predict_proba_array: feature 1 of sample 1 is NaN");
    ck_assert_int_eq(fnn_model_logits_array(m, f, FNN_DTYPE_FLOAT32, N, out, N * K),
                     FNN_E_NUMERIC);
    f[7] = 0;
    /* Losses need labels within the model's classes. */
    ck_assert_int_eq(fnn_model_sample_losses_array(m, u, FNN_DTYPE_UINT8, NULL, N, out, N),
                     FNN_E_NULL);
    ck_assert_str_eq(fnn_model_errmsg(m), "sample_losses_array: labels is NULL");
    y[2] = 3;
    ck_assert_int_eq(fnn_model_sample_losses_array(m, u, FNN_DTYPE_UINT8, y, N, out, N),
                     FNN_E_RANGE);
    ck_assert_str_eq(fnn_model_errmsg(m),
                     "sample_losses_array: label 3 at sample 2 is outside [0, 3)");
    y[2] = 2;
    ck_assert_int_eq(fnn_model_sample_losses_array(m, u, FNN_DTYPE_UINT8, y, N, out, N - 1),
                     FNN_E_SHAPE);
    ck_assert_int_eq(fnn_model_sample_losses_array(NULL, u, FNN_DTYPE_UINT8, y, N, out, N),
                     FNN_E_NULL);
    ck_assert_int_eq(fnn_model_sample_losses_array(m, u, FNN_DTYPE_UINT8, y, N, out, N),
                     FNN_OK);
    fnn_model_free(m);
}
END_TEST

/* ---- attack keys ------------------------------------------------------------------------- */

START_TEST(attack_key_domains)
{
    double lo, hi;
    uint32_t flags;
    int names;
    char buf[64];
    ck_assert_int_eq(fnn_attack_key_bounds(FNN_ATTACK_SHADOWS, &lo, &hi, &flags, &names),
                     FNN_OK);
    ck_assert_double_eq(lo, 1);
    ck_assert_double_eq(hi, 4096);
    ck_assert_uint_eq(flags, FNN_BOUND_INTEGER);
    ck_assert_int_eq(names, -1);
    ck_assert_uint_eq(fnn_attack_key_describe(FNN_ATTACK_SHADOWS, buf, sizeof buf),
                      strlen("an integer in 1..4096"));
    ck_assert_str_eq(buf, "an integer in 1..4096");
    fnn_attack_key_describe(FNN_ATTACK_SEED, buf, sizeof buf);
    ck_assert_str_eq(buf, "an integer in 0..2^64-1");
    fnn_attack_key_describe(FNN_ATTACK_PER_EXAMPLE_VARIANCE, buf, sizeof buf);
    ck_assert_str_eq(buf, "0 or 1");
    ck_assert_int_eq(fnn_attack_key_bounds(FNN_ATTACK_THREADS, NULL, &hi, NULL, NULL), FNN_OK);
    ck_assert_double_eq(hi, 64);
    ck_assert_int_eq(fnn_attack_key_bounds(FNN_ATTACK_PER_EXAMPLE_VARIANCE + 1, &lo, &hi,
                                           &flags, &names),
                     FNN_E_INVALID);
    ck_assert_int_eq(fnn_attack_key_bounds(-1, NULL, NULL, NULL, NULL), FNN_E_INVALID);
    ck_assert_uint_eq(fnn_attack_key_describe(-1, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "");
    ck_assert_uint_eq(fnn_attack_key_describe(FNN_ATTACK_SHADOWS, buf, 4), 21);
    ck_assert_str_eq(buf, "an ");
    /* The names of the keys and of the element types. */
    int v;
    ck_assert_int_eq(fnn_name_lookup(FNN_NAMES_ATTACK_KEY, "threads", &v), FNN_OK);
    ck_assert_int_eq(v, FNN_ATTACK_THREADS);
    ck_assert_int_eq(fnn_name_lookup(FNN_NAMES_DTYPE, "uint8", &v), FNN_OK);
    ck_assert_int_eq(v, FNN_DTYPE_UINT8);
    ck_assert_str_eq(fnn_name(FNN_NAMES_DTYPE, FNN_DTYPE_FLOAT32), "float32");
}
END_TEST

static Suite *arrays_suite(void)
{
    Suite *s = suite_create("arrays");
    struct {
        const char *name;
        const TTest *tests[8];
    } groups[] = {
        { "copy", { v2_bytes_are_scaled_as_idx, v2_copies, v2_errors } },
        { "borrow", { borrow_errors, borrow_reads_caller_memory, borrow_trains_like_copy,
                      borrow_lifetime } },
        { "labels", { unlabelled } },
        { "inference", { array_inference_matches_datasets, array_inference_errors } },
        { "keys", { attack_key_domains } },
    };
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        TCase *tc = tcase_create(groups[g].name);
        for (size_t t = 0; t < 8 && groups[g].tests[t]; t++)
            tcase_add_test(tc, groups[g].tests[t]);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void)
{
    return fnn_test_main(arrays_suite());
}
