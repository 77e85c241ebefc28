/* Method `retrain`: training from scratch on the retain set with the
 * model's recorded recipe (fnn_model_retrain()), the exact reference every
 * other method is measured against. */
#include "unlearn.h"

static int validate(fnn__run *r)
{
    const fnn_model *m = r->m;
    if ((m->recipe.calls == 1 && m->recipe.has_init) ||
        (r->opts->train.set_mask & (1u << FNN_TRAIN_EPOCHS)))
        return FNN_OK;
    return fnn__fail(r->m->errmsg, sizeof r->m->errmsg, FNN_E_STATE,
                     "retrain needs the model's training recipe, and this model records %s; "
                     "set the inner training options (at least the epochs)",
                     m->recipe.calls > 1 ? "several training calls" : "none");
}

static double plan(const fnn__run *r)
{
    double epochs = r->opts->train.set_mask & (1u << FNN_TRAIN_EPOCHS)
                        ? r->opts->train.v[FNN_TRAIN_EPOCHS]
                        : r->m->recipe.v[FNN_TRAIN_EPOCHS];
    return epochs * (double)r->retain->n * fnn_model_flops_per_sample(r->m, 1);
}

static int run(fnn__run *r)
{
    double t0 = fnn__now(), f0 = r->flops;
    r->phase = FNN_PHASE_TRAIN;
    fnn__forgetting_reset(r->m);
    fnn__train_stats st = {0};
    int rc = fnn__retrain(r->m, r->retain, &r->opts->train, fnn__run_step, r, &st);
    r->flops += st.flops;
    if (rc != FNN_OK)
        return rc;
    uint32_t epochs = (uint32_t)r->m->recipe.v[FNN_TRAIN_EPOCHS];
    r->epochs += epochs;
    fnn__accs a;
    if ((rc = fnn__run_measure(r, 1, &a)))
        return rc;
    return fnn__run_phase(r, FNN_PHASE_TRAIN, 0, epochs, t0, f0, &a);
}

const fnn__method fnn__method_retrain = {
    FNN_METHOD_RETRAIN, "retrain",
    "from scratch on the retain set with the model's recorded recipe: exact, the reference",
    NULL, validate, plan, run, 0,
};
