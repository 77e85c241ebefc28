/* Sharded models (internal): the handle shared by sharded.c (assignment,
 * training, prediction, forgetting) and sharded_file.c (the manifest). */
#ifndef FNN_SHARDED_INTERNAL_H
#define FNN_SHARDED_INTERNAL_H

#include "fnn/fnn_sharded.h"
#include "internal.h"

/* One model file of a shard: a checkpoint or the constituent. */
typedef struct fnn__shard_file {
    uint64_t size;
    uint8_t sha[32];
} fnn__shard_file;

typedef struct fnn__shard {
    size_t first, n;           /* positions [first, first + n) of the permutation */
    size_t n_removed;
    int trained;
    uint32_t exact;            /* leading checkpoints that hold only retained samples */
    uint32_t requests;         /* deletion requests served */
    /* Held here: ckpt[j] is the model after stage j + 1 (slices 0..j), or NULL
     * when dropped; ckpt[R - 1] is the constituent. NULL array: not held. */
    fnn_model **ckpt;
    /* The files of the shard's state at the handle's path (clean), in
     * order: checkpoints 0 .. n_files - 2, then the constituent. */
    fnn__shard_file *files;
    uint32_t n_files;
    int clean;
    /* Not held, and the record may be out of date: released, or a request
     * reached the shard elsewhere since it was loaded or imported. */
    int stale;
    /* The last fnn_sharded_forget(). */
    double last[FNN_SHARD_TRAIN_FLOPS + 1];
} fnn__shard;

struct fnn_sharded {
    char *spec_text;           /* canonical */
    uint32_t in_c;             /* input channels */
    uint32_t classes;
    size_t n;                  /* training-set size N */
    uint32_t S, R;
    uint64_t seed;
    int aggregation;           /* enum fnn_aggregation */
    uint32_t *perm;            /* N: the assignment permutation */
    uint32_t *inv;             /* N: position of each sample in perm */
    uint8_t *removed;          /* N flags: forgotten */
    fnn_train_options recipe;
    fnn__shard *shards;        /* S */
    char *path;                /* manifest the files belong to, or NULL */
    char errmsg[FNN__ERRMSG_SIZE];
};

/* Number of stages whose checkpoints are stored as files. */
uint32_t fnn__shard_stored(const fnn_sharded *s, const fnn__shard *sh);
/* The seed constituent k is created (and re-initialised) from. */
uint64_t fnn__shard_init_seed(const fnn_sharded *s, uint32_t k);
/* The most samples a sharded model may hold: FNN_SHARDED_MAX_SAMPLES. The
 * manifest fuzz target lowers it, since a manifest of a few hundred bytes
 * may declare that many and each load then builds a permutation of them
 * (seconds under the sanitizers). */
extern size_t fnn__sharded_max_samples;
/* Allocates a handle for the parsed fields (spec text, N, S, R, seed), with
 * its permutation and shards; holds nothing. */
int fnn__sharded_alloc(const char *spec, size_t n, uint32_t S, uint32_t R, uint64_t seed,
                       fnn_sharded **out, char *err, size_t err_size);
/* Frees the models of shard k (it is no longer held). */
void fnn__shard_release(fnn__shard *sh, uint32_t R);
/* Serialises the manifest (every shard's record). */
int fnn__sharded_serialize(const fnn_sharded *s, uint8_t **buf, size_t *len);
/* Parses a manifest buffer into a new handle that holds no shard. */
int fnn__sharded_parse(const uint8_t *buf, size_t len, fnn_sharded **out, char *err,
                       size_t err_size);

#endif
