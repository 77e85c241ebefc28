/* Per-example likelihood-ratio membership attacks: LiRA (Carlini et al.
 * 2022) and U-LiRA (Hayes et al. 2024).
 *
 * K shadow models are trained with the attacked model's recipe, each on a
 * seeded random half of a universe of samples (its IN samples); every
 * shadow then records the logit-scaled confidence (lib/mia.c) of each
 * candidate sample. For U-LiRA each shadow first unlearns, with the method
 * under test, the candidates in its half, so that a candidate's IN
 * observations are those of models that trained on it and then forgot it.
 * A target model is scored per candidate by the likelihood ratio of its own
 * confidence under the candidate's IN and OUT Gaussians. Shadows train in
 * parallel on FNN_ATTACK_THREADS threads, each with its own model. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mia.h"
#include "unlearn.h"

/* Non-members given to a shadow's unlearning run (its automatic target). */
#define SHADOW_HOLDOUT 10000u

const fnn__keydef fnn__attack_keys[FNN__ATTACK_NKEYS] = {
    [FNN_ATTACK_SHADOWS] = {"shadows", 16, 1, 4096, FNN_BOUND_INTEGER, -1, 0,
                            "shadow models, each on a random half of the universe"},
    [FNN_ATTACK_SEED] = {"seed", 0, 0, 18446744073709551616.0,
                         FNN_BOUND_INTEGER | FNN_BOUND_HI_OPEN, -1, 0,
                         "seed of the halves and of the shadows' training"},
    [FNN_ATTACK_THREADS] = {"threads", 1, 1, 64, FNN_BOUND_INTEGER, -1, 0,
                            "shadows trained at once"},
    [FNN_ATTACK_PER_EXAMPLE_VARIANCE] = {"per-example-variance", 0, 0, 1, FNN_BOUND_INTEGER,
                                         -1, 0,
                                         "1: each candidate's own variances; 0: one pooled "
                                         "variance per condition"},
};

struct fnn_attack {
    fnn_model *arch;           /* the attacked model's specification and recipe */
    fnn_train_options *recipe;
    fnn_dataset *universe;     /* own view */
    fnn_dataset *cands;        /* view of the candidates */
    uint32_t *cand;            /* n positions in universe */
    size_t n;
    int32_t *labels;           /* n candidate labels */
    double v[FNN__ATTACK_NKEYS];
    uint64_t seed;
    fnn_attack_progress_fn progress;
    void *user;
    /* The trained shadows and their halves (in[k][j]: universe sample j is
     * in shadow k's half); NULL in an attack made by fnn_attack_unlearn(). */
    fnn_model **shadows;
    uint8_t **in;
    /* Observations: phi[k * n + i] and mask[k * n + i] for k < trained. */
    double *phi;
    uint8_t *mask;
    uint32_t trained;
    char errmsg[FNN__ERRMSG_SIZE];
};

static void free_shadows(fnn_attack *a)
{
    for (uint32_t k = 0; a->shadows && k < a->trained; k++) {
        fnn_model_free(a->shadows[k]);
        free(a->in[k]);
    }
    free(a->shadows);
    free(a->in);
    a->shadows = NULL;
    a->in = NULL;
}

static int afail(fnn_attack *a, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int afail(fnn_attack *a, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fnn__vfail(a->errmsg, sizeof a->errmsg, code, fmt, ap);
    va_end(ap);
    return code;
}

FNN_API void fnn_attack_free(fnn_attack *a)
{
    if (!a)
        return;
    free_shadows(a);
    fnn_model_free(a->arch);
    fnn_train_options_free(a->recipe);
    fnn_dataset_free(a->universe);
    fnn_dataset_free(a->cands);
    free(a->cand);
    free(a->labels);
    free(a->phi);
    free(a->mask);
    free(a);
}

FNN_API const char *fnn_attack_errmsg(const fnn_attack *a)
{
    return a ? a->errmsg : "attack handle is NULL";
}

FNN_API int fnn_attack_create(fnn_attack **out, const fnn_model *model,
                              const fnn_dataset *universe, const uint32_t *candidates,
                              size_t n, char *err, size_t err_size)
{
    if (!out)
        return fnn__fail(err, err_size, FNN_E_NULL, "attack: out is NULL");
    *out = NULL;
    if (!model || !universe || !candidates)
        return fnn__fail(err, err_size, FNN_E_NULL, "attack: %s is NULL",
                         !model ? "model" : !universe ? "universe" : "candidates");
    if (n == 0)
        return fnn__fail(err, err_size, FNN_E_EMPTY, "attack: no candidates");
    int rc = fnn__model_check_data(model, universe, 1);
    if (rc != FNN_OK) {
        char msg[FNN__ERRMSG_SIZE];
        fnn__model_errmsg_copy(model, msg, sizeof msg);
        return fnn__fail(err, err_size, rc, "attack: %s", msg);
    }
    if (universe->n < 2)
        return fnn__fail(err, err_size, FNN_E_EMPTY,
                         "attack: a universe of %zu samples has no halves", universe->n);
    /* Candidates: in range, each once. */
    uint8_t *seen = calloc(universe->n, 1);
    if (!seen)
        return fnn__fail(err, err_size, FNN_E_NOMEM, "attack: out of memory");
    for (size_t i = 0; i < n; i++) {
        if (candidates[i] >= universe->n || seen[candidates[i]]) {
            rc = fnn__fail(err, err_size,
                           candidates[i] >= universe->n ? FNN_E_RANGE : FNN_E_DUPLICATE,
                           "attack: candidate %lu at position %zu is %s",
                           (unsigned long)candidates[i], i,
                           candidates[i] >= universe->n ? "outside the universe"
                                                        : "given twice");
            free(seen);
            return rc;
        }
        seen[candidates[i]] = 1;
    }
    free(seen);
    fnn_attack *a = calloc(1, sizeof *a);
    if (!a)
        return fnn__fail(err, err_size, FNN_E_NOMEM, "attack: out of memory");
    uint64_t init = 0, samples = 0;
    rc = fnn_model_recipe(model, &a->recipe, &init, &samples);
    if (rc != FNN_OK) {
        fnn_attack_free(a);
        return fnn__fail(err, err_size, rc,
                         "attack: shadows are trained with the model's recipe, and the model "
                         "records none");
    }
    for (int k = 0; k < FNN__ATTACK_NKEYS; k++)
        a->v[k] = fnn__attack_keys[k].dflt;
    a->n = n;
    a->cand = malloc(n * sizeof *a->cand);
    a->labels = malloc(n * sizeof *a->labels);
    uint32_t *all = malloc(universe->n * sizeof *all);
    rc = a->cand && a->labels && all ? FNN_OK : FNN_E_NOMEM;
    if (rc == FNN_OK) {
        memcpy(a->cand, candidates, n * sizeof *a->cand);
        for (size_t i = 0; i < universe->n; i++)
            all[i] = (uint32_t)i;
        if ((rc = fnn__dataset_view(universe, all, universe->n, &a->universe)) == FNN_OK &&
            (rc = fnn__dataset_view(universe, candidates, n, &a->cands)) == FNN_OK)
            rc = fnn_model_clone(model, &a->arch);
    }
    free(all);
    if (rc != FNN_OK) {
        fnn_attack_free(a);
        return fnn__fail(err, err_size, FNN_E_NOMEM, "attack: out of memory");
    }
    for (size_t i = 0; i < n; i++)
        a->labels[i] = universe->store->labels[fnn__ds_at(universe, candidates[i])];
    *out = a;
    return FNN_OK;
}

FNN_API int fnn_attack_set(fnn_attack *a, int key, double value)
{
    if (!a)
        return FNN_E_NULL;
    if (key < 0 || key >= FNN__ATTACK_NKEYS)
        return afail(a, FNN_E_INVALID, "unknown attack key %d", key);
    int rc = fnn__key_check(&fnn__attack_keys[key], value, a->errmsg, sizeof a->errmsg);
    if (rc != FNN_OK)
        return rc;
    a->v[key] = value;
    if (key == FNN_ATTACK_SEED)
        a->seed = (uint64_t)value;
    return FNN_OK;
}

FNN_API int fnn_attack_set_u64(fnn_attack *a, int key, uint64_t value)
{
    if (!a)
        return FNN_E_NULL;
    if (key != FNN_ATTACK_SEED)
        return fnn_attack_set(a, key, (double)value);
    a->seed = value;
    a->v[key] = (double)value;
    return FNN_OK;
}

FNN_API int fnn_attack_get(const fnn_attack *a, int key, double *value)
{
    if (!a || !value)
        return FNN_E_NULL;
    if (key < 0 || key >= FNN__ATTACK_NKEYS)
        return FNN_E_INVALID;
    *value = a->v[key];
    return FNN_OK;
}

FNN_API int fnn_attack_key_bounds(int key, double *lo, double *hi, uint32_t *flags, int *names)
{
    if (key < 0 || key >= FNN__ATTACK_NKEYS)
        return FNN_E_INVALID;
    fnn__key_bounds(&fnn__attack_keys[key], lo, hi, flags, names);
    return FNN_OK;
}

FNN_API size_t fnn_attack_key_describe(int key, char *buf, size_t size)
{
    if (key < 0 || key >= FNN__ATTACK_NKEYS) {
        if (buf && size > 0)
            buf[0] = '\0';
        return 0;
    }
    return fnn__key_describe(&fnn__attack_keys[key], buf, size);
}

FNN_API int fnn_attack_set_progress(fnn_attack *a, fnn_attack_progress_fn fn, void *user)
{
    if (!a)
        return FNN_E_NULL;
    a->progress = fn;
    a->user = user;
    return FNN_OK;
}

FNN_API uint32_t fnn_attack_shadows_trained(const fnn_attack *a)
{
    return a ? a->trained : 0;
}

/* ---- training the shadows ------------------------------------------------------ */

/* Shared state of the training threads. */
typedef struct job {
    fnn_attack *a;             /* the attack whose observations are written */
    const fnn_attack *base;    /* fnn_attack_unlearn(): the trained shadows */
    const uint8_t *forget;     /* its candidates to forget (n flags) */
    const fnn_forget_options *unlearn;
    uint32_t shadows;
    atomic_uint next;          /* next shadow to train */
    atomic_int stop;           /* a failure or a cancellation */
    pthread_mutex_t lock;      /* guards done, rc, the message and the callback */
    uint32_t done;
    int rc;
    char msg[FNN__ERRMSG_SIZE];
} job;

static void job_fail(job *j, int rc, const char *what, const char *msg)
{
    pthread_mutex_lock(&j->lock);
    if (j->rc == FNN_OK) {
        j->rc = rc;
        fnn__fail(j->msg, sizeof j->msg, rc, "%s: %s", what, msg);
    }
    pthread_mutex_unlock(&j->lock);
    atomic_store(&j->stop, 1);
}

/* Writes shadow k's row of observations of every candidate; mask values
 * come from `role` (n bytes). */
static int observe(fnn_attack *a, const fnn_model *s, uint32_t k, const uint8_t *role,
                   char *err, size_t err_size)
{
    size_t n = a->n;
    uint32_t C = s->num_classes;
    float *logits = malloc(n * C * sizeof *logits);
    if (!logits)
        return fnn__fail(err, err_size, FNN_E_NOMEM, "out of memory");
    fnn__infer_out io = {.logits = logits, .check_finite = 1};
    int rc = fnn__infer(s, a->cands, &io);
    if (rc != FNN_OK)
        fnn__fail(err, err_size, rc, "%s", fnn_model_errmsg(s));
    else
        rc = fnn__logit_confidence(logits, n, C, a->labels, a->phi + (size_t)k * n, err,
                                   err_size);
    if (rc == FNN_OK)
        memcpy(a->mask + (size_t)k * n, role, n);
    free(logits);
    return rc;
}

/* Trains shadow k of a fresh attack: its half, its model, its observations. */
static int train_shadow(job *j, uint32_t k, char *err, size_t err_size)
{
    fnn_attack *a = j->a;
    const fnn_dataset *U = a->universe;
    size_t N = U->n;
    uint64_t seed = fnn__seed_mix(a->seed, 0x5ad0u + k);
    uint8_t *in = malloc(N), *role = malloc(a->n);
    uint32_t *pos = malloc(N * sizeof *pos);
    fnn_model *s = NULL;
    fnn_dataset *half = NULL;
    int rc = FNN_OK;
    if (!in || !role || !pos) {
        rc = fnn__fail(err, err_size, FNN_E_NOMEM, "out of memory");
        goto done;
    }
    /* The half: every sample of the universe in or out with probability 1/2. */
    fnn__rng rng;
    fnn__rng_seed(&rng, seed);
    size_t nin = 0;
    for (size_t i = 0; i < N; i++) {
        in[i] = (uint8_t)(fnn__rng_next(&rng) >> 63);
        if (in[i])
            pos[nin++] = (uint32_t)i;
    }
    if (nin == 0 || nin == N) {
        rc = fnn__fail(err, err_size, FNN_E_EMPTY, "its half is empty");
        goto done;
    }
    if ((rc = fnn__dataset_view(U, pos, nin, &half)) != FNN_OK) {
        rc = fnn__fail(err, err_size, rc, "out of memory");
        goto done;
    }
    /* A fresh model of the attacked one's specification, trained with its
     * recipe from this shadow's seeds. */
    fnn_train_options o = *a->recipe;
    o.progress = NULL;
    o.user = NULL;
    fnn__train_options_put(&o, FNN_TRAIN_SEED, 0);
    o.seed = fnn__seed_mix(seed, 1);
    if ((rc = fnn_model_create(&s, a->arch->spec_text, fnn__seed_mix(seed, 2), err,
                               err_size)) != FNN_OK)
        goto done;
    if (atomic_load(&j->stop))
        goto done;
    if ((rc = fnn_model_train(s, half, &o)) != FNN_OK) {
        fnn__fail(err, err_size, rc, "%s", fnn_model_errmsg(s));
        goto done;
    }
    for (size_t i = 0; i < a->n; i++)
        role[i] = in[a->cand[i]] ? FNN__LIRA_IN : FNN__LIRA_OUT;
    if ((rc = observe(a, s, k, role, err, err_size)) != FNN_OK)
        goto done;
    a->shadows[k] = s;
    a->in[k] = in;
    s = NULL;
    in = NULL;
done:
    free(in);
    free(role);
    free(pos);
    fnn_dataset_free(half);
    fnn_model_free(s);
    return rc;
}

/* Unlearns a copy of the base's shadow k and writes its observations: the
 * candidates it forgot are IN, those outside its half OUT, the rest SKIP. */
static int unlearn_shadow(job *j, uint32_t k, char *err, size_t err_size)
{
    fnn_attack *a = j->a;
    const fnn_attack *b = j->base;
    const fnn_dataset *U = a->universe;
    const uint8_t *in = b->in[k];
    size_t N = U->n, n = a->n;
    uint32_t *pos = malloc(N * sizeof *pos), *fpos = malloc(n * sizeof *fpos);
    uint8_t *role = malloc(n), *forgot = calloc(N, 1);
    fnn_model *s = NULL;
    fnn_dataset *half = NULL, *rest = NULL;
    fnn_forget_request *req = NULL;
    int rc = FNN_OK;
    if (!pos || !fpos || !role || !forgot) {
        rc = fnn__fail(err, err_size, FNN_E_NOMEM, "out of memory");
        goto done;
    }
    if ((rc = fnn_model_clone(b->shadows[k], &s)) != FNN_OK) {
        fnn__model_errmsg_copy(b->shadows[k], err, err_size);
        goto done;
    }
    size_t nin = 0;
    for (size_t i = 0; i < N; i++)
        if (in[i])
            pos[nin++] = (uint32_t)i;
    /* The shadow's own position of every universe sample in its half. */
    uint32_t *at = malloc(N * sizeof *at);
    if (!at) {
        rc = fnn__fail(err, err_size, FNN_E_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nin; i++)
        at[pos[i]] = (uint32_t)i;
    size_t nf = 0;
    int32_t label = -2;
    for (size_t i = 0; i < n; i++) {
        uint32_t u = a->cand[i];
        if (!j->forget[i] || !in[u])
            continue;
        fpos[nf++] = at[u];
        forgot[u] = 1;
        int32_t y = a->labels[i];
        label = label == -2 ? y : label == y ? y : -1;
    }
    free(at);
    /* A class request when the forgotten candidates are one class and all of
     * it in the half, as the attacked request would be; else indices. */
    int whole_class = label >= 0;
    for (size_t i = 0; whole_class && i < nin; i++)
        if (!forgot[pos[i]] && U->store->labels[fnn__ds_at(U, pos[i])] == label)
            whole_class = 0;
    if (nf > 0 && nf < nin) {
        /* Indices must be ascending for the request; sort them. */
        size_t w = 0;
        for (size_t i = 0; i < nin; i++)
            if (forgot[pos[i]])
                fpos[w++] = (uint32_t)i;
        size_t nrest = 0;
        fnn__rng rng;
        fnn__rng_seed(&rng, fnn__seed_mix(a->seed, 0x5eedu + k));
        for (size_t i = 0; i < N; i++)
            if (!in[i])
                pos[nrest++] = (uint32_t)i;
        /* A random sample of the shadow's non-members is its holdout. */
        for (size_t i = 0; i < nrest && i < SHADOW_HOLDOUT; i++) {
            size_t r = i + (size_t)fnn__rng_below(&rng, nrest - i);
            uint32_t t = pos[i];
            pos[i] = pos[r];
            pos[r] = t;
        }
        if (nrest > SHADOW_HOLDOUT)
            nrest = SHADOW_HOLDOUT;
        uint32_t *hpos = malloc(nin * sizeof *hpos);
        if (!hpos) {
            rc = fnn__fail(err, err_size, FNN_E_NOMEM, "out of memory");
            goto done;
        }
        for (size_t i = 0, w2 = 0; i < N; i++)
            if (in[i])
                hpos[w2++] = (uint32_t)i;
        rc = fnn__dataset_view(U, hpos, nin, &half);
        free(hpos);
        if (rc == FNN_OK)
            rc = fnn__dataset_view(U, pos, nrest, &rest);
        if (rc != FNN_OK) {
            rc = fnn__fail(err, err_size, rc, "out of memory");
            goto done;
        }
        rc = whole_class ? fnn_forget_request_from_class(&req, half, label, err, err_size)
                         : fnn_forget_request_from_indices(&req, half, fpos, nf, err, err_size);
        if (rc != FNN_OK)
            goto done;
        if ((rc = fnn_model_forget(s, req, rest, j->unlearn, NULL)) != FNN_OK) {
            fnn__fail(err, err_size, rc, "%s", fnn_model_errmsg(s));
            goto done;
        }
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t u = a->cand[i];
        role[i] = !in[u] ? FNN__LIRA_OUT : forgot[u] ? FNN__LIRA_IN : FNN__LIRA_SKIP;
    }
    rc = observe(a, s, k, role, err, err_size);
done:
    free(pos);
    free(fpos);
    free(role);
    free(forgot);
    fnn_forget_request_free(req);
    fnn_dataset_free(half);
    fnn_dataset_free(rest);
    fnn_model_free(s);
    return rc;
}

static void *worker(void *arg)
{
    job *j = arg;
    char err[FNN__ERRMSG_SIZE], what[32];
    for (;;) {
        if (atomic_load(&j->stop))
            break;
        uint32_t k = atomic_fetch_add(&j->next, 1);
        if (k >= j->shadows)
            break;
        err[0] = '\0';
        int rc = j->base ? unlearn_shadow(j, k, err, sizeof err)
                         : train_shadow(j, k, err, sizeof err);
        if (rc != FNN_OK) {
            snprintf(what, sizeof what, "shadow %u", (unsigned)k);
            job_fail(j, rc, what, err);
            break;
        }
        pthread_mutex_lock(&j->lock);
        j->done++;
        fnn_attack *a = j->a;
        int stop = a->progress && a->progress(a->user, j->done, j->shadows);
        pthread_mutex_unlock(&j->lock);
        if (stop) {
            job_fail(j, FNN_E_CANCELLED, "attack", "cancelled by the progress callback");
            break;
        }
    }
    return NULL;
}

/* Runs the job's shadows on the attack's threads; a->phi and a->mask must
 * hold K rows. */
static int run_job(job *j, uint32_t threads)
{
    atomic_init(&j->next, 0);
    atomic_init(&j->stop, 0);
    pthread_mutex_init(&j->lock, NULL);
    if (threads > j->shadows)
        threads = j->shadows;
    pthread_t *tid = calloc(threads, sizeof *tid);
    uint32_t started = 0;
    if (tid)
        for (; started + 1 < threads; started++)
            if (pthread_create(&tid[started], NULL, worker, j) != 0)
                break;
    worker(j); /* the calling thread works too */
    for (uint32_t t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    free(tid);
    pthread_mutex_destroy(&j->lock);
    return j->rc;
}

/* Room for K rows of observations, replacing earlier ones. */
static int reserve_rows(fnn_attack *a, uint32_t K)
{
    size_t cells;
    if (fnn__mul(K, a->n, &cells))
        return afail(a, FNN_E_NOMEM, "%u shadows x %zu candidates overflow", K, a->n);
    double *phi = malloc(cells * sizeof *phi);
    uint8_t *mask = malloc(cells);
    if (!phi || !mask) {
        free(phi);
        free(mask);
        return afail(a, FNN_E_NOMEM, "out of memory for %u x %zu observations", K, a->n);
    }
    free(a->phi);
    free(a->mask);
    a->phi = phi;
    a->mask = mask;
    return FNN_OK;
}

FNN_API int fnn_attack_train(fnn_attack *a)
{
    if (!a)
        return FNN_E_NULL;
    uint32_t K = (uint32_t)a->v[FNN_ATTACK_SHADOWS];
    free_shadows(a);
    a->trained = 0;
    int rc = reserve_rows(a, K);
    if (rc != FNN_OK)
        return rc;
    a->shadows = calloc(K, sizeof *a->shadows);
    a->in = calloc(K, sizeof *a->in);
    if (!a->shadows || !a->in) {
        free(a->shadows);
        free(a->in);
        a->shadows = NULL;
        a->in = NULL;
        return afail(a, FNN_E_NOMEM, "out of memory for %u shadows", K);
    }
    job j = {.a = a, .shadows = K, .rc = FNN_OK};
    rc = run_job(&j, (uint32_t)a->v[FNN_ATTACK_THREADS]);
    a->trained = K; /* every slot is a model or NULL: free_shadows() copes */
    if (rc != FNN_OK) {
        free_shadows(a);
        a->trained = 0;
        return afail(a, rc, "%s", j.msg);
    }
    return FNN_OK;
}

FNN_API int fnn_attack_unlearn(const fnn_attack *base, const uint8_t *forget, size_t n,
                               const fnn_forget_options *unlearn, fnn_attack **out,
                               char *err, size_t err_size)
{
    if (!out)
        return fnn__fail(err, err_size, FNN_E_NULL, "attack: out is NULL");
    *out = NULL;
    if (!base || !forget || !unlearn)
        return fnn__fail(err, err_size, FNN_E_NULL, "attack: %s is NULL",
                         !base ? "base" : !forget ? "forget" : "unlearn");
    if (!base->shadows || !base->trained)
        return fnn__fail(err, err_size, FNN_E_STATE,
                         "attack: the base attack has no trained shadows of its own");
    if (n != base->n)
        return fnn__fail(err, err_size, FNN_E_SHAPE,
                         "attack: %zu forget flags for %zu candidates", n, base->n);
    fnn_attack *a = NULL;
    int rc = fnn_attack_create(&a, base->arch, base->universe, base->cand, base->n, err,
                               err_size);
    if (rc != FNN_OK)
        return rc;
    memcpy(a->v, base->v, sizeof a->v);
    a->seed = base->seed;
    a->progress = base->progress;
    a->user = base->user;
    if ((rc = reserve_rows(a, base->trained)) != FNN_OK) {
        fnn__fail(err, err_size, rc, "attack: %s", a->errmsg);
        fnn_attack_free(a);
        return rc;
    }
    /* The shadows unlearn on several threads at once: they get a copy of the
     * options without the caller's progress callbacks, which would be called
     * from those threads concurrently; the attack's own callback reports
     * progress (base's, with the shadows done). */
    fnn_forget_options quiet = *unlearn;
    quiet.progress = NULL;
    quiet.user = NULL;
    quiet.train.progress = NULL;
    quiet.train.user = NULL;
    job j = {.a = a, .base = base, .forget = forget, .unlearn = &quiet,
             .shadows = base->trained, .rc = FNN_OK};
    rc = run_job(&j, (uint32_t)a->v[FNN_ATTACK_THREADS]);
    if (rc != FNN_OK) {
        fnn__fail(err, err_size, rc, "attack: %s", j.msg);
        fnn_attack_free(a);
        return rc;
    }
    a->trained = base->trained;
    *out = a;
    return FNN_OK;
}

/* ---- scoring ------------------------------------------------------------------- */

FNN_API int fnn_attack_scores(fnn_attack *a, const fnn_model *target, double *scores,
                              size_t n)
{
    if (!a)
        return FNN_E_NULL;
    if (!target || !scores)
        return afail(a, FNN_E_NULL, "%s is NULL", target ? "scores" : "target");
    if (!a->trained)
        return afail(a, FNN_E_STATE, "no shadows trained yet (fnn_attack_train)");
    if (n < a->n)
        return afail(a, FNN_E_SHAPE, "room for %zu scores, the attack has %zu candidates", n,
                     a->n);
    if (target->num_classes != a->arch->num_classes ||
        strcmp(target->spec_text, a->arch->spec_text) != 0)
        return afail(a, FNN_E_SHAPE, "the target is not of the attacked model's architecture");
    uint32_t C = target->num_classes;
    float *logits = malloc(a->n * C * sizeof *logits);
    double *phi = malloc(a->n * sizeof *phi);
    int rc = logits && phi ? FNN_OK : FNN_E_NOMEM;
    char err[FNN__ERRMSG_SIZE] = "out of memory";
    if (rc == FNN_OK) {
        fnn__infer_out io = {.logits = logits, .check_finite = 1};
        if ((rc = fnn__infer(target, a->cands, &io)) != FNN_OK)
            fnn__model_errmsg_copy(target, err, sizeof err);
    }
    if (rc == FNN_OK)
        rc = fnn__logit_confidence(logits, a->n, C, a->labels, phi, err, sizeof err);
    unsigned flags = a->v[FNN_ATTACK_PER_EXAMPLE_VARIANCE] != 0 ? FNN__LIRA_PER_EXAMPLE_VAR : 0;
    if (rc == FNN_OK)
        rc = fnn__lira_scores(a->phi, a->mask, a->trained, a->n, phi, flags, scores, NULL,
                              NULL, err, sizeof err);
    free(logits);
    free(phi);
    return rc == FNN_OK ? FNN_OK : afail(a, rc, "%s", err);
}

FNN_API int fnn_attack_evaluate(fnn_attack *a, const fnn_model *target, const uint8_t *member,
                                size_t n, double *auc, double *tpr_1, double *tpr_01)
{
    if (!a)
        return FNN_E_NULL;
    if (!member)
        return afail(a, FNN_E_NULL, "member is NULL");
    if (n != a->n)
        return afail(a, FNN_E_SHAPE, "%zu membership flags for %zu candidates", n, a->n);
    double *s = malloc(a->n * sizeof *s), *ms = malloc(a->n * sizeof *ms),
           *ns = malloc(a->n * sizeof *ns);
    int rc = s && ms && ns ? FNN_OK : afail(a, FNN_E_NOMEM, "out of memory");
    if (rc == FNN_OK)
        rc = fnn_attack_scores(a, target, s, a->n);
    size_t nm = 0, nn = 0;
    for (size_t i = 0; rc == FNN_OK && i < a->n; i++) {
        if (isnan(s[i]) || member[i] > 1)
            continue; /* not in this comparison, or too few OUT observations */
        if (member[i])
            ms[nm++] = s[i];
        else
            ns[nn++] = s[i];
    }
    char err[FNN__ERRMSG_SIZE] = "";
    double v;
    if (rc == FNN_OK && (rc = fnn__roc_auc(ms, nm, ns, nn, &v, err, sizeof err)) == FNN_OK) {
        if (auc)
            *auc = v;
        if (tpr_1 && (rc = fnn__tpr_at_fpr(ms, nm, ns, nn, 0.01, tpr_1, err, sizeof err)))
            ;
        else if (tpr_01)
            rc = fnn__tpr_at_fpr(ms, nm, ns, nn, 0.001, tpr_01, err, sizeof err);
    }
    if (rc != FNN_OK && err[0])
        afail(a, rc, "%s", err);
    free(s);
    free(ms);
    free(ns);
    return rc;
}
