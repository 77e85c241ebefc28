/*
 * libfnn-mpi: sharded models (fnn_sharded.h) distributed over the ranks of
 * an MPI communicator. Shard k belongs to rank k mod P; every rank holds a
 * handle of the same model with the constituents of its own shards. Every
 * call here is collective: all ranks of `comm` make it with the same
 * arguments (a request's indices only need to be right on rank 0), and all
 * return the same status. When a rank fails, every rank returns its status
 * and `err` holds "rank R: <message>" everywhere; the handles may then differ
 * from rank to rank in memory, so the caller ends the job (fnn-mpi does),
 * and the files on disk stay the last set saved whole.
 */
#ifndef FNN_FNN_MPI_H
#define FNN_FNN_MPI_H

#include <mpi.h>

#include "fnn_sharded.h"

#if defined(FNN_MPI_BUILDING_LIBRARY) && defined(__GNUC__)
#define FNN_MPI_API __attribute__((visibility("default")))
#else
#define FNN_MPI_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** The rank that owns shard `shard` among `size` ranks: shard mod size. */
FNN_MPI_API int fnn_mpi_owner(uint32_t shard, int size);

/** Keeps in s the shards this rank owns and releases the others
 * (fnn_sharded_release()). Local, not collective. @return FNN_OK or FNN_E_NULL. */
FNN_MPI_API int fnn_mpi_distribute(fnn_sharded *s, MPI_Comm comm);

/** Loads the manifest at path on every rank and the files of the rank's own
 * shards (fnn_sharded_load(), fnn_sharded_hold()): a shared file system, or
 * per-node copies of the manifest and of the node's shard files.
 * @return as fnn_sharded_load(), on every rank. */
FNN_MPI_API int fnn_mpi_load(fnn_sharded **out, const char *path, MPI_Comm comm, char *err,
                             size_t err_size);

/** Trains the rank's own shards (fnn_sharded_train() on a distributed handle).
 * @param seconds receives this rank's training wall time (may be NULL).
 * @return as fnn_sharded_train_shard(). */
FNN_MPI_API int fnn_mpi_train(fnn_sharded *s, const fnn_dataset *train, double *seconds,
                              MPI_Comm comm, char *err, size_t err_size);

/** Aggregated predictions: each rank computes its shards' probabilities
 * (fnn_sharded_shard_proba()), an MPI_Reduce sums the shard-major blocks on
 * rank 0 (each block comes from one rank, so the sum is exact), and rank 0
 * aggregates them in shard order: the same result at any number of ranks.
 * @param proba, pred as fnn_sharded_aggregate(), read on rank 0 only (may be
 *        NULL elsewhere).
 * @return as fnn_sharded_predict_proba(). */
FNN_MPI_API int fnn_mpi_predict(const fnn_sharded *s, const fnn_dataset *ds, float *proba,
                                int32_t *pred, MPI_Comm comm, char *err, size_t err_size);

/** Accuracy of the aggregated predictions, on every rank. */
FNN_MPI_API int fnn_mpi_evaluate(const fnn_sharded *s, const fnn_dataset *ds,
                                 double *accuracy, MPI_Comm comm, char *err, size_t err_size);

/** Serves a deletion request: rank 0's indices are broadcast, and every rank
 * runs fnn_sharded_forget() on its shards; ranks that own none of the
 * affected shards do no work.
 * @param indices, n read on rank 0 (n is broadcast; others may pass NULL, 0).
 * @param seconds, flops receive this rank's cost (FNN_SHARD_LAST_SECONDS and
 *        FNN_SHARD_LAST_FLOPS summed over its shards; either may be NULL).
 * @return as fnn_sharded_forget(). */
FNN_MPI_API int fnn_mpi_forget(fnn_sharded *s, const fnn_dataset *train,
                               const uint32_t *indices, size_t n, const fnn_dataset *holdout,
                               const fnn_forget_options *opts, double *seconds, double *flops,
                               MPI_Comm comm, char *err, size_t err_size);

/** Saves the model at path: every rank writes its shards' files
 * (fnn_sharded_save_shard()); when all have, the shard records are gathered
 * on every rank (fnn_sharded_shard_export(), fnn_sharded_shard_import()) and
 * rank 0 replaces the manifest (fnn_sharded_save_manifest()). A rank that
 * dies before that leaves the old manifest and the files it names.
 * @return as fnn_sharded_save(). */
FNN_MPI_API int fnn_mpi_save(fnn_sharded *s, const char *path, MPI_Comm comm, char *err,
                             size_t err_size);

#ifdef __cplusplus
}
#endif

#endif /* FNN_FNN_MPI_H */
