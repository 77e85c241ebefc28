/* Ranking neurons by their activity on a data set, and the rate policies
 * that turn ranks into forgetting rates. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int fnn__mean_preactivations(const fnn_model *m, const fnn_dataset *ds, double **means,
                             double *flops)
{
    double **capture = calloc(m->spec.n_layers, sizeof *capture);
    if (!capture)
        return fnn__model_fail(m, FNN_E_NOMEM, "out of memory");
    for (size_t k = 0; k < m->n_fl; k++) {
        memset(means[k], 0, m->fl[k].units * sizeof **means);
        capture[m->fl[k].layer] = means[k];
    }
    /* Ranks measure the neurons' own activity: every decay is off. */
    fnn__infer_out o = {.capture = capture, .no_decay = 1};
    int rc = fnn__infer(m, ds, &o);
    free(capture);
    if (rc != FNN_OK)
        return rc;
    for (size_t k = 0; k < m->n_fl; k++)
        for (uint32_t j = 0; j < m->fl[k].units; j++)
            means[k][j] /= (double)ds->n;
    if (flops)
        *flops += fnn_model_flops_per_sample(m, 0) * (double)ds->n;
    return FNN_OK;
}

typedef struct ranked {
    double mean;
    uint32_t index;
} ranked;

/* Descending mean, then ascending index: a total order, so ties are exact. */
static int by_mean_desc(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->mean != b->mean)
        return a->mean < b->mean ? 1 : -1;
    return (a->index > b->index) - (a->index < b->index);
}

/* 1-based ranks by descending mean; ties to the lower index. */
static int ranks_of(const double *mean, uint32_t n, uint32_t *rank)
{
    ranked *r = malloc(n * sizeof *r);
    if (!r)
        return FNN_E_NOMEM;
    for (uint32_t i = 0; i < n; i++)
        r[i] = (ranked){mean[i], i};
    qsort(r, n, sizeof *r, by_mean_desc);
    for (uint32_t k = 0; k < n; k++)
        rank[r[k].index] = k + 1;
    free(r);
    return FNN_OK;
}

/* One zeroed mean vector per forgetting layer, or NULL. */
static double **alloc_means(const fnn_model *m)
{
    double **means = calloc(m->n_fl ? m->n_fl : 1, sizeof *means);
    if (!means)
        return NULL;
    for (size_t k = 0; k < m->n_fl; k++) {
        if (!(means[k] = calloc(m->fl[k].units, sizeof **means))) {
            for (size_t j = 0; j < k; j++)
                free(means[j]);
            free(means);
            return NULL;
        }
    }
    return means;
}

static void free_means(const fnn_model *m, double **means)
{
    for (size_t k = 0; means && k < m->n_fl; k++)
        free(means[k]);
    free(means);
}

static int check_rank_data(const fnn_model *m, const fnn_dataset *ds)
{
    if (!ds)
        return fnn__model_fail(m, FNN_E_NULL, "data set is NULL");
    return fnn__model_check_data(m, ds, 0);
}

FNN_API int fnn_model_rank_neurons(const fnn_model *m, const fnn_dataset *ds, size_t layer,
                                   uint32_t *ranks, size_t n)
{
    if (!m)
        return FNN_E_NULL;
    if (layer >= m->n_fl)
        return fnn__model_fail(m, FNN_E_RANGE,
                               "forgetting layer %zu does not exist (the model has %zu)", layer,
                               m->n_fl);
    uint32_t units = m->fl[layer].units;
    if (!ranks)
        return fnn__model_fail(m, FNN_E_NULL, "ranks is NULL");
    if (n < units)
        return fnn__model_fail(m, FNN_E_SHAPE,
                               "ranks holds %zu values, layer %zu has %u neurons", n, layer,
                               units);
    int rc = check_rank_data(m, ds);
    if (rc)
        return rc;
    double **means = alloc_means(m);
    if (!means)
        return fnn__model_fail(m, FNN_E_NOMEM, "out of memory");
    rc = fnn__mean_preactivations(m, ds, means, NULL);
    if (rc == FNN_OK && ranks_of(means[layer], units, ranks) != FNN_OK)
        rc = fnn__model_fail(m, FNN_E_NOMEM, "out of memory");
    free_means(m, means);
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

int fnn__apply_policy(fnn_model *m, const fnn_dataset *forget, const fnn_dataset *contrast,
                      int policy, double param, uint64_t seed, double *flops)
{
    if (policy < FNN_POLICY_FIXED || policy > FNN_POLICY_CONTRAST)
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_INVALID, "unknown policy %d",
                         policy);
    if (isnan(param))
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_INVALID, "policy parameter is NaN");
    if (policy == FNN_POLICY_FIXED && !(param > 0))
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_INVALID,
                         "the fixed policy's tau must be > 0, got %g", param);
    if (policy == FNN_POLICY_CONTRAST && !contrast)
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_INVALID,
                         "the contrast policy needs retain samples to contrast the forget set "
                         "with: fnn_model_forget() provides them");
    int by_rank = policy >= FNN_POLICY_RANK;
    int rc;
    /* Every rank and rate is computed before the model changes. */
    double **means = NULL;
    uint32_t **taus = calloc(m->n_fl ? m->n_fl : 1, sizeof *taus);
    if (!taus)
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM, "out of memory");
    if (by_rank) {
        if ((rc = check_rank_data(m, forget)))
            goto done;
        if (!(means = alloc_means(m))) {
            rc = fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM, "out of memory");
            goto done;
        }
        if ((rc = fnn__mean_preactivations(m, forget, means, flops)))
            goto done;
        if (policy == FNN_POLICY_CONTRAST) {
            /* Activity on the forget set beyond that on the retain samples. */
            double **base = alloc_means(m);
            if (!base) {
                rc = fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM, "out of memory");
                goto done;
            }
            if ((rc = check_rank_data(m, contrast)) == FNN_OK &&
                (rc = fnn__mean_preactivations(m, contrast, base, flops)) == FNN_OK)
                for (size_t k = 0; k < m->n_fl; k++)
                    for (uint32_t j = 0; j < m->fl[k].units; j++)
                        means[k][j] -= base[k][j];
            free_means(m, base);
            if (rc)
                goto done;
        }
    }
    fnn__rng rng;
    fnn__rng_seed(&rng, seed);
    double k128 = param > 0 ? param : 30.0;
    rc = FNN_OK;
    for (size_t k = 0; k < m->n_fl && rc == FNN_OK; k++) {
        uint32_t U = m->fl[k].units;
        uint32_t *t = taus[k] = malloc(U * sizeof *t);
        uint32_t *pick = by_rank ? malloc(U * sizeof *pick) : NULL;
        if (!t || (by_rank && !pick)) {
            free(pick);
            rc = fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM, "out of memory");
            break;
        }
        if (policy == FNN_POLICY_ORDERED) {
            for (uint32_t j = 0; j < U; j++)
                t[j] = j + 1;
        } else if (by_rank) {
            if (ranks_of(means[k], U, t) != FNN_OK) {
                free(pick);
                rc = fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM, "out of memory");
                break;
            }
            uint32_t K = scaled_k(k128, U);
            if (policy == FNN_POLICY_TOPK) {
                for (uint32_t j = 0; j < U; j++)
                    if (t[j] <= K)
                        t[j] = 1;
            } else if (policy == FNN_POLICY_RANDOM) {
                /* K distinct neurons by a partial Fisher-Yates shuffle. */
                for (uint32_t j = 0; j < U; j++)
                    pick[j] = j;
                for (uint32_t j = 0; j < K; j++) {
                    uint32_t r = j + (uint32_t)fnn__rng_below(&rng, U - j);
                    uint32_t x = pick[j];
                    pick[j] = pick[r];
                    pick[r] = x;
                    t[pick[j]] = 1;
                }
            }
        }
        free(pick);
    }
    if (rc == FNN_OK) {
        for (size_t k = 0; k < m->n_fl; k++) {
            fnn__flayer *F = &m->fl[k];
            for (uint32_t j = 0; j < F->units; j++)
                F->tau[j] = policy == FNN_POLICY_FIXED ? (float)param : (float)taus[k][j];
            F->on = 1;
        }
        fnn__model_update_decay(m);
    }
done:
    for (size_t k = 0; k < m->n_fl; k++)
        free(taus[k]);
    free(taus);
    free_means(m, means);
    return rc;
}

FNN_API int fnn_model_apply_policy(fnn_model *m, const fnn_dataset *forget, int policy,
                                   double param, uint64_t seed)
{
    if (!m)
        return FNN_E_NULL;
    return fnn__apply_policy(m, forget, NULL, policy, param, seed, NULL);
}

void fnn__decay_layers(fnn_model *m, int which)
{
    if (m->n_fl < 2 || which == FNN__DECAY_ALL)
        return;
    for (size_t k = 0; k < m->n_fl; k++) {
        int last = k + 1 == m->n_fl;
        if (last ? which != FNN__DECAY_HIDDEN : which != FNN__DECAY_OUTPUT)
            continue; /* this layer keeps its decay */
        fnn__flayer *F = &m->fl[k];
        for (uint32_t j = 0; j < F->units; j++)
            F->tau[j] = INFINITY;
        F->on = 0;
    }
    fnn__model_update_decay(m);
}

float **fnn__save_taus(const fnn_model *m)
{
    float **saved = calloc(m->n_fl ? m->n_fl : 1, sizeof *saved);
    if (!saved)
        return NULL;
    for (size_t k = 0; k < m->n_fl; k++) {
        if (!(saved[k] = malloc(m->fl[k].units * sizeof **saved))) {
            fnn__free_taus(m, saved);
            return NULL;
        }
        memcpy(saved[k], m->fl[k].tau, m->fl[k].units * sizeof **saved);
    }
    return saved;
}

void fnn__restore_taus(fnn_model *m, float *const *saved)
{
    for (size_t k = 0; k < m->n_fl; k++) {
        memcpy(m->fl[k].tau, saved[k], m->fl[k].units * sizeof **saved);
        m->fl[k].on = 1;
    }
    fnn__model_update_decay(m);
}

void fnn__free_taus(const fnn_model *m, float **saved)
{
    for (size_t k = 0; saved && k < m->n_fl; k++)
        free(saved[k]);
    free(saved);
}
