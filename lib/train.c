/* Forward and backward passes, optimizers, the training loop and its options. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "kernels.h"

/* ---- forward / backward -------------------------------------------------- */

/* The sample-major input of dense layer i (transposed from channel-major into
 * ws.xt[i] when the layer's input buffer is channel-major with channels > 1). */
static const float *dense_input(fnn_model *m, size_t i, size_t count)
{
    const fnn__layer *L = &m->spec.layers[i];
    if (!m->ws.xt[i])
        return m->ws.cur[i];
    fnn__cm_to_sm(m->ws.cur[i], L->cm_c, count, L->cm_hw, m->ws.xt[i]);
    return m->ws.xt[i];
}

const float *fnn__dense_input(fnn_model *m, size_t i)
{
    return m->ws.xt[i] ? m->ws.xt[i] : m->ws.cur[i];
}

float *fnn__forward(fnn_model *m, size_t count, int training)
{
    fnn__ws *ws = &m->ws;
    const fnn__spec *s = &m->spec;
    const int B = (int)count;
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
            fnn__gemm(m, 0, 1, B, out, in, 1.0f, dense_input(m, i, count), in, W, in, 0.0f, y,
                      out);
            if (m->capture && m->capture[i])
                fnn__bias_act_sum(y, count, L->units, bias, L->decay_on ? L->decay : NULL,
                                  L->relu, m->capture[i]);
            else
                fnn__bias_act(y, count, L->units, bias, L->decay_on ? L->decay : NULL,
                              L->relu);
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
                fnn__dropout(x, y, ws->mask[i], count * L->in_dim, L->p, &m->rng);
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

/* Index of the first layer with parameters: no gradient flows below it. */
static size_t first_param_layer(const fnn__spec *s)
{
    for (size_t i = 0; i < s->n_layers; i++)
        if (s->layers[i].n_w)
            return i;
    return 0;
}

void fnn__backward(fnn_model *m, size_t count)
{
    fnn__ws *ws = &m->ws;
    const fnn__spec *s = &m->spec;
    const int B = (int)count;
    float *g = ws->grad_a, *other = ws->grad_b;
    size_t stop = first_param_layer(s);
    for (size_t i = s->n_layers; i-- > stop;) {
        const fnn__layer *L = &s->layers[i];
        const float *x = ws->cur[i], *y = ws->cur[i + 1];
        const float *W = m->params + L->w_off;
        float *dW = m->grads + L->w_off, *db = m->grads + L->b_off;
        int need_dx = i > stop;
        switch (L->kind) {
        case FNN__L_DENSE: {
            int in = (int)L->in_dim, out = (int)L->units;
            float *xt = ws->xt[i];
            fnn__act_grad_bias(g, y, count, L->units, L->decay_on ? L->decay : NULL, L->relu,
                               db);
            fnn__gemm(m, 1, 0, out, in, B, 1.0f, g, out, fnn__dense_input(m, i), in, 0.0f, dW,
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

/* ---- options ------------------------------------------------------------- */

enum { N_KEYS = FNN_TRAIN_SHUFFLE + 1 };

struct fnn_train_options {
    double v[N_KEYS];
    fnn_progress_fn progress;
    void *user;
    char errmsg[FNN__ERRMSG_SIZE];
};

static const double defaults[N_KEYS] = {
    [FNN_TRAIN_EPOCHS] = 1,          [FNN_TRAIN_BATCH_SIZE] = 64,
    [FNN_TRAIN_OPTIMIZER] = FNN_OPTIMIZER_ADAM,
    [FNN_TRAIN_LEARNING_RATE] = 0.001, [FNN_TRAIN_MOMENTUM] = 0.9,
    [FNN_TRAIN_BETA1] = 0.9,         [FNN_TRAIN_BETA2] = 0.999,
    [FNN_TRAIN_EPSILON] = 1e-8,      [FNN_TRAIN_WEIGHT_DECAY] = 0.0,
    [FNN_TRAIN_LR_SCHEDULE] = FNN_LR_CONSTANT,
    [FNN_TRAIN_LR_STEP] = 1,         [FNN_TRAIN_LR_GAMMA] = 0.1,
    [FNN_TRAIN_SEED] = 0,            [FNN_TRAIN_SHUFFLE] = 1,
};

static const char *const key_names[N_KEYS] = {
    "epochs", "batch size", "optimizer", "learning rate", "momentum", "beta1", "beta2",
    "epsilon", "weight decay", "lr schedule", "lr step", "lr gamma", "seed", "shuffle",
};

void fnn__train_cfg_defaults(fnn__train_cfg *c)
{
    c->epochs = (uint32_t)defaults[FNN_TRAIN_EPOCHS];
    c->batch = (size_t)defaults[FNN_TRAIN_BATCH_SIZE];
    c->optimizer = (int)defaults[FNN_TRAIN_OPTIMIZER];
    c->lr = defaults[FNN_TRAIN_LEARNING_RATE];
    c->momentum = defaults[FNN_TRAIN_MOMENTUM];
    c->beta1 = defaults[FNN_TRAIN_BETA1];
    c->beta2 = defaults[FNN_TRAIN_BETA2];
    c->eps = defaults[FNN_TRAIN_EPSILON];
    c->weight_decay = defaults[FNN_TRAIN_WEIGHT_DECAY];
    c->schedule = (int)defaults[FNN_TRAIN_LR_SCHEDULE];
    c->lr_step = (uint32_t)defaults[FNN_TRAIN_LR_STEP];
    c->lr_gamma = defaults[FNN_TRAIN_LR_GAMMA];
    c->epoch_offset = 0;
    c->seed = 0;
    c->shuffle = 1;
    c->progress = NULL;
    c->user = NULL;
}

static void cfg_from_options(const fnn_train_options *o, fnn__train_cfg *c)
{
    fnn__train_cfg_defaults(c);
    if (!o)
        return;
    c->epochs = (uint32_t)o->v[FNN_TRAIN_EPOCHS];
    c->batch = (size_t)o->v[FNN_TRAIN_BATCH_SIZE];
    c->optimizer = (int)o->v[FNN_TRAIN_OPTIMIZER];
    c->lr = o->v[FNN_TRAIN_LEARNING_RATE];
    c->momentum = o->v[FNN_TRAIN_MOMENTUM];
    c->beta1 = o->v[FNN_TRAIN_BETA1];
    c->beta2 = o->v[FNN_TRAIN_BETA2];
    c->eps = o->v[FNN_TRAIN_EPSILON];
    c->weight_decay = o->v[FNN_TRAIN_WEIGHT_DECAY];
    c->schedule = (int)o->v[FNN_TRAIN_LR_SCHEDULE];
    c->lr_step = (uint32_t)o->v[FNN_TRAIN_LR_STEP];
    c->lr_gamma = o->v[FNN_TRAIN_LR_GAMMA];
    c->seed = (uint64_t)o->v[FNN_TRAIN_SEED];
    c->shuffle = o->v[FNN_TRAIN_SHUFFLE] != 0.0;
    c->progress = o->progress;
    c->user = o->user;
}

FNN_API int fnn_train_options_create(fnn_train_options **out)
{
    if (!out)
        return FNN_E_NULL;
    fnn_train_options *o = calloc(1, sizeof *o);
    *out = o;
    if (!o)
        return FNN_E_NOMEM;
    memcpy(o->v, defaults, sizeof defaults);
    return FNN_OK;
}

FNN_API void fnn_train_options_free(fnn_train_options *o)
{
    free(o);
}

FNN_API int fnn_train_options_preset(fnn_train_options *o, const char *arch)
{
    static const struct {
        const char *name;
        int optimizer;
        double lr, batch;
    } presets[] = {
        {"mlp", FNN_OPTIMIZER_SGD, 0.05, 128},
        {"paper-cnn", FNN_OPTIMIZER_ADAM, 0.001, 64},
    };
    if (!o)
        return FNN_E_NULL;
    if (!arch)
        return fnn__fail(o->errmsg, sizeof o->errmsg, FNN_E_NULL, "preset name is NULL");
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++) {
        if (strcmp(arch, presets[i].name) != 0)
            continue;
        o->v[FNN_TRAIN_OPTIMIZER] = presets[i].optimizer;
        o->v[FNN_TRAIN_LEARNING_RATE] = presets[i].lr;
        o->v[FNN_TRAIN_MOMENTUM] = 0.9;
        o->v[FNN_TRAIN_BATCH_SIZE] = presets[i].batch;
        o->v[FNN_TRAIN_LR_SCHEDULE] = FNN_LR_STEP;
        o->v[FNN_TRAIN_LR_STEP] = 1;
        o->v[FNN_TRAIN_LR_GAMMA] = 0.7;
        return FNN_OK;
    }
    return fnn__fail(o->errmsg, sizeof o->errmsg, FNN_E_INVALID,
                     "'%s' is not a preset (mlp, paper-cnn)", arch);
}

FNN_API const char *fnn_train_options_errmsg(const fnn_train_options *o)
{
    return o ? o->errmsg : "options handle is NULL";
}

static int is_int_in(double v, double lo, double hi)
{
    return v >= lo && v <= hi && v == floor(v);
}

FNN_API int fnn_train_options_set(fnn_train_options *o, int key, double v)
{
    if (!o)
        return FNN_E_NULL;
    if (key < 0 || key >= N_KEYS)
        return fnn__fail(o->errmsg, sizeof o->errmsg, FNN_E_INVALID, "unknown option key %d",
                         key);
    int ok;
    const char *want;
    switch (key) {
    case FNN_TRAIN_EPOCHS: ok = is_int_in(v, 1, 1e6); want = "an integer in 1..1000000"; break;
    case FNN_TRAIN_BATCH_SIZE: ok = is_int_in(v, 1, 65536); want = "an integer in 1..65536"; break;
    case FNN_TRAIN_OPTIMIZER: ok = is_int_in(v, 0, 1); want = "FNN_OPTIMIZER_SGD or _ADAM"; break;
    case FNN_TRAIN_LEARNING_RATE: ok = v > 0 && v < 1e6; want = "> 0"; break;
    case FNN_TRAIN_EPSILON: ok = v > 0 && v < 1; want = "in (0, 1)"; break;
    case FNN_TRAIN_MOMENTUM:
    case FNN_TRAIN_BETA1:
    case FNN_TRAIN_BETA2: ok = v >= 0 && v < 1; want = "in [0, 1)"; break;
    case FNN_TRAIN_WEIGHT_DECAY: ok = v >= 0 && v < 1e6; want = ">= 0"; break;
    case FNN_TRAIN_LR_SCHEDULE: ok = is_int_in(v, 0, 1); want = "FNN_LR_CONSTANT or _STEP"; break;
    case FNN_TRAIN_LR_STEP: ok = is_int_in(v, 1, 1e6); want = "an integer >= 1"; break;
    case FNN_TRAIN_LR_GAMMA: ok = v > 0 && v <= 1; want = "in (0, 1]"; break;
    case FNN_TRAIN_SEED: ok = is_int_in(v, 0, 9007199254740992.0); want = "an integer in 0..2^53"; break;
    default: ok = is_int_in(v, 0, 1); want = "0 or 1"; break;
    }
    if (!ok)
        return fnn__fail(o->errmsg, sizeof o->errmsg, FNN_E_INVALID, "%s must be %s, got %g",
                         key_names[key], want, v);
    o->v[key] = v;
    return FNN_OK;
}

FNN_API int fnn_train_options_get(const fnn_train_options *o, int key, double *value)
{
    if (!o || !value)
        return FNN_E_NULL;
    if (key < 0 || key >= N_KEYS)
        return FNN_E_INVALID;
    *value = o->v[key];
    return FNN_OK;
}

FNN_API int fnn_train_options_set_progress(fnn_train_options *o, fnn_progress_fn fn,
                                           void *user)
{
    if (!o)
        return FNN_E_NULL;
    o->progress = fn;
    o->user = user;
    return FNN_OK;
}

/* ---- training loop ------------------------------------------------------- */

void fnn__optimizer_reset(fnn_model *m)
{
    if (m->opt_m) {
        memset(m->opt_m, 0, m->n_params * sizeof(float));
        memset(m->opt_v, 0, m->n_params * sizeof(float));
    }
    m->opt_step = 0;
}

static void optimizer_step(fnn_model *m, const fnn__train_cfg *c, double lr)
{
    if (c->optimizer == FNN_OPTIMIZER_SGD) {
        fnn__sgd_update(m->params, m->grads, m->opt_m, m->n_params, (float)lr,
                        (float)c->momentum, (float)c->weight_decay);
        return;
    }
    m->opt_step++;
    double bc1 = 1.0 - pow(c->beta1, (double)m->opt_step);
    double bc2 = 1.0 - pow(c->beta2, (double)m->opt_step);
    double lr_t = lr * sqrt(bc2) / bc1;
    double eps_t = c->eps * sqrt(bc2);
    fnn__adam_update(m->params, m->grads, m->opt_m, m->opt_v, m->n_params, (float)lr_t,
                     (float)c->beta1, (float)c->beta2, (float)eps_t, (float)c->weight_decay);
}

double fnn__lr_at(const fnn__train_cfg *c, uint32_t epoch)
{
    if (c->schedule == FNN_LR_STEP)
        return c->lr * pow(c->lr_gamma, (double)(epoch / c->lr_step));
    return c->lr;
}

int fnn__train(fnn_model *m, const fnn_dataset *ds, const fnn__train_cfg *c,
               fnn__train_stats *stats)
{
    size_t n = ds->n, B = c->batch < n ? c->batch : n;
    int rc = fnn__model_reserve(m, B, 1);
    if (rc != FNN_OK)
        return rc;
    fnn__ws *ws = &m->ws;
    if (ws->order_cap < n) {
        uint32_t *o = realloc(ws->order, n * sizeof *o);
        if (!o)
            return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM,
                             "out of memory for %zu sample positions", n);
        ws->order = o;
        ws->order_cap = n;
    }
    float *backup = fnn__alloc_floats(m->n_params);
    if (!backup)
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM,
                         "out of memory for a parameter backup");
    memcpy(backup, m->params, m->n_params * sizeof(float));

    fnn__rng shuf;
    fnn__rng_seed(&shuf, c->seed);
    fnn__rng_seed(&m->rng, c->seed ^ 0xd1b54a32d192ed03ull);
    for (size_t i = 0; i < n; i++)
        ws->order[i] = (uint32_t)i;
    size_t batches = (n + B - 1) / B;
    uint32_t classes = m->num_classes;
    double flops_sample = fnn_model_flops_per_sample(m, 1);
    rc = FNN_OK;
    for (uint32_t e = 0; e < c->epochs && rc == FNN_OK; e++) {
        double lr = fnn__lr_at(c, c->epoch_offset + e);
        if (c->shuffle)
            fnn__shuffle_u32(&shuf, ws->order, n);
        double epoch_loss = 0.0;
        for (size_t bi = 0; bi < batches; bi++) {
            size_t start = bi * B, count = n - start < B ? n - start : B;
            fnn__dataset_gather(ds, ws->order + start, count, ws->act[0], ws->y);
            const float *logits = fnn__forward(m, count, 1);
            double loss = fnn__softmax_xent(logits, ws->y, count, classes, ws->loss,
                                            ws->grad_a, 1.0f / (float)count, NULL);
            if (!isfinite(loss)) {
                memcpy(m->params, backup, m->n_params * sizeof(float));
                rc = fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NUMERIC,
                               "loss became %g at epoch %u step %zu (learning rate %g too "
                               "high?); parameters restored",
                               loss, e, bi + 1, lr);
                break;
            }
            fnn__backward(m, count);
            optimizer_step(m, c, lr);
            epoch_loss += loss;
            if (stats) {
                stats->steps++;
                stats->samples += count;
                stats->flops += flops_sample * (double)count;
            }
            if (c->progress &&
                c->progress(c->user, e, c->epochs, bi + 1, batches,
                            (float)(epoch_loss / (double)(start + count)))) {
                rc = fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_CANCELLED,
                               "cancelled by the progress callback at epoch %u step %zu", e,
                               bi + 1);
                break;
            }
        }
        if (stats && rc == FNN_OK)
            stats->last_loss = epoch_loss / (double)n;
    }
    free(backup);
    return rc;
}

FNN_API int fnn_model_train(fnn_model *m, const fnn_dataset *train,
                            const fnn_train_options *opts)
{
    if (!m)
        return FNN_E_NULL;
    if (!train)
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NULL, "training data set is NULL");
    int rc = fnn__model_check_data(m, train, 1);
    if (rc != FNN_OK)
        return rc;
    fnn__train_cfg c;
    cfg_from_options(opts, &c);
    rc = fnn__model_reserve(m, c.batch < train->n ? c.batch : train->n, 1);
    if (rc != FNN_OK)
        return rc;
    fnn__optimizer_reset(m);
    return fnn__train(m, train, &c, NULL);
}
