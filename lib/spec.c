/* Model specification strings: presets, parsing, shape checks, canonical text. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"


void fnn__spec_free(fnn__spec *s)
{
    if (!s)
        return;
    free(s->layers);
    s->layers = NULL;
    s->n_layers = 0;
}

/* Parses an unsigned decimal in [lo, hi] from [p, end). */
static int parse_u32(const char *p, const char *end, uint32_t lo, uint32_t hi, uint32_t *v)
{
    if (p == end)
        return -1;
    uint64_t x = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        x = x * 10 + (uint64_t)(*p - '0');
        if (x > hi)
            return -1;
    }
    if (x < lo)
        return -1;
    *v = (uint32_t)x;
    return 0;
}

static int parse_prob(const char *p, const char *end, float *v)
{
    char tmp[32];
    size_t len = (size_t)(end - p);
    if (len == 0 || len >= sizeof tmp)
        return -1;
    memcpy(tmp, p, len);
    tmp[len] = '\0';
    char *e;
    errno = 0;
    double d = strtod(tmp, &e);
    if (errno || *e || !(d >= 0.0 && d < 1.0))
        return -1;
    *v = (float)d;
    return 0;
}

/* Splits token [p, end) at ':' into at most 3 fields. */
static size_t split_fields(const char *p, const char *end, const char **fs, const char **fe)
{
    size_t n = 0;
    const char *s = p;
    for (const char *q = p;; q++) {
        if (q == end || *q == ':') {
            if (n < 3) {
                fs[n] = s;
                fe[n] = q;
            }
            n++;
            if (q == end)
                break;
            s = q + 1;
        }
    }
    return n;
}

static int field_is(const char *s, const char *e, const char *word)
{
    size_t len = strlen(word);
    return (size_t)(e - s) == len && memcmp(s, word, len) == 0;
}

/* Resolves output shapes of layer L from its input shape. */
static int layer_shapes(fnn__layer *L, char *err, size_t err_size, size_t idx)
{
    L->in_dim = (size_t)L->in_h * L->in_w * L->in_c;
    switch (L->kind) {
    case FNN__L_DENSE:
        L->out_h = L->units;
        L->out_w = 1;
        L->out_c = 1;
        break;
    case FNN__L_CONV2D:
        if (L->k > L->in_h || L->k > L->in_w)
            return fnn__fail(err, err_size, FNN_E_SPEC,
                             "layer %zu: conv2d kernel %u does not fit input %ux%u", idx,
                             L->k, L->in_h, L->in_w);
        L->out_h = L->in_h - L->k + 1;
        L->out_w = L->in_w - L->k + 1;
        L->out_c = L->units;
        break;
    case FNN__L_MAXPOOL:
        if (L->k > L->in_h || L->k > L->in_w)
            return fnn__fail(err, err_size, FNN_E_SPEC,
                             "layer %zu: maxpool window %u does not fit input %ux%u", idx,
                             L->k, L->in_h, L->in_w);
        L->out_h = L->in_h / L->k;
        L->out_w = L->in_w / L->k;
        L->out_c = L->in_c;
        break;
    case FNN__L_FLATTEN:
        L->out_h = (uint32_t)L->in_dim;
        L->out_w = 1;
        L->out_c = 1;
        break;
    default: /* relu, dropout */
        L->out_h = L->in_h;
        L->out_w = L->in_w;
        L->out_c = L->in_c;
        break;
    }
    L->out_dim = (size_t)L->out_h * L->out_w * L->out_c;
    if (L->out_dim > FNN__MAX_FEATURES)
        return fnn__fail(err, err_size, FNN_E_SPEC,
                         "layer %zu: output of %zu elements exceeds the limit %u", idx,
                         L->out_dim, FNN__MAX_FEATURES);
    return FNN_OK;
}

/* Whether, in the layer list after "input:...", a conv2d or maxpool comes
 * before any dense or flatten layer. */
static int first_spatial_before_dense(const char *p, const char *end)
{
    const char *q = memchr(p, ',', (size_t)(end - p));
    while (q && q < end) {
        p = q + 1;
        if (!strncmp(p, "conv2d", 6) || !strncmp(p, "maxpool", 7))
            return 1;
        if (!strncmp(p, "dense", 5) || !strncmp(p, "flatten", 7))
            return 0;
        q = memchr(p, ',', (size_t)(end - p));
    }
    return 0;
}

int fnn__spec_parse(const char *text, fnn__spec *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    if (!text)
        return fnn__fail(err, err_size, FNN_E_NULL, "spec is NULL");
    /* Copy without spaces; expand a preset. */
    size_t tlen = strnlen(text, FNN__MAX_SPEC + 1);
    if (tlen > FNN__MAX_SPEC)
        return fnn__fail(err, err_size, FNN_E_SPEC, "spec longer than %u bytes",
                         FNN__MAX_SPEC);
    char buf[FNN__MAX_SPEC + 1];
    size_t blen = 0;
    for (size_t i = 0; i < tlen; i++)
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n')
            buf[blen++] = text[i];
    buf[blen] = '\0';
    const fnn__preset *preset = fnn__preset_find(buf);
    if (preset) {
        blen = strlen(preset->spec);
        memcpy(buf, preset->spec, blen + 1);
    }
    if (blen == 0)
        return fnn__fail(err, err_size, FNN_E_SPEC, "spec is empty");

    size_t cap = 1;
    for (size_t i = 0; i < blen; i++)
        cap += buf[i] == ',';
    if (cap > FNN__MAX_LAYERS + 1)
        return fnn__fail(err, err_size, FNN_E_SPEC, "more than %u layers", FNN__MAX_LAYERS);
    fnn__layer *layers = calloc(cap, sizeof *layers);
    if (!layers)
        return fnn__fail(err, err_size, FNN_E_NOMEM, "out of memory parsing spec");

    uint32_t h = 0, w = 0, c = 0;
    /* Physical layout while walking the layers (see fnn__layer.in_cm). */
    int cm = 0;
    uint32_t phys_c = 1, phys_hw = 1;
    size_t n = 0, idx = 0;
    int rc = FNN_OK;
    const char *p = buf, *bend = buf + blen;
    while (p <= bend) {
        const char *e = memchr(p, ',', (size_t)(bend - p));
        if (!e)
            e = bend;
        const char *fs[3], *fe[3];
        size_t nf = split_fields(p, e, fs, fe);
        int tok_len = (int)(e - p);
        if (idx == 0) {
            /* input:RxCxK or input:N */
            if (nf != 2 || !field_is(fs[0], fe[0], "input")) {
                rc = fnn__fail(err, err_size, FNN_E_SPEC,
                               "spec must start with input:RxCxK or input:N, got '%.*s'",
                               tok_len, p);
                goto fail;
            }
            uint32_t dims[3] = {1, 1, 1};
            size_t nd = 0;
            const char *s = fs[1];
            for (const char *q = fs[1];; q++) {
                if (q == fe[1] || *q == 'x') {
                    if (nd == 3 || parse_u32(s, q, 1, FNN__MAX_DIM, &dims[nd]) != 0) {
                        rc = fnn__fail(err, err_size, FNN_E_SPEC,
                                       "bad input shape '%.*s' (want RxCxK or N, each 1..%u)",
                                       (int)(fe[1] - fs[1]), fs[1], FNN__MAX_DIM);
                        goto fail;
                    }
                    nd++;
                    if (q == fe[1])
                        break;
                    s = q + 1;
                }
            }
            if (nd == 2) {
                rc = fnn__fail(err, err_size, FNN_E_SPEC,
                               "bad input shape '%.*s' (want RxCxK or N)",
                               (int)(fe[1] - fs[1]), fs[1]);
                goto fail;
            }
            h = dims[0];
            w = dims[1];
            c = dims[2];
            /* One channel: sample-major and channel-major are the same bytes.
             * Several: channel-major when the first layer that cares about
             * layout is conv2d or maxpool (then the input is transposed once). */
            cm = c == 1 || first_spatial_before_dense(buf, bend);
            out->input_to_cm = c > 1 && cm;
            phys_c = c;
            phys_hw = h * w;
            out->in_h = h;
            out->in_w = w;
            out->in_c = c;
            if ((uint64_t)h * w * c > FNN__MAX_FEATURES) {
                rc = fnn__fail(err, err_size, FNN_E_SPEC, "input of %llu elements exceeds %u",
                               (unsigned long long)h * w * c, FNN__MAX_FEATURES);
                goto fail;
            }
        } else {
            fnn__layer *L = &layers[n];
            memset(L, 0, sizeof *L);
            L->in_h = h;
            L->in_w = w;
            L->in_c = c;
            int ok = 0;
            if (nf == 2 && field_is(fs[0], fe[0], "dense")) {
                L->kind = FNN__L_DENSE;
                ok = parse_u32(fs[1], fe[1], 1, FNN__MAX_DIM, &L->units) == 0;
            } else if (nf == 3 && field_is(fs[0], fe[0], "conv2d")) {
                L->kind = FNN__L_CONV2D;
                ok = parse_u32(fs[1], fe[1], 1, FNN__MAX_DIM, &L->units) == 0 &&
                     parse_u32(fs[2], fe[2], 1, 64, &L->k) == 0;
            } else if (nf == 2 && field_is(fs[0], fe[0], "maxpool")) {
                L->kind = FNN__L_MAXPOOL;
                ok = parse_u32(fs[1], fe[1], 1, 64, &L->k) == 0;
            } else if (nf == 1 && field_is(fs[0], fe[0], "relu")) {
                L->kind = FNN__L_RELU;
                ok = 1;
            } else if (nf == 2 && field_is(fs[0], fe[0], "dropout")) {
                L->kind = FNN__L_DROPOUT;
                ok = parse_prob(fs[1], fe[1], &L->p) == 0;
            } else if (nf == 1 && field_is(fs[0], fe[0], "flatten")) {
                L->kind = FNN__L_FLATTEN;
                ok = 1;
            }
            if (!ok) {
                rc = fnn__fail(err, err_size, FNN_E_SPEC,
                               "layer %zu: cannot parse '%.*s' (dense:N, conv2d:F:K, "
                               "maxpool:K, relu, dropout:P, flatten)",
                               idx, tok_len, p);
                goto fail;
            }
            if (L->kind == FNN__L_DENSE) {
                L->in_h = (uint32_t)((size_t)h * w * c);
                L->in_w = 1;
                L->in_c = 1;
            }
            if ((rc = layer_shapes(L, err, err_size, idx)) != FNN_OK)
                goto fail;
            if ((L->kind == FNN__L_CONV2D || L->kind == FNN__L_MAXPOOL) && !cm) {
                /* Only a dense layer's output (one channel) gets here. */
                cm = 1;
                phys_c = L->in_c;
                phys_hw = L->in_h * L->in_w;
            }
            L->in_cm = cm;
            L->cm_c = phys_c;
            L->cm_hw = phys_hw;
            if (L->kind == FNN__L_CONV2D || L->kind == FNN__L_MAXPOOL) {
                phys_c = L->out_c;
                phys_hw = L->out_h * L->out_w;
            } else if (L->kind == FNN__L_DENSE) {
                cm = 0;
                phys_c = 1;
                phys_hw = L->units;
            }
            if (L->kind == FNN__L_RELU && n > 0 &&
                (layers[n - 1].kind == FNN__L_DENSE || layers[n - 1].kind == FNN__L_CONV2D) &&
                !layers[n - 1].relu)
                layers[n - 1].relu = 1;
            h = L->out_h;
            w = L->out_w;
            c = L->out_c;
            n++;
        }
        idx++;
        p = e + 1;
    }
    if (n == 0 || layers[n - 1].kind != FNN__L_DENSE) {
        rc = fnn__fail(err, err_size, FNN_E_SPEC,
                       "the last layer must be dense (its width is the number of classes)");
        goto fail;
    }
    if (layers[n - 1].units < 2) {
        rc = fnn__fail(err, err_size, FNN_E_SPEC, "the last dense layer needs >= 2 classes");
        goto fail;
    }
    for (size_t i = 0, k = 0; i < n; i++)
        layers[i].fidx = layers[i].kind == FNN__L_DENSE ? (int)k++ : -1;
    out->layers = layers;
    out->n_layers = n;
    return FNN_OK;
fail:
    free(layers);
    memset(out, 0, sizeof *out);
    return rc;
}

size_t fnn__spec_format(const fnn__spec *s, char *buf, size_t size)
{
    char tmp[64];
    size_t len = 0;
#define EMIT(str)                                                                          \
    do {                                                                                   \
        const char *e_ = (str);                                                            \
        size_t l_ = strlen(e_);                                                            \
        if (len < size)                                                                    \
            memcpy(buf + len, e_, (len + l_ < size) ? l_ : size - len);                    \
        len += l_;                                                                         \
    } while (0)
    if (s->in_w == 1 && s->in_c == 1)
        snprintf(tmp, sizeof tmp, "input:%u", s->in_h);
    else
        snprintf(tmp, sizeof tmp, "input:%ux%ux%u", s->in_h, s->in_w, s->in_c);
    EMIT(tmp);
    for (size_t i = 0; i < s->n_layers; i++) {
        const fnn__layer *L = &s->layers[i];
        switch (L->kind) {
        case FNN__L_DENSE: snprintf(tmp, sizeof tmp, ",dense:%u", L->units); break;
        case FNN__L_CONV2D: snprintf(tmp, sizeof tmp, ",conv2d:%u:%u", L->units, L->k); break;
        case FNN__L_MAXPOOL: snprintf(tmp, sizeof tmp, ",maxpool:%u", L->k); break;
        case FNN__L_RELU: snprintf(tmp, sizeof tmp, ",relu"); break;
        case FNN__L_DROPOUT: {
            /* The shortest text that reads back to the same float. */
            for (int prec = 1; prec <= 9; prec++) {
                snprintf(tmp, sizeof tmp, ",dropout:%.*g", prec, (double)L->p);
                if ((float)strtod(tmp + 9, NULL) == L->p)
                    break;
            }
            break;
        }
        default: snprintf(tmp, sizeof tmp, ",flatten"); break;
        }
        EMIT(tmp);
    }
#undef EMIT
    if (size > 0)
        buf[len < size ? len : size - 1] = '\0';
    return len;
}

int fnn__layer_fused(const fnn__spec *s, size_t i)
{
    const fnn__layer *L = &s->layers[i];
    if (L->kind == FNN__L_FLATTEN)
        return 1;
    if (L->kind == FNN__L_RELU && i > 0 && s->layers[i - 1].relu &&
        (s->layers[i - 1].kind == FNN__L_DENSE || s->layers[i - 1].kind == FNN__L_CONV2D))
        return 1;
    return 0;
}
