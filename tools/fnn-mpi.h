/* Shared parts of the fnn-mpi command (fnn-mpi.c) and its bench
 * (fnn-mpi-bench.c). */
#ifndef FNN_MPI_CLI_H
#define FNN_MPI_CLI_H

#include <stdio.h>

#include <fnn/fnn_mpi.h>

#include "cli.h"

extern int rank, nranks;
extern MPI_Comm comm;

/* Reports a failure every rank saw (the library agreed on it); EXIT_FAIL. */
int mpi_fail(int st, const char *err, const char *what);
/* Agrees on a step every rank did alone: 1 when all succeeded. */
int all_ok(int ok, const char *what);
/* Gathers a per-rank pair of figures on rank 0 (nranks entries each). */
void gather2(double a, double b, double *all_a, double *all_b);
double sum_of(const double *v, int n);
double max_of(const double *v, int n);
/* "0 2 4 6": the shards of rank r. */
const char *owned(uint32_t S, int r, char *buf, size_t size);
/* Prints a line per rank and the totals of a step (on rank 0). */
void print_costs(const char *what, uint32_t S, double sec, double flops);
/* Loads the train and test splits of dir on every rank. */
int load_data(const char *dir, fnn_dataset **train, fnn_dataset **test);
/* The recipe of arch: its preset, the keys of kv, FNN_TRAIN_SEED = seed. */
fnn_train_options *make_recipe(const struct command *cmd, const char *arch,
                               const struct keyval *kv, size_t nkv, uint64_t seed);

/* fnn-mpi bench (fnn-mpi-bench.c); the fnn command's bench has the same
 * names in cli.h, and the two programs link one each. */

#endif
