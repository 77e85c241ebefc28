/*
 * libfnn: make a trained neural network forget chosen training data.
 *
 * This header is the specification of the library's C ABI. Conventions:
 *
 * - Handles are opaque. Constructors return a status and write the new handle
 *   through an `out` pointer (set to NULL on failure). Destructors accept NULL.
 * - Every fallible call returns `int`: FNN_OK (0) or a negative FNN_E_* code.
 *   Codes are pinned and never reused; fnn_strerror() describes a code.
 * - Calls on a handle leave a message saying exactly what went wrong in that
 *   handle (fnn_model_errmsg() and friends). Constructors that have no handle
 *   yet take an optional caller buffer `err` of `err_size` bytes for it.
 * - The library never aborts, exits, prints, or closes what the caller owns.
 * - Sample indices are uint32_t, labels int32_t, counts size_t; features are
 *   float32 or bytes (enum fnn_dtype), laid out per sample as rows x cols x
 *   channels (channels last).
 * - Data sets may be made without labels, for prediction only
 *   (fnn_dataset_borrow_arrays()); every call that needs labels (training,
 *   evaluation, losses, requests, attacks) fails on one with FNN_E_STATE.
 * - Thread-safety: a handle may be used by one thread at a time, except that
 *   the read-only calls on a model (those taking `const fnn_model *`:
 *   prediction, evaluation, per-sample losses, ranking, membership figures,
 *   saving, cloning, queries, and shadow attacks scoring it) may run from
 *   many threads at once on one model, as long as no thread modifies it
 *   meanwhile; each such call brings its own workspace, and its results
 *   are bit for bit those of the same call made alone. When such calls fail
 *   at once, the model's message is one of theirs: read fnn_model_errmsg()
 *   while no other call runs on the model. Data sets are immutable once
 *   built and may be read by many threads (views of one may be made at
 *   once). Different handles are independent. Matrix products run on
 *   OpenBLAS, whose thread count the caller controls (OPENBLAS_NUM_THREADS
 *   or openblas_set_num_threads()); results are deterministic for a given
 *   count.
 * - Names: every enum the API takes has names and one-line descriptions
 *   (fnn_name()), and every option key reports its valid values
 *   (fnn_train_key_bounds(), fnn_forget_key_bounds()), so front ends and
 *   bindings need no tables of their own.
 */
#ifndef FNN_FNN_H
#define FNN_FNN_H

#include <stddef.h>
#include <stdint.h>

#include "fnn_version.h"

#if defined(FNN_BUILDING_LIBRARY) && defined(__GNUC__)
#define FNN_API __attribute__((visibility("default")))
#else
#define FNN_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Versions and status codes                                                */
/* ------------------------------------------------------------------------ */

/** Runtime library version as MAJOR * 10000 + MINOR * 100 + PATCH.
 * @return the version of the library actually loaded (compare FNN_VERSION_NUMBER). */
FNN_API unsigned fnn_version_number(void);

/** Runtime library version as "MAJOR.MINOR.PATCH".
 * @return a static string; never NULL. */
FNN_API const char *fnn_version_string(void);

/** Status codes. Values are pinned: never changed, never reused. */
enum fnn_status {
    FNN_OK = 0,
    FNN_E_NULL = -1,       /**< a required handle or pointer was NULL */
    FNN_E_INVALID = -2,    /**< an argument's value is outside its domain */
    FNN_E_NOMEM = -3,      /**< memory allocation failed or a size overflowed */
    FNN_E_IO = -4,         /**< a file could not be opened, read, written or renamed */
    FNN_E_FORMAT = -5,     /**< bad magic number or inconsistent file contents */
    FNN_E_TRUNCATED = -6,  /**< a file or buffer ended before its declared contents */
    FNN_E_CHECKSUM = -7,   /**< stored checksum does not match the contents */
    FNN_E_VERSION = -8,    /**< unsupported format version or required feature flag */
    FNN_E_SHAPE = -9,      /**< shapes or lengths do not match */
    FNN_E_RANGE = -10,     /**< an index or label is out of range */
    FNN_E_SPEC = -11,      /**< the model specification string is invalid */
    FNN_E_NUMERIC = -12,   /**< NaN or infinity in input, parameters or loss */
    FNN_E_CANCELLED = -13, /**< a progress callback asked to stop */
    FNN_E_STATE = -14,     /**< the call is not valid in the handle's current state */
    FNN_E_DUPLICATE = -15, /**< an index appears more than once */
    FNN_E_EMPTY = -16      /**< an empty data set or request where one is needed */
};

/** Describes a status code.
 * @param status any int; unknown values get a generic text.
 * @return a static string; never NULL. */
FNN_API const char *fnn_strerror(int status);

/* ------------------------------------------------------------------------ */
/* Names                                                                    */
/* ------------------------------------------------------------------------ */

/** The enums and key sets that have names. Each holds the values
 * 0 .. fnn_names_count(kind) - 1. */
enum fnn_names {
    FNN_NAMES_OPTIMIZER = 0,    /**< enum fnn_optimizer: "sgd", "adam" */
    FNN_NAMES_LR_SCHEDULE = 1,  /**< enum fnn_lr_schedule: "constant", "step" */
    FNN_NAMES_POLICY = 2,       /**< enum fnn_policy: "fixed", "ordered", "rank", ... */
    FNN_NAMES_METHOD = 3,       /**< enum fnn_method: "fnn", "fnn-paper", "retrain", ... */
    FNN_NAMES_REQUEST_KIND = 4, /**< enum fnn_request_kind: "indices", "class", "random" */
    FNN_NAMES_PHASE_KIND = 5,   /**< enum fnn_phase_kind: "learn", "unlearn", "decay", ... */
    FNN_NAMES_PRESET = 6,       /**< preset architectures: "mlp", "paper-cnn" */
    FNN_NAMES_SPLIT = 7,        /**< enum fnn_split: "train", "test" */
    FNN_NAMES_TRAIN_KEY = 8,    /**< enum fnn_train_key, as option names: "epochs", "lr", ... */
    FNN_NAMES_FORGET_KEY = 9,   /**< enum fnn_forget_key: "method", "policy", "max-t", ... */
    FNN_NAMES_REPORT_KEY = 10,  /**< enum fnn_report_key: "seconds", "flops", ... */
    FNN_NAMES_PHASE_KEY = 11,   /**< enum fnn_phase_key: "kind", "turn", "t", ... */
    FNN_NAMES_HISTORY_KEY = 12, /**< enum fnn_history_key: "method", "forget-size", ... */
    FNN_NAMES_MEMBERSHIP_KEY = 13, /**< enum fnn_membership_key: "member-acc", ... */
    FNN_NAMES_DTYPE = 14,       /**< enum fnn_dtype: "float32", "uint8" (NumPy's names) */
    FNN_NAMES_ATTACK_KEY = 15   /**< enum fnn_attack_key: "shadows", "seed", ... */
};

/** Number of named values of `kind` (0 for an unknown kind). */
FNN_API size_t fnn_names_count(int kind);

/** The name of `value` in `kind`: lower case, words joined by '-'.
 * @return a static string, or NULL when kind or value is unknown. */
FNN_API const char *fnn_name(int kind, int value);

/** A one-line description of `value` in `kind`.
 * @return a static string, or NULL when kind or value is unknown. */
FNN_API const char *fnn_name_help(int kind, int value);

/** Looks a name up in `kind`.
 * @param value receives the value.
 * @return FNN_OK, FNN_E_NULL, FNN_E_INVALID (unknown kind or name). */
FNN_API int fnn_name_lookup(int kind, const char *name, int *value);

/** Flags of an option key's domain (fnn_train_key_bounds(), fnn_forget_key_bounds()). */
enum fnn_bound_flag {
    FNN_BOUND_INTEGER = 1,   /**< only integral values */
    FNN_BOUND_LO_OPEN = 2,   /**< the lower bound itself is excluded */
    FNN_BOUND_HI_OPEN = 4,   /**< the upper bound itself is excluded */
    FNN_BOUND_AUTO = 8,      /**< -1 is also accepted: chosen automatically */
    FNN_BOUND_NAMED = 16,    /**< the values are the names of an enum fnn_names kind */
    FNN_BOUND_DEPRECATED = 32 /**< kept for compatibility; another key says it better */
};

/* ------------------------------------------------------------------------ */
/* Data sets                                                                */
/* ------------------------------------------------------------------------ */

/** An immutable collection of labelled samples. Subsets and splits are views
 * that share the parent's storage (reference counted): freeing the parent
 * does not invalidate them. */
typedef struct fnn_dataset fnn_dataset;

/** Which half of a standard IDX directory to load. */
enum fnn_split {
    FNN_SPLIT_TRAIN = 0, /**< train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz] */
    FNN_SPLIT_TEST = 1   /**< t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz] */
};

/** Loads an IDX image file (magic 0x00000803, u8, N x rows x cols) and an IDX
 * label file (magic 0x00000801, u8, N), each raw or gzip-compressed. Pixels are
 * stored as bytes and presented to models scaled to [0, 1], exactly as
 * `(float)byte * (1.0f / 255.0f)` in single precision (NumPy:
 * `x.astype(np.float32) * np.float32(1 / 255)`), before any normalisation.
 * @param out receives the data set; NULL on failure.
 * @param images_path path of the image file.
 * @param labels_path path of the label file.
 * @param num_classes labels must be < num_classes (1..65536).
 * @param err optional buffer for a message on failure (may be NULL).
 * @param err_size size of err in bytes.
 * @return FNN_OK, FNN_E_NULL, FNN_E_INVALID, FNN_E_IO, FNN_E_FORMAT,
 *         FNN_E_TRUNCATED, FNN_E_SHAPE (image and label counts differ),
 *         FNN_E_RANGE (label >= num_classes), FNN_E_NOMEM.
 * Ownership: the caller frees *out with fnn_dataset_free(). */
FNN_API int fnn_dataset_load_idx(fnn_dataset **out, const char *images_path,
                                 const char *labels_path, uint32_t num_classes,
                                 char *err, size_t err_size);

/** Loads the train or test half of a directory laid out like MNIST and
 * Fashion-MNIST (file names as in enum fnn_split, ".gz" preferred when both
 * exist), with 10 classes.
 * @param split FNN_SPLIT_TRAIN or FNN_SPLIT_TEST.
 * @return as fnn_dataset_load_idx(); FNN_E_IO when no file is found. */
FNN_API int fnn_dataset_load_dir(fnn_dataset **out, const char *dir, int split,
                                 char *err, size_t err_size);

/** Builds a data set from caller arrays (copied).
 * @param features n * rows * cols * channels floats, sample-major, channels last.
 * @param labels n labels, each in [0, num_classes).
 * @param n number of samples (>= 1).
 * @return FNN_OK, FNN_E_NULL, FNN_E_INVALID (rows, cols or channels 0 or
 *         above 65536, more than 2^26 features per sample, num_classes
 *         outside 1..65536, or n above 2^32 - 1), FNN_E_EMPTY (n == 0),
 *         FNN_E_RANGE (label), FNN_E_NUMERIC (NaN or infinite feature),
 *         FNN_E_NOMEM.
 * Ownership: the caller keeps its arrays; frees *out with fnn_dataset_free(). */
FNN_API int fnn_dataset_from_arrays(fnn_dataset **out, const float *features,
                                    const int32_t *labels, size_t n, uint32_t rows,
                                    uint32_t cols, uint32_t channels,
                                    uint32_t num_classes, char *err, size_t err_size);

/** Element types of caller feature arrays (fnn_dataset_from_arrays_v2(),
 * fnn_dataset_borrow_arrays(), fnn_model_predict_array() and friends). The
 * names fnn_name(FNN_NAMES_DTYPE, dtype) are NumPy's dtype names. */
enum fnn_dtype {
    /** float: presented to models as given (finite values only). */
    FNN_DTYPE_FLOAT32 = 0,
    /** uint8_t: presented to models as `(float)byte * (1.0f / 255.0f)` in single
     * precision, exactly as the pixels of fnn_dataset_load_idx() (NumPy:
     * `x.astype(np.float32) * np.float32(1 / 255)`, which differs from
     * `x / 255` in the last bit for some bytes), before any normalisation. */
    FNN_DTYPE_UINT8 = 1
};

/** Builds a data set from caller arrays, copied: fnn_dataset_from_arrays()
 * with a choice of feature type and optional labels. Bytes are stored as
 * bytes (one per feature, not four) and scaled as enum fnn_dtype says.
 * @param features n * rows * cols * channels elements of type `dtype`,
 *        sample-major, channels last.
 * @param dtype enum fnn_dtype.
 * @param labels n labels, each in [0, num_classes), or NULL for a data set
 *        without labels (prediction only; fnn_dataset_num_classes() is 0).
 * @param num_classes 1..65536; ignored when labels is NULL.
 * @return FNN_OK, FNN_E_NULL (out or features), FNN_E_INVALID (dtype, a zero
 *         or too large dimension, more than 2^26 features per sample,
 *         num_classes, n above 2^32 - 1), FNN_E_EMPTY (n == 0), FNN_E_RANGE
 *         (a label), FNN_E_NUMERIC (NaN or infinite float feature),
 *         FNN_E_NOMEM; the message in err. Checked in this order: out and
 *         features, dtype, n, the dimensions and num_classes, the labels,
 *         the features' values.
 * Ownership: the caller keeps its arrays; frees *out with fnn_dataset_free(). */
FNN_API int fnn_dataset_from_arrays_v2(fnn_dataset **out, const void *features, int dtype,
                                       const int32_t *labels, size_t n, uint32_t rows,
                                       uint32_t cols, uint32_t channels,
                                       uint32_t num_classes, char *err, size_t err_size);

/** Builds a data set over caller memory without copying the features: as
 * fnn_dataset_from_arrays_v2(), but the data set reads `features` where
 * they are. Float features are checked for NaN and infinities once, here.
 * Labels (optional) are copied: 4 bytes per sample, so that a label the
 * caller changes later cannot lead the library out of bounds.
 * @param features as fnn_dataset_from_arrays_v2(); float32 features must be
 *        aligned to 4 bytes.
 * @return as fnn_dataset_from_arrays_v2(), and FNN_E_INVALID for misaligned
 *         float32 features; no copy means FNN_E_NOMEM only for the handle.
 * Lifetime: `features` must stay valid and unchanged for as long as the data
 * set or anything that shares its storage exists: the views made from it
 * (fnn_dataset_subset(), fnn_dataset_split(), and views of those), forget
 * requests made over it or its views (fnn_forget_request_*()) and the views
 * they give (fnn_forget_request_forget_set(), _retain_set()), and attacks
 * whose universe it is (fnn_attack_create(), and the attacks
 * fnn_attack_unlearn() makes from them). Nothing else keeps a pointer to it:
 * models, options, reports and every other call read the features only
 * during the call. Memory changed while a data set reads it gives
 * unspecified results (never an out-of-bounds access).
 * Ownership: the caller keeps its arrays; frees *out with fnn_dataset_free(). */
FNN_API int fnn_dataset_borrow_arrays(fnn_dataset **out, const void *features, int dtype,
                                      const int32_t *labels, size_t n, uint32_t rows,
                                      uint32_t cols, uint32_t channels,
                                      uint32_t num_classes, char *err, size_t err_size);

/** Whether the data set has labels.
 * @return 1, 0 (made without labels), or FNN_E_NULL. */
FNN_API int fnn_dataset_has_labels(const fnn_dataset *ds);

/** Frees a data set. NULL is a harmless no-op. Views made from it stay valid. */
FNN_API void fnn_dataset_free(fnn_dataset *ds);

/** The last error message recorded on this handle ("" if none); never NULL. */
FNN_API const char *fnn_dataset_errmsg(const fnn_dataset *ds);

/** Number of samples. @return 0 for NULL. */
FNN_API size_t fnn_dataset_size(const fnn_dataset *ds);

/** Number of classes. @return 0 for NULL. */
FNN_API uint32_t fnn_dataset_num_classes(const fnn_dataset *ds);

/** Per-sample shape.
 * @param rows, cols, channels each may be NULL.
 * @return FNN_OK or FNN_E_NULL. */
FNN_API int fnn_dataset_shape(const fnn_dataset *ds, uint32_t *rows, uint32_t *cols,
                              uint32_t *channels);

/** Copies the labels into `labels`.
 * @param n capacity of labels; must be >= fnn_dataset_size().
 * @return FNN_OK, FNN_E_NULL, FNN_E_STATE (no labels), FNN_E_SHAPE. */
FNN_API int fnn_dataset_labels(fnn_dataset *ds, int32_t *labels, size_t n);

/** Copies the features as a model sees them (scaled and normalised) into `x`.
 * @param n capacity of x in floats; must be >= size * rows * cols * channels.
 * @return FNN_OK, FNN_E_NULL, FNN_E_SHAPE. */
FNN_API int fnn_dataset_features(fnn_dataset *ds, float *x, size_t n);

/** Makes a view holding the samples at `indices` (in that order).
 * @return FNN_OK, FNN_E_NULL, FNN_E_EMPTY (n == 0), FNN_E_RANGE, FNN_E_NOMEM;
 *         the message goes to ds.
 * Ownership: the caller frees *out; it shares storage with ds. */
FNN_API int fnn_dataset_subset(fnn_dataset *ds, const uint32_t *indices, size_t n,
                               fnn_dataset **out);

/** Splits into two views after a seeded shuffle: the first gets
 * round(fraction * size) samples, the second the rest.
 * @param fraction in (0, 1); both parts must be non-empty.
 * @return FNN_OK, FNN_E_NULL, FNN_E_INVALID, FNN_E_EMPTY, FNN_E_NOMEM. */
FNN_API int fnn_dataset_split(fnn_dataset *ds, double fraction, uint64_t seed,
                              fnn_dataset **first, fnn_dataset **second);

/** Normalises features per channel: x' = (x - mean[c]) / std[c], applied after
 * the [0, 1] scaling of byte images. Replaces any earlier normalisation; views
 * made later inherit it.
 * @param channels must equal the data set's channel count.
 * @return FNN_OK, FNN_E_NULL, FNN_E_SHAPE, FNN_E_INVALID (a mean or std not
 *         finite, a std <= 0, or a pair that would make a feature the data
 *         set holds overflow, e.g. std 1e-45; nothing changed). */
FNN_API int fnn_dataset_set_normalization(fnn_dataset *ds, const float *mean,
                                          const float *std, size_t channels);

/** Computes per-channel mean and standard deviation of the scaled (not
 * normalised) features, e.g. to pass to fnn_dataset_set_normalization().
 * @return FNN_OK, FNN_E_NULL, FNN_E_SHAPE. */
FNN_API int fnn_dataset_channel_stats(fnn_dataset *ds, float *mean, float *std,
                                      size_t channels);

/* ------------------------------------------------------------------------ */
/* Models                                                                   */
/* ------------------------------------------------------------------------ */

/** A sequential network with a softmax cross-entropy head, its parameters,
 * forgetting state and training workspace. */
typedef struct fnn_model fnn_model;

/** Creates a model from a specification and initialises it from `seed`.
 *
 * A specification is a comma-separated list of layers; spaces are ignored:
 *   input:RxCxK   first, the per-sample shape (input:N means N x 1 x 1)
 *   dense:N       fully connected, N outputs (flattens its input)
 *   conv2d:F:K    F filters of K x K, stride 1, no padding
 *   maxpool:K     K x K windows, stride K
 *   relu          max(0, x)
 *   dropout:P     drops with probability P in [0, 1) while training
 *   flatten       reshapes to a vector (layout is unchanged)
 * The last layer must be dense; its width is the number of classes.
 * Presets: "mlp" = input:28x28x1,dense:256,relu,dense:128,relu,dense:10 and
 * "paper-cnn" = input:28x28x1,conv2d:32:3,relu,conv2d:64:3,relu,maxpool:2,
 * dropout:0.25,flatten,dense:128,relu,dropout:0.5,dense:10.
 * Weights and biases start uniform in +-1/sqrt(fan_in).
 * @return FNN_OK, FNN_E_NULL, FNN_E_SPEC, FNN_E_NOMEM.
 * Ownership: the caller frees *out with fnn_model_free(). */
FNN_API int fnn_model_create(fnn_model **out, const char *spec, uint64_t seed,
                             char *err, size_t err_size);

/** Frees a model. NULL is a harmless no-op. */
FNN_API void fnn_model_free(fnn_model *m);

/** Deep copy: parameters, forgetting state, specification and recorded
 * recipe (not workspaces or optimizer state).
 * @return FNN_OK, FNN_E_NULL, FNN_E_NOMEM (message on m). */
FNN_API int fnn_model_clone(const fnn_model *m, fnn_model **out);

/** The last error message recorded on this handle ("" if none); never NULL. */
FNN_API const char *fnn_model_errmsg(const fnn_model *m);

/** Writes the canonical specification (presets expanded) into buf, always
 * NUL-terminated when size > 0.
 * @return the length of the full specification (excluding NUL), like snprintf;
 *         0 for NULL m. */
FNN_API size_t fnn_model_spec(const fnn_model *m, char *buf, size_t size);

/** Number of trainable parameters (weights and biases). 0 for NULL. */
FNN_API size_t fnn_model_num_params(const fnn_model *m);

/** Number of classes (width of the last layer). 0 for NULL. */
FNN_API uint32_t fnn_model_num_classes(const fnn_model *m);

/** Input shape. Any of the out pointers may be NULL.
 * @return FNN_OK or FNN_E_NULL. */
FNN_API int fnn_model_input_shape(const fnn_model *m, uint32_t *rows, uint32_t *cols,
                                  uint32_t *channels);

/** Copies all parameters, layer by layer (weights then bias), into out.
 * Dense weights are [outputs][inputs]; conv2d weights [filters][in_channels][ky][kx].
 * A dense layer after conv2d/maxpool layers sees their output flattened as
 * [channels][rows][cols] (as PyTorch's flatten); on the raw input it sees the
 * samples as given, channels last.
 * @param n capacity of out; must be >= fnn_model_num_params().
 * @return FNN_OK, FNN_E_NULL, FNN_E_SHAPE. */
FNN_API int fnn_model_get_params(const fnn_model *m, float *out, size_t n);

/** Replaces all parameters (same layout as fnn_model_get_params()).
 * @param n must equal fnn_model_num_params().
 * @return FNN_OK, FNN_E_NULL, FNN_E_SHAPE, FNN_E_NUMERIC (NaN or infinity;
 *         nothing is changed). */
FNN_API int fnn_model_set_params(fnn_model *m, const float *params, size_t n);

/** Folds an input normalisation into the first weighted layer, so that the
 * model applied to raw features x equals the model before the call applied to
 * (x - mean[c]) / std[c]. Train on a normalised data set (see
 * fnn_dataset_set_normalization()), then fold the same mean and std to get a
 * model that takes the raw features.
 * @param channels must equal the model's input channels.
 * @return FNN_OK, FNN_E_NULL, FNN_E_SHAPE, FNN_E_INVALID (std <= 0 or a value
 *         not finite), FNN_E_STATE (a layer other than flatten or maxpool
 *         precedes the first weighted layer), FNN_E_NUMERIC (a folded weight
 *         or bias would not be finite), FNN_E_NOMEM; on failure nothing is
 *         changed. */
FNN_API int fnn_model_fold_input_normalization(fnn_model *m, const float *mean,
                                               const float *std, size_t channels);

/** Multiply-add FLOPs (2 per multiply-add) of the matrix products for one
 * sample: forward only (training == 0) or forward plus backward (training != 0).
 * @return 0 for NULL. */
FNN_API double fnn_model_flops_per_sample(const fnn_model *m, int training);

/* ------------------------------------------------------------------------ */
/* Training                                                                 */
/* ------------------------------------------------------------------------ */

/** Training options: an opaque, enum-keyed set of numbers. */
typedef struct fnn_train_options fnn_train_options;

/** Keys of fnn_train_options_set(). Defaults in brackets. A value outside
 * the domain stated here is FNN_E_INVALID; fnn_train_key_bounds() reports
 * each domain exactly. */
enum fnn_train_key {
    FNN_TRAIN_EPOCHS = 0,        /**< epochs, 1..1000000 [1] */
    FNN_TRAIN_BATCH_SIZE = 1,    /**< samples per step, 1..65536 [64] */
    FNN_TRAIN_OPTIMIZER = 2,     /**< enum fnn_optimizer [FNN_OPTIMIZER_ADAM] */
    FNN_TRAIN_LEARNING_RATE = 3, /**< in (0, 1e6) [0.001] */
    FNN_TRAIN_MOMENTUM = 4,      /**< SGD momentum in [0, 1) [0.9] */
    FNN_TRAIN_BETA1 = 5,         /**< Adam beta1 in [0, 1) [0.9] */
    FNN_TRAIN_BETA2 = 6,         /**< Adam beta2 in [0, 1) [0.999] */
    FNN_TRAIN_EPSILON = 7,       /**< Adam epsilon in (0, 1) [1e-8] */
    FNN_TRAIN_WEIGHT_DECAY = 8,  /**< L2 coefficient added to gradients, in [0, 1e6) [0] */
    FNN_TRAIN_LR_SCHEDULE = 9,   /**< enum fnn_lr_schedule [FNN_LR_CONSTANT] */
    FNN_TRAIN_LR_STEP = 10,      /**< step decay: epochs between decays, 1..1000000 [1] */
    FNN_TRAIN_LR_GAMMA = 11,     /**< step decay: factor in (0, 1] [0.1] */
    FNN_TRAIN_SEED = 12,         /**< shuffling and dropout seed, integer [0]; all 64
                                      bits through fnn_train_options_set_u64() */
    FNN_TRAIN_SHUFFLE = 13,      /**< 1 shuffles each epoch, 0 keeps order [1] */
    FNN_TRAIN_NORMALIZE = 14     /**< 1: train on features normalised per channel by the
                                      training set's mean and standard deviation (of
                                      the features as the data set presents them; a
                                      constant channel is only centred), then fold
                                      the normalisation into the first weighted layer,
                                      so the trained model takes the features as the
                                      data set presents them; 0: train on them as
                                      they are [0] */
};

/** Optimizers. */
enum fnn_optimizer {
    FNN_OPTIMIZER_SGD = 0, /**< v = mu v + g; w -= lr v */
    FNN_OPTIMIZER_ADAM = 1 /**< Adam with bias correction */
};

/** Learning-rate schedules; `epoch` counts from 0 within one training call. */
enum fnn_lr_schedule {
    FNN_LR_CONSTANT = 0, /**< lr */
    FNN_LR_STEP = 1      /**< lr * gamma^floor(epoch / step) */
};

/** Progress callback, called after every step.
 * @param user the pointer given to fnn_train_options_set_progress().
 * @param epoch 0-based epoch; @param epochs total epochs.
 * @param batch 1-based step within the epoch; @param batches steps per epoch.
 * @param loss mean training loss of the epoch so far.
 * @return 0 to continue, non-zero to stop (the call then returns FNN_E_CANCELLED).
 * The callback may run inference on the model being trained (evaluate,
 * predict, sample losses), e.g. on a validation set when batch == batches;
 * it must not train, modify, clone or free it. */
typedef int (*fnn_progress_fn)(void *user, uint32_t epoch, uint32_t epochs, size_t batch,
                               size_t batches, float loss);

/** Creates options holding the defaults.
 * @return FNN_OK, FNN_E_NULL, FNN_E_NOMEM. */
FNN_API int fnn_train_options_create(fnn_train_options **out);

/** Frees options. NULL is a harmless no-op. */
FNN_API void fnn_train_options_free(fnn_train_options *o);

/** Sets the recommended training recipe of a preset architecture (the
 * recipe `fnn train` uses): "mlp": SGD, momentum 0.9, learning rate 0.05,
 * batch 128; "paper-cnn": Adam, learning rate 0.001, batch 64; both with the
 * step schedule multiplying the learning rate by 0.7 after every epoch, and
 * with FNN_TRAIN_NORMALIZE on. Other options are kept. A program that
 * creates the model with fnn_model_create(arch, seed), applies this preset,
 * sets FNN_TRAIN_EPOCHS and FNN_TRAIN_SEED = seed and trains on the train
 * split gets the model `fnn train --arch ARCH --epochs N --seed SEED` saves.
 * @return FNN_OK, FNN_E_NULL, FNN_E_INVALID (not a preset name; nothing
 *         changed; message on o). */
FNN_API int fnn_train_options_preset(fnn_train_options *o, const char *arch);

/** Sets one option. Integer options take integral values.
 * @return FNN_OK, FNN_E_NULL, FNN_E_INVALID (unknown key or value out of
 *         its domain, which the message states; nothing changed; message on o). */
FNN_API int fnn_train_options_set(fnn_train_options *o, int key, double value);

/** Reads one option.
 * @return FNN_OK, FNN_E_NULL, FNN_E_INVALID (unknown key). */
FNN_API int fnn_train_options_get(const fnn_train_options *o, int key, double *value);

/** Sets an integer option from a 64-bit value (the whole range of a seed).
 * @return FNN_OK, FNN_E_NULL, FNN_E_INVALID (unknown or non-integer key, or
 *         value out of its domain; nothing changed; message on o). */
FNN_API int fnn_train_options_set_u64(fnn_train_options *o, int key, uint64_t value);

/** Reads an integer option as a 64-bit value.
 * @return FNN_OK, FNN_E_NULL, FNN_E_INVALID (unknown or non-integer key). */
FNN_API int fnn_train_options_get_u64(const fnn_train_options *o, int key,
                                      uint64_t *value);

/** Sets an option from text, as a command line gives it: `name` is the key's
 * name (fnn_name(FNN_NAMES_TRAIN_KEY, key)), `value` a decimal number or, for
 * a key with named values, a name ("sgd").
 * @return FNN_OK, FNN_E_NULL, FNN_E_INVALID (unknown name, or a value that is
 *         not a number or name of the key's domain, which the message states;
 *         nothing changed; message on o). */
FNN_API int fnn_train_options_parse(fnn_train_options *o, const char *name,
                                    const char *value);

/** Describes the domain of a training option key in words, e.g. "an integer
 * in 1..65536" or "sgd or adam", into buf (always NUL-terminated when size > 0).
 * @return the length of the full text, like snprintf; 0 for an unknown key. */
FNN_API size_t fnn_train_key_describe(int key, char *buf, size_t size);

/** The domain of a training option key: values v with lo <= v <= hi (the
 * ends excluded as flags say), integral when FNN_BOUND_INTEGER is set, and
 * the names of enum fnn_names kind `*names` when FNN_BOUND_NAMED is set
 * (else *names is -1). Any out pointer may be NULL.
 * @return FNN_OK, FNN_E_INVALID (unknown key). */
FNN_API int fnn_train_key_bounds(int key, double *lo, double *hi, uint32_t *flags,
                                 int *names);

/** Installs a progress callback (fn may be NULL to remove it).
 * @return FNN_OK or FNN_E_NULL. */
FNN_API int fnn_train_options_set_progress(fnn_train_options *o, fnn_progress_fn fn,
                                           void *user);

/** The last error message recorded on this handle ("" if none); never NULL. */
FNN_API const char *fnn_train_options_errmsg(const fnn_train_options *o);

/** Trains the model on `train` with mini-batch gradient descent. Optimizer
 * state starts fresh with every call. Deterministic for a given seed and
 * OpenBLAS thread count. Forgetting decay, if enabled, is applied. The model
 * records the options of the call and the size of `train` (its recipe,
 * saved with it), which the `retrain` unlearning method and
 * fnn_model_retrain() reproduce.
 * @param opts NULL uses the defaults.
 * @return FNN_OK, FNN_E_NULL, FNN_E_SHAPE (data and model shapes differ),
 *         FNN_E_RANGE (label >= model classes), FNN_E_NUMERIC (the loss or a
 *         parameter became NaN or infinite, or folding the normalisation
 *         overflowed: parameters are restored to their state before the
 *         call), FNN_E_CANCELLED (parameters keep the progress made, a
 *         normalisation is folded), FNN_E_STATE (train has no labels; or
 *         FNN_TRAIN_NORMALIZE on a model where a layer other than flatten or
 *         maxpool comes before the first weighted layer, so the
 *         normalisation cannot be folded; nothing changed), FNN_E_NOMEM
 *         (parameters restored when it was the fold that failed).
 * Thread-safety: uses m's workspace; train, opts are only read. */
FNN_API int fnn_model_train(fnn_model *m, const fnn_dataset *train,
                            const fnn_train_options *opts);

/** Trains the model again from scratch on `train` with the recipe it
 * records: parameters re-initialised from the fnn_model_create() seed, then
 * fnn_model_train() with the recorded options. Given the same training set,
 * it reproduces the recorded training bit for bit (same OpenBLAS thread
 * count). The forgetting state is reset.
 * @param opts NULL: the recorded options; else keys that opts marks as set
 *        (set by a setter or a preset) override the recorded ones.
 * @return as fnn_model_train(), and FNN_E_STATE when the model records no
 *         recipe (loaded from a file written before recipes, or trained by
 *         several calls) and opts sets no FNN_TRAIN_EPOCHS; nothing changed. */
FNN_API int fnn_model_retrain(fnn_model *m, const fnn_dataset *train,
                              const fnn_train_options *opts);

/** How many fnn_model_train() calls the model's recorded recipe comes from
 * (0: none recorded; 1: fnn_model_retrain() can reproduce it). 0 for NULL. */
FNN_API uint32_t fnn_model_recipe_calls(const fnn_model *m);

/** Reads the recorded recipe: the options of the last fnn_model_train() call.
 * @param out receives a new options handle holding them (free it).
 * @param init_seed receives the fnn_model_create() seed (may be NULL).
 * @param samples receives the training-set size of that call (may be NULL).
 * @return FNN_OK, FNN_E_NULL, FNN_E_STATE (nothing recorded), FNN_E_NOMEM. */
FNN_API int fnn_model_recipe(const fnn_model *m, fnn_train_options **out,
                             uint64_t *init_seed, uint64_t *samples);

/* ------------------------------------------------------------------------ */
/* Inference                                                                */
/* ------------------------------------------------------------------------ */

/* The calls of this section only read the model: many threads may run them
 * at once on one model (see the thread-safety convention at the top). */

/** Class probabilities (softmax) for every sample.
 * @param out capacity n >= size * classes floats, row per sample.
 * @return FNN_OK, FNN_E_NULL, FNN_E_SHAPE, FNN_E_NUMERIC (an output is not
 *         finite: the parameters overflow on these samples; out may hold
 *         the rows before it), FNN_E_NOMEM. */
FNN_API int fnn_model_predict_proba(const fnn_model *m, const fnn_dataset *ds, float *out,
                                    size_t n);

/** Most probable class for every sample.
 * @param out capacity n >= size labels.
 * @return as fnn_model_predict_proba(). */
FNN_API int fnn_model_predict(const fnn_model *m, const fnn_dataset *ds, int32_t *out,
                              size_t n);

/** Accuracy in [0, 1] and mean cross-entropy loss (either pointer may be NULL).
 * @return FNN_OK, FNN_E_NULL, FNN_E_SHAPE, FNN_E_RANGE, FNN_E_STATE (no
 *         labels), FNN_E_NUMERIC (an output is not finite; nothing is
 *         written), FNN_E_NOMEM. */
FNN_API int fnn_model_evaluate(const fnn_model *m, const fnn_dataset *ds, double *accuracy,
                               double *mean_loss);

/** Cross-entropy loss of every sample (inputs to membership inference).
 * @param out capacity n >= size floats.
 * @return as fnn_model_evaluate(). */
FNN_API int fnn_model_sample_losses(const fnn_model *m, const fnn_dataset *ds, float *out,
                                    size_t n);

/* The same on a raw array, without a data set: `x` holds n samples of the
 * model's input shape (fnn_model_input_shape(), channels last) of type
 * `dtype`, scaled as enum fnn_dtype says. The array is read during the call
 * only and never copied. Checks as fnn_dataset_borrow_arrays() (messages on
 * m start with the function's name without "fnn_model_"). */

/** Most probable class of every sample of a raw array.
 * @param out capacity out_n >= n labels.
 * @return FNN_OK, FNN_E_NULL, FNN_E_INVALID (dtype, misaligned floats, n
 *         above 2^32 - 1), FNN_E_EMPTY (n == 0), FNN_E_NUMERIC (NaN or
 *         infinite feature, or outputs not finite), FNN_E_SHAPE (out_n),
 *         FNN_E_NOMEM. */
FNN_API int fnn_model_predict_array(const fnn_model *m, const void *x, int dtype, size_t n,
                                    int32_t *out, size_t out_n);

/** Class probabilities of every sample of a raw array.
 * @param out capacity out_n >= n * classes floats, row per sample.
 * @return as fnn_model_predict_array(). */
FNN_API int fnn_model_predict_proba_array(const fnn_model *m, const void *x, int dtype,
                                          size_t n, float *out, size_t out_n);

/** Logits of every sample of a raw array.
 * @param out capacity out_n >= n * classes floats, row per sample.
 * @return as fnn_model_predict_array(). */
FNN_API int fnn_model_logits_array(const fnn_model *m, const void *x, int dtype, size_t n,
                                   float *out, size_t out_n);

/** Cross-entropy loss of every sample of a raw array.
 * @param labels n labels, each in [0, the model's classes).
 * @param out capacity out_n >= n floats.
 * @return as fnn_model_predict_array(), and FNN_E_NULL (labels), FNN_E_RANGE
 *         (a label). */
FNN_API int fnn_model_sample_losses_array(const fnn_model *m, const void *x, int dtype,
                                          const int32_t *labels, size_t n, float *out,
                                          size_t out_n);

/* ------------------------------------------------------------------------ */
/* Evaluation                                                               */
/* ------------------------------------------------------------------------ */

/** Accuracy of every class of ds: acc[c] = correct predictions / samples of
 * class c (NaN when ds holds none of it).
 * @param acc capacity n >= the model's classes.
 * @param counts receives the samples of each class (may be NULL; capacity n).
 * @return FNN_OK, FNN_E_NULL, FNN_E_SHAPE, FNN_E_RANGE, FNN_E_EMPTY,
 *         FNN_E_NUMERIC (outputs not finite), FNN_E_STATE (no labels),
 *         FNN_E_NOMEM.
 * Thread-safety: reads the model only. */
FNN_API int fnn_model_class_accuracies(const fnn_model *m, const fnn_dataset *ds, double *acc,
                                       size_t *counts, size_t n);

/** Logits (the last layer's outputs, before the softmax) for every sample.
 * @param out capacity n >= size * classes floats, row per sample.
 * @return as fnn_model_predict_proba(). */
FNN_API int fnn_model_logits(const fnn_model *m, const fnn_dataset *ds, float *out, size_t n);

/* Membership inference. An attack guesses whether a sample was in a model's
 * training set; against an unlearned model, its members are the forgotten
 * samples and its non-members samples of the same distribution the model
 * never saw. An attack that cannot tell them apart scores 0.5 (accuracy,
 * AUC) and a TPR equal to the FPR. Scores follow "higher = more likely a
 * member" throughout. */

/** Area under the ROC curve of a membership score: P(member score >
 * non-member score) + 1/2 P(equal).
 * @return FNN_OK, FNN_E_NULL, FNN_E_EMPTY, FNN_E_NUMERIC (a NaN score),
 *         FNN_E_NOMEM; err (may be NULL) gets a message on failure. */
FNN_API int fnn_mia_auc(const double *member_score, size_t nm, const double *nonmember_score,
                        size_t nn, double *auc, char *err, size_t err_size);

/** The largest true-positive rate of a rule "score >= threshold => member"
 * whose false-positive rate is at most fpr (the low-FPR figure of Carlini et
 * al. 2022); a rule admits every score equal to its threshold. With fewer
 * than 1 / fpr non-members it is the TPR at zero false positives.
 * @param fpr in (0, 1), e.g. 0.01 or 0.001.
 * @return as fnn_mia_auc(), and FNN_E_INVALID (fpr). */
FNN_API int fnn_mia_tpr_at_fpr(const double *member_score, size_t nm,
                               const double *nonmember_score, size_t nn, double fpr,
                               double *tpr, char *err, size_t err_size);

/** The loss-based attack of the NeurIPS 2023 machine-unlearning challenge's
 * kit: the larger group is subsampled to the smaller's size (seeded); for 10
 * stratified shuffle splits (10% test), a logistic regression on the loss
 * (scikit-learn's defaults: L2, C = 1) is fitted and scored; the result is
 * the mean test accuracy of the splits and their standard deviation.
 * @param spread receives the standard deviation (may be NULL).
 * @return FNN_OK, FNN_E_NULL, FNN_E_EMPTY, FNN_E_INVALID (fewer than 6 samples
 *         in the smaller group), FNN_E_NUMERIC (a non-finite loss), FNN_E_NOMEM. */
FNN_API int fnn_mia_loss_attack(const float *member_loss, size_t nm,
                                const float *nonmember_loss, size_t nn, uint64_t seed,
                                double *accuracy, double *spread, char *err,
                                size_t err_size);

/** Avg. Gap: the mean of |method_i - reference_i| over n paired figures
 * given as fractions in [0, 1], in percentage points (unlearning papers use
 * forget, retain and test accuracy and an MIA, against a retrained model).
 * @return FNN_OK, FNN_E_NULL, FNN_E_EMPTY, FNN_E_NUMERIC (NaN), FNN_E_RANGE
 *         (a figure outside [0, 1]). */
FNN_API int fnn_avg_gap(const double *method, const double *reference, size_t n, double *gap,
                        char *err, size_t err_size);

/** Figures of fnn_model_membership(). */
enum fnn_membership_key {
    FNN_MEMBERSHIP_MEMBER_ACC = 0,    /**< accuracy on the members */
    FNN_MEMBERSHIP_NONMEMBER_ACC = 1, /**< accuracy on the non-members */
    FNN_MEMBERSHIP_MEMBER_LOSS = 2,   /**< mean loss of the members */
    FNN_MEMBERSHIP_NONMEMBER_LOSS = 3,/**< mean loss of the non-members */
    FNN_MEMBERSHIP_LOSS_MIA = 4,      /**< fnn_mia_loss_attack() accuracy */
    FNN_MEMBERSHIP_LOSS_MIA_SPREAD = 5,/**< its standard deviation over the splits */
    FNN_MEMBERSHIP_AUC = 6,           /**< loss-threshold AUC (score = -loss) */
    FNN_MEMBERSHIP_TPR_1 = 7,         /**< its TPR at 1% FPR */
    FNN_MEMBERSHIP_TPR_01 = 8         /**< its TPR at 0.1% FPR */
};

/** Loss-based membership figures of a model: per-sample losses of members
 * and non-members, the loss attack, the loss-threshold AUC and its TPR at
 * low FPR.
 * @param out receives the figures of enum fnn_membership_key, the first
 *        min(n, the number of keys) of them.
 * @return FNN_OK, FNN_E_NULL, FNN_E_SHAPE, FNN_E_RANGE, FNN_E_EMPTY,
 *         FNN_E_INVALID (too few samples for the attack), FNN_E_NUMERIC,
 *         FNN_E_STATE (a set without labels), FNN_E_NOMEM; message on m.
 * Thread-safety: reads the model only. */
FNN_API int fnn_model_membership(const fnn_model *m, const fnn_dataset *members,
                                 const fnn_dataset *nonmembers, uint64_t seed, double *out,
                                 size_t n);

/* ------------------------------------------------------------------------ */
/* Files                                                                    */
/* ------------------------------------------------------------------------ */

/** Saves the model (specification, parameters, forgetting state) to `path`
 * in the format of docs/FORMAT.md, atomically: a temporary file
 * `<path>.tmp.<pid>.XXXXXX` in the same directory (`<pid>` is the calling
 * process's id) is written, flushed, synced and renamed over `path`. On
 * failure the previous file at `path` is untouched. A save first removes the
 * temporaries of `path` that saves killed before their rename left behind:
 * those whose process no longer exists (kill(pid, 0) fails with ESRCH), never
 * one of a live process; see docs/FORMAT.md, "Writing", for the exact rule and
 * its limits (processes saving to one path must share a PID namespace).
 * Nothing that fnn_model_load() would refuse is written.
 * @return FNN_OK, FNN_E_NULL, FNN_E_IO, FNN_E_NUMERIC (a parameter is NaN or
 *         infinite, or a forgetting rate NaN), FNN_E_STATE (a forgetting rate
 *         <= 0), FNN_E_NOMEM (also: a model over the format's 4 GiB). */
FNN_API int fnn_model_save(const fnn_model *m, const char *path);

/** Loads a model saved by fnn_model_save(), from a regular file, a pipe or a
 * device. The header, the section table and SPEC are checked before the file
 * is read whole, so that nothing is read or allocated past a length that is
 * plausible for the model; then the checksum is verified before anything
 * else is interpreted (docs/FORMAT.md, "Reading").
 * @return FNN_OK, FNN_E_NULL, FNN_E_IO, FNN_E_FORMAT, FNN_E_TRUNCATED,
 *         FNN_E_CHECKSUM, FNN_E_VERSION, FNN_E_SPEC, FNN_E_NUMERIC, FNN_E_NOMEM. */
FNN_API int fnn_model_load(fnn_model **out, const char *path, char *err, size_t err_size);

/** Serialises the model into a caller buffer.
 * @param buf may be NULL when size is 0, to learn the size.
 * @param needed receives the serialised size (required).
 * @return FNN_OK, FNN_E_NULL, FNN_E_SHAPE (size < *needed; nothing written),
 *         FNN_E_NUMERIC, FNN_E_STATE, FNN_E_NOMEM (as fnn_model_save()). */
FNN_API int fnn_model_save_buffer(const fnn_model *m, void *buf, size_t size, size_t *needed);

/** Loads a model from a buffer (same format as files).
 * @return as fnn_model_load() except FNN_E_IO. */
FNN_API int fnn_model_load_buffer(fnn_model **out, const void *buf, size_t size,
                                  char *err, size_t err_size);

/* ------------------------------------------------------------------------ */
/* Forgetting                                                               */
/* ------------------------------------------------------------------------ */

/* Every dense layer is a forgetting layer: its pre-activation a_i (for the
 * last layer, the logit) is multiplied by exp(-t / tau_i) while its decay is
 * on, where t is the model's forgetting clock and tau_i > 0 the neuron's
 * forgetting rate (+infinity: never forgets). See docs/ALGORITHM.md. */

/** Number of forgetting (dense) layers, numbered 0.. in network order. 0 for NULL. */
FNN_API size_t fnn_model_num_forgetting_layers(const fnn_model *m);

/** Width (neurons) of forgetting layer `layer`.
 * @return FNN_OK, FNN_E_NULL, FNN_E_RANGE (no such layer). */
FNN_API int fnn_model_forgetting_layer_units(const fnn_model *m, size_t layer,
                                             uint32_t *units);

/** Copies the forgetting rates of a layer.
 * @param n capacity of tau; must be >= the layer's units.
 * @return FNN_OK, FNN_E_NULL, FNN_E_RANGE, FNN_E_SHAPE. */
FNN_API int fnn_model_get_tau(const fnn_model *m, size_t layer, float *tau, size_t n);

/** Sets the forgetting rates of a layer.
 * @param n must equal the layer's units; every value > 0 (+infinity allowed).
 * @return FNN_OK, FNN_E_NULL, FNN_E_RANGE, FNN_E_SHAPE, FNN_E_INVALID
 *         (a value <= 0 or NaN; nothing changed). */
FNN_API int fnn_model_set_tau(fnn_model *m, size_t layer, const float *tau, size_t n);

/** Turns a layer's decay on (non-zero) or off.
 * @return FNN_OK, FNN_E_NULL, FNN_E_RANGE. */
FNN_API int fnn_model_set_decay(fnn_model *m, size_t layer, int on);

/** Whether a layer's decay is on: 1, 0, or a negative status. */
FNN_API int fnn_model_decay_enabled(const fnn_model *m, size_t layer);

/** Sets the forgetting clock t (unlearning epochs elapsed).
 * @return FNN_OK or FNN_E_NULL. */
FNN_API int fnn_model_set_clock(fnn_model *m, uint32_t t);

/** The forgetting clock. 0 for NULL. */
FNN_API uint32_t fnn_model_clock(const fnn_model *m);

/** The factors exp(-t / tau_i) the layer applies while its decay is on.
 * @return FNN_OK, FNN_E_NULL, FNN_E_RANGE, FNN_E_SHAPE (n < units). */
FNN_API int fnn_model_decay_factors(const fnn_model *m, size_t layer, float *out, size_t n);

/** Folds the active decay factors into the weights and biases (W_i *= f_i,
 * b_i *= f_i), then resets the forgetting state (decay off, tau = +infinity,
 * t = 0). Predictions are unchanged; the model is a plain model afterwards.
 * @return FNN_OK or FNN_E_NULL. */
FNN_API int fnn_model_fold_decay(fnn_model *m);

/** 1-based ranks of a layer's neurons by mean pre-activation (with the
 * current forgetting state) over `ds`: the largest mean gets rank 1; ties go
 * to the lower index.
 * @param n capacity of ranks; must be >= the layer's units.
 * @return FNN_OK, FNN_E_NULL, FNN_E_RANGE, FNN_E_SHAPE, FNN_E_NUMERIC (a
 *         pre-activation of a dense layer is not finite: the parameters
 *         overflow on ds), FNN_E_NOMEM. */
FNN_API int fnn_model_rank_neurons(const fnn_model *m, const fnn_dataset *ds, size_t layer,
                                   uint32_t *ranks, size_t n);

/** Forgetting-rate policies. */
enum fnn_policy {
    FNN_POLICY_FIXED = 0,   /**< tau_i = param (default 30) */
    FNN_POLICY_ORDERED = 1, /**< tau_i = i + 1 */
    FNN_POLICY_RANK = 2,    /**< tau_i = rank of neuron i on the forget set */
    FNN_POLICY_TOPK = 3,    /**< rank, and the K most active get tau = 1 */
    FNN_POLICY_RANDOM = 4,  /**< rank, and K seeded random neurons get tau = 1 */
    FNN_POLICY_CONTRAST = 5 /**< tau_i = rank of neuron i by its mean activation on
                                 the forget set minus that on retain samples (only
                                 through fnn_model_forget(), which has them) */
};

/** Sets tau on every forgetting layer by `policy` and turns their decay on.
 * @param forget the forget set, for the rank-based policies (may be NULL for
 *        fixed and ordered).
 * @param param fixed: tau (> 0); topk and random: K for a 128-wide layer,
 *        scaled to each layer's width, at least 1 (<= 0 means 30); others: unused.
 * @param seed for FNN_POLICY_RANDOM.
 * @return FNN_OK, FNN_E_NULL, FNN_E_INVALID, FNN_E_SHAPE, FNN_E_NUMERIC (the
 *         rank-based policies, as fnn_model_rank_neurons()), FNN_E_NOMEM; on
 *         failure nothing is changed. */
FNN_API int fnn_model_apply_policy(fnn_model *m, const fnn_dataset *forget, int policy,
                                   double param, uint64_t seed);

/** A request to forget part of a training set. */
typedef struct fnn_forget_request fnn_forget_request;

/** Kinds of forget request. */
enum fnn_request_kind {
    FNN_REQUEST_INDICES = 0, /**< explicit sample indices */
    FNN_REQUEST_CLASS = 1,   /**< every sample of one class */
    FNN_REQUEST_RANDOM = 2   /**< a seeded random sample */
};

/** Requests forgetting the samples at `indices` of `train`.
 * @return FNN_OK, FNN_E_NULL, FNN_E_STATE (train has no labels), FNN_E_EMPTY
 *         (n == 0, or nothing would be retained), FNN_E_RANGE (index >=
 *         size), FNN_E_DUPLICATE, FNN_E_NOMEM.
 * Ownership: the request keeps its own reference to train's storage (see
 * fnn_dataset_borrow_arrays() for borrowed features). The other request
 * constructors fail with FNN_E_STATE on a training set without labels too. */
FNN_API int fnn_forget_request_from_indices(fnn_forget_request **out, const fnn_dataset *train,
                                            const uint32_t *indices, size_t n, char *err,
                                            size_t err_size);

/** Requests forgetting the samples listed in `text`: decimal indices of
 * `train` separated by white space or newlines, '#' starting a comment that
 * runs to the end of its line (the format of `fnn forget --forget-indices`).
 * @param len bytes of text (it need not be NUL-terminated).
 * @return as fnn_forget_request_from_indices(), and FNN_E_FORMAT (a token
 *         that is not a decimal index, or one above 2^32 - 1; the message
 *         gives its line), FNN_E_EMPTY (no index in the text). */
FNN_API int fnn_forget_request_from_index_text(fnn_forget_request **out,
                                               const fnn_dataset *train, const char *text,
                                               size_t len, char *err, size_t err_size);

/** Requests forgetting every sample of class `label`.
 * @return FNN_OK, FNN_E_NULL, FNN_E_RANGE (label not in [0, classes)),
 *         FNN_E_EMPTY (no sample has it, or every sample has it), FNN_E_NOMEM. */
FNN_API int fnn_forget_request_from_class(fnn_forget_request **out, const fnn_dataset *train,
                                          int32_t label, char *err, size_t err_size);

/** Requests forgetting `count` samples drawn without replacement by `seed`.
 * @return FNN_OK, FNN_E_NULL, FNN_E_EMPTY (count == 0), FNN_E_RANGE
 *         (count >= size), FNN_E_NOMEM. */
FNN_API int fnn_forget_request_random(fnn_forget_request **out, const fnn_dataset *train,
                                      size_t count, uint64_t seed, char *err, size_t err_size);

/** Frees a request. NULL is a harmless no-op. */
FNN_API void fnn_forget_request_free(fnn_forget_request *r);

/** Number of samples to forget. 0 for NULL. */
FNN_API size_t fnn_forget_request_size(const fnn_forget_request *r);

/** The request's kind (enum fnn_request_kind), or FNN_E_NULL. */
FNN_API int fnn_forget_request_kind(const fnn_forget_request *r);

/** The class of a FNN_REQUEST_CLASS request.
 * @return FNN_OK, FNN_E_NULL, FNN_E_STATE (another kind). */
FNN_API int fnn_forget_request_class(const fnn_forget_request *r, int32_t *label);

/** Copies the forget indices, ascending.
 * @return FNN_OK, FNN_E_NULL, FNN_E_SHAPE (n < size). */
FNN_API int fnn_forget_request_indices(const fnn_forget_request *r, uint32_t *out, size_t n);

/** New views of the forget subset and of its complement, the retain subset.
 * @return FNN_OK, FNN_E_NULL, FNN_E_NOMEM.
 * Ownership: the caller frees *out. */
FNN_API int fnn_forget_request_forget_set(const fnn_forget_request *r, fnn_dataset **out);
FNN_API int fnn_forget_request_retain_set(const fnn_forget_request *r, fnn_dataset **out);

/** Unlearning options: an opaque, enum-keyed set of numbers, holding the
 * training options of the method's inner training. */
typedef struct fnn_forget_options fnn_forget_options;

/** What an unlearning run did and measured. */
typedef struct fnn_forget_report fnn_forget_report;

/** Unlearning methods: the rows of the library's method table, each run by
 * fnn_model_forget() with FNN_FORGET_METHOD. Their names are
 * fnn_name(FNN_NAMES_METHOD, method); docs/ALGORITHM.md describes each. */
enum fnn_method {
    /** Post-hoc FNN unlearning of a trained model: rank the neurons on the
     * forget set, raise the forgetting clock t step by step with the decay on,
     * repair on retain samples after each step, stop at the target forget-set
     * accuracy or the budget. */
    FNN_METHOD_FNN = 0,
    /** The paper's protocol: T turns of L learning epochs on the whole
     * training set (decay off), then U unlearning epochs on the forget set
     * (decay on, t = 1..U, ranks recomputed first). */
    FNN_METHOD_FNN_PAPER = 1,
    /** Training from scratch on the retain set with the model's recorded
     * recipe (fnn_model_retrain()): exact unlearning, the reference. */
    FNN_METHOD_RETRAIN = 2,
    /** Training on the retain set only, from the model as it is. */
    FNN_METHOD_FINETUNE = 3,
    /** NegGrad+: steps on alpha * retain loss - (1 - alpha) * forget loss,
     * descent on the retain set with ascent on the forget set. */
    FNN_METHOD_NEGGRAD = 4,
    /** Removes the forget set's influence from the output layer over the
     * frozen features: the minimiser of the L2-regularised softmax loss of
     * the retained samples, reached from the current weights by Newton steps
     * (the first is the removal step of Guo et al. 2020, certified removal;
     * the next ones, damped by a line search, reuse its Hessian), factored
     * with LAPACKE's Cholesky routines. */
    FNN_METHOD_NEWTON = 5,
    /** Leaves the model as it is: the do-nothing reference of comparisons. */
    FNN_METHOD_NONE = 6
};

/** Unlearning procedures: the first two methods, under their former names.
 * Deprecated: use enum fnn_method. */
enum fnn_procedure {
    FNN_PROCEDURE_POSTHOC = 0, /**< = FNN_METHOD_FNN */
    FNN_PROCEDURE_PAPER = 1    /**< = FNN_METHOD_FNN_PAPER */
};

/** Keys of fnn_forget_options_set(). Defaults in brackets; the methods that
 * read a key are fnn_forget_key_methods(key). Deprecated keys are aliases
 * of others and stay for compatibility. A value outside the domain stated
 * here is FNN_E_INVALID; fnn_forget_key_bounds() reports each exactly. */
enum fnn_forget_key {
    FNN_FORGET_PROCEDURE = 0,      /**< deprecated: FNN_FORGET_METHOD limited to
                                        fnn (0) and fnn-paper (1) */
    FNN_FORGET_POLICY = 1,         /**< enum fnn_policy; -1 = automatic: fnn
                                        CONTRAST, fnn-paper RANK [-1] */
    FNN_FORGET_TAU = 2,            /**< fixed policy tau in (0, 1e9] [30] */
    FNN_FORGET_TOPK = 3,           /**< K at width 128 for topk/random, 1..65536 [30] */
    FNN_FORGET_SEED = 4,           /**< integer seed of the run's random choices
                                        (monitoring samples, random policy, repair
                                        samples, and the inner training's seed unless
                                        that is set) [0]; all 64 bits through
                                        fnn_forget_options_set_u64() */
    FNN_FORGET_MAX_T = 5,          /**< fnn: largest t, 1..1000000 [32] */
    FNN_FORGET_TARGET = 6,         /**< fnn forget-set accuracy target in [0, 1];
                                        -1 = automatic [-1] */
    FNN_FORGET_REPAIR_EPOCHS = 7,  /**< fnn repair epochs per step, 0..1000000 [1] */
    FNN_FORGET_REPAIR_FRACTION = 8,/**< deprecated: fnn share of the retain set per
                                        repair epoch, (0, 1]; when set, it replaces
                                        FNN_FORGET_REPAIR_SAMPLES; -1 = unset [-1] */
    FNN_FORGET_TURNS = 9,          /**< fnn-paper T, 1..1000000 [10] */
    FNN_FORGET_LEARN_EPOCHS = 10,  /**< fnn-paper L, 0..1000000 [1] */
    FNN_FORGET_UNLEARN_EPOCHS = 11,/**< fnn-paper U, 1..1000000 [2] */
    FNN_FORGET_BATCH_SIZE = 12,    /**< deprecated: the inner training's
                                        FNN_TRAIN_BATCH_SIZE */
    FNN_FORGET_OPTIMIZER = 13,     /**< deprecated: the inner FNN_TRAIN_OPTIMIZER */
    FNN_FORGET_LEARNING_RATE = 14, /**< deprecated: the inner FNN_TRAIN_LEARNING_RATE */
    FNN_FORGET_LR_GAMMA = 15,      /**< deprecated: g in (0, 1] sets the inner step
                                        schedule with FNN_TRAIN_LR_GAMMA = g and
                                        FNN_TRAIN_LR_STEP = 1; -1 restores the
                                        method's default [-1] */
    FNN_FORGET_FOLD = 16,          /**< 1 folds the decay into the weights at the end [1] */
    FNN_FORGET_EVAL_SAMPLES = 17,  /**< size of the fixed random samples of the forget,
                                        retain and holdout sets that monitor the phases
                                        (and give the retain accuracies), 1..2^32 - 1
                                        [2000] */
    FNN_FORGET_TOLERANCE = 18,     /**< fnn stops when forget accuracy <= target +
                                        tolerance, in [0, 1] [0.002] */
    FNN_FORGET_RETAIN_DROP = 19,   /**< fnn: while the monitored retain accuracy is
                                        more than this below its starting value, repair
                                        goes on, in [0, 1] [0.005] */
    FNN_FORGET_MAX_EXTRA_REPAIR = 20,/**< fnn: cap on those extra repair epochs per
                                        step, 0..1000000 [10] */
    FNN_FORGET_DECAY_OUTPUT = 21,  /**< 1: the last dense layer forgets too; 0: only the
                                        hidden dense layers; 2: only the last dense
                                        layer (with a single dense layer, it always
                                        forgets); -1: per method, fnn-paper 1; fnn 1
                                        for a class request under the contrast
                                        policy, else 2 for the first round and 1
                                        from the second [-1] */
    FNN_FORGET_METHOD = 22,        /**< enum fnn_method [FNN_METHOD_FNN] */
    FNN_FORGET_NEGGRAD_ALPHA = 23, /**< neggrad: weight alpha of the retain loss, in
                                        (0, 1); the forget loss gets 1 - alpha [0.999] */
    FNN_FORGET_NEWTON_L2 = 24,     /**< newton: L2 coefficient lambda of the output
                                        layer's regularised mean loss, in (0, 1e6)
                                        [0.001] */
    FNN_FORGET_BUDGET = 25,        /**< fnn: FLOP budget as a fraction of the
                                        training the model's recipe implies, in
                                        (0, 1]; never more than retraining [0.01] */
    FNN_FORGET_T_START = 26,       /**< fnn: the clock's first value, 1..1000000;
                                        -1 = automatic: 4 for a class request, else 1
                                        [-1] */
    FNN_FORGET_T_STEP = 27,        /**< fnn: the clock's increment while the target
                                        is not reached, 1..1000000 [2] */
    FNN_FORGET_RANK_SAMPLES = 28,  /**< fnn: forget samples the neurons are ranked on,
                                        1..2^32 - 1 [1000] */
    FNN_FORGET_REPAIR_SAMPLES = 29,/**< fnn: retain samples per repair epoch,
                                        1..2^32 - 1 [5000] */
    FNN_FORGET_MONITOR_SAMPLES = 30/**< fnn: forget and holdout samples that check
                                        the target, 1..2^32 - 1 [1000] */
};

/** Unlearning progress callback, called after every optimizer step of the
 * run and after every phase it records.
 * @param user the pointer given to fnn_forget_options_set_progress().
 * @param phase_kind enum fnn_phase_kind of the phase under way.
 * @param step optimizer steps taken so far in the run.
 * @param done matrix-product FLOPs spent so far.
 * @param total FLOPs the run expects to spend at most (0 when unknown), so
 *        done / total is a progress fraction.
 * @param so_far the run's report with the phases recorded so far; read it
 *        with fnn_forget_report_*() during the call only.
 * @return 0 to continue, non-zero to stop: fnn_model_forget() then returns
 *         FNN_E_CANCELLED and leaves the model exactly as it was.
 * The callback may run inference on the model being unlearned (an
 * intermediate state); it must not modify, clone or free it. */
typedef int (*fnn_forget_progress_fn)(void *user, int phase_kind, uint64_t step, double done,
                                      double total, const fnn_forget_report *so_far);

/** Creates options holding the defaults. @return FNN_OK, FNN_E_NULL, FNN_E_NOMEM. */
FNN_API int fnn_forget_options_create(fnn_forget_options **out);
/** Frees options. NULL is a harmless no-op. */
FNN_API void fnn_forget_options_free(fnn_forget_options *o);
/** Sets one option.
 * @return FNN_OK, FNN_E_NULL, FNN_E_INVALID (unknown key or value out of its
 *         domain, which the message states; nothing changed; message on o). */
FNN_API int fnn_forget_options_set(fnn_forget_options *o, int key, double value);
/** Reads one option. @return FNN_OK, FNN_E_NULL, FNN_E_INVALID. */
FNN_API int fnn_forget_options_get(const fnn_forget_options *o, int key, double *value);
/** Sets an integer option from a 64-bit value (the whole range of a seed).
 * @return as fnn_forget_options_set(). */
FNN_API int fnn_forget_options_set_u64(fnn_forget_options *o, int key, uint64_t value);
/** Reads an integer option as a 64-bit value.
 * @return FNN_OK, FNN_E_NULL, FNN_E_INVALID (unknown or non-integer key). */
FNN_API int fnn_forget_options_get_u64(const fnn_forget_options *o, int key,
                                       uint64_t *value);
/** Sets an option from text: `name` is a forget key's name
 * (fnn_name(FNN_NAMES_FORGET_KEY, key)) or, when no forget key has it, a
 * training key's name, which then goes to the inner training options;
 * `value` is a decimal number or a name of the key's domain ("rank").
 * @return FNN_OK, FNN_E_NULL, FNN_E_INVALID (unknown name or value outside
 *         the domain, which the message states; nothing changed; message on o). */
FNN_API int fnn_forget_options_parse(fnn_forget_options *o, const char *name,
                                     const char *value);
/** The training options of the method's inner training (repair epochs,
 * fine-tuning, retraining), owned by o and valid as long as o. Keys set on it
 * (fnn_train_options_set() or a preset) override the method's defaults; keys
 * left alone keep them: the model's recorded recipe for retrain, finetune and
 * neggrad, the method's own for fnn and fnn-paper (see docs/ALGORITHM.md).
 * FNN_TRAIN_NORMALIZE applies to retrain only.
 * @return the handle, or NULL for NULL o. */
FNN_API fnn_train_options *fnn_forget_options_train(fnn_forget_options *o);
/** Installs an unlearning progress callback (fn may be NULL to remove it).
 * @return FNN_OK or FNN_E_NULL. */
FNN_API int fnn_forget_options_set_progress(fnn_forget_options *o, fnn_forget_progress_fn fn,
                                            void *user);
/** The last error message recorded on this handle ("" if none); never NULL. */
FNN_API const char *fnn_forget_options_errmsg(const fnn_forget_options *o);

/** The domain of an unlearning option key (as fnn_train_key_bounds()).
 * @return FNN_OK, FNN_E_INVALID (unknown key). */
FNN_API int fnn_forget_key_bounds(int key, double *lo, double *hi, uint32_t *flags,
                                  int *names);
/** Describes the domain of an unlearning option key in words (as
 * fnn_train_key_describe()). @return the text's length; 0 for an unknown key. */
FNN_API size_t fnn_forget_key_describe(int key, char *buf, size_t size);
/** The methods that read an unlearning option key: bit m is set when method m
 * (enum fnn_method) uses it. 0 for an unknown key. */
FNN_API uint32_t fnn_forget_key_methods(int key);

/** Keys of fnn_forget_report_get(). Accuracies are in [0, 1]; NaN where not
 * measured (no holdout set). Forget and holdout accuracies are over the whole
 * sets; retain accuracies over the retain monitoring sample, of
 * FNN_REPORT_RETAIN_SAMPLE samples (at most FNN_FORGET_EVAL_SAMPLES). */
enum fnn_report_key {
    FNN_REPORT_SECONDS = 0,           /**< wall time of the whole run */
    FNN_REPORT_FLOPS = 1,             /**< matrix-product FLOPs of the whole run: training,
                                           ranking and every evaluation, the before and
                                           after measurements included */
    FNN_REPORT_TARGET = 2,            /**< fnn: forget-set accuracy aimed at (an
                                           automatic target is the holdout sample's
                                           accuracy before the run); NaN otherwise */
    FNN_REPORT_FINAL_T = 3,           /**< clock t at the end (before folding) */
    FNN_REPORT_EPOCHS = 4,            /**< training epochs run, any data set */
    FNN_REPORT_FORGET_ACC_BEFORE = 5,
    FNN_REPORT_FORGET_ACC_AFTER = 6,
    FNN_REPORT_RETAIN_ACC_BEFORE = 7,
    FNN_REPORT_RETAIN_ACC_AFTER = 8,
    FNN_REPORT_HOLDOUT_ACC_BEFORE = 9,
    FNN_REPORT_HOLDOUT_ACC_AFTER = 10,
    FNN_REPORT_REACHED_TARGET = 11,   /**< fnn: 1 if the target was reached, else 0;
                                           NaN for methods without a target */
    FNN_REPORT_METHOD = 12,           /**< enum fnn_method that ran */
    FNN_REPORT_FORGET_SIZE = 13,      /**< samples in the forget set */
    FNN_REPORT_RETAIN_SIZE = 14,      /**< samples in the retain set */
    FNN_REPORT_RETAIN_SAMPLE = 15,    /**< samples the retain accuracies are over */
    FNN_REPORT_HOLDOUT_SIZE = 16,     /**< samples in the holdout set, 0 without one */
    FNN_REPORT_STEPS = 17,            /**< optimizer steps taken */
    FNN_REPORT_RETRAIN_FLOPS = 18,    /**< FLOPs retraining with the model's recipe on
                                           the retain set takes; NaN without a recipe */
    FNN_REPORT_METHOD_SECONDS = 19,   /**< wall time of the method's own work, its
                                           monitoring included, without the before and
                                           after measurements of this report */
    FNN_REPORT_METHOD_FLOPS = 20,     /**< FLOPs of that work */
    FNN_REPORT_MIA_BEFORE = 21,       /**< loss attack (fnn_mia_loss_attack()) of the
                                           forget set against the holdout set (its samples
                                           of the class, for a class request), before;
                                           NaN without a holdout set */
    FNN_REPORT_MIA_AFTER = 22,        /**< the same, after */
    FNN_REPORT_BUDGET_FLOPS = 23      /**< fnn: the FLOP budget the method's work kept
                                           within (FNN_FORGET_BUDGET); NaN for the
                                           other methods */
};

/** Keys of fnn_forget_report_phase(). */
enum fnn_phase_key {
    FNN_PHASE_KIND = 0,        /**< enum fnn_phase_kind */
    FNN_PHASE_TURN = 1,        /**< fnn-paper turn (0-based), or 0 */
    FNN_PHASE_T = 2,           /**< clock t during the phase */
    FNN_PHASE_EPOCHS = 3,      /**< training epochs in the phase */
    FNN_PHASE_SECONDS = 4,     /**< including the phase's evaluations */
    FNN_PHASE_FLOPS = 5,       /**< including the phase's evaluations (the first
                                    fnn phase also holds the ranking) */
    FNN_PHASE_FORGET_ACC = 6,  /**< after the phase, on the forget sample */
    FNN_PHASE_RETAIN_ACC = 7,  /**< after the phase, on the retain sample */
    FNN_PHASE_HOLDOUT_ACC = 8  /**< after the phase, on the holdout sample; NaN
                                    without holdout */
};

/** Phase kinds. */
enum fnn_phase_kind {
    FNN_PHASE_LEARN = 0,   /**< fnn-paper: epochs on the whole training set, decay off */
    FNN_PHASE_UNLEARN = 1, /**< fnn-paper: epochs on the forget set, decay on */
    FNN_PHASE_DECAY = 2,   /**< fnn: one clock step with its repair epochs */
    FNN_PHASE_TRAIN = 3,   /**< retrain, finetune: epochs on the retain set */
    FNN_PHASE_ASCENT = 4,  /**< neggrad: epochs of descent on retain, ascent on forget */
    FNN_PHASE_NEWTON = 5,  /**< newton: the Newton step on the output layer */
    FNN_PHASE_MEASURE = 6  /**< measuring the model before or after the run */
};

/** Creates an empty report. @return FNN_OK, FNN_E_NULL, FNN_E_NOMEM. */
FNN_API int fnn_forget_report_create(fnn_forget_report **out);
/** Frees a report. NULL is a harmless no-op. */
FNN_API void fnn_forget_report_free(fnn_forget_report *r);
/** Reads a figure. @return FNN_OK, FNN_E_NULL, FNN_E_INVALID (unknown key). */
FNN_API int fnn_forget_report_get(const fnn_forget_report *r, int key, double *value);
/** Number of phases recorded. 0 for NULL. */
FNN_API size_t fnn_forget_report_num_phases(const fnn_forget_report *r);
/** Reads a figure of phase i. @return FNN_OK, FNN_E_NULL, FNN_E_RANGE, FNN_E_INVALID. */
FNN_API int fnn_forget_report_phase(const fnn_forget_report *r, size_t i, int key,
                                    double *value);

/** SHA-256 of the request's forget indices, ascending, each as 4 bytes
 * little-endian: what the model's deletion history records, so that a list
 * of indices can be checked against it.
 * @param digest receives 32 bytes.
 * @return FNN_OK or FNN_E_NULL. */
FNN_API int fnn_forget_request_digest(const fnn_forget_request *r, uint8_t *digest);

/** Keys of fnn_model_history_get(): one record of the deletion history. */
enum fnn_history_key {
    FNN_HISTORY_METHOD = 0,             /**< enum fnn_method */
    FNN_HISTORY_REQUEST_KIND = 1,       /**< enum fnn_request_kind */
    FNN_HISTORY_CLASS = 2,              /**< the class of a class request, else -1 */
    FNN_HISTORY_FORGET_SIZE = 3,        /**< samples forgotten */
    FNN_HISTORY_TRAIN_SIZE = 4,         /**< samples of the request's training set */
    FNN_HISTORY_FORGET_ACC_BEFORE = 5,
    FNN_HISTORY_FORGET_ACC_AFTER = 6,
    FNN_HISTORY_RETAIN_ACC_BEFORE = 7,  /**< on the retain sample */
    FNN_HISTORY_RETAIN_ACC_AFTER = 8,
    FNN_HISTORY_HOLDOUT_ACC_BEFORE = 9, /**< NaN without a holdout set */
    FNN_HISTORY_HOLDOUT_ACC_AFTER = 10,
    FNN_HISTORY_MIA_BEFORE = 11,        /**< FNN_REPORT_MIA_BEFORE */
    FNN_HISTORY_MIA_AFTER = 12,
    FNN_HISTORY_FLOPS = 13              /**< FLOPs of the method's work */
};

/** Number of records in the model's deletion history: one per successful
 * fnn_model_forget(), oldest first, saved with the model (HIST section).
 * 0 for NULL. */
FNN_API size_t fnn_model_history_count(const fnn_model *m);
/** Reads a figure of history record i (NaN where not measured).
 * @return FNN_OK, FNN_E_NULL, FNN_E_RANGE (no such record), FNN_E_INVALID (key). */
FNN_API int fnn_model_history_get(const fnn_model *m, size_t i, int key, double *value);
/** The digest of record i's forgotten indices (fnn_forget_request_digest()).
 * @param digest receives 32 bytes.
 * @return FNN_OK, FNN_E_NULL, FNN_E_RANGE. */
FNN_API int fnn_model_history_digest(const fnn_model *m, size_t i, uint8_t *digest);
/** The library version that wrote record i, or NULL when there is none. */
FNN_API const char *fnn_model_history_version(const fnn_model *m, size_t i);

/** Makes the model forget the request's samples with the method of
 * FNN_FORGET_METHOD (post-hoc FNN by default).
 * @param m a model trained on the request's training set.
 * @param req what to forget.
 * @param holdout data the model never saw, of the training distribution
 *        (e.g. samples split off before training), used for the automatic
 *        target of random and index requests and for reporting; may be NULL
 *        for class requests, with an explicit target, or for methods without
 *        a target.
 * @param opts NULL uses the defaults.
 * @param report receives figures and phases (may be NULL); overwritten.
 * On success the model's deletion history gains a record of the run
 * (fnn_model_history_count()); wall time is not recorded, so runs with the
 * same seeds save the same bytes.
 * @return FNN_OK (also when the fnn target was not reached: see
 *         FNN_REPORT_REACHED_TARGET), FNN_E_NULL (also: no holdout where the
 *         automatic target needs one), FNN_E_SHAPE, FNN_E_RANGE (a label
 *         beyond the model's classes, or a deletion history already at its
 *         65536 records), FNN_E_STATE (retrain on a model without a recipe,
 *         see fnn_model_retrain(); newton on an output layer of more than
 *         4096 weights and biases; a holdout set without labels),
 *         FNN_E_NUMERIC (the model's outputs are not finite before or after
 *         the run, training diverged or a parameter became non-finite),
 *         FNN_E_CANCELLED (the progress callback stopped the run),
 *         FNN_E_NOMEM. On every failure the model is restored exactly as it
 *         was.
 * Thread-safety: uses m's workspace; the other handles are only read. */
FNN_API int fnn_model_forget(fnn_model *m, const fnn_forget_request *req,
                             const fnn_dataset *holdout, const fnn_forget_options *opts,
                             fnn_forget_report *report);

/* ------------------------------------------------------------------------ */
/* Membership attacks with shadow models                                    */
/* ------------------------------------------------------------------------ */

/** A per-example likelihood-ratio membership attack: LiRA (Carlini et al.
 * 2022), or U-LiRA (Hayes et al. 2024) when its shadows unlearn. Shadow
 * models of the attacked model's specification, trained with its recorded
 * recipe on seeded random halves of a universe of samples, give every
 * candidate sample a Gaussian of its logit-scaled confidence under models
 * that trained on it (IN) and models that did not (OUT); a target model's
 * confidence is scored by the ratio of the two. The shadows are trained once
 * and score any number of targets. */
typedef struct fnn_attack fnn_attack;

/** Keys of fnn_attack_set(). Defaults in brackets. */
enum fnn_attack_key {
    FNN_ATTACK_SHADOWS = 0,             /**< shadow models K, 1..4096 [16] */
    FNN_ATTACK_SEED = 1,                /**< seed of the halves and the shadows' training
                                             [0]; all 64 bits through fnn_attack_set_u64() */
    FNN_ATTACK_THREADS = 2,             /**< shadows trained at once, 1..64 [1]; above 1,
                                             set OpenBLAS to one thread (two thread pools
                                             oversubscribe the cores) */
    FNN_ATTACK_PER_EXAMPLE_VARIANCE = 3 /**< 1: each candidate's own variances; 0: one
                                             pooled variance per condition, steadier at
                                             small K [0] */
};

/** Attack progress: `done` of `shadows` trained (called from the training
 * threads, one call at a time). @return non-zero to stop (FNN_E_CANCELLED). */
typedef int (*fnn_attack_progress_fn)(void *user, uint32_t done, uint32_t shadows);

/** Creates an attack on models like `model` (its specification and its
 * recorded recipe, fnn_model_recipe()), with shadows trained on halves of
 * `universe` and observations of the candidate samples universe[candidates[i]].
 * Every candidate is IN for the shadows whose half holds it, OUT for the
 * others. For unlearning, the universe holds the pool the model trained on
 * and held-out samples of the same distribution; the candidates are the
 * forgotten samples and held-out ones.
 * @return FNN_OK, FNN_E_NULL, FNN_E_EMPTY, FNN_E_SHAPE, FNN_E_RANGE and
 *         FNN_E_DUPLICATE (candidates), FNN_E_STATE (no recipe, or a universe
 *         without labels), FNN_E_NOMEM.
 * Ownership: the attack keeps its own views and copies; free it with
 * fnn_attack_free(). */
FNN_API int fnn_attack_create(fnn_attack **out, const fnn_model *model,
                              const fnn_dataset *universe, const uint32_t *candidates,
                              size_t n, char *err, size_t err_size);
/** Frees an attack. NULL is a harmless no-op. */
FNN_API void fnn_attack_free(fnn_attack *a);
/** The last error message recorded on this handle ("" if none); never NULL. */
FNN_API const char *fnn_attack_errmsg(const fnn_attack *a);
/** Sets an attack option. @return FNN_OK, FNN_E_NULL, FNN_E_INVALID. */
FNN_API int fnn_attack_set(fnn_attack *a, int key, double value);
/** Sets an integer attack option from 64 bits. @return as fnn_attack_set(). */
FNN_API int fnn_attack_set_u64(fnn_attack *a, int key, uint64_t value);
/** Reads an attack option. @return FNN_OK, FNN_E_NULL, FNN_E_INVALID. */
FNN_API int fnn_attack_get(const fnn_attack *a, int key, double *value);
/** Installs a progress callback (fn may be NULL). @return FNN_OK or FNN_E_NULL. */
FNN_API int fnn_attack_set_progress(fnn_attack *a, fnn_attack_progress_fn fn, void *user);
/** The domain of an attack option key (as fnn_train_key_bounds()); the keys'
 * names are fnn_name(FNN_NAMES_ATTACK_KEY, key).
 * @return FNN_OK, FNN_E_INVALID (unknown key). */
FNN_API int fnn_attack_key_bounds(int key, double *lo, double *hi, uint32_t *flags,
                                  int *names);
/** Describes the domain of an attack option key in words (as
 * fnn_train_key_describe()). @return the text's length; 0 for an unknown key. */
FNN_API size_t fnn_attack_key_describe(int key, char *buf, size_t size);

/** Trains the shadows (again, replacing earlier ones), each with the model's
 * recipe from its own seeds on its half of the universe, and records their
 * observations of the candidates (LiRA: IN means "trained on"). The shadows
 * are kept for fnn_attack_unlearn().
 * @return FNN_OK, FNN_E_NULL, FNN_E_CANCELLED, FNN_E_NUMERIC, FNN_E_NOMEM, or
 *         what a shadow's training returned (message on a).
 * Results do not depend on FNN_ATTACK_THREADS when OpenBLAS runs one thread. */
FNN_API int fnn_attack_train(fnn_attack *a);

/** U-LiRA: a new attack whose observations come from copies of base's
 * shadows that unlearned, with `unlearn`, the candidates flagged forget[i]
 * != 0 that lie in their half (a class request when those are one class and
 * all of it in the half, as a class request to the target is; else an index
 * request; a random sample of the shadow's non-members as its holdout).
 * Such a candidate's IN observations are "trained on, then unlearned", its
 * OUT ones "never seen"; shadows that kept a candidate do not count for it.
 * The progress callbacks of `unlearn` (and of its inner training options)
 * are not called: the shadows unlearn on FNN_ATTACK_THREADS threads at once,
 * and base's attack progress callback reports the shadows done instead.
 * @param n must equal the number of candidates.
 * @return FNN_OK, FNN_E_NULL, FNN_E_STATE (base has no trained shadows, or is
 *         itself such an attack), FNN_E_SHAPE, FNN_E_CANCELLED, FNN_E_NOMEM,
 *         or what a shadow's unlearning returned; err gets the message.
 * Ownership: *out is a new attack (fnn_attack_free()); base is only read. */
FNN_API int fnn_attack_unlearn(const fnn_attack *base, const uint8_t *forget, size_t n,
                               const fnn_forget_options *unlearn, fnn_attack **out,
                               char *err, size_t err_size);
/** Number of shadows trained (0 before fnn_attack_train() succeeds). */
FNN_API uint32_t fnn_attack_shadows_trained(const fnn_attack *a);

/** Per-candidate membership scores of a target (higher = more likely IN):
 * log N(phi; mu_in, s_in^2) - log N(phi; mu_out, s_out^2), or, for a candidate
 * with fewer than two IN observations, the log-probability that an OUT
 * model's confidence is at most the target's; NaN with fewer than two OUT.
 * @param n capacity of scores, >= the candidates.
 * @return FNN_OK, FNN_E_NULL, FNN_E_STATE (not trained), FNN_E_SHAPE (n, or
 *         another architecture), FNN_E_NUMERIC, FNN_E_NOMEM. */
FNN_API int fnn_attack_scores(fnn_attack *a, const fnn_model *target, double *scores,
                              size_t n);
/** AUC and TPR at 1% and 0.1% FPR of the scores of the candidates flagged
 * member[i] == 1 against those flagged 0 (other values, and unscored
 * candidates, are left out); any out pointer may be NULL.
 * @param n must equal the number of candidates.
 * @return as fnn_attack_scores(), and FNN_E_EMPTY (no scored candidate on a
 *         side). */
FNN_API int fnn_attack_evaluate(fnn_attack *a, const fnn_model *target, const uint8_t *member,
                                size_t n, double *auc, double *tpr_1, double *tpr_01);

#ifdef __cplusplus
}
#endif

#endif /* FNN_FNN_H */
