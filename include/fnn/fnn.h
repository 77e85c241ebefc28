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
 *   float32, laid out per sample as rows x cols x channels (channels last).
 * - Thread-safety: a handle may be used by one thread at a time; different
 *   handles are independent. Matrix products run on OpenBLAS, whose thread
 *   count the caller controls (OPENBLAS_NUM_THREADS or
 *   openblas_set_num_threads()).
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
 * stored as bytes and presented to models scaled to [0, 1].
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
 * @return FNN_OK, FNN_E_NULL, FNN_E_INVALID (zero dimension), FNN_E_EMPTY,
 *         FNN_E_RANGE (label), FNN_E_NUMERIC (NaN or infinite feature), FNN_E_NOMEM.
 * Ownership: the caller keeps its arrays; frees *out with fnn_dataset_free(). */
FNN_API int fnn_dataset_from_arrays(fnn_dataset **out, const float *features,
                                    const int32_t *labels, size_t n, uint32_t rows,
                                    uint32_t cols, uint32_t channels,
                                    uint32_t num_classes, char *err, size_t err_size);

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
 * @return FNN_OK, FNN_E_NULL, FNN_E_SHAPE. */
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
 * @return FNN_OK, FNN_E_NULL, FNN_E_SHAPE, FNN_E_INVALID (std <= 0 or not finite). */
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

/** Deep copy: parameters, forgetting state and specification (not workspace).
 * @return FNN_OK, FNN_E_NULL, FNN_E_NOMEM (message on m). */
FNN_API int fnn_model_clone(fnn_model *m, fnn_model **out);

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
 *         precedes the first weighted layer; nothing changed). */
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

/** Keys of fnn_train_options_set(). Defaults in brackets. */
enum fnn_train_key {
    FNN_TRAIN_EPOCHS = 0,        /**< epochs, >= 1 [1] */
    FNN_TRAIN_BATCH_SIZE = 1,    /**< samples per step, 1..65536 [64] */
    FNN_TRAIN_OPTIMIZER = 2,     /**< enum fnn_optimizer [FNN_OPTIMIZER_ADAM] */
    FNN_TRAIN_LEARNING_RATE = 3, /**< > 0 [0.001] */
    FNN_TRAIN_MOMENTUM = 4,      /**< SGD momentum in [0, 1) [0.9] */
    FNN_TRAIN_BETA1 = 5,         /**< Adam beta1 in [0, 1) [0.9] */
    FNN_TRAIN_BETA2 = 6,         /**< Adam beta2 in [0, 1) [0.999] */
    FNN_TRAIN_EPSILON = 7,       /**< Adam epsilon > 0 [1e-8] */
    FNN_TRAIN_WEIGHT_DECAY = 8,  /**< L2 coefficient added to gradients, >= 0 [0] */
    FNN_TRAIN_LR_SCHEDULE = 9,   /**< enum fnn_lr_schedule [FNN_LR_CONSTANT] */
    FNN_TRAIN_LR_STEP = 10,      /**< step decay: epochs between decays, >= 1 [1] */
    FNN_TRAIN_LR_GAMMA = 11,     /**< step decay: factor in (0, 1] [0.1] */
    FNN_TRAIN_SEED = 12,         /**< shuffling and dropout seed, integer [0] */
    FNN_TRAIN_SHUFFLE = 13       /**< 1 shuffles each epoch, 0 keeps order [1] */
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
 * learning rate multiplied by 0.7 after every epoch. Other options are kept.
 * @return FNN_OK, FNN_E_NULL, FNN_E_INVALID (not a preset name; nothing
 *         changed; message on o). */
FNN_API int fnn_train_options_preset(fnn_train_options *o, const char *arch);

/** Sets one option. Integer options take integral values.
 * @return FNN_OK, FNN_E_NULL, FNN_E_INVALID (unknown key or value out of
 *         its domain; nothing changed; message on o). */
FNN_API int fnn_train_options_set(fnn_train_options *o, int key, double value);

/** Reads one option.
 * @return FNN_OK, FNN_E_NULL, FNN_E_INVALID (unknown key). */
FNN_API int fnn_train_options_get(const fnn_train_options *o, int key, double *value);

/** Installs a progress callback (fn may be NULL to remove it).
 * @return FNN_OK or FNN_E_NULL. */
FNN_API int fnn_train_options_set_progress(fnn_train_options *o, fnn_progress_fn fn,
                                           void *user);

/** The last error message recorded on this handle ("" if none); never NULL. */
FNN_API const char *fnn_train_options_errmsg(const fnn_train_options *o);

/** Trains the model on `train` with mini-batch gradient descent. Optimizer
 * state starts fresh with every call. Deterministic for a given seed and
 * OpenBLAS thread count. Forgetting decay, if enabled, is applied.
 * @param opts NULL uses the defaults.
 * @return FNN_OK, FNN_E_NULL, FNN_E_SHAPE (data and model shapes differ),
 *         FNN_E_RANGE (label >= model classes), FNN_E_NUMERIC (loss became NaN or
 *         infinite: parameters are restored to their state before the call),
 *         FNN_E_CANCELLED (parameters keep the progress made), FNN_E_NOMEM.
 * Thread-safety: uses m's workspace; train, opts are only read. */
FNN_API int fnn_model_train(fnn_model *m, const fnn_dataset *train,
                            const fnn_train_options *opts);

/* ------------------------------------------------------------------------ */
/* Inference                                                                */
/* ------------------------------------------------------------------------ */

/** Class probabilities (softmax) for every sample.
 * @param out capacity n >= size * classes floats, row per sample.
 * @return FNN_OK, FNN_E_NULL, FNN_E_SHAPE, FNN_E_NOMEM. */
FNN_API int fnn_model_predict_proba(fnn_model *m, const fnn_dataset *ds, float *out,
                                    size_t n);

/** Most probable class for every sample.
 * @param out capacity n >= size labels.
 * @return as fnn_model_predict_proba(). */
FNN_API int fnn_model_predict(fnn_model *m, const fnn_dataset *ds, int32_t *out,
                              size_t n);

/** Accuracy in [0, 1] and mean cross-entropy loss (either pointer may be NULL).
 * @return FNN_OK, FNN_E_NULL, FNN_E_SHAPE, FNN_E_RANGE, FNN_E_NOMEM. */
FNN_API int fnn_model_evaluate(fnn_model *m, const fnn_dataset *ds, double *accuracy,
                               double *mean_loss);

/** Cross-entropy loss of every sample (inputs to membership inference).
 * @param out capacity n >= size floats.
 * @return as fnn_model_evaluate(). */
FNN_API int fnn_model_sample_losses(fnn_model *m, const fnn_dataset *ds, float *out,
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
 * @return FNN_OK, FNN_E_NULL, FNN_E_IO, FNN_E_NOMEM. */
FNN_API int fnn_model_save(fnn_model *m, const char *path);

/** Loads a model saved by fnn_model_save(). The checksum is verified before
 * anything is parsed.
 * @return FNN_OK, FNN_E_NULL, FNN_E_IO, FNN_E_FORMAT, FNN_E_TRUNCATED,
 *         FNN_E_CHECKSUM, FNN_E_VERSION, FNN_E_SPEC, FNN_E_NUMERIC, FNN_E_NOMEM. */
FNN_API int fnn_model_load(fnn_model **out, const char *path, char *err, size_t err_size);

/** Serialises the model into a caller buffer.
 * @param buf may be NULL when size is 0, to learn the size.
 * @param needed receives the serialised size (required).
 * @return FNN_OK, FNN_E_NULL, FNN_E_SHAPE (size < *needed; nothing written). */
FNN_API int fnn_model_save_buffer(fnn_model *m, void *buf, size_t size, size_t *needed);

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
 * @return FNN_OK, FNN_E_NULL, FNN_E_RANGE, FNN_E_SHAPE, FNN_E_NOMEM. */
FNN_API int fnn_model_rank_neurons(fnn_model *m, const fnn_dataset *ds, size_t layer,
                                   uint32_t *ranks, size_t n);

/** Forgetting-rate policies. */
enum fnn_policy {
    FNN_POLICY_FIXED = 0,   /**< tau_i = param (default 30) */
    FNN_POLICY_ORDERED = 1, /**< tau_i = i + 1 */
    FNN_POLICY_RANK = 2,    /**< tau_i = rank of neuron i on the forget set */
    FNN_POLICY_TOPK = 3,    /**< rank, and the K most active get tau = 1 */
    FNN_POLICY_RANDOM = 4   /**< rank, and K seeded random neurons get tau = 1 */
};

/** Sets tau on every forgetting layer by `policy` and turns their decay on.
 * @param forget the forget set, for the rank-based policies (may be NULL for
 *        fixed and ordered).
 * @param param fixed: tau (> 0); topk and random: K for a 128-wide layer,
 *        scaled to each layer's width, at least 1 (<= 0 means 30); others: unused.
 * @param seed for FNN_POLICY_RANDOM.
 * @return FNN_OK, FNN_E_NULL, FNN_E_INVALID, FNN_E_SHAPE, FNN_E_NOMEM. */
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
 * @return FNN_OK, FNN_E_NULL, FNN_E_EMPTY (n == 0, or nothing would be
 *         retained), FNN_E_RANGE (index >= size), FNN_E_DUPLICATE, FNN_E_NOMEM.
 * Ownership: the request keeps its own reference to train's storage. */
FNN_API int fnn_forget_request_from_indices(fnn_forget_request **out, const fnn_dataset *train,
                                            const uint32_t *indices, size_t n, char *err,
                                            size_t err_size);

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

/** Unlearning options: an opaque, enum-keyed set of numbers. */
typedef struct fnn_forget_options fnn_forget_options;

/** Unlearning procedures. */
enum fnn_procedure {
    /** For a trained model: rank on the forget set, raise t step by step with
     * decay on, repair on a retain sample after each step, stop at the target
     * forget-set accuracy or the budget. */
    FNN_PROCEDURE_POSTHOC = 0,
    /** The paper's protocol: T turns of L learning epochs on the whole training
     * set (decay off), then U unlearning epochs on the forget set (decay on,
     * t = 1..U, ranks recomputed first). */
    FNN_PROCEDURE_PAPER = 1
};

/** Keys of fnn_forget_options_set(). Defaults in brackets. */
enum fnn_forget_key {
    FNN_FORGET_PROCEDURE = 0,      /**< enum fnn_procedure [POSTHOC] */
    FNN_FORGET_POLICY = 1,         /**< enum fnn_policy [RANK] */
    FNN_FORGET_TAU = 2,            /**< fixed policy tau > 0 [30] */
    FNN_FORGET_TOPK = 3,           /**< K at width 128 for topk/random, >= 1 [30] */
    FNN_FORGET_SEED = 4,           /**< integer seed [0] */
    FNN_FORGET_MAX_T = 5,          /**< post-hoc budget: largest t, >= 1 [10] */
    FNN_FORGET_TARGET = 6,         /**< post-hoc forget-set accuracy target in [0, 1];
                                        -1 = automatic [-1] */
    FNN_FORGET_REPAIR_EPOCHS = 7,  /**< post-hoc repair epochs per step, >= 0 [1] */
    FNN_FORGET_REPAIR_FRACTION = 8,/**< post-hoc share of the retain set per repair
                                        epoch, (0, 1], at least 10 batches [0.1] */
    FNN_FORGET_TURNS = 9,          /**< paper T, >= 1 [10] */
    FNN_FORGET_LEARN_EPOCHS = 10,  /**< paper L, >= 0 [1] */
    FNN_FORGET_UNLEARN_EPOCHS = 11,/**< paper U, >= 1 [2] */
    FNN_FORGET_BATCH_SIZE = 12,    /**< 1..65536 [64] */
    FNN_FORGET_OPTIMIZER = 13,     /**< enum fnn_optimizer [ADAM] */
    FNN_FORGET_LEARNING_RATE = 14, /**< > 0 [0.001] */
    FNN_FORGET_LR_GAMMA = 15,      /**< learning rate factor after every epoch, (0, 1];
                                        -1 = per procedure, paper 0.07, post-hoc 1 [-1] */
    FNN_FORGET_FOLD = 16,          /**< 1 folds the decay into the weights at the end [1] */
    FNN_FORGET_EVAL_SAMPLES = 17,  /**< size of the fixed random samples of the forget,
                                        retain and holdout sets that monitor the phases
                                        (and give the retain accuracies), >= 1 [2000] */
    FNN_FORGET_TOLERANCE = 18,     /**< post-hoc stops when forget accuracy <= target +
                                        tolerance, in [0, 1] [0.002] */
    FNN_FORGET_RETAIN_DROP = 19,   /**< post-hoc: while the monitored retain accuracy is
                                        more than this below its starting value, repair
                                        goes on, in [0, 1] [0.005] */
    FNN_FORGET_MAX_EXTRA_REPAIR = 20,/**< post-hoc: cap on those extra repair epochs per
                                        step, >= 0 [10] */
    FNN_FORGET_DECAY_OUTPUT = 21   /**< 1: the last dense layer forgets too; 0: only the
                                        hidden dense layers (all if there are none);
                                        -1: per procedure, paper 1, post-hoc 0 [-1] */
};

/** Creates options holding the defaults. @return FNN_OK, FNN_E_NULL, FNN_E_NOMEM. */
FNN_API int fnn_forget_options_create(fnn_forget_options **out);
/** Frees options. NULL is a harmless no-op. */
FNN_API void fnn_forget_options_free(fnn_forget_options *o);
/** Sets one option. @return FNN_OK, FNN_E_NULL, FNN_E_INVALID (message on o). */
FNN_API int fnn_forget_options_set(fnn_forget_options *o, int key, double value);
/** Reads one option. @return FNN_OK, FNN_E_NULL, FNN_E_INVALID. */
FNN_API int fnn_forget_options_get(const fnn_forget_options *o, int key, double *value);
/** The last error message recorded on this handle ("" if none); never NULL. */
FNN_API const char *fnn_forget_options_errmsg(const fnn_forget_options *o);

/** What an unlearning run did and measured. */
typedef struct fnn_forget_report fnn_forget_report;

/** Keys of fnn_forget_report_get(). Accuracies are in [0, 1]; NaN where not
 * measured (no holdout set). Forget and holdout accuracies are over the whole
 * sets, retain accuracies over the monitoring sample (FNN_FORGET_EVAL_SAMPLES). */
enum fnn_report_key {
    FNN_REPORT_SECONDS = 0,           /**< wall time of the whole run */
    FNN_REPORT_FLOPS = 1,             /**< matrix-product FLOPs of the whole run: training,
                                           ranking and every evaluation */
    FNN_REPORT_TARGET = 2,            /**< forget-set accuracy aimed at when the run
                                           ended (post-hoc; an automatic target follows
                                           the holdout sample's accuracy) */
    FNN_REPORT_FINAL_T = 3,           /**< clock t at the end (before folding) */
    FNN_REPORT_EPOCHS = 4,            /**< training epochs run, any data set */
    FNN_REPORT_FORGET_ACC_BEFORE = 5,
    FNN_REPORT_FORGET_ACC_AFTER = 6,
    FNN_REPORT_RETAIN_ACC_BEFORE = 7,
    FNN_REPORT_RETAIN_ACC_AFTER = 8,
    FNN_REPORT_HOLDOUT_ACC_BEFORE = 9,
    FNN_REPORT_HOLDOUT_ACC_AFTER = 10,
    FNN_REPORT_REACHED_TARGET = 11    /**< 1 if the post-hoc target was reached */
};

/** Keys of fnn_forget_report_phase(). */
enum fnn_phase_key {
    FNN_PHASE_KIND = 0,        /**< enum fnn_phase_kind */
    FNN_PHASE_TURN = 1,        /**< paper turn (0-based), or 0 */
    FNN_PHASE_T = 2,           /**< clock t during the phase */
    FNN_PHASE_EPOCHS = 3,      /**< training epochs in the phase */
    FNN_PHASE_SECONDS = 4,     /**< including the phase's evaluations */
    FNN_PHASE_FLOPS = 5,       /**< including the phase's evaluations (the first
                                    post-hoc phase also holds the ranking) */
    FNN_PHASE_FORGET_ACC = 6,  /**< after the phase, on the forget sample */
    FNN_PHASE_RETAIN_ACC = 7,  /**< after the phase, on the retain sample */
    FNN_PHASE_HOLDOUT_ACC = 8  /**< after the phase, on the holdout sample; NaN
                                    without holdout */
};

/** Phase kinds. */
enum fnn_phase_kind {
    FNN_PHASE_LEARN = 0,   /**< paper: epochs on the whole training set, decay off */
    FNN_PHASE_UNLEARN = 1, /**< paper: epochs on the forget set, decay on */
    FNN_PHASE_DECAY = 2    /**< post-hoc: one clock step with its repair epochs */
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

/** Makes the model forget the request's samples.
 * @param m a model trained on the request's training set.
 * @param req what to forget.
 * @param holdout data the model never saw (e.g. the test split), used for
 *        the automatic target of random and index requests and for
 *        reporting; may be NULL for class requests or with an explicit target.
 * @param opts NULL uses the defaults (post-hoc, rank policy).
 * @param report receives figures and phases (may be NULL); overwritten.
 * @return FNN_OK, FNN_E_NULL, FNN_E_SHAPE, FNN_E_RANGE, FNN_E_NUMERIC
 *         (training diverged; the model is restored), FNN_E_NOMEM.
 * Thread-safety: uses m's workspace; the other handles are only read. */
FNN_API int fnn_model_forget(fnn_model *m, const fnn_forget_request *req,
                             const fnn_dataset *holdout, const fnn_forget_options *opts,
                             fnn_forget_report *report);

#ifdef __cplusplus
}
#endif

#endif /* FNN_FNN_H */
