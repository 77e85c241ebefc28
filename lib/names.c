/* Names of the API's enums and option keys: one table per kind, read by
 * fnn_name() and its friends, so that front ends and bindings list values
 * from the library instead of copying them. */
#include <string.h>

#include "internal.h"

static const fnn__named optimizers[] = {
    [FNN_OPTIMIZER_SGD] = {"sgd", "stochastic gradient descent with momentum"},
    [FNN_OPTIMIZER_ADAM] = {"adam", "Adam with bias correction"},
};

static const fnn__named schedules[] = {
    [FNN_LR_CONSTANT] = {"constant", "the same learning rate every epoch"},
    [FNN_LR_STEP] = {"step", "the learning rate times lr-gamma every lr-step epochs"},
};

static const fnn__named policies[] = {
    [FNN_POLICY_FIXED] = {"fixed", "every neuron gets the same rate tau"},
    [FNN_POLICY_ORDERED] = {"ordered", "tau = position + 1"},
    [FNN_POLICY_RANK] = {"rank", "tau = rank of the neuron's mean activation on the forget "
                                 "set (the largest 1)"},
    [FNN_POLICY_TOPK] = {"topk", "rank, and the topk most active neurons get tau = 1"},
    [FNN_POLICY_RANDOM] = {"random", "rank, and topk random neurons get tau = 1"},
    [FNN_POLICY_CONTRAST] = {"contrast", "tau = rank of the neuron's mean activation on the "
                                         "forget set minus that on retain samples"},
};

static const fnn__named request_kinds[] = {
    [FNN_REQUEST_INDICES] = {"indices", "explicit sample indices"},
    [FNN_REQUEST_CLASS] = {"class", "every sample of one class"},
    [FNN_REQUEST_RANDOM] = {"random", "a seeded random sample"},
};

static const fnn__named phase_kinds[] = {
    [FNN_PHASE_LEARN] = {"learn", "epochs on the whole training set, decay off"},
    [FNN_PHASE_UNLEARN] = {"unlearn", "epochs on the forget set, decay on"},
    [FNN_PHASE_DECAY] = {"decay", "one clock step with its repair epochs"},
    [FNN_PHASE_TRAIN] = {"train", "epochs on the retain set"},
    [FNN_PHASE_ASCENT] = {"ascent", "descent on the retain set, ascent on the forget set"},
    [FNN_PHASE_NEWTON] = {"newton", "a Newton step on the output layer"},
    [FNN_PHASE_MEASURE] = {"measure", "accuracies before or after the run"},
};

static const fnn__named splits[] = {
    [FNN_SPLIT_TRAIN] = {"train", "train-images-idx3-ubyte, train-labels-idx1-ubyte"},
    [FNN_SPLIT_TEST] = {"test", "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte"},
};

static const fnn__named report_keys[] = {
    [FNN_REPORT_SECONDS] = {"seconds", "wall time of the whole run"},
    [FNN_REPORT_FLOPS] = {"flops", "matrix-product FLOPs of the whole run"},
    [FNN_REPORT_TARGET] = {"target", "forget-set accuracy aimed at"},
    [FNN_REPORT_FINAL_T] = {"final-t", "forgetting clock at the end"},
    [FNN_REPORT_EPOCHS] = {"epochs", "training epochs run"},
    [FNN_REPORT_FORGET_ACC_BEFORE] = {"forget-acc-before", "forget-set accuracy before"},
    [FNN_REPORT_FORGET_ACC_AFTER] = {"forget-acc-after", "forget-set accuracy after"},
    [FNN_REPORT_RETAIN_ACC_BEFORE] = {"retain-acc-before",
                                      "retain accuracy before, on the retain sample"},
    [FNN_REPORT_RETAIN_ACC_AFTER] = {"retain-acc-after",
                                     "retain accuracy after, on the retain sample"},
    [FNN_REPORT_HOLDOUT_ACC_BEFORE] = {"holdout-acc-before", "holdout accuracy before"},
    [FNN_REPORT_HOLDOUT_ACC_AFTER] = {"holdout-acc-after", "holdout accuracy after"},
    [FNN_REPORT_REACHED_TARGET] = {"reached-target", "1 if the target was reached"},
    [FNN_REPORT_METHOD] = {"method", "the method that ran"},
    [FNN_REPORT_FORGET_SIZE] = {"forget-size", "samples in the forget set"},
    [FNN_REPORT_RETAIN_SIZE] = {"retain-size", "samples in the retain set"},
    [FNN_REPORT_RETAIN_SAMPLE] = {"retain-sample", "samples the retain accuracies are over"},
    [FNN_REPORT_HOLDOUT_SIZE] = {"holdout-size", "samples in the holdout set"},
    [FNN_REPORT_STEPS] = {"steps", "optimizer steps taken"},
    [FNN_REPORT_RETRAIN_FLOPS] = {"retrain-flops",
                                  "FLOPs of retraining on the retain set with the recipe"},
    [FNN_REPORT_METHOD_SECONDS] = {"method-seconds",
                                   "wall time of the method's work, without the report's "
                                   "measurements"},
    [FNN_REPORT_METHOD_FLOPS] = {"method-flops", "FLOPs of the method's work"},
    [FNN_REPORT_MIA_BEFORE] = {"mia-before", "loss attack, forget against holdout, before"},
    [FNN_REPORT_MIA_AFTER] = {"mia-after", "loss attack, forget against holdout, after"},
    [FNN_REPORT_BUDGET_FLOPS] = {"budget-flops", "FLOP budget of the method's work"},
};

static const fnn__named history_keys[] = {
    [FNN_HISTORY_METHOD] = {"method", "the method that ran"},
    [FNN_HISTORY_REQUEST_KIND] = {"request-kind", "indices, class or random"},
    [FNN_HISTORY_CLASS] = {"class", "the class of a class request, else -1"},
    [FNN_HISTORY_FORGET_SIZE] = {"forget-size", "samples forgotten"},
    [FNN_HISTORY_TRAIN_SIZE] = {"train-size", "samples of the request's training set"},
    [FNN_HISTORY_FORGET_ACC_BEFORE] = {"forget-acc-before", "forget-set accuracy before"},
    [FNN_HISTORY_FORGET_ACC_AFTER] = {"forget-acc-after", "forget-set accuracy after"},
    [FNN_HISTORY_RETAIN_ACC_BEFORE] = {"retain-acc-before", "retain-sample accuracy before"},
    [FNN_HISTORY_RETAIN_ACC_AFTER] = {"retain-acc-after", "retain-sample accuracy after"},
    [FNN_HISTORY_HOLDOUT_ACC_BEFORE] = {"holdout-acc-before", "holdout accuracy before"},
    [FNN_HISTORY_HOLDOUT_ACC_AFTER] = {"holdout-acc-after", "holdout accuracy after"},
    [FNN_HISTORY_MIA_BEFORE] = {"mia-before", "loss attack before"},
    [FNN_HISTORY_MIA_AFTER] = {"mia-after", "loss attack after"},
    [FNN_HISTORY_FLOPS] = {"flops", "FLOPs of the method's work"},
};

static const fnn__named membership_keys[] = {
    [FNN_MEMBERSHIP_MEMBER_ACC] = {"member-acc", "accuracy on the members"},
    [FNN_MEMBERSHIP_NONMEMBER_ACC] = {"nonmember-acc", "accuracy on the non-members"},
    [FNN_MEMBERSHIP_MEMBER_LOSS] = {"member-loss", "mean loss of the members"},
    [FNN_MEMBERSHIP_NONMEMBER_LOSS] = {"nonmember-loss", "mean loss of the non-members"},
    [FNN_MEMBERSHIP_LOSS_MIA] = {"loss-mia", "accuracy of the loss attack"},
    [FNN_MEMBERSHIP_LOSS_MIA_SPREAD] = {"loss-mia-spread", "its standard deviation"},
    [FNN_MEMBERSHIP_AUC] = {"auc", "loss-threshold AUC"},
    [FNN_MEMBERSHIP_TPR_1] = {"tpr-1", "TPR at 1% FPR"},
    [FNN_MEMBERSHIP_TPR_01] = {"tpr-01", "TPR at 0.1% FPR"},
};

static const fnn__named phase_keys[] = {
    [FNN_PHASE_KIND] = {"kind", "the phase's kind"},
    [FNN_PHASE_TURN] = {"turn", "fnn-paper turn, 0-based"},
    [FNN_PHASE_T] = {"t", "forgetting clock during the phase"},
    [FNN_PHASE_EPOCHS] = {"epochs", "training epochs in the phase"},
    [FNN_PHASE_SECONDS] = {"seconds", "wall time of the phase"},
    [FNN_PHASE_FLOPS] = {"flops", "matrix-product FLOPs of the phase"},
    [FNN_PHASE_FORGET_ACC] = {"forget-acc", "accuracy on the forget sample after it"},
    [FNN_PHASE_RETAIN_ACC] = {"retain-acc", "accuracy on the retain sample after it"},
    [FNN_PHASE_HOLDOUT_ACC] = {"holdout-acc", "accuracy on the holdout sample after it"},
};

static const fnn__named dtypes[] = {
    [FNN_DTYPE_FLOAT32] = {"float32", "32-bit floats, presented as given"},
    [FNN_DTYPE_UINT8] = {"uint8", "bytes, presented as (float)byte * (1.0f / 255.0f)"},
};

/* The name (help == 0) or description of value v of kind, or NULL. */
static const char *lookup(int kind, int v, int help)
{
#define ROW(table)                                                                         \
    return v < (int)FNN__COUNT(table) ? (help ? table[v].help : table[v].name) : NULL
    if (v < 0)
        return NULL;
    switch (kind) {
    case FNN_NAMES_OPTIMIZER: ROW(optimizers);
    case FNN_NAMES_LR_SCHEDULE: ROW(schedules);
    case FNN_NAMES_POLICY: ROW(policies);
    case FNN_NAMES_REQUEST_KIND: ROW(request_kinds);
    case FNN_NAMES_PHASE_KIND: ROW(phase_kinds);
    case FNN_NAMES_SPLIT: ROW(splits);
    case FNN_NAMES_REPORT_KEY: ROW(report_keys);
    case FNN_NAMES_PHASE_KEY: ROW(phase_keys);
    case FNN_NAMES_HISTORY_KEY: ROW(history_keys);
    case FNN_NAMES_MEMBERSHIP_KEY: ROW(membership_keys);
    case FNN_NAMES_DTYPE: ROW(dtypes);
    case FNN_NAMES_ATTACK_KEY:
        return v < FNN__ATTACK_NKEYS ? (help ? fnn__attack_keys[v].help
                                             : fnn__attack_keys[v].name)
                                     : NULL;
    case FNN_NAMES_METHOD:
        return (size_t)v < fnn__method_count() ? (help ? fnn__method_help(v)
                                                       : fnn__method_name(v))
                                               : NULL;
    case FNN_NAMES_PRESET:
        return (size_t)v < fnn__n_presets ? (help ? fnn__presets[v].help
                                                  : fnn__presets[v].name)
                                          : NULL;
    case FNN_NAMES_TRAIN_KEY:
        return v < FNN__TRAIN_NKEYS ? (help ? fnn__train_keys[v].help
                                            : fnn__train_keys[v].name)
                                    : NULL;
    case FNN_NAMES_FORGET_KEY:
        return v < FNN__FORGET_NKEYS ? (help ? fnn__forget_keys[v].help
                                             : fnn__forget_keys[v].name)
                                     : NULL;
    default: return NULL;
    }
#undef ROW
}

FNN_API size_t fnn_names_count(int kind)
{
    switch (kind) {
    case FNN_NAMES_OPTIMIZER: return FNN__COUNT(optimizers);
    case FNN_NAMES_LR_SCHEDULE: return FNN__COUNT(schedules);
    case FNN_NAMES_POLICY: return FNN__COUNT(policies);
    case FNN_NAMES_METHOD: return fnn__method_count();
    case FNN_NAMES_REQUEST_KIND: return FNN__COUNT(request_kinds);
    case FNN_NAMES_PHASE_KIND: return FNN__COUNT(phase_kinds);
    case FNN_NAMES_PRESET: return fnn__n_presets;
    case FNN_NAMES_SPLIT: return FNN__COUNT(splits);
    case FNN_NAMES_TRAIN_KEY: return FNN__TRAIN_NKEYS;
    case FNN_NAMES_FORGET_KEY: return FNN__FORGET_NKEYS;
    case FNN_NAMES_REPORT_KEY: return FNN__COUNT(report_keys);
    case FNN_NAMES_PHASE_KEY: return FNN__COUNT(phase_keys);
    case FNN_NAMES_HISTORY_KEY: return FNN__COUNT(history_keys);
    case FNN_NAMES_MEMBERSHIP_KEY: return FNN__COUNT(membership_keys);
    case FNN_NAMES_DTYPE: return FNN__COUNT(dtypes);
    case FNN_NAMES_ATTACK_KEY: return FNN__ATTACK_NKEYS;
    default: return 0;
    }
}

FNN_API const char *fnn_name(int kind, int value)
{
    return lookup(kind, value, 0);
}

FNN_API const char *fnn_name_help(int kind, int value)
{
    return lookup(kind, value, 1);
}

FNN_API int fnn_name_lookup(int kind, const char *name, int *value)
{
    if (!name || !value)
        return FNN_E_NULL;
    size_t n = fnn_names_count(kind);
    for (size_t v = 0; v < n; v++) {
        const char *s = lookup(kind, (int)v, 0);
        if (s && strcmp(s, name) == 0) {
            *value = (int)v;
            return FNN_OK;
        }
    }
    return FNN_E_INVALID;
}
