/* Fuzz target for the IDX loader.
 *
 * Input: 4 bytes, then the contents of an image file and a label file back to
 * back. Bytes 0..2 (little-endian) give the length of the image part (modulo
 * what is there); byte 3 plus 1 is num_classes. Both parts go through
 * fnn__idx_parse(), the pair through fnn__dataset_from_idx(), and a data set
 * that loads is read, split, subset, measured and normalised. Broken
 * invariants abort, so the fuzzer reports them. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_one(const uint8_t *buf, size_t len)
{
    fnn__idx idx;
    char err[FNN__ERRMSG_SIZE];
    int rc = fnn__idx_parse(buf, len, &idx, err, sizeof err);
    if (rc == FNN_OK) {
        if (idx.count + 4 + 4 * (size_t)idx.ndims != len || idx.data == NULL)
            abort();
        free(idx.data);
    } else if (idx.data != NULL || err[0] == '\0') {
        abort();
    }
}

/* Everything a caller can do with a loaded data set of bytes. */
static void exercise(fnn_dataset *ds)
{
    size_t n = fnn_dataset_size(ds);
    uint32_t rows, cols, ch;
    if (fnn_dataset_shape(ds, &rows, &cols, &ch) != FNN_OK || ch != 1 || n == 0)
        abort();
    size_t dim = (size_t)rows * cols;
    float *x = malloc(n * dim * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    if (x && y && fnn_dataset_features(ds, x, n * dim) == FNN_OK &&
        fnn_dataset_labels(ds, y, n) == FNN_OK) {
        for (size_t k = 0; k < n * dim; k++)
            if (!(x[k] >= 0.0f && x[k] <= 1.0f))
                abort();
        for (size_t i = 0; i < n; i++)
            if (y[i] < 0 || (uint32_t)y[i] >= fnn_dataset_num_classes(ds))
                abort();
    }
    free(x);
    free(y);

    float mean, sd;
    if (fnn_dataset_channel_stats(ds, &mean, &sd, 1) != FNN_OK || !(mean >= 0.0f) ||
        !(mean <= 1.0f) || !(sd >= 0.0f))
        abort();
    if (sd > 0.0f && fnn_dataset_set_normalization(ds, &mean, &sd, 1) != FNN_OK)
        abort();

    fnn_dataset *a = NULL, *b = NULL, *c = NULL;
    int rc = fnn_dataset_split(ds, 0.5, n, &a, &b);
    if (rc == FNN_OK) {
        if (fnn_dataset_size(a) + fnn_dataset_size(b) != n)
            abort();
        const uint32_t pick[3] = { 0, 0, (uint32_t)(fnn_dataset_size(b) - 1) };
        if (fnn_dataset_subset(b, pick, 3, &c) != FNN_OK)
            abort();
        fnn_dataset_free(b); /* c outlives it */
        float *v = malloc(dim * sizeof *v);
        int32_t label;
        if (v) {
            fnn__dataset_gather(c, pick + 1, 1, v, &label);
            for (size_t k = 0; k < dim; k++)
                if (!isfinite(v[k]))
                    abort();
        }
        free(v);
    } else if (rc != FNN_E_EMPTY || n > 1) {
        abort();
    }
    fnn_dataset_free(a);
    fnn_dataset_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    size_t split = (size_t)data[0] | (size_t)data[1] << 8 | (size_t)data[2] << 16;
    uint32_t num_classes = (uint32_t)data[3] + 1;
    const uint8_t *body = data + 4;
    size_t len = size - 4;
    size_t img_len = split % (len + 1);
    const uint8_t *img = body, *lbl = body + img_len;
    size_t lbl_len = len - img_len;

    parse_one(img, img_len);
    parse_one(lbl, lbl_len);

    fnn_dataset *ds = NULL;
    char err[FNN__ERRMSG_SIZE];
    int rc = fnn__dataset_from_idx(&ds, img, img_len, lbl, lbl_len, num_classes, err,
                                   sizeof err);
    if ((rc == FNN_OK) != (ds != NULL))
        abort();
    if (ds)
        exercise(ds);
    fnn_dataset_free(ds);
    return 0;
}
