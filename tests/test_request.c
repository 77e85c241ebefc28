/* Forget requests: the three constructors and their validation, the queries,
 * the forget and retain views, lifetimes, and requests over subset views.
 * White-box: links the library objects and reaches fnn__* internals. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

/* ---- made-up training sets ---------------------------------------------------- */

/* Sample i has features 10 i + k (k < dim) and label y[i]: all distinct and
 * exact in float for the sizes used here. */
typedef struct {
    size_t n;
    uint32_t dim, classes;
    float *x;
    int32_t *y;
} samples;

/* n samples of dim features with labels i % label_mod, in `classes` classes. */
static samples samples_new(size_t n, uint32_t dim, uint32_t label_mod, uint32_t classes)
{
    samples s = { n, dim, classes, malloc(n * dim * sizeof(float)),
                  malloc(n * sizeof(int32_t)) };
    ck_assert_ptr_nonnull(s.x);
    ck_assert_ptr_nonnull(s.y);
    for (size_t i = 0; i < n; i++) {
        for (uint32_t k = 0; k < dim; k++)
            s.x[i * dim + k] = (float)(10 * i + k);
        s.y[i] = (int32_t)(i % label_mod);
    }
    return s;
}

static void samples_free(samples *s)
{
    free(s->x);
    free(s->y);
}

static fnn_dataset *samples_dataset(const samples *s)
{
    fnn_dataset *ds = NULL;
    char err[256] = "";
    ck_assert_msg(fnn_dataset_from_arrays(&ds, s->x, s->y, s->n, 1, s->dim, 1, s->classes,
                                          err, sizeof err) == FNN_OK,
                  "%s", err);
    return ds;
}

/* The default set: 20 samples of 3 features, labels i % 4. */
enum { N = 20, DIM = 3, CLASSES = 4 };

/* The fixture most tests share: the default samples and a data set of them. */
static struct {
    samples s;
    fnn_dataset *train;
} fx;

static void fx_setup(void)
{
    fx.s = samples_new(N, DIM, CLASSES, CLASSES);
    fx.train = samples_dataset(&fx.s);
}

static void fx_teardown(void)
{
    fnn_dataset_free(fx.train);
    fx.train = NULL;
    samples_free(&fx.s);
}

/* Asserts that view holds exactly samples at[0..m) of s, in that order, as
 * features normalised by (x - mean) / std. */
static void check_view_norm(fnn_dataset *view, const samples *s, const uint32_t *at,
                            size_t m, float mean, float std)
{
    ck_assert_ptr_nonnull(view);
    ck_assert_uint_eq(fnn_dataset_size(view), m);
    int32_t *y = malloc(m * sizeof *y);
    float *x = malloc(m * s->dim * sizeof *x);
    ck_assert_ptr_nonnull(y);
    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(fnn_dataset_labels(view, y, m), FNN_OK);
    ck_assert_int_eq(fnn_dataset_features(view, x, m * s->dim), FNN_OK);
    /* One assertion for the whole view keeps large views fast under Check,
     * which records every passing assertion. */
    size_t bad = m;
    for (size_t j = 0; j < m && bad == m; j++) {
        if (y[j] != s->y[at[j]])
            bad = j;
        for (uint32_t k = 0; k < s->dim; k++)
            if (x[j * s->dim + k] != (s->x[at[j] * s->dim + k] - mean) / std)
                bad = j;
    }
    if (bad < m)
        ck_abort_msg("view position %zu holds label %ld, feature 0 %g; expected "
                     "sample %lu (label %ld, feature 0 %g)", bad, (long)y[bad],
                     (double)x[bad * s->dim], (unsigned long)at[bad], (long)s->y[at[bad]],
                     (double)((s->x[at[bad] * s->dim] - mean) / std));
    free(y);
    free(x);
}

static void check_view(fnn_dataset *view, const samples *s, const uint32_t *at, size_t m)
{
    check_view_norm(view, s, at, m, 0.0f, 1.0f);
}

/* Asserts that r forgets exactly positions idx[0..n) (ascending) of a training
 * set of train_n positions whose position p is sample base[p] of s (base NULL:
 * sample p): indices, size, and the contents and order of both views. */
static void check_request(const fnn_forget_request *r, const samples *s,
                          const uint32_t *base, size_t train_n, const uint32_t *idx,
                          size_t n)
{
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(fnn_forget_request_size(r), n);
    uint32_t *got = malloc((n + 1) * sizeof *got);
    uint32_t *forget = malloc(n * sizeof *forget);
    uint32_t *retain = malloc(train_n * sizeof *retain);
    ck_assert_ptr_nonnull(got);
    ck_assert_ptr_nonnull(forget);
    ck_assert_ptr_nonnull(retain);
    got[n] = 0xdeadbeef;
    ck_assert_int_eq(fnn_forget_request_indices(r, got, n + 1), FNN_OK);
    size_t bad = n;
    for (size_t j = 0; j < n; j++) {
        if (got[j] != idx[j] && bad == n)
            bad = j;
        forget[j] = base ? base[idx[j]] : idx[j];
    }
    if (bad < n)
        ck_abort_msg("index %zu is %lu, expected %lu", bad, (unsigned long)got[bad],
                     (unsigned long)idx[bad]);
    ck_assert_uint_eq(got[n], 0xdeadbeef); /* nothing written past size */
    size_t m = 0;
    for (size_t p = 0, j = 0; p < train_n; p++) {
        if (j < n && idx[j] == p)
            j++;
        else
            retain[m++] = base ? base[p] : (uint32_t)p;
    }
    ck_assert_uint_eq(m + n, train_n);
    fnn_dataset *fs = (fnn_dataset *)&fs, *rs = (fnn_dataset *)&rs;
    ck_assert_int_eq(fnn_forget_request_forget_set(r, &fs), FNN_OK);
    ck_assert_int_eq(fnn_forget_request_retain_set(r, &rs), FNN_OK);
    check_view(fs, s, forget, n);
    check_view(rs, s, retain, m);
    ck_assert_uint_eq(fnn_dataset_num_classes(fs), s->classes);
    ck_assert_uint_eq(fnn_dataset_num_classes(rs), s->classes);
    fnn_dataset_free(fs);
    fnn_dataset_free(rs);
    free(got);
    free(forget);
    free(retain);
}

/* A non-NULL value that a failing constructor must overwrite with NULL. */
#define POISON ((fnn_forget_request *)(uintptr_t)0x1)

/* Runs from_indices expecting failure `code`; checks *out is NULL and the
 * message is exactly msg (when msg is not NULL). */
static void indices_fail(const fnn_dataset *train, const uint32_t *idx, size_t n, int code,
                         const char *msg)
{
    fnn_forget_request *r = POISON;
    char err[256] = "unchanged";
    ck_assert_int_eq(fnn_forget_request_from_indices(&r, train, idx, n, err, sizeof err),
                     code);
    ck_assert_ptr_null(r);
    if (msg)
        ck_assert_str_eq(err, msg);
    else
        ck_assert_str_ne(err, "unchanged");
    /* The same failure without a message buffer. */
    r = POISON;
    ck_assert_int_eq(fnn_forget_request_from_indices(&r, train, idx, n, NULL, 0), code);
    ck_assert_ptr_null(r);
}

static void class_fail(const fnn_dataset *train, int32_t label, int code, const char *msg)
{
    fnn_forget_request *r = POISON;
    char err[256] = "unchanged";
    ck_assert_int_eq(fnn_forget_request_from_class(&r, train, label, err, sizeof err), code);
    ck_assert_ptr_null(r);
    ck_assert_str_eq(err, msg);
    r = POISON;
    ck_assert_int_eq(fnn_forget_request_from_class(&r, train, label, NULL, 0), code);
    ck_assert_ptr_null(r);
}

static void random_fail(const fnn_dataset *train, size_t count, int code, const char *msg)
{
    fnn_forget_request *r = POISON;
    char err[256] = "unchanged";
    ck_assert_int_eq(fnn_forget_request_random(&r, train, count, 7, err, sizeof err), code);
    ck_assert_ptr_null(r);
    ck_assert_str_eq(err, msg);
    r = POISON;
    ck_assert_int_eq(fnn_forget_request_random(&r, train, count, 7, NULL, 0), code);
    ck_assert_ptr_null(r);
}

/* Asserts that a[0..n) ascends strictly (so is distinct) and stays below size. */
static void check_ascending(const uint32_t *a, size_t n, size_t size)
{
    for (size_t j = 0; j < n; j++)
        if (a[j] >= size || (j > 0 && a[j - 1] >= a[j]))
            ck_abort_msg("index %zu is %lu after %lu, size %zu", j, (unsigned long)a[j],
                         j > 0 ? (unsigned long)a[j - 1] : 0ul, size);
}

/* Draws a random request of count from train and copies its indices to idx. */
static void draw(const fnn_dataset *train, size_t count, uint64_t seed, uint32_t *idx)
{
    fnn_forget_request *r = NULL;
    char err[256] = "";
    ck_assert_msg(fnn_forget_request_random(&r, train, count, seed, err, sizeof err) ==
                      FNN_OK,
                  "%s", err);
    ck_assert_uint_eq(fnn_forget_request_size(r), count);
    ck_assert_int_eq(fnn_forget_request_indices(r, idx, count), FNN_OK);
    fnn_forget_request_free(r);
}

/* ---- explicit indices -------------------------------------------------------------- */

START_TEST(indices_contents)
{
    uint32_t pick[5] = { 17, 3, 9, 0, 12 };
    const uint32_t caller[5] = { 17, 3, 9, 0, 12 };
    fnn_forget_request *r = NULL;
    char err[256] = "";
    ck_assert_msg(fnn_forget_request_from_indices(&r, fx.train, pick, 5, err, sizeof err) ==
                      FNN_OK,
                  "%s", err);
    ck_assert_mem_eq(pick, caller, sizeof pick); /* the caller's array is untouched */
    ck_assert_int_eq(fnn_forget_request_kind(r), FNN_REQUEST_INDICES);
    int32_t label = 99;
    ck_assert_int_eq(fnn_forget_request_class(r, &label), FNN_E_STATE);
    ck_assert_int_eq(label, 99);
    const uint32_t sorted[5] = { 0, 3, 9, 12, 17 };
    check_request(r, &fx.s, NULL, N, sorted, 5);

    /* Exact capacity works; one less is a shape error that writes nothing. */
    uint32_t got[5] = { 7, 7, 7, 7, 7 };
    ck_assert_int_eq(fnn_forget_request_indices(r, got, 4), FNN_E_SHAPE);
    for (int j = 0; j < 5; j++)
        ck_assert_uint_eq(got[j], 7);
    ck_assert_int_eq(fnn_forget_request_indices(r, got, 5), FNN_OK);
    ck_assert_mem_eq(got, sorted, sizeof sorted);

    /* The forget set's labels are those of the chosen samples: 0, 3, 1, 0, 1. */
    fnn_dataset *fs = NULL;
    ck_assert_int_eq(fnn_forget_request_forget_set(r, &fs), FNN_OK);
    int32_t y[5];
    ck_assert_int_eq(fnn_dataset_labels(fs, y, 5), FNN_OK);
    ck_assert_int_eq(y[0], 0);
    ck_assert_int_eq(y[1], 3);
    ck_assert_int_eq(y[2], 1);
    ck_assert_int_eq(y[3], 0);
    ck_assert_int_eq(y[4], 1);
    float x[5 * DIM];
    ck_assert_int_eq(fnn_dataset_features(fs, x, 5 * DIM), FNN_OK);
    ck_assert_float_eq(x[0], 0.0f);
    ck_assert_float_eq(x[DIM], 30.0f);
    ck_assert_float_eq(x[4 * DIM + 2], 172.0f);
    fnn_dataset_free(fs);
    fnn_forget_request_free(r);
}
END_TEST

START_TEST(indices_edges)
{
    fnn_forget_request *r = NULL;

    /* One sample, at either end. */
    const uint32_t first[1] = { 0 }, last[1] = { N - 1 };
    ck_assert_int_eq(fnn_forget_request_from_indices(&r, fx.train, first, 1, NULL, 0), FNN_OK);
    check_request(r, &fx.s, NULL, N, first, 1);
    fnn_forget_request_free(r);
    ck_assert_int_eq(fnn_forget_request_from_indices(&r, fx.train, last, 1, NULL, 0), FNN_OK);
    check_request(r, &fx.s, NULL, N, last, 1);
    fnn_forget_request_free(r);

    /* All but one, descending: the retain set is the one left out. */
    for (uint32_t keep = 0; keep < N; keep += N - 1) {
        uint32_t desc[N - 1], asc[N - 1];
        size_t k = 0;
        for (uint32_t i = N; i-- > 0;)
            if (i != keep)
                desc[k++] = i;
        for (uint32_t i = 0, j = 0; i < N; i++)
            if (i != keep)
                asc[j++] = i;
        ck_assert_int_eq(fnn_forget_request_from_indices(&r, fx.train, desc, N - 1, NULL, 0),
                         FNN_OK);
        check_request(r, &fx.s, NULL, N, asc, N - 1);
        fnn_dataset *rs = NULL;
        ck_assert_int_eq(fnn_forget_request_retain_set(r, &rs), FNN_OK);
        check_view(rs, &fx.s, &keep, 1);
        fnn_dataset_free(rs);
        fnn_forget_request_free(r);
    }
}
END_TEST

/* Positions around multiples of 64 (word boundaries of any bit set). */
START_TEST(indices_word_boundaries)
{
    samples s = samples_new(130, 1, 3, 3);
    fnn_dataset *train = samples_dataset(&s);
    const uint32_t pick[8] = { 129, 64, 63, 0, 128, 127, 65, 1 };
    const uint32_t sorted[8] = { 0, 1, 63, 64, 65, 127, 128, 129 };
    fnn_forget_request *r = NULL;
    ck_assert_int_eq(fnn_forget_request_from_indices(&r, train, pick, 8, NULL, 0), FNN_OK);
    check_request(r, &s, NULL, 130, sorted, 8);
    fnn_forget_request_free(r);
    fnn_dataset_free(train);
    samples_free(&s);
}
END_TEST

START_TEST(indices_errors)
{
    const uint32_t ok[2] = { 1, 2 };

    indices_fail(fx.train, ok, 0, FNN_E_EMPTY, "request_from_indices: no indices (n is 0)");
    const uint32_t range[4] = { 1, 20, 3, 25 };
    indices_fail(fx.train, range, 4, FNN_E_RANGE,
                 "request_from_indices: index 20 at position 1 is >= size 20");
    const uint32_t huge[1] = { UINT32_MAX };
    indices_fail(fx.train, huge, 1, FNN_E_RANGE,
                 "request_from_indices: index 4294967295 at position 0 is >= size 20");
    /* Range is checked over the whole array before duplicates. */
    const uint32_t dup_then_range[3] = { 3, 3, 99 };
    indices_fail(fx.train, dup_then_range, 3, FNN_E_RANGE,
                 "request_from_indices: index 99 at position 2 is >= size 20");
    const uint32_t dup[5] = { 4, 7, 11, 7, 4 };
    indices_fail(fx.train, dup, 5, FNN_E_DUPLICATE,
                 "request_from_indices: index 7 appears at positions 1 and 3");
    const uint32_t twice[2] = { 19, 19 };
    indices_fail(fx.train, twice, 2, FNN_E_DUPLICATE,
                 "request_from_indices: index 19 appears at positions 0 and 1");

    /* Every sample, in any order: nothing would be retained. */
    uint32_t all[N + 1];
    for (uint32_t i = 0; i < N; i++)
        all[i] = (i * 7) % N;
    indices_fail(fx.train, all, N, FNN_E_EMPTY,
                 "request_from_indices: all 20 samples would be forgotten; nothing would "
                 "be retained");
    /* More indices than samples, all in range: a duplicate. */
    all[N] = 13;
    indices_fail(fx.train, all, N + 1, FNN_E_DUPLICATE,
                 "request_from_indices: index 13 appears at positions 19 and 20");

    /* A one-sample set can never be the subject of a request. */
    samples one = samples_new(1, DIM, 1, 2);
    fnn_dataset *single = samples_dataset(&one);
    const uint32_t zero[1] = { 0 };
    indices_fail(single, zero, 1, FNN_E_EMPTY,
                 "request_from_indices: all 1 samples would be forgotten; nothing would be "
                 "retained");
    fnn_dataset_free(single);
    samples_free(&one);

    /* A short buffer gets a truncated, terminated message. */
    fnn_forget_request *r = POISON;
    char err[8];
    memset(err, 'x', sizeof err);
    ck_assert_int_eq(fnn_forget_request_from_indices(&r, fx.train, ok, 0, err, sizeof err),
                     FNN_E_EMPTY);
    ck_assert_ptr_null(r);
    ck_assert_str_eq(err, "request");
}
END_TEST

/* ---- index lists as text ------------------------------------------------------------ */

/* fnn_forget_request_from_index_text() on text[0..len) fails with code and
 * exactly msg. */
static void text_fail(const char *text, size_t len, int code, const char *msg)
{
    fnn_forget_request *r = POISON;
    char err[256] = "unchanged";
    ck_assert_int_eq(fnn_forget_request_from_index_text(&r, fx.train, text, len, err,
                                                        sizeof err),
                     code);
    ck_assert_ptr_null(r);
    ck_assert_str_eq(err, msg);
}

/* The same for a string literal, without its NUL. */
#define TEXT_FAIL(lit, code, msg) text_fail(lit, sizeof lit - 1, code, msg)

START_TEST(text_contents)
{
    /* Comments, every white-space byte, CRLF, a comment right after a token,
     * leading zeros, and a text that is not NUL-terminated: only len bytes
     * are read (the 9 after them is not). */
    static const char text[] = "# forget\r\n4 007\t2#two\n\v11\f\r\n 19 9";
    fnn_forget_request *r = NULL;
    char err[256] = "";
    ck_assert_msg(fnn_forget_request_from_index_text(&r, fx.train, text, sizeof text - 3, err,
                                                     sizeof err) == FNN_OK,
                  "%s", err);
    const uint32_t want[5] = { 2, 4, 7, 11, 19 };
    check_request(r, &fx.s, NULL, N, want, 5);
    ck_assert_int_eq(fnn_forget_request_kind(r), FNN_REQUEST_INDICES);
    fnn_forget_request_free(r);
}
END_TEST

START_TEST(text_errors)
{
    TEXT_FAIL("", FNN_E_EMPTY, "no indices in the text");
    TEXT_FAIL("# only\n  # comments \n", FNN_E_EMPTY, "no indices in the text");
    TEXT_FAIL("1\n2\n3-7\n", FNN_E_FORMAT, "line 3: '3-7' is not a decimal index");
    TEXT_FAIL("+1", FNN_E_FORMAT, "line 1: '+1' is not a decimal index");
    TEXT_FAIL("1\n\x1b[31m", FNN_E_FORMAT, "line 2: '?[31m' is not a decimal index");
    TEXT_FAIL("1 2\0003", FNN_E_FORMAT, "line 1: '2?3' is not a decimal index");
    TEXT_FAIL("4294967296", FNN_E_FORMAT, "line 1: 4294967296 is larger than 4294967295");
    TEXT_FAIL("99999999999999999999999999999", FNN_E_FORMAT,
              "line 1: 999999999999999999999999... is larger than 4294967295");
    /* Numbers that parse go through the checks of an index array. */
    TEXT_FAIL("4294967295", FNN_E_RANGE,
              "request_from_indices: index 4294967295 at position 0 is >= size 20");
    TEXT_FAIL("3 5 3", FNN_E_DUPLICATE,
              "request_from_indices: index 3 appears at positions 0 and 2");
    TEXT_FAIL("0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19", FNN_E_EMPTY,
              "request_from_indices: all 20 samples would be forgotten; nothing would be "
              "retained");
    fnn_forget_request *r = POISON;
    char err[256];
    ck_assert_int_eq(fnn_forget_request_from_index_text(&r, fx.train, NULL, 0, err, sizeof err),
                     FNN_E_NULL);
    ck_assert_ptr_null(r);
    ck_assert_str_eq(err, "request_from_index_text: text is NULL");
    ck_assert_int_eq(fnn_forget_request_from_index_text(&r, NULL, "1", 1, NULL, 0), FNN_E_NULL);
}
END_TEST

/* ---- classes ----------------------------------------------------------------------- */

START_TEST(class_contents)
{
    for (int32_t c = 0; c < CLASSES; c++) {
        fnn_forget_request *r = NULL;
        char err[256] = "";
        ck_assert_msg(fnn_forget_request_from_class(&r, fx.train, c, err, sizeof err) ==
                          FNN_OK,
                      "%s", err);
        ck_assert_int_eq(fnn_forget_request_kind(r), FNN_REQUEST_CLASS);
        int32_t label = -1;
        ck_assert_int_eq(fnn_forget_request_class(r, &label), FNN_OK);
        ck_assert_int_eq(label, c);
        uint32_t idx[N / CLASSES];
        for (uint32_t j = 0; j < N / CLASSES; j++)
            idx[j] = (uint32_t)c + CLASSES * j;
        check_request(r, &fx.s, NULL, N, idx, N / CLASSES);

        /* Every forget label is c and no retain label is. */
        fnn_dataset *fs = NULL, *rs = NULL;
        ck_assert_int_eq(fnn_forget_request_forget_set(r, &fs), FNN_OK);
        ck_assert_int_eq(fnn_forget_request_retain_set(r, &rs), FNN_OK);
        int32_t y[N];
        ck_assert_int_eq(fnn_dataset_labels(fs, y, N), FNN_OK);
        for (size_t j = 0; j < N / CLASSES; j++)
            ck_assert_int_eq(y[j], c);
        ck_assert_uint_eq(fnn_dataset_size(rs), N - N / CLASSES);
        ck_assert_int_eq(fnn_dataset_labels(rs, y, N), FNN_OK);
        for (size_t j = 0; j < N - N / CLASSES; j++)
            ck_assert_int_ne(y[j], c);
        fnn_dataset_free(fs);
        fnn_dataset_free(rs);
        fnn_forget_request_free(r);
    }
}
END_TEST

START_TEST(class_errors)
{
    /* Labels i % 4 in 5 classes: class 4 exists but no sample has it. */
    samples s = samples_new(N, DIM, 4, 5);
    fnn_dataset *train = samples_dataset(&s);
    class_fail(train, -1, FNN_E_RANGE, "request_from_class: label -1 is outside [0, 5)");
    class_fail(train, 5, FNN_E_RANGE, "request_from_class: label 5 is outside [0, 5)");
    class_fail(train, INT32_MIN, FNN_E_RANGE,
               "request_from_class: label -2147483648 is outside [0, 5)");
    class_fail(train, 4, FNN_E_EMPTY, "request_from_class: none of the 20 samples has label 4");
    fnn_dataset_free(train);
    samples_free(&s);

    /* Every sample of class 1: nothing would be retained. */
    samples same = samples_new(6, DIM, 1, 3);
    for (size_t i = 0; i < same.n; i++)
        same.y[i] = 1;
    train = samples_dataset(&same);
    class_fail(train, 1, FNN_E_EMPTY,
               "request_from_class: all 6 samples have label 1; nothing would be retained");
    class_fail(train, 0, FNN_E_EMPTY, "request_from_class: none of the 6 samples has label 0");
    fnn_dataset_free(train);
    samples_free(&same);
}
END_TEST

/* ---- random samples ----------------------------------------------------------------- */

START_TEST(random_contents)
{
    fnn_forget_request *r = NULL;
    ck_assert_int_eq(fnn_forget_request_random(&r, fx.train, 7, 42, NULL, 0), FNN_OK);
    ck_assert_int_eq(fnn_forget_request_kind(r), FNN_REQUEST_RANDOM);
    int32_t label = 99;
    ck_assert_int_eq(fnn_forget_request_class(r, &label), FNN_E_STATE);
    ck_assert_int_eq(label, 99);
    uint32_t idx[7];
    ck_assert_int_eq(fnn_forget_request_indices(r, idx, 7), FNN_OK);
    check_ascending(idx, 7, N);
    check_request(r, &fx.s, NULL, N, idx, 7);
    fnn_forget_request_free(r);

    /* The extremes: one sample, and all but one. */
    for (size_t count = 1; count < N; count += N - 2) {
        uint32_t got[N];
        draw(fx.train, count, 3, got);
        check_ascending(got, count, N);
        ck_assert_int_eq(fnn_forget_request_random(&r, fx.train, count, 3, NULL, 0), FNN_OK);
        check_request(r, &fx.s, NULL, N, got, count);
        fnn_forget_request_free(r);
    }
}
END_TEST

START_TEST(random_deterministic)
{
    uint32_t a[10], b[10], c[10];
    draw(fx.train, 10, 1234, a);
    draw(fx.train, 10, 1234, b);
    draw(fx.train, 10, 1235, c);
    ck_assert_mem_eq(a, b, sizeof a);
    ck_assert_int_ne(memcmp(a, c, sizeof a), 0);

    /* Across seeds the draws differ: 50 seeds of 10 out of 20 give at least
     * 45 distinct subsets (184756 exist). */
    uint32_t draws[50][10];
    size_t distinct = 0;
    for (uint64_t seed = 0; seed < 50; seed++) {
        draw(fx.train, 10, seed, draws[seed]);
        int seen = 0;
        for (uint64_t t = 0; t < seed && !seen; t++)
            seen = memcmp(draws[t], draws[seed], sizeof draws[0]) == 0;
        distinct += !seen;
    }
    ck_assert_uint_ge(distinct, 45);
}
END_TEST

/* Each position is drawn with probability count / size: 4000 draws of 5 out
 * of 20 pick each position 1000 times on average (sd 27); a bias towards the
 * end (the classic mistake in Floyd's algorithm) or the start shows at once. */
START_TEST(random_uniform)
{
    unsigned hits[N] = { 0 };
    for (uint64_t seed = 0; seed < 4000; seed++) {
        uint32_t idx[5];
        draw(fx.train, 5, seed * 0x9e3779b97f4a7c15ull, idx);
        for (size_t j = 0; j < 5; j++)
            hits[idx[j]]++;
    }
    for (size_t p = 0; p < N; p++) {
        ck_assert_uint_ge(hits[p], 880);
        ck_assert_uint_le(hits[p], 1120);
    }
}
END_TEST

START_TEST(random_errors)
{
    random_fail(fx.train, 0, FNN_E_EMPTY, "request_random: count is 0");
    random_fail(fx.train, N, FNN_E_RANGE,
                "request_random: count 20 is not below the size 20; nothing would be "
                "retained");
    random_fail(fx.train, SIZE_MAX, FNN_E_RANGE,
                "request_random: count 18446744073709551615 is not below the size 20; "
                "nothing would be retained");
}
END_TEST

/* ---- large sets ------------------------------------------------------------------------ */

START_TEST(large_sets)
{
    enum { BIG = 200000 };
    samples s = samples_new(BIG, 1, 10, 10);
    fnn_dataset *train = samples_dataset(&s);

    /* Every third position, given in descending order. */
    size_t n = (BIG + 2) / 3;
    uint32_t *desc = malloc(n * sizeof *desc), *asc = malloc(n * sizeof *asc);
    ck_assert_ptr_nonnull(desc);
    ck_assert_ptr_nonnull(asc);
    for (size_t j = 0; j < n; j++) {
        asc[j] = (uint32_t)(3 * j);
        desc[n - 1 - j] = asc[j];
    }
    fnn_forget_request *r = NULL;
    ck_assert_int_eq(fnn_forget_request_from_indices(&r, train, desc, n, NULL, 0), FNN_OK);
    check_request(r, &s, NULL, BIG, asc, n);
    fnn_forget_request_free(r);

    /* Half of it at random. */
    uint32_t *got = malloc(BIG / 2 * sizeof *got);
    ck_assert_ptr_nonnull(got);
    draw(train, BIG / 2, 77, got);
    check_ascending(got, BIG / 2, BIG);
    ck_assert_int_eq(fnn_forget_request_random(&r, train, BIG / 2, 77, NULL, 0), FNN_OK);
    check_request(r, &s, NULL, BIG, got, BIG / 2);
    fnn_forget_request_free(r);

    /* One class of ten. */
    ck_assert_int_eq(fnn_forget_request_from_class(&r, train, 9, NULL, 0), FNN_OK);
    ck_assert_uint_eq(fnn_forget_request_size(r), BIG / 10);
    for (size_t j = 0; j < BIG / 10; j++)
        asc[j] = (uint32_t)(10 * j + 9);
    check_request(r, &s, NULL, BIG, asc, BIG / 10);
    fnn_forget_request_free(r);

    free(got);
    free(desc);
    free(asc);
    fnn_dataset_free(train);
    samples_free(&s);
}
END_TEST

/* ---- lifetimes and views ---------------------------------------------------------------- */

START_TEST(outlives_train)
{
    const uint32_t pick[3] = { 18, 2, 11 }, sorted[3] = { 2, 11, 18 };
    fnn_forget_request *ri = NULL, *rc = NULL, *rr = NULL;
    ck_assert_int_eq(fnn_forget_request_from_indices(&ri, fx.train, pick, 3, NULL, 0), FNN_OK);
    ck_assert_int_eq(fnn_forget_request_from_class(&rc, fx.train, 3, NULL, 0), FNN_OK);
    ck_assert_int_eq(fnn_forget_request_random(&rr, fx.train, 4, 9, NULL, 0), FNN_OK);
    uint32_t rand_idx[4];
    ck_assert_int_eq(fnn_forget_request_indices(rr, rand_idx, 4), FNN_OK);
    fnn_dataset_free(fx.train); /* the requests hold their own references */
    fx.train = NULL;

    check_request(ri, &fx.s, NULL, N, sorted, 3);
    const uint32_t threes[5] = { 3, 7, 11, 15, 19 };
    check_request(rc, &fx.s, NULL, N, threes, 5);
    check_request(rr, &fx.s, NULL, N, rand_idx, 4);

    /* Views outlive the request too. */
    fnn_dataset *fs = NULL, *rs = NULL;
    ck_assert_int_eq(fnn_forget_request_forget_set(ri, &fs), FNN_OK);
    ck_assert_int_eq(fnn_forget_request_retain_set(ri, &rs), FNN_OK);
    fnn_forget_request_free(ri);
    fnn_forget_request_free(rc);
    fnn_forget_request_free(rr);
    check_view(fs, &fx.s, sorted, 3);
    ck_assert_uint_eq(fnn_dataset_size(rs), N - 3);
    fnn_dataset_free(fs);
    fnn_dataset_free(rs);
}
END_TEST

/* A request over a subset indexes the subset's positions, not the store's. */
START_TEST(subset_train)
{
    fnn_dataset *sub = NULL;
    /* Labels of these samples: 3, 1, 3, 2, 0, 0. */
    const uint32_t base[6] = { 19, 5, 11, 2, 8, 16 };
    ck_assert_int_eq(fnn_dataset_subset(fx.train, base, 6, &sub), FNN_OK);
    fnn_dataset_free(fx.train); /* the subset holds the storage */
    fx.train = NULL;

    fnn_forget_request *r = NULL;
    const uint32_t pick[2] = { 4, 1 }, sorted[2] = { 1, 4 };
    ck_assert_int_eq(fnn_forget_request_from_indices(&r, sub, pick, 2, NULL, 0), FNN_OK);
    check_request(r, &fx.s, base, 6, sorted, 2);
    fnn_forget_request_free(r);

    /* Position 6 is past the subset even though the store has sample 6. */
    const uint32_t past[1] = { 6 };
    indices_fail(sub, past, 1, FNN_E_RANGE,
                 "request_from_indices: index 6 at position 0 is >= size 6");

    const uint32_t zeros[2] = { 4, 5 }, threes[2] = { 0, 2 }, ones[1] = { 1 };
    ck_assert_int_eq(fnn_forget_request_from_class(&r, sub, 0, NULL, 0), FNN_OK);
    check_request(r, &fx.s, base, 6, zeros, 2);
    fnn_forget_request_free(r);
    ck_assert_int_eq(fnn_forget_request_from_class(&r, sub, 3, NULL, 0), FNN_OK);
    check_request(r, &fx.s, base, 6, threes, 2);
    fnn_forget_request_free(r);
    ck_assert_int_eq(fnn_forget_request_from_class(&r, sub, 1, NULL, 0), FNN_OK);
    check_request(r, &fx.s, base, 6, ones, 1);
    fnn_forget_request_free(r);

    /* A subset holding one class only refuses that class. */
    const uint32_t same[3] = { 2, 6, 10 };
    fnn_dataset *big = samples_dataset(&fx.s), *twos = NULL;
    ck_assert_int_eq(fnn_dataset_subset(big, same, 3, &twos), FNN_OK);
    class_fail(twos, 2, FNN_E_EMPTY,
               "request_from_class: all 3 samples have label 2; nothing would be retained");
    class_fail(twos, 1, FNN_E_EMPTY, "request_from_class: none of the 3 samples has label 1");
    fnn_dataset_free(twos);
    fnn_dataset_free(big);

    uint32_t got[3];
    draw(sub, 3, 5, got);
    check_ascending(got, 3, 6);
    ck_assert_int_eq(fnn_forget_request_random(&r, sub, 3, 5, NULL, 0), FNN_OK);
    check_request(r, &fx.s, base, 6, got, 3);
    fnn_forget_request_free(r);
    random_fail(sub, 6, FNN_E_RANGE,
                "request_random: count 6 is not below the size 6; nothing would be retained");
    fnn_dataset_free(sub);
}
END_TEST

/* The views carry the training set's normalisation as it was at construction. */
START_TEST(views_keep_normalisation)
{
    const float mean = 1.0f, std = 2.0f;
    ck_assert_int_eq(fnn_dataset_set_normalization(fx.train, &mean, &std, 1), FNN_OK);
    fnn_forget_request *r = NULL;
    const uint32_t pick[2] = { 5, 6 };
    ck_assert_int_eq(fnn_forget_request_from_indices(&r, fx.train, pick, 2, NULL, 0), FNN_OK);
    const float zero = 0.0f, one = 1.0f;
    ck_assert_int_eq(fnn_dataset_set_normalization(fx.train, &zero, &one, 1), FNN_OK);
    fnn_dataset *fs = NULL;
    ck_assert_int_eq(fnn_forget_request_forget_set(r, &fs), FNN_OK);
    check_view_norm(fs, &fx.s, pick, 2, mean, std);
    fnn_dataset_free(fs);
    fnn_forget_request_free(r);
}
END_TEST

/* ---- NULL arguments -------------------------------------------------------------------- */

START_TEST(null_arguments)
{
    const uint32_t pick[2] = { 1, 2 };
    char err[256];

    ck_assert_int_eq(fnn_forget_request_from_indices(NULL, fx.train, pick, 2, err, sizeof err),
                     FNN_E_NULL);
    ck_assert_str_eq(err, "request_from_indices: out is NULL");
    indices_fail(NULL, pick, 2, FNN_E_NULL, "request_from_indices: train is NULL");
    indices_fail(fx.train, NULL, 2, FNN_E_NULL, "request_from_indices: indices is NULL");
    indices_fail(fx.train, NULL, 0, FNN_E_NULL, "request_from_indices: indices is NULL");

    ck_assert_int_eq(fnn_forget_request_from_class(NULL, fx.train, 1, err, sizeof err),
                     FNN_E_NULL);
    ck_assert_str_eq(err, "request_from_class: out is NULL");
    class_fail(NULL, 1, FNN_E_NULL, "request_from_class: train is NULL");

    ck_assert_int_eq(fnn_forget_request_random(NULL, fx.train, 3, 1, err, sizeof err),
                     FNN_E_NULL);
    ck_assert_str_eq(err, "request_random: out is NULL");
    random_fail(NULL, 3, FNN_E_NULL, "request_random: train is NULL");

    fnn_forget_request_free(NULL);
    ck_assert_uint_eq(fnn_forget_request_size(NULL), 0);
    ck_assert_int_eq(fnn_forget_request_kind(NULL), FNN_E_NULL);
    int32_t label = 0;
    uint32_t idx[2];
    fnn_dataset *view = (fnn_dataset *)&view;
    ck_assert_int_eq(fnn_forget_request_class(NULL, &label), FNN_E_NULL);
    ck_assert_int_eq(fnn_forget_request_indices(NULL, idx, 2), FNN_E_NULL);
    ck_assert_int_eq(fnn_forget_request_forget_set(NULL, &view), FNN_E_NULL);
    ck_assert_ptr_null(view);
    view = (fnn_dataset *)&view;
    ck_assert_int_eq(fnn_forget_request_retain_set(NULL, &view), FNN_E_NULL);
    ck_assert_ptr_null(view);

    fnn_forget_request *r = NULL;
    ck_assert_int_eq(fnn_forget_request_from_class(&r, fx.train, 1, NULL, 0), FNN_OK);
    ck_assert_int_eq(fnn_forget_request_class(r, NULL), FNN_E_NULL);
    ck_assert_int_eq(fnn_forget_request_indices(r, NULL, 5), FNN_E_NULL);
    ck_assert_int_eq(fnn_forget_request_forget_set(r, NULL), FNN_E_NULL);
    ck_assert_int_eq(fnn_forget_request_retain_set(r, NULL), FNN_E_NULL);
    fnn_forget_request_free(r);
}
END_TEST

static Suite *request_suite(void)
{
    Suite *s = suite_create("request");
    struct {
        const char *name;
        const TTest *tests[8];
    } groups[] = {
        { "indices", { indices_contents, indices_edges, indices_word_boundaries,
                       indices_errors } },
        { "text", { text_contents, text_errors } },
        { "class", { class_contents, class_errors } },
        { "random", { random_contents, random_deterministic, random_uniform,
                      random_errors } },
        { "large", { large_sets } },
        { "views", { outlives_train, subset_train, views_keep_normalisation } },
        { "null", { null_arguments } },
    };
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        TCase *tc = tcase_create(groups[g].name);
        tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
        for (size_t t = 0; t < 8 && groups[g].tests[t]; t++)
            tcase_add_test(tc, groups[g].tests[t]);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void)
{
    return fnn_test_main(request_suite());
}
