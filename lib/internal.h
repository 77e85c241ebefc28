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
    uint8_t *u8;               /* n * dim, kind U8 */
    float *f32;                /* n * dim, kind F32 */
    int32_t *labels;           /* n */
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

/* ---- models (spec.c, model.c) -------------------------------------------- */

enum fnn__layer_kind {
    FNN__L_DENSE = 0,
    FNN__L_CONV2D = 1,
    FNN__L_MAXPOOL = 2,
    FNN__L_RELU = 3,
    FNN__L_DROPOUT = 4,
    FNN__L_FLATTEN = 5
};

/* One layer of the spec, with shapes resolved. */
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
    /* Forgetting state (dense layers only): per-output tau, and whether the
     * decay exp(-t / tau) is active. decay[] caches the factors for the
     * model's current t. */
    float *tau;                /* units floats or NULL */
    float *decay;              /* units floats or NULL */
    int decay_on;
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

/* One recorded matrix product, for benchmarks (see fnn__gemm). */
typedef struct fnn__gemm_rec {
    int trans_a, trans_b;
    int m, n, k;
} fnn__gemm_rec;

typedef struct fnn__gemm_trace {
    fnn__gemm_rec *recs;
    size_t n, cap;
} fnn__gemm_trace;

/* Workspace, sized once for a batch size. */
typedef struct fnn__ws {
    size_t batch;              /* capacity in samples; 0 = not allocated */
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
    uint32_t *order;           /* shuffled sample positions (train), or NULL */
    size_t order_cap;
} fnn__ws;

struct fnn_model {
    fnn__spec spec;
    char *spec_text;           /* canonical */
    uint32_t num_classes;
    float *params;             /* all weights and biases, 64-byte aligned */
    size_t n_params;
    float *grads;              /* n_params, allocated with the workspace */
    float *opt_m, *opt_v;      /* optimizer state (momentum / Adam moments) */
    uint64_t opt_step;         /* Adam steps taken since the last reset */
    uint32_t t;                /* forgetting clock (unlearning epoch) */
    fnn__ws ws;
    fnn__rng rng;              /* dropout masks */
    fnn__gemm_trace *trace;    /* when set, fnn__gemm records shapes */
    double **capture;          /* when set, per layer: dense pre-activations are
                                  summed per neuron into capture[i] (or NULL) */
    char errmsg[FNN__ERRMSG_SIZE];
};

/* Sets the parameter offsets of every layer and returns how many weights and
 * biases the spec needs (no overflow: layer sizes are capped). */
size_t fnn__spec_num_params(fnn__spec *spec);
/* Allocates a model for a parsed spec (takes ownership of spec on success)
 * with zeroed parameters. */
int fnn__model_alloc(fnn__spec *spec, fnn_model **out, char *err, size_t err_size);
/* Initialises parameters uniformly in +-1/sqrt(fan_in) from seed. */
void fnn__model_init_params(fnn_model *m, uint64_t seed);
/* Recomputes decay[] from tau[] and m->t for every dense layer. */
void fnn__model_update_decay(fnn_model *m);
/* Ensures the workspace holds `batch` samples (and gradients if training). */
int fnn__model_reserve(fnn_model *m, size_t batch, int training);
void fnn__model_release_ws(fnn_model *m);
/* 1 when layer i computes nothing of its own (flatten, or relu fused into
 * the dense/conv2d before it): its output buffer is its input. */
int fnn__layer_fused(const fnn__spec *s, size_t i);
/* Checks that ds fits m (shape, classes). Message on m. */
int fnn__model_check_data(fnn_model *m, const fnn_dataset *ds, int need_labels);

/* Forward pass of count samples already in ws.act[0]. training != 0 draws
 * dropout masks and keeps what backward needs. Returns the logits buffer. */
float *fnn__forward(fnn_model *m, size_t count, int training);
/* The sample-major input the last forward pass gave dense layer i. */
const float *fnn__dense_input(fnn_model *m, size_t i);
/* Softmax cross-entropy on logits: writes per-sample losses to ws.loss and,
 * when dlogits != NULL, (softmax - onehot) * grad_scale into dlogits. Returns
 * the summed loss. */
double fnn__softmax_xent(const float *logits, const int32_t *y, size_t count,
                         uint32_t classes, float *loss, float *dlogits,
                         float grad_scale, int32_t *pred);
/* Backward pass after fnn__forward(training=1): gradient of the logits is in
 * ws.grad_a; writes m->grads. */
void fnn__backward(fnn_model *m, size_t count);

/* ---- training (train.c) ---------------------------------------------------- */

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
    fnn_progress_fn progress;
    void *user;
} fnn__train_cfg;

typedef struct fnn__train_stats {
    size_t steps, samples;
    double flops;              /* sgemm FLOPs of the steps taken */
    double last_loss;          /* mean loss of the last full epoch */
} fnn__train_stats;

void fnn__train_cfg_defaults(fnn__train_cfg *c);
double fnn__lr_at(const fnn__train_cfg *c, uint32_t epoch);
/* Zeroes the optimizer state (needs the training workspace). */
void fnn__optimizer_reset(fnn_model *m);
/* Runs c->epochs epochs on ds, continuing the optimizer state in m. The data
 * set must already be checked against m. stats (may be NULL) accumulates. */
int fnn__train(fnn_model *m, const fnn_dataset *ds, const fnn__train_cfg *c,
               fnn__train_stats *stats);

/* Runs inference over ds in workspace-sized chunks; every output may be NULL:
 * proba (size * classes), pred (size), losses (size), loss_sum, correct.
 * loss_sum, losses and correct need labels within the model's classes. */
int fnn__infer(fnn_model *m, const fnn_dataset *ds, float *proba, int32_t *pred,
               float *losses, double *loss_sum, size_t *correct);

/* cblas_sgemm (row-major) plus optional shape recording. */
void fnn__gemm(fnn_model *m, int trans_a, int trans_b, int M, int N, int K,
               float alpha, const float *A, int lda, const float *B, int ldb,
               float beta, float *C, int ldc);

/* 64-byte aligned allocation (zeroed), freed with free(). NULL on failure or
 * overflow. */
void *fnn__alloc_floats(size_t n);

/* ---- forget requests (request.c) ------------------------------------------ */

struct fnn_forget_request {
    fnn_dataset *train;        /* own view of the training set (holds a store ref) */
    uint32_t *idx;             /* n ascending forget positions in train */
    size_t n;
    int kind;                  /* enum fnn_request_kind */
    int32_t label;             /* FNN_REQUEST_CLASS */
    uint64_t seed;             /* FNN_REQUEST_RANDOM */
};

/* ---- model files (format.c) ----------------------------------------------- */

int fnn__model_serialize(fnn_model *m, uint8_t **buf, size_t *len);

#endif /* FNN_INTERNAL_H */
