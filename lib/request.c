/* Forget requests: which positions of a training set to forget, kept
 * ascending, and the views of that forget set and of its complement. The
 * request holds its own view of the training set, so the caller may free the
 * handle it was built from. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- bit sets ---------------------------------------------------------------- */

/* One bit per position below `size`, all clear; NULL on no memory. A bit set
 * sorts and deduplicates positions in O(n + size / 64) time and size / 8
 * bytes, less than the 4 * size bytes the request's own view already takes. */
static uint64_t *bits_new(size_t size)
{
    return calloc(size / 64 + 1, sizeof(uint64_t));
}

/* Sets bit i and returns whether it was already set. */
static int bits_test_set(uint64_t *bits, size_t i)
{
    uint64_t mask = (uint64_t)1 << (i % 64);
    int was = (bits[i / 64] & mask) != 0;
    bits[i / 64] |= mask;
    return was;
}

/* Writes the set positions below size, ascending, to out. */
static void bits_list(const uint64_t *bits, size_t size, uint32_t *out)
{
    size_t k = 0;
    for (size_t w = 0; w <= size / 64; w++)
        for (uint64_t x = bits[w], b = 0; x != 0; x >>= 1, b++)
            if (x & 1)
                out[k++] = (uint32_t)(w * 64 + b); /* positions fit u32 */
}

/* ---- construction -------------------------------------------------------------- */

/* Builds the request over train from idx (n ascending positions, n < size),
 * taking ownership of idx whatever happens. */
static int request_new(fnn_forget_request **out, const fnn_dataset *train, uint32_t *idx,
                       size_t n, int kind, int32_t label, uint64_t seed, const char *what,
                       char *err, size_t err_size)
{
    size_t size = train->n; /* <= FNN__MAX_SAMPLES: the products below fit */
    fnn_forget_request *r = calloc(1, sizeof *r);
    uint32_t *all = malloc(size * sizeof *all);
    int rc = r && all ? FNN_OK : FNN_E_NOMEM;
    if (rc == FNN_OK) {
        for (size_t i = 0; i < size; i++)
            all[i] = (uint32_t)i;
        rc = fnn__dataset_view(train, all, size, &r->train);
    }
    free(all);
    if (rc != FNN_OK) {
        free(r);
        free(idx);
        return fnn__fail(err, err_size, FNN_E_NOMEM,
                         "%s: cannot allocate a view of %zu samples", what, size);
    }
    r->idx = idx;
    r->n = n;
    r->kind = kind;
    r->label = label;
    r->seed = seed;
    *out = r;
    return FNN_OK;
}

/* Builds the request from the positions set in bits (n of them, n < size),
 * freeing bits whatever happens. */
static int request_from_bits(fnn_forget_request **out, const fnn_dataset *train,
                             uint64_t *bits, size_t n, int kind, uint64_t seed,
                             const char *what, char *err, size_t err_size)
{
    uint32_t *idx = malloc(n * sizeof *idx); /* n < size <= FNN__MAX_SAMPLES */
    if (idx)
        bits_list(bits, train->n, idx);
    free(bits);
    if (!idx)
        return fnn__fail(err, err_size, FNN_E_NOMEM, "%s: cannot allocate %zu indices",
                         what, n);
    return request_new(out, train, idx, n, kind, -1, seed, what, err, err_size);
}

/* Checks the arguments every constructor shares; clears *out. */
static int check_common(fnn_forget_request **out, const fnn_dataset *train,
                        const char *what, char *err, size_t err_size)
{
    if (!out)
        return fnn__fail(err, err_size, FNN_E_NULL, "%s: out is NULL", what);
    *out = NULL;
    if (!train)
        return fnn__fail(err, err_size, FNN_E_NULL, "%s: train is NULL", what);
    if (!train->store->labels)
        return fnn__fail(err, err_size, FNN_E_STATE,
                         "%s: the training set has no labels (made for prediction only)",
                         what);
    return FNN_OK;
}

FNN_API int fnn_forget_request_from_indices(fnn_forget_request **out, const fnn_dataset *train,
                                            const uint32_t *indices, size_t n, char *err,
                                            size_t err_size)
{
    static const char what[] = "request_from_indices";
    int rc = check_common(out, train, what, err, err_size);
    if (rc != FNN_OK)
        return rc;
    if (!indices)
        return fnn__fail(err, err_size, FNN_E_NULL, "%s: indices is NULL", what);
    if (n == 0)
        return fnn__fail(err, err_size, FNN_E_EMPTY, "%s: no indices (n is 0)", what);
    size_t size = train->n;
    for (size_t i = 0; i < n; i++)
        if (indices[i] >= size)
            return fnn__fail(err, err_size, FNN_E_RANGE,
                             "%s: index %lu at position %zu is >= size %zu", what,
                             (unsigned long)indices[i], i, size);
    uint64_t *bits = bits_new(size);
    if (!bits)
        return fnn__fail(err, err_size, FNN_E_NOMEM, "%s: cannot allocate %zu bits", what,
                         size);
    /* With every index in range, n > size implies a repeat within size + 1. */
    for (size_t i = 0; i < n; i++) {
        if (!bits_test_set(bits, indices[i]))
            continue;
        size_t first = 0;
        while (indices[first] != indices[i])
            first++;
        free(bits);
        return fnn__fail(err, err_size, FNN_E_DUPLICATE,
                         "%s: index %lu appears at positions %zu and %zu", what,
                         (unsigned long)indices[i], first, i);
    }
    if (n == size) {
        free(bits);
        return fnn__fail(err, err_size, FNN_E_EMPTY,
                         "%s: all %zu samples would be forgotten; nothing would be retained",
                         what, size);
    }
    return request_from_bits(out, train, bits, n, FNN_REQUEST_INDICES, 0, what, err,
                             err_size);
}

FNN_API int fnn_forget_request_from_class(fnn_forget_request **out, const fnn_dataset *train,
                                          int32_t label, char *err, size_t err_size)
{
    static const char what[] = "request_from_class";
    int rc = check_common(out, train, what, err, err_size);
    if (rc != FNN_OK)
        return rc;
    uint32_t classes = train->store->num_classes;
    if (label < 0 || (uint32_t)label >= classes)
        return fnn__fail(err, err_size, FNN_E_RANGE, "%s: label %ld is outside [0, %lu)",
                         what, (long)label, (unsigned long)classes);
    const int32_t *labels = train->store->labels;
    size_t size = train->n, n = 0;
    for (size_t i = 0; i < size; i++)
        n += labels[fnn__ds_at(train, i)] == label;
    if (n == 0 || n == size)
        return fnn__fail(err, err_size, FNN_E_EMPTY,
                         n == 0 ? "%s: none of the %zu samples has label %ld"
                                : "%s: all %zu samples have label %ld; nothing would be "
                                  "retained",
                         what, size, (long)label);
    uint32_t *idx = malloc(n * sizeof *idx); /* n < size <= FNN__MAX_SAMPLES */
    if (!idx)
        return fnn__fail(err, err_size, FNN_E_NOMEM, "%s: cannot allocate %zu indices",
                         what, n);
    for (size_t i = 0, k = 0; i < size; i++)
        if (labels[fnn__ds_at(train, i)] == label)
            idx[k++] = (uint32_t)i;
    return request_new(out, train, idx, n, FNN_REQUEST_CLASS, label, 0, what, err, err_size);
}

FNN_API int fnn_forget_request_random(fnn_forget_request **out, const fnn_dataset *train,
                                      size_t count, uint64_t seed, char *err, size_t err_size)
{
    static const char what[] = "request_random";
    int rc = check_common(out, train, what, err, err_size);
    if (rc != FNN_OK)
        return rc;
    size_t size = train->n;
    if (count == 0)
        return fnn__fail(err, err_size, FNN_E_EMPTY, "%s: count is 0", what);
    if (count >= size)
        return fnn__fail(err, err_size, FNN_E_RANGE,
                         "%s: count %zu is not below the size %zu; nothing would be retained",
                         what, count, size);
    uint64_t *bits = bits_new(size);
    if (!bits)
        return fnn__fail(err, err_size, FNN_E_NOMEM, "%s: cannot allocate %zu bits", what,
                         size);
    /* Floyd's algorithm: every count-subset of 0..size-1 equally likely, with
     * count draws and no array of size entries. */
    fnn__rng rng;
    fnn__rng_seed(&rng, seed);
    for (size_t j = size - count; j < size; j++)
        if (bits_test_set(bits, (size_t)fnn__rng_below(&rng, (uint64_t)j + 1)))
            bits_test_set(bits, j);
    return request_from_bits(out, train, bits, count, FNN_REQUEST_RANDOM, seed, what, err,
                             err_size);
}

/* ---- index lists as text ------------------------------------------------------------ */

enum { TOKEN_SHOWN = 24 }; /* bytes of a bad token a message shows */

/* Writes the first TOKEN_SHOWN bytes of a token of `len` bytes into buf,
 * unprintable bytes as '?', and "..." when the token is longer. */
static void token_text(const char *tok, size_t len, char buf[TOKEN_SHOWN + 4])
{
    size_t k = 0;
    for (; k < len && k < TOKEN_SHOWN; k++)
        buf[k] = (tok[k] >= 0x20 && tok[k] < 0x7f) ? tok[k] : '?';
    strcpy(buf + k, len > TOKEN_SHOWN ? "..." : "");
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int fnn__parse_indices(const char *text, size_t len, uint32_t **out, size_t *count, char *err,
                       size_t err_size)
{
    *out = NULL;
    *count = 0;
    uint32_t *idx = NULL;
    size_t n = 0, cap = 0, line = 1;
    char shown[TOKEN_SHOWN + 4];
    for (size_t i = 0; i < len;) {
        char c = text[i];
        if (c == '#') {
            while (i < len && text[i] != '\n')
                i++;
            continue;
        }
        if (is_space(c)) {
            line += c == '\n';
            i++;
            continue;
        }
        size_t start = i;
        uint64_t value = 0;
        int digits = 1;
        for (; i < len && !is_space(text[i]) && text[i] != '#'; i++) {
            if (text[i] >= '0' && text[i] <= '9') {
                value = value * 10 + (uint64_t)(text[i] - '0');
                if (value > UINT32_MAX)
                    value = (uint64_t)UINT32_MAX + 1; /* stays too large */
            } else {
                digits = 0;
            }
        }
        token_text(text + start, i - start, shown);
        if (!digits) {
            free(idx);
            return fnn__fail(err, err_size, FNN_E_FORMAT, "line %zu: '%s' is not a decimal index",
                             line, shown);
        }
        if (value > UINT32_MAX) {
            free(idx);
            return fnn__fail(err, err_size, FNN_E_FORMAT, "line %zu: %s is larger than %lu",
                             line, shown, (unsigned long)UINT32_MAX);
        }
        if (n == cap) {
            size_t next = cap ? 2 * cap : 1024;
            uint32_t *grown =
                next <= SIZE_MAX / sizeof *idx ? realloc(idx, next * sizeof *idx) : NULL;
            if (!grown) {
                free(idx);
                return fnn__fail(err, err_size, FNN_E_NOMEM, "line %zu: no memory for %zu indices",
                                 line, next);
            }
            idx = grown;
            cap = next;
        }
        idx[n++] = (uint32_t)value;
    }
    if (n == 0) {
        free(idx);
        return fnn__fail(err, err_size, FNN_E_EMPTY, "no indices in the text");
    }
    *out = idx;
    *count = n;
    return FNN_OK;
}

FNN_API int fnn_forget_request_from_index_text(fnn_forget_request **out,
                                               const fnn_dataset *train, const char *text,
                                               size_t len, char *err, size_t err_size)
{
    static const char what[] = "request_from_index_text";
    int rc = check_common(out, train, what, err, err_size);
    if (rc != FNN_OK)
        return rc;
    if (!text)
        return fnn__fail(err, err_size, FNN_E_NULL, "%s: text is NULL", what);
    uint32_t *idx;
    size_t n;
    if ((rc = fnn__parse_indices(text, len, &idx, &n, err, err_size)) != FNN_OK)
        return rc;
    rc = fnn_forget_request_from_indices(out, train, idx, n, err, err_size);
    free(idx);
    return rc;
}

/* ---- queries ---------------------------------------------------------------------- */

FNN_API void fnn_forget_request_free(fnn_forget_request *r)
{
    if (!r)
        return;
    fnn_dataset_free(r->train);
    free(r->idx);
    free(r);
}

FNN_API size_t fnn_forget_request_size(const fnn_forget_request *r)
{
    return r ? r->n : 0;
}

FNN_API int fnn_forget_request_kind(const fnn_forget_request *r)
{
    return r ? r->kind : FNN_E_NULL;
}

FNN_API int fnn_forget_request_class(const fnn_forget_request *r, int32_t *label)
{
    if (!r || !label)
        return FNN_E_NULL;
    if (r->kind != FNN_REQUEST_CLASS)
        return FNN_E_STATE;
    *label = r->label;
    return FNN_OK;
}

FNN_API int fnn_forget_request_indices(const fnn_forget_request *r, uint32_t *out, size_t n)
{
    if (!r || !out)
        return FNN_E_NULL;
    if (n < r->n)
        return FNN_E_SHAPE;
    memcpy(out, r->idx, r->n * sizeof *out);
    return FNN_OK;
}

FNN_API int fnn_forget_request_forget_set(const fnn_forget_request *r, fnn_dataset **out)
{
    if (out)
        *out = NULL;
    if (!r || !out)
        return FNN_E_NULL;
    return fnn__dataset_view(r->train, r->idx, r->n, out);
}

FNN_API int fnn_forget_request_retain_set(const fnn_forget_request *r, fnn_dataset **out)
{
    if (out)
        *out = NULL;
    if (!r || !out)
        return FNN_E_NULL;
    size_t size = r->train->n, m = size - r->n; /* constructors keep m >= 1 */
    uint32_t *keep = malloc(m * sizeof *keep);
    if (!keep)
        return FNN_E_NOMEM;
    /* One merge pass: the positions of 0..size-1 that idx (ascending) skips. */
    for (size_t i = 0, j = 0, k = 0; i < size; i++) {
        if (j < r->n && r->idx[j] == i)
            j++;
        else
            keep[k++] = (uint32_t)i;
    }
    int rc = fnn__dataset_view(r->train, keep, m, out);
    free(keep);
    return rc;
}

FNN_API int fnn_forget_request_digest(const fnn_forget_request *r, uint8_t *digest)
{
    if (!r || !digest)
        return FNN_E_NULL;
    fnn__sha256 h;
    fnn__sha256_init(&h);
    for (size_t i = 0; i < r->n; i++) {
        uint8_t le[4] = {(uint8_t)r->idx[i], (uint8_t)(r->idx[i] >> 8),
                         (uint8_t)(r->idx[i] >> 16), (uint8_t)(r->idx[i] >> 24)};
        fnn__sha256_update(&h, le, 4);
    }
    fnn__sha256_final(&h, digest);
    return FNN_OK;
}
