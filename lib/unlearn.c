/* The unlearning driver: the method table, the run every method shares
 * (forget and retain sets, monitoring samples, inner training options,
 * FLOP and step accounting, phases, progress and cancellation), and
 * fnn_model_forget(), which restores the model exactly on any failure. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unlearn.h"

/* ---- the method table ------------------------------------------------------------ */

/* Row i is method i (enum fnn_method): adding a method is one file and one row. */
static const fnn__method *const methods[] = {
    &fnn__method_fnn,      &fnn__method_fnn_paper, &fnn__method_retrain,
    &fnn__method_finetune, &fnn__method_neggrad,   &fnn__method_newton,
    &fnn__method_none,
};

size_t fnn__method_count(void)
{
    return FNN__COUNT(methods);
}

static const fnn__method *method_of(int id)
{
    return id >= 0 && (size_t)id < FNN__COUNT(methods) ? methods[id] : NULL;
}

const char *fnn__method_name(int id)
{
    const fnn__method *m = method_of(id);
    return m ? m->name : NULL;
}

const char *fnn__method_help(int id)
{
    const fnn__method *m = method_of(id);
    return m ? m->help : NULL;
}

/* ---- helpers for the methods ------------------------------------------------------- */

int fnn__run_accuracy(fnn__run *r, const fnn_dataset *ds, double *acc)
{
    int rc = fnn__accuracy(r->m, ds, acc);
    if (rc == FNN_OK)
        r->flops += fnn_model_flops_per_sample(r->m, 0) * (double)ds->n;
    return rc;
}

int fnn__run_measure(fnn__run *r, int want_retain, fnn__accs *a)
{
    a->forget = a->retain = a->holdout = NAN;
    int rc = fnn__run_accuracy(r, r->mon_forget, &a->forget);
    if (rc == FNN_OK && want_retain)
        rc = fnn__run_accuracy(r, r->mon_retain, &a->retain);
    if (rc == FNN_OK && r->mon_holdout)
        rc = fnn__run_accuracy(r, r->mon_holdout, &a->holdout);
    return rc;
}

int fnn__run_progress(fnn__run *r)
{
    const fnn_forget_options *o = r->opts;
    if (o->progress && o->progress(o->user, r->phase, r->steps, r->flops, r->planned, r->rep))
        return fnn__fail(r->m->errmsg, sizeof r->m->errmsg, FNN_E_CANCELLED,
                         "unlearning cancelled by the progress callback after %llu steps",
                         (unsigned long long)r->steps);
    return FNN_OK;
}

int fnn__run_phase(fnn__run *r, int kind, uint32_t turn, uint32_t epochs, double t0,
                   double f0, const fnn__accs *a)
{
    fnn__phase_rec *ph;
    if (fnn__report_add_phase(r->rep, &ph) != FNN_OK)
        return fnn__fail(r->m->errmsg, sizeof r->m->errmsg, FNN_E_NOMEM, "out of memory");
    ph->v[FNN_PHASE_KIND] = kind;
    ph->v[FNN_PHASE_TURN] = turn;
    ph->v[FNN_PHASE_T] = r->m->t;
    ph->v[FNN_PHASE_EPOCHS] = epochs;
    ph->v[FNN_PHASE_SECONDS] = fnn__now() - t0;
    ph->v[FNN_PHASE_FLOPS] = r->flops - f0;
    ph->v[FNN_PHASE_FORGET_ACC] = a->forget;
    ph->v[FNN_PHASE_RETAIN_ACC] = a->retain;
    ph->v[FNN_PHASE_HOLDOUT_ACC] = a->holdout;
    return fnn__run_progress(r);
}

int fnn__run_step(void *user, uint32_t epoch, uint32_t epochs, size_t batch, size_t batches,
                  double loss, double flops)
{
    fnn__run *r = user;
    (void)epoch, (void)epochs, (void)batch, (void)batches, (void)loss;
    r->steps++;
    const fnn_forget_options *o = r->opts;
    return o->progress && o->progress(o->user, r->phase, r->steps, r->flops + flops, r->planned,
                                      r->rep);
}

int fnn__run_train(fnn__run *r, const fnn_dataset *ds, uint32_t epochs)
{
    for (uint32_t e = 0; e < epochs; e++) {
        fnn__train_cfg c = r->cfg;
        c.epochs = 1;
        c.epoch_offset = r->epochs;
        c.seed = fnn__seed_mix(r->cfg.seed, r->epochs + 1);
        c.step_fn = fnn__run_step;
        c.step_user = r;
        fnn__train_stats st = {0};
        int rc = fnn__train(r->m, ds, &c, &st);
        r->flops += st.flops;
        r->epochs++;
        if (rc)
            return rc;
    }
    return FNN_OK;
}

void fnn__recipe_continuation(const fnn_model *m, fnn_train_options *o)
{
    const fnn__recipe *rc = &m->recipe;
    if (rc->calls > 0) {
        static const int kept[] = {FNN_TRAIN_BATCH_SIZE, FNN_TRAIN_OPTIMIZER,
                                   FNN_TRAIN_MOMENTUM,   FNN_TRAIN_BETA1,
                                   FNN_TRAIN_BETA2,      FNN_TRAIN_EPSILON,
                                   FNN_TRAIN_WEIGHT_DECAY, FNN_TRAIN_SHUFFLE};
        for (size_t i = 0; i < FNN__COUNT(kept); i++)
            o->v[kept[i]] = rc->v[kept[i]];
        /* The learning rate of the recipe's last epoch, held constant. */
        fnn_train_options r;
        fnn__train_options_init(&r);
        memcpy(r.v, rc->v, sizeof r.v);
        fnn__train_cfg c;
        fnn__train_cfg_from(&r, &c);
        o->v[FNN_TRAIN_LEARNING_RATE] = fnn__lr_at(&c, c.epochs ? c.epochs - 1 : 0);
    }
    o->v[FNN_TRAIN_LR_SCHEDULE] = FNN_LR_CONSTANT;
    o->v[FNN_TRAIN_EPOCHS] = 1;
}

/* ---- snapshots ------------------------------------------------------------------- */

/* Everything the run may change, to restore after a failure: a clone holds
 * parameters, forgetting state, recipe and the dropout generator. */
static void restore(fnn_model *m, const fnn_model *snap)
{
    memcpy(m->params, snap->params, m->n_params * sizeof(float));
    for (size_t k = 0; k < m->n_fl; k++) {
        memcpy(m->fl[k].tau, snap->fl[k].tau, m->fl[k].units * sizeof(float));
        m->fl[k].on = snap->fl[k].on;
    }
    m->t = snap->t;
    m->rng = snap->rng;
    fnn__model_copy_records(m, snap);
    fnn__model_update_decay(m);
}

/* ---- the run --------------------------------------------------------------------- */

/* Accuracy of the whole forget and holdout sets and of the retain sample,
 * and the loss attack of the forget set against the non-members, before
 * (after == 0) or after the method. Not counted in the method's FLOPs. */
static int measure_ends(fnn__run *r, int after)
{
    fnn_forget_report *rep = r->rep;
    double acc;
    double fwd = fnn_model_flops_per_sample(r->m, 0);
    r->measure_flops += fwd * (double)(r->forget->n + r->mon_retain->n +
                                       (r->holdout ? r->holdout->n : 0) +
                                       (r->negatives ? r->negatives->n : 0));
    int rc;
    if (r->negatives) {
        double fig[FNN_MEMBERSHIP_LOSS_MIA + 1];
        rc = fnn_model_membership(r->m, r->forget, r->negatives,
                                  fnn__seed_mix(r->seed, 0x3149u), fig, FNN__COUNT(fig));
        if (rc == FNN_E_INVALID) {
            /* Too few samples for the attack: the figure is not measured. */
            fig[FNN_MEMBERSHIP_LOSS_MIA] = NAN;
            rc = fnn__accuracy(r->m, r->forget, &fig[FNN_MEMBERSHIP_MEMBER_ACC]);
        }
        if (rc)
            return rc;
        rep->v[after ? FNN_REPORT_FORGET_ACC_AFTER : FNN_REPORT_FORGET_ACC_BEFORE] =
            fig[FNN_MEMBERSHIP_MEMBER_ACC];
        rep->v[after ? FNN_REPORT_MIA_AFTER : FNN_REPORT_MIA_BEFORE] =
            fig[FNN_MEMBERSHIP_LOSS_MIA];
    } else {
        if ((rc = fnn__accuracy(r->m, r->forget, &acc)))
            return rc;
        rep->v[after ? FNN_REPORT_FORGET_ACC_AFTER : FNN_REPORT_FORGET_ACC_BEFORE] = acc;
    }
    if ((rc = fnn__accuracy(r->m, r->mon_retain, &acc)))
        return rc;
    rep->v[after ? FNN_REPORT_RETAIN_ACC_AFTER : FNN_REPORT_RETAIN_ACC_BEFORE] = acc;
    if (!after)
        r->retain_start = acc;
    if (r->holdout) {
        if ((rc = fnn__accuracy(r->m, r->holdout, &acc)))
            return rc;
        rep->v[after ? FNN_REPORT_HOLDOUT_ACC_AFTER : FNN_REPORT_HOLDOUT_ACC_BEFORE] = acc;
    }
    return FNN_OK;
}

/* The holdout samples of a class request's class (all of the holdout for
 * other requests, or when the class has too few samples for the attack). */
static int make_negatives(fnn__run *r)
{
    const fnn_dataset *h = r->holdout;
    if (!h)
        return FNN_OK;
    uint32_t *pos = malloc(h->n * sizeof *pos);
    if (!pos)
        return FNN_E_NOMEM;
    size_t n = 0;
    for (size_t i = 0; i < h->n; i++)
        if (r->req->kind != FNN_REQUEST_CLASS ||
            h->store->labels[fnn__ds_at(h, i)] == r->req->label)
            pos[n++] = (uint32_t)i;
    if (n < 6)
        for (n = 0; n < h->n; n++)
            pos[n] = (uint32_t)n;
    int rc = fnn__dataset_view(h, pos, n, &r->negatives);
    free(pos);
    return rc;
}

/* The deletion record of a successful run. */
static int record(fnn__run *r, const fnn__method *method)
{
    const fnn_forget_report *rep = r->rep;
    fnn__history_rec h;
    memset(&h, 0, sizeof h);
    static const struct {
        int hist, report;
    } from_report[] = {
        {FNN_HISTORY_FORGET_ACC_BEFORE, FNN_REPORT_FORGET_ACC_BEFORE},
        {FNN_HISTORY_FORGET_ACC_AFTER, FNN_REPORT_FORGET_ACC_AFTER},
        {FNN_HISTORY_RETAIN_ACC_BEFORE, FNN_REPORT_RETAIN_ACC_BEFORE},
        {FNN_HISTORY_RETAIN_ACC_AFTER, FNN_REPORT_RETAIN_ACC_AFTER},
        {FNN_HISTORY_HOLDOUT_ACC_BEFORE, FNN_REPORT_HOLDOUT_ACC_BEFORE},
        {FNN_HISTORY_HOLDOUT_ACC_AFTER, FNN_REPORT_HOLDOUT_ACC_AFTER},
        {FNN_HISTORY_MIA_BEFORE, FNN_REPORT_MIA_BEFORE},
        {FNN_HISTORY_MIA_AFTER, FNN_REPORT_MIA_AFTER},
        {FNN_HISTORY_FLOPS, FNN_REPORT_METHOD_FLOPS},
    };
    for (size_t k = 0; k < FNN__COUNT(from_report); k++)
        h.v[from_report[k].hist] = rep->v[from_report[k].report];
    h.v[FNN_HISTORY_METHOD] = method->id;
    h.v[FNN_HISTORY_REQUEST_KIND] = r->req->kind;
    h.v[FNN_HISTORY_CLASS] = r->req->kind == FNN_REQUEST_CLASS ? r->req->label : -1;
    h.v[FNN_HISTORY_FORGET_SIZE] = (double)r->req->n;
    h.v[FNN_HISTORY_TRAIN_SIZE] = (double)r->req->train->n;
    fnn_forget_request_digest(r->req, h.digest);
    snprintf(h.version, sizeof h.version, "%s", fnn_version_string());
    int rc = fnn__history_append(r->m, &h);
    if (rc == FNN_E_RANGE)
        return fnn__fail(r->m->errmsg, sizeof r->m->errmsg, rc,
                         "the deletion history is full (%u records)", FNN__MAX_HISTORY);
    if (rc != FNN_OK)
        return fnn__fail(r->m->errmsg, sizeof r->m->errmsg, rc, "out of memory");
    return FNN_OK;
}

/* Sets up the run's data sets and inner options. */
static int prepare(fnn__run *r, const fnn__method *method)
{
    fnn_model *m = r->m;
    int rc = fnn_forget_request_forget_set(r->req, &r->forget);
    if (rc == FNN_OK)
        rc = fnn_forget_request_retain_set(r->req, &r->retain);
    if (rc == FNN_OK) {
        size_t cap = (size_t)r->o[FNN_FORGET_EVAL_SAMPLES];
        fnn__rng rng;
        fnn__rng_seed(&rng, fnn__seed_mix(r->seed, 0x853c49e6748fea9bull));
        if ((rc = fnn__dataset_sample(r->forget, cap, &rng, &r->mon_forget)) == FNN_OK &&
            (rc = fnn__dataset_sample(r->retain, cap, &rng, &r->mon_retain)) == FNN_OK &&
            r->holdout && (rc = fnn__dataset_sample(r->holdout, cap, &rng, &r->mon_holdout)) ==
                              FNN_OK)
            rc = make_negatives(r);
    }
    if (rc != FNN_OK)
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM,
                         "out of memory preparing to forget");
    /* The inner training: the method's defaults, then the caller's keys.
     * Only retraining from scratch normalises its inputs. */
    fnn__train_options_init(&r->inner);
    if (method->train_defaults)
        method->train_defaults(r, &r->inner);
    const fnn_train_options *user = &r->opts->train;
    fnn__train_options_overlay(&r->inner, user);
    if (!(user->set_mask & (1u << FNN_TRAIN_SEED)))
        r->inner.seed = fnn__seed_mix(r->seed, 0x2545f4914f6cdd1dull);
    r->inner.v[FNN_TRAIN_NORMALIZE] = 0;
    fnn__train_cfg_from(&r->inner, &r->cfg);
    r->cfg.progress = NULL;
    r->cfg.user = NULL;
    return FNN_OK;
}

static double retrain_flops(const fnn__run *r)
{
    const fnn__recipe *rc = &r->m->recipe;
    if (rc->calls == 0)
        return NAN;
    return rc->v[FNN_TRAIN_EPOCHS] * (double)r->retain->n *
           fnn_model_flops_per_sample(r->m, 1);
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
    fnn_forget_options *defaults = NULL;
    if (!opts) {
        if (fnn_forget_options_create(&defaults) != FNN_OK)
            return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM, "out of memory");
        opts = defaults;
    }
    const fnn__method *method = method_of((int)opts->v[FNN_FORGET_METHOD]);

    fnn_forget_report local;
    memset(&local, 0, sizeof local);
    fnn_forget_report *rep = report ? report : &local;
    fnn__report_reset(rep);

    fnn__run r = {.m = m, .req = req, .holdout = holdout, .opts = opts, .o = opts->v,
                  .seed = opts->seed, .rep = rep, .phase = FNN_PHASE_MEASURE};
    fnn_model *snap = NULL;
    double t_start = fnn__now();
    if ((rc = prepare(&r, method)) || (method->validate && (rc = method->validate(&r))))
        goto done;
    if ((rc = fnn_model_clone(m, &snap)) != FNN_OK)
        goto done;
    rep->v[FNN_REPORT_METHOD] = method->id;
    rep->v[FNN_REPORT_FORGET_SIZE] = (double)r.forget->n;
    rep->v[FNN_REPORT_RETAIN_SIZE] = (double)r.retain->n;
    rep->v[FNN_REPORT_RETAIN_SAMPLE] = (double)r.mon_retain->n;
    rep->v[FNN_REPORT_HOLDOUT_SIZE] = holdout ? (double)holdout->n : 0.0;
    rep->v[FNN_REPORT_RETRAIN_FLOPS] = retrain_flops(&r);
    r.planned = method->plan ? method->plan(&r) : 0.0;
    if ((rc = measure_ends(&r, 0)) || (rc = fnn__run_progress(&r)))
        goto done;

    double t_method = fnn__now();
    if ((rc = fnn__optim_reserve(m)))
        goto done;
    fnn__optimizer_reset(m);
    if ((rc = method->run(&r)))
        goto done;
    rep->v[FNN_REPORT_FINAL_T] = m->t;
    if (method->decays && r.o[FNN_FORGET_FOLD] != 0)
        fnn_model_fold_decay(m);
    if (!fnn__model_params_finite(m)) {
        rc = fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NUMERIC,
                       "a parameter became NaN or infinite while unlearning; the model is "
                       "restored");
        goto done;
    }
    rep->v[FNN_REPORT_METHOD_SECONDS] = fnn__now() - t_method;
    rep->v[FNN_REPORT_METHOD_FLOPS] = r.flops;
    r.phase = FNN_PHASE_MEASURE;
    if ((rc = measure_ends(&r, 1)) || (rc = fnn__run_progress(&r)))
        goto done;
    rep->v[FNN_REPORT_EPOCHS] = r.epochs;
    rep->v[FNN_REPORT_STEPS] = (double)r.steps;
    rep->v[FNN_REPORT_FLOPS] = r.flops + r.measure_flops;
    if ((rc = record(&r, method)))
        goto done;
    rep->v[FNN_REPORT_SECONDS] = fnn__now() - t_start;
done:
    if (rc != FNN_OK && snap)
        restore(m, snap);
    fnn_model_free(snap);
    fnn_dataset_free(r.forget);
    fnn_dataset_free(r.retain);
    fnn_dataset_free(r.mon_forget);
    fnn_dataset_free(r.mon_retain);
    fnn_dataset_free(r.mon_holdout);
    fnn_dataset_free(r.negatives);
    fnn_forget_options_free(defaults);
    if (rep == &local)
        free(local.phases);
    return rc;
}
