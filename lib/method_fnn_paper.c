/* Method `fnn-paper`: the FNN paper's protocol. For T turns: L learning
 * epochs on the whole training set with the decay off, then U unlearning
 * epochs on the forget set with the decay on and t = 1..U, the ranks
 * recomputed on the forget set at the start of each unlearning phase. */
#include "unlearn.h"

static void train_defaults(const fnn__run *r, fnn_train_options *o)
{
    (void)r;
    o->v[FNN_TRAIN_OPTIMIZER] = FNN_OPTIMIZER_ADAM;
    o->v[FNN_TRAIN_LEARNING_RATE] = 0.001;
    o->v[FNN_TRAIN_BATCH_SIZE] = 64;
    /* The learning rate times 0.07 after every epoch, counted over the run. */
    o->v[FNN_TRAIN_LR_SCHEDULE] = FNN_LR_STEP;
    o->v[FNN_TRAIN_LR_STEP] = 1;
    o->v[FNN_TRAIN_LR_GAMMA] = 0.07;
}

static double plan(const fnn__run *r)
{
    double per_turn = r->o[FNN_FORGET_LEARN_EPOCHS] * (double)r->req->train->n +
                      r->o[FNN_FORGET_UNLEARN_EPOCHS] * (double)r->forget->n;
    return r->o[FNN_FORGET_TURNS] * per_turn * fnn_model_flops_per_sample(r->m, 1);
}

static int run(fnn__run *r)
{
    fnn_model *m = r->m;
    uint32_t turns = (uint32_t)r->o[FNN_FORGET_TURNS];
    uint32_t learn = (uint32_t)r->o[FNN_FORGET_LEARN_EPOCHS];
    uint32_t unlearn = (uint32_t)r->o[FNN_FORGET_UNLEARN_EPOCHS];
    int policy = r->o[FNN_FORGET_POLICY] < 0 ? FNN_POLICY_RANK : (int)r->o[FNN_FORGET_POLICY];
    double param = policy == FNN_POLICY_FIXED ? r->o[FNN_FORGET_TAU] : r->o[FNN_FORGET_TOPK];
    int rc = FNN_OK;
    fnn__accs a;
    for (uint32_t turn = 0; turn < turns && rc == FNN_OK; turn++) {
        if (learn) {
            double t0 = fnn__now(), f0 = r->flops;
            r->phase = FNN_PHASE_LEARN;
            fnn__set_all_decay(m, 0);
            if ((rc = fnn__run_train(r, r->req->train, learn)) ||
                (rc = fnn__run_measure(r, 1, &a)) ||
                (rc = fnn__run_phase(r, FNN_PHASE_LEARN, turn, learn, t0, f0, &a)))
                break;
        }
        double t0 = fnn__now(), f0 = r->flops;
        r->phase = FNN_PHASE_UNLEARN;
        m->t = 0;
        rc = fnn__apply_policy(m, r->forget, r->mon_retain, policy, param,
                               fnn__seed_mix(r->seed, 0x94d049bb133111ebull + turn),
                               &r->flops);
        if (rc == FNN_OK && r->o[FNN_FORGET_DECAY_OUTPUT] >= 0)
            fnn__decay_layers(m, (int)r->o[FNN_FORGET_DECAY_OUTPUT]);
        for (uint32_t u = 1; u <= unlearn && rc == FNN_OK; u++) {
            m->t = u;
            fnn__model_update_decay(m);
            rc = fnn__run_train(r, r->forget, 1);
        }
        if (rc == FNN_OK && (rc = fnn__run_measure(r, 1, &a)) == FNN_OK)
            rc = fnn__run_phase(r, FNN_PHASE_UNLEARN, turn, unlearn, t0, f0, &a);
    }
    return rc;
}

const fnn__method fnn__method_fnn_paper = {
    FNN_METHOD_FNN_PAPER, "fnn-paper",
    "the FNN paper's protocol: turns of learning on the training set and unlearning on the "
    "forget set",
    train_defaults, NULL, plan, run, 1,
};
