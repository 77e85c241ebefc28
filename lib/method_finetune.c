/* Method `finetune`: training on the retain set only, from the model as it
 * is. By default one epoch that continues the model's recipe at the
 * learning rate where it ended. */
#include "unlearn.h"

static void train_defaults(const fnn__run *r, fnn_train_options *o)
{
    fnn__recipe_continuation(r->m, o);
}

static double plan(const fnn__run *r)
{
    return (double)r->cfg.epochs * (double)r->retain->n * fnn_model_flops_per_sample(r->m, 1);
}

static int run(fnn__run *r)
{
    double t0 = fnn__now(), f0 = r->flops;
    r->phase = FNN_PHASE_TRAIN;
    int rc = fnn__run_train(r, r->retain, r->cfg.epochs);
    fnn__accs a;
    if (rc == FNN_OK && (rc = fnn__run_measure(r, 1, &a)) == FNN_OK)
        rc = fnn__run_phase(r, FNN_PHASE_TRAIN, 0, r->cfg.epochs, t0, f0, &a);
    return rc;
}

const fnn__method fnn__method_finetune = {
    FNN_METHOD_FINETUNE, "finetune",
    "training on the retain set only, continuing the model's recipe",
    train_defaults, NULL, plan, run, 0,
};
