/* Times one training epoch of the preset networks and compares the achieved
 * rate with cblas_sgemm on exactly the matrix shapes the epoch multiplies,
 * measured in the same run.
 *
 *   bench_train [--data DIR] [--arch mlp|paper-cnn|all] [--samples N]
 *               [--synthetic N] [--json]
 *
 * Defaults: DIR = data/fashion-mnist, all architectures, the whole training
 * split. --synthetic N trains on N random images instead (no data needed). */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

struct arch {
    const char *name;
    int optimizer;
    double lr;
    int batch;
};

static const struct arch archs[] = {
    {"mlp", FNN_OPTIMIZER_SGD, 0.05, 128},
    {"paper-cnn", FNN_OPTIMIZER_ADAM, 0.001, 64},
};

struct result {
    double epoch_s, samples_per_s, gflops, sgemm_gflops, ratio;
    size_t samples, gemms_per_step;
};

/* Times the recorded sgemm sequence of one step; returns seconds per step. */
static double time_gemms(const fnn__gemm_trace *t, double min_seconds)
{
    size_t amax = 1, bmax = 1, cmax = 1;
    for (size_t i = 0; i < t->n; i++) {
        const fnn__gemm_rec *r = &t->recs[i];
        size_t a = (size_t)r->m * r->k, b = (size_t)r->k * r->n, c = (size_t)r->m * r->n;
        amax = a > amax ? a : amax;
        bmax = b > bmax ? b : bmax;
        cmax = c > cmax ? c : cmax;
    }
    float *A = fnn__alloc_floats(amax), *B = fnn__alloc_floats(bmax), *C = fnn__alloc_floats(cmax);
    if (!A || !B || !C) {
        free(A);
        free(B);
        free(C);
        return NAN;
    }
    for (size_t i = 0; i < amax; i++)
        A[i] = (float)(i % 17) * 0.01f;
    for (size_t i = 0; i < bmax; i++)
        B[i] = (float)(i % 13) * 0.01f;
    size_t reps = 0;
    double t0 = now(), el;
    do {
        for (size_t i = 0; i < t->n; i++) {
            const fnn__gemm_rec *r = &t->recs[i];
            int lda = r->trans_a ? r->m : r->k, ldb = r->trans_b ? r->k : r->n;
            cblas_sgemm(CblasRowMajor, r->trans_a ? CblasTrans : CblasNoTrans,
                        r->trans_b ? CblasTrans : CblasNoTrans, r->m, r->n, r->k, 1.0f, A, lda,
                        B, ldb, 0.0f, C, r->n);
        }
        reps++;
        el = now() - t0;
    } while (el < min_seconds || reps < 3);
    free(A);
    free(B);
    free(C);
    return el / (double)reps;
}

static int run(const struct arch *a, fnn_dataset *train, struct result *res)
{
    char err[256];
    fnn_model *m = NULL;
    int rc = fnn_model_create(&m, a->name, 1, err, sizeof err);
    if (rc) {
        fprintf(stderr, "bench_train: %s: %s\n", a->name, err);
        return rc;
    }
    fnn_train_options *o = NULL;
    fnn_train_options_create(&o);
    fnn_train_options_set(o, FNN_TRAIN_OPTIMIZER, a->optimizer);
    fnn_train_options_set(o, FNN_TRAIN_LEARNING_RATE, a->lr);
    fnn_train_options_set(o, FNN_TRAIN_BATCH_SIZE, a->batch);
    size_t n = fnn_dataset_size(train);

    /* Record the sgemm calls of one full step. */
    fnn__gemm_rec recs[64];
    fnn__gemm_trace trace = {recs, 0, 64};
    uint32_t *first = malloc((size_t)a->batch * sizeof *first);
    for (int i = 0; i < a->batch; i++)
        first[i] = (uint32_t)((size_t)i % n);
    fnn_dataset *one = NULL;
    rc = fnn_dataset_subset(train, first, (size_t)a->batch, &one);
    free(first);
    if (rc == FNN_OK) {
        m->trace = &trace;
        rc = fnn_model_train(m, one, o);
        m->trace = NULL;
    }
    fnn_dataset_free(one);
    double step_flops = 0;
    for (size_t i = 0; i < trace.n; i++)
        step_flops += 2.0 * recs[i].m * recs[i].n * recs[i].k;
    double flops = fnn_model_flops_per_sample(m, 1) * (double)n;
    if (rc == FNN_OK && fabs(step_flops - fnn_model_flops_per_sample(m, 1) * a->batch) >
                            1e-6 * step_flops) {
        fprintf(stderr, "bench_train: %s: traced FLOPs %g differ from the model's %g\n",
                a->name, step_flops, fnn_model_flops_per_sample(m, 1) * a->batch);
        rc = FNN_E_STATE;
    }

    double steps = (double)n / a->batch, t_gemm = 0;
    if (rc == FNN_OK) {
        t_gemm = time_gemms(&trace, 0.5 * fmin(steps, 200.0) / 200.0);
        double t0 = now();
        rc = fnn_model_train(m, train, o);
        res->epoch_s = now() - t0;
        /* sgemm measured again after the epoch: the mean of both sides it. */
        t_gemm = 0.5 * (t_gemm + time_gemms(&trace, 0.5 * fmin(steps, 200.0) / 200.0));
    }
    if (rc != FNN_OK) {
        fprintf(stderr, "bench_train: %s: %s\n", a->name, fnn_model_errmsg(m));
    } else {
        res->samples = n;
        res->gemms_per_step = trace.n;
        res->samples_per_s = (double)n / res->epoch_s;
        res->gflops = flops / res->epoch_s * 1e-9;
        res->sgemm_gflops = step_flops / t_gemm * 1e-9;
        res->ratio = res->gflops / res->sgemm_gflops;
    }
    fnn_train_options_free(o);
    fnn_model_free(m);
    return rc;
}

int main(int argc, char **argv)
{
    const char *dir = "data/fashion-mnist", *which = "all";
    size_t limit = 0, synthetic = 0;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--data") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--arch") && i + 1 < argc)
            which = argv[++i];
        else if (!strcmp(argv[i], "--samples") && i + 1 < argc)
            limit = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--synthetic") && i + 1 < argc)
            synthetic = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else {
            fprintf(stderr, "usage: bench_train [--data DIR] [--arch mlp|paper-cnn|all] "
                            "[--samples N] [--synthetic N] [--json]\n");
            return 2;
        }
    }
    char err[256];
    fnn_dataset *train = NULL;
    int rc;
    if (synthetic) {
        float *x = malloc(synthetic * 784 * sizeof *x);
        int32_t *y = malloc(synthetic * sizeof *y);
        fnn__rng r;
        fnn__rng_seed(&r, 1);
        for (size_t i = 0; i < synthetic * 784; i++)
            x[i] = fnn__rng_float(&r);
        for (size_t i = 0; i < synthetic; i++)
            y[i] = (int32_t)(i % 10);
        rc = fnn_dataset_from_arrays(&train, x, y, synthetic, 28, 28, 1, 10, err, sizeof err);
        free(x);
        free(y);
    } else {
        rc = fnn_dataset_load_dir(&train, dir, FNN_SPLIT_TRAIN, err, sizeof err);
    }
    if (rc) {
        fprintf(stderr, "bench_train: %s (%s)\n", err, fnn_strerror(rc));
        return 1;
    }
    if (limit && limit < fnn_dataset_size(train)) {
        fnn_dataset *part = NULL;
        uint32_t *idx = malloc(limit * sizeof *idx);
        for (size_t i = 0; i < limit; i++)
            idx[i] = (uint32_t)i;
        rc = fnn_dataset_subset(train, idx, limit, &part);
        free(idx);
        fnn_dataset_free(train);
        train = part;
        if (rc)
            return 1;
    }
    int status = 0, first = 1;
    if (json)
        printf("{\"library\": \"%s\", \"openblas_threads\": %d, \"results\": [", fnn_version_string(),
               openblas_get_num_threads());
    else
        printf("libfnn %s, OpenBLAS threads %d, %zu training samples\n", fnn_version_string(),
               openblas_get_num_threads(), fnn_dataset_size(train));
    for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++) {
        if (strcmp(which, "all") && strcmp(which, archs[i].name))
            continue;
        struct result r = {0};
        if (run(&archs[i], train, &r) != FNN_OK) {
            status = 1;
            continue;
        }
        if (json)
            printf("%s{\"arch\": \"%s\", \"batch\": %d, \"samples\": %zu, \"epoch_s\": %.4f, "
                   "\"samples_per_s\": %.1f, \"gflops\": %.2f, \"sgemm_gflops\": %.2f, "
                   "\"ratio\": %.3f, \"sgemm_calls_per_step\": %zu}",
                   first ? "" : ", ", archs[i].name, archs[i].batch, r.samples, r.epoch_s,
                   r.samples_per_s, r.gflops, r.sgemm_gflops, r.ratio, r.gemms_per_step);
        else
            printf("%-10s batch %3d  epoch %8.3f s  %9.0f samples/s  %7.2f GFLOP/s  "
                   "sgemm same shapes %7.2f GFLOP/s  ratio %.3f\n",
                   archs[i].name, archs[i].batch, r.epoch_s, r.samples_per_s, r.gflops,
                   r.sgemm_gflops, r.ratio);
        first = 0;
    }
    if (json)
        printf("]}\n");
    fnn_dataset_free(train);
    return status;
}
