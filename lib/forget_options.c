/* The unlearning options handle: its keys (which describe themselves and
 * name the methods that read them) and the inner training options it
 * holds. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unlearn.h"

#define I FNN_BOUND_INTEGER
#define LO FNN_BOUND_LO_OPEN
#define HI FNN_BOUND_HI_OPEN
#define A FNN_BOUND_AUTO
#define N FNN_BOUND_NAMED
#define D FNN_BOUND_DEPRECATED

#define M(x) (1u << FNN_METHOD_##x)
#define ALL_METHODS ((1u << 7) - 1)
#define DECAYING (M(FNN) | M(FNN_PAPER))
#define TRAINING (M(FNN) | M(FNN_PAPER) | M(RETRAIN) | M(FINETUNE) | M(NEGGRAD))

/* 2^64: the exclusive upper bound of a 64-bit seed. */
#define SEED_END 18446744073709551616.0

const fnn__keydef fnn__forget_keys[FNN__FORGET_NKEYS] = {
    [FNN_FORGET_PROCEDURE] = {"procedure", FNN_METHOD_FNN, 0, FNN_METHOD_FNN_PAPER, I | N | D,
                              FNN_NAMES_METHOD, DECAYING, "former name of --method"},
    [FNN_FORGET_POLICY] = {"policy", -1, 0, FNN_POLICY_CONTRAST, I | N | A, FNN_NAMES_POLICY,
                           DECAYING,
                           "how each neuron's forgetting rate is set (-1: fnn contrast, "
                           "fnn-paper rank)"},
    [FNN_FORGET_TAU] = {"tau", 30, 0, 1e9, LO, -1, DECAYING,
                        "--policy fixed: the rate of every neuron"},
    [FNN_FORGET_TOPK] = {"topk", 30, 1, 65536, I, -1, DECAYING,
                         "--policy topk, random: neurons set to forget fastest, at width 128, "
                         "scaled to each layer's width"},
    [FNN_FORGET_SEED] = {"seed", 0, 0, SEED_END, I | HI, -1, ALL_METHODS,
                         "seed of the run's random choices"},
    [FNN_FORGET_MAX_T] = {"max-t", 32, 1, 1e6, I, -1, M(FNN), "largest forgetting clock t"},
    [FNN_FORGET_TARGET] = {"target", -1, 0, 1, A, -1, M(FNN),
                           "forget-set accuracy to reach, a fraction (-1: 0 for a class, "
                           "else the holdout accuracy)"},
    [FNN_FORGET_REPAIR_EPOCHS] = {"repair-epochs", 1, 0, 1e6, I, -1, M(FNN),
                                  "repair epochs per clock step"},
    [FNN_FORGET_REPAIR_FRACTION] = {"repair-fraction", -1, 0, 1, LO | A | D, -1, M(FNN),
                                    "former way to size the repair: a share of the retain "
                                    "set, which replaces --repair-samples when set"},
    [FNN_FORGET_TURNS] = {"turns", 10, 1, 1e6, I, -1, M(FNN_PAPER),
                          "turns of learning then unlearning"},
    [FNN_FORGET_LEARN_EPOCHS] = {"learn-epochs", 1, 0, 1e6, I, -1, M(FNN_PAPER),
                                 "epochs per turn on the whole training set"},
    [FNN_FORGET_UNLEARN_EPOCHS] = {"unlearn-epochs", 2, 1, 1e6, I, -1, M(FNN_PAPER),
                                   "epochs per turn on the forget set"},
    [FNN_FORGET_BATCH_SIZE] = {"batch", 64, 1, 65536, I | D, -1, TRAINING,
                               "the inner training's batch"},
    [FNN_FORGET_OPTIMIZER] = {"optimizer", FNN_OPTIMIZER_ADAM, 0, FNN_OPTIMIZER_ADAM,
                              I | N | D, FNN_NAMES_OPTIMIZER, TRAINING,
                              "the inner training's optimizer"},
    [FNN_FORGET_LEARNING_RATE] = {"lr", 0.001, 0, 1e6, LO | HI | D, -1, TRAINING,
                                  "the inner training's learning rate"},
    [FNN_FORGET_LR_GAMMA] = {"lr-gamma", -1, 0, 1, LO | A | D, -1, TRAINING,
                             "the inner training's step-schedule factor per epoch"},
    [FNN_FORGET_FOLD] = {"fold", 1, 0, 1, I, -1, DECAYING,
                         "1 folds the decay into the weights at the end"},
    [FNN_FORGET_EVAL_SAMPLES] = {"eval-samples", 2000, 1, 4294967295.0, I, -1, ALL_METHODS,
                                 "size of the monitoring samples of the forget, retain and "
                                 "holdout sets"},
    [FNN_FORGET_TOLERANCE] = {"tolerance", 0.002, 0, 1, 0, -1, M(FNN),
                              "stop when the forget accuracy is at most target + tolerance"},
    [FNN_FORGET_RETAIN_DROP] = {"retain-drop", 0.005, 0, 1, 0, -1, M(FNN),
                                "repair goes on while the retain accuracy is more than this "
                                "below its start"},
    [FNN_FORGET_MAX_EXTRA_REPAIR] = {"max-extra-repair", 10, 0, 1e6, I, -1, M(FNN),
                                     "cap on those extra repair epochs per step"},
    [FNN_FORGET_DECAY_OUTPUT] = {"decay-output", -1, 0, 2, I | A, -1, DECAYING,
                                 "1: the output layer forgets too; 0: only the hidden dense "
                                 "layers; 2: only the output layer; -1: fnn-paper 1; fnn 1 "
                                 "for a class under the contrast policy, else 2 then 1"},
    [FNN_FORGET_METHOD] = {"method", FNN_METHOD_FNN, 0, FNN_METHOD_NONE, I | N,
                           FNN_NAMES_METHOD, ALL_METHODS, "the unlearning method"},
    [FNN_FORGET_NEGGRAD_ALPHA] = {"neggrad-alpha", 0.999, 0, 1, LO | HI, -1, M(NEGGRAD),
                                  "weight of the retain loss; the forget loss gets 1 - alpha"},
    [FNN_FORGET_NEWTON_L2] = {"newton-l2", 0.001, 0, 1e6, LO | HI, -1, M(NEWTON),
                              "L2 coefficient of the output layer's regularised loss"},
    [FNN_FORGET_BUDGET] = {"budget", 0.01, 0, 1, LO, -1, M(FNN),
                           "FLOP budget, a fraction of the training the recipe implies; "
                           "never more than retraining"},
    [FNN_FORGET_T_START] = {"t-start", -1, 1, 1e6, I | A, -1, M(FNN),
                            "the forgetting clock's first value (-1: 4 for a class, else 1)"},
    [FNN_FORGET_T_STEP] = {"t-step", 2, 1, 1e6, I, -1, M(FNN),
                           "the clock's increment while the target is not reached"},
    [FNN_FORGET_RANK_SAMPLES] = {"rank-samples", 1000, 1, 4294967295.0, I, -1, M(FNN),
                                 "forget samples the neurons are ranked on"},
    [FNN_FORGET_REPAIR_SAMPLES] = {"repair-samples", 5000, 1, 4294967295.0, I, -1, M(FNN),
                                   "retain samples per repair epoch"},
    [FNN_FORGET_MONITOR_SAMPLES] = {"monitor-samples", 1000, 1, 4294967295.0, I, -1, M(FNN),
                                    "forget and holdout samples that check the target"},
};

#undef I
#undef LO
#undef HI
#undef A
#undef N
#undef D

static const fnn__keydef *forget_key(int key)
{
    return key >= 0 && key < FNN__FORGET_NKEYS ? &fnn__forget_keys[key] : NULL;
}

FNN_API int fnn_forget_key_bounds(int key, double *lo, double *hi, uint32_t *flags, int *names)
{
    const fnn__keydef *d = forget_key(key);
    if (!d)
        return FNN_E_INVALID;
    if (lo)
        *lo = d->lo;
    if (hi)
        *hi = d->hi;
    if (flags)
        *flags = d->flags;
    if (names)
        *names = d->flags & FNN_BOUND_NAMED ? d->names : -1;
    return FNN_OK;
}

FNN_API size_t fnn_forget_key_describe(int key, char *buf, size_t size)
{
    const fnn__keydef *d = forget_key(key);
    if (!d) {
        if (buf && size > 0)
            buf[0] = '\0';
        return 0;
    }
    return fnn__key_describe(d, buf, size);
}

FNN_API uint32_t fnn_forget_key_methods(int key)
{
    const fnn__keydef *d = forget_key(key);
    return d ? d->methods : 0;
}

FNN_API int fnn_forget_options_create(fnn_forget_options **out)
{
    if (!out)
        return FNN_E_NULL;
    fnn_forget_options *o = calloc(1, sizeof *o);
    *out = o;
    if (!o)
        return FNN_E_NOMEM;
    for (int k = 0; k < FNN__FORGET_NKEYS; k++)
        o->v[k] = fnn__forget_keys[k].dflt;
    o->seed = 0;
    fnn__train_options_init(&o->train);
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

/* Stores a checked value, following the aliases of deprecated keys. */
static void put(fnn_forget_options *o, int key, double v)
{
    fnn_train_options *t = &o->train;
    switch (key) {
    case FNN_FORGET_PROCEDURE:
    case FNN_FORGET_METHOD:
        o->v[FNN_FORGET_PROCEDURE] = o->v[FNN_FORGET_METHOD] = v;
        return;
    case FNN_FORGET_BATCH_SIZE: fnn__train_options_put(t, FNN_TRAIN_BATCH_SIZE, v); break;
    case FNN_FORGET_OPTIMIZER: fnn__train_options_put(t, FNN_TRAIN_OPTIMIZER, v); break;
    case FNN_FORGET_LEARNING_RATE: fnn__train_options_put(t, FNN_TRAIN_LEARNING_RATE, v); break;
    case FNN_FORGET_LR_GAMMA:
        if (v < 0) {
            /* Back to the method's default schedule. */
            t->set_mask &= ~((1u << FNN_TRAIN_LR_SCHEDULE) | (1u << FNN_TRAIN_LR_STEP) |
                             (1u << FNN_TRAIN_LR_GAMMA));
        } else {
            fnn__train_options_put(t, FNN_TRAIN_LR_SCHEDULE, FNN_LR_STEP);
            fnn__train_options_put(t, FNN_TRAIN_LR_STEP, 1);
            fnn__train_options_put(t, FNN_TRAIN_LR_GAMMA, v);
        }
        break;
    case FNN_FORGET_SEED: o->seed = (uint64_t)v; break;
    default: break;
    }
    o->v[key] = v;
}

FNN_API int fnn_forget_options_set(fnn_forget_options *o, int key, double v)
{
    if (!o)
        return FNN_E_NULL;
    const fnn__keydef *d = forget_key(key);
    if (!d)
        return fnn__fail(o->errmsg, sizeof o->errmsg, FNN_E_INVALID, "unknown option key %d",
                         key);
    int rc = fnn__key_check(d, v, o->errmsg, sizeof o->errmsg);
    if (rc == FNN_OK)
        put(o, key, v);
    return rc;
}

FNN_API int fnn_forget_options_get(const fnn_forget_options *o, int key, double *value)
{
    if (!o || !value)
        return FNN_E_NULL;
    if (!forget_key(key))
        return FNN_E_INVALID;
    /* A deprecated alias reads the inner option when that is set. */
    static const int alias[FNN__FORGET_NKEYS] = {
        [FNN_FORGET_BATCH_SIZE] = FNN_TRAIN_BATCH_SIZE + 1,
        [FNN_FORGET_OPTIMIZER] = FNN_TRAIN_OPTIMIZER + 1,
        [FNN_FORGET_LEARNING_RATE] = FNN_TRAIN_LEARNING_RATE + 1,
        [FNN_FORGET_LR_GAMMA] = FNN_TRAIN_LR_GAMMA + 1,
    };
    int a = alias[key] - 1;
    *value = a >= 0 && (o->train.set_mask & (1u << a)) ? o->train.v[a] : o->v[key];
    return FNN_OK;
}

FNN_API int fnn_forget_options_set_u64(fnn_forget_options *o, int key, uint64_t value)
{
    if (!o)
        return FNN_E_NULL;
    const fnn__keydef *d = forget_key(key);
    if (!d || !(d->flags & FNN_BOUND_INTEGER))
        return fnn__fail(o->errmsg, sizeof o->errmsg, FNN_E_INVALID,
                         "option key %d is not an integer option", key);
    if (key == FNN_FORGET_SEED) {
        o->seed = value;
        o->v[key] = (double)value;
        return FNN_OK;
    }
    return fnn_forget_options_set(o, key, (double)value);
}

FNN_API int fnn_forget_options_get_u64(const fnn_forget_options *o, int key, uint64_t *value)
{
    if (!o || !value)
        return FNN_E_NULL;
    const fnn__keydef *d = forget_key(key);
    if (!d || !(d->flags & FNN_BOUND_INTEGER))
        return FNN_E_INVALID;
    double v;
    fnn_forget_options_get(o, key, &v);
    *value = key == FNN_FORGET_SEED ? o->seed : (uint64_t)v;
    return FNN_OK;
}

FNN_API int fnn_forget_options_parse(fnn_forget_options *o, const char *name,
                                     const char *value)
{
    if (!o)
        return FNN_E_NULL;
    if (!name || !value)
        return fnn__fail(o->errmsg, sizeof o->errmsg, FNN_E_NULL, "%s is NULL",
                         name ? "value" : "name");
    int key;
    if (fnn_name_lookup(FNN_NAMES_FORGET_KEY, name, &key) != FNN_OK) {
        if (fnn_name_lookup(FNN_NAMES_TRAIN_KEY, name, &key) != FNN_OK)
            return fnn__fail(o->errmsg, sizeof o->errmsg, FNN_E_INVALID,
                             "unknown unlearning option '%.40s'", name);
        int rc = fnn_train_options_parse(&o->train, name, value);
        if (rc != FNN_OK)
            fnn__fail(o->errmsg, sizeof o->errmsg, rc, "%s", o->train.errmsg);
        return rc;
    }
    if (key == FNN_FORGET_SEED && value[0] >= '0' && value[0] <= '9') {
        errno = 0;
        char *end = NULL;
        unsigned long long x = strtoull(value, &end, 10);
        if (errno != ERANGE && *end == '\0')
            return fnn_forget_options_set_u64(o, key, (uint64_t)x);
    }
    double v;
    int rc = fnn__key_parse(&fnn__forget_keys[key], value, &v, o->errmsg, sizeof o->errmsg);
    if (rc == FNN_OK)
        put(o, key, v);
    return rc;
}

FNN_API fnn_train_options *fnn_forget_options_train(fnn_forget_options *o)
{
    return o ? &o->train : NULL;
}

FNN_API int fnn_forget_options_set_progress(fnn_forget_options *o, fnn_forget_progress_fn fn,
                                            void *user)
{
    if (!o)
        return FNN_E_NULL;
    o->progress = fn;
    o->user = user;
    return FNN_OK;
}
