/*
 * fnn-mpi: sharded (SISA) models distributed over MPI ranks (libfnn-mpi).
 * Shard k belongs to rank k mod P; every rank loads the data sets itself.
 * Every rank reports its cost and rank 0 prints the totals; a failure on any
 * rank is reported on every rank, which then exits with status 1.
 *
 *   mpirun -np 2 fnn-mpi train --data data/fashion-mnist --shards 8 --out m.fnns
 *   mpirun -np 2 fnn-mpi forget --model m.fnns --data data/fashion-mnist --forget-random 5
 *   mpirun -np 2 fnn-mpi eval --model m.fnns --data data/fashion-mnist
 *   mpirun -np 2 fnn-mpi bench --quick
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fnn/fnn_mpi.h>

#include "cli.h"
#include "fnn-mpi.h"

int rank, nranks;
MPI_Comm comm;

/* A failure every rank saw (the library agreed on it): each says so. */
int mpi_fail(int st, const char *err, const char *what)
{
    fprintf(stderr, "fnn-mpi: rank %d of %d: %s: %s (%s)\n", rank, nranks, what, err,
            fnn_strerror(st));
    return EXIT_FAIL;
}

/* Agrees on a step the tool did on every rank alone: 1 when all succeeded;
 * else every rank that succeeded says which one failed. */
int all_ok(int ok, const char *what)
{
    struct {
        int ok, rank;
    } mine = {ok ? 1 : 0, rank}, worst;
    MPI_Allreduce(&mine, &worst, 1, MPI_2INT, MPI_MINLOC, comm);
    if (!worst.ok && ok)
        fprintf(stderr, "fnn-mpi: rank %d of %d: %s failed on rank %d (see its message)\n",
                rank, nranks, what, worst.rank);
    return worst.ok;
}

/* Per-rank figures gathered on rank 0: sum and maximum. */
void gather2(double a, double b, double *all_a, double *all_b)
{
    MPI_Gather(&a, 1, MPI_DOUBLE, all_a, 1, MPI_DOUBLE, 0, comm);
    MPI_Gather(&b, 1, MPI_DOUBLE, all_b, 1, MPI_DOUBLE, 0, comm);
}

double sum_of(const double *v, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += v[i];
    return s;
}

double max_of(const double *v, int n)
{
    double m = 0;
    for (int i = 0; i < n; i++)
        m = v[i] > m ? v[i] : m;
    return m;
}

/* "0 2 4 6": the shards of rank r. */
const char *owned(uint32_t S, int r, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (uint32_t k = 0; k < S && len + 12 < size; k++)
        if (fnn_mpi_owner(k, nranks) == r)
            len += (size_t)snprintf(buf + len, size - len, "%s%u", len ? " " : "", k);
    return len ? buf : "none";
}

/* Prints one line per rank and the totals of a collective step (rank 0). */
void print_costs(const char *what, uint32_t S, double sec, double flops)
{
    double *as = malloc((size_t)nranks * sizeof *as), *af = malloc((size_t)nranks * sizeof *af);
    gather2(sec, flops, as, af);
    if (rank == 0) {
        char buf[256];
        for (int r = 0; r < nranks; r++)
            printf("rank %d (shards %s): %s %.2f s, %.3g FLOPs\n", r, owned(S, r, buf, sizeof buf),
                   what, as[r], af[r]);
        printf("total: %s %.2f s over %d rank(s) (slowest rank %.2f s), %.3g FLOPs\n", what,
               sum_of(as, nranks), nranks, max_of(as, nranks), sum_of(af, nranks));
    }
    free(as);
    free(af);
}

/* Loads the train and test splits of dir on every rank. */
int load_data(const char *dir, fnn_dataset **train, fnn_dataset **test)
{
    int ok = load_split(dir, FNN_SPLIT_TRAIN, train) == EXIT_OK &&
             load_split(dir, FNN_SPLIT_TEST, test) == EXIT_OK;
    return all_ok(ok, "loading the data");
}

/* The recipe of arch: its preset (if it is one) with the keys of kv on top
 * and FNN_TRAIN_SEED = seed. */
fnn_train_options *make_recipe(const struct command *cmd, const char *arch,
                                      const struct keyval *kv, size_t nkv, uint64_t seed)
{
    fnn_train_options *o = NULL;
    int preset;
    if (fnn_train_options_create(&o) != FNN_OK)
        return NULL;
    if (fnn_name_lookup(FNN_NAMES_PRESET, arch, &preset) == FNN_OK)
        fnn_train_options_preset(o, arch);
    if (fnn_train_options_set_u64(o, FNN_TRAIN_SEED, seed) != FNN_OK ||
        apply_keys(cmd, kv, nkv, o, NULL) != EXIT_OK) {
        fnn_train_options_free(o);
        return NULL;
    }
    return o;
}

/* The pool a sharded model is assigned to: the train split, or, when the
 * model is smaller, the split `fnn train --holdout` makes with its seed. */
static int model_pool(const fnn_sharded *s, struct split *sp)
{
    fnn_train_options *r = NULL;
    uint64_t seed = 0;
    size_t n = fnn_dataset_size(sp->train), N = fnn_sharded_train_size(s);
    if (fnn_sharded_recipe(s, &r, NULL) != FNN_OK)
        return EXIT_FAIL;
    fnn_train_options_get_u64(r, FNN_TRAIN_SEED, &seed);
    fnn_train_options_free(r);
    if (N > n) {
        fprintf(stderr, "fnn-mpi: the model is assigned to %zu samples, the train split has %zu\n",
                N, n);
        return EXIT_FAIL;
    }
    if (N == n)
        return EXIT_OK;
    return make_split(sp, n - N, 0, seed);
}

/* ---- train ------------------------------------------------------------------------ */

static struct opt train_opts[] = {
    OPT("data", "DIR", "MNIST-style data directory (required)"),
    OPT("arch", "ARCH", "a preset or specification [mlp]"),
    OPT("shards", "S", "shards [8]"),
    OPT("slices", "R", "slices per shard, each with a checkpoint [4]"),
    OPT("seed", "N", "seed of the assignment, the initialisation and training [0]"),
    OPT("holdout", "N", "hold N samples of the train split out (as fnn train) [0]"),
    OPT("out", "FILE", "the manifest to write (required)"),
};
enum { T_DATA, T_ARCH, T_SHARDS, T_SLICES, T_SEED, T_HOLDOUT, T_OUT };

static void train_help(FILE *f)
{
    fputs("Usage: mpirun -np P fnn-mpi train --data DIR --out FILE [OPTIONS]\n\n"
          "Trains a sharded model: rank r trains the shards k with k mod P = r, each in\n"
          "its slices with the preset's recipe (FNN_TRAIN_EPOCHS epochs per stage), and\n"
          "the manifest and shard files are saved at FILE.\n\n",
          f);
    for (size_t k = 0; k < COUNT(train_opts); k++)
        print_option_help(f, train_opts[k].name, train_opts[k].arg, train_opts[k].help, NULL);
    fputs("\nThe training options of fnn train (--epochs, --lr, ...) change the recipe.\n", f);
}

static int cmd_train(const struct command *cmd, int argc, char **argv)
{
    struct opt o[COUNT(train_opts)];
    memcpy(o, train_opts, sizeof o);
    struct keyval *kv = calloc((size_t)argc, sizeof *kv);
    size_t nkv = 0;
    uint64_t S = 8, R = 4, seed = 0, holdout = 0;
    int p = parse_args(cmd, argc, argv, o, COUNT(o), KEYS_TRAIN, kv, &nkv);
    int rc = p == PARSE_HELP ? EXIT_OK : EXIT_USAGE;
    static const char *const required[] = {"data", "out", NULL};
    if (p == PARSE_OK && (check_required(cmd, o, COUNT(o), required) ||
                          opt_uint(cmd, &o[T_SHARDS], 1, FNN_SHARDED_MAX_SHARDS, &S) ||
                          opt_uint(cmd, &o[T_SLICES], 1, FNN_SHARDED_MAX_SLICES, &R) ||
                          opt_uint(cmd, &o[T_SEED], 0, UINT64_MAX, &seed) ||
                          opt_uint(cmd, &o[T_HOLDOUT], 0, UINT32_MAX, &holdout)))
        p = PARSE_ERROR;
    if (p != PARSE_OK) {
        free(kv);
        return rc;
    }
    const char *arch = o[T_ARCH].value ? o[T_ARCH].value : "mlp";
    struct split sp = {0};
    fnn_sharded *s = NULL;
    fnn_train_options *recipe = make_recipe(cmd, arch, kv, nkv, seed);
    char err[512] = "";
    rc = EXIT_FAIL;
    if (!all_ok(recipe != NULL, "the recipe") ||
        !load_data(o[T_DATA].value, &sp.train, &sp.test) ||
        !all_ok(!holdout || make_split(&sp, holdout, 0, seed) == EXIT_OK, "splitting"))
        goto done;
    fnn_dataset *pool = sp.pool ? sp.pool : sp.train;
    int st = fnn_sharded_create(&s, arch, fnn_dataset_size(pool), (uint32_t)S, (uint32_t)R,
                                seed, recipe, err, sizeof err);
    if (!all_ok(st == FNN_OK, "creating the model")) {
        if (st != FNN_OK)
            mpi_fail(st, err, "creating the sharded model");
        goto done;
    }
    double sec = 0, flops = 0, acc = 0;
    if ((st = fnn_mpi_train(s, pool, &sec, comm, err, sizeof err)) != FNN_OK) {
        mpi_fail(st, err, "training");
        goto done;
    }
    for (uint32_t k = 0; k < S; k++) {
        double v = 0;
        fnn_sharded_shard_get(s, k, FNN_SHARD_TRAIN_FLOPS, &v);
        flops += v;
    }
    print_costs("trained in", (uint32_t)S, sec, flops);
    if ((st = fnn_mpi_evaluate(s, sp.test, &acc, comm, err, sizeof err)) != FNN_OK) {
        mpi_fail(st, err, "evaluating");
        goto done;
    }
    if ((st = fnn_mpi_save(s, o[T_OUT].value, comm, err, sizeof err)) != FNN_OK) {
        mpi_fail(st, err, "saving");
        goto done;
    }
    if (rank == 0)
        printf("test accuracy %.2f%% (%" PRIu64 " shards, %" PRIu64 " slices, %zu samples); "
               "saved %s\n",
               100.0 * acc, S, R, fnn_dataset_size(pool), o[T_OUT].value);
    rc = EXIT_OK;
done:
    fnn_sharded_free(s);
    fnn_train_options_free(recipe);
    split_free(&sp);
    fnn_dataset_free(sp.train);
    fnn_dataset_free(sp.test);
    free(kv);
    return rc;
}

/* ---- eval ---------------------------------------------------------------------------- */

static struct opt eval_opts[] = {
    OPT("model", "FILE", "the manifest (required)"),
    OPT("data", "DIR", "MNIST-style data directory; its test split is evaluated (required)"),
    OPT("proba", "FILE", "write the aggregated class probabilities of the test split there, "
                         "float32 little-endian, sample by sample"),
};

static void eval_help(FILE *f)
{
    fputs("Usage: mpirun -np P fnn-mpi eval --model FILE --data DIR\n\n"
          "Loads a sharded model (each rank its own shards) and prints the test accuracy\n"
          "of its aggregated predictions, summed over the ranks by a reduction.\n\n",
          f);
    for (size_t k = 0; k < COUNT(eval_opts); k++)
        print_option_help(f, eval_opts[k].name, eval_opts[k].arg, eval_opts[k].help, NULL);
}

static int cmd_eval(const struct command *cmd, int argc, char **argv)
{
    struct opt o[COUNT(eval_opts)];
    memcpy(o, eval_opts, sizeof o);
    size_t nkv;
    int p = parse_args(cmd, argc, argv, o, COUNT(o), 0, NULL, &nkv);
    static const char *const required[] = {"model", "data", NULL};
    if (p == PARSE_OK && check_required(cmd, o, COUNT(o), required))
        p = PARSE_ERROR;
    if (p != PARSE_OK)
        return p == PARSE_HELP ? EXIT_OK : EXIT_USAGE;
    fnn_dataset *train = NULL, *test = NULL;
    fnn_sharded *s = NULL;
    char err[512] = "";
    int rc = EXIT_FAIL, st;
    double acc = 0, t0 = now_seconds();
    float *proba = NULL;
    if (!load_data(o[1].value, &train, &test))
        goto done;
    if ((st = fnn_mpi_load(&s, o[0].value, comm, err, sizeof err)) != FNN_OK) {
        mpi_fail(st, err, "loading the model");
        goto done;
    }
    if ((st = fnn_mpi_evaluate(s, test, &acc, comm, err, sizeof err)) != FNN_OK) {
        mpi_fail(st, err, "evaluating");
        goto done;
    }
    if (o[2].value) {
        size_t n = fnn_dataset_size(test) * fnn_dataset_num_classes(test);
        proba = malloc(n * sizeof *proba);
        if (!all_ok(proba != NULL, "allocating the probabilities"))
            goto done;
        if ((st = fnn_mpi_predict(s, test, proba, NULL, comm, err, sizeof err)) != FNN_OK) {
            mpi_fail(st, err, "predicting");
            goto done;
        }
        int ok = 1;
        if (rank == 0) {
            FILE *f = fopen(o[2].value, "wb");
            for (size_t i = 0; f && i < n; i++) {
                uint32_t u;
                memcpy(&u, &proba[i], 4);
                uint8_t b[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16),
                                (uint8_t)(u >> 24)};
                fwrite(b, 1, 4, f);
            }
            ok = f && !ferror(f) && fclose(f) == 0;
            if (!ok)
                fprintf(stderr, "fnn-mpi: --proba %s: cannot write\n", o[2].value);
        }
        if (!all_ok(ok, "writing the probabilities"))
            goto done;
    }
    if (rank == 0) {
        uint32_t S = fnn_sharded_num_shards(s);
        double forgotten = 0;
        for (uint32_t k = 0; k < S; k++) {
            double v[5] = {0};
            static const int keys[5] = {FNN_SHARD_SAMPLES, FNN_SHARD_FORGOTTEN,
                                        FNN_SHARD_EXACT_SLICES, FNN_SHARD_REQUESTS,
                                        FNN_SHARD_TRAINED};
            for (int i = 0; i < 5; i++)
                fnn_sharded_shard_get(s, k, keys[i], &v[i]);
            forgotten += v[1];
            printf("shard %u: %.0f samples, %.0f forgotten, %.0f exact slices, %.0f requests%s\n",
                   k, v[0], v[1], v[2], v[3], v[4] ? "" : ", untrained");
        }
        printf("test accuracy %.2f%% (%u shards, %u slices, %zu samples, %.0f forgotten; "
               "%d rank(s), %.2f s)\n",
               100.0 * acc, S, fnn_sharded_num_slices(s), fnn_sharded_train_size(s), forgotten,
               nranks, now_seconds() - t0);
    }
    rc = EXIT_OK;
done:
    free(proba);
    fnn_sharded_free(s);
    fnn_dataset_free(train);
    fnn_dataset_free(test);
    return rc;
}

/* ---- forget ------------------------------------------------------------------------ */

static struct opt forget_opts[] = {
    OPT("model", "FILE", "the manifest (required)"),
    OPT("data", "DIR", "the MNIST-style data directory the model trained on (required)"),
    OPT("forget-random", "N", "forget N samples of the model's pool drawn by --seed"),
    OPT("forget-indices", "FILE", "forget the train-split samples listed in FILE"),
    OPT("seed", "N", "seed of --forget-random and of the method [0]"),
    OPT("out", "FILE", "where to save the result [--model]"),
};
enum { F_MODEL, F_DATA, F_RANDOM, F_INDICES, F_SEED, F_OUT };

static void forget_help(FILE *f)
{
    fputs("Usage: mpirun -np P fnn-mpi forget --model FILE --data DIR\n"
          "                                 (--forget-random N | --forget-indices FILE)\n"
          "                                 [--method NAME] [OPTIONS]\n\n"
          "Serves a deletion request: rank 0's request is broadcast, and only the ranks\n"
          "that own shards holding its samples work. --method retrain (the default here)\n"
          "retrains each affected shard from the checkpoint before its first affected\n"
          "slice (exact); any other method runs fnn_model_forget() on each affected\n"
          "constituent. Every rank reports its cost; rank 0 prints the totals.\n\n",
          f);
    for (size_t k = 0; k < COUNT(forget_opts); k++)
        print_option_help(f, forget_opts[k].name, forget_opts[k].arg, forget_opts[k].help,
                          NULL);
    fputs("\nThe unlearning options of fnn forget (--method, --max-t, ...) apply.\n", f);
}

static char *read_text(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    while (b) {
        n += fread(b + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *nb = realloc(b, cap *= 2);
        if (!nb) {
            free(b);
            b = NULL;
        }
        b = nb;
    }
    fclose(f);
    *len = n;
    return b;
}

static int cmd_forget(const struct command *cmd, int argc, char **argv)
{
    struct opt o[COUNT(forget_opts)];
    memcpy(o, forget_opts, sizeof o);
    struct keyval *kv = calloc((size_t)argc, sizeof *kv);
    size_t nkv = 0;
    uint64_t seed = 0, count = 0;
    int p = parse_args(cmd, argc, argv, o, COUNT(o), KEYS_FORGET | KEYS_TRAIN, kv, &nkv);
    int rc = p == PARSE_HELP ? EXIT_OK : EXIT_USAGE;
    static const char *const required[] = {"model", "data", NULL};
    if (p == PARSE_OK && (check_required(cmd, o, COUNT(o), required) ||
                          opt_uint(cmd, &o[F_SEED], 0, UINT64_MAX, &seed) ||
                          opt_uint(cmd, &o[F_RANDOM], 1, UINT32_MAX, &count)))
        p = PARSE_ERROR;
    if (p == PARSE_OK && !o[F_RANDOM].value == !o[F_INDICES].value) {
        usage_error(cmd, "forget: give one of --forget-random and --forget-indices");
        p = PARSE_ERROR;
    }
    if (p != PARSE_OK) {
        free(kv);
        return rc;
    }
    struct split sp = {0};
    fnn_sharded *s = NULL;
    fnn_forget_options *fo = NULL;
    fnn_forget_request *req = NULL;
    uint32_t *idx = NULL;
    size_t n = 0;
    char err[512] = "";
    int st, ok;
    rc = EXIT_FAIL;
    ok = fnn_forget_options_create(&fo) == FNN_OK &&
         fnn_forget_options_set(fo, FNN_FORGET_METHOD, FNN_METHOD_RETRAIN) == FNN_OK &&
         fnn_forget_options_set_u64(fo, FNN_FORGET_SEED, seed) == FNN_OK &&
         apply_keys(cmd, kv, nkv, NULL, fo) == EXIT_OK;
    if (!all_ok(ok, "the unlearning options") || !load_data(o[F_DATA].value, &sp.train, &sp.test))
        goto done;
    if ((st = fnn_mpi_load(&s, o[F_MODEL].value, comm, err, sizeof err)) != FNN_OK) {
        mpi_fail(st, err, "loading the model");
        goto done;
    }
    if (!all_ok(model_pool(s, &sp) == EXIT_OK, "finding the model's samples"))
        goto done;
    fnn_dataset *pool = sp.pool ? sp.pool : sp.train;
    /* The request, on rank 0 (it is broadcast). */
    ok = 1;
    if (rank == 0) {
        size_t len = 0;
        char *text = o[F_INDICES].value ? read_text(o[F_INDICES].value, &len) : NULL;
        if (o[F_INDICES].value && !text) {
            fprintf(stderr, "fnn-mpi: --forget-indices %s: %s\n", o[F_INDICES].value,
                    strerror(errno));
            ok = 0;
        } else {
            ok = request_from_args(&sp, text ? "forget-indices" : "forget-random",
                                   o[F_RANDOM].value ? o[F_RANDOM].value : o[F_INDICES].value,
                                   text, len, seed, &req) == EXIT_OK;
        }
        free(text);
        n = ok ? fnn_forget_request_size(req) : 0;
        idx = malloc((n ? n : 1) * sizeof *idx);
        ok = ok && idx && fnn_forget_request_indices(req, idx, n) == FNN_OK;
    }
    if (!all_ok(ok, "reading the request"))
        goto done;
    double sec = 0, flops = 0, t0 = now_seconds();
    if ((st = fnn_mpi_forget(s, pool, idx, n, sp.held, fo, &sec, &flops, comm, err,
                             sizeof err)) != FNN_OK) {
        mpi_fail(st, err, "forgetting");
        goto done;
    }
    double wall = now_seconds() - t0;
    print_costs("forgot in", fnn_sharded_num_shards(s), sec, flops);
    const char *out = o[F_OUT].value ? o[F_OUT].value : o[F_MODEL].value;
    if ((st = fnn_mpi_save(s, out, comm, err, sizeof err)) != FNN_OK) {
        mpi_fail(st, err, "saving");
        goto done;
    }
    if (rank == 0) {
        double method = 0;
        fnn_forget_options_get(fo, FNN_FORGET_METHOD, &method);
        printf("forgot %zu sample(s) with %s in %.2f s; saved %s\n", n,
               fnn_name(FNN_NAMES_METHOD, (int)method), wall, out);
    }
    rc = EXIT_OK;
done:
    free(idx);
    fnn_forget_request_free(req);
    fnn_forget_options_free(fo);
    fnn_sharded_free(s);
    split_free(&sp);
    fnn_dataset_free(sp.train);
    fnn_dataset_free(sp.test);
    free(kv);
    return rc;
}

/* ---- main ---------------------------------------------------------------------------------- */

static void version_help(FILE *f)
{
    fputs("Usage: fnn-mpi version\n", f);
}

static int cmd_version(const struct command *cmd, int argc, char **argv)
{
    (void)cmd;
    (void)argc;
    (void)argv;
    if (rank == 0)
        printf("fnn-mpi %s (libfnn %s)\n", FNN_VERSION_STRING, fnn_version_string());
    return EXIT_OK;
}

static const struct command commands[] = {
    {"train", "train a sharded model, each rank its own shards", cmd_train, train_help},
    {"forget", "serve a deletion request in the shards that hold its samples", cmd_forget,
     forget_help},
    {"eval", "print a sharded model's test accuracy", cmd_eval, eval_help},
    {"bench", "sharded against single model: accuracy and the cost of deletions", cmd_bench,
     bench_help},
    {"version", "print the version", cmd_version, version_help},
};

static void main_help(FILE *f)
{
    fputs("Usage: mpirun -np P fnn-mpi COMMAND [OPTIONS]\n\n"
          "Sharded (SISA) models of libfnn over MPI ranks: shard k belongs to rank k mod P.\n\n"
          "Commands:\n",
          f);
    for (size_t k = 0; k < COUNT(commands); k++)
        fprintf(f, "  %-9s %s\n", commands[k].name, commands[k].summary);
    fputs("\nRun 'fnn-mpi COMMAND --help' for the options of a command. With P ranks on\n"
          "P cores, set OPENBLAS_NUM_THREADS=1 (docs/SCALE.md).\n",
          f);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    comm = MPI_COMM_WORLD;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    cli_program = "fnn-mpi";
    int rc = EXIT_USAGE;
    /* Only rank 0 prints help and usage errors. */
    if (rank != 0 && (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
        freopen("/dev/null", "w", stdout);
    if (argc < 2) {
        if (rank == 0)
            main_help(stderr);
    } else if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        main_help(stdout);
        rc = EXIT_OK;
    } else {
        const struct command *cmd = NULL;
        for (size_t k = 0; k < COUNT(commands); k++)
            if (strcmp(commands[k].name, argv[1]) == 0)
                cmd = &commands[k];
        if (!cmd) {
            if (rank == 0)
                usage_error(NULL, "unknown command '%s'", argv[1]);
        } else {
            if (rank != 0) {
                /* Usage errors and help texts come from rank 0 alone. */
                for (int i = 2; i < argc; i++)
                    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
                        freopen("/dev/null", "w", stdout);
            }
            rc = cmd->run(cmd, argc - 1, argv + 1);
        }
    }
    fflush(stdout);
    MPI_Finalize();
    return rc;
}
