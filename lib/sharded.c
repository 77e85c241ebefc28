/* Sharded models (SISA): the assignment of samples to shards and slices,
 * staged training with checkpoints, aggregated prediction, and forgetting
 * routed to the shards that hold a request's samples. Every constituent is
 * an fnn_model: stages train with fnn_model_train(), inexact forgetting is
 * fnn_model_forget(). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sharded.h"

/* Salts of the seeds derived from the model's seed. */
#define SALT_INIT 0x53484152445f494eull  /* constituent initialisation */
#define SALT_STAGE 0x53484152445f5354ull /* stage training */

static int sh_fail(const fnn_sharded *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int sh_fail(const fnn_sharded *s, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    /* The message buffer is the only field a const call writes. */
    fnn__vfail((char *)s->errmsg, sizeof s->errmsg, code, fmt, ap);
    va_end(ap);
    return code;
}

uint64_t fnn__shard_init_seed(const fnn_sharded *s, uint32_t k)
{
    return fnn__seed_mix(s->seed, SALT_INIT + k);
}

static uint64_t stage_seed(const fnn_sharded *s, uint32_t k, uint32_t j)
{
    return fnn__seed_mix(s->recipe.seed,
                         SALT_STAGE + (uint64_t)k * FNN_SHARDED_MAX_SLICES + j);
}

uint32_t fnn__shard_stored(const fnn_sharded *s, const fnn__shard *sh)
{
    if (!sh->trained)
        return 0;
    return (sh->exact < s->R - 1 ? sh->exact : s->R - 1) + 1;
}

void fnn__shard_release(fnn__shard *sh, uint32_t R)
{
    if (!sh->ckpt)
        return;
    for (uint32_t j = 0; j < R; j++)
        fnn_model_free(sh->ckpt[j]);
    free(sh->ckpt);
    sh->ckpt = NULL;
}

size_t fnn__sharded_max_samples = FNN_SHARDED_MAX_SAMPLES;

int fnn__sharded_alloc(const char *spec, size_t n, uint32_t S, uint32_t R, uint64_t seed,
                       fnn_sharded **out, char *err, size_t err_size)
{
    fnn__spec sp;
    int rc;
    *out = NULL;
    if (S < 1 || S > FNN_SHARDED_MAX_SHARDS)
        return fnn__fail(err, err_size, FNN_E_INVALID, "shards must be in 1..%d, got %u",
                         FNN_SHARDED_MAX_SHARDS, (unsigned)S);
    if (R < 1 || R > FNN_SHARDED_MAX_SLICES)
        return fnn__fail(err, err_size, FNN_E_INVALID, "slices must be in 1..%d, got %u",
                         FNN_SHARDED_MAX_SLICES, (unsigned)R);
    if (n > fnn__sharded_max_samples)
        return fnn__fail(err, err_size, FNN_E_INVALID,
                         "a training set of %zu samples is over the cap of %zu", n,
                         fnn__sharded_max_samples);
    if (n / S < R)
        return fnn__fail(err, err_size, FNN_E_INVALID,
                         "%zu samples in %u shards of %u slices leave a slice empty", n,
                         (unsigned)S, (unsigned)R);
    if ((rc = fnn__spec_parse(spec, &sp, err, err_size)) != FNN_OK)
        return rc;
    fnn_sharded *s = calloc(1, sizeof *s);
    size_t len = fnn__spec_format(&sp, NULL, 0);
    if (s) {
        s->spec_text = malloc(len + 1);
        s->perm = malloc(n * sizeof *s->perm);
        s->inv = malloc(n * sizeof *s->inv);
        s->removed = calloc(n, 1);
        s->shards = calloc(S, sizeof *s->shards);
    }
    if (!s || !s->spec_text || !s->perm || !s->inv || !s->removed || !s->shards) {
        fnn__spec_free(&sp);
        fnn_sharded_free(s);
        return fnn__fail(err, err_size, FNN_E_NOMEM,
                         "out of memory for a sharded model of %zu samples", n);
    }
    fnn__spec_format(&sp, s->spec_text, len + 1);
    s->in_c = sp.in_c;
    s->classes = sp.layers[sp.n_layers - 1].units;
    fnn__spec_free(&sp);
    s->n = n;
    s->S = S;
    s->R = R;
    s->seed = seed;
    fnn__train_options_init(&s->recipe);
    fnn__rng rng;
    fnn__rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++)
        s->perm[i] = (uint32_t)i;
    fnn__shuffle_u32(&rng, s->perm, n);
    /* The inverse is a scatter over n positions: each write's line is
     * fetched a few iterations early (see fnn__shuffle_u32). */
    for (size_t i = 0; i < n; i++) {
        if (i + 16 < n)
            __builtin_prefetch(&s->inv[s->perm[i + 16]], 1);
        s->inv[s->perm[i]] = (uint32_t)i;
    }
    for (uint32_t k = 0; k < S; k++) {
        fnn__shard *sh = &s->shards[k];
        sh->first = (size_t)((uint64_t)k * n / S);
        sh->n = (size_t)((uint64_t)(k + 1) * n / S) - sh->first;
        sh->last[FNN_SHARD_LAST_METHOD] = -1;
    }
    *out = s;
    return FNN_OK;
}

/* A fresh constituent of shard k. */
static int new_constituent(const fnn_sharded *s, uint32_t k, fnn_model **out)
{
    char msg[FNN__ERRMSG_SIZE];
    int rc = fnn_model_create(out, s->spec_text, fnn__shard_init_seed(s, k), msg, sizeof msg);
    return rc == FNN_OK ? rc : sh_fail(s, rc, "shard %u: %s", (unsigned)k, msg);
}

/* Holds shard k untrained: its constituent as created. */
static int hold_fresh(fnn_sharded *s, uint32_t k)
{
    fnn__shard *sh = &s->shards[k];
    fnn_model **c = calloc(s->R, sizeof *c);
    if (!c)
        return sh_fail(s, FNN_E_NOMEM, "out of memory");
    int rc = new_constituent(s, k, &c[s->R - 1]);
    if (rc != FNN_OK) {
        free(c);
        return rc;
    }
    sh->ckpt = c;
    return FNN_OK;
}

FNN_API int fnn_sharded_create(fnn_sharded **out, const char *spec, size_t train_size,
                               uint32_t shards, uint32_t slices, uint64_t seed,
                               const fnn_train_options *recipe, char *err, size_t err_size)
{
    if (err && err_size)
        err[0] = '\0';
    if (!out)
        return fnn__fail(err, err_size, FNN_E_NULL, "out is NULL");
    *out = NULL;
    if (!spec)
        return fnn__fail(err, err_size, FNN_E_NULL, "spec is NULL");
    fnn_sharded *s;
    int rc = fnn__sharded_alloc(spec, train_size, shards, slices, seed, &s, err, err_size);
    if (rc != FNN_OK)
        return rc;
    if (recipe) {
        memcpy(&s->recipe, recipe, sizeof s->recipe);
        s->recipe.errmsg[0] = '\0';
    }
    for (uint32_t k = 0; k < shards && rc == FNN_OK; k++)
        rc = hold_fresh(s, k);
    if (rc != FNN_OK) {
        fnn__fail(err, err_size, rc, "%s", s->errmsg);
        fnn_sharded_free(s);
        return rc;
    }
    *out = s;
    return FNN_OK;
}

FNN_API void fnn_sharded_free(fnn_sharded *s)
{
    if (!s)
        return;
    if (s->shards)
        for (uint32_t k = 0; k < s->S; k++) {
            fnn__shard_release(&s->shards[k], s->R);
            free(s->shards[k].files);
        }
    free(s->shards);
    free(s->spec_text);
    free(s->perm);
    free(s->inv);
    free(s->removed);
    free(s->path);
    free(s);
}

FNN_API const char *fnn_sharded_errmsg(const fnn_sharded *s)
{
    return s ? s->errmsg : "";
}

FNN_API uint32_t fnn_sharded_num_shards(const fnn_sharded *s)
{
    return s ? s->S : 0;
}

FNN_API uint32_t fnn_sharded_num_slices(const fnn_sharded *s)
{
    return s ? s->R : 0;
}

FNN_API size_t fnn_sharded_train_size(const fnn_sharded *s)
{
    return s ? s->n : 0;
}

/* Shard and slice of permutation position p: the k with
 * floor(k N / S) <= p < floor((k + 1) N / S), and likewise within it. */
static void locate_pos(const fnn_sharded *s, size_t p, uint32_t *shard, uint32_t *slice)
{
    uint32_t k = (uint32_t)((((uint64_t)p + 1) * s->S - 1) / s->n);
    const fnn__shard *sh = &s->shards[k];
    uint64_t q = p - sh->first;
    *shard = k;
    *slice = (uint32_t)(((q + 1) * s->R - 1) / sh->n);
}

FNN_API int fnn_sharded_recipe(const fnn_sharded *s, fnn_train_options **out, uint64_t *seed)
{
    if (!s)
        return FNN_E_NULL;
    if (!out)
        return sh_fail(s, FNN_E_NULL, "out is NULL");
    if (fnn_train_options_create(out) != FNN_OK)
        return sh_fail(s, FNN_E_NOMEM, "out of memory");
    memcpy((*out)->v, s->recipe.v, sizeof s->recipe.v);
    (*out)->seed = s->recipe.seed;
    (*out)->set_mask = (1u << FNN__TRAIN_NKEYS) - 1;
    if (seed)
        *seed = s->seed;
    return FNN_OK;
}

FNN_API int fnn_sharded_locate(const fnn_sharded *s, uint32_t sample, uint32_t *shard,
                               uint32_t *slice)
{
    uint32_t k, r;
    if (!s)
        return FNN_E_NULL;
    if (sample >= s->n)
        return sh_fail(s, FNN_E_RANGE, "sample %u is outside the training set of %zu",
                       (unsigned)sample, s->n);
    locate_pos(s, s->inv[sample], &k, &r);
    if (shard)
        *shard = k;
    if (slice)
        *slice = r;
    return FNN_OK;
}

/* Start of slice j of a shard, as a permutation position (j = R: its end). */
static size_t slice_start(const fnn_sharded *s, const fnn__shard *sh, uint32_t j)
{
    return sh->first + (size_t)((uint64_t)j * sh->n / s->R);
}

/* The retained samples of slices [0, j) of shard sh into idx (room for
 * sh->n); returns their count. */
static size_t retained_upto(const fnn_sharded *s, const fnn__shard *sh, uint32_t j,
                            uint32_t *idx)
{
    size_t c = 0, end = slice_start(s, sh, j);
    for (size_t p = sh->first; p < end; p++)
        if (!s->removed[s->perm[p]])
            idx[c++] = s->perm[p];
    return c;
}

static int check_shard(const fnn_sharded *s, uint32_t shard)
{
    if (!s)
        return FNN_E_NULL;
    if (shard >= s->S)
        return sh_fail(s, FNN_E_RANGE, "shard %u does not exist (the model has %u)",
                       (unsigned)shard, (unsigned)s->S);
    return FNN_OK;
}

FNN_API int fnn_sharded_shard_get(const fnn_sharded *s, uint32_t shard, int key,
                                  double *value)
{
    int rc = check_shard(s, shard);
    if (rc != FNN_OK)
        return rc;
    if (!value)
        return sh_fail(s, FNN_E_NULL, "value is NULL");
    const fnn__shard *sh = &s->shards[shard];
    switch (key) {
    case FNN_SHARD_SAMPLES: *value = (double)sh->n; break;
    case FNN_SHARD_RETAINED: *value = (double)(sh->n - sh->n_removed); break;
    case FNN_SHARD_FORGOTTEN: *value = (double)sh->n_removed; break;
    case FNN_SHARD_TRAINED: *value = sh->trained; break;
    case FNN_SHARD_HELD: *value = sh->ckpt != NULL; break;
    case FNN_SHARD_EXACT_SLICES: *value = sh->exact; break;
    case FNN_SHARD_REQUESTS: *value = sh->requests; break;
    case FNN_SHARD_LAST_FORGOTTEN:
    case FNN_SHARD_LAST_METHOD:
    case FNN_SHARD_LAST_SLICES:
    case FNN_SHARD_LAST_SECONDS:
    case FNN_SHARD_LAST_FLOPS:
    case FNN_SHARD_TRAIN_SECONDS:
    case FNN_SHARD_TRAIN_FLOPS: *value = sh->last[key]; break;
    default: return sh_fail(s, FNN_E_INVALID, "unknown shard key %d", key);
    }
    return FNN_OK;
}

FNN_API int fnn_sharded_shard_samples(const fnn_sharded *s, uint32_t shard, uint32_t *out,
                                      size_t n)
{
    int rc = check_shard(s, shard);
    if (rc != FNN_OK)
        return rc;
    const fnn__shard *sh = &s->shards[shard];
    if (!out)
        return sh_fail(s, FNN_E_NULL, "out is NULL");
    if (n < sh->n - sh->n_removed)
        return sh_fail(s, FNN_E_SHAPE, "room for %zu samples, shard %u trains on %zu", n,
                       (unsigned)shard, sh->n - sh->n_removed);
    size_t c = 0;
    for (size_t p = sh->first; p < sh->first + sh->n; p++)
        if (!s->removed[s->perm[p]])
            out[c++] = s->perm[p];
    return FNN_OK;
}

FNN_API const fnn_model *fnn_sharded_constituent(const fnn_sharded *s, uint32_t shard)
{
    if (!s || shard >= s->S || !s->shards[shard].ckpt)
        return NULL;
    return s->shards[shard].ckpt[s->R - 1];
}

FNN_API int fnn_sharded_set_progress(fnn_sharded *s, fnn_progress_fn fn, void *user)
{
    if (!s)
        return FNN_E_NULL;
    s->recipe.progress = fn;
    s->recipe.user = user;
    return FNN_OK;
}

FNN_API int fnn_sharded_set_aggregation(fnn_sharded *s, int aggregation)
{
    if (!s)
        return FNN_E_NULL;
    if (aggregation != FNN_AGGREGATE_MEAN && aggregation != FNN_AGGREGATE_VOTE)
        return sh_fail(s, FNN_E_INVALID, "aggregation must be %d (mean) or %d (vote), got %d",
                       FNN_AGGREGATE_MEAN, FNN_AGGREGATE_VOTE, aggregation);
    s->aggregation = aggregation;
    return FNN_OK;
}

FNN_API int fnn_sharded_aggregation(const fnn_sharded *s)
{
    return s ? s->aggregation : FNN_E_NULL;
}

FNN_API int fnn_sharded_release(fnn_sharded *s, uint32_t shard)
{
    int rc = check_shard(s, shard);
    if (rc == FNN_OK && s->shards[shard].ckpt) {
        fnn__shard_release(&s->shards[shard], s->R);
        s->shards[shard].stale = 1;
    }
    return rc;
}

/* ---- training ------------------------------------------------------------------ */

/* Checks that train is the training set of the model for constituent m. */
static int check_train_set(const fnn_sharded *s, const fnn_model *m, const fnn_dataset *train)
{
    if (!train)
        return sh_fail(s, FNN_E_NULL, "the training set is NULL");
    if (train->n != s->n)
        return sh_fail(s, FNN_E_SHAPE,
                       "the training set has %zu samples, the model is assigned to %zu",
                       train->n, s->n);
    if (m && fnn__model_check_data(m, train, 1) != FNN_OK)
        return sh_fail(s, FNN_E_SHAPE, "the training set: %s", m->errmsg);
    return FNN_OK;
}

/* Cost of a shard's work. */
typedef struct work_cost {
    double seconds, flops;
    uint32_t stages;
} work_cost;

/* The normalisation of a shard's stages: the statistics, as the data set
 * presents them, of its first slice that has retained samples (the rule of
 * FNN_TRAIN_NORMALIZE with a constant channel only centred). */
static int stage_stats(const fnn_sharded *s, const fnn_dataset *train, const uint32_t *idx,
                       size_t count, float *mean, float *std)
{
    fnn_dataset *v = NULL;
    int rc = fnn__dataset_view(train, idx, count, &v);
    if (rc == FNN_OK)
        rc = fnn__dataset_presented_stats(v, mean, std);
    fnn_dataset_free(v);
    if (rc != FNN_OK)
        return sh_fail(s, FNN_E_NOMEM, "out of memory for the input statistics");
    for (uint32_t c = 0; c < s->in_c; c++) {
        if (!isfinite(mean[c]))
            mean[c] = 0.0f;
        if (!(std[c] > 1e-12f) || !isfinite(std[c]))
            std[c] = 1.0f;
    }
    return FNN_OK;
}

/* Trains stages j0 + 1 .. R of shard k on its retained samples into ck (R
 * slots): ck[j] for j < j0 are taken from the shard's checkpoints by the
 * caller; the model after stage j0 is `m` (owned, consumed). */
static int train_stages(fnn_sharded *s, uint32_t k, const fnn_dataset *train, uint32_t j0,
                        fnn_model *m, fnn_model **ck, work_cost *cost)
{
    const fnn__shard *sh = &s->shards[k];
    int normalize = s->recipe.v[FNN_TRAIN_NORMALIZE] != 0.0;
    uint32_t C = s->in_c;
    uint32_t *idx = malloc((sh->n ? sh->n : 1) * sizeof *idx);
    float *buf = malloc(6 * (size_t)C * sizeof *buf);
    float *mean = buf, *std = buf + C, *umean = buf + 2 * C, *ustd = buf + 3 * C;
    float *vmean = buf + 4 * C, *vstd = buf + 5 * C;
    int rc = FNN_OK, have_stats = 0;
    double t0 = fnn__now();
    if (!idx || !buf) {
        rc = sh_fail(s, FNN_E_NOMEM, "out of memory training shard %u", (unsigned)k);
        goto done;
    }
    if (normalize) {
        /* The first slice with retained samples fixes the statistics. */
        for (uint32_t j = 1; j <= s->R && !have_stats; j++) {
            size_t c = retained_upto(s, sh, j, idx);
            if (c > 0) {
                if ((rc = stage_stats(s, train, idx, c, mean, std)) != FNN_OK)
                    goto done;
                have_stats = 1;
            }
        }
        for (uint32_t c = 0; c < C; c++) {
            umean[c] = -mean[c] / std[c];
            ustd[c] = 1.0f / std[c];
        }
    }
    /* Whether the model's first layer has a normalisation folded in: some
     * stage up to j0 trained. */
    int folded = j0 > 0 && retained_upto(s, sh, j0, idx) > 0;
    for (uint32_t j = j0 + 1; j <= s->R && rc == FNN_OK; j++) {
        size_t count = retained_upto(s, sh, j, idx);
        if (count > 0) {
            fnn_dataset *v = NULL;
            fnn_train_options o = s->recipe;
            o.seed = stage_seed(s, k, j);
            o.v[FNN_TRAIN_SEED] = (double)o.seed;
            if ((rc = fnn__dataset_view(train, idx, count, &v)) != FNN_OK) {
                rc = sh_fail(s, rc, "out of memory for shard %u's stage %u", (unsigned)k,
                             (unsigned)j);
                break;
            }
            if (normalize) {
                fnn__train_options_put(&o, FNN_TRAIN_NORMALIZE, 0);
                for (uint32_t c = 0; c < C; c++) {
                    vmean[c] = v->mean[c] + v->std[c] * mean[c];
                    vstd[c] = v->std[c] * std[c];
                }
                rc = fnn_dataset_set_normalization(v, vmean, vstd, C);
                if (rc == FNN_OK && folded)
                    rc = fnn__fold_normalization(m, umean, ustd);
                if (rc != FNN_OK)
                    rc = sh_fail(s, rc, "shard %u, stage %u: normalising: %s", (unsigned)k,
                                 (unsigned)j, v->errmsg[0] ? v->errmsg : m->errmsg);
            }
            if (rc == FNN_OK && (rc = fnn_model_train(m, v, &o)) != FNN_OK)
                sh_fail(s, rc, "shard %u, stage %u: %s", (unsigned)k, (unsigned)j, m->errmsg);
            if (rc == FNN_OK && normalize && (rc = fnn__fold_normalization(m, mean, std)))
                sh_fail(s, rc, "shard %u, stage %u: %s", (unsigned)k, (unsigned)j, m->errmsg);
            fnn_dataset_free(v);
            if (rc != FNN_OK)
                break;
            folded = 1;
            cost->flops += o.v[FNN_TRAIN_EPOCHS] * (double)count *
                           fnn_model_flops_per_sample(m, 1);
            cost->stages++;
        }
        if (j < s->R) {
            if ((rc = fnn_model_clone(m, &ck[j - 1])) != FNN_OK)
                sh_fail(s, rc, "shard %u: cannot keep checkpoint %u: %s", (unsigned)k,
                        (unsigned)j, m->errmsg);
        } else {
            ck[j - 1] = m;
            m = NULL;
        }
    }
done:
    cost->seconds += fnn__now() - t0;
    fnn_model_free(m);
    free(idx);
    free(buf);
    return rc;
}

static void free_models(fnn_model **ck, uint32_t R)
{
    if (!ck)
        return;
    for (uint32_t j = 0; j < R; j++)
        fnn_model_free(ck[j]);
    free(ck);
}

FNN_API int fnn_sharded_train_shard(fnn_sharded *s, uint32_t shard, const fnn_dataset *train)
{
    int rc = check_shard(s, shard);
    if (rc != FNN_OK)
        return rc;
    fnn__shard *sh = &s->shards[shard];
    if (!sh->ckpt)
        return sh_fail(s, FNN_E_STATE, "shard %u is not held by this handle", (unsigned)shard);
    if ((rc = check_train_set(s, sh->ckpt[s->R - 1], train)) != FNN_OK)
        return rc;
    fnn_model **ck = calloc(s->R, sizeof *ck), *m = NULL;
    work_cost cost = {0, 0, 0};
    if (!ck)
        return sh_fail(s, FNN_E_NOMEM, "out of memory");
    if ((rc = new_constituent(s, shard, &m)) == FNN_OK)
        rc = train_stages(s, shard, train, 0, m, ck, &cost);
    if (rc != FNN_OK) {
        free_models(ck, s->R);
        return rc;
    }
    free_models(sh->ckpt, s->R);
    sh->ckpt = ck;
    sh->last[FNN_SHARD_TRAIN_SECONDS] = cost.seconds;
    sh->last[FNN_SHARD_TRAIN_FLOPS] = cost.flops;
    sh->trained = 1;
    sh->exact = s->R;
    sh->clean = 0;
    return FNN_OK;
}

FNN_API int fnn_sharded_train(fnn_sharded *s, const fnn_dataset *train)
{
    if (!s)
        return FNN_E_NULL;
    for (uint32_t k = 0; k < s->S; k++) {
        if (!s->shards[k].ckpt)
            continue;
        int rc = fnn_sharded_train_shard(s, k, train);
        if (rc != FNN_OK)
            return rc;
    }
    return FNN_OK;
}

/* ---- prediction -------------------------------------------------------------- */

FNN_API int fnn_sharded_shard_proba(const fnn_sharded *s, uint32_t shard,
                                    const fnn_dataset *ds, float *out, size_t n)
{
    int rc = check_shard(s, shard);
    if (rc != FNN_OK)
        return rc;
    const fnn__shard *sh = &s->shards[shard];
    if (!sh->ckpt || !sh->trained)
        return sh_fail(s, FNN_E_STATE, "shard %u is %s", (unsigned)shard,
                       sh->ckpt ? "not trained" : "not held by this handle");
    const fnn_model *m = sh->ckpt[s->R - 1];
    if ((rc = fnn_model_predict_proba(m, ds, out, n)) != FNN_OK)
        return sh_fail(s, rc, "shard %u: %s", (unsigned)shard, fnn_model_errmsg(m));
    return FNN_OK;
}

FNN_API int fnn_sharded_aggregate(const fnn_sharded *s, const float *shard_proba, size_t n,
                                  size_t samples, float *proba, int32_t *pred)
{
    if (!s)
        return FNN_E_NULL;
    if (!shard_proba)
        return sh_fail(s, FNN_E_NULL, "shard_proba is NULL");
    size_t C = s->classes, need, block;
    if (fnn__mul(samples, C, &block) || fnn__mul(block, s->S, &need) || n < need)
        return sh_fail(s, FNN_E_SHAPE,
                       "%zu floats given, %u shards of %zu samples of %zu classes need more",
                       n, (unsigned)s->S, samples, C);
    double *acc = malloc((2 * C + 1) * sizeof *acc);
    if (!acc)
        return sh_fail(s, FNN_E_NOMEM, "out of memory");
    double *votes = acc + C;
    for (size_t i = 0; i < samples; i++) {
        for (size_t c = 0; c < 2 * C; c++)
            acc[c] = 0.0;
        for (uint32_t k = 0; k < s->S; k++) {
            const float *p = shard_proba + (size_t)k * block + i * C;
            size_t best = 0;
            for (size_t c = 0; c < C; c++) {
                acc[c] += p[c];
                if (p[c] > p[best])
                    best = c;
            }
            votes[best] += 1.0;
        }
        size_t best = 0;
        for (size_t c = 1; c < C; c++) {
            int better = s->aggregation == FNN_AGGREGATE_VOTE
                             ? votes[c] > votes[best] ||
                                   (votes[c] == votes[best] && acc[c] > acc[best])
                             : acc[c] > acc[best];
            if (better)
                best = c;
        }
        if (proba)
            for (size_t c = 0; c < C; c++)
                proba[i * C + c] = (float)((s->aggregation == FNN_AGGREGATE_VOTE ? votes[c]
                                                                                : acc[c]) /
                                           (double)s->S);
        if (pred)
            pred[i] = (int32_t)best;
    }
    free(acc);
    return FNN_OK;
}

/* Aggregated probabilities and predictions of every shard (either output
 * may be NULL). */
static int predict_all(const fnn_sharded *s, const fnn_dataset *ds, float *proba,
                       int32_t *pred)
{
    size_t block, all;
    if (!ds)
        return sh_fail(s, FNN_E_NULL, "the data set is NULL");
    if (fnn__mul(ds->n, s->classes, &block) || fnn__mul(block, s->S, &all))
        return sh_fail(s, FNN_E_NOMEM, "the probabilities of %zu samples overflow", ds->n);
    float *p = malloc((all ? all : 1) * sizeof *p);
    if (!p)
        return sh_fail(s, FNN_E_NOMEM, "out of memory for %zu probabilities", all);
    int rc = FNN_OK;
    for (uint32_t k = 0; k < s->S && rc == FNN_OK; k++)
        rc = fnn_sharded_shard_proba(s, k, ds, p + (size_t)k * block, block);
    if (rc == FNN_OK)
        rc = fnn_sharded_aggregate(s, p, all, ds->n, proba, pred);
    free(p);
    return rc;
}

FNN_API int fnn_sharded_predict_proba(const fnn_sharded *s, const fnn_dataset *ds, float *out,
                                      size_t n)
{
    if (!s)
        return FNN_E_NULL;
    if (!out)
        return sh_fail(s, FNN_E_NULL, "out is NULL");
    if (ds && n / (s->classes ? s->classes : 1) < ds->n)
        return sh_fail(s, FNN_E_SHAPE, "room for %zu floats, %zu samples of %u classes need more",
                       n, ds->n, (unsigned)s->classes);
    return predict_all(s, ds, out, NULL);
}

FNN_API int fnn_sharded_predict(const fnn_sharded *s, const fnn_dataset *ds, int32_t *out,
                                size_t n)
{
    if (!s)
        return FNN_E_NULL;
    if (!out)
        return sh_fail(s, FNN_E_NULL, "out is NULL");
    if (ds && n < ds->n)
        return sh_fail(s, FNN_E_SHAPE, "room for %zu labels, the data set has %zu", n, ds->n);
    return predict_all(s, ds, NULL, out);
}

FNN_API int fnn_sharded_evaluate(const fnn_sharded *s, const fnn_dataset *ds,
                                 double *accuracy)
{
    if (!s)
        return FNN_E_NULL;
    if (!ds || !accuracy)
        return sh_fail(s, FNN_E_NULL, "%s is NULL", ds ? "accuracy" : "the data set");
    if (ds->n == 0)
        return sh_fail(s, FNN_E_EMPTY, "the data set is empty");
    int32_t *pred = malloc(ds->n * sizeof *pred);
    if (!pred)
        return sh_fail(s, FNN_E_NOMEM, "out of memory");
    int rc = predict_all(s, ds, NULL, pred);
    size_t correct = 0;
    for (size_t i = 0; i < ds->n && rc == FNN_OK; i++) {
        int32_t y = ds->store->labels[fnn__ds_at(ds, i)];
        if (y < 0 || (uint32_t)y >= s->classes)
            rc = sh_fail(s, FNN_E_RANGE, "sample %zu has label %d, the model has %u classes", i,
                         (int)y, (unsigned)s->classes);
        correct += pred[i] == y;
    }
    free(pred);
    if (rc == FNN_OK)
        *accuracy = (double)correct / (double)ds->n;
    return rc;
}

/* ---- forgetting ---------------------------------------------------------------- */

/* The new state of one affected shard, committed when every shard succeeded. */
typedef struct shard_plan {
    size_t count;              /* the request's samples in the shard */
    uint32_t first_slice;      /* the first slice holding one */
    fnn_model **ck;            /* exact: the new checkpoints (R) */
    fnn_model *model;          /* other methods: the new constituent */
    work_cost cost;
} shard_plan;

/* The record exact retraining leaves in the constituent's deletion history:
 * the fields fnn_model_forget() fills, for a request of the shard's samples
 * at positions pos (ascending) of its retained ones. */
static void exact_record(size_t count, size_t retained, const uint32_t *pos, double flops,
                         fnn__history_rec *h)
{
    for (int k = 0; k < FNN__HISTORY_NKEYS; k++)
        h->v[k] = NAN;
    h->v[FNN_HISTORY_METHOD] = FNN_METHOD_RETRAIN;
    h->v[FNN_HISTORY_REQUEST_KIND] = FNN_REQUEST_INDICES;
    h->v[FNN_HISTORY_CLASS] = -1;
    h->v[FNN_HISTORY_FORGET_SIZE] = (double)count;
    h->v[FNN_HISTORY_TRAIN_SIZE] = (double)retained;
    h->v[FNN_HISTORY_FLOPS] = flops;
    fnn__sha256 sha;
    fnn__sha256_init(&sha);
    for (size_t i = 0; i < count; i++) {
        uint8_t b[4] = {(uint8_t)pos[i], (uint8_t)(pos[i] >> 8), (uint8_t)(pos[i] >> 16),
                        (uint8_t)(pos[i] >> 24)};
        fnn__sha256_update(&sha, b, 4);
    }
    fnn__sha256_final(&sha, h->digest);
    memset(h->version, 0, sizeof h->version);
    strncpy(h->version, fnn_version_string(), sizeof h->version - 1);
}

/* Positions, among shard sh's retained samples, of those flagged in mark;
 * returns the count of retained samples. */
static size_t shard_positions(const fnn_sharded *s, const fnn__shard *sh, const uint8_t *mark,
                              uint32_t *retained, uint32_t *pos, size_t *npos)
{
    size_t c = 0;
    *npos = 0;
    for (size_t p = sh->first; p < sh->first + sh->n; p++) {
        uint32_t i = s->perm[p];
        if (s->removed[i])
            continue;
        if (mark[i])
            pos[(*npos)++] = (uint32_t)c;
        retained[c++] = i;
    }
    return c;
}

/* Exact slice retraining of shard k with the request's samples (flagged in
 * s->removed already). */
static int plan_exact(fnn_sharded *s, uint32_t k, const fnn_dataset *train, shard_plan *pl,
                      const uint32_t *pos, size_t retained_before)
{
    fnn__shard *sh = &s->shards[k];
    uint32_t j0 = pl->first_slice < sh->exact ? pl->first_slice : sh->exact;
    fnn_model *m = NULL;
    int rc;
    pl->ck = calloc(s->R, sizeof *pl->ck);
    if (!pl->ck)
        return sh_fail(s, FNN_E_NOMEM, "out of memory");
    rc = j0 == 0 ? new_constituent(s, k, &m) : fnn_model_clone(sh->ckpt[j0 - 1], &m);
    /* The checkpoints before the first retrained stage stay (j0 < R). */
    for (uint32_t j = 0; j < j0 && rc == FNN_OK; j++)
        if ((rc = fnn_model_clone(sh->ckpt[j], &pl->ck[j])) != FNN_OK)
            sh_fail(s, rc, "out of memory copying shard %u's checkpoints", (unsigned)k);
    if (rc != FNN_OK) {
        fnn_model_free(m);
        return rc;
    }
    if ((rc = train_stages(s, k, train, j0, m, pl->ck, &pl->cost)) != FNN_OK)
        return rc;
    /* The new constituent carries the old one's deletion history and this
     * request. */
    fnn_model *c = pl->ck[s->R - 1];
    const fnn_model *old = sh->ckpt[s->R - 1];
    fnn__history_rec h;
    exact_record(pl->count, retained_before, pos, pl->cost.flops, &h);
    free(c->history);
    c->history = NULL;
    c->n_history = 0;
    for (size_t i = 0; i < old->n_history && rc == FNN_OK; i++)
        rc = fnn__history_append(c, &old->history[i]);
    if (rc == FNN_OK)
        rc = fnn__history_append(c, &h);
    if (rc != FNN_OK)
        return sh_fail(s, rc, "shard %u: cannot record the deletion", (unsigned)k);
    return FNN_OK;
}

/* Any other method: fnn_model_forget() on a copy of the constituent. */
static int plan_method(fnn_sharded *s, uint32_t k, const fnn_dataset *train,
                       const uint32_t *retained, size_t n_retained, const uint32_t *pos,
                       const fnn_dataset *holdout, const fnn_forget_options *opts,
                       shard_plan *pl)
{
    fnn__shard *sh = &s->shards[k];
    fnn_dataset *set = NULL;
    fnn_forget_request *req = NULL;
    fnn_forget_report *rep = NULL;
    char msg[FNN__ERRMSG_SIZE] = "";
    int rc = fnn__dataset_view(train, retained, n_retained, &set);
    if (rc == FNN_OK)
        rc = fnn_forget_request_from_indices(&req, set, pos, pl->count, msg, sizeof msg);
    if (rc == FNN_OK)
        rc = fnn_forget_report_create(&rep);
    if (rc == FNN_OK && (rc = fnn_model_clone(sh->ckpt[s->R - 1], &pl->model)) != FNN_OK)
        snprintf(msg, sizeof msg, "%s", fnn_model_errmsg(sh->ckpt[s->R - 1]));
    if (rc == FNN_OK && (rc = fnn_model_forget(pl->model, req, holdout, opts, rep)) != FNN_OK)
        snprintf(msg, sizeof msg, "%s", fnn_model_errmsg(pl->model));
    if (rc == FNN_OK) {
        fnn_forget_report_get(rep, FNN_REPORT_METHOD_SECONDS, &pl->cost.seconds);
        fnn_forget_report_get(rep, FNN_REPORT_METHOD_FLOPS, &pl->cost.flops);
    } else {
        sh_fail(s, rc, "shard %u: %s", (unsigned)k, msg[0] ? msg : "out of memory");
    }
    fnn_forget_report_free(rep);
    fnn_forget_request_free(req);
    fnn_dataset_free(set);
    return rc;
}

/* Checks the request against the model; counts its samples per shard into
 * plans and flags them in mark. */
static int check_request(const fnn_sharded *s, const uint32_t *indices, size_t n,
                         uint8_t *mark, shard_plan *plans)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t x = indices[i], k, r;
        if (x >= s->n)
            return sh_fail(s, FNN_E_RANGE, "index %zu: sample %u is outside the training set "
                                           "of %zu",
                           i, (unsigned)x, s->n);
        if (mark[x])
            return sh_fail(s, FNN_E_DUPLICATE, "sample %u appears twice", (unsigned)x);
        if (s->removed[x])
            return sh_fail(s, FNN_E_STATE, "sample %u was forgotten before", (unsigned)x);
        mark[x] = 1;
        locate_pos(s, s->inv[x], &k, &r);
        shard_plan *pl = &plans[k];
        if (pl->count == 0 || r < pl->first_slice)
            pl->first_slice = r;
        pl->count++;
    }
    for (uint32_t k = 0; k < s->S; k++) {
        const fnn__shard *sh = &s->shards[k];
        if (!plans[k].count || !sh->ckpt)
            continue;
        if (!sh->trained)
            return sh_fail(s, FNN_E_STATE, "shard %u holds sample(s) of the request but is not "
                                           "trained",
                           (unsigned)k);
        if (plans[k].count >= sh->n - sh->n_removed)
            return sh_fail(s, FNN_E_EMPTY, "the request would leave shard %u without samples",
                           (unsigned)k);
    }
    return FNN_OK;
}

FNN_API int fnn_sharded_forget(fnn_sharded *s, const fnn_dataset *train,
                               const uint32_t *indices, size_t n, const fnn_dataset *holdout,
                               const fnn_forget_options *opts)
{
    if (!s)
        return FNN_E_NULL;
    if (!indices)
        return sh_fail(s, FNN_E_NULL, "indices is NULL");
    if (n == 0)
        return sh_fail(s, FNN_E_EMPTY, "the request holds no sample");
    const fnn_model *any = NULL;
    for (uint32_t k = 0; k < s->S && !any; k++)
        any = fnn_sharded_constituent(s, k);
    int rc = check_train_set(s, any, train);
    if (rc != FNN_OK)
        return rc;
    double method = FNN_METHOD_FNN;
    if (opts)
        fnn_forget_options_get(opts, FNN_FORGET_METHOD, &method);
    int exact = method == FNN_METHOD_RETRAIN;

    uint8_t *mark = calloc(s->n, 1);
    shard_plan *plans = calloc(s->S, sizeof *plans);
    size_t most = 0;
    for (uint32_t k = 0; k < s->S; k++)
        most = s->shards[k].n > most ? s->shards[k].n : most;
    uint32_t *retained = malloc(most * sizeof *retained), *pos = malloc(most * sizeof *pos);
    if (!mark || !plans || !retained || !pos) {
        rc = sh_fail(s, FNN_E_NOMEM, "out of memory for a request of %zu samples", n);
        goto done;
    }
    if ((rc = check_request(s, indices, n, mark, plans)) != FNN_OK)
        goto done;
    for (uint32_t k = 0; k < s->S && rc == FNN_OK; k++) {
        shard_plan *pl = &plans[k];
        fnn__shard *sh = &s->shards[k];
        if (!pl->count || !sh->ckpt)
            continue;
        size_t npos, nret = shard_positions(s, sh, mark, retained, pos, &npos);
        if (exact) {
            /* The retained sets of the retrained stages leave the samples out. */
            for (size_t i = 0; i < npos; i++)
                s->removed[retained[pos[i]]] = 1;
            rc = plan_exact(s, k, train, pl, pos, nret);
            for (size_t i = 0; i < npos; i++)
                s->removed[retained[pos[i]]] = 0;
        } else {
            rc = plan_method(s, k, train, retained, nret, pos, holdout, opts, pl);
        }
    }
    if (rc != FNN_OK)
        goto done;
    /* Commit. */
    for (uint32_t k = 0; k < s->S; k++) {
        shard_plan *pl = &plans[k];
        fnn__shard *sh = &s->shards[k];
        for (int key = FNN_SHARD_LAST_FORGOTTEN; key <= FNN_SHARD_LAST_FLOPS; key++)
            sh->last[key] = 0;
        sh->last[FNN_SHARD_LAST_METHOD] = -1;
        if (pl->count && !sh->ckpt)
            sh->stale = 1; /* served where it is held */
        if (!pl->count || !sh->ckpt)
            continue;
        for (size_t p = sh->first; p < sh->first + sh->n; p++)
            if (mark[s->perm[p]])
                s->removed[s->perm[p]] = 1;
        sh->n_removed += pl->count;
        sh->requests++;
        sh->clean = 0;
        if (exact) {
            free_models(sh->ckpt, s->R);
            sh->ckpt = pl->ck;
            pl->ck = NULL;
            sh->exact = s->R;
        } else {
            /* Checkpoints from the first affected slice on still hold the samples. */
            for (uint32_t j = pl->first_slice; j + 1 < s->R; j++) {
                fnn_model_free(sh->ckpt[j]);
                sh->ckpt[j] = NULL;
            }
            fnn_model_free(sh->ckpt[s->R - 1]);
            sh->ckpt[s->R - 1] = pl->model;
            pl->model = NULL;
            if (pl->first_slice < sh->exact)
                sh->exact = pl->first_slice;
        }
        sh->last[FNN_SHARD_LAST_FORGOTTEN] = (double)pl->count;
        sh->last[FNN_SHARD_LAST_METHOD] = method;
        sh->last[FNN_SHARD_LAST_SLICES] = pl->cost.stages;
        sh->last[FNN_SHARD_LAST_SECONDS] = pl->cost.seconds;
        sh->last[FNN_SHARD_LAST_FLOPS] = pl->cost.flops;
    }
done:
    if (plans)
        for (uint32_t k = 0; k < s->S; k++) {
            free_models(plans[k].ck, s->R);
            fnn_model_free(plans[k].model);
        }
    free(plans);
    free(mark);
    free(retained);
    free(pos);
    return rc;
}
