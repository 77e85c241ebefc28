/* Fuzz target for data sets made from caller arrays: fnn_dataset_from_arrays()
 * (or, as flags ask, fnn_dataset_borrow_arrays() and
 * fnn_dataset_from_arrays_v2() with bytes) with the input read as a shape,
 * features and labels, then what a caller does with the data set: read it
 * back, take subsets and a split, normalise.
 *
 * Input: a flags byte, then the shape, the sample count, the features and the
 * labels; bytes run out into zeros.
 *   flags bit 0: the shape is four little-endian u32 (rows, cols, channels,
 *                classes), taken as they are (zero, huge: the validation is
 *                fuzzed); else four bytes: rows 1 + b % 8, cols 1 + b % 8,
 *                channels 1 + b % 4, classes 1 + b % 16.
 *         bit 1: labels are one byte each, mod classes; else an LE i32 each.
 *         bit 2: features are one byte each, (b - 128) / 16; else the bit
 *                pattern of an LE f32 each (NaN and infinities included).
 *         bit 3: the data set borrows the features (fnn_dataset_borrow_arrays).
 *         bit 4: the features are one byte each, given as uint8 (presented as
 *                (float)b * (1.0f / 255.0f)); bit 3 then borrows them, else
 *                fnn_dataset_from_arrays_v2() copies them.
 *   then one byte n (samples, 0..255), features for n samples, n labels, and
 *   the rest: subset indices (a count byte, then LE u16 each) and a split
 *   fraction byte.
 * Arrays are in buffers of exactly their size, so that a sanitizer sees any
 * read past them. Broken invariants abort, so the fuzzer reports them. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The most floats the target hands the loader: a valid shape that asks for
 * more is skipped, so that runs stay fast. */
#define MAX_FLOATS 4096u

typedef struct reader {
    const uint8_t *p;
    size_t n;
} reader;

static uint8_t byte(reader *r)
{
    if (r->n == 0)
        return 0;
    r->n--;
    return *r->p++;
}

static uint32_t u32(reader *r)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)byte(r) << (8 * i);
    return v;
}

/* Checks a data set's contents against the arrays it was made from; ids[i]
 * is the array sample at view position i. */
static void check_contents(fnn_dataset *ds, const float *x, const int32_t *y, size_t dim,
                           const uint32_t *ids, size_t n)
{
    float *got = malloc(n * dim * sizeof *got);
    int32_t *lab = malloc(n * sizeof *lab);
    if (!got || !lab) {
        free(got);
        free(lab);
        return;
    }
    if (fnn_dataset_size(ds) != n || fnn_dataset_features(ds, got, n * dim) != FNN_OK ||
        fnn_dataset_labels(ds, lab, n) != FNN_OK)
        abort();
    /* The default map is x * 1 + (-0): every finite value comes back exactly. */
    for (size_t i = 0; i < n; i++) {
        if (lab[i] != y[ids[i]])
            abort();
        if (memcmp(got + i * dim, x + (size_t)ids[i] * dim, dim * sizeof *got) != 0)
            for (size_t j = 0; j < dim; j++)
                if (got[i * dim + j] != x[(size_t)ids[i] * dim + j])
                    abort();
    }
    if (n * dim > 0 && fnn_dataset_features(ds, got, n * dim - 1) != FNN_E_SHAPE)
        abort();
    free(got);
    free(lab);
}

static void exercise(fnn_dataset *ds, const float *x, const int32_t *y, size_t n, size_t dim,
                     uint32_t channels, reader *r)
{
    uint32_t *ids = malloc(n * sizeof *ids);
    if (!ids)
        return;
    for (size_t i = 0; i < n; i++)
        ids[i] = (uint32_t)i;
    check_contents(ds, x, y, dim, ids, n);

    /* A subset from the input's indices, some of them out of range. */
    size_t k = byte(r) % 17;
    uint32_t pick[16];
    int in_range = 1;
    for (size_t i = 0; i < k; i++) {
        pick[i] = (uint32_t)byte(r) | (uint32_t)byte(r) << 8;
        in_range &= pick[i] < n;
    }
    fnn_dataset *sub = (fnn_dataset *)&sub;
    int rc = fnn_dataset_subset(ds, pick, k, &sub);
    if (k == 0 ? rc != FNN_E_EMPTY : in_range ? rc != FNN_OK : rc != FNN_E_RANGE)
        abort();
    if ((rc == FNN_OK) != (sub != NULL))
        abort();
    if (sub)
        check_contents(sub, x, y, dim, pick, k);

    /* A split; the views outlive the data set they came from. */
    double fraction = ((double)byte(r) + 1.0) / 257.0;
    fnn_dataset *a = NULL, *b = NULL;
    rc = fnn_dataset_split(ds, fraction, (uint64_t)n, &a, &b);
    size_t first = (size_t)(fraction * (double)n + 0.5);
    if (first == 0 || first >= n) {
        if (rc != FNN_E_EMPTY || a || b)
            abort();
    } else if (rc != FNN_OK || fnn_dataset_size(a) != first ||
               fnn_dataset_size(b) != n - first) {
        abort();
    }

    /* Normalisation by the data set's own statistics. */
    float *mean = malloc(channels * sizeof *mean), *sd = malloc(channels * sizeof *sd);
    if (!mean || !sd || fnn_dataset_channel_stats(ds, mean, sd, channels) != FNN_OK)
        abort();
    int positive = 1;
    for (uint32_t c = 0; c < channels; c++) {
        if (!isfinite(mean[c]) || !(sd[c] >= 0.0f))
            abort();
        positive &= sd[c] > 0.0f && isfinite(sd[c]);
    }
    if (positive && fnn_dataset_set_normalization(ds, mean, sd, channels) != FNN_OK)
        abort();
    free(mean);
    free(sd);
    fnn_dataset *c = NULL;
    if (n > 0 && fnn_dataset_subset(ds, ids, n, &c) == FNN_OK) {
        float *v = malloc(n * dim * sizeof *v);
        if (v && fnn_dataset_features(c, v, n * dim) != FNN_OK)
            abort();
        free(v);
    }
    fnn_dataset_free(c);
    fnn_dataset_free(sub);
    fnn_dataset_free(a);
    if (b) {
        size_t bn = fnn_dataset_size(b), bdim = dim;
        float *v = malloc(bn * bdim * sizeof *v);
        if (v && fnn_dataset_features(b, v, bn * bdim) != FNN_OK)
            abort();
        free(v);
    }
    fnn_dataset_free(b);
    free(ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, size};
    uint8_t flags = byte(&r);
    uint32_t rows, cols, channels, classes;
    if (flags & 1) {
        rows = u32(&r);
        cols = u32(&r);
        channels = u32(&r);
        classes = u32(&r);
    } else {
        rows = 1 + byte(&r) % 8;
        cols = 1 + byte(&r) % 8;
        channels = 1 + byte(&r) % 4;
        classes = 1 + byte(&r) % 16;
    }
    size_t n = byte(&r);
    int valid_shape = rows >= 1 && cols >= 1 && channels >= 1 && rows <= FNN__MAX_DIM &&
                      cols <= FNN__MAX_DIM && channels <= FNN__MAX_DIM;
    uint64_t dim = valid_shape ? (uint64_t)rows * cols * channels : 1;
    if (dim > MAX_FLOATS || n * dim > MAX_FLOATS)
        return 0; /* a valid shape the target cannot afford to fill */

    size_t count = n * (size_t)dim;
    float *x = malloc((count ? count : 1) * sizeof *x);
    uint8_t *bytes = malloc(count ? count : 1);
    int32_t *y = malloc((n ? n : 1) * sizeof *y);
    if (!x || !bytes || !y) {
        free(x);
        free(bytes);
        free(y);
        return 0;
    }
    for (size_t k = 0; k < count; k++) {
        if (flags & 16) {
            /* What the data set must present for each byte. */
            bytes[k] = byte(&r);
            x[k] = (float)bytes[k] * (1.0f / 255.0f);
        } else if (flags & 4) {
            x[k] = ((float)byte(&r) - 128.0f) / 16.0f;
        } else {
            uint32_t u = u32(&r);
            memcpy(&x[k], &u, sizeof u);
        }
    }
    for (size_t i = 0; i < n; i++)
        y[i] = flags & 2 ? (int32_t)(byte(&r) % (classes ? classes : 1)) : (int32_t)u32(&r);

    fnn_dataset *ds = (fnn_dataset *)&ds;
    char err[FNN__ERRMSG_SIZE] = "";
    int rc;
    if (flags & 16)
        rc = (flags & 8 ? fnn_dataset_borrow_arrays : fnn_dataset_from_arrays_v2)(
            &ds, bytes, FNN_DTYPE_UINT8, y, n, rows, cols, channels, classes, err, sizeof err);
    else if (flags & 8)
        rc = fnn_dataset_borrow_arrays(&ds, x, FNN_DTYPE_FLOAT32, y, n, rows, cols, channels,
                                       classes, err, sizeof err);
    else
        rc = fnn_dataset_from_arrays(&ds, x, y, n, rows, cols, channels, classes, err,
                                     sizeof err);
    if ((rc == FNN_OK) != (ds != NULL))
        abort();
    if (rc != FNN_OK) {
        /* Only the documented statuses, and always a message. */
        if (err[0] == '\0' || (rc != FNN_E_INVALID && rc != FNN_E_EMPTY && rc != FNN_E_RANGE &&
                               rc != FNN_E_NUMERIC && rc != FNN_E_NOMEM))
            abort();
        if (n == 0 && rc != FNN_E_EMPTY)
            abort();
    } else {
        uint32_t rr, cc, ch;
        if (!valid_shape || n == 0 || fnn_dataset_shape(ds, &rr, &cc, &ch) != FNN_OK ||
            rr != rows || cc != cols || ch != channels ||
            fnn_dataset_num_classes(ds) != classes)
            abort();
        for (size_t i = 0; i < n; i++)
            if (y[i] < 0 || (uint32_t)y[i] >= classes)
                abort();
        for (size_t k = 0; k < count; k++)
            if (!isfinite(x[k]))
                abort();
        exercise(ds, x, y, n, (size_t)dim, channels, &r);
    }
    fnn_dataset_free(ds);
    free(x);
    free(bytes);
    free(y);
    return 0;
}
