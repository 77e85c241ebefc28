/* Forward and backward passes and their workspaces, shared by training,
 * inference and ranking. A pass reads the model and writes only the
 * workspace it is given (and, backward, the gradient buffer), so read-only
 * passes on one model can run in several threads, each with its own
 * workspace. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "kernels.h"

/* ---- workspaces ---------------------------------------------------------------- */

void fnn__ws_release(const fnn_model *m, fnn__ws *ws)
{
    size_t nl = m->spec.n_layers;
    if (ws->act)
        for (size_t i = 0; i <= nl; i++)
            free(ws->act[i]);
    for (size_t i = 0; i < nl; i++) {
        if (ws->col)
            free(ws->col[i]);
        if (ws->xt)
            free(ws->xt[i]);
        if (ws->arg)
            free(ws->arg[i]);
        if (ws->mask)
            free(ws->mask[i]);
    }
    free(ws->act);
    free(ws->cur);
    free(ws->col);
    free(ws->xt);
    free(ws->xin);
    free(ws->arg);
    free(ws->mask);
    free(ws->grad_a);
    free(ws->grad_b);
    free(ws->y);
    free(ws->pred);
    free(ws->loss);
    memset(ws, 0, sizeof *ws);
}

int fnn__ws_reserve(const fnn_model *m, fnn__ws *ws, size_t batch, int training)
{
    if (ws->batch >= batch && (!training || ws->training))
        return FNN_OK;
    if (ws->batch > batch)
        batch = ws->batch;
    training = training || ws->training;
    fnn__ws_release(m, ws);
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
        if (!fnn__layer_fused(s, i))
            ok = !fnn__mul(batch, L->out_dim, &sz) && (ws->act[i + 1] = fnn__alloc_floats(sz));
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
    if (ok && training)
        ok = !fnn__mul(batch, max_dim, &sz) && (ws->grad_a = fnn__alloc_floats(sz)) &&
             (ws->grad_b = fnn__alloc_floats(sz));
    if (ok)
        ok = (ws->y = calloc(batch, sizeof *ws->y)) &&
             (ws->pred = calloc(batch, sizeof *ws->pred)) &&
             (ws->loss = calloc(batch, sizeof(float)));
    if (!ok) {
        fnn__ws_release(m, ws);
        return fnn__model_fail(m, FNN_E_NOMEM, "out of memory sizing a workspace for %zu samples",
                               batch);
    }
    ws->batch = batch;
    ws->training = training;
    return FNN_OK;
}

fnn__ws *fnn__ws_acquire(const fnn_model *m, size_t batch)
{
    fnn_model *mm = (fnn_model *)m; /* the cache slot is atomic: shared use is safe */
    fnn__ws *ws = atomic_exchange_explicit(&mm->ws_cache, NULL, memory_order_acquire);
    if (!ws && !(ws = calloc(1, sizeof *ws))) {
        fnn__model_fail(m, FNN_E_NOMEM, "out of memory for a workspace");
        return NULL;
    }
    if (fnn__ws_reserve(m, ws, batch, 0) != FNN_OK) {
        free(ws);
        return NULL;
    }
    ws->capture = NULL;
    ws->no_decay = 0;
    return ws;
}

void fnn__ws_give_back(const fnn_model *m, fnn__ws *ws)
{
    if (!ws)
        return;
    fnn_model *mm = (fnn_model *)m;
    fnn__ws *expected = NULL;
    if (atomic_compare_exchange_strong_explicit(&mm->ws_cache, &expected, ws,
                                                memory_order_release, memory_order_relaxed))
        return;
    fnn__ws_release(m, ws);
    free(ws);
}

void fnn__ws_cache_clear(fnn_model *m)
{
    fnn__ws *ws = atomic_exchange_explicit(&m->ws_cache, NULL, memory_order_acquire);
    if (ws) {
        fnn__ws_release(m, ws);
        free(ws);
    }
}

/* ---- forward ----------------------------------------------------------------- */

/* The decay factors layer L applies in this pass, or NULL. */
static const float *decay_of(const fnn_model *m, const fnn__ws *ws, const fnn__layer *L)
{
    if (L->fidx < 0 || ws->no_decay)
        return NULL;
    const fnn__flayer *F = &m->fl[L->fidx];
    return F->on ? F->decay : NULL;
}

/* The sample-major input of dense layer i (transposed from channel-major into
 * ws->xt[i] when the layer's input buffer is channel-major with channels > 1). */
static const float *dense_input(const fnn__ws *ws, const fnn__layer *L, size_t i,
                                size_t count)
{
    if (!ws->xt[i])
        return ws->cur[i];
    fnn__cm_to_sm(ws->cur[i], L->cm_c, count, L->cm_hw, ws->xt[i]);
    return ws->xt[i];
}

/* x = (x - mean[c]) * inv_std[c] over a channels-last batch, in place. */
static void normalize_input(const fnn_model *m, float *x, size_t count)
{
    const fnn__spec *s = &m->spec;
    size_t C = s->in_c, pixels = count * s->in_h * s->in_w;
    const float *mean = m->in_mean, *inv = m->in_inv_std;
    if (C == 1) {
        float mu = mean[0], k = inv[0];
        for (size_t j = 0; j < pixels; j++)
            x[j] = (x[j] - mu) * k;
        return;
    }
    for (size_t j = 0; j < pixels; j++)
        for (size_t c = 0; c < C; c++)
            x[j * C + c] = (x[j * C + c] - mean[c]) * inv[c];
}

float *fnn__forward(const fnn_model *m, fnn__ws *ws, size_t count, fnn__rng *rng)
{
    const fnn__spec *s = &m->spec;
    const int B = (int)count;
    const int training = rng != NULL;
    if (m->in_mean)
        normalize_input(m, ws->act[0], count);
    ws->cur[0] = ws->act[0];
    if (s->input_to_cm) {
        fnn__nhwc_to_cm(ws->act[0], count, (size_t)s->in_h * s->in_w, s->in_c, ws->xin);
        ws->cur[0] = ws->xin;
    }
    for (size_t i = 0; i < s->n_layers; i++) {
        const fnn__layer *L = &s->layers[i];
        float *x = ws->cur[i], *y = ws->act[i + 1];
        const float *W = m->params + L->w_off, *bias = m->params + L->b_off;
        switch (L->kind) {
        case FNN__L_DENSE: {
            int in = (int)L->in_dim, out = (int)L->units;
            fnn__gemm(m, 0, 1, B, out, in, 1.0f, dense_input(ws, L, i, count), in, W, in, 0.0f,
                      y, out);
            const float *f = decay_of(m, ws, L);
            if (ws->capture && ws->capture[i])
                fnn__bias_act_sum(y, count, L->units, bias, f, L->relu, ws->capture[i]);
            else
                fnn__bias_act(y, count, L->units, bias, f, L->relu);
            break;
        }
        case FNN__L_CONV2D: {
            /* Y[f][pixels] = W[f][c ky kx] col[c ky kx][pixels], channel-major. */
            int pixels = B * (int)(L->out_h * L->out_w);
            int kkc = (int)(L->k * L->k * L->in_c), f = (int)L->units;
            fnn__im2col_cm(x, count, L->in_c, L->in_h, L->in_w, L->k, ws->col[i]);
            fnn__gemm(m, 0, 0, f, pixels, kkc, 1.0f, W, kkc, ws->col[i], pixels, 0.0f, y,
                      pixels);
            fnn__bias_act_cm(y, L->units, (size_t)pixels, bias, L->relu);
            break;
        }
        case FNN__L_MAXPOOL:
            fnn__maxpool_cm(x, count * L->in_c, L->in_h, L->in_w, L->k, y,
                            training ? ws->arg[i] : NULL);
            break;
        case FNN__L_RELU:
            if (y)
                fnn__relu(y, x, count * L->in_dim);
            else
                y = x;
            break;
        case FNN__L_DROPOUT:
            if (training && L->p > 0.0f)
                fnn__dropout(x, y, ws->mask[i], count * L->in_dim, L->p, rng);
            else
                y = x;
            break;
        default: /* flatten */
            y = x;
            break;
        }
        ws->cur[i + 1] = y;
    }
    return ws->cur[s->n_layers];
}

/* ---- backward ---------------------------------------------------------------- */

/* Index of the first layer with parameters: no gradient flows below it. */
static size_t first_param_layer(const fnn__spec *s)
{
    for (size_t i = 0; i < s->n_layers; i++)
        if (s->layers[i].n_w)
            return i;
    return 0;
}

void fnn__backward(const fnn_model *m, fnn__ws *ws, size_t count, float *grads)
{
    const fnn__spec *s = &m->spec;
    const int B = (int)count;
    float *g = ws->grad_a, *other = ws->grad_b;
    size_t stop = first_param_layer(s);
    for (size_t i = s->n_layers; i-- > stop;) {
        const fnn__layer *L = &s->layers[i];
        const float *x = ws->cur[i], *y = ws->cur[i + 1];
        const float *W = m->params + L->w_off;
        float *dW = grads + L->w_off, *db = grads + L->b_off;
        int need_dx = i > stop;
        switch (L->kind) {
        case FNN__L_DENSE: {
            int in = (int)L->in_dim, out = (int)L->units;
            float *xt = ws->xt[i];
            fnn__act_grad_bias(g, y, count, L->units, decay_of(m, ws, L), L->relu, db);
            fnn__gemm(m, 1, 0, out, in, B, 1.0f, g, out, xt ? xt : ws->cur[i], in, 0.0f, dW,
                      in);
            if (need_dx) {
                /* A channel-major input gets its gradient transposed back. */
                fnn__gemm(m, 0, 0, B, in, out, 1.0f, g, out, W, in, 0.0f, xt ? xt : other, in);
                if (xt)
                    fnn__sm_to_cm(xt, L->cm_c, count, L->cm_hw, other);
            }
            break;
        }
        case FNN__L_CONV2D: {
            int pixels = B * (int)(L->out_h * L->out_w);
            int kkc = (int)(L->k * L->k * L->in_c), f = (int)L->units;
            fnn__act_grad_bias_cm(g, y, L->units, (size_t)pixels, L->relu, db);
            fnn__gemm(m, 0, 1, f, kkc, pixels, 1.0f, g, pixels, ws->col[i], pixels, 0.0f, dW,
                      kkc);
            if (need_dx) {
                fnn__gemm(m, 1, 0, kkc, pixels, f, 1.0f, W, kkc, g, pixels, 0.0f, ws->col[i],
                          pixels);
                fnn__col2im_cm(ws->col[i], count, L->in_c, L->in_h, L->in_w, L->k, other);
            }
            break;
        }
        case FNN__L_MAXPOOL:
            fnn__maxpool_grad_cm(g, ws->arg[i], count * L->in_c, (size_t)L->in_h * L->in_w,
                                 (size_t)L->out_h * L->out_w, other);
            break;
        case FNN__L_RELU:
            if (ws->act[i + 1])
                fnn__relu_grad(g, y, count * L->in_dim);
            continue;
        case FNN__L_DROPOUT:
            if (y != x)
                fnn__scale_inplace(g, ws->mask[i], count * L->in_dim);
            continue;
        default:
            continue;
        }
        if (need_dx) {
            float *t = g;
            g = other;
            other = t;
        }
    }
}
