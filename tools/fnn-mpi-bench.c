/* fnn-mpi bench: a sharded model against a single model, measured in one run.
 *
 * For each data set the train split is cut into a pool and held-out samples
 * as `fnn bench` cuts it (make_split(), same seed, same samples). Rank 0
 * trains the single model on the pool with its architecture's recipe; the
 * ranks train the sharded model of S shards in R slices on the same pool.
 * Then a stream of deletion requests (single samples and small batches,
 * drawn from the pool, spread over the shards) is served three ways: exact
 * slice retraining of the affected shards (method retrain), FNN unlearning
 * of each affected constituent (method fnn), and full retraining of the
 * single model on what remains (fnn_model_forget() with retrain, the
 * reference of `fnn bench`). Costs are those of `fnn bench`: the seconds and
 * FLOPs of the method's own work (FNN_REPORT_METHOD_SECONDS and _FLOPS, the
 * stages' training for exact retraining), plus the wall time of each
 * collective step at this run's number of ranks. A cost model projects P
 * ranks from the per-shard costs measured here. */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fnn-mpi.h"

enum { MAX_DATA = 4, MAX_REQ = 64 };

static struct opt bench_opts[] = {
    OPT("data", "DIR...", "an MNIST-style data directory; repeatable [data/fashion-mnist and "
                          "data/mnist]"),
    OPT("arch", "ARCH", "a preset or specification, of both models [mlp]"),
    OPT("shards", "S", "shards [8]"),
    OPT("slices", "R", "slices per shard [4]"),
    OPT("seed", "N", "seed of the split, both models and the requests [0]"),
    OPT("holdout", "N", "held-out samples (the fnn method's target) [10000]"),
    OPT("pool", "N", "at most N samples of the rest for training [all]"),
    OPT("epochs", "E", "the single model's epochs [10]"),
    OPT("stage-epochs", "E", "epochs of each of a shard's R stages [4]"),
    OPT("singles", "N", "single-sample deletion requests [4]"),
    OPT("batches", "N", "batch deletion requests [2]"),
    OPT("request-size", "K", "samples of a batch request [8]"),
    OPT("retrains", "N", "requests the single model serves by full retraining (the rest "
                         "are not measured for it) [all]"),
    OPT("scratch", "DIR", "directory for the model files (shared by the ranks) [/tmp]"),
    OPT("json", "FILE", "write the figures as JSON ('-': standard output)"),
    OPT("quick", NULL, "a run of well under a minute: pool 4000, 1000 held out, 3 epochs, "
                       "2 slices of 2 epochs, 2 single requests and a batch of 4"),
};
enum {
    B_DATA, B_ARCH, B_SHARDS, B_SLICES, B_SEED, B_HOLDOUT, B_POOL, B_EPOCHS, B_STAGE,
    B_SINGLES, B_BATCHES, B_RSIZE, B_RETRAINS, B_SCRATCH, B_JSON, B_QUICK
};

void bench_help(FILE *f)
{
    fputs("Usage: mpirun -np P fnn-mpi bench [OPTIONS]\n"
          "\n"
          "Measures, in one run and on the same pool: the test accuracy of a single model\n"
          "and of a sharded model (S shards of R slices); and the cost of a stream of\n"
          "deletion requests served by exact slice retraining of the affected shards, by\n"
          "FNN unlearning of the affected constituents, and by retraining the single model\n"
          "from scratch. Costs are the seconds and FLOPs of each method's own work, as in\n"
          "fnn bench, and the wall time of each step at P ranks; a cost model projects\n"
          "other numbers of ranks from the per-shard costs.\n\n",
          f);
    for (size_t k = 0; k < COUNT(bench_opts); k++)
        print_option_help(f, bench_opts[k].name, bench_opts[k].arg, bench_opts[k].help, NULL);
    fputs("\nThe training options of fnn train (--lr, --batch, ...) change the shards'\n"
          "recipe (the preset's, with --stage-epochs epochs per stage); the unlearning\n"
          "options of fnn forget (--max-t, --eval-samples, ...) change the fnn route's.\n",
          f);
}

struct cfg {
    const char *data[MAX_DATA];
    size_t n_data;
    const char *arch, *scratch, *json;
    uint64_t S, R, seed, holdout, pool, epochs, stage_epochs, singles, batches, rsize, retrains;
    const struct command *cmd;
    const struct keyval *kv;   /* training keys: the shards' recipe */
    size_t nkv;
    const struct keyval *fkv;  /* unlearning keys: the fnn route */
    size_t nfkv;
};

/* One request of the stream, as rank 0 saw it. */
struct req_row {
    size_t samples, shards;
    double exact_s, exact_f, exact_wall, fnn_s, fnn_f, fnn_wall, retrain_s, retrain_f;
};

/* What one data set measured (rank 0). */
struct result {
    const char *data;
    size_t n_pool, n_held;
    double single_acc, single_s, single_f, sharded_acc, train_wall, train_s, train_f;
    double save_wall, eval_wall;
    size_t n_req;
    struct req_row req[MAX_REQ];
    double acc_exact, acc_fnn, acc_retrain, facc_orig, facc_sharded, facc_exact, facc_fnn,
        facc_retrain;
    double *shard_train;        /* S per-shard training seconds */
    double *shard_exact, *shard_fnn; /* n_req * S per-shard request seconds */
};

/* Sums per-shard figures of a key over the ranks into all (rank 0). */
static void shard_figures(const fnn_sharded *s, int key, double *all)
{
    uint32_t S = fnn_sharded_num_shards(s);
    double *mine = calloc(S, sizeof *mine);
    for (uint32_t k = 0; k < S; k++)
        if (fnn_sharded_constituent(s, k))
            fnn_sharded_shard_get(s, k, key, &mine[k]);
    MPI_Reduce(mine, all, (int)S, MPI_DOUBLE, MPI_SUM, 0, comm);
    free(mine);
}

/* Wall time of P ranks for per-shard costs c (round-robin ownership). */
static double project(const double *c, uint32_t S, uint32_t P)
{
    double worst = 0;
    for (uint32_t r = 0; r < P; r++) {
        double sum = 0;
        for (uint32_t k = r; k < S; k += P)
            sum += c[k];
        worst = sum > worst ? sum : worst;
    }
    return worst;
}

/* Accuracy of the sharded model on the pool samples at pos (collective). */
static int sharded_acc_on(const fnn_sharded *s, fnn_dataset *pool, const uint32_t *pos,
                          size_t n, double *acc, char *err, size_t err_size)
{
    fnn_dataset *sub = NULL;
    int st = fnn_dataset_subset(pool, pos, n, &sub);
    if (!all_ok(st == FNN_OK, "a subset"))
        return FNN_E_NOMEM;
    st = fnn_mpi_evaluate(s, sub, acc, comm, err, err_size);
    fnn_dataset_free(sub);
    return st;
}

static double model_acc_on(const fnn_model *m, fnn_dataset *pool, const uint32_t *pos,
                           size_t n)
{
    fnn_dataset *sub = NULL;
    double acc = NAN;
    if (fnn_dataset_subset(pool, pos, n, &sub) == FNN_OK)
        fnn_model_evaluate(m, sub, &acc, NULL);
    fnn_dataset_free(sub);
    return acc;
}

/* Removes the scratch model: the manifest dir/base and the files "base.*". */
static void remove_scratch(const char *dir, const char *base)
{
    DIR *d = opendir(dir);
    size_t bl = strlen(base);
    struct dirent *e;
    if (!d)
        return;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, base, bl) == 0 && (e->d_name[bl] == '\0' || e->d_name[bl] == '.'))
            (void)unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
}

static fnn_forget_options *method_opts(int method, uint64_t seed)
{
    fnn_forget_options *o = NULL;
    if (fnn_forget_options_create(&o) != FNN_OK)
        return NULL;
    fnn_forget_options_set(o, FNN_FORGET_METHOD, method);
    fnn_forget_options_set_u64(o, FNN_FORGET_SEED, seed);
    return o;
}

/* Runs the bench on one data set. */
static int run_data(const struct cfg *c, const char *data, struct result *res)
{
    struct split sp = {0};
    fnn_model *single = NULL, *retrained = NULL;
    fnn_sharded *ha = NULL, *hb = NULL;
    fnn_train_options *single_recipe = NULL, *shard_recipe = NULL;
    fnn_forget_options *fo_exact = method_opts(FNN_METHOD_RETRAIN, c->seed),
                       *fo_fnn = method_opts(FNN_METHOD_FNN, c->seed);
    uint32_t *all = NULL;
    char err[512] = "", path[600] = "";
    int rc = EXIT_FAIL, st;
    uint32_t S = (uint32_t)c->S;
    memset(res, 0, sizeof *res);
    res->data = data;
    if (!load_data(data, &sp.train, &sp.test) ||
        !all_ok(make_split(&sp, c->holdout, c->pool, c->seed) == EXIT_OK, "splitting"))
        goto done;
    res->n_pool = sp.n_pool;
    res->n_held = sp.n_held;
    single_recipe = make_recipe(c->cmd, c->arch, NULL, 0, c->seed);
    shard_recipe = make_recipe(c->cmd, c->arch, c->kv, c->nkv, c->seed);
    if (!all_ok(single_recipe && shard_recipe && fo_exact && fo_fnn &&
                    apply_keys(c->cmd, c->fkv, c->nfkv, NULL, fo_fnn) == EXIT_OK &&
                    fnn_train_options_set(single_recipe, FNN_TRAIN_EPOCHS,
                                          (double)c->epochs) == FNN_OK &&
                    fnn_train_options_set(shard_recipe, FNN_TRAIN_EPOCHS,
                                          (double)c->stage_epochs) == FNN_OK,
                "the recipes"))
        goto done;

    /* 1. The single model, on rank 0. */
    int ok = 1;
    if (rank == 0) {
        fprintf(stderr, "fnn-mpi bench: %s: training the single model on %zu samples\n", data,
                sp.n_pool);
        double t0 = now_seconds();
        ok = fnn_model_create(&single, c->arch, c->seed, err, sizeof err) == FNN_OK &&
             fnn_model_train(single, sp.pool, single_recipe) == FNN_OK &&
             fnn_model_evaluate(single, sp.test, &res->single_acc, NULL) == FNN_OK;
        res->single_s = now_seconds() - t0;
        if (!ok)
            fprintf(stderr, "fnn-mpi: the single model: %s\n",
                    single ? fnn_model_errmsg(single) : err);
        else
            res->single_f = c->epochs * (double)sp.n_pool * fnn_model_flops_per_sample(single, 1);
    }
    if (!all_ok(ok, "the single model"))
        goto done;

    /* 2. The sharded model, each rank its shards. */
    if (rank == 0)
        fprintf(stderr, "fnn-mpi bench: %s: training %u shards on %d rank(s)\n", data, S, nranks);
    st = fnn_sharded_create(&ha, c->arch, sp.n_pool, S, (uint32_t)c->R, c->seed, shard_recipe,
                            err, sizeof err);
    if (!all_ok(st == FNN_OK, "creating the sharded model")) {
        if (st != FNN_OK)
            mpi_fail(st, err, "creating the sharded model");
        goto done;
    }
    double sec = 0, t0;
    MPI_Barrier(comm);
    t0 = now_seconds();
    if ((st = fnn_mpi_train(ha, sp.pool, &sec, comm, err, sizeof err)) != FNN_OK) {
        mpi_fail(st, err, "training the shards");
        goto done;
    }
    MPI_Barrier(comm);
    res->train_wall = now_seconds() - t0;
    res->shard_train = calloc(S, sizeof *res->shard_train);
    double *flops = calloc(S, sizeof *flops);
    shard_figures(ha, FNN_SHARD_TRAIN_SECONDS, res->shard_train);
    shard_figures(ha, FNN_SHARD_TRAIN_FLOPS, flops);
    for (uint32_t k = 0; k < S; k++) {
        res->train_s += res->shard_train[k];
        res->train_f += flops[k];
    }
    free(flops);
    t0 = now_seconds();
    if ((st = fnn_mpi_evaluate(ha, sp.test, &res->sharded_acc, comm, err, sizeof err))) {
        mpi_fail(st, err, "evaluating the shards");
        goto done;
    }
    res->eval_wall = now_seconds() - t0;
    /* A second handle of the trained model, for the fnn route. */
    if (rank == 0)
        snprintf(path, sizeof path, "%s/fnn-mpi-bench-%ld.fnns", c->scratch, (long)getpid());
    MPI_Bcast(path, sizeof path, MPI_CHAR, 0, comm);
    t0 = now_seconds();
    if ((st = fnn_mpi_save(ha, path, comm, err, sizeof err)) != FNN_OK ||
        (st = fnn_mpi_load(&hb, path, comm, err, sizeof err)) != FNN_OK) {
        mpi_fail(st, err, "copying the sharded model through its files");
        goto done;
    }
    res->save_wall = now_seconds() - t0;

    /* 3. The stream, drawn on rank 0 without repeats. */
    size_t n_req = (size_t)(c->singles + c->batches), total = (size_t)(c->singles +
                                                                         c->batches * c->rsize);
    res->n_req = n_req;
    all = malloc(total * sizeof *all);
    res->shard_exact = calloc(n_req * S, sizeof *res->shard_exact);
    res->shard_fnn = calloc(n_req * S, sizeof *res->shard_fnn);
    ok = all && res->shard_exact && res->shard_fnn;
    if (ok && rank == 0) {
        fnn_forget_request *r = NULL;
        ok = fnn_forget_request_random(&r, sp.pool, total, c->seed ^ 0x5354524541ull, err,
                                       sizeof err) == FNN_OK &&
             fnn_forget_request_indices(r, all, total) == FNN_OK;
        fnn_forget_request_free(r);
        /* Ascending from the request: shuffle so batches spread over shards. */
        uint64_t x = c->seed + 1;
        for (size_t i = total; ok && i > 1; i--) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            size_t j = (size_t)((x >> 33) % i);
            uint32_t t = all[i - 1];
            all[i - 1] = all[j];
            all[j] = t;
        }
    }
    if (!all_ok(ok, "drawing the requests"))
        goto done;
    MPI_Bcast(all, (int)total, MPI_UINT32_T, 0, comm);
    size_t at = 0;
    for (size_t q = 0; q < n_req; q++) {
        struct req_row *row = &res->req[q];
        size_t n = q < c->singles ? 1 : (size_t)c->rsize;
        const uint32_t *idx = all + at;
        row->samples = n;
        if (rank == 0)
            fprintf(stderr, "fnn-mpi bench: %s: request %zu of %zu (%zu sample(s))\n", data,
                    q + 1, n_req, n);
        /* Exact slice retraining. */
        double f = 0, *as = malloc((size_t)nranks * sizeof *as),
               *af = malloc((size_t)nranks * sizeof *af);
        MPI_Barrier(comm);
        t0 = now_seconds();
        if ((st = fnn_mpi_forget(ha, sp.pool, idx, n, sp.held, fo_exact, &sec, &f, comm, err,
                                 sizeof err)) != FNN_OK) {
            free(as);
            free(af);
            mpi_fail(st, err, "exact slice retraining");
            goto done;
        }
        MPI_Barrier(comm);
        row->exact_wall = now_seconds() - t0;
        gather2(sec, f, as, af);
        row->exact_s = sum_of(as, nranks);
        row->exact_f = sum_of(af, nranks);
        shard_figures(ha, FNN_SHARD_LAST_SECONDS, res->shard_exact + q * S);
        double *hit = calloc(S, sizeof *hit);
        shard_figures(ha, FNN_SHARD_LAST_FORGOTTEN, hit);
        for (uint32_t k = 0; k < S; k++)
            row->shards += hit[k] > 0;
        free(hit);
        /* FNN per shard. */
        MPI_Barrier(comm);
        t0 = now_seconds();
        if ((st = fnn_mpi_forget(hb, sp.pool, idx, n, sp.held, fo_fnn, &sec, &f, comm, err,
                                 sizeof err)) != FNN_OK) {
            free(as);
            free(af);
            mpi_fail(st, err, "FNN per shard");
            goto done;
        }
        MPI_Barrier(comm);
        row->fnn_wall = now_seconds() - t0;
        gather2(sec, f, as, af);
        row->fnn_s = sum_of(as, nranks);
        row->fnn_f = sum_of(af, nranks);
        shard_figures(hb, FNN_SHARD_LAST_SECONDS, res->shard_fnn + q * S);
        free(as);
        free(af);
        /* Full retraining of the single model on what remains, on rank 0. */
        row->retrain_s = row->retrain_f = NAN;
        ok = 1;
        if (rank == 0 && q < c->retrains) {
            fnn_forget_request *r = NULL;
            fnn_forget_report *rep = NULL;
            fnn_model *m = NULL;
            ok = fnn_forget_request_from_indices(&r, sp.pool, all, at + n, err, sizeof err) ==
                     FNN_OK &&
                 fnn_forget_report_create(&rep) == FNN_OK && fnn_model_clone(single, &m) == FNN_OK;
            fnn_forget_options *o = method_opts(FNN_METHOD_RETRAIN, c->seed);
            if (ok && (ok = fnn_model_forget(m, r, sp.held, o, rep) == FNN_OK)) {
                row->retrain_s = report_value(rep, FNN_REPORT_METHOD_SECONDS);
                row->retrain_f = report_value(rep, FNN_REPORT_METHOD_FLOPS);
                fnn_model_free(retrained);
                retrained = m;
                m = NULL;
            } else {
                fprintf(stderr, "fnn-mpi: retraining the single model: %s\n",
                        m ? fnn_model_errmsg(m) : err);
            }
            fnn_forget_options_free(o);
            fnn_model_free(m);
            fnn_forget_report_free(rep);
            fnn_forget_request_free(r);
        }
        if (!all_ok(ok, "retraining the single model"))
            goto done;
        at += n;
    }

    /* 4. Quality after the stream. */
    if ((st = fnn_mpi_evaluate(ha, sp.test, &res->acc_exact, comm, err, sizeof err)) ||
        (st = fnn_mpi_evaluate(hb, sp.test, &res->acc_fnn, comm, err, sizeof err)) ||
        (st = sharded_acc_on(ha, sp.pool, all, total, &res->facc_exact, err, sizeof err)) ||
        (st = sharded_acc_on(hb, sp.pool, all, total, &res->facc_fnn, err, sizeof err))) {
        mpi_fail(st, err, "measuring after the stream");
        goto done;
    }
    if (rank == 0) {
        res->facc_orig = model_acc_on(single, sp.pool, all, total);
        res->acc_retrain = res->facc_retrain = NAN;
        if (retrained) {
            fnn_model_evaluate(retrained, sp.test, &res->acc_retrain, NULL);
            res->facc_retrain = model_acc_on(retrained, sp.pool, all, total);
        }
    }
    rc = EXIT_OK;
done:
    if (rank == 0 && path[0])
        remove_scratch(c->scratch, path + strlen(c->scratch) + 1);
    free(all);
    fnn_model_free(single);
    fnn_model_free(retrained);
    fnn_sharded_free(ha);
    fnn_sharded_free(hb);
    fnn_train_options_free(single_recipe);
    fnn_train_options_free(shard_recipe);
    fnn_forget_options_free(fo_exact);
    fnn_forget_options_free(fo_fnn);
    split_free(&sp);
    fnn_dataset_free(sp.train);
    fnn_dataset_free(sp.test);
    return rc;
}

static void mean_of(const struct result *r, int singles_only, double *es, double *ef,
                    double *fs, double *ff, double *rs, double *rf, size_t *n)
{
    *es = *ef = *fs = *ff = *rs = *rf = 0;
    size_t cnt = 0, rcnt = 0;
    for (size_t q = 0; q < r->n_req; q++) {
        const struct req_row *w = &r->req[q];
        /* Full retraining costs the same whatever the request: its mean is
         * over every request that ran it. */
        if (!isnan(w->retrain_s)) {
            rcnt++;
            *rs += w->retrain_s;
            *rf += w->retrain_f;
        }
        if ((w->samples == 1) != (singles_only != 0))
            continue;
        cnt++;
        *es += w->exact_s;
        *ef += w->exact_f;
        *fs += w->fnn_s;
        *ff += w->fnn_f;
    }
    if (cnt) {
        *es /= (double)cnt;
        *ef /= (double)cnt;
        *fs /= (double)cnt;
        *ff /= (double)cnt;
    }
    *rs = rcnt ? *rs / (double)rcnt : NAN;
    *rf = rcnt ? *rf / (double)rcnt : NAN;
    *n = cnt;
}

static void print_result(const struct cfg *c, const struct result *r)
{
    uint32_t S = (uint32_t)c->S;
    char b1[32], b2[32], b3[32], b4[32], b5[32], b6[32], b7[32];
    printf("\n== %s: %s, pool %zu, held out %zu, %u shards x %" PRIu64 " slices, %d rank(s)\n",
           r->data, c->arch, r->n_pool, r->n_held, S, c->R, nranks);
    printf("test accuracy: single %s, sharded %s (%.2f points below)\n",
           percent(r->single_acc, b1, sizeof b1), percent(r->sharded_acc, b2, sizeof b2),
           100.0 * (r->single_acc - r->sharded_acc));
    printf("training: single %.2f s, %.3g FLOPs (%" PRIu64 " epochs); sharded: wall %.2f s at "
           "%d rank(s), shard work %.2f s, %.3g FLOPs (%" PRIu64 " epochs per stage)\n",
           r->single_s, r->single_f, c->epochs, r->train_wall, nranks, r->train_s, r->train_f,
           c->stage_epochs);
    printf("\n%-4s %7s %6s | %9s %9s %8s | %9s %9s %8s | %9s %9s | %7s %7s\n", "req", "samples",
           "shards", "exact s", "FLOPs", "wall s", "fnn s", "FLOPs", "wall s", "retrain s",
           "FLOPs", "exact/r", "fnn/r");
    for (size_t q = 0; q < r->n_req; q++) {
        const struct req_row *w = &r->req[q];
        printf("%-4zu %7zu %6zu | %9.3f %9.3g %8.3f | %9.3f %9.3g %8.3f | %9.2f %9.3g | %7.4f "
               "%7.4f\n",
               q + 1, w->samples, w->shards, w->exact_s, w->exact_f, w->exact_wall, w->fnn_s,
               w->fnn_f, w->fnn_wall, w->retrain_s, w->retrain_f, w->exact_s / w->retrain_s,
               w->fnn_s / w->retrain_s);
    }
    for (int singles = 1; singles >= 0; singles--) {
        double es, ef, fs, ff, rs, rf;
        size_t n;
        mean_of(r, singles, &es, &ef, &fs, &ff, &rs, &rf, &n);
        if (!n)
            continue;
        printf("mean of %zu %s: exact %.3f s (%.4f of retraining; FLOPs %.4f), fnn %.3f s (%.4f; "
               "FLOPs %.4f), retraining %.2f s\n",
               n, singles ? "single-sample requests" : "batch requests", es, es / rs, ef / rf, fs,
               fs / rs, ff / rf, rs);
    }
    printf("after the stream: test accuracy exact %s, fnn %s, single retrained %s; deleted "
           "samples' accuracy: single before %s, exact %s, fnn %s, single retrained %s\n",
           percent(r->acc_exact, b1, sizeof b1), percent(r->acc_fnn, b2, sizeof b2),
           percent(r->acc_retrain, b3, sizeof b3), percent(r->facc_orig, b4, sizeof b4),
           percent(r->facc_exact, b5, sizeof b5), percent(r->facc_fnn, b6, sizeof b6),
           percent(r->facc_retrain, b7, sizeof b7));
    printf("\ncost model: wall time at P ranks = the largest sum of per-shard costs over the "
           "shards of one rank (shard k on rank k mod P), from this run's per-shard seconds\n");
    printf("%6s %12s %14s %14s\n", "ranks", "training s", "exact stream s", "fnn stream s");
    for (uint32_t P = 1; P <= S; P *= 2) {
        double ex = 0, fn = 0;
        for (size_t q = 0; q < r->n_req; q++) {
            ex += project(r->shard_exact + q * S, S, P);
            fn += project(r->shard_fnn + q * S, S, P);
        }
        printf("%6u %12.2f %14.3f %14.3f%s\n", P, project(r->shard_train, S, P), ex, fn,
               P == (uint32_t)nranks ? "   (this run)" : "");
    }
    double ew = 0, fw = 0;
    for (size_t q = 0; q < r->n_req; q++) {
        ew += r->req[q].exact_wall;
        fw += r->req[q].fnn_wall;
    }
    printf("%6s %12.2f %14.3f %14.3f   (wall time measured in this run at %d rank(s))\n",
           "meas.", r->train_wall, ew, fw, nranks);
}

static void jnum(FILE *f, const char *k, double v, const char *sep)
{
    if (isfinite(v))
        fprintf(f, "\"%s\": %.10g%s", k, v, sep);
    else
        fprintf(f, "\"%s\": null%s", k, sep);
}

static int write_json(const struct cfg *c, const struct result *res, size_t n, const char *path,
                      const char *args)
{
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!f) {
        fprintf(stderr, "fnn-mpi: --json %s: cannot open\n", path);
        return EXIT_FAIL;
    }
    uint32_t S = (uint32_t)c->S;
    fprintf(f, "{\"args\": \"%s\", \"library\": \"%s\", \"ranks\": %d, \"shards\": %u, \"slices\": %" PRIu64
               ", \"epochs\": %" PRIu64 ", \"stage_epochs\": %" PRIu64 ", \"datasets\": [\n",
            args, fnn_version_string(), nranks, S, c->R, c->epochs, c->stage_epochs);
    for (size_t d = 0; d < n; d++) {
        const struct result *r = &res[d];
        fprintf(f, "  {\"dataset\": \"%s\", \"pool\": %zu, \"holdout\": %zu, ", r->data,
                r->n_pool, r->n_held);
        jnum(f, "single_test_acc", r->single_acc, ", ");
        jnum(f, "sharded_test_acc", r->sharded_acc, ", ");
        jnum(f, "single_train_seconds", r->single_s, ", ");
        jnum(f, "single_train_flops", r->single_f, ", ");
        jnum(f, "sharded_train_wall", r->train_wall, ", ");
        jnum(f, "sharded_train_seconds", r->train_s, ", ");
        jnum(f, "sharded_train_flops", r->train_f, ", ");
        jnum(f, "exact_test_acc", r->acc_exact, ", ");
        jnum(f, "fnn_test_acc", r->acc_fnn, ", ");
        jnum(f, "retrain_test_acc", r->acc_retrain, ", ");
        jnum(f, "deleted_acc_single", r->facc_orig, ", ");
        jnum(f, "deleted_acc_exact", r->facc_exact, ", ");
        jnum(f, "deleted_acc_fnn", r->facc_fnn, ", ");
        jnum(f, "deleted_acc_retrain", r->facc_retrain, ", ");
        fprintf(f, "\"requests\": [\n");
        for (size_t q = 0; q < r->n_req; q++) {
            const struct req_row *w = &r->req[q];
            fprintf(f, "    {\"samples\": %zu, \"shards\": %zu, ", w->samples, w->shards);
            jnum(f, "exact_seconds", w->exact_s, ", ");
            jnum(f, "exact_flops", w->exact_f, ", ");
            jnum(f, "exact_wall", w->exact_wall, ", ");
            jnum(f, "fnn_seconds", w->fnn_s, ", ");
            jnum(f, "fnn_flops", w->fnn_f, ", ");
            jnum(f, "fnn_wall", w->fnn_wall, ", ");
            jnum(f, "retrain_seconds", w->retrain_s, ", ");
            jnum(f, "retrain_flops", w->retrain_f, "");
            fprintf(f, "}%s\n", q + 1 < r->n_req ? "," : "");
        }
        fprintf(f, "  ], \"cost_model\": [");
        for (uint32_t P = 1; P <= S; P *= 2) {
            double ex = 0, fn = 0;
            for (size_t q = 0; q < r->n_req; q++) {
                ex += project(r->shard_exact + q * S, S, P);
                fn += project(r->shard_fnn + q * S, S, P);
            }
            fprintf(f, "%s{\"ranks\": %u, ", P > 1 ? ", " : "", P);
            jnum(f, "train_wall", project(r->shard_train, S, P), ", ");
            jnum(f, "exact_stream_wall", ex, ", ");
            jnum(f, "fnn_stream_wall", fn, "}");
        }
        fprintf(f, "]}%s\n", d + 1 < n ? "," : "");
    }
    fprintf(f, "]}\n");
    if (f != stdout && fclose(f) != 0) {
        fprintf(stderr, "fnn-mpi: --json %s: write failed\n", path);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

int cmd_bench(const struct command *cmd, int argc, char **argv)
{
    struct opt o[COUNT(bench_opts)];
    memcpy(o, bench_opts, sizeof o);
    struct keyval *kv = calloc((size_t)argc, sizeof *kv);
    size_t nkv = 0;
    int p = parse_args(cmd, argc, argv, o, COUNT(o), KEYS_TRAIN | KEYS_FORGET, kv, &nkv);
    if (p != PARSE_OK) {
        free(kv);
        return p == PARSE_HELP ? EXIT_OK : EXIT_USAGE;
    }
    /* Training keys first, unlearning keys after them. */
    size_t ntrain = 0;
    for (size_t k = 0; k < nkv; k++)
        if (!kv[k].forget) {
            struct keyval t = kv[k];
            memmove(kv + ntrain + 1, kv + ntrain, (k - ntrain) * sizeof *kv);
            kv[ntrain++] = t;
        }
    int quick = o[B_QUICK].value != NULL;
    struct cfg c = {.arch = "mlp", .scratch = "/tmp", .S = 8, .R = quick ? 2 : 4,
                    .holdout = quick ? 1000 : 10000, .pool = quick ? 4000 : 0,
                    .epochs = quick ? 3 : 10, .stage_epochs = quick ? 2 : 4,
                    .singles = quick ? 2 : 4, .batches = quick ? 1 : 2,
                    .rsize = quick ? 4 : 8, .retrains = UINT64_MAX, .cmd = cmd, .kv = kv,
                    .nkv = ntrain, .fkv = kv + ntrain, .nfkv = nkv - ntrain};
    int rc = EXIT_USAGE;
    for (size_t k = 0; k < nkv; k++)
        if ((!kv[k].forget && (kv[k].key == FNN_TRAIN_EPOCHS || kv[k].key == FNN_TRAIN_SEED)) ||
            (kv[k].forget && (kv[k].key == FNN_FORGET_METHOD || kv[k].key == FNN_FORGET_SEED))) {
            usage_error(cmd, "bench: --%s: the bench sets it (use --epochs, --stage-epochs and "
                             "--seed)",
                        kv[k].name);
            goto done;
        }
    if (opt_uint(cmd, &o[B_SHARDS], 1, FNN_SHARDED_MAX_SHARDS, &c.S) ||
        opt_uint(cmd, &o[B_SLICES], 1, FNN_SHARDED_MAX_SLICES, &c.R) ||
        opt_uint(cmd, &o[B_SEED], 0, UINT64_MAX, &c.seed) ||
        opt_uint(cmd, &o[B_HOLDOUT], 6, UINT32_MAX, &c.holdout) ||
        opt_uint(cmd, &o[B_POOL], 2, UINT32_MAX, &c.pool) ||
        opt_uint(cmd, &o[B_EPOCHS], 1, 1000, &c.epochs) ||
        opt_uint(cmd, &o[B_STAGE], 1, 1000, &c.stage_epochs) ||
        opt_uint(cmd, &o[B_SINGLES], 0, MAX_REQ, &c.singles) ||
        opt_uint(cmd, &o[B_BATCHES], 0, MAX_REQ, &c.batches) ||
        opt_uint(cmd, &o[B_RSIZE], 1, 1u << 20, &c.rsize) ||
        opt_uint(cmd, &o[B_RETRAINS], 0, UINT64_MAX, &c.retrains))
        goto done;
    if (c.singles + c.batches == 0 || c.singles + c.batches > MAX_REQ) {
        usage_error(cmd, "bench: between 1 and %d requests (--singles plus --batches)", MAX_REQ);
        goto done;
    }
    if (o[B_ARCH].value)
        c.arch = o[B_ARCH].value;
    if (o[B_SCRATCH].value)
        c.scratch = o[B_SCRATCH].value;
    c.json = o[B_JSON].value;
    if (o[B_DATA].count > MAX_DATA) {
        usage_error(cmd, "bench: at most %d --data", MAX_DATA);
        goto done;
    }
    for (size_t k = 0; k < o[B_DATA].count; k++)
        c.data[c.n_data++] = o[B_DATA].values[k];
    if (!c.n_data) {
        c.data[c.n_data++] = "data/fashion-mnist";
        c.data[c.n_data++] = "data/mnist";
    }
    /* The options, for the record (JSON-safe: quotes and backslashes dropped). */
    char args[1024] = "bench";
    for (int i = 1; i < argc; i++) {
        size_t len = strlen(args);
        snprintf(args + len, sizeof args - len, " %s", argv[i]);
    }
    for (char *q = args; *q; q++)
        if (*q == '"' || *q == '\\' || (unsigned char)*q < 0x20)
            *q = ' ';
    if (rank == 0)
        printf("fnn-mpi %s (%d rank(s))\n", args, nranks);
    struct result res[MAX_DATA];
    memset(res, 0, sizeof res);
    double t0 = now_seconds();
    rc = EXIT_OK;
    size_t done_n = 0;
    for (size_t d = 0; d < c.n_data && rc == EXIT_OK; d++, done_n++)
        rc = run_data(&c, c.data[d], &res[d]);
    if (rc == EXIT_OK && rank == 0) {
        int to_stdout = c.json && strcmp(c.json, "-") == 0;
        if (!to_stdout) {
            for (size_t d = 0; d < c.n_data; d++)
                print_result(&c, &res[d]);
            printf("\nseconds: each method's own work summed over the ranks (exact: the stages' "
                   "training; fnn and retraining: FNN_REPORT_METHOD_SECONDS); wall: the step "
                   "at %d rank(s); %.0f s in all\n",
                   nranks, now_seconds() - t0);
        }
        if (c.json)
            rc = write_json(&c, res, c.n_data, c.json, args);
    }
    for (size_t d = 0; d < done_n; d++) {
        free(res[d].shard_train);
        free(res[d].shard_exact);
        free(res[d].shard_fnn);
    }
    MPI_Bcast(&rc, 1, MPI_INT, 0, comm);
done:
    free(kv);
    return rc;
}
