/* Method `fnn`: post-hoc Forgetting-Neural-Network unlearning of a trained
 * model within a FLOP budget. Rank the neurons on a sample of the forget
 * set and set their rates by the policy; jump the forgetting clock to
 * t-start with the decay on and repair on fresh retain samples with the
 * decay held; while the forget-set accuracy is above its target and the
 * budget affords another round, advance t by t-step and repair again. For
 * a class under the contrast policy, each check first moves the class's
 * logit below the retained logits (lower_class), which decay cannot do.
 *
 * Every FLOP of the method's work counts against the budget: ranking, the
 * target's measurement, monitoring and repair. The budget is a share of the
 * training the model's recipe implies, and never more than retraining on
 * the retain set would cost. */
#include <math.h>
#include <stdlib.h>

#include "unlearn.h"

/* SGD with momentum at batch 128: for these shapes it runs several times
 * faster per sample than Adam at batch 64, and one epoch of it on a few
 * thousand retain samples repairs what the decay disturbed
 * (docs/ALGORITHM.md, "Choosing the defaults"). */
static void train_defaults(const fnn__run *r, fnn_train_options *o)
{
    (void)r;
    o->v[FNN_TRAIN_OPTIMIZER] = FNN_OPTIMIZER_SGD;
    o->v[FNN_TRAIN_LEARNING_RATE] = 0.01;
    o->v[FNN_TRAIN_MOMENTUM] = 0.9;
    o->v[FNN_TRAIN_BATCH_SIZE] = 128;
    o->v[FNN_TRAIN_LR_SCHEDULE] = FNN_LR_CONSTANT;
}

/* The fixed target, or -1 when it is the holdout sample's accuracy. */
static double target_of(const fnn__run *r)
{
    double target = r->o[FNN_FORGET_TARGET];
    if (target < 0 && r->req->kind == FNN_REQUEST_CLASS)
        return 0.0; /* a model that never saw a class never predicts it */
    return target;
}

static double budget_of(const fnn__run *r);

/* The automatic choices (docs/ALGORITHM.md, "Choosing the defaults"): rank
 * by contrast with the retain set, start the clock at 4 for a class and 1
 * for other requests; for a class under the contrast policy every layer
 * decays, otherwise the output layer first (run). */
static int policy_of(const fnn__run *r)
{
    return r->o[FNN_FORGET_POLICY] < 0 ? FNN_POLICY_CONTRAST : (int)r->o[FNN_FORGET_POLICY];
}

/* A class request under the contrast policy: the output layer decays the
 * class's logit alone (only_class_logit), and every layer decays at once. */
static int class_logit_run(const fnn__run *r)
{
    return r->req->kind == FNN_REQUEST_CLASS && policy_of(r) == FNN_POLICY_CONTRAST;
}


static uint32_t t_start_of(const fnn__run *r)
{
    if (r->o[FNN_FORGET_T_START] > 0)
        return (uint32_t)r->o[FNN_FORGET_T_START];
    return r->req->kind == FNN_REQUEST_CLASS ? 4 : 1;
}

/* The least a run can spend: ranking one sample (two for the contrast
 * policy), measuring the target on one, one repair step of one sample per
 * repair epoch and one check. Twice that is the smallest budget. */
static double least_flops(const fnn__run *r)
{
    double fwd = fnn_model_flops_per_sample(r->m, 0), per = fnn_model_flops_per_sample(r->m, 1);
    double ranked = policy_of(r) == FNN_POLICY_CONTRAST ? 2.0 : 1.0;
    return (ranked + 2.0) * fwd + r->o[FNN_FORGET_REPAIR_EPOCHS] * per;
}

static int validate(fnn__run *r)
{
    if (target_of(r) < 0 && !r->holdout)
        return fnn__fail(r->m->errmsg, sizeof r->m->errmsg, FNN_E_NULL,
                         "a holdout data set is needed to set the automatic target of a "
                         "random or index request (or set FNN_FORGET_TARGET)");
    double budget = budget_of(r), least = 2.0 * least_flops(r);
    if (!(budget >= least))
        return fnn__fail(r->m->errmsg, sizeof r->m->errmsg, FNN_E_INVALID,
                         "a budget of %.3g FLOPs (FNN_FORGET_BUDGET %g) cannot pay for the "
                         "least run, %.3g FLOPs: raise the budget",
                         budget, r->o[FNN_FORGET_BUDGET], least);
    return FNN_OK;
}

/* Epochs and samples of the training the recipe implies: the recipe's, or
 * without one the library's default epochs over the request's training
 * set. */
static double recipe_epochs(const fnn__run *r)
{
    if (r->m->recipe.calls > 0)
        return r->m->recipe.v[FNN_TRAIN_EPOCHS];
    fnn_train_options d;
    fnn__train_options_init(&d);
    return d.v[FNN_TRAIN_EPOCHS];
}

static double budget_of(const fnn__run *r)
{
    double per = fnn_model_flops_per_sample(r->m, 1), epochs = recipe_epochs(r);
    double samples =
        r->m->recipe.calls > 0 ? (double)r->m->recipe.samples : (double)r->req->train->n;
    double budget = r->o[FNN_FORGET_BUDGET] * epochs * samples * per;
    double retrain = epochs * (double)r->retain->n * per;
    return budget < retrain ? budget : retrain;
}

/* Retain samples per repair epoch. */
static size_t repair_size(const fnn__run *r)
{
    double want = r->o[FNN_FORGET_REPAIR_FRACTION] > 0
                      ? floor(r->o[FNN_FORGET_REPAIR_FRACTION] * (double)r->retain->n + 0.5)
                      : r->o[FNN_FORGET_REPAIR_SAMPLES];
    if (want < 1)
        want = 1;
    return want < (double)r->retain->n ? (size_t)want : r->retain->n;
}

static double plan(const fnn__run *r)
{
    return budget_of(r);
}

/* The working state of one run. */
typedef struct state {
    double budget;        /* FLOPs */
    double fwd, per;      /* FLOPs per sample: inference, training step */
    size_t repair_n;      /* retain samples per repair epoch */
    uint32_t epochs;      /* repair epochs per round */
    fnn_dataset *mon;     /* the forget monitoring sample */
    uint32_t *pos;        /* retain positions, for drawing repair samples */
    float **hidden;       /* the policy's rates, while the hidden layers wait */
    fnn__rng rng;
} state;

/* FLOPs of one round: its repair epochs and the check after them. */
static double round_flops(const state *s, size_t repair_n)
{
    return (double)s->epochs * (double)repair_n * s->per + (double)s->mon->n * s->fwd;
}

/* One repair epoch on `n` fresh retain samples. */
static int repair(fnn__run *r, state *s, size_t n)
{
    fnn_dataset *sample = NULL;
    if (n < r->retain->n) {
        for (size_t i = 0; i < n; i++) {
            size_t j = i + (size_t)fnn__rng_below(&s->rng, r->retain->n - i);
            uint32_t tmp = s->pos[i];
            s->pos[i] = s->pos[j];
            s->pos[j] = tmp;
        }
        if (fnn__dataset_view(r->retain, s->pos, n, &sample))
            return fnn__fail(r->m->errmsg, sizeof r->m->errmsg, FNN_E_NOMEM, "out of memory");
    }
    int rc = fnn__run_train(r, sample ? sample : r->retain, 1);
    fnn_dataset_free(sample);
    return rc;
}

/* For a class request, the output layer forgets the class's own logit and
 * nothing else. Contrast ranks give that logit rank 1, but also rank the
 * logits of the classes that resemble it just after (a "3" drives the "5"
 * and "9" logits beyond what the retained data does), and rates of 2 or 3
 * on those cost the retained classes more than a small repair restores. */
static void only_class_logit(fnn_model *m, int32_t label)
{
    fnn__flayer *F = &m->fl[m->n_fl - 1];
    for (uint32_t j = 0; j < F->units; j++)
        F->tau[j] = (int32_t)j == label ? 1.0f : INFINITY;
    fnn__model_update_decay(m);
}

/* The margin, in logit units, by which the forgotten class's logit ends
 * below the best retained logit on every monitored forget sample. */
#define CLASS_MARGIN 1.0

/* After a class's logit has decayed towards zero, it still wins wherever
 * every retained logit is negative: a confident network gives an image of
 * the class negative logits for all the other classes, and decay cannot
 * take a logit below zero, where a class the network never saw would be.
 * Adding the same amount to every retained logit's bias changes no
 * prediction among the retained classes and moves the class below them:
 * the least amount that does so on the forget monitoring sample, plus
 * CLASS_MARGIN (none when the class is already that far below). Sets
 * `*acc` to the sample's accuracy afterwards. */
static int lower_class(fnn__run *r, const fnn_dataset *mon, double *acc)
{
    fnn_model *m = r->m;
    uint32_t k = m->num_classes, c = (uint32_t)r->req->label;
    float *h = fnn__alloc_floats(mon->n * k);
    if (!h)
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM, "out of memory");
    int rc = fnn_model_logits(m, mon, h, mon->n * k);
    if (rc == FNN_OK) {
        r->flops += fnn_model_flops_per_sample(m, 0) * (double)mon->n;
        double need = -INFINITY;
        for (size_t i = 0; i < mon->n; i++) {
            const float *row = h + i * k;
            double best = -INFINITY;
            for (uint32_t j = 0; j < k; j++)
                if (j != c && row[j] > best)
                    best = row[j];
            if (row[c] - best > need)
                need = row[c] - best;
        }
        double shift = need + CLASS_MARGIN > 0 ? need + CLASS_MARGIN : 0;
        const fnn__layer *L = &m->spec.layers[m->fl[m->n_fl - 1].layer];
        float *b = m->params + L->b_off;
        for (uint32_t j = 0; j < k; j++)
            if (j != c)
                b[j] += (float)shift;
        /* No sample predicts the class any more: each one's class logit is
         * at least CLASS_MARGIN below its best retained logit. */
        *acc = 0.0;
    }
    free(h);
    return rc;
}

/* Ranks the neurons on a sample of the forget set (and, for the contrast
 * policy, one of the retain set) and sets their rates. */
static int rank(fnn__run *r, size_t n)
{
    fnn__rng rng;
    fnn__rng_seed(&rng, fnn__seed_mix(r->seed, 0x6a09e667f3bcc909ull));
    int policy = policy_of(r);
    fnn_dataset *sample = NULL, *base = NULL;
    int rc = fnn__dataset_sample(r->forget, n, &rng, &sample);
    if (rc == FNN_OK && policy == FNN_POLICY_CONTRAST)
        rc = fnn__dataset_sample(r->retain, n, &rng, &base);
    if (rc == FNN_OK)
        rc = fnn__apply_policy(
            r->m, sample, base, policy,
            policy == FNN_POLICY_FIXED ? r->o[FNN_FORGET_TAU] : r->o[FNN_FORGET_TOPK],
            fnn__seed_mix(r->seed, 0x94d049bb133111ebull), &r->flops);
    else
        rc = fnn__fail(r->m->errmsg, sizeof r->m->errmsg, FNN_E_NOMEM, "out of memory");
    fnn_dataset_free(sample);
    fnn_dataset_free(base);
    if (rc == FNN_OK && class_logit_run(r))
        only_class_logit(r->m, r->req->label);
    return rc;
}

static int run(fnn__run *r)
{
    fnn_model *m = r->m;
    state s = {.budget = budget_of(r),
                   .fwd = fnn_model_flops_per_sample(m, 0),
                   .per = fnn_model_flops_per_sample(m, 1),
                   .repair_n = repair_size(r),
                   .epochs = (uint32_t)r->o[FNN_FORGET_REPAIR_EPOCHS]};
    double f0 = r->flops, t0 = fnn__now();
    double target = target_of(r), tol = r->o[FNN_FORGET_TOLERANCE];
    int follow = target < 0;
    r->rep->v[FNN_REPORT_BUDGET_FLOPS] = s.budget;
    r->rep->v[FNN_REPORT_REACHED_TARGET] = 0;

    /* The fixed costs, ranking and the target's measurement, take at most
     * half the budget: their samples shrink to fit. */
    size_t rank_n = (size_t)r->o[FNN_FORGET_RANK_SAMPLES];
    size_t mon_n = (size_t)r->o[FNN_FORGET_MONITOR_SAMPLES];
    if (rank_n > r->forget->n)
        rank_n = r->forget->n;
    if (mon_n > r->forget->n)
        mon_n = r->forget->n;
    size_t hold_n = follow ? mon_n : 0;
    if (follow && hold_n > r->holdout->n)
        hold_n = r->holdout->n;
    double ranked = policy_of(r) == FNN_POLICY_CONTRAST ? 2.0 : 1.0;
    double fixed = ((double)rank_n * ranked + (double)(hold_n + mon_n)) * s.fwd;
    if (fixed > s.budget / 2) {
        double k = s.budget / 2 / fixed;
        rank_n = (size_t)fmax(1.0, floor((double)rank_n * k));
        mon_n = (size_t)fmax(1.0, floor((double)mon_n * k));
        hold_n = follow ? (size_t)fmax(1.0, floor((double)hold_n * k)) : 0;
    }

    fnn__rng_seed(&s.rng, fnn__seed_mix(r->seed, 0x2545f4914f6cdd1dull));
    fnn_dataset *hold = NULL;
    int rc = fnn__dataset_sample(r->forget, mon_n, &s.rng, &s.mon);
    if (rc == FNN_OK && follow)
        rc = fnn__dataset_sample(r->holdout, hold_n, &s.rng, &hold);
    if (rc == FNN_OK && !(s.pos = malloc(r->retain->n * sizeof *s.pos)))
        rc = FNN_E_NOMEM;
    if (rc != FNN_OK) {
        rc = fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < r->retain->n; i++)
        s.pos[i] = (uint32_t)i;

    /* The target: the holdout's accuracy before anything changes, which
     * is what a model that never saw the forget samples scores on them. */
    r->phase = FNN_PHASE_DECAY;
    if (follow && (rc = fnn__run_accuracy(r, hold, &target)))
        goto done;
    r->rep->v[FNN_REPORT_TARGET] = target;
    if ((rc = rank(r, rank_n)))
        goto done;
    /* Automatic layers: for a class under the contrast policy, all of them
     * (the output layer decays the class's logit alone); otherwise the
     * output layer alone first, the least disturbing decay, and should a
     * round leave the target unmet, the hidden layers join at the same t. */
    int layers = (int)r->o[FNN_FORGET_DECAY_OUTPUT];
    int escalate = 0;
    if (layers < 0) {
        escalate = !class_logit_run(r) && m->n_fl > 1;
        layers = escalate ? FNN__DECAY_OUTPUT : FNN__DECAY_ALL;
    }
    if (escalate && !(s.hidden = fnn__save_taus(m))) {
        rc = fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM, "out of memory");
        goto done;
    }
    fnn__decay_layers(m, layers);

    /* The first round always runs, its repair shrunk to what the budget
     * leaves; later rounds run only when a whole one fits. */
    uint32_t max_t = (uint32_t)r->o[FNN_FORGET_MAX_T];
    uint32_t t = t_start_of(r), step = (uint32_t)r->o[FNN_FORGET_T_STEP];
    uint32_t extra_cap = (uint32_t)r->o[FNN_FORGET_MAX_EXTRA_REPAIR];
    double drop = r->o[FNN_FORGET_RETAIN_DROP];
    if (t > max_t)
        t = max_t;
    size_t n = s.repair_n;
    double left = s.budget - r->flops;
    if (s.epochs > 0 && round_flops(&s, n) > left) {
        double fit = (left - (double)s.mon->n * s.fwd) / ((double)s.epochs * s.per);
        n = fit >= 1 ? (size_t)fit : 1;
    }
    for (int first = 1;; first = 0) {
        if (!first) {
            t0 = fnn__now();
            f0 = r->flops;
        }
        m->t = t;
        fnn__model_update_decay(m);
        uint32_t done = 0;
        double retain_acc = NAN;
        for (; done < s.epochs && rc == FNN_OK; done++)
            rc = repair(r, &s, n);
        /* Extra repair while the retain accuracy stays too far below where
         * it started, as long as the budget affords it. */
        for (uint32_t extra = 0; rc == FNN_OK && s.epochs > 0 && extra < extra_cap; extra++) {
            double check = (double)r->mon_retain->n * s.fwd;
            if (r->flops + check + round_flops(&s, n) > s.budget)
                break;
            if ((rc = fnn__run_accuracy(r, r->mon_retain, &retain_acc)) ||
                retain_acc >= r->retain_start - drop)
                break;
            rc = repair(r, &s, n);
            done++;
            retain_acc = NAN;
        }
        if (rc)
            break;
        fnn__accs a = {NAN, retain_acc, NAN};
        if ((rc = class_logit_run(r) ? lower_class(r, s.mon, &a.forget)
                                     : fnn__run_accuracy(r, s.mon, &a.forget)))
            break;
        if ((rc = fnn__run_phase(r, FNN_PHASE_DECAY, 0, done, t0, f0, &a)))
            break;
        if (a.forget <= target + tol) {
            r->rep->v[FNN_REPORT_REACHED_TARGET] = 1;
            break;
        }
        if (r->flops + round_flops(&s, s.repair_n) > s.budget)
            break;
        if (escalate) {
            fnn__restore_taus(m, s.hidden);
            escalate = 0;
        } else if (t >= max_t) {
            break;
        } else {
            t = max_t - t < step ? max_t : t + step;
        }
        n = s.repair_n;
    }
done:
    fnn__free_taus(m, s.hidden);
    fnn_dataset_free(s.mon);
    fnn_dataset_free(hold);
    free(s.pos);
    return rc;
}

const fnn__method fnn__method_fnn = {
    FNN_METHOD_FNN, "fnn",
    "post-hoc FNN within a FLOP budget: rank on forget samples, jump the clock, repair on "
    "retain samples",
    train_defaults, validate, plan, run, 1,
};
