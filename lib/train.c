/* The training loop, its optimizers and the recipe a model records. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "kernels.h"

/* ---- optimizers -------------------------------------------------------------- */

int fnn__optim_reserve(fnn_model *m)
{
    if (m->grads)
        return FNN_OK;
    m->grads = fnn__alloc_floats(m->n_params);
    m->opt_m = fnn__alloc_floats(m->n_params);
    m->opt_v = fnn__alloc_floats(m->n_params);
    if (m->grads && m->opt_m && m->opt_v)
        return FNN_OK;
    free(m->grads);
    free(m->opt_m);
    free(m->opt_v);
    m->grads = m->opt_m = m->opt_v = NULL;
    return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM,
                     "out of memory for the optimizer state of %zu parameters", m->n_params);
}

void fnn__optimizer_reset(fnn_model *m)
{
    if (m->opt_m) {
        memset(m->opt_m, 0, m->n_params * sizeof(float));
        memset(m->opt_v, 0, m->n_params * sizeof(float));
    }
    m->opt_step = 0;
}

void fnn__optimizer_step(fnn_model *m, const fnn__train_cfg *c, double lr)
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

/* ---- normalisation while training ---------------------------------------------- */

static void normalize_end(fnn_model *m)
{
    free(m->in_mean);
    free(m->in_inv_std);
    m->in_mean = m->in_inv_std = NULL;
}

/* Turns on the model's own input normalisation by ds's statistics; std gets
 * the divisors the fold will use. */
static int normalize_begin(fnn_model *m, const fnn_dataset *ds, float *std)
{
    size_t C = m->spec.in_c;
    m->in_mean = malloc(C * sizeof(float));
    m->in_inv_std = malloc(C * sizeof(float));
    if (!m->in_mean || !m->in_inv_std) {
        free(m->in_mean);
        free(m->in_inv_std);
        m->in_mean = m->in_inv_std = NULL;
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM,
                         "out of memory for the input normalisation");
    }
    if (fnn__dataset_presented_stats(ds, m->in_mean, std) != FNN_OK) {
        normalize_end(m);
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM,
                         "out of memory for the input statistics");
    }
    for (size_t c = 0; c < C; c++) {
        if (!isfinite(m->in_mean[c]))
            m->in_mean[c] = 0.0f;
        /* A constant channel is only centred; a tiny spread would overflow. */
        if (!(std[c] > 1e-12f) || !isfinite(std[c]))
            std[c] = 1.0f;
        m->in_inv_std[c] = 1.0f / std[c];
    }
    return FNN_OK;
}

/* ---- training loop ------------------------------------------------------------- */

int fnn__train(fnn_model *m, const fnn_dataset *ds, const fnn__train_cfg *c,
               fnn__train_stats *stats)
{
    size_t n = ds->n, B = c->batch < n ? c->batch : n;
    int rc = fnn__ws_reserve(m, &m->ws, B, 1);
    if (rc == FNN_OK)
        rc = fnn__optim_reserve(m);
    if (rc != FNN_OK)
        return rc;
    fnn__ws *ws = &m->ws;
    if (m->order_cap < n) {
        uint32_t *o = realloc(m->order, n * sizeof *o);
        if (!o)
            return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM,
                             "out of memory for %zu sample positions", n);
        m->order = o;
        m->order_cap = n;
    }
    float *backup = fnn__alloc_floats(m->n_params);
    float *std = malloc(m->spec.in_c * sizeof *std);
    if (!backup || !std) {
        free(backup);
        free(std);
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM,
                         "out of memory for a parameter backup");
    }
    memcpy(backup, m->params, m->n_params * sizeof(float));
    int normalized = c->normalize && !m->in_mean;
    const fnn__layer *fold_into;
    /* A normalisation that cannot be folded is refused before any step. */
    if (normalized && ((rc = fnn__fold_target(m, &fold_into)) != FNN_OK ||
                       (rc = normalize_begin(m, ds, std)) != FNN_OK)) {
        free(backup);
        free(std);
        return rc;
    }

    fnn__rng shuf;
    fnn__rng_seed(&shuf, c->seed);
    fnn__rng_seed(&m->rng, c->seed ^ 0xd1b54a32d192ed03ull);
    for (size_t i = 0; i < n; i++)
        m->order[i] = (uint32_t)i;
    size_t batches = (n + B - 1) / B, steps = 0;
    uint32_t classes = m->num_classes;
    double flops_sample = fnn_model_flops_per_sample(m, 1), flops = 0.0;
    for (uint32_t e = 0; e < c->epochs && rc == FNN_OK; e++) {
        double lr = fnn__lr_at(c, c->epoch_offset + e);
        if (c->shuffle)
            fnn__shuffle_u32(&shuf, m->order, n);
        double epoch_loss = 0.0;
        size_t bi = 0;
        for (; bi < batches; bi++) {
            if (c->max_steps && steps >= c->max_steps)
                break;
            size_t start = bi * B, count = n - start < B ? n - start : B;
            fnn__dataset_gather(ds, m->order + start, count, ws->act[0], ws->y);
            const float *logits = fnn__forward(m, ws, count, &m->rng);
            double loss = fnn__softmax_xent(logits, ws->y, count, classes, ws->loss,
                                            ws->grad_a, 1.0f / (float)count, NULL);
            if (!isfinite(loss)) {
                /* Before the first update the learning rate is not to blame:
                 * the model's outputs already overflow on these features. */
                if (steps == 0)
                    rc = fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NUMERIC,
                                   "loss is %g at the first step, before any update: the "
                                   "model's outputs are not finite on these features (its "
                                   "parameters or the features overflow); parameters "
                                   "restored",
                                   loss);
                else
                    rc = fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NUMERIC,
                                   "loss became %g at epoch %u step %zu (learning rate %g "
                                   "too high?); parameters restored",
                                   loss, e, bi + 1, lr);
                break;
            }
            fnn__backward(m, ws, count, m->grads);
            fnn__optimizer_step(m, c, lr);
            epoch_loss += loss;
            steps++;
            flops += flops_sample * (double)count;
            if (stats) {
                stats->steps++;
                stats->samples += count;
                stats->flops += flops_sample * (double)count;
            }
            if (c->step_fn && c->step_fn(c->step_user, e, c->epochs, bi + 1, batches,
                                         epoch_loss / (double)(start + count), flops)) {
                rc = fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_CANCELLED,
                               "cancelled by the progress callback at epoch %u step %zu", e,
                               bi + 1);
                break;
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
        /* A parameter can overflow while the loss stays finite (a dead
         * neuron's weights); every epoch checks them all. */
        if (rc == FNN_OK && !fnn__model_params_finite(m))
            rc = fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NUMERIC,
                           "a parameter became NaN or infinite in epoch %u (learning rate "
                           "%g too high?); parameters restored",
                           e, lr);
        if (stats && rc == FNN_OK && bi == batches)
            stats->last_loss = epoch_loss / (double)n;
        if (bi < batches)
            break;
    }
    /* Parameters trained on normalised features are only valid folded: when
     * the fold fails (an overflow, no memory), the call fails and they are
     * restored with the rest. */
    int restore = rc == FNN_E_NUMERIC;
    if (normalized) {
        if (rc != FNN_E_NUMERIC) {
            int frc = fnn__fold_normalization(m, m->in_mean, std);
            if (frc != FNN_OK) {
                rc = frc;
                restore = 1;
            }
        }
        normalize_end(m);
    }
    if (restore)
        memcpy(m->params, backup, m->n_params * sizeof(float));
    free(backup);
    free(std);
    return rc;
}

/* ---- the public calls and the recipe ----------------------------------------------- */

/* Validation shared by the public training calls. */
static int check_train(fnn_model *m, const fnn_dataset *train)
{
    if (!m)
        return FNN_E_NULL;
    if (!train)
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NULL, "training data set is NULL");
    return fnn__model_check_data(m, train, 1);
}

/* Records o (the defaults for NULL) as the model's recipe. */
static void record_recipe(fnn_model *m, const fnn_train_options *o, size_t samples)
{
    fnn_train_options d;
    if (!o) {
        fnn__train_options_init(&d);
        o = &d;
    }
    memcpy(m->recipe.v, o->v, sizeof m->recipe.v);
    m->recipe.seed = o->seed;
    m->recipe.samples = samples;
    m->recipe.calls++;
}

FNN_API int fnn_model_train(fnn_model *m, const fnn_dataset *train,
                            const fnn_train_options *opts)
{
    int rc = check_train(m, train);
    if (rc != FNN_OK)
        return rc;
    fnn__train_cfg c;
    fnn__train_cfg_from(opts, &c);
    if ((rc = fnn__ws_reserve(m, &m->ws, c.batch < train->n ? c.batch : train->n, 1)) ||
        (rc = fnn__optim_reserve(m)))
        return rc;
    fnn__optimizer_reset(m);
    rc = fnn__train(m, train, &c, NULL);
    if (rc == FNN_OK)
        record_recipe(m, opts, train->n);
    return rc;
}

/* The options of the model's recipe overlaid by opts' set keys, in *out;
 * FNN_E_STATE when there is no recipe to start from. */
static int recipe_options(const fnn_model *m, const fnn_train_options *opts,
                          fnn_train_options *out)
{
    fnn__train_options_init(out);
    out->progress = opts ? opts->progress : NULL;
    out->user = opts ? opts->user : NULL;
    int reproducible = m->recipe.calls == 1 && m->recipe.has_init;
    if (reproducible) {
        memcpy(out->v, m->recipe.v, sizeof out->v);
        out->seed = m->recipe.seed;
    } else if (!opts || !(opts->set_mask & (1u << FNN_TRAIN_EPOCHS))) {
        return fnn__model_fail(m, FNN_E_STATE,
                               m->recipe.calls > 1
                                   ? "the model was trained by %u calls, so no single recipe "
                                     "reproduces it; give the training options (at least the "
                                     "epochs) to retrain"
                                   : "the model records no training recipe (trained by %u "
                                     "calls here, or loaded from a file without one); give "
                                     "the training options (at least the epochs) to retrain",
                               m->recipe.calls);
    }
    if (opts)
        fnn__train_options_overlay(out, opts);
    return FNN_OK;
}

int fnn__retrain(fnn_model *m, const fnn_dataset *train, const fnn_train_options *opts,
                 fnn__step_fn step_fn, void *step_user, fnn__train_stats *stats)
{
    fnn_train_options o;
    int rc = recipe_options(m, opts, &o);
    if (rc != FNN_OK)
        return rc;
    fnn__train_cfg c;
    fnn__train_cfg_from(&o, &c);
    c.step_fn = step_fn;
    c.step_user = step_user;
    uint64_t init = m->recipe.calls == 1 && m->recipe.has_init ? m->recipe.init_seed : o.seed;
    if ((rc = fnn__ws_reserve(m, &m->ws, c.batch < train->n ? c.batch : train->n, 1)) ||
        (rc = fnn__optim_reserve(m)))
        return rc;
    float *keep = fnn__alloc_floats(m->n_params);
    if (!keep)
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM,
                         "out of memory for a parameter backup");
    memcpy(keep, m->params, m->n_params * sizeof(float));
    fnn__model_init_params(m, init);
    fnn__optimizer_reset(m);
    rc = fnn__train(m, train, &c, stats);
    if (rc != FNN_OK) {
        memcpy(m->params, keep, m->n_params * sizeof(float));
    } else {
        m->recipe.has_init = 1;
        m->recipe.init_seed = init;
        m->recipe.calls = 0;
        record_recipe(m, &o, train->n);
    }
    free(keep);
    return rc;
}

FNN_API int fnn_model_retrain(fnn_model *m, const fnn_dataset *train,
                              const fnn_train_options *opts)
{
    int rc = check_train(m, train);
    if (rc != FNN_OK)
        return rc;
    /* The forgetting state goes with the old parameters: it is off while
     * retraining, reset after it, and restored if training fails. */
    uint32_t t = m->t;
    int *on = calloc(m->n_fl ? m->n_fl : 1, sizeof *on);
    if (!on)
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM, "out of memory");
    for (size_t k = 0; k < m->n_fl; k++) {
        on[k] = m->fl[k].on;
        m->fl[k].on = 0;
    }
    rc = fnn__retrain(m, train, opts, NULL, NULL, NULL);
    if (rc == FNN_OK) {
        fnn__forgetting_reset(m);
    } else {
        for (size_t k = 0; k < m->n_fl; k++)
            m->fl[k].on = on[k];
        m->t = t;
    }
    free(on);
    return rc;
}

FNN_API uint32_t fnn_model_recipe_calls(const fnn_model *m)
{
    return m ? m->recipe.calls : 0;
}

FNN_API int fnn_model_recipe(const fnn_model *m, fnn_train_options **out, uint64_t *init_seed,
                             uint64_t *samples)
{
    if (!m || !out)
        return FNN_E_NULL;
    *out = NULL;
    if (m->recipe.calls == 0)
        return fnn__model_fail(m, FNN_E_STATE, "the model records no training recipe");
    fnn_train_options *o = NULL;
    if (fnn_train_options_create(&o) != FNN_OK)
        return fnn__model_fail(m, FNN_E_NOMEM, "out of memory");
    memcpy(o->v, m->recipe.v, sizeof o->v);
    o->seed = m->recipe.seed;
    o->set_mask = (1u << FNN__TRAIN_NKEYS) - 1;
    if (init_seed)
        *init_seed = m->recipe.has_init ? m->recipe.init_seed : 0;
    if (samples)
        *samples = m->recipe.samples;
    *out = o;
    return FNN_OK;
}
