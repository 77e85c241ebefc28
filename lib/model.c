/* Model handles: creation, parameters, workspace, accessors. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Serialises messages written by read-only calls that may run concurrently
 * (fnn__model_fail). One lock for the library: failures are rare and brief. */
static pthread_mutex_t msg_lock = PTHREAD_MUTEX_INITIALIZER;

int fnn__model_fail(const fnn_model *m, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&msg_lock);
    fnn__vfail((char *)m->errmsg, sizeof m->errmsg, code, fmt, ap);
    pthread_mutex_unlock(&msg_lock);
    va_end(ap);
    return code;
}

void fnn__model_errmsg_copy(const fnn_model *m, char *buf, size_t size)
{
    if (!buf || size == 0)
        return;
    pthread_mutex_lock(&msg_lock);
    snprintf(buf, size, "%s", m->errmsg);
    pthread_mutex_unlock(&msg_lock);
}

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

/* Frees the forgetting state of m (NULL-safe arrays). */
static void free_forgetting(fnn_model *m)
{
    for (size_t k = 0; m->fl && k < m->n_fl; k++) {
        free(m->fl[k].tau);
        free(m->fl[k].decay);
    }
    free(m->fl);
    m->fl = NULL;
    m->n_fl = 0;
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
    atomic_init(&m->ws_cache, NULL);
    m->n_params = total;
    m->params = fnn__alloc_floats(total);
    m->spec_text = malloc(need);
    size_t nfl = 0;
    for (size_t i = 0; i < spec->n_layers; i++)
        nfl += spec->layers[i].fidx >= 0;
    m->fl = calloc(nfl ? nfl : 1, sizeof *m->fl);
    int ok = m->params && m->spec_text && m->fl;
    if (ok)
        m->n_fl = nfl;
    for (size_t i = 0; ok && i < spec->n_layers; i++) {
        const fnn__layer *L = &spec->layers[i];
        if (L->fidx < 0)
            continue;
        fnn__flayer *F = &m->fl[L->fidx];
        F->layer = i;
        F->units = L->units;
        F->tau = malloc(L->units * sizeof(float));
        F->decay = malloc(L->units * sizeof(float));
        if (!F->tau || !F->decay) {
            ok = 0;
            break;
        }
        for (uint32_t j = 0; j < L->units; j++) {
            F->tau[j] = INFINITY;
            F->decay[j] = 1.0f;
        }
    }
    if (!ok) {
        free_forgetting(m);
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
    /* No recipe yet: the options it would hold start at their defaults. */
    fnn_train_options d;
    fnn__train_options_init(&d);
    memcpy(m->recipe.v, d.v, sizeof m->recipe.v);
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
    m->recipe.has_init = 1;
    m->recipe.init_seed = seed;
    *out = m;
    return FNN_OK;
}

FNN_API void fnn_model_free(fnn_model *m)
{
    if (!m)
        return;
    fnn__ws_release(m, &m->ws);
    fnn__ws_cache_clear(m);
    free(m->grads);
    free(m->opt_m);
    free(m->opt_v);
    free(m->order);
    free(m->in_mean);
    free(m->in_inv_std);
    free(m->history);
    free_forgetting(m);
    fnn__spec_free(&m->spec);
    free(m->params);
    free(m->spec_text);
    free(m);
}

size_t fnn__infer_batch(const fnn_model *m)
{
    /* The largest per-sample buffer (an im2col matrix for convolutions)
     * sets the chunk, so that a workspace stays near 32 MB. */
    size_t widest = (size_t)m->spec.in_h * m->spec.in_w * m->spec.in_c;
    for (size_t i = 0; i < m->spec.n_layers; i++) {
        const fnn__layer *L = &m->spec.layers[i];
        size_t w = L->out_dim;
        if (L->kind == FNN__L_CONV2D)
            w = (size_t)L->out_h * L->out_w * L->k * L->k * L->in_c;
        if (w > widest)
            widest = w;
    }
    size_t chunk = ((size_t)1 << 23) / (widest ? widest : 1);
    if (chunk > 256)
        chunk = 256;
    if (chunk > 8)
        chunk &= ~(size_t)7;
    return chunk ? chunk : 1;
}

int fnn__model_copy_records(fnn_model *dst, const fnn_model *src)
{
    fnn__history_rec *h = NULL;
    if (src->n_history) {
        h = malloc(src->n_history * sizeof *h);
        if (!h)
            return FNN_E_NOMEM;
        memcpy(h, src->history, src->n_history * sizeof *h);
    }
    free(dst->history);
    dst->history = h;
    dst->n_history = src->n_history;
    dst->recipe = src->recipe;
    return FNN_OK;
}

int fnn__history_append(fnn_model *m, const fnn__history_rec *rec)
{
    if (m->n_history >= FNN__MAX_HISTORY)
        return FNN_E_RANGE;
    fnn__history_rec *h = realloc(m->history, (m->n_history + 1) * sizeof *h);
    if (!h)
        return FNN_E_NOMEM;
    m->history = h;
    m->history[m->n_history++] = *rec;
    return FNN_OK;
}

FNN_API size_t fnn_model_history_count(const fnn_model *m)
{
    return m ? m->n_history : 0;
}

FNN_API int fnn_model_history_get(const fnn_model *m, size_t i, int key, double *value)
{
    if (!m || !value)
        return FNN_E_NULL;
    if (i >= m->n_history)
        return FNN_E_RANGE;
    if (key < 0 || key >= FNN__HISTORY_NKEYS)
        return FNN_E_INVALID;
    *value = m->history[i].v[key];
    return FNN_OK;
}

FNN_API int fnn_model_history_digest(const fnn_model *m, size_t i, uint8_t *digest)
{
    if (!m || !digest)
        return FNN_E_NULL;
    if (i >= m->n_history)
        return FNN_E_RANGE;
    memcpy(digest, m->history[i].digest, 32);
    return FNN_OK;
}

FNN_API const char *fnn_model_history_version(const fnn_model *m, size_t i)
{
    return m && i < m->n_history ? m->history[i].version : NULL;
}

int fnn__model_params_finite(const fnn_model *m)
{
    for (size_t i = 0; i < m->n_params; i++)
        if (!isfinite(m->params[i]))
            return 0;
    return 1;
}

FNN_API int fnn_model_clone(const fnn_model *m, fnn_model **out)
{
    if (!out)
        return m ? fnn__model_fail(m, FNN_E_NULL, "out is NULL") : FNN_E_NULL;
    *out = NULL;
    if (!m)
        return FNN_E_NULL;
    char msg[FNN__ERRMSG_SIZE] = "";
    fnn__spec s;
    int rc = fnn__spec_parse(m->spec_text, &s, msg, sizeof msg);
    fnn_model *c = NULL;
    if (rc == FNN_OK && (rc = fnn__model_alloc(&s, &c, msg, sizeof msg)) != FNN_OK)
        fnn__spec_free(&s);
    if (rc != FNN_OK)
        return fnn__model_fail(m, rc, "%s", msg);
    memcpy(c->params, m->params, m->n_params * sizeof(float));
    for (size_t k = 0; k < m->n_fl; k++) {
        const fnn__flayer *F = &m->fl[k];
        memcpy(c->fl[k].tau, F->tau, F->units * sizeof(float));
        memcpy(c->fl[k].decay, F->decay, F->units * sizeof(float));
        c->fl[k].on = F->on;
    }
    c->t = m->t;
    c->rng = m->rng;
    if (fnn__model_copy_records(c, m) != FNN_OK) {
        fnn_model_free(c);
        return fnn__model_fail(m, FNN_E_NOMEM, "out of memory copying the model's records");
    }
    *out = c;
    return FNN_OK;
}

void fnn__model_update_decay(fnn_model *m)
{
    float t = (float)m->t;
    for (size_t k = 0; k < m->n_fl; k++) {
        fnn__flayer *F = &m->fl[k];
        for (uint32_t j = 0; j < F->units; j++)
            F->decay[j] = expf(-t / F->tau[j]);
    }
}

int fnn__model_check_data(const fnn_model *m, const fnn_dataset *ds, int need_labels)
{
    const fnn__store *st = ds->store;
    const fnn__spec *s = &m->spec;
    if (st->rows != s->in_h || st->cols != s->in_w || st->channels != s->in_c) {
        /* A vector input accepts any sample of the same total size. */
        int flat = s->in_w == 1 && s->in_c == 1 && st->dim == s->in_h;
        if (!flat)
            return fnn__model_fail(m, FNN_E_SHAPE,
                             "data set samples are %ux%ux%u, the model expects %ux%ux%u",
                             st->rows, st->cols, st->channels, s->in_h, s->in_w, s->in_c);
    }
    if (ds->n == 0)
        return fnn__model_fail(m, FNN_E_EMPTY, "data set is empty");
    if (need_labels && !st->labels)
        return fnn__model_fail(m, FNN_E_STATE,
                               "the data set has no labels (made for prediction only)");
    if (need_labels && st->num_classes > m->num_classes)
        return fnn__model_fail(m, FNN_E_RANGE,
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

int fnn__fold_target(fnn_model *m, const fnn__layer **out)
{
    /* Flatten and max pooling commute with a per-channel affine map whose
     * scale is positive, and keep the channels-last layout. The last layer is
     * dense, so there is a weighted layer. */
    *out = NULL;
    for (size_t i = 0; i < m->spec.n_layers && !*out; i++) {
        const fnn__layer *K = &m->spec.layers[i];
        if (K->n_w)
            *out = K;
        else if (K->kind != FNN__L_FLATTEN && K->kind != FNN__L_MAXPOOL)
            return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_STATE,
                             "layer %zu comes before the first weighted layer and does not "
                             "commute with normalisation",
                             i);
    }
    return FNN_OK;
}

int fnn__fold_normalization(fnn_model *m, const float *mean, const float *std)
{
    size_t C = m->spec.in_c;
    const fnn__layer *L;
    int rc = fnn__fold_target(m, &L);
    if (rc != FNN_OK)
        return rc;
    size_t row = L->n_w / L->units;
    /* The folded layer is computed aside and checked before it replaces the
     * old one, so a normalisation that overflows changes nothing. */
    float *w = fnn__alloc_floats(L->n_w + L->n_b);
    if (!w)
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM,
                         "out of memory folding the input normalisation");
    float *b = w + L->n_w;
    memcpy(w, m->params + L->w_off, (L->n_w + L->n_b) * sizeof(float));
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
    for (size_t j = 0; j < L->n_w + L->n_b; j++)
        if (!isfinite(w[j])) {
            const char *what = isnan(w[j]) ? "NaN" : "infinite";
            free(w);
            return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NUMERIC,
                             "folding the normalisation makes parameter %zu of layer %zu "
                             "%s; nothing changed",
                             j, (size_t)(L - m->spec.layers), what);
        }
    memcpy(m->params + L->w_off, w, (L->n_w + L->n_b) * sizeof(float));
    free(w);
    return FNN_OK;
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
    return fnn__fold_normalization(m, mean, std);
}
