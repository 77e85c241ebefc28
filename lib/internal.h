/* Internal declarations shared by the library's modules; not installed. */
#ifndef FNN_INTERNAL_H
#define FNN_INTERNAL_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "fnn/fnn.h"

#define FNN__ERRMSG_SIZE 256

/* Hard caps that keep every size product far from overflow. */
#define FNN__MAX_SAMPLES ((size_t)UINT32_MAX)
#define FNN__MAX_DIM 65536u            /* rows, cols, channels, units */
#define FNN__MAX_FEATURES (1u << 26)   /* elements per sample */
#define FNN__MAX_CLASSES 65536u
#define FNN__MAX_LAYERS 256u
#define FNN__MAX_PARAMS ((size_t)1 << 31)
#define FNN__MAX_SPEC 4096u

#define FNN__COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- errors (error.c) ---------------------------------------------------- */

/* Formats a message into buf (size bytes, may be NULL/0) and returns code. */
int fnn__fail(char *buf, size_t size, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int fnn__vfail(char *buf, size_t size, int code, const char *fmt, va_list ap);
/* Copies src into dst (size bytes; NUL-terminated when size > 0) with every
 * byte outside printable ASCII written as \xHH and a backslash as \\, so
 * that text taken from a file cannot carry terminal control sequences into a
 * message. Stops before an escape that would not fit. Returns the length
 * written. */
size_t fnn__escape(char *dst, size_t size, const char *src);
/* Overflow-checked size arithmetic: returns 0 and sets *r, or -1 on overflow. */
int fnn__mul(size_t a, size_t b, size_t *r);
int fnn__add(size_t a, size_t b, size_t *r);
/* Seconds on a monotonic clock. */
double fnn__now(void);

/* ---- random numbers (rng.c) ---------------------------------------------- */

/* xoshiro256** seeded through splitmix64. */
typedef struct fnn__rng {
    uint64_t s[4];
} fnn__rng;

void fnn__rng_seed(fnn__rng *r, uint64_t seed);
uint64_t fnn__rng_next(fnn__rng *r);
/* Uniform in [0, bound), bound >= 1, unbiased. */
uint64_t fnn__rng_below(fnn__rng *r, uint64_t bound);
/* Uniform float in [0, 1). */
float fnn__rng_float(fnn__rng *r);
/* Fisher-Yates shuffle of n indices. */
void fnn__shuffle_u32(fnn__rng *r, uint32_t *a, size_t n);
/* A seed derived from `seed` for the purpose `salt`: independent streams
 * for the different random choices of one run. */
uint64_t fnn__seed_mix(uint64_t seed, uint64_t salt);

/* ---- names and option keys (names.c, options.c) ---------------------------- */

/* One named value of an enum: what fnn_name() and friends report. */
typedef struct fnn__named {
    const char *name;
    const char *help;
} fnn__named;

/* What the values of an option key may be (fnn_train_key_bounds()). */
typedef struct fnn__keydef {
    const char *name;          /* command-line style: "lr", "repair-epochs" */
    double dflt;
    double lo, hi;
    uint32_t flags;            /* FNN_BOUND_* */
    int names;                 /* enum fnn_names for FNN_BOUND_NAMED, else -1 */
    uint32_t methods;          /* forget keys: bit m set when method m reads it */
    const char *help;
} fnn__keydef;

/* Checks v against d; on failure writes "NAME must be DOMAIN, got V" to err. */
int fnn__key_check(const fnn__keydef *d, double v, char *err, size_t err_size);
/* Parses text as a value of key d (a number or, for named keys, a name). */
int fnn__key_parse(const fnn__keydef *d, const char *text, double *v, char *err,
                   size_t err_size);
/* Writes the bounds of d to the out pointers that are not NULL (the
 * fnn_train_key_bounds() contract). */
void fnn__key_bounds(const fnn__keydef *d, double *lo, double *hi, uint32_t *flags,
                     int *names);
/* Writes the domain of d ("an integer in 1..65536", "sgd or adam") into buf. */
void fnn__key_domain(const fnn__keydef *d, char *buf, size_t size);
/* The same with snprintf's semantics (returns the full length). */
size_t fnn__key_describe(const fnn__keydef *d, char *buf, size_t size);

enum { FNN__TRAIN_NKEYS = FNN_TRAIN_NORMALIZE + 1 };
enum { FNN__FORGET_NKEYS = FNN_FORGET_MONITOR_SAMPLES + 1 };
extern const fnn__keydef fnn__train_keys[FNN__TRAIN_NKEYS];
extern const fnn__keydef fnn__forget_keys[FNN__FORGET_NKEYS];
enum { FNN__ATTACK_NKEYS = FNN_ATTACK_PER_EXAMPLE_VARIANCE + 1 };
extern const fnn__keydef fnn__attack_keys[FNN__ATTACK_NKEYS];

/* The method table (unlearn.c): the number of methods, and the name and
 * description of method `id` (NULL when out of range). */
size_t fnn__method_count(void);
const char *fnn__method_name(int id);
const char *fnn__method_help(int id);

/* The preset architectures: one row holds a preset's name, specification
 * and training recipe. */
typedef struct fnn__preset {
    const char *name;
    const char *spec;
    const char *help;
    int optimizer;
    double lr, momentum;
    uint32_t batch;
    double lr_gamma;           /* step schedule, one epoch per step */
} fnn__preset;

const fnn__preset *fnn__preset_find(const char *name);
extern const fnn__preset fnn__presets[];
extern const size_t fnn__n_presets;

/* ---- data sets (dataset.c, idx.c) ---------------------------------------- */

enum { FNN__STORE_U8 = 0, FNN__STORE_F32 = 1 };

/* Immutable sample storage shared by a data set and its views. */
typedef struct fnn__store {
    atomic_size_t refs;
    size_t n;                  /* samples */
    uint32_t rows, cols, channels;
    size_t dim;                /* rows * cols * channels */
    uint32_t num_classes;
    int kind;                  /* FNN__STORE_U8 or FNN__STORE_F32 */
    float scale;               /* 1/255 for bytes, 1 for floats */
    const uint8_t *u8;         /* n * dim, kind U8 */
    const float *f32;          /* n * dim, kind F32 */
    void *owned;               /* the features when the store owns them, else NULL
                                  (borrowed from the caller) */
    int32_t *labels;           /* n, or NULL for a data set without labels */
} fnn__store;

struct fnn_dataset {
    fnn__store *store;
    uint32_t *index;           /* n positions into store; NULL = identity */
    size_t n;
    /* Affine map applied per feature when a batch is gathered:
     * x = raw * a[j] + b[j] (scale and normalisation fused). dim floats each. */
    float *a, *b;
    float *mean, *std;         /* per channel, current normalisation */
    char errmsg[FNN__ERRMSG_SIZE];
};

/* Store index of view position i. */
static inline size_t fnn__ds_at(const fnn_dataset *ds, size_t i)
{
    return ds->index ? ds->index[i] : i;
}

/* Writes the features of samples pos[0..count) (view positions) into x
 * (count * dim floats) and their labels into y (may be NULL). */
void fnn__dataset_gather(const fnn_dataset *ds, const uint32_t *pos, size_t count,
                         float *x, int32_t *y);
/* Same for the contiguous positions [first, first + count). */
void fnn__dataset_gather_range(const fnn_dataset *ds, size_t first, size_t count,
                               float *x, int32_t *y);
/* Creates a view of ds over `n` view positions (copied); validates nothing. */
int fnn__dataset_view(const fnn_dataset *ds, const uint32_t *pos, size_t n,
                      fnn_dataset **out);
/* A view of at most `cap` samples of ds drawn by rng (all of ds, in order,
 * when it is small enough). */
int fnn__dataset_sample(const fnn_dataset *ds, size_t cap, fnn__rng *rng,
                        fnn_dataset **out);
/* fnn_dataset_borrow_arrays() with messages that start with `what`. */
int fnn__dataset_borrow(fnn_dataset **out, const void *features, int dtype,
                        const int32_t *labels, size_t n, uint32_t rows, uint32_t cols,
                        uint32_t channels, uint32_t num_classes, const char *what,
                        char *err, size_t err_size);
/* Per-channel mean and standard deviation of the features as ds presents
 * them (scaled and normalised). */
int fnn__dataset_presented_stats(const fnn_dataset *ds, float *mean, float *std);

/* IDX parsing from memory (idx.c). The parsed arrays are malloc'ed. */
typedef struct fnn__idx {
    uint8_t type;              /* 0x08 = unsigned byte */
    uint8_t ndims;
    uint32_t dims[4];
    size_t count;              /* product of dims */
    uint8_t *data;             /* count bytes */
} fnn__idx;

/* Parses a complete IDX file image (already decompressed). Checks magic, dims,
 * exact length. On success *out owns data. */
int fnn__idx_parse(const uint8_t *buf, size_t len, fnn__idx *out, char *err,
                   size_t err_size);
/* Reads a whole file, gunzipping when it starts with the gzip magic, up to
 * max_bytes of decompressed data. */
int fnn__read_file(const char *path, size_t max_bytes, uint8_t **buf, size_t *len,
                   char *err, size_t err_size);
/* An IDX file read header first (raw or gzip, any kind of file). */
typedef struct fnn__idx_reader fnn__idx_reader;
/* Opens path and reads its header into *hdr (data NULL), inflating no more of
 * a gzip file than the header; the header plus the data it declares must fit
 * in max_bytes. Messages start with the path. */
int fnn__idx_open(const char *path, size_t max_bytes, fnn__idx_reader **out, fnn__idx *hdr,
                  char *err, size_t err_size);
/* Reads the hdr->count data bytes into hdr->data (malloc'ed; the buffer grows
 * with what arrives) and one byte more, which must not be there. */
int fnn__idx_read_data(fnn__idx_reader *r, fnn__idx *hdr, char *err, size_t err_size);
/* Closes the file. NULL is a harmless no-op. */
void fnn__idx_close(fnn__idx_reader *r);
/* Builds a data set from parsed image and label IDX contents. */
int fnn__dataset_from_idx(fnn_dataset **out, const uint8_t *img, size_t img_len,
                          const uint8_t *lbl, size_t lbl_len, uint32_t num_classes,
                          char *err, size_t err_size);

/* ---- model structure (spec.c) ---------------------------------------------- */

enum fnn__layer_kind {
    FNN__L_DENSE = 0,
    FNN__L_CONV2D = 1,
    FNN__L_MAXPOOL = 2,
    FNN__L_RELU = 3,
    FNN__L_DROPOUT = 4,
    FNN__L_FLATTEN = 5
};

/* One layer of the spec, with shapes resolved. Structure only: parameters
 * and forgetting state live in the model. */
typedef struct fnn__layer {
    int kind;
    uint32_t units;            /* dense: outputs; conv2d: filters */
    uint32_t k;                /* conv2d kernel / maxpool window */
    float p;                   /* dropout probability */
    int relu;                  /* dense/conv2d: a following relu is fused here */
    /* Physical layout of the layer's input buffer: channel-major
     * [cm_c][batch][cm_hw] when in_cm (what conv2d and maxpool produce and
     * consume), else sample-major [batch][in_dim] with channels last. */
    int in_cm;
    uint32_t cm_c, cm_hw;
    uint32_t in_h, in_w, in_c; /* input shape (a vector is in_h x 1 x 1) */
    uint32_t out_h, out_w, out_c;
    size_t in_dim, out_dim;
    size_t w_off, n_w;         /* offsets into the model's parameter buffer */
    size_t b_off, n_b;
    int fidx;                  /* forgetting-layer number (dense), else -1 */
} fnn__layer;

/* Parsed specification. */
typedef struct fnn__spec {
    uint32_t in_h, in_w, in_c;
    int input_to_cm;           /* a multi-channel input is made channel-major first */
    fnn__layer *layers;        /* includes relu layers; see fnn__layer.relu */
    size_t n_layers;
} fnn__spec;

/* Expands presets, parses and shape-checks; fills layers (no param offsets). */
int fnn__spec_parse(const char *text, fnn__spec *out, char *err, size_t err_size);
void fnn__spec_free(fnn__spec *s);
/* Canonical text of a parsed spec; returns length (snprintf semantics). */
size_t fnn__spec_format(const fnn__spec *s, char *buf, size_t size);
/* 1 when layer i computes nothing of its own (flatten, or relu fused into
 * the dense/conv2d before it): its output buffer is its input. */
int fnn__layer_fused(const fnn__spec *s, size_t i);

/* ---- models (model.c) ------------------------------------------------------ */

/* One recorded matrix product, for benchmarks (see fnn__gemm). */
typedef struct fnn__gemm_rec {
    int trans_a, trans_b;
    int m, n, k;
} fnn__gemm_rec;

typedef struct fnn__gemm_trace {
    fnn__gemm_rec *recs;
    size_t n, cap;
} fnn__gemm_trace;

/* The forgetting state of one forgetting (dense) layer. */
typedef struct fnn__flayer {
    size_t layer;              /* index into spec.layers */
    uint32_t units;
    float *tau;                /* units rates, > 0 (+inf: never forgets) */
    float *decay;              /* exp(-t / tau) for the model's t */
    int on;                    /* the decay is applied */
} fnn__flayer;

/* How a model was trained, as fnn_model_train() records it (the RCPE
 * section of the file format). */
typedef struct fnn__recipe {
    int has_init;              /* init_seed is known (model created here) */
    uint64_t init_seed;        /* fnn_model_create()'s seed */
    uint32_t calls;            /* successful fnn_model_train() calls */
    double v[FNN__TRAIN_NKEYS];/* the options of the last call */
    uint64_t seed;             /* its FNN_TRAIN_SEED, all 64 bits */
    uint64_t samples;          /* its training-set size */
} fnn__recipe;

/* Workspace of one forward (and backward) pass, sized for `batch` samples.
 * A model owns one for training; inference takes one per call from a
 * one-slot cache (fnn__ws_acquire), so that reads may run concurrently. */
typedef struct fnn__ws {
    size_t batch;              /* capacity in samples; 0 = not allocated */
    int training;              /* holds what backward needs */
    float **act;               /* n_layers + 1 owned buffers of batch * dim (NULL
                                  where a layer's output is its input) */
    float **cur;               /* n_layers + 1 buffers in use by the last forward */
    float *grad_a, *grad_b;    /* ping-pong gradients, batch * max_dim */
    float **col;               /* per layer: im2col buffer (conv2d) or NULL */
    float **xt;                /* per layer: sample-major copy of a channel-major
                                  dense input, or NULL */
    float *xin;                /* channel-major copy of a multi-channel input */
    uint32_t **arg;            /* per layer: maxpool argmax or NULL */
    float **mask;              /* per layer: dropout scale or NULL */
    int32_t *y;                /* batch labels */
    int32_t *pred;             /* batch predictions */
    float *loss;               /* batch per-sample losses */
    /* Options of the next forward passes. */
    double **capture;          /* per layer: dense pre-activations (before the
                                  layer's decay) are summed per neuron here */
    int no_decay;              /* ignore every forgetting layer's decay */
} fnn__ws;

enum { FNN__HISTORY_NKEYS = FNN_HISTORY_FLOPS + 1 };
/* At most this many deletion records are kept (the file format's cap). */
#define FNN__MAX_HISTORY 65536u

/* One record of the deletion history (the HIST section). */
typedef struct fnn__history_rec {
    double v[FNN__HISTORY_NKEYS];
    uint8_t digest[32];
    char version[16];          /* NUL-terminated */
} fnn__history_rec;

struct fnn_model {
    fnn__spec spec;
    char *spec_text;           /* canonical */
    uint32_t num_classes;
    float *params;             /* all weights and biases, 64-byte aligned */
    size_t n_params;
    /* Forgetting state: one record per dense layer, in network order. */
    fnn__flayer *fl;
    size_t n_fl;
    uint32_t t;                /* forgetting clock (unlearning epoch) */
    /* Training state: gradients and optimizer moments outlive the workspace. */
    float *grads, *opt_m, *opt_v;
    uint64_t opt_step;         /* Adam steps taken since the last reset */
    fnn__ws ws;                /* training workspace */
    uint32_t *order;           /* shuffled sample positions */
    size_t order_cap;
    fnn__rng rng;              /* dropout masks */
    /* Input normalisation applied inside the model while it trains with
     * FNN_TRAIN_NORMALIZE (then folded into the first weighted layer);
     * NULL otherwise. in_c floats each. */
    float *in_mean, *in_inv_std;
    _Atomic(fnn__ws *) ws_cache; /* one spare inference workspace */
    fnn__recipe recipe;
    fnn__history_rec *history;
    size_t n_history;
    fnn__gemm_trace *trace;    /* when set, fnn__gemm records shapes */
    char errmsg[FNN__ERRMSG_SIZE];
};

/* Sets the parameter offsets of every layer and returns how many weights and
 * biases the spec needs (no overflow: layer sizes are capped). */
size_t fnn__spec_num_params(fnn__spec *spec);
/* Allocates a model for a parsed spec (takes ownership of spec on success)
 * with zeroed parameters and a fresh forgetting state. */
int fnn__model_alloc(fnn__spec *spec, fnn_model **out, char *err, size_t err_size);
/* Initialises parameters uniformly in +-1/sqrt(fan_in) from seed. */
void fnn__model_init_params(fnn_model *m, uint64_t seed);
/* Recomputes every forgetting layer's factors from tau and m->t. */
void fnn__model_update_decay(fnn_model *m);
/* Checks that ds fits m (shape, classes). Message on m. */
int fnn__model_check_data(const fnn_model *m, const fnn_dataset *ds, int need_labels);
/* Writes a message on a model that may be shared read-only between threads:
 * the write is serialised, so concurrent failures do not race. */
int fnn__model_fail(const fnn_model *m, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Copies m's message into buf under the lock that fnn__model_fail() writes
 * it with: how a call reports why a read-only call on a shared model failed
 * (with concurrent failures, the message is one of theirs). */
void fnn__model_errmsg_copy(const fnn_model *m, char *buf, size_t size);
/* Copies the records that are neither parameters nor forgetting state (the
 * recipe, the deletion history) from src to dst. */
int fnn__model_copy_records(fnn_model *dst, const fnn_model *src);
/* The layer an input normalisation folds into: the first weighted layer,
 * when only flatten and maxpool layers come before it; else FNN_E_STATE
 * (message on m). */
int fnn__fold_target(fnn_model *m, const fnn__layer **out);
/* Folds x' = (x - mean[c]) / std[c] into the first weighted layer; fails
 * with FNN_E_NUMERIC, changing nothing, when a folded value is not finite,
 * and with FNN_E_STATE as fnn__fold_target(). */
int fnn__fold_normalization(fnn_model *m, const float *mean, const float *std);
/* 1 when every parameter is finite. */
int fnn__model_params_finite(const fnn_model *m);
/* Samples per inference chunk: a constant of the model, so that results do
 * not depend on its state. */
size_t fnn__infer_batch(const fnn_model *m);

/* ---- forward and backward passes (nn.c) ------------------------------------ */

/* Ensures ws holds `batch` samples (and what backward needs if training). */
int fnn__ws_reserve(const fnn_model *m, fnn__ws *ws, size_t batch, int training);
void fnn__ws_release(const fnn_model *m, fnn__ws *ws);
/* A workspace of at least `batch` samples for inference: the model's spare
 * one when free, else a new one. NULL on no memory (message on m). */
fnn__ws *fnn__ws_acquire(const fnn_model *m, size_t batch);
/* Returns a workspace from fnn__ws_acquire() (NULL is a no-op). */
void fnn__ws_give_back(const fnn_model *m, fnn__ws *ws);
/* Frees the spare inference workspace. */
void fnn__ws_cache_clear(fnn_model *m);

/* Forward pass of count samples already in ws->act[0] (channels last).
 * rng != NULL marks a training pass: dropout masks are drawn from it and what
 * backward needs is kept. Returns the logits buffer. */
float *fnn__forward(const fnn_model *m, fnn__ws *ws, size_t count, fnn__rng *rng);
/* Backward pass after a training forward: the gradient of the logits is in
 * ws->grad_a; writes the parameter gradients into grads. */
void fnn__backward(const fnn_model *m, fnn__ws *ws, size_t count, float *grads);
/* Softmax cross-entropy on logits: writes per-sample losses to `loss` and,
 * when dlogits != NULL, (softmax - onehot) * grad_scale into dlogits. Returns
 * the summed loss. */
double fnn__softmax_xent(const float *logits, const int32_t *y, size_t count,
                         uint32_t classes, float *loss, float *dlogits,
                         float grad_scale, int32_t *pred);

/* cblas_sgemm (row-major) plus optional shape recording. */
void fnn__gemm(const fnn_model *m, int trans_a, int trans_b, int M, int N, int K,
               float alpha, const float *A, int lda, const float *B, int ldb,
               float beta, float *C, int ldc);

/* 64-byte aligned allocation (zeroed), freed with free(). NULL on failure or
 * overflow. */
void *fnn__alloc_floats(size_t n);

/* ---- inference (infer.c) --------------------------------------------------- */

/* What one inference pass over a data set writes; every pointer may be NULL.
 * losses, loss_sum and correct need labels within the model's classes. */
typedef struct fnn__infer_out {
    float *proba;              /* size * classes */
    float *logits;             /* size * classes */
    int32_t *pred;             /* size */
    float *losses;             /* size */
    double *loss_sum;
    size_t *correct;
    double **capture;          /* see fnn__ws.capture: sums per layer */
    int no_decay;
    int check_finite;          /* fail with FNN_E_NUMERIC on a non-finite logit */
} fnn__infer_out;

int fnn__infer(const fnn_model *m, const fnn_dataset *ds, const fnn__infer_out *out);
/* Accuracy of m on ds (labels needed). */
int fnn__accuracy(const fnn_model *m, const fnn_dataset *ds, double *acc);

/* ---- training (train.c, options.c) ------------------------------------------ */

struct fnn_train_options {
    double v[FNN__TRAIN_NKEYS];
    uint64_t seed;             /* FNN_TRAIN_SEED, all 64 bits */
    uint32_t set_mask;         /* bit k: key k was set explicitly */
    fnn_progress_fn progress;
    void *user;
    char errmsg[FNN__ERRMSG_SIZE];
};

/* Resets o to the library's defaults (nothing marked as set). */
void fnn__train_options_init(fnn_train_options *o);
/* Sets key k of o to v, marking it set; v must have passed fnn__key_check. */
void fnn__train_options_put(fnn_train_options *o, int key, double v);
/* Copies into dst every key that src marks as set (they stay marked). */
void fnn__train_options_overlay(fnn_train_options *dst, const fnn_train_options *src);
/* Applies a preset's recipe to o (marking its keys set). */
void fnn__train_options_apply_preset(fnn_train_options *o, const fnn__preset *p);

/* Progress of a training loop: called after every step with the steps and
 * FLOPs done by that loop; non-zero stops it with FNN_E_CANCELLED. */
typedef int (*fnn__step_fn)(void *user, uint32_t epoch, uint32_t epochs, size_t batch,
                            size_t batches, double loss, double flops);

typedef struct fnn__train_cfg {
    uint32_t epochs;
    size_t batch;
    int optimizer;             /* enum fnn_optimizer */
    double lr, momentum, beta1, beta2, eps, weight_decay;
    int schedule;              /* enum fnn_lr_schedule */
    uint32_t lr_step;
    double lr_gamma;
    uint32_t epoch_offset;     /* added to the epoch for the schedule */
    uint64_t seed;
    int shuffle;
    int normalize;             /* FNN_TRAIN_NORMALIZE */
    size_t max_steps;          /* stop after this many steps (0: no limit) */
    fnn__step_fn step_fn;      /* internal progress (unlearning) */
    void *step_user;
    fnn_progress_fn progress;  /* the caller's callback */
    void *user;
} fnn__train_cfg;

typedef struct fnn__train_stats {
    size_t steps, samples;
    double flops;              /* sgemm FLOPs of the steps taken */
    double last_loss;          /* mean loss of the last full epoch */
} fnn__train_stats;

/* The configuration options o describe (o may be NULL: the defaults). */
void fnn__train_cfg_from(const fnn_train_options *o, fnn__train_cfg *c);
double fnn__lr_at(const fnn__train_cfg *c, uint32_t epoch);
/* Allocates gradients and optimizer moments (kept until the model is freed). */
int fnn__optim_reserve(fnn_model *m);
/* Zeroes the optimizer state. */
void fnn__optimizer_reset(fnn_model *m);
/* One optimizer step on m->grads with learning rate lr. */
void fnn__optimizer_step(fnn_model *m, const fnn__train_cfg *c, double lr);
/* Runs c->epochs epochs on ds, continuing the optimizer state in m. The data
 * set must already be checked against m. stats (may be NULL) accumulates.
 * On FNN_E_NUMERIC the parameters are restored to their state at the call. */
int fnn__train(fnn_model *m, const fnn_dataset *ds, const fnn__train_cfg *c,
               fnn__train_stats *stats);

/* Trains m from scratch on ds with its recipe overlaid by opts (see
 * fnn_model_retrain()), leaving the forgetting state alone; on failure the
 * parameters are restored. */
int fnn__retrain(fnn_model *m, const fnn_dataset *ds, const fnn_train_options *opts,
                 fnn__step_fn step_fn, void *step_user, fnn__train_stats *stats);

/* ---- forgetting state, ranking and policies (forgetting.c, policy.c) ------- */

/* A fresh forgetting state: decay off, every tau +infinity, t = 0. */
void fnn__forgetting_reset(fnn_model *m);

/* Mean pre-activation of every neuron of every forgetting layer over ds, with
 * every decay off; means[k] has the units of forgetting layer k. Adds the
 * FLOPs to *flops when not NULL. */
int fnn__mean_preactivations(const fnn_model *m, const fnn_dataset *ds, double **means,
                             double *flops);
/* Sets tau by a policy on every forgetting layer and turns the decay on. */
int fnn__apply_policy(fnn_model *m, const fnn_dataset *forget, const fnn_dataset *contrast,
                      int policy, double param, uint64_t seed, double *flops);
/* Which forgetting layers keep their decay (values of FNN_FORGET_DECAY_OUTPUT):
 * the hidden dense layers, all, or only the output layer. A model with a
 * single forgetting layer always keeps it. */
enum { FNN__DECAY_HIDDEN = 0, FNN__DECAY_ALL = 1, FNN__DECAY_OUTPUT = 2 };
/* Takes the other layers out of forgetting (tau infinite, decay off). */
void fnn__decay_layers(fnn_model *m, int which);
/* A copy of every forgetting layer's rates (NULL when out of memory); puts
 * them back with the decay on; frees the copy (NULL is a no-op). */
float **fnn__save_taus(const fnn_model *m);
void fnn__restore_taus(fnn_model *m, float *const *saved);
void fnn__free_taus(const fnn_model *m, float **saved);
/* Turns the decay of every forgetting layer on or off. */
void fnn__set_all_decay(fnn_model *m, int on);

/* ---- forget requests (request.c) ------------------------------------------ */

struct fnn_forget_request {
    fnn_dataset *train;        /* own view of the training set (holds a store ref) */
    uint32_t *idx;             /* n ascending forget positions in train */
    size_t n;
    int kind;                  /* enum fnn_request_kind */
    int32_t label;             /* FNN_REQUEST_CLASS */
    uint64_t seed;             /* FNN_REQUEST_RANDOM */
};

/* Parses decimal sample indices separated by white space ('#' starts a
 * comment to the end of the line) into a malloc'ed array, in text order. */
int fnn__parse_indices(const char *text, size_t len, uint32_t **out, size_t *count, char *err,
                       size_t err_size);

/* SHA-256 (sha256.c). */
typedef struct fnn__sha256 {
    uint32_t h[8];
    uint64_t len;
    uint8_t buf[64];
    size_t fill;
} fnn__sha256;

void fnn__sha256_init(fnn__sha256 *s);
void fnn__sha256_update(fnn__sha256 *s, const void *data, size_t n);
void fnn__sha256_final(fnn__sha256 *s, uint8_t out[32]);

/* Appends a record to m's deletion history (FNN_E_NOMEM, FNN_E_RANGE at the cap). */
int fnn__history_append(fnn_model *m, const fnn__history_rec *rec);

/* ---- model files (format.c) ----------------------------------------------- */

int fnn__model_serialize(const fnn_model *m, uint8_t **buf, size_t *len);
/* CRC-32 (zlib's) of n bytes, of any length: the trailer of the file formats. */
uint32_t fnn__crc32(const uint8_t *p, size_t n);
/* Replaces the file at path by data atomically, as fnn_model_save() does: a
 * same-directory temporary <path>.tmp.<pid>.XXXXXX (after removing those of
 * dead writers), written, synced, renamed over path, directory synced. On
 * failure path is untouched and err says why. */
int fnn__file_replace(const char *path, const uint8_t *data, size_t len, char *err,
                      size_t err_size);

#endif /* FNN_INTERNAL_H */
