/* libfnn-mpi: the sharded model's calls, collective over an MPI communicator.
 * Every call ends by agreeing on one status: the worst (most negative) of
 * the ranks', with the message of the lowest rank that has it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fnn/fnn_mpi.h"

enum { MSG = 256, CHUNK = 2048 };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Agrees on the status of a collective call: every rank gets the lowest
 * status and, in err, "rank R: message" of the lowest rank that has it. */
static int agree(int rc, const char *msg, MPI_Comm comm, char *err, size_t err_size)
{
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    struct {
        int rc, rank;
    } mine = {rc, rank}, worst;
    MPI_Allreduce(&mine, &worst, 1, MPI_2INT, MPI_MINLOC, comm);
    if (worst.rc == FNN_OK)
        return FNN_OK;
    char text[MSG];
    snprintf(text, sizeof text, "%s", msg ? msg : "");
    MPI_Bcast(text, MSG, MPI_CHAR, worst.rank, comm);
    if (err && err_size)
        snprintf(err, err_size, "rank %d: %s", worst.rank, text);
    return worst.rc;
}

FNN_MPI_API int fnn_mpi_owner(uint32_t shard, int size)
{
    return size > 0 ? (int)(shard % (uint32_t)size) : 0;
}

static int my_rank(MPI_Comm comm, int *size)
{
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, size);
    return rank;
}

FNN_MPI_API int fnn_mpi_distribute(fnn_sharded *s, MPI_Comm comm)
{
    if (!s)
        return FNN_E_NULL;
    int size, rank = my_rank(comm, &size);
    for (uint32_t k = 0; k < fnn_sharded_num_shards(s); k++)
        if (fnn_mpi_owner(k, size) != rank)
            fnn_sharded_release(s, k);
    return FNN_OK;
}

FNN_MPI_API int fnn_mpi_load(fnn_sharded **out, const char *path, MPI_Comm comm, char *err,
                             size_t err_size)
{
    char msg[MSG] = "";
    fnn_sharded *s = NULL;
    int size, rank = my_rank(comm, &size);
    int rc = fnn_sharded_load(&s, path, 0, msg, sizeof msg);
    for (uint32_t k = 0; rc == FNN_OK && k < fnn_sharded_num_shards(s); k++)
        if (fnn_mpi_owner(k, size) == rank && (rc = fnn_sharded_hold(s, k)) != FNN_OK)
            snprintf(msg, sizeof msg, "%s", fnn_sharded_errmsg(s));
    rc = agree(rc, msg, comm, err, err_size);
    if (rc != FNN_OK) {
        fnn_sharded_free(s);
        s = NULL;
    }
    if (out)
        *out = s;
    return rc;
}

FNN_MPI_API int fnn_mpi_train(fnn_sharded *s, const fnn_dataset *train, double *seconds,
                              MPI_Comm comm, char *err, size_t err_size)
{
    double t0 = now();
    int rc = s ? fnn_mpi_distribute(s, comm) : FNN_E_NULL;
    if (rc == FNN_OK)
        rc = fnn_sharded_train(s, train);
    if (seconds)
        *seconds = now() - t0;
    return agree(rc, s ? fnn_sharded_errmsg(s) : "the model is NULL", comm, err, err_size);
}

/* The aggregated predictions of samples [first, first + count) of ds. */
static int predict_chunk(const fnn_sharded *s, const fnn_dataset *ds, size_t first,
                         size_t count, float *block, float *sum, float *proba, int32_t *pred,
                         MPI_Comm comm, char *msg)
{
    uint32_t S = fnn_sharded_num_shards(s);
    int size, rank = my_rank(comm, &size);
    size_t C = 0, per;
    uint32_t *pos = malloc(count * sizeof *pos);
    fnn_dataset *part = NULL;
    int rc = pos ? FNN_OK : FNN_E_NOMEM;
    for (size_t i = 0; rc == FNN_OK && i < count; i++)
        pos[i] = (uint32_t)(first + i);
    if (rc == FNN_OK)
        rc = fnn_dataset_subset((fnn_dataset *)ds, pos, count, &part);
    for (uint32_t k = 0; k < S && !C; k++)
        if (fnn_sharded_constituent(s, k))
            C = fnn_model_num_classes(fnn_sharded_constituent(s, k));
    /* Ranks without a shard learn the class count from the others. */
    unsigned long c = (unsigned long)C, cmax = 0;
    MPI_Allreduce(&c, &cmax, 1, MPI_UNSIGNED_LONG, MPI_MAX, comm);
    C = (size_t)cmax;
    per = count * C;
    memset(block, 0, (size_t)S * per * sizeof *block);
    for (uint32_t k = 0; rc == FNN_OK && k < S; k++)
        if (fnn_mpi_owner(k, size) == rank)
            rc = fnn_sharded_shard_proba(s, k, part, block + (size_t)k * per, per);
    if (rc != FNN_OK)
        snprintf(msg, MSG, "%s", rc == FNN_E_NOMEM ? "out of memory" : fnn_sharded_errmsg(s));
    fnn_dataset_free(part);
    free(pos);
    /* Every rank takes part in the reduction, failed or not. */
    int status = agree(rc, msg, comm, msg, MSG);
    if (status != FNN_OK)
        return status;
    MPI_Reduce(block, sum, (int)((size_t)S * per), MPI_FLOAT, MPI_SUM, 0, comm);
    if (rank == 0)
        rc = fnn_sharded_aggregate(s, sum, (size_t)S * per, count, proba ? proba + first * C : NULL,
                                   pred ? pred + first : NULL);
    return rc;
}

FNN_MPI_API int fnn_mpi_predict(const fnn_sharded *s, const fnn_dataset *ds, float *proba,
                                int32_t *pred, MPI_Comm comm, char *err, size_t err_size)
{
    char msg[MSG] = "";
    int rc = s && ds ? FNN_OK : FNN_E_NULL;
    size_t n = ds ? fnn_dataset_size(ds) : 0, C = 0;
    for (uint32_t k = 0; s && k < fnn_sharded_num_shards(s) && !C; k++)
        if (fnn_sharded_constituent(s, k))
            C = fnn_model_num_classes(fnn_sharded_constituent(s, k));
    unsigned long c = (unsigned long)C, cmax = 0;
    MPI_Allreduce(&c, &cmax, 1, MPI_UNSIGNED_LONG, MPI_MAX, comm);
    C = (size_t)cmax;
    uint32_t S = s ? fnn_sharded_num_shards(s) : 0;
    float *block = NULL, *sum = NULL;
    if (rc == FNN_OK) {
        block = malloc((size_t)S * CHUNK * (C ? C : 1) * sizeof *block);
        sum = malloc((size_t)S * CHUNK * (C ? C : 1) * sizeof *sum);
        if (!block || !sum)
            rc = FNN_E_NOMEM;
    }
    snprintf(msg, sizeof msg, "%s", rc == FNN_E_NULL ? "the model or the data set is NULL"
                                                     : "out of memory");
    rc = agree(rc, msg, comm, err, err_size);
    for (size_t first = 0; rc == FNN_OK && first < n; first += CHUNK) {
        size_t count = n - first < CHUNK ? n - first : CHUNK;
        rc = predict_chunk(s, ds, first, count, block, sum, proba, pred, comm, msg);
        rc = agree(rc, msg, comm, err, err_size);
    }
    free(block);
    free(sum);
    return rc;
}

FNN_MPI_API int fnn_mpi_evaluate(const fnn_sharded *s, const fnn_dataset *ds,
                                 double *accuracy, MPI_Comm comm, char *err, size_t err_size)
{
    size_t n = ds ? fnn_dataset_size(ds) : 0;
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    int32_t *pred = malloc((n ? n : 1) * sizeof *pred), *y = malloc((n ? n : 1) * sizeof *y);
    int rc = agree(pred && y ? FNN_OK : FNN_E_NOMEM, "out of memory", comm, err, err_size);
    if (rc == FNN_OK)
        rc = fnn_mpi_predict(s, ds, NULL, pred, comm, err, err_size);
    double acc = 0;
    if (rc == FNN_OK) {
        int lrc = FNN_OK;
        if (rank == 0 && (lrc = fnn_dataset_labels((fnn_dataset *)ds, y, n)) == FNN_OK) {
            size_t hits = 0;
            for (size_t i = 0; i < n; i++)
                hits += pred[i] == y[i];
            acc = n ? (double)hits / (double)n : 0.0;
        }
        rc = agree(lrc, "cannot read the labels", comm, err, err_size);
        MPI_Bcast(&acc, 1, MPI_DOUBLE, 0, comm);
    }
    if (rc == FNN_OK && accuracy)
        *accuracy = acc;
    free(pred);
    free(y);
    return rc;
}

FNN_MPI_API int fnn_mpi_forget(fnn_sharded *s, const fnn_dataset *train,
                               const uint32_t *indices, size_t n, const fnn_dataset *holdout,
                               const fnn_forget_options *opts, double *seconds, double *flops,
                               MPI_Comm comm, char *err, size_t err_size)
{
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    unsigned long count = (unsigned long)n;
    MPI_Bcast(&count, 1, MPI_UNSIGNED_LONG, 0, comm);
    uint32_t *idx = malloc((count ? count : 1) * sizeof *idx);
    int rc = idx ? FNN_OK : FNN_E_NOMEM;
    if (rc == FNN_OK && rank == 0 && count)
        memcpy(idx, indices, count * sizeof *idx);
    if ((rc = agree(rc, "out of memory for the request", comm, err, err_size)) != FNN_OK) {
        free(idx);
        return rc;
    }
    MPI_Bcast(idx, (int)count, MPI_UINT32_T, 0, comm);
    rc = s ? fnn_sharded_forget(s, train, idx, (size_t)count, holdout, opts) : FNN_E_NULL;
    double sec = 0, fl = 0;
    for (uint32_t k = 0; rc == FNN_OK && k < fnn_sharded_num_shards(s); k++) {
        double v = 0;
        fnn_sharded_shard_get(s, k, FNN_SHARD_LAST_SECONDS, &v);
        sec += v;
        fnn_sharded_shard_get(s, k, FNN_SHARD_LAST_FLOPS, &v);
        fl += v;
    }
    if (seconds)
        *seconds = sec;
    if (flops)
        *flops = fl;
    free(idx);
    return agree(rc, s ? fnn_sharded_errmsg(s) : "the model is NULL", comm, err, err_size);
}

FNN_MPI_API int fnn_mpi_save(fnn_sharded *s, const char *path, MPI_Comm comm, char *err,
                             size_t err_size)
{
    char msg[MSG] = "";
    int size, rank = my_rank(comm, &size);
    int rc = s && path ? FNN_OK : FNN_E_NULL;
    uint32_t S = s ? fnn_sharded_num_shards(s) : 0;
    /* 1. Every rank writes its shards' files. */
    for (uint32_t k = 0; rc == FNN_OK && k < S; k++)
        if (fnn_mpi_owner(k, size) == rank)
            rc = fnn_sharded_save_shard(s, path, k);
    if ((rc = agree(rc, s ? fnn_sharded_errmsg(s) : "NULL argument", comm, err, err_size)))
        return rc;
    /* 2. Their records, each behind its length, go to every rank. */
    size_t mine = 0, need;
    for (uint32_t k = 0; rc == FNN_OK && k < S; k++)
        if (fnn_mpi_owner(k, size) == rank &&
            (rc = fnn_sharded_shard_export(s, k, NULL, 0, &need)) == FNN_OK)
            mine += 4 + need;
    uint8_t *out = rc == FNN_OK ? malloc(mine ? mine : 1) : NULL, *p = out;
    if (rc == FNN_OK && !out)
        rc = FNN_E_NOMEM;
    for (uint32_t k = 0; rc == FNN_OK && k < S; k++)
        if (fnn_mpi_owner(k, size) == rank) {
            fnn_sharded_shard_export(s, k, NULL, 0, &need);
            uint32_t len = (uint32_t)need;
            memcpy(p, &len, 4);
            rc = fnn_sharded_shard_export(s, k, p + 4, need, &need);
            p += 4 + need;
        }
    snprintf(msg, sizeof msg, "%s", rc == FNN_E_NOMEM ? "out of memory" : fnn_sharded_errmsg(s));
    if ((rc = agree(rc, msg, comm, err, err_size)) != FNN_OK) {
        free(out);
        return rc;
    }
    int len = (int)mine, *lens = malloc((size_t)size * sizeof *lens),
        *offs = malloc((size_t)size * sizeof *offs);
    MPI_Allgather(&len, 1, MPI_INT, lens, 1, MPI_INT, comm);
    size_t total = 0;
    for (int r = 0; r < size; r++) {
        offs[r] = (int)total;
        total += (size_t)lens[r];
    }
    uint8_t *all = malloc(total ? total : 1);
    MPI_Allgatherv(out, len, MPI_BYTE, all, lens, offs, MPI_BYTE, comm);
    for (int r = 0; r < size; r++) {
        if (r == rank)
            continue;
        for (size_t at = (size_t)offs[r]; rc == FNN_OK && at < (size_t)offs[r] + lens[r];) {
            uint32_t rl;
            memcpy(&rl, all + at, 4);
            rc = fnn_sharded_shard_import(s, all + at + 4, rl);
            at += 4 + rl;
        }
    }
    free(out);
    free(all);
    free(lens);
    free(offs);
    if ((rc = agree(rc, fnn_sharded_errmsg(s), comm, err, err_size)) != FNN_OK)
        return rc;
    /* 3. Rank 0 replaces the manifest. */
    if (rank == 0)
        rc = fnn_sharded_save_manifest(s, path);
    return agree(rc, fnn_sharded_errmsg(s), comm, err, err_size);
}
