/* The unlearning driver's interface to its methods (internal). A method is
 * one row of the method table (unlearn.c) and one file (method_*.c): it
 * names itself, sets the defaults of its inner training, and runs on a
 * prepared fnn__run, through the helpers below, which count FLOPs and
 * steps, record phases and call the caller's progress callback. */
#ifndef FNN_UNLEARN_H
#define FNN_UNLEARN_H

#include "internal.h"

struct fnn_forget_options {
    double v[FNN__FORGET_NKEYS];
    uint64_t seed;             /* FNN_FORGET_SEED, all 64 bits */
    fnn_train_options train;   /* the inner training's options */
    fnn_forget_progress_fn progress;
    void *user;
    char errmsg[FNN__ERRMSG_SIZE];
};

enum { FNN__REPORT_NKEYS = FNN_REPORT_BUDGET_FLOPS + 1,
       FNN__PHASE_NKEYS = FNN_PHASE_HOLDOUT_ACC + 1 };

typedef struct fnn__phase_rec {
    double v[FNN__PHASE_NKEYS];
} fnn__phase_rec;

struct fnn_forget_report {
    double v[FNN__REPORT_NKEYS];
    fnn__phase_rec *phases;
    size_t n, cap;
};

/* Accuracies on the monitoring samples; NaN where not measured. */
typedef struct fnn__accs {
    double forget, retain, holdout;
} fnn__accs;

/* One unlearning run's working state. */
typedef struct fnn__run {
    fnn_model *m;
    const fnn_forget_request *req;
    const fnn_dataset *holdout;    /* may be NULL */
    const fnn_forget_options *opts;/* never NULL */
    const double *o;               /* opts->v */
    uint64_t seed;                 /* the run's seed */
    fnn_dataset *forget, *retain;  /* the whole sets */
    /* Fixed random samples of at most FNN_FORGET_EVAL_SAMPLES each that
     * monitor the phases; mon_holdout is NULL without a holdout set. */
    fnn_dataset *mon_forget, *mon_retain, *mon_holdout;
    /* The loss attack's non-members: the holdout set, or its samples of the
     * class of a class request; NULL without a holdout set. */
    fnn_dataset *negatives;
    fnn_train_options inner;       /* the method's defaults, the caller's keys on top */
    fnn__train_cfg cfg;            /* inner, as a training configuration */
    double flops;                  /* FLOPs of the method's work so far */
    double measure_flops;          /* FLOPs of the report's own measurements */
    double planned;                /* FLOPs the run expects to spend (progress) */
    uint64_t steps;
    uint32_t epochs;
    int phase;                     /* enum fnn_phase_kind under way */
    double retain_start;           /* mon_retain accuracy before unlearning */
    fnn_forget_report *rep;
} fnn__run;

typedef struct fnn__method {
    int id;                        /* enum fnn_method */
    const char *name;
    const char *help;
    /* Writes the method's defaults for its inner training into o (which
     * holds the library's defaults); NULL: the library's defaults. */
    void (*train_defaults)(const fnn__run *r, fnn_train_options *o);
    /* Checks what the method needs before anything changes (may be NULL). */
    int (*validate)(fnn__run *r);
    /* FLOPs the method expects to spend, for progress (may be NULL). */
    double (*plan)(const fnn__run *r);
    int (*run)(fnn__run *r);
    int decays;                    /* uses the forgetting layers (FNN_FORGET_FOLD) */
} fnn__method;

extern const fnn__method fnn__method_fnn, fnn__method_fnn_paper, fnn__method_retrain,
    fnn__method_finetune, fnn__method_neggrad, fnn__method_newton, fnn__method_none;

void fnn__report_reset(fnn_forget_report *r);
/* Appends a phase record to r. */
int fnn__report_add_phase(fnn_forget_report *r, fnn__phase_rec **out);

/* Accuracy of the model on ds, FLOPs counted. */
int fnn__run_accuracy(fnn__run *r, const fnn_dataset *ds, double *acc);
/* Accuracies on the monitoring samples (retain only when want_retain). */
int fnn__run_measure(fnn__run *r, int want_retain, fnn__accs *a);
/* Records a phase that ran from (t0, f0) to now, then reports progress. */
int fnn__run_phase(fnn__run *r, int kind, uint32_t turn, uint32_t epochs, double t0,
                   double f0, const fnn__accs *a);
/* Trains `epochs` epochs of the inner configuration on ds, one call per
 * epoch so the schedule counts every epoch of the run. */
int fnn__run_train(fnn__run *r, const fnn_dataset *ds, uint32_t epochs);
/* The step callback that forwards training progress to the caller. */
int fnn__run_step(void *user, uint32_t epoch, uint32_t epochs, size_t batch, size_t batches,
                  double loss, double flops);
/* Calls the caller's progress callback; FNN_E_CANCELLED when it says stop. */
int fnn__run_progress(fnn__run *r);
/* The inner learning rate where the model's recipe ended (for methods that
 * continue its training), or the options' rate without a recipe. */
void fnn__recipe_continuation(const fnn_model *m, fnn_train_options *o);

#endif
