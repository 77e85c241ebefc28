/* Forgetting layers: per-neuron rates, the clock, ranking, rate policies,
 * folding, and the two unlearning procedures with their options and report. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "kernels.h"

/* ---- forgetting state ------------------------------------------------------ */

/* The layer behind forgetting-layer number `idx`, or NULL. */
static fnn__layer *flayer(const fnn_model *m, size_t idx)
{
    for (size_t i = 0; i < m->spec.n_layers; i++)
        if (m->spec.layers[i].tau && idx-- == 0)
            return &m->spec.layers[i];
    return NULL;
}

FNN_API size_t fnn_model_num_forgetting_layers(const fnn_model *m)
{
    size_t n = 0;
    if (m)
        for (size_t i = 0; i < m->spec.n_layers; i++)
            n += m->spec.layers[i].tau != NULL;
    return n;
}

static int get_layer(const fnn_model *m, size_t layer, fnn__layer **L)
{
    if (!m)
        return FNN_E_NULL;
    *L = flayer(m, layer);
    if (!*L)
        return fnn__fail((char *)m->errmsg, sizeof m->errmsg, FNN_E_RANGE,
                         "forgetting layer %zu does not exist (the model has %zu)", layer,
                         fnn_model_num_forgetting_layers(m));
    return FNN_OK;
}

FNN_API int fnn_model_forgetting_layer_units(const fnn_model *m, size_t layer, uint32_t *units)
{
    fnn__layer *L;
    int rc = get_layer(m, layer, &L);
    if (rc)
        return rc;
    if (!units)
        return FNN_E_NULL;
    *units = L->units;
    return FNN_OK;
}

FNN_API int fnn_model_get_tau(const fnn_model *m, size_t layer, float *tau, size_t n)
{
    fnn__layer *L;
    int rc = get_layer(m, layer, &L);
    if (rc)
        return rc;
    if (!tau)
        return FNN_E_NULL;
    if (n < L->units)
        return FNN_E_SHAPE;
    memcpy(tau, L->tau, L->units * sizeof *tau);
    return FNN_OK;
}

FNN_API int fnn_model_set_tau(fnn_model *m, size_t layer, const float *tau, size_t n)
{
    fnn__layer *L;
    int rc = get_layer(m, layer, &L);
    if (rc)
        return rc;
    if (!tau)
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NULL, "tau is NULL");
    if (n != L->units)
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_SHAPE,
                         "%zu rates given, layer %zu has %u neurons", n, layer, L->units);
    for (size_t i = 0; i < n; i++)
        if (!(tau[i] > 0.0f))
            return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_INVALID,
                             "tau[%zu] = %g: rates must be > 0 (or +infinity)", i,
                             (double)tau[i]);
    memcpy(L->tau, tau, n * sizeof *tau);
    fnn__model_update_decay(m);
    return FNN_OK;
}

FNN_API int fnn_model_set_decay(fnn_model *m, size_t layer, int on)
{
    fnn__layer *L;
    int rc = get_layer(m, layer, &L);
    if (rc)
        return rc;
    L->decay_on = on != 0;
    return FNN_OK;
}

FNN_API int fnn_model_decay_enabled(const fnn_model *m, size_t layer)
{
    fnn__layer *L;
    int rc = get_layer(m, layer, &L);
    return rc ? rc : L->decay_on;
}

FNN_API int fnn_model_set_clock(fnn_model *m, uint32_t t)
{
    if (!m)
        return FNN_E_NULL;
    m->t = t;
    fnn__model_update_decay(m);
    return FNN_OK;
}

FNN_API uint32_t fnn_model_clock(const fnn_model *m)
{
    return m ? m->t : 0;
}

FNN_API int fnn_model_decay_factors(const fnn_model *m, size_t layer, float *out, size_t n)
{
    fnn__layer *L;
    int rc = get_layer(m, layer, &L);
    if (rc)
        return rc;
    if (!out)
        return FNN_E_NULL;
    if (n < L->units)
        return FNN_E_SHAPE;
    memcpy(out, L->decay, L->units * sizeof *out);
    return FNN_OK;
}

FNN_API int fnn_model_fold_decay(fnn_model *m)
{
    if (!m)
        return FNN_E_NULL;
    for (size_t i = 0; i < m->spec.n_layers; i++) {
        fnn__layer *L = &m->spec.layers[i];
        if (!L->tau)
            continue;
        if (L->decay_on) {
            float *w = m->params + L->w_off, *b = m->params + L->b_off;
            for (uint32_t j = 0; j < L->units; j++) {
                float f = L->decay[j];
                float *row = w + (size_t)j * L->in_dim;
                for (size_t k = 0; k < L->in_dim; k++)
                    row[k] *= f;
                b[j] *= f;
            }
        }
        L->decay_on = 0;
        for (uint32_t j = 0; j < L->units; j++)
            L->tau[j] = INFINITY;
    }
    m->t = 0;
    fnn__model_update_decay(m);
    return FNN_OK;
}

/* ---- ranking and policies -------------------------------------------------- */

/* Mean pre-activation (a = x W^T + b, before the layer's own decay and
 * activation) of every forgetting layer over ds; means[k] has the units of
 * forgetting layer k. The forward pass sums them as it goes. Adds the FLOPs
 * spent to *flops when not NULL. */
static int mean_preactivations(fnn_model *m, const fnn_dataset *ds, double **means,
                               double *flops)
{
    size_t chunk = m->ws.batch ? m->ws.batch : 128;
    int rc = fnn__model_reserve(m, chunk, 0);
    if (rc)
        return rc;
    double **capture = calloc(m->spec.n_layers, sizeof *capture);
    if (!capture)
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM, "out of memory");
    for (size_t i = 0, k = 0; i < m->spec.n_layers; i++)
        if (m->spec.layers[i].tau)
            capture[i] = means[k++];
    m->capture = capture;
    for (size_t start = 0; start < ds->n; start += chunk) {
        size_t count = ds->n - start < chunk ? ds->n - start : chunk;
        fnn__dataset_gather_range(ds, start, count, m->ws.act[0], NULL);
        fnn__forward(m, count, 0);
    }
    m->capture = NULL;
    free(capture);
    for (size_t i = 0, k = 0; i < m->spec.n_layers; i++)
        if (m->spec.layers[i].tau) {
            for (uint32_t j = 0; j < m->spec.layers[i].units; j++)
                means[k][j] /= (double)ds->n;
            k++;
        }
    if (flops)
        *flops += fnn_model_flops_per_sample(m, 0) * (double)ds->n;
    return FNN_OK;
}

/* 1-based ranks by descending mean; ties to the lower index. */
static void ranks_of(const double *mean, uint32_t n, uint32_t *rank)
{
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = 1;
        for (uint32_t j = 0; j < n; j++)
            r += mean[j] > mean[i] || (mean[j] == mean[i] && j < i);
        rank[i] = r;
    }
}

/* Allocates one zeroed mean vector per forgetting layer. */
static double **alloc_means(const fnn_model *m, size_t *count)
{
    size_t n = fnn_model_num_forgetting_layers(m);
    double **means = calloc(n ? n : 1, sizeof *means);
    if (!means)
        return NULL;
    for (size_t k = 0; k < n; k++) {
        means[k] = calloc(flayer(m, k)->units, sizeof **means);
        if (!means[k]) {
            for (size_t j = 0; j < k; j++)
                free(means[j]);
            free(means);
            return NULL;
        }
    }
    *count = n;
    return means;
}

static void free_means(double **means, size_t n)
{
    for (size_t k = 0; k < n; k++)
        free(means[k]);
    free(means);
}

static int check_rank_data(fnn_model *m, const fnn_dataset *ds)
{
    if (!ds)
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NULL, "data set is NULL");
    return fnn__model_check_data(m, ds, 0);
}

FNN_API int fnn_model_rank_neurons(fnn_model *m, const fnn_dataset *ds, size_t layer,
                                   uint32_t *ranks, size_t n)
{
    fnn__layer *L;
    int rc = get_layer(m, layer, &L);
    if (rc)
        return rc;
    if (!ranks)
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NULL, "ranks is NULL");
    if (n < L->units)
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_SHAPE,
                         "ranks holds %zu values, layer %zu has %u neurons", n, layer,
                         L->units);
    if ((rc = check_rank_data(m, ds)))
        return rc;
    size_t nl;
    double **means = alloc_means(m, &nl);
    if (!means)
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM, "out of memory");
    rc = mean_preactivations(m, ds, means, NULL);
    if (rc == FNN_OK)
        ranks_of(means[layer], L->units, ranks);
    free_means(means, nl);
    return rc;
}

/* K for a layer of `units` neurons, given K at width 128. */
static uint32_t scaled_k(double k128, uint32_t units)
{
    double k = floor(k128 * (double)units / 128.0 + 0.5);
    if (k < 1)
        k = 1;
    return k > units ? units : (uint32_t)k;
}

static int apply_policy(fnn_model *m, const fnn_dataset *forget, int policy, double param,
                      uint64_t seed, double *flops)
{
    if (policy < FNN_POLICY_FIXED || policy > FNN_POLICY_RANDOM)
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_INVALID, "unknown policy %d",
                         policy);
    if (isnan(param))
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_INVALID, "policy parameter is NaN");
    int ranked = policy >= FNN_POLICY_RANK;
    size_t nl = 0;
    double **means = NULL;
    int rc = FNN_OK;
    if (ranked) {
        if ((rc = check_rank_data(m, forget)))
            return rc;
        if (!(means = alloc_means(m, &nl)))
            return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM, "out of memory");
        /* Rank with the decay off: the neurons' own activity. */
        int *was = calloc(m->spec.n_layers, sizeof *was);
        if (!was) {
            free_means(means, nl);
            return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM, "out of memory");
        }
        for (size_t i = 0; i < m->spec.n_layers; i++) {
            was[i] = m->spec.layers[i].decay_on;
            m->spec.layers[i].decay_on = 0;
        }
        rc = mean_preactivations(m, forget, means, flops);
        for (size_t i = 0; i < m->spec.n_layers; i++)
            m->spec.layers[i].decay_on = was[i];
        free(was);
        if (rc) {
            free_means(means, nl);
            return rc;
        }
    }
    fnn__rng rng;
    fnn__rng_seed(&rng, seed);
    double k128 = param > 0 ? param : 30.0;
    for (size_t k = 0; k < fnn_model_num_forgetting_layers(m); k++) {
        fnn__layer *L = flayer(m, k);
        uint32_t U = L->units;
        if (policy == FNN_POLICY_FIXED) {
            float tau = param > 0 ? (float)param : 30.0f;
            for (uint32_t j = 0; j < U; j++)
                L->tau[j] = tau;
        } else if (policy == FNN_POLICY_ORDERED) {
            for (uint32_t j = 0; j < U; j++)
                L->tau[j] = (float)(j + 1);
        } else {
            uint32_t *rank = malloc(U * sizeof *rank);
            if (!rank) {
                rc = fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM, "out of memory");
                break;
            }
            ranks_of(means[k], U, rank);
            uint32_t K = scaled_k(k128, U);
            for (uint32_t j = 0; j < U; j++)
                L->tau[j] = (float)rank[j];
            if (policy == FNN_POLICY_TOPK) {
                for (uint32_t j = 0; j < U; j++)
                    if (rank[j] <= K)
                        L->tau[j] = 1.0f;
            } else if (policy == FNN_POLICY_RANDOM) {
                /* K distinct neurons by a partial Fisher-Yates shuffle. */
                for (uint32_t j = 0; j < U; j++)
                    rank[j] = j;
                for (uint32_t j = 0; j < K; j++) {
                    uint32_t r = j + (uint32_t)fnn__rng_below(&rng, U - j);
                    uint32_t t = rank[j];
                    rank[j] = rank[r];
                    rank[r] = t;
                    L->tau[rank[j]] = 1.0f;
                }
            }
            free(rank);
        }
        L->decay_on = 1;
    }
    free_means(means, nl);
    fnn__model_update_decay(m);
    return rc;
}

FNN_API int fnn_model_apply_policy(fnn_model *m, const fnn_dataset *forget, int policy,
                                   double param, uint64_t seed)
{
    if (!m)
        return FNN_E_NULL;
    return apply_policy(m, forget, policy, param, seed, NULL);
}

/* Takes the output layer out of forgetting, when hidden dense layers exist. */
static void spare_output(fnn_model *m)
{
    size_t n = fnn_model_num_forgetting_layers(m);
    if (n < 2)
        return;
    fnn__layer *L = flayer(m, n - 1);
    for (uint32_t j = 0; j < L->units; j++)
        L->tau[j] = INFINITY;
    L->decay_on = 0;
    fnn__model_update_decay(m);
}

/* Whether the output layer forgets in this run (option, or the procedure's default). */
static int output_forgets(const double *o)
{
    double v = o[FNN_FORGET_DECAY_OUTPUT];
    return v < 0 ? o[FNN_FORGET_PROCEDURE] == FNN_PROCEDURE_PAPER : v != 0;
}

/* ---- options ----------------------------------------------------------------- */

enum { N_FKEYS = FNN_FORGET_DECAY_OUTPUT + 1 };

struct fnn_forget_options {
    double v[N_FKEYS];
    char errmsg[FNN__ERRMSG_SIZE];
};

static const double fdefaults[N_FKEYS] = {
    [FNN_FORGET_PROCEDURE] = FNN_PROCEDURE_POSTHOC,
    [FNN_FORGET_POLICY] = FNN_POLICY_RANK,
    [FNN_FORGET_TAU] = 30,
    [FNN_FORGET_TOPK] = 30,
    [FNN_FORGET_SEED] = 0,
    [FNN_FORGET_MAX_T] = 10,
    [FNN_FORGET_TARGET] = -1,
    [FNN_FORGET_REPAIR_EPOCHS] = 1,
    [FNN_FORGET_REPAIR_FRACTION] = 0.1,
    [FNN_FORGET_TURNS] = 10,
    [FNN_FORGET_LEARN_EPOCHS] = 1,
    [FNN_FORGET_UNLEARN_EPOCHS] = 2,
    [FNN_FORGET_BATCH_SIZE] = 64,
    [FNN_FORGET_OPTIMIZER] = FNN_OPTIMIZER_ADAM,
    [FNN_FORGET_LEARNING_RATE] = 0.001,
    [FNN_FORGET_LR_GAMMA] = -1,
    [FNN_FORGET_FOLD] = 1,
    [FNN_FORGET_EVAL_SAMPLES] = 2000,
    [FNN_FORGET_TOLERANCE] = 0.002,
    [FNN_FORGET_RETAIN_DROP] = 0.005,
    [FNN_FORGET_MAX_EXTRA_REPAIR] = 10,
    [FNN_FORGET_DECAY_OUTPUT] = -1,
};

static const char *const fkey_names[N_FKEYS] = {
    "procedure", "policy", "tau", "topk", "seed", "max t", "target", "repair epochs",
    "repair fraction", "turns", "learn epochs", "unlearn epochs", "batch size", "optimizer",
    "learning rate", "lr gamma", "fold", "eval samples", "tolerance", "retain drop",
    "max extra repair", "decay output",
};

FNN_API int fnn_forget_options_create(fnn_forget_options **out)
{
    if (!out)
        return FNN_E_NULL;
    fnn_forget_options *o = calloc(1, sizeof *o);
    *out = o;
    if (!o)
        return FNN_E_NOMEM;
    memcpy(o->v, fdefaults, sizeof fdefaults);
    return FNN_OK;
}

FNN_API void fnn_forget_options_free(fnn_forget_options *o)
{
    free(o);
}

FNN_API const char *fnn_forget_options_errmsg(const fnn_forget_options *o)
{
    return o ? o->errmsg : "options handle is NULL";
}

static int int_in(double v, double lo, double hi)
{
    return v >= lo && v <= hi && v == floor(v);
}

FNN_API int fnn_forget_options_set(fnn_forget_options *o, int key, double v)
{
    if (!o)
        return FNN_E_NULL;
    if (key < 0 || key >= N_FKEYS)
        return fnn__fail(o->errmsg, sizeof o->errmsg, FNN_E_INVALID, "unknown option key %d",
                         key);
    int ok;
    const char *want;
    switch (key) {
    case FNN_FORGET_PROCEDURE: ok = int_in(v, 0, 1); want = "FNN_PROCEDURE_POSTHOC or _PAPER"; break;
    case FNN_FORGET_POLICY: ok = int_in(v, 0, 4); want = "an enum fnn_policy value"; break;
    case FNN_FORGET_TAU: ok = v > 0 && v <= 1e9; want = "> 0"; break;
    case FNN_FORGET_TOPK: ok = int_in(v, 1, 65536); want = "an integer in 1..65536"; break;
    case FNN_FORGET_SEED: ok = int_in(v, 0, 9007199254740992.0); want = "an integer in 0..2^53"; break;
    case FNN_FORGET_MAX_T: ok = int_in(v, 1, 1e6); want = "an integer >= 1"; break;
    case FNN_FORGET_TARGET: ok = v == -1 || (v >= 0 && v <= 1); want = "in [0, 1], or -1"; break;
    case FNN_FORGET_REPAIR_EPOCHS: ok = int_in(v, 0, 1e6); want = "an integer >= 0"; break;
    case FNN_FORGET_REPAIR_FRACTION: ok = v > 0 && v <= 1; want = "in (0, 1]"; break;
    case FNN_FORGET_TURNS: ok = int_in(v, 1, 1e6); want = "an integer >= 1"; break;
    case FNN_FORGET_LEARN_EPOCHS: ok = int_in(v, 0, 1e6); want = "an integer >= 0"; break;
    case FNN_FORGET_UNLEARN_EPOCHS: ok = int_in(v, 1, 1e6); want = "an integer >= 1"; break;
    case FNN_FORGET_BATCH_SIZE: ok = int_in(v, 1, 65536); want = "an integer in 1..65536"; break;
    case FNN_FORGET_OPTIMIZER: ok = int_in(v, 0, 1); want = "FNN_OPTIMIZER_SGD or _ADAM"; break;
    case FNN_FORGET_LEARNING_RATE: ok = v > 0 && v < 1e6; want = "> 0"; break;
    case FNN_FORGET_LR_GAMMA: ok = v == -1 || (v > 0 && v <= 1); want = "in (0, 1], or -1"; break;
    case FNN_FORGET_FOLD: ok = int_in(v, 0, 1); want = "0 or 1"; break;
    case FNN_FORGET_EVAL_SAMPLES: ok = int_in(v, 1, 4294967295.0); want = "an integer >= 1"; break;
    case FNN_FORGET_MAX_EXTRA_REPAIR: ok = int_in(v, 0, 1e6); want = "an integer >= 0"; break;
    case FNN_FORGET_DECAY_OUTPUT: ok = int_in(v, -1, 1); want = "-1, 0 or 1"; break;
    default: ok = v >= 0 && v <= 1; want = "in [0, 1]"; break;
    }
    if (!ok)
        return fnn__fail(o->errmsg, sizeof o->errmsg, FNN_E_INVALID, "%s must be %s, got %g",
                         fkey_names[key], want, v);
    o->v[key] = v;
    return FNN_OK;
}

FNN_API int fnn_forget_options_get(const fnn_forget_options *o, int key, double *value)
{
    if (!o || !value)
        return FNN_E_NULL;
    if (key < 0 || key >= N_FKEYS)
        return FNN_E_INVALID;
    *value = o->v[key];
    return FNN_OK;
}

/* ---- report -------------------------------------------------------------------- */

enum { N_RKEYS = FNN_REPORT_REACHED_TARGET + 1, N_PKEYS = FNN_PHASE_HOLDOUT_ACC + 1 };

typedef struct {
    double v[N_PKEYS];
} phase_rec;

struct fnn_forget_report {
    double v[N_RKEYS];
    phase_rec *phases;
    size_t n, cap;
};

static void report_reset(fnn_forget_report *r)
{
    for (int i = 0; i < N_RKEYS; i++)
        r->v[i] = NAN;
    r->n = 0;
}

FNN_API int fnn_forget_report_create(fnn_forget_report **out)
{
    if (!out)
        return FNN_E_NULL;
    fnn_forget_report *r = calloc(1, sizeof *r);
    *out = r;
    if (!r)
        return FNN_E_NOMEM;
    report_reset(r);
    return FNN_OK;
}

FNN_API void fnn_forget_report_free(fnn_forget_report *r)
{
    if (r)
        free(r->phases);
    free(r);
}

FNN_API int fnn_forget_report_get(const fnn_forget_report *r, int key, double *value)
{
    if (!r || !value)
        return FNN_E_NULL;
    if (key < 0 || key >= N_RKEYS)
        return FNN_E_INVALID;
    *value = r->v[key];
    return FNN_OK;
}

FNN_API size_t fnn_forget_report_num_phases(const fnn_forget_report *r)
{
    return r ? r->n : 0;
}

FNN_API int fnn_forget_report_phase(const fnn_forget_report *r, size_t i, int key,
                                    double *value)
{
    if (!r || !value)
        return FNN_E_NULL;
    if (i >= r->n)
        return FNN_E_RANGE;
    if (key < 0 || key >= N_PKEYS)
        return FNN_E_INVALID;
    *value = r->phases[i].v[key];
    return FNN_OK;
}

/* ---- procedures ------------------------------------------------------------------ */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* One unlearning run's working state. Phases are monitored on fixed random
 * samples (at most FNN_FORGET_EVAL_SAMPLES each) of the forget, retain and
 * holdout sets, so monitoring stays cheap next to the training it watches. */
typedef struct run {
    fnn_model *m;
    const fnn_forget_request *req;
    const fnn_dataset *holdout;
    const double *o;           /* option values */
    fnn_dataset *forget, *retain;
    fnn_dataset *mon_forget, *mon_retain, *mon_holdout; /* samples; mon_holdout may be NULL */
    fnn__train_cfg cfg;
    double flops;
    uint32_t epochs;
    double retain_start;       /* mon_retain accuracy before unlearning */
    fnn_forget_report *rep;
} run;

static int accuracy(run *r, const fnn_dataset *ds, double *acc)
{
    size_t hits;
    int rc = fnn__infer(r->m, ds, NULL, NULL, NULL, NULL, &hits);
    if (rc == FNN_OK) {
        *acc = (double)hits / (double)ds->n;
        r->flops += fnn_model_flops_per_sample(r->m, 0) * (double)ds->n;
    }
    return rc;
}

/* A view of at most `cap` samples of ds drawn by rng (all of ds, in order,
 * when it is small enough). */
static int sample_view(const fnn_dataset *ds, size_t cap, fnn__rng *rng, fnn_dataset **out)
{
    uint32_t *pos = malloc(ds->n * sizeof *pos);
    if (!pos)
        return FNN_E_NOMEM;
    for (size_t i = 0; i < ds->n; i++)
        pos[i] = (uint32_t)i;
    if (cap < ds->n)
        fnn__shuffle_u32(rng, pos, ds->n);
    int rc = fnn__dataset_view(ds, pos, cap < ds->n ? cap : ds->n, out);
    free(pos);
    return rc;
}

/* Accuracies on the monitoring samples after a phase; NaN where not wanted. */
typedef struct accs {
    double forget, retain, holdout;
} accs;

static int measure(run *r, int want_retain, accs *a)
{
    int want_holdout = r->mon_holdout != NULL;
    a->forget = a->retain = a->holdout = NAN;
    int rc = accuracy(r, r->mon_forget, &a->forget);
    if (rc == FNN_OK && want_retain)
        rc = accuracy(r, r->mon_retain, &a->retain);
    if (rc == FNN_OK && want_holdout && r->mon_holdout)
        rc = accuracy(r, r->mon_holdout, &a->holdout);
    return rc;
}

/* Records a phase: its figures run from (t0, f0) to now, evaluations included. */
static int add_phase(run *r, int kind, uint32_t turn, uint32_t epochs, double t0, double f0,
                     const accs *a)
{
    fnn_forget_report *p = r->rep;
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 16;
        phase_rec *n = realloc(p->phases, cap * sizeof *n);
        if (!n)
            return fnn__fail(r->m->errmsg, sizeof r->m->errmsg, FNN_E_NOMEM, "out of memory");
        p->phases = n;
        p->cap = cap;
    }
    phase_rec *ph = &p->phases[p->n++];
    ph->v[FNN_PHASE_KIND] = kind;
    ph->v[FNN_PHASE_TURN] = turn;
    ph->v[FNN_PHASE_T] = r->m->t;
    ph->v[FNN_PHASE_EPOCHS] = epochs;
    ph->v[FNN_PHASE_SECONDS] = now() - t0;
    ph->v[FNN_PHASE_FLOPS] = r->flops - f0;
    ph->v[FNN_PHASE_FORGET_ACC] = a->forget;
    ph->v[FNN_PHASE_RETAIN_ACC] = a->retain;
    ph->v[FNN_PHASE_HOLDOUT_ACC] = a->holdout;
    return FNN_OK;
}

/* Trains `epochs` epochs on ds, one call per epoch so the schedule counts
 * every epoch of the run. */
static int train_epochs(run *r, const fnn_dataset *ds, uint32_t epochs)
{
    for (uint32_t e = 0; e < epochs; e++) {
        fnn__train_cfg c = r->cfg;
        c.epochs = 1;
        c.epoch_offset = r->epochs;
        c.seed = r->cfg.seed + 0x9e3779b97f4a7c15ull * (r->epochs + 1);
        fnn__train_stats st = {0};
        int rc = fnn__train(r->m, ds, &c, &st);
        r->flops += st.flops;
        r->epochs++;
        if (rc)
            return rc;
    }
    return FNN_OK;
}

static void set_all_decay(fnn_model *m, int on)
{
    for (size_t i = 0; i < m->spec.n_layers; i++)
        if (m->spec.layers[i].tau)
            m->spec.layers[i].decay_on = on;
}

/* Post-hoc forgetting. `target` >= 0 is a fixed forget-accuracy target;
 * a negative target follows the holdout sample's accuracy step by step. */
static int run_posthoc(run *r, double target)
{
    fnn_model *m = r->m;
    double f0 = r->flops, t0 = now();
    int policy = (int)r->o[FNN_FORGET_POLICY];
    int rc = apply_policy(m, r->forget, policy,
                          policy == FNN_POLICY_FIXED ? r->o[FNN_FORGET_TAU] : r->o[FNN_FORGET_TOPK],
                          (uint64_t)r->o[FNN_FORGET_SEED], &r->flops);
    if (rc)
        return rc;
    if (!output_forgets(r->o))
        spare_output(m);
    uint32_t max_t = (uint32_t)r->o[FNN_FORGET_MAX_T];
    uint32_t repairs = (uint32_t)r->o[FNN_FORGET_REPAIR_EPOCHS];
    uint32_t extra_cap = (uint32_t)r->o[FNN_FORGET_MAX_EXTRA_REPAIR];
    double drop = r->o[FNN_FORGET_RETAIN_DROP], tol = r->o[FNN_FORGET_TOLERANCE];
    /* At least ten steps' worth of samples, so small retain sets still get
     * a real repair. */
    size_t sample_n = (size_t)floor(r->o[FNN_FORGET_REPAIR_FRACTION] * (double)r->retain->n + 0.5);
    if (sample_n < 10 * r->cfg.batch)
        sample_n = 10 * r->cfg.batch;
    if (sample_n > r->retain->n)
        sample_n = r->retain->n;
    uint32_t *pos = NULL;
    if (repairs && sample_n < r->retain->n) {
        pos = malloc(r->retain->n * sizeof *pos);
        if (!pos)
            return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM, "out of memory");
        for (size_t i = 0; i < r->retain->n; i++)
            pos[i] = (uint32_t)i;
    }
    fnn__rng rng;
    fnn__rng_seed(&rng, (uint64_t)r->o[FNN_FORGET_SEED] ^ 0x2545f4914f6cdd1dull);
    int follow = target < 0;
    r->rep->v[FNN_REPORT_REACHED_TARGET] = 0;
    for (uint32_t t = 1; t <= max_t && rc == FNN_OK; t++) {
        if (t > 1) {
            t0 = now();
            f0 = r->flops;
        }
        m->t = t;
        fnn__model_update_decay(m);
        /* The scheduled repair epochs, then more while the retain accuracy
         * stays too far below where it started. */
        uint32_t done = 0;
        double retain_acc = NAN;
        for (;;) {
            if (done >= repairs) {
                if (!repairs || done >= repairs + extra_cap)
                    break;
                if ((rc = accuracy(r, r->mon_retain, &retain_acc)))
                    break;
                if (retain_acc >= r->retain_start - drop)
                    break;
            }
            fnn_dataset *sample = NULL;
            if (pos) {
                /* A fresh random share of the retain set for each epoch. */
                for (size_t i = 0; i < sample_n; i++) {
                    size_t j = i + (size_t)fnn__rng_below(&rng, r->retain->n - i);
                    uint32_t tmp = pos[i];
                    pos[i] = pos[j];
                    pos[j] = tmp;
                }
                if (fnn__dataset_view(r->retain, pos, sample_n, &sample)) {
                    rc = fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM, "out of memory");
                    break;
                }
            }
            rc = train_epochs(r, sample ? sample : r->retain, 1);
            fnn_dataset_free(sample);
            done++;
            retain_acc = NAN;
            if (rc)
                break;
        }
        if (rc)
            break;
        accs a;
        if ((rc = measure(r, isnan(retain_acc), &a)))
            break;
        if (!isnan(retain_acc))
            a.retain = retain_acc;
        if (follow)
            target = a.holdout;
        if ((rc = add_phase(r, FNN_PHASE_DECAY, 0, done, t0, f0, &a)))
            break;
        r->rep->v[FNN_REPORT_TARGET] = target;
        if (a.forget <= target + tol) {
            r->rep->v[FNN_REPORT_REACHED_TARGET] = 1;
            break;
        }
    }
    free(pos);
    return rc;
}

static int run_paper(run *r)
{
    fnn_model *m = r->m;
    uint32_t turns = (uint32_t)r->o[FNN_FORGET_TURNS];
    uint32_t learn = (uint32_t)r->o[FNN_FORGET_LEARN_EPOCHS];
    uint32_t unlearn = (uint32_t)r->o[FNN_FORGET_UNLEARN_EPOCHS];
    int policy = (int)r->o[FNN_FORGET_POLICY];
    double param = policy == FNN_POLICY_FIXED ? r->o[FNN_FORGET_TAU] : r->o[FNN_FORGET_TOPK];
    int rc = FNN_OK;
    accs a;
    for (uint32_t turn = 0; turn < turns && rc == FNN_OK; turn++) {
        if (learn) {
            double t0 = now(), f0 = r->flops;
            set_all_decay(m, 0);
            if ((rc = train_epochs(r, r->req->train, learn)) ||
                (rc = measure(r, 1, &a)) ||
                (rc = add_phase(r, FNN_PHASE_LEARN, turn, learn, t0, f0, &a)))
                break;
        }
        double t0 = now(), f0 = r->flops;
        m->t = 0;
        rc = apply_policy(m, r->forget, policy, param, (uint64_t)r->o[FNN_FORGET_SEED] + turn,
                          &r->flops);
        if (rc == FNN_OK && !output_forgets(r->o))
            spare_output(m);
        for (uint32_t u = 1; u <= unlearn && rc == FNN_OK; u++) {
            m->t = u;
            fnn__model_update_decay(m);
            rc = train_epochs(r, r->forget, 1);
        }
        if (rc == FNN_OK && (rc = measure(r, 1, &a)) == FNN_OK)
            rc = add_phase(r, FNN_PHASE_UNLEARN, turn, unlearn, t0, f0, &a);
    }
    return rc;
}

/* Parameters and forgetting state, to restore after a failure. */
typedef struct snapshot {
    float *params;
    float **tau;
    int *on;
    uint32_t t;
} snapshot;

static void snapshot_free(snapshot *s, size_t nl)
{
    free(s->params);
    if (s->tau)
        for (size_t i = 0; i < nl; i++)
            free(s->tau[i]);
    free(s->tau);
    free(s->on);
}

static int snapshot_take(const fnn_model *m, snapshot *s)
{
    size_t nl = m->spec.n_layers;
    memset(s, 0, sizeof *s);
    s->params = fnn__alloc_floats(m->n_params);
    s->tau = calloc(nl, sizeof *s->tau);
    s->on = calloc(nl, sizeof *s->on);
    if (!s->params || !s->tau || !s->on)
        return FNN_E_NOMEM;
    memcpy(s->params, m->params, m->n_params * sizeof(float));
    for (size_t i = 0; i < nl; i++) {
        const fnn__layer *L = &m->spec.layers[i];
        s->on[i] = L->decay_on;
        if (L->tau) {
            if (!(s->tau[i] = malloc(L->units * sizeof(float))))
                return FNN_E_NOMEM;
            memcpy(s->tau[i], L->tau, L->units * sizeof(float));
        }
    }
    s->t = m->t;
    return FNN_OK;
}

static void snapshot_restore(fnn_model *m, const snapshot *s)
{
    memcpy(m->params, s->params, m->n_params * sizeof(float));
    for (size_t i = 0; i < m->spec.n_layers; i++) {
        fnn__layer *L = &m->spec.layers[i];
        L->decay_on = s->on[i];
        if (L->tau)
            memcpy(L->tau, s->tau[i], L->units * sizeof(float));
    }
    m->t = s->t;
    fnn__model_update_decay(m);
}

static void cfg_from_forget_options(const double *o, fnn__train_cfg *c)
{
    fnn__train_cfg_defaults(c);
    c->batch = (size_t)o[FNN_FORGET_BATCH_SIZE];
    c->optimizer = (int)o[FNN_FORGET_OPTIMIZER];
    c->lr = o[FNN_FORGET_LEARNING_RATE];
    double gamma = o[FNN_FORGET_LR_GAMMA];
    if (gamma < 0)
        gamma = o[FNN_FORGET_PROCEDURE] == FNN_PROCEDURE_PAPER ? 0.07 : 1.0;
    c->schedule = gamma < 1.0 ? FNN_LR_STEP : FNN_LR_CONSTANT;
    c->lr_step = 1;
    c->lr_gamma = gamma;
    c->seed = (uint64_t)o[FNN_FORGET_SEED];
}

/* Accuracy of the full forget and holdout sets and of the retain sample. */
static int measure_ends(run *r, int after)
{
    fnn_forget_report *rep = r->rep;
    double acc;
    int rc = accuracy(r, r->forget, &acc);
    if (rc)
        return rc;
    rep->v[after ? FNN_REPORT_FORGET_ACC_AFTER : FNN_REPORT_FORGET_ACC_BEFORE] = acc;
    if ((rc = accuracy(r, r->mon_retain, &acc)))
        return rc;
    rep->v[after ? FNN_REPORT_RETAIN_ACC_AFTER : FNN_REPORT_RETAIN_ACC_BEFORE] = acc;
    if (!after)
        r->retain_start = acc;
    if (r->holdout) {
        if ((rc = accuracy(r, r->holdout, &acc)))
            return rc;
        rep->v[after ? FNN_REPORT_HOLDOUT_ACC_AFTER : FNN_REPORT_HOLDOUT_ACC_BEFORE] = acc;
    }
    return FNN_OK;
}

FNN_API int fnn_model_forget(fnn_model *m, const fnn_forget_request *req,
                             const fnn_dataset *holdout, const fnn_forget_options *opts,
                             fnn_forget_report *report)
{
    if (!m)
        return FNN_E_NULL;
    if (!req)
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NULL, "forget request is NULL");
    int rc = fnn__model_check_data(m, req->train, 1);
    if (rc == FNN_OK && holdout)
        rc = fnn__model_check_data(m, holdout, 1);
    if (rc)
        return rc;
    const double *o = opts ? opts->v : fdefaults;
    int posthoc = o[FNN_FORGET_PROCEDURE] == FNN_PROCEDURE_POSTHOC;
    double target = o[FNN_FORGET_TARGET];
    if (posthoc && target < 0 && req->kind != FNN_REQUEST_CLASS && !holdout)
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NULL,
                         "a holdout data set is needed to set the automatic target of a "
                         "random or index request (or set FNN_FORGET_TARGET)");
    if (target < 0 && req->kind == FNN_REQUEST_CLASS)
        target = 0.0;

    fnn_forget_report local;
    fnn_forget_report *rep = report ? report : &local;
    memset(&local, 0, sizeof local);
    report_reset(rep);

    run r = {.m = m, .req = req, .holdout = holdout, .o = o, .rep = rep};
    cfg_from_forget_options(o, &r.cfg);
    snapshot snap;
    size_t nl = m->spec.n_layers;
    double t_start = now();
    rc = snapshot_take(m, &snap);
    int have_snapshot = rc == FNN_OK;
    if (rc == FNN_OK && (rc = fnn_forget_request_forget_set(req, &r.forget)) == FNN_OK)
        rc = fnn_forget_request_retain_set(req, &r.retain);
    if (rc == FNN_OK) {
        size_t cap = (size_t)o[FNN_FORGET_EVAL_SAMPLES];
        fnn__rng rng;
        fnn__rng_seed(&rng, (uint64_t)o[FNN_FORGET_SEED] ^ 0x853c49e6748fea9bull);
        if ((rc = sample_view(r.forget, cap, &rng, &r.mon_forget)) == FNN_OK &&
            (rc = sample_view(r.retain, cap, &rng, &r.mon_retain)) == FNN_OK && holdout)
            rc = sample_view(holdout, cap, &rng, &r.mon_holdout);
    }
    if (rc == FNN_OK)
        rc = fnn__model_reserve(m, r.cfg.batch, 1);
    if (rc != FNN_OK) {
        if (rc == FNN_E_NOMEM)
            fnn__fail(m->errmsg, sizeof m->errmsg, rc, "out of memory preparing to forget");
        goto done;
    }
    fnn__optimizer_reset(m);

    if ((rc = measure_ends(&r, 0)))
        goto done;
    if (posthoc && target < 0 && !isnan(rep->v[FNN_REPORT_HOLDOUT_ACC_BEFORE]))
        rep->v[FNN_REPORT_TARGET] = rep->v[FNN_REPORT_HOLDOUT_ACC_BEFORE];
    else if (posthoc)
        rep->v[FNN_REPORT_TARGET] = target;

    rc = posthoc ? run_posthoc(&r, target) : run_paper(&r);
    if (rc)
        goto done;
    rep->v[FNN_REPORT_FINAL_T] = m->t;
    if (o[FNN_FORGET_FOLD] != 0)
        fnn_model_fold_decay(m);
    if ((rc = measure_ends(&r, 1)))
        goto done;
    rep->v[FNN_REPORT_EPOCHS] = r.epochs;
    rep->v[FNN_REPORT_FLOPS] = r.flops;
    rep->v[FNN_REPORT_SECONDS] = now() - t_start;
done:
    if (rc != FNN_OK && have_snapshot)
        snapshot_restore(m, &snap);
    snapshot_free(&snap, nl);
    fnn_dataset_free(r.forget);
    fnn_dataset_free(r.retain);
    fnn_dataset_free(r.mon_forget);
    fnn_dataset_free(r.mon_retain);
    fnn_dataset_free(r.mon_holdout);
    if (rep == &local)
        free(local.phases);
    return rc;
}
