/* Model handles: creation, parameters, workspace, accessors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void *fnn__alloc_floats(size_t n)
{
    size_t bytes;
    if (fnn__mul(n ? n : 1, sizeof(float), &bytes) || fnn__add(bytes, 63, &bytes))
        return NULL;
    bytes &= ~(size_t)63;
    void *p = aligned_alloc(64, bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}

static int is_forgetting_layer(const fnn__layer *L)
{
    return L->kind == FNN__L_DENSE;
}

/* Sets every layer's parameter counts and offsets; returns the total. */
static size_t layout_params(fnn__spec *spec)
{
    size_t total = 0;
    for (size_t i = 0; i < spec->n_layers; i++) {
        fnn__layer *L = &spec->layers[i];
        L->n_w = L->n_b = 0;
        if (L->kind == FNN__L_DENSE) {
            L->n_w = (size_t)L->units * L->in_dim;
            L->n_b = L->units;
        } else if (L->kind == FNN__L_CONV2D) {
            L->n_w = (size_t)L->units * L->k * L->k * L->in_c;
            L->n_b = L->units;
        }
        L->w_off = total;
        L->b_off = total + L->n_w;
        /* Each layer is below 2^16 * 2^26 elements, so the sum cannot wrap. */
        total += L->n_w + L->n_b;
    }
    return total;
}

size_t fnn__spec_num_params(fnn__spec *spec)
{
    return layout_params(spec);
}

int fnn__model_alloc(fnn__spec *spec, fnn_model **out, char *err, size_t err_size)
{
    *out = NULL;
    size_t total = layout_params(spec);
    if (total > FNN__MAX_PARAMS)
        return fnn__fail(err, err_size, FNN_E_SPEC, "model has %zu parameters, more than %zu",
                         total, FNN__MAX_PARAMS);
    size_t need = fnn__spec_format(spec, NULL, 0) + 1;
    if (need > FNN__MAX_SPEC + 1)
        return fnn__fail(err, err_size, FNN_E_SPEC,
                         "canonical specification is %zu bytes, longer than %u", need - 1,
                         FNN__MAX_SPEC);
    fnn_model *m = calloc(1, sizeof *m);
    if (!m)
        return fnn__fail(err, err_size, FNN_E_NOMEM, "out of memory allocating model");
    m->n_params = total;
    m->params = fnn__alloc_floats(total);
    m->spec_text = malloc(need);
    int ok = m->params && m->spec_text;
    for (size_t i = 0; ok && i < spec->n_layers; i++) {
        fnn__layer *L = &spec->layers[i];
        L->tau = L->decay = NULL;
        L->decay_on = 0;
        if (is_forgetting_layer(L)) {
            L->tau = malloc(L->units * sizeof(float));
            L->decay = malloc(L->units * sizeof(float));
            if (!L->tau || !L->decay) {
                ok = 0;
                break;
            }
            for (uint32_t j = 0; j < L->units; j++) {
                L->tau[j] = INFINITY;
                L->decay[j] = 1.0f;
            }
        }
    }
    if (!ok) {
        for (size_t i = 0; i < spec->n_layers; i++) {
            free(spec->layers[i].tau);
            free(spec->layers[i].decay);
            spec->layers[i].tau = spec->layers[i].decay = NULL;
        }
        free(m->params);
        free(m->spec_text);
        free(m);
        return fnn__fail(err, err_size, FNN_E_NOMEM, "out of memory allocating %zu parameters",
                         total);
    }
    fnn__spec_format(spec, m->spec_text, need);
    m->spec = *spec;
    memset(spec, 0, sizeof *spec);
    m->num_classes = m->spec.layers[m->spec.n_layers - 1].units;
    fnn__rng_seed(&m->rng, 0);
    *out = m;
    return FNN_OK;
}

void fnn__model_init_params(fnn_model *m, uint64_t seed)
{
    fnn__rng r;
    fnn__rng_seed(&r, seed);
    for (size_t i = 0; i < m->spec.n_layers; i++) {
        const fnn__layer *L = &m->spec.layers[i];
        if (!L->n_w)
            continue;
        size_t fan_in = L->n_w / L->units;
        float bound = 1.0f / sqrtf((float)fan_in);
        float *w = m->params + L->w_off;
        for (size_t j = 0; j < L->n_w + L->n_b; j++)
            w[j] = (2.0f * fnn__rng_float(&r) - 1.0f) * bound;
    }
}

FNN_API int fnn_model_create(fnn_model **out, const char *spec, uint64_t seed, char *err,
                             size_t err_size)
{
    if (!out)
        return fnn__fail(err, err_size, FNN_E_NULL, "out is NULL");
    *out = NULL;
    fnn__spec s;
    int rc = fnn__spec_parse(spec, &s, err, err_size);
    if (rc != FNN_OK)
        return rc;
    fnn_model *m;
    rc = fnn__model_alloc(&s, &m, err, err_size);
    if (rc != FNN_OK) {
        fnn__spec_free(&s);
        return rc;
    }
    fnn__model_init_params(m, seed);
    *out = m;
    return FNN_OK;
}

void fnn__model_release_ws(fnn_model *m)
{
    fnn__ws *ws = &m->ws;
    size_t nl = m->spec.n_layers;
    if (ws->act)
        for (size_t i = 0; i <= nl; i++)
            free(ws->act[i]);
    if (ws->col)
        for (size_t i = 0; i < nl; i++)
            free(ws->col[i]);
    if (ws->xt)
        for (size_t i = 0; i < nl; i++)
            free(ws->xt[i]);
    free(ws->xt);
    free(ws->xin);
    if (ws->arg)
        for (size_t i = 0; i < nl; i++)
            free(ws->arg[i]);
    if (ws->mask)
        for (size_t i = 0; i < nl; i++)
            free(ws->mask[i]);
    free(ws->act);
    free(ws->cur);
    free(ws->col);
    free(ws->arg);
    free(ws->mask);
    free(ws->grad_a);
    free(ws->grad_b);
    free(ws->y);
    free(ws->pred);
    free(ws->loss);
    free(ws->order);
    free(m->grads);
    free(m->opt_m);
    free(m->opt_v);
    m->grads = m->opt_m = m->opt_v = NULL;
    memset(ws, 0, sizeof *ws);
}

FNN_API void fnn_model_free(fnn_model *m)
{
    if (!m)
        return;
    fnn__model_release_ws(m);
    for (size_t i = 0; i < m->spec.n_layers; i++) {
        free(m->spec.layers[i].tau);
        free(m->spec.layers[i].decay);
    }
    fnn__spec_free(&m->spec);
    free(m->params);
    free(m->spec_text);
    free(m);
}

/* Layers whose output is their input (no buffer of their own). */
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


int fnn__model_reserve(fnn_model *m, size_t batch, int training)
{
    fnn__ws *ws = &m->ws;
    if (ws->batch >= batch && (!training || m->grads))
        return FNN_OK;
    if (ws->batch > batch)
        batch = ws->batch;
    fnn__model_release_ws(m);
    size_t nl = m->spec.n_layers;
    const fnn__spec *s = &m->spec;
    size_t in_dim = (size_t)s->in_h * s->in_w * s->in_c;
    size_t max_dim = in_dim;
    ws->act = calloc(nl + 1, sizeof *ws->act);
    ws->cur = calloc(nl + 1, sizeof *ws->cur);
    ws->col = calloc(nl, sizeof *ws->col);
    ws->xt = calloc(nl, sizeof *ws->xt);
    ws->arg = calloc(nl, sizeof *ws->arg);
    ws->mask = calloc(nl, sizeof *ws->mask);
    int ok = ws->act && ws->cur && ws->col && ws->xt && ws->arg && ws->mask;
    size_t sz;
    if (ok)
        ok = !fnn__mul(batch, in_dim, &sz) && (ws->act[0] = fnn__alloc_floats(sz)) &&
             (!s->input_to_cm || (ws->xin = fnn__alloc_floats(sz)));
    for (size_t i = 0; ok && i < nl; i++) {
        const fnn__layer *L = &s->layers[i];
        if (L->out_dim > max_dim)
            max_dim = L->out_dim;
        if (!fnn__layer_fused(s, i)) {
            ok = !fnn__mul(batch, L->out_dim, &sz) && (ws->act[i + 1] = fnn__alloc_floats(sz));
        }
        if (ok && L->kind == FNN__L_CONV2D) {
            size_t rows = (size_t)L->out_h * L->out_w, kkc = (size_t)L->k * L->k * L->in_c;
            ok = !fnn__mul(batch, rows, &sz) && !fnn__mul(sz, kkc, &sz) &&
                 (ws->col[i] = fnn__alloc_floats(sz));
        }
        if (ok && L->kind == FNN__L_DENSE && L->in_cm && L->cm_c > 1)
            ok = !fnn__mul(batch, L->in_dim, &sz) && (ws->xt[i] = fnn__alloc_floats(sz));
        if (ok && L->kind == FNN__L_MAXPOOL)
            ok = !fnn__mul(batch, L->out_dim, &sz) && !fnn__mul(sz, sizeof(uint32_t), &sz) &&
                 (ws->arg[i] = malloc(sz));
        if (ok && training && L->kind == FNN__L_DROPOUT)
            ok = !fnn__mul(batch, L->out_dim, &sz) && (ws->mask[i] = fnn__alloc_floats(sz));
    }
    if (ok && training) {
        ok = !fnn__mul(batch, max_dim, &sz) && (ws->grad_a = fnn__alloc_floats(sz)) &&
             (ws->grad_b = fnn__alloc_floats(sz)) &&
             (m->grads = fnn__alloc_floats(m->n_params)) &&
             (m->opt_m = fnn__alloc_floats(m->n_params)) &&
             (m->opt_v = fnn__alloc_floats(m->n_params));
    }
    if (ok)
        ok = (ws->y = calloc(batch, sizeof *ws->y)) && (ws->pred = calloc(batch, sizeof *ws->pred)) &&
             (ws->loss = calloc(batch, sizeof(float)));
    if (!ok) {
        fnn__model_release_ws(m);
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM,
                         "out of memory sizing the workspace for batch %zu", batch);
    }
    ws->batch = batch;
    return FNN_OK;
}

FNN_API int fnn_model_clone(fnn_model *m, fnn_model **out)
{
    if (!out)
        return m ? fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NULL, "out is NULL")
                 : FNN_E_NULL;
    *out = NULL;
    if (!m)
        return FNN_E_NULL;
    fnn__spec s;
    int rc = fnn__spec_parse(m->spec_text, &s, m->errmsg, sizeof m->errmsg);
    fnn_model *c = NULL;
    if (rc == FNN_OK && (rc = fnn__model_alloc(&s, &c, m->errmsg, sizeof m->errmsg)) != FNN_OK)
        fnn__spec_free(&s);
    if (rc != FNN_OK)
        return rc;
    memcpy(c->params, m->params, m->n_params * sizeof(float));
    for (size_t i = 0; i < m->spec.n_layers; i++) {
        const fnn__layer *L = &m->spec.layers[i];
        fnn__layer *D = &c->spec.layers[i];
        if (L->tau) {
            memcpy(D->tau, L->tau, L->units * sizeof(float));
            memcpy(D->decay, L->decay, L->units * sizeof(float));
            D->decay_on = L->decay_on;
        }
    }
    c->t = m->t;
    c->rng = m->rng;
    *out = c;
    return FNN_OK;
}

void fnn__model_update_decay(fnn_model *m)
{
    float t = (float)m->t;
    for (size_t i = 0; i < m->spec.n_layers; i++) {
        fnn__layer *L = &m->spec.layers[i];
        if (!L->tau)
            continue;
        for (uint32_t j = 0; j < L->units; j++)
            L->decay[j] = expf(-t / L->tau[j]);
    }
}

int fnn__model_check_data(fnn_model *m, const fnn_dataset *ds, int need_labels)
{
    const fnn__store *st = ds->store;
    const fnn__spec *s = &m->spec;
    if (st->rows != s->in_h || st->cols != s->in_w || st->channels != s->in_c) {
        /* A vector input accepts any sample of the same total size. */
        int flat = s->in_w == 1 && s->in_c == 1 && st->dim == s->in_h;
        if (!flat)
            return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_SHAPE,
                             "data set samples are %ux%ux%u, the model expects %ux%ux%u",
                             st->rows, st->cols, st->channels, s->in_h, s->in_w, s->in_c);
    }
    if (ds->n == 0)
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_EMPTY, "data set is empty");
    if (need_labels && st->num_classes > m->num_classes)
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_RANGE,
                         "data set has %u classes, the model only %u", st->num_classes,
                         m->num_classes);
    return FNN_OK;
}

FNN_API const char *fnn_model_errmsg(const fnn_model *m)
{
    return m ? m->errmsg : "model handle is NULL";
}

FNN_API size_t fnn_model_spec(const fnn_model *m, char *buf, size_t size)
{
    if (!m)
        return 0;
    size_t len = strlen(m->spec_text);
    if (buf && size > 0) {
        size_t c = len < size ? len : size - 1;
        memcpy(buf, m->spec_text, c);
        buf[c] = '\0';
    }
    return len;
}

FNN_API size_t fnn_model_num_params(const fnn_model *m)
{
    return m ? m->n_params : 0;
}

FNN_API uint32_t fnn_model_num_classes(const fnn_model *m)
{
    return m ? m->num_classes : 0;
}

FNN_API int fnn_model_input_shape(const fnn_model *m, uint32_t *rows, uint32_t *cols,
                                  uint32_t *channels)
{
    if (!m)
        return FNN_E_NULL;
    if (rows)
        *rows = m->spec.in_h;
    if (cols)
        *cols = m->spec.in_w;
    if (channels)
        *channels = m->spec.in_c;
    return FNN_OK;
}

FNN_API int fnn_model_get_params(const fnn_model *m, float *out, size_t n)
{
    if (!m || !out)
        return FNN_E_NULL;
    if (n < m->n_params)
        return FNN_E_SHAPE;
    memcpy(out, m->params, m->n_params * sizeof(float));
    return FNN_OK;
}

FNN_API int fnn_model_set_params(fnn_model *m, const float *params, size_t n)
{
    if (!m)
        return FNN_E_NULL;
    if (!params)
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NULL, "params is NULL");
    if (n != m->n_params)
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_SHAPE,
                         "%zu parameters given, the model has %zu", n, m->n_params);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(params[i]))
            return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NUMERIC,
                             "parameter %zu is not finite", i);
    memcpy(m->params, params, n * sizeof(float));
    return FNN_OK;
}

FNN_API double fnn_model_flops_per_sample(const fnn_model *m, int training)
{
    if (!m)
        return 0.0;
    double fwd = 0.0, bwd = 0.0;
    int first = 1;
    for (size_t i = 0; i < m->spec.n_layers; i++) {
        const fnn__layer *L = &m->spec.layers[i];
        double macs = 0.0;
        if (L->kind == FNN__L_DENSE)
            macs = (double)L->n_w;
        else if (L->kind == FNN__L_CONV2D)
            macs = (double)L->n_w * L->out_h * L->out_w;
        if (macs == 0.0)
            continue;
        fwd += 2.0 * macs;
        /* Weight gradient always; input gradient except for the first layer. */
        bwd += 2.0 * macs * (first ? 1.0 : 2.0);
        first = 0;
    }
    return training ? fwd + bwd : fwd;
}

FNN_API int fnn_model_fold_input_normalization(fnn_model *m, const float *mean,
                                               const float *std, size_t channels)
{
    if (!m)
        return FNN_E_NULL;
    if (!mean || !std)
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NULL, "mean or std is NULL");
    size_t C = m->spec.in_c;
    if (channels != C)
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_SHAPE,
                         "%zu channels given, the model's input has %zu", channels, C);
    for (size_t c = 0; c < C; c++)
        if (!isfinite(mean[c]) || !isfinite(std[c]) || !(std[c] > 0.0f))
            return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_INVALID,
                             "channel %zu: mean %g, std %g (std must be > 0, both finite)", c,
                             (double)mean[c], (double)std[c]);
    /* Flatten and max pooling commute with a per-channel affine map whose
     * scale is positive, and keep the channels-last layout. */
    const fnn__layer *L = NULL;
    for (size_t i = 0; i < m->spec.n_layers && !L; i++) {
        const fnn__layer *K = &m->spec.layers[i];
        if (K->n_w)
            L = K;
        else if (K->kind != FNN__L_FLATTEN && K->kind != FNN__L_MAXPOOL)
            return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_STATE,
                             "layer %zu comes before the first weighted layer and does not "
                             "commute with normalisation",
                             i);
    }
    size_t row = L->n_w / L->units;
    float *w = m->params + L->w_off, *b = m->params + L->b_off;
    /* Which input channel weight j of a row reads: conv2d rows are
     * [c][ky][kx]; dense rows follow the input buffer, [c][plane] when it is
     * channel-major with several channels, else channels last. */
    size_t block = 0;
    if (L->kind == FNN__L_CONV2D)
        block = (size_t)L->k * L->k;
    else if (L->in_cm && L->cm_c > 1)
        block = L->cm_hw;
    for (uint32_t u = 0; u < L->units; u++) {
        float *wr = w + (size_t)u * row;
        double shift = 0.0;
        for (size_t j = 0; j < row; j++) {
            size_t c = block ? j / block : j % C;
            shift += (double)wr[j] * mean[c] / std[c];
            wr[j] /= std[c];
        }
        b[u] = (float)((double)b[u] - shift);
    }
    return FNN_OK;
}
