/* Method `fnn`: post-hoc Forgetting-Neural-Network unlearning of a trained
 * model. Rank the neurons on the forget set and set their rates by the
 * policy; then, for t = 1, 2, ..., raise the forgetting clock with the decay
 * on and repair on a fresh share of the retain set, until the forget-set
 * accuracy reaches its target or t its budget. */
#include <math.h>
#include <stdlib.h>

#include "unlearn.h"

static void train_defaults(const fnn__run *r, fnn_train_options *o)
{
    (void)r;
    o->v[FNN_TRAIN_OPTIMIZER] = FNN_OPTIMIZER_ADAM;
    o->v[FNN_TRAIN_LEARNING_RATE] = 0.001;
    o->v[FNN_TRAIN_BATCH_SIZE] = 64;
    o->v[FNN_TRAIN_LR_SCHEDULE] = FNN_LR_CONSTANT;
}

/* The fixed target, or -1 when it follows the holdout sample. */
static double target_of(const fnn__run *r)
{
    double target = r->o[FNN_FORGET_TARGET];
    if (target < 0 && r->req->kind == FNN_REQUEST_CLASS)
        return 0.0; /* a model that never saw a class never predicts it */
    return target;
}

static int validate(fnn__run *r)
{
    if (target_of(r) < 0 && !r->holdout)
        return fnn__fail(r->m->errmsg, sizeof r->m->errmsg, FNN_E_NULL,
                         "a holdout data set is needed to set the automatic target of a "
                         "random or index request (or set FNN_FORGET_TARGET)");
    return FNN_OK;
}

/* Repair samples per epoch: a share of the retain set, at least ten steps'
 * worth so that small retain sets still get a real repair. */
static size_t repair_size(const fnn__run *r)
{
    size_t n = (size_t)floor(r->o[FNN_FORGET_REPAIR_FRACTION] * (double)r->retain->n + 0.5);
    if (n < 10 * r->cfg.batch)
        n = 10 * r->cfg.batch;
    return n > r->retain->n ? r->retain->n : n;
}

static double plan(const fnn__run *r)
{
    double epochs = r->o[FNN_FORGET_MAX_T] * r->o[FNN_FORGET_REPAIR_EPOCHS];
    return epochs * (double)repair_size(r) * fnn_model_flops_per_sample(r->m, 1);
}

static int run(fnn__run *r)
{
    fnn_model *m = r->m;
    double f0 = r->flops, t0 = fnn__now();
    int policy = (int)r->o[FNN_FORGET_POLICY];
    r->phase = FNN_PHASE_DECAY;
    int rc = fnn__apply_policy(
        m, r->forget, policy,
        policy == FNN_POLICY_FIXED ? r->o[FNN_FORGET_TAU] : r->o[FNN_FORGET_TOPK],
        fnn__seed_mix(r->seed, 0x94d049bb133111ebull), &r->flops);
    if (rc)
        return rc;
    if (r->o[FNN_FORGET_DECAY_OUTPUT] != 1)
        fnn__spare_output(m);
    uint32_t max_t = (uint32_t)r->o[FNN_FORGET_MAX_T];
    uint32_t repairs = (uint32_t)r->o[FNN_FORGET_REPAIR_EPOCHS];
    uint32_t extra_cap = (uint32_t)r->o[FNN_FORGET_MAX_EXTRA_REPAIR];
    double drop = r->o[FNN_FORGET_RETAIN_DROP], tol = r->o[FNN_FORGET_TOLERANCE];
    double target = target_of(r);
    int follow = target < 0;
    size_t sample_n = repair_size(r);
    uint32_t *pos = NULL;
    if (repairs && sample_n < r->retain->n) {
        pos = malloc(r->retain->n * sizeof *pos);
        if (!pos)
            return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM, "out of memory");
        for (size_t i = 0; i < r->retain->n; i++)
            pos[i] = (uint32_t)i;
    }
    fnn__rng rng;
    fnn__rng_seed(&rng, fnn__seed_mix(r->seed, 0x2545f4914f6cdd1dull));
    r->rep->v[FNN_REPORT_REACHED_TARGET] = 0;
    r->rep->v[FNN_REPORT_TARGET] = follow ? r->rep->v[FNN_REPORT_HOLDOUT_ACC_BEFORE] : target;
    for (uint32_t t = 1; t <= max_t && rc == FNN_OK; t++) {
        if (t > 1) {
            t0 = fnn__now();
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
                if ((rc = fnn__run_accuracy(r, r->mon_retain, &retain_acc)))
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
            rc = fnn__run_train(r, sample ? sample : r->retain, 1);
            fnn_dataset_free(sample);
            done++;
            retain_acc = NAN;
            if (rc)
                break;
        }
        if (rc)
            break;
        fnn__accs a;
        if ((rc = fnn__run_measure(r, isnan(retain_acc), &a)))
            break;
        if (!isnan(retain_acc))
            a.retain = retain_acc;
        if (follow)
            target = a.holdout;
        r->rep->v[FNN_REPORT_TARGET] = target;
        if ((rc = fnn__run_phase(r, FNN_PHASE_DECAY, 0, done, t0, f0, &a)))
            break;
        if (a.forget <= target + tol) {
            r->rep->v[FNN_REPORT_REACHED_TARGET] = 1;
            break;
        }
    }
    free(pos);
    return rc;
}

const fnn__method fnn__method_fnn = {
    FNN_METHOD_FNN, "fnn",
    "post-hoc FNN: rank on the forget set, decay step by step, repair on retain samples",
    train_defaults, validate, plan, run, 1,
};
