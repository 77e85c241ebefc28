/* Fuzz target for forget requests from index text
 * (fnn_forget_request_from_index_text(), the format of `fnn forget
 * --forget-indices`).
 *
 * Input: 2 bytes, then the text. Bytes 0..1 (little-endian) plus 1 give the
 * size of the training set, 1..65536; the text is the rest of the input,
 * without a terminating NUL, so a read past its end is a sanitizer report.
 * A parser written here from the header's description is the oracle: the
 * status, the line a message names, and the request's indices must be what
 * it says. Broken invariants abort, so the fuzzer reports them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the text means, by the header's rules. */
typedef struct expected {
    int status;
    size_t line;      /* FNN_E_FORMAT: the line of the bad token */
    uint32_t *idx;    /* the indices in text order */
    size_t n;
} expected;

static int oracle_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Tokens are the runs of bytes that are neither white space nor '#'; '#'
 * starts a comment that runs to the end of its line. */
static void oracle_parse(const uint8_t *t, size_t len, expected *e)
{
    memset(e, 0, sizeof *e);
    e->idx = malloc((len / 2 + 1) * sizeof *e->idx); /* a token and a separator each */
    if (!e->idx)
        abort();
    size_t line = 1;
    for (size_t i = 0; i < len;) {
        if (t[i] == '#') {
            while (i < len && t[i] != '\n')
                i++;
        } else if (oracle_space(t[i])) {
            line += t[i] == '\n';
            i++;
        } else {
            int digits = 1, too_big = 0;
            uint64_t v = 0;
            for (; i < len && !oracle_space(t[i]) && t[i] != '#'; i++) {
                if (t[i] < '0' || t[i] > '9')
                    digits = 0;
                else if (!too_big && (v = v * 10 + (t[i] - '0')) > UINT32_MAX)
                    too_big = 1;
            }
            if (!digits || too_big) {
                e->status = FNN_E_FORMAT;
                e->line = line;
                return;
            }
            e->idx[e->n++] = (uint32_t)v;
        }
    }
    e->status = e->n ? FNN_OK : FNN_E_EMPTY;
}

/* fnn_forget_request_from_indices()'s checks, in its order. */
static void oracle_request(expected *e, size_t train_n, uint32_t **sorted, size_t *count)
{
    *sorted = NULL;
    *count = 0;
    if (e->status != FNN_OK)
        return;
    for (size_t i = 0; i < e->n; i++)
        if (e->idx[i] >= train_n) {
            e->status = FNN_E_RANGE;
            return;
        }
    uint8_t *seen = calloc(train_n, 1);
    uint32_t *out = malloc(e->n * sizeof *out);
    if (!seen || !out)
        abort();
    for (size_t i = 0; i < e->n; i++) {
        if (seen[e->idx[i]]) {
            e->status = FNN_E_DUPLICATE;
            free(seen);
            free(out);
            return;
        }
        seen[e->idx[i]] = 1;
    }
    if (e->n == train_n) {
        e->status = FNN_E_EMPTY;
    } else {
        size_t k = 0;
        for (size_t i = 0; i < train_n; i++)
            if (seen[i])
                out[k++] = (uint32_t)i;
        *sorted = out;
        *count = k;
        out = NULL;
    }
    free(seen);
    free(out);
}

/* A message is non-empty printable ASCII. */
static void check_message(const char *err)
{
    if (err[0] == '\0')
        abort();
    for (const char *p = err; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
            abort();
}

static fnn_dataset *training_set(size_t n)
{
    float *x = malloc(n * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    if (!x || !y)
        abort();
    for (size_t i = 0; i < n; i++) {
        x[i] = (float)(i % 251);
        y[i] = (int32_t)(i % 3);
    }
    fnn_dataset *ds = NULL;
    if (fnn_dataset_from_arrays(&ds, x, y, n, 1, 1, 1, 3, NULL, 0) != FNN_OK)
        abort();
    free(x);
    free(y);
    return ds;
}

/* The request holds exactly the sorted indices, and its two views split the
 * training set. */
static void check_request(const fnn_forget_request *r, const fnn_dataset *train,
                          const uint32_t *sorted, size_t count)
{
    size_t n = fnn_forget_request_size(r);
    if (n != count || fnn_forget_request_kind(r) != FNN_REQUEST_INDICES)
        abort();
    uint32_t *got = malloc(n * sizeof *got);
    if (!got || fnn_forget_request_indices(r, got, n) != FNN_OK ||
        memcmp(got, sorted, n * sizeof *got) != 0)
        abort();
    free(got);
    fnn_dataset *f = NULL, *k = NULL;
    if (fnn_forget_request_forget_set(r, &f) != FNN_OK ||
        fnn_forget_request_retain_set(r, &k) != FNN_OK ||
        fnn_dataset_size(f) != n || fnn_dataset_size(k) != fnn_dataset_size(train) - n)
        abort();
    int32_t *labels = malloc(n * sizeof *labels);
    if (!labels || fnn_dataset_labels(f, labels, n) != FNN_OK)
        abort();
    for (size_t i = 0; i < n; i++)
        if (labels[i] != (int32_t)(sorted[i] % 3))
            abort();
    free(labels);
    fnn_dataset_free(f);
    fnn_dataset_free(k);
    /* The same request from the array of indices has the same digest. */
    fnn_forget_request *same = NULL;
    uint8_t d1[32], d2[32];
    if (fnn_forget_request_from_indices(&same, train, sorted, count, NULL, 0) != FNN_OK ||
        fnn_forget_request_digest(r, d1) != FNN_OK ||
        fnn_forget_request_digest(same, d2) != FNN_OK || memcmp(d1, d2, 32) != 0)
        abort();
    fnn_forget_request_free(same);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t train_n = 1 + ((size_t)data[0] | (size_t)data[1] << 8);
    const char *text = (const char *)data + 2;
    size_t len = size - 2;

    expected e;
    oracle_parse(data + 2, len, &e);

    /* The parser alone: the indices in text order, or the oracle's status. */
    uint32_t *idx = (uint32_t *)1;
    size_t n = 7;
    char err[FNN__ERRMSG_SIZE] = "";
    int rc = fnn__parse_indices(text, len, &idx, &n, err, sizeof err);
    if (rc != e.status)
        abort();
    if (rc == FNN_OK) {
        if (n != e.n || idx == NULL || memcmp(idx, e.idx, n * sizeof *idx) != 0)
            abort();
        free(idx);
    } else {
        if (idx != NULL || n != 0)
            abort();
        check_message(err);
        if (rc == FNN_E_FORMAT) {
            char want[32];
            snprintf(want, sizeof want, "line %zu: ", e.line);
            if (strncmp(err, want, strlen(want)) != 0)
                abort();
        }
    }

    /* The request. */
    uint32_t *sorted;
    size_t count;
    oracle_request(&e, train_n, &sorted, &count);
    fnn_dataset *train = training_set(train_n);
    fnn_forget_request *r = (fnn_forget_request *)1;
    err[0] = '\0';
    rc = fnn_forget_request_from_index_text(&r, train, text, len, err, sizeof err);
    if (rc != e.status)
        abort();
    if (rc == FNN_OK) {
        if (r == NULL)
            abort();
        /* The caller may free its handle: the request keeps its own view. */
        fnn_dataset *keep = training_set(train_n);
        fnn_dataset_free(train);
        train = keep;
        check_request(r, train, sorted, count);
    } else if (r != NULL) {
        abort();
    } else {
        check_message(err);
    }
    fnn_forget_request_free(r);
    fnn_dataset_free(train);
    free(sorted);
    free(e.idx);
    return 0;
}
