/*
 * libfnn sharded models: SISA training (Bourtoule et al., "Machine
 * Unlearning", IEEE S&P 2021) over the single-model API of fnn.h.
 *
 * A sharded model splits a training set of N samples into S disjoint shards
 * by a seeded rule, trains one constituent model (an fnn_model) per shard in
 * R slices with a checkpoint after each, answers queries by aggregating the
 * constituents, and serves a deletion request only in the shards that hold
 * its samples: either exactly, by retraining a shard from the checkpoint
 * before the first slice that held them, or with any unlearning method of the
 * method table (fnn_model_forget()) on that shard's constituent.
 *
 * The conventions of fnn.h hold: opaque handles, FNN_OK or a negative FNN_E_*
 * code, a message on the handle (fnn_sharded_errmsg()), no abort, no output.
 * A sharded handle is used by one thread at a time, its read-only calls
 * included (they leave their messages on it).
 * docs/SCALE.md describes the design, the files and distribution over MPI.
 */
#ifndef FNN_FNN_SHARDED_H
#define FNN_FNN_SHARDED_H

#include "fnn.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A sharded model: the assignment of the training samples to shards and
 * slices, the training recipe, the samples forgotten so far, and the
 * constituents and checkpoints of the shards this handle holds (all of them,
 * or a subset: a process of a distributed job holds its own). */
typedef struct fnn_sharded fnn_sharded;

/** Limits of fnn_sharded_create(). */
#define FNN_SHARDED_MAX_SHARDS 4096
#define FNN_SHARDED_MAX_SLICES 256
#define FNN_SHARDED_MAX_SAMPLES ((size_t)1 << 26)

/** How the constituents' predictions are combined. */
enum fnn_aggregation {
    FNN_AGGREGATE_MEAN = 0, /**< mean of the constituents' class probabilities */
    FNN_AGGREGATE_VOTE = 1  /**< majority vote of their predicted classes; ties go to
                                 the larger mean probability, then the lower class */
};

/** Creates an untrained sharded model for a training set of train_size
 * samples. The assignment rule: a permutation of 0..train_size-1 drawn by
 * Fisher-Yates from `seed` (xoshiro256**); shard k takes the positions
 * [k * N / S, (k + 1) * N / S) of it (rounded down), and within a shard
 * slice r takes [r * n / R, (r + 1) * n / R) of the shard's n positions.
 * Constituent k is fnn_model_create(spec, its seed) with a seed derived from
 * `seed` and k. The recipe (copied, with its progress callback) is what every
 * stage of every shard trains with (see fnn_sharded_train_shard()).
 * @param train_size N in 1..FNN_SHARDED_MAX_SAMPLES.
 * @param shards S in 1..FNN_SHARDED_MAX_SHARDS, at most train_size.
 * @param slices R in 1..FNN_SHARDED_MAX_SLICES; every shard must get at least
 *        R samples.
 * @param recipe NULL: the library's default training options.
 * @return FNN_OK, FNN_E_NULL, FNN_E_INVALID (S, R or the sizes), FNN_E_SPEC,
 *         FNN_E_NOMEM; err gets the message.
 * Ownership: free *out with fnn_sharded_free(). */
FNN_API int fnn_sharded_create(fnn_sharded **out, const char *spec, size_t train_size,
                               uint32_t shards, uint32_t slices, uint64_t seed,
                               const fnn_train_options *recipe, char *err, size_t err_size);

/** Frees a sharded model and every constituent it holds. NULL is a harmless no-op. */
FNN_API void fnn_sharded_free(fnn_sharded *s);

/** The last error message recorded on this handle ("" if none); never NULL. */
FNN_API const char *fnn_sharded_errmsg(const fnn_sharded *s);

/** Number of shards S. 0 for NULL. */
FNN_API uint32_t fnn_sharded_num_shards(const fnn_sharded *s);
/** Number of slices R per shard. 0 for NULL. */
FNN_API uint32_t fnn_sharded_num_slices(const fnn_sharded *s);
/** Size N of the training set the model is assigned to. 0 for NULL. */
FNN_API size_t fnn_sharded_train_size(const fnn_sharded *s);

/** Reads the recorded training recipe (a copy, without a progress callback).
 * @param out receives a new options handle (free it).
 * @param seed receives the model's assignment seed (may be NULL).
 * @return FNN_OK, FNN_E_NULL, FNN_E_NOMEM. */
FNN_API int fnn_sharded_recipe(const fnn_sharded *s, fnn_train_options **out, uint64_t *seed);

/** Where training sample `sample` (a position in the training set) lives.
 * @param shard, slice receive its shard and 0-based slice (either may be NULL).
 * @return FNN_OK, FNN_E_NULL, FNN_E_RANGE (sample >= N). */
FNN_API int fnn_sharded_locate(const fnn_sharded *s, uint32_t sample, uint32_t *shard,
                               uint32_t *slice);

/** Keys of fnn_sharded_shard_get(). The LAST_* figures describe the shard's
 * part in the last fnn_sharded_forget() call (0 when it held none of the
 * request's samples or is not held here). */
enum fnn_shard_key {
    FNN_SHARD_SAMPLES = 0,      /**< samples assigned to the shard, forgotten ones too */
    FNN_SHARD_RETAINED = 1,     /**< samples it trains on: assigned, not forgotten */
    FNN_SHARD_FORGOTTEN = 2,    /**< samples forgotten from it so far */
    FNN_SHARD_TRAINED = 3,      /**< 1 once trained, else 0 */
    FNN_SHARD_HELD = 4,         /**< 1 when this handle holds its constituent */
    FNN_SHARD_EXACT_SLICES = 5, /**< checkpoints usable for exact retraining: the first
                                     this many slices hold only retained samples */
    FNN_SHARD_REQUESTS = 6,     /**< deletion requests the shard has served */
    FNN_SHARD_LAST_FORGOTTEN = 7, /**< samples of the last request in the shard */
    FNN_SHARD_LAST_METHOD = 8,  /**< enum fnn_method it ran (retrain: exact slice
                                     retraining), -1 when not affected */
    FNN_SHARD_LAST_SLICES = 9,  /**< slices retrained by exact retraining */
    FNN_SHARD_LAST_SECONDS = 10,/**< wall time of its work (training, or the method's
                                     own work as FNN_REPORT_METHOD_SECONDS) */
    FNN_SHARD_LAST_FLOPS = 11,  /**< matrix-product FLOPs of that work */
    FNN_SHARD_TRAIN_SECONDS = 12, /**< wall time of the shard's last training from
                                       scratch in this handle (0 if none) */
    FNN_SHARD_TRAIN_FLOPS = 13  /**< matrix-product FLOPs of that training */
};

/** Reads a figure of shard `shard`.
 * @return FNN_OK, FNN_E_NULL, FNN_E_RANGE (no such shard), FNN_E_INVALID (key). */
FNN_API int fnn_sharded_shard_get(const fnn_sharded *s, uint32_t shard, int key,
                                  double *value);

/** Copies the training-set positions of the samples shard `shard` trains on
 * (retained ones), slice by slice in assignment order.
 * @param n capacity of out, >= FNN_SHARD_RETAINED.
 * @return FNN_OK, FNN_E_NULL, FNN_E_RANGE, FNN_E_SHAPE (n too small). */
FNN_API int fnn_sharded_shard_samples(const fnn_sharded *s, uint32_t shard, uint32_t *out,
                                      size_t n);

/** The constituent of shard `shard`, or NULL when it is not held here.
 * Lifetime: valid until the next call that modifies s. */
FNN_API const fnn_model *fnn_sharded_constituent(const fnn_sharded *s, uint32_t shard);

/** Frees the constituent and checkpoints of shard `shard` in this handle,
 * which no longer holds it (another process of a distributed job does).
 * Its record (forgotten samples, saved files) stays. No-op when not held.
 * @return FNN_OK, FNN_E_NULL, FNN_E_RANGE. */
FNN_API int fnn_sharded_release(fnn_sharded *s, uint32_t shard);

/** Installs a training progress callback used by every stage (fn may be NULL).
 * @return FNN_OK or FNN_E_NULL. */
FNN_API int fnn_sharded_set_progress(fnn_sharded *s, fnn_progress_fn fn, void *user);

/** Sets the aggregation (enum fnn_aggregation), saved with the model.
 * @return FNN_OK, FNN_E_NULL, FNN_E_INVALID. */
FNN_API int fnn_sharded_set_aggregation(fnn_sharded *s, int aggregation);
/** The aggregation, or FNN_E_NULL. */
FNN_API int fnn_sharded_aggregation(const fnn_sharded *s);

/** Trains shard `shard` from scratch on its retained samples: the
 * constituent is re-initialised from its creation seed, then stage r = 1..R
 * calls fnn_model_train() on the retained samples of slices 1..r with the
 * recipe (FNN_TRAIN_EPOCHS epochs per stage, FNN_TRAIN_SEED derived from the
 * recipe's seed, the shard and r), and keeps a checkpoint after each stage.
 * With FNN_TRAIN_NORMALIZE every stage trains on features normalised by the
 * statistics of the shard's first slice, folded in after each stage. A stage
 * without samples keeps the checkpoint before it.
 * @param train the training set the model is assigned to (N samples).
 * @return FNN_OK, FNN_E_NULL, FNN_E_RANGE (shard), FNN_E_SHAPE (size or
 *         shape of train), FNN_E_STATE (not held here), or what training
 *         returned; on failure the shard is as it was. */
FNN_API int fnn_sharded_train_shard(fnn_sharded *s, uint32_t shard, const fnn_dataset *train);

/** Trains every shard held here (fnn_sharded_train_shard()), in order.
 * @return as fnn_sharded_train_shard(); shards trained before a failure keep
 *         their training. */
FNN_API int fnn_sharded_train(fnn_sharded *s, const fnn_dataset *train);

/** Class probabilities of shard `shard`'s constituent for every sample of ds
 * (fnn_model_predict_proba()): the input of fnn_sharded_aggregate().
 * @return as fnn_model_predict_proba(), FNN_E_RANGE, FNN_E_STATE (not held
 *         or not trained). */
FNN_API int fnn_sharded_shard_proba(const fnn_sharded *s, uint32_t shard,
                                    const fnn_dataset *ds, float *out, size_t n);

/** Combines per-shard probabilities by the model's aggregation, shard by
 * shard in order (so a result does not depend on where they were computed).
 * @param shard_proba S * samples * classes floats, shard-major, each block as
 *        fnn_sharded_shard_proba() writes it.
 * @param proba receives samples * classes floats (may be NULL): the mean
 *        probabilities, or the vote shares for FNN_AGGREGATE_VOTE.
 * @param pred receives samples classes (may be NULL).
 * @return FNN_OK, FNN_E_NULL, FNN_E_SHAPE (n below S * samples * classes),
 *         FNN_E_STATE (the constituents' class count is unknown: no shard held
 *         and trained here, nor one loaded). */
FNN_API int fnn_sharded_aggregate(const fnn_sharded *s, const float *shard_proba, size_t n,
                                  size_t samples, float *proba, int32_t *pred);

/** Aggregated class probabilities (fnn_sharded_aggregate() of every shard).
 * @param out capacity n >= size * classes floats.
 * @return as fnn_model_predict_proba(), FNN_E_STATE (a shard not held or not
 *         trained). */
FNN_API int fnn_sharded_predict_proba(const fnn_sharded *s, const fnn_dataset *ds, float *out,
                                      size_t n);
/** Aggregated predictions. @return as fnn_sharded_predict_proba(). */
FNN_API int fnn_sharded_predict(const fnn_sharded *s, const fnn_dataset *ds, int32_t *out,
                                size_t n);
/** Accuracy of the aggregated predictions on ds (labels needed).
 * @return as fnn_sharded_predict_proba(), FNN_E_RANGE (a label). */
FNN_API int fnn_sharded_evaluate(const fnn_sharded *s, const fnn_dataset *ds,
                                 double *accuracy);

/** Forgets the training samples at `indices` (positions in train). Each
 * sample goes to its shard; every affected shard held here runs the method
 * of FNN_FORGET_METHOD:
 * - FNN_METHOD_RETRAIN: exact slice retraining: the shard is retrained, with
 *   the recipe, from the checkpoint before the first slice holding one of its
 *   forgotten samples (or before the first checkpoint that holds samples
 *   forgotten earlier by an inexact method, if that comes first); the result
 *   equals fnn_sharded_train_shard() on the retained samples, bit for bit.
 * - any other method: fnn_model_forget() on the constituent with a request
 *   for the shard's samples among its retained ones (holdout and opts as
 *   given); the shard's checkpoints from the first affected slice on are
 *   dropped, since they still hold the samples.
 * Unaffected shards and shards not held here are left exactly as they were;
 * the shards not held here must be served by the handles that hold them
 * (fnn_mpi_forget() does so). The samples are recorded as forgotten in the
 * held shards. Per-shard figures: fnn_sharded_shard_get(), FNN_SHARD_LAST_*.
 * @param opts NULL: FNN_METHOD_FNN with the defaults.
 * @return FNN_OK, FNN_E_NULL, FNN_E_EMPTY (n == 0, or a shard would keep no
 *         sample), FNN_E_RANGE, FNN_E_DUPLICATE, FNN_E_SHAPE (train),
 *         FNN_E_STATE (a sample was forgotten before, or its shard is not
 *         trained), or what the method returned. On failure every shard is
 *         left as it was. */
FNN_API int fnn_sharded_forget(fnn_sharded *s, const fnn_dataset *train,
                               const uint32_t *indices, size_t n, const fnn_dataset *holdout,
                               const fnn_forget_options *opts);

/** Saves the model: a manifest at `path` and one model file per constituent
 * and checkpoint beside it, named "<manifest name>.<shard>.<slice>.<generation>"
 * (docs/SCALE.md, "Files"). Files of shards unchanged since they were saved
 * to or loaded from `path` are kept as they are; changed shards get new
 * files (fnn_model_save(): temporary, sync, rename); then the manifest,
 * which records every file's size and SHA-256, replaces the old one
 * atomically, and only then are files the new manifest does not name
 * removed. A crash at any point leaves the old or the new set, whole. Every
 * shard must be held here (see fnn_sharded_save_shard() and
 * fnn_sharded_save_manifest() for a distributed save).
 * @return FNN_OK, FNN_E_NULL, FNN_E_STATE (a shard not held), FNN_E_IO,
 *         FNN_E_NOMEM. */
FNN_API int fnn_sharded_save(fnn_sharded *s, const char *path);

/** The first half of a distributed save: writes the files of shard `shard`
 * (held here) for the manifest that will be at `path`, as fnn_sharded_save()
 * does, without the manifest. Processes saving different shards of one
 * model may run it at once.
 * @return FNN_OK, FNN_E_NULL, FNN_E_RANGE, FNN_E_STATE, FNN_E_IO, FNN_E_NOMEM. */
FNN_API int fnn_sharded_save_shard(fnn_sharded *s, const char *path, uint32_t shard);

/** The second half: writes the manifest at `path` atomically, for files
 * written by fnn_sharded_save_shard() (here, or elsewhere and brought in with
 * fnn_sharded_shard_import()), then removes the files of earlier generations
 * at path that it does not name.
 * @return FNN_OK, FNN_E_NULL, FNN_E_STATE (a shard has no files for path, or
 *         its record here is out of date: released, or a request reached it
 *         while another handle held it, and not imported since), FNN_E_IO,
 *         FNN_E_NOMEM. */
FNN_API int fnn_sharded_save_manifest(fnn_sharded *s, const char *path);

/** Serialises the state of shard `shard` (forgotten samples, checkpoints,
 * files written for the last path): what another handle of the same model
 * needs to take it over with fnn_sharded_shard_import().
 * @param buf may be NULL when size is 0, to learn the size.
 * @param needed receives the size (required).
 * @return FNN_OK, FNN_E_NULL, FNN_E_RANGE, FNN_E_SHAPE (size < *needed),
 *         FNN_E_STATE (a trained shard changed since it was saved, or its
 *         record here is out of date). */
FNN_API int fnn_sharded_shard_export(const fnn_sharded *s, uint32_t shard, void *buf,
                                     size_t size, size_t *needed);

/** Replaces the state of a shard not held here by an exported one (checked
 * as a manifest's shard record is).
 * @return FNN_OK, FNN_E_NULL, FNN_E_STATE (the shard is held here),
 *         FNN_E_FORMAT, FNN_E_TRUNCATED, FNN_E_RANGE, FNN_E_NOMEM. */
FNN_API int fnn_sharded_shard_import(fnn_sharded *s, const void *buf, size_t size);

/** Loads a manifest saved by fnn_sharded_save(), checked as model files are
 * (docs/SCALE.md, "Reading"), and, when `hold_all` is non-zero, every
 * shard's files (fnn_sharded_hold()).
 * @return FNN_OK, FNN_E_NULL, FNN_E_IO, FNN_E_FORMAT, FNN_E_TRUNCATED,
 *         FNN_E_CHECKSUM, FNN_E_VERSION, FNN_E_SPEC, FNN_E_RANGE,
 *         FNN_E_NOMEM, and what loading a shard returns; err gets the message.
 * Ownership: free *out with fnn_sharded_free(). */
FNN_API int fnn_sharded_load(fnn_sharded **out, const char *path, int hold_all, char *err,
                             size_t err_size);

/** Loads the files of shard `shard` from beside the manifest it was loaded
 * from: each must have the size and SHA-256 the manifest records, load with
 * fnn_model_load_buffer(), have the model's specification, and record the
 * number of training samples its slices hold.
 * @return FNN_OK (also when already held), FNN_E_NULL, FNN_E_RANGE,
 *         FNN_E_STATE (no files to load, or the record here is out of date),
 *         FNN_E_IO, FNN_E_CHECKSUM (a
 *         file's digest), FNN_E_FORMAT, FNN_E_NOMEM, and what
 *         fnn_model_load_buffer() returns. */
FNN_API int fnn_sharded_hold(fnn_sharded *s, uint32_t shard);

/** Parses a manifest from a buffer, holding no shard.
 * @return as fnn_sharded_load() except FNN_E_IO. */
FNN_API int fnn_sharded_load_manifest_buffer(fnn_sharded **out, const void *buf, size_t size,
                                             char *err, size_t err_size);

#ifdef __cplusplus
}
#endif

#endif /* FNN_FNN_SHARDED_H */
