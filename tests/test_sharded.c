/* Sharded (SISA) models: assignment, staged training, aggregation, files,
 * and forgetting routed to the shards that hold a request's samples. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <fnn/fnn_sharded.h>

#include "internal.h"
#include "scratch.h"
#include "testutil.h"

enum { N = 480, DIM = 4, CLASSES = 3, S = 4, R = 3 };
static const char *SPEC = "input:4,dense:8,relu,dense:3";

static fnn_dataset *train_set, *test_set;

/* Three Gaussian-ish blobs in 4 dimensions, from a fixed generator. */
static fnn_dataset *blobs(size_t n, uint64_t seed)
{
    float *x = malloc(n * DIM * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    fnn__rng r;
    fnn__rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) {
        y[i] = (int32_t)(i % CLASSES);
        for (int d = 0; d < DIM; d++) {
            float u = fnn__rng_float(&r) + fnn__rng_float(&r) + fnn__rng_float(&r) - 1.5f;
            x[i * DIM + d] = 3.0f * (float)(d % CLASSES == y[i]) + 2.0f + u;
        }
    }
    fnn_dataset *ds = NULL;
    ck_assert_int_eq(fnn_dataset_from_arrays(&ds, x, y, n, DIM, 1, 1, CLASSES, NULL, 0), FNN_OK);
    free(x);
    free(y);
    return ds;
}

static fnn_train_options *recipe(int normalize)
{
    fnn_train_options *o = NULL;
    ck_assert_int_eq(fnn_train_options_create(&o), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_EPOCHS, 3), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_BATCH_SIZE, 16), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_OPTIMIZER, FNN_OPTIMIZER_SGD), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_LEARNING_RATE, 0.05), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_NORMALIZE, normalize), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set_u64(o, FNN_TRAIN_SEED, 11), FNN_OK);
    return o;
}

static fnn_sharded *make(int normalize, int train)
{
    fnn_train_options *o = recipe(normalize);
    fnn_sharded *s = NULL;
    char err[256];
    ck_assert_int_eq(fnn_sharded_create(&s, SPEC, N, S, R, 7, o, err, sizeof err), FNN_OK);
    fnn_train_options_free(o);
    if (train)
        ck_assert_int_eq(fnn_sharded_train(s, train_set), FNN_OK);
    return s;
}

static void fx_setup(void)
{
    make_tmpdir();
    train_set = blobs(N, 1);
    test_set = blobs(300, 2);
}

static void fx_teardown(void)
{
    fnn_dataset_free(train_set);
    fnn_dataset_free(test_set);
    remove_tmpdir();
}

/* The parameters of a model, in a new array. */
static float *params_of(const fnn_model *m, size_t *n)
{
    *n = fnn_model_num_params(m);
    float *p = malloc(*n * sizeof *p);
    ck_assert_int_eq(fnn_model_get_params(m, p, *n), FNN_OK);
    return p;
}

static int same_params(const fnn_model *a, const fnn_model *b)
{
    size_t na, nb;
    float *pa = params_of(a, &na), *pb = params_of(b, &nb);
    int same = na == nb && memcmp(pa, pb, na * sizeof *pa) == 0;
    free(pa);
    free(pb);
    return same;
}

static double shard_get(const fnn_sharded *s, uint32_t k, int key)
{
    double v = -99;
    ck_assert_int_eq(fnn_sharded_shard_get(s, k, key, &v), FNN_OK);
    return v;
}

/* A sample of shard k in slice r (0-based), the first in assignment order. */
static uint32_t sample_in(const fnn_sharded *s, uint32_t k, uint32_t r)
{
    for (uint32_t i = 0; i < N; i++) {
        uint32_t sk, sr;
        ck_assert_int_eq(fnn_sharded_locate(s, i, &sk, &sr), FNN_OK);
        if (sk == k && sr == r)
            return i;
    }
    ck_abort_msg("no sample in shard %u slice %u", k, r);
    return 0;
}

/* Reads a whole file. */
static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void spill(const char *path, const uint8_t *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* The names in the scratch directory, sorted, joined by '\n'. */
static char *listing(void)
{
    DIR *d = opendir(tmpdir);
    char *names[512];
    size_t n = 0, len = 1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 512)
        if (e->d_name[0] != '.') {
            names[n] = strdup(e->d_name);
            len += strlen(names[n++]) + 1;
        }
    closedir(d);
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    char *out = calloc(len, 1);
    for (size_t i = 0; i < n; i++) {
        strcat(out, names[i]);
        strcat(out, "\n");
        free(names[i]);
    }
    return out;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

START_TEST(create_bad_arguments)
{
    fnn_sharded *s = (fnn_sharded *)1;
    char err[256];
    ck_assert_int_eq(fnn_sharded_create(&s, SPEC, N, 0, 1, 0, NULL, err, sizeof err),
                     FNN_E_INVALID);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(strstr(err, "shards"));
    ck_assert_int_eq(fnn_sharded_create(&s, SPEC, N, 2, 0, 0, NULL, err, sizeof err),
                     FNN_E_INVALID);
    ck_assert_int_eq(fnn_sharded_create(&s, SPEC, 10, 4, 3, 0, NULL, err, sizeof err),
                     FNN_E_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "slice empty"));
    ck_assert_int_eq(fnn_sharded_create(&s, "dense:3", N, 2, 2, 0, NULL, err, sizeof err),
                     FNN_E_SPEC);
    ck_assert_int_eq(fnn_sharded_create(&s, NULL, N, 2, 2, 0, NULL, err, sizeof err),
                     FNN_E_NULL);
    ck_assert_int_eq(fnn_sharded_create(NULL, SPEC, N, 2, 2, 0, NULL, err, sizeof err),
                     FNN_E_NULL);
    ck_assert_int_eq(fnn_sharded_create(&s, SPEC, FNN_SHARDED_MAX_SAMPLES + 1, 2, 2, 0, NULL,
                                        err, sizeof err),
                     FNN_E_INVALID);
    fnn_sharded_free(NULL);
    ck_assert_str_eq(fnn_sharded_errmsg(NULL), "");
}
END_TEST

START_TEST(assignment_is_a_seeded_partition)
{
    fnn_sharded *a = make(0, 0), *b = make(0, 0), *c = NULL;
    ck_assert_int_eq(fnn_sharded_create(&c, SPEC, N, S, R, 8, NULL, NULL, 0), FNN_OK);
    int seen[N] = {0}, moved = 0;
    size_t total = 0;
    for (uint32_t k = 0; k < S; k++) {
        size_t n = (size_t)shard_get(a, k, FNN_SHARD_SAMPLES);
        ck_assert_uint_eq(n, N / S);
        ck_assert_uint_eq((size_t)shard_get(a, k, FNN_SHARD_RETAINED), n);
        uint32_t *idx = malloc(n * sizeof *idx);
        ck_assert_int_eq(fnn_sharded_shard_samples(a, k, idx, n - 1), FNN_E_SHAPE);
        ck_assert_int_eq(fnn_sharded_shard_samples(a, k, idx, n), FNN_OK);
        uint32_t last_slice = 0;
        for (size_t i = 0; i < n; i++) {
            uint32_t sk, sr, bk, br;
            ck_assert_int_eq(fnn_sharded_locate(a, idx[i], &sk, &sr), FNN_OK);
            ck_assert_int_eq(fnn_sharded_locate(b, idx[i], &bk, &br), FNN_OK);
            ck_assert_uint_eq(sk, k);
            ck_assert_uint_eq(bk, sk);
            ck_assert_uint_eq(br, sr);
            /* Slices come in order, N / S / R samples each. */
            ck_assert_uint_ge(sr, last_slice);
            ck_assert_uint_eq(sr, (uint32_t)(i * R / n));
            last_slice = sr;
            seen[idx[i]]++;
            uint32_t ck_;
            fnn_sharded_locate(c, idx[i], &ck_, NULL);
            moved += ck_ != k;
        }
        total += n;
        free(idx);
        ck_assert_double_eq(shard_get(a, k, FNN_SHARD_TRAINED), 0);
        ck_assert_double_eq(shard_get(a, k, FNN_SHARD_HELD), 1);
    }
    ck_assert_uint_eq(total, N);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(seen[i], 1);
    ck_assert_int_gt(moved, N / 2); /* another seed, another assignment */
    ck_assert_int_eq(fnn_sharded_locate(a, N, NULL, NULL), FNN_E_RANGE);
    ck_assert_int_eq(fnn_sharded_shard_get(a, S, FNN_SHARD_SAMPLES, &(double){0}),
                     FNN_E_RANGE);
    ck_assert_int_eq(fnn_sharded_shard_get(a, 0, 99, &(double){0}), FNN_E_INVALID);
    ck_assert_uint_eq(fnn_sharded_num_shards(a), S);
    ck_assert_uint_eq(fnn_sharded_num_slices(a), R);
    ck_assert_uint_eq(fnn_sharded_train_size(a), N);
    fnn_sharded_free(a);
    fnn_sharded_free(b);
    fnn_sharded_free(c);
}
END_TEST

START_TEST(train_and_aggregate)
{
    fnn_sharded *s = make(1, 0);
    int32_t *pred = malloc(300 * sizeof *pred);
    ck_assert_int_eq(fnn_sharded_predict(s, test_set, pred, 300), FNN_E_STATE);
    ck_assert_int_eq(fnn_sharded_train(s, train_set), FNN_OK);
    double acc = 0;
    ck_assert_int_eq(fnn_sharded_evaluate(s, test_set, &acc), FNN_OK);
    ck_assert_double_gt(acc, 0.9);
    /* Every stage trained its slices; the last on all of the shard. */
    for (uint32_t k = 0; k < S; k++) {
        const fnn_model *m = fnn_sharded_constituent(s, k);
        ck_assert_uint_eq(fnn_model_recipe_calls(m), R);
        fnn_train_options *o = NULL;
        uint64_t samples = 0;
        ck_assert_int_eq(fnn_model_recipe(m, &o, NULL, &samples), FNN_OK);
        ck_assert_uint_eq(samples, N / S);
        fnn_train_options_free(o);
        ck_assert_double_eq(shard_get(s, k, FNN_SHARD_EXACT_SLICES), R);
    }
    /* The mean: the shards' probabilities averaged in shard order. */
    size_t block = 300 * CLASSES;
    float *each = malloc(S * block * sizeof *each), *mean = malloc(block * sizeof *mean);
    for (uint32_t k = 0; k < S; k++)
        ck_assert_int_eq(fnn_sharded_shard_proba(s, k, test_set, each + k * block, block),
                         FNN_OK);
    ck_assert_int_eq(fnn_sharded_predict_proba(s, test_set, mean, block), FNN_OK);
    ck_assert_int_eq(fnn_sharded_predict(s, test_set, pred, 300), FNN_OK);
    for (size_t i = 0; i < 300; i++) {
        int best = 0;
        for (int c = 0; c < CLASSES; c++) {
            double sum = 0;
            for (uint32_t k = 0; k < S; k++)
                sum += each[k * block + i * CLASSES + c];
            ck_assert_float_eq(mean[i * CLASSES + c], (float)(sum / S));
            if (mean[i * CLASSES + c] > mean[i * CLASSES + best])
                best = c;
        }
        ck_assert_int_eq(pred[i], best);
    }
    /* The vote: shares of the shards' predicted classes. */
    ck_assert_int_eq(fnn_sharded_set_aggregation(s, 7), FNN_E_INVALID);
    ck_assert_int_eq(fnn_sharded_set_aggregation(s, FNN_AGGREGATE_VOTE), FNN_OK);
    ck_assert_int_eq(fnn_sharded_aggregate(s, each, S * block - 1, 300, mean, pred),
                     FNN_E_SHAPE);
    ck_assert_int_eq(fnn_sharded_aggregate(s, each, S * block, 300, mean, pred), FNN_OK);
    for (size_t i = 0; i < 300; i++) {
        int votes[CLASSES] = {0};
        for (uint32_t k = 0; k < S; k++) {
            const float *p = each + k * block + i * CLASSES;
            int b = 0;
            for (int c = 1; c < CLASSES; c++)
                b = p[c] > p[b] ? c : b;
            votes[b]++;
        }
        for (int c = 0; c < CLASSES; c++) {
            ck_assert_float_eq(mean[i * CLASSES + c], (float)votes[c] / S);
            ck_assert_int_le(votes[c], votes[pred[i]]);
        }
    }
    free(each);
    free(mean);
    free(pred);
    fnn_sharded_free(s);
}
END_TEST

START_TEST(save_and_load)
{
    fnn_sharded *s = make(1, 1), *t = NULL;
    const char *path = tpath("model.fnns");
    char err[256];
    ck_assert_int_eq(fnn_sharded_save(s, path), FNN_OK);
    char *before = listing();
    ck_assert_uint_eq(count_lines(before), 1 + S * R);
    ck_assert_int_eq(fnn_sharded_load(&t, path, 1, err, sizeof err), FNN_OK);
    float *a = malloc(300 * CLASSES * sizeof *a), *b = malloc(300 * CLASSES * sizeof *b);
    ck_assert_int_eq(fnn_sharded_predict_proba(s, test_set, a, 300 * CLASSES), FNN_OK);
    ck_assert_int_eq(fnn_sharded_predict_proba(t, test_set, b, 300 * CLASSES), FNN_OK);
    ck_assert_mem_eq(a, b, 300 * CLASSES * sizeof *a);
    /* Saved again unchanged: the same files; the manifest bytes are the same. */
    size_t l1, l2;
    uint8_t *m1 = slurp(path, &l1);
    ck_assert_int_eq(fnn_sharded_save(t, path), FNN_OK);
    uint8_t *m2 = slurp(path, &l2);
    ck_assert_uint_eq(l1, l2);
    ck_assert_mem_eq(m1, m2, l1);
    char *after = listing();
    ck_assert_str_eq(before, after);
    /* A manifest alone holds no shard until asked. */
    fnn_sharded *u = NULL;
    ck_assert_int_eq(fnn_sharded_load(&u, path, 0, err, sizeof err), FNN_OK);
    ck_assert_double_eq(shard_get(u, 1, FNN_SHARD_HELD), 0);
    ck_assert_double_eq(shard_get(u, 1, FNN_SHARD_TRAINED), 1);
    ck_assert_ptr_null(fnn_sharded_constituent(u, 1));
    ck_assert_int_eq(fnn_sharded_shard_proba(u, 1, test_set, a, 300 * CLASSES), FNN_E_STATE);
    ck_assert_int_eq(fnn_sharded_save(u, tpath("other.fnns")), FNN_E_STATE);
    ck_assert_int_eq(fnn_sharded_hold(u, 1), FNN_OK);
    ck_assert(same_params(fnn_sharded_constituent(u, 1), fnn_sharded_constituent(s, 1)));
    ck_assert_int_eq(fnn_sharded_release(u, 1), FNN_OK);
    ck_assert_ptr_null(fnn_sharded_constituent(u, 1));
    /* Saving to another path writes a whole new set. */
    ck_assert_int_eq(fnn_sharded_save(t, tpath("copy.fnns")), FNN_OK);
    char *both = listing();
    ck_assert_uint_eq(count_lines(both), 2 * (1 + S * R));
    free(both);
    free(before);
    free(after);
    free(m1);
    free(m2);
    free(a);
    free(b);
    fnn_sharded_free(s);
    fnn_sharded_free(t);
    fnn_sharded_free(u);
}
END_TEST

/* Forgets `idx` from a trained model with `method`; returns the model. */
static fnn_sharded *forgotten(int normalize, const uint32_t *idx, size_t n, int method)
{
    fnn_sharded *s = make(normalize, 1);
    fnn_forget_options *o = NULL;
    ck_assert_int_eq(fnn_forget_options_create(&o), FNN_OK);
    ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_METHOD, method), FNN_OK);
    ck_assert_int_eq(fnn_sharded_forget(s, train_set, idx, n, test_set, o), FNN_OK);
    fnn_forget_options_free(o);
    return s;
}

/* Retrained shards equal a fresh training of their retained samples. */
static void check_exact(int normalize)
{
    fnn_sharded *orig = make(normalize, 1);
    /* Shard 1: a sample of its last slice (only the last stage retrains);
     * shard 2: one of its first and one of its middle slice. */
    uint32_t idx[3] = {sample_in(orig, 1, R - 1), sample_in(orig, 2, 1), sample_in(orig, 2, 0)};
    fnn_sharded *s = forgotten(normalize, idx, 3, FNN_METHOD_RETRAIN);
    const char *path = tpath("exact.fnns");
    ck_assert_int_eq(fnn_sharded_save(s, path), FNN_OK);
    fnn_sharded *fresh = NULL;
    ck_assert_int_eq(fnn_sharded_load(&fresh, path, 1, NULL, 0), FNN_OK);
    for (uint32_t k = 0; k < S; k++) {
        int hit = k == 1 || k == 2;
        ck_assert_double_eq(shard_get(s, k, FNN_SHARD_LAST_FORGOTTEN), k == 1 ? 1 : k == 2 ? 2 : 0);
        ck_assert_double_eq(shard_get(s, k, FNN_SHARD_LAST_METHOD),
                            hit ? FNN_METHOD_RETRAIN : -1);
        ck_assert_double_eq(shard_get(s, k, FNN_SHARD_LAST_SLICES), k == 1 ? 1 : k == 2 ? R : 0);
        ck_assert_double_eq(shard_get(s, k, FNN_SHARD_FORGOTTEN), k == 1 ? 1 : k == 2 ? 2 : 0);
        ck_assert(hit ? shard_get(s, k, FNN_SHARD_LAST_FLOPS) > 0
                      : shard_get(s, k, FNN_SHARD_LAST_FLOPS) == 0);
        /* Unaffected shards are as they were; affected ones changed. */
        ck_assert_int_eq(same_params(fnn_sharded_constituent(s, k),
                                     fnn_sharded_constituent(orig, k)),
                         !hit);
        if (!hit)
            continue;
        ck_assert_int_eq(fnn_sharded_train_shard(fresh, k, train_set), FNN_OK);
        ck_assert(same_params(fnn_sharded_constituent(s, k), fnn_sharded_constituent(fresh, k)));
        /* The constituent's deletion history records the request. */
        const fnn_model *m = fnn_sharded_constituent(s, k);
        ck_assert_uint_eq(fnn_model_history_count(m), 1);
        double v;
        ck_assert_int_eq(fnn_model_history_get(m, 0, FNN_HISTORY_METHOD, &v), FNN_OK);
        ck_assert_double_eq(v, FNN_METHOD_RETRAIN);
        ck_assert_int_eq(fnn_model_history_get(m, 0, FNN_HISTORY_FORGET_SIZE, &v), FNN_OK);
        ck_assert_double_eq(v, k == 1 ? 1 : 2);
        /* It trained on the retained samples only. */
        uint64_t samples = 0;
        fnn_train_options *o = NULL;
        ck_assert_int_eq(fnn_model_recipe(m, &o, NULL, &samples), FNN_OK);
        fnn_train_options_free(o);
        ck_assert_uint_eq(samples, N / S - (k == 1 ? 1 : 2));
        uint32_t *kept = malloc(N / S * sizeof *kept);
        ck_assert_int_eq(fnn_sharded_shard_samples(s, k, kept, N / S), FNN_OK);
        for (size_t i = 0; i < N / S - (k == 1 ? 1 : 2); i++)
            for (int x = 0; x < 3; x++)
                ck_assert_uint_ne(kept[i], idx[x]);
        free(kept);
    }
    /* A sample cannot be forgotten twice. */
    ck_assert_int_eq(fnn_sharded_forget(s, train_set, idx, 1, NULL, NULL), FNN_E_STATE);
    fnn_sharded_free(orig);
    fnn_sharded_free(s);
    fnn_sharded_free(fresh);
}

START_TEST(forget_exact_equals_fresh_training)
{
    check_exact(1);
}
END_TEST

START_TEST(forget_exact_equals_fresh_training_unnormalized)
{
    check_exact(0);
}
END_TEST

START_TEST(forget_changes_only_affected_files)
{
    fnn_sharded *s = make(1, 1);
    const char *path = tpath("m.fnns");
    ck_assert_int_eq(fnn_sharded_save(s, path), FNN_OK);
    char *before = listing();
    uint32_t x = sample_in(s, 3, 1);
    fnn_forget_options *o = NULL;
    ck_assert_int_eq(fnn_forget_options_create(&o), FNN_OK);
    ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_METHOD, FNN_METHOD_RETRAIN), FNN_OK);
    ck_assert_int_eq(fnn_sharded_forget(s, train_set, &x, 1, NULL, o), FNN_OK);
    ck_assert_int_eq(fnn_sharded_save(s, path), FNN_OK);
    char *after = listing();
    /* Shard 3's stages 1 and 2 are new files, the rest byte for byte the same. */
    size_t kept = 0, changed = 0;
    for (char *line = strtok(before, "\n"); line; line = strtok(NULL, "\n")) {
        if (strcmp(line, "m.fnns") == 0)
            continue;
        int present = strstr(after, line) != NULL;
        kept += present;
        changed += !present;
        ck_assert_int_eq(present, strncmp(line, "m.fnns.3.", 9) != 0 || line[9] == '0');
    }
    ck_assert_uint_eq(kept, S * R - 2);
    ck_assert_uint_eq(changed, 2);
    ck_assert_uint_eq(count_lines(after), 1 + S * R);
    fnn_forget_options_free(o);
    free(before);
    free(after);
    fnn_sharded_free(s);
}
END_TEST

START_TEST(forget_by_method_then_exact)
{
    fnn_sharded *orig = make(1, 1);
    uint32_t a = sample_in(orig, 0, 1), b = sample_in(orig, 0, 2);
    /* Fine-tuning shard 0: its checkpoints from slice 1 on hold sample a. */
    fnn_sharded *s = forgotten(1, &a, 1, FNN_METHOD_FINETUNE);
    ck_assert_double_eq(shard_get(s, 0, FNN_SHARD_LAST_METHOD), FNN_METHOD_FINETUNE);
    ck_assert_double_eq(shard_get(s, 0, FNN_SHARD_EXACT_SLICES), 1);
    ck_assert_double_eq(shard_get(s, 0, FNN_SHARD_LAST_SLICES), 0);
    ck_assert(shard_get(s, 0, FNN_SHARD_LAST_FLOPS) > 0);
    ck_assert(!same_params(fnn_sharded_constituent(s, 0), fnn_sharded_constituent(orig, 0)));
    for (uint32_t k = 1; k < S; k++)
        ck_assert(same_params(fnn_sharded_constituent(s, k), fnn_sharded_constituent(orig, k)));
    ck_assert_uint_eq(fnn_model_history_count(fnn_sharded_constituent(s, 0)), 1);
    /* Saved: one checkpoint and the constituent. */
    const char *path = tpath("ft.fnns");
    ck_assert_int_eq(fnn_sharded_save(s, path), FNN_OK);
    char *files = listing();
    size_t shard0 = 0;
    for (char *line = strtok(files, "\n"); line; line = strtok(NULL, "\n"))
        shard0 += strncmp(line, "ft.fnns.0.", 10) == 0;
    ck_assert_uint_eq(shard0, 2);
    free(files);
    /* An exact deletion in slice 2 retrains from the checkpoint of slice 0,
     * which never saw sample a: it equals a fresh training without a and b. */
    fnn_forget_options *o = NULL;
    ck_assert_int_eq(fnn_forget_options_create(&o), FNN_OK);
    ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_METHOD, FNN_METHOD_RETRAIN), FNN_OK);
    ck_assert_int_eq(fnn_sharded_forget(s, train_set, &b, 1, NULL, o), FNN_OK);
    ck_assert_double_eq(shard_get(s, 0, FNN_SHARD_LAST_SLICES), R - 1);
    ck_assert_double_eq(shard_get(s, 0, FNN_SHARD_EXACT_SLICES), R);
    ck_assert_uint_eq(fnn_model_history_count(fnn_sharded_constituent(s, 0)), 2);
    fnn_sharded *fresh = NULL;
    ck_assert_int_eq(fnn_sharded_load(&fresh, path, 1, NULL, 0), FNN_OK);
    ck_assert_int_eq(fnn_sharded_save(s, path), FNN_OK);
    fnn_sharded_free(fresh);
    ck_assert_int_eq(fnn_sharded_load(&fresh, path, 1, NULL, 0), FNN_OK);
    ck_assert_double_eq(shard_get(fresh, 0, FNN_SHARD_FORGOTTEN), 2);
    ck_assert_int_eq(fnn_sharded_train_shard(fresh, 0, train_set), FNN_OK);
    ck_assert(same_params(fnn_sharded_constituent(s, 0), fnn_sharded_constituent(fresh, 0)));
    fnn_forget_options_free(o);
    fnn_sharded_free(orig);
    fnn_sharded_free(s);
    fnn_sharded_free(fresh);
}
END_TEST

START_TEST(forget_bad_requests_change_nothing)
{
    fnn_sharded *s = make(0, 1), *orig = make(0, 1);
    uint32_t ok = sample_in(s, 0, 0);
    uint32_t dup[2] = {ok, ok}, range[2] = {ok, N};
    ck_assert_int_eq(fnn_sharded_forget(s, train_set, dup, 2, NULL, NULL), FNN_E_DUPLICATE);
    ck_assert_int_eq(fnn_sharded_forget(s, train_set, range, 2, NULL, NULL), FNN_E_RANGE);
    ck_assert_int_eq(fnn_sharded_forget(s, train_set, &ok, 0, NULL, NULL), FNN_E_EMPTY);
    ck_assert_int_eq(fnn_sharded_forget(s, train_set, NULL, 1, NULL, NULL), FNN_E_NULL);
    ck_assert_int_eq(fnn_sharded_forget(s, test_set, &ok, 1, NULL, NULL), FNN_E_SHAPE);
    ck_assert_ptr_nonnull(strstr(fnn_sharded_errmsg(s), "300 samples"));
    /* Every sample of shard 1: nothing would be left. */
    uint32_t all[N / S];
    ck_assert_int_eq(fnn_sharded_shard_samples(s, 1, all, N / S), FNN_OK);
    ck_assert_int_eq(fnn_sharded_forget(s, train_set, all, N / S, NULL, NULL), FNN_E_EMPTY);
    /* fnn needs a holdout set for its automatic target: the method's failure. */
    ck_assert_int_ne(fnn_sharded_forget(s, train_set, &ok, 1, NULL, NULL), FNN_OK);
    for (uint32_t k = 0; k < S; k++) {
        ck_assert(same_params(fnn_sharded_constituent(s, k), fnn_sharded_constituent(orig, k)));
        ck_assert_double_eq(shard_get(s, k, FNN_SHARD_FORGOTTEN), 0);
    }
    /* An untrained shard cannot serve a request. */
    fnn_sharded *u = make(0, 0);
    ck_assert_int_eq(fnn_sharded_forget(u, train_set, &ok, 1, NULL, NULL), FNN_E_STATE);
    fnn_sharded_free(u);
    fnn_sharded_free(s);
    fnn_sharded_free(orig);
}
END_TEST

/* Loads a manifest buffer; returns the status and checks failures leave no
 * handle and say why. */
static int load_buf(const uint8_t *b, size_t n)
{
    fnn_sharded *s = (fnn_sharded *)1;
    char err[256] = "";
    int rc = fnn_sharded_load_manifest_buffer(&s, b, n, err, sizeof err);
    if (rc == FNN_OK) {
        ck_assert_ptr_nonnull(s);
        fnn_sharded_free(s);
    } else {
        ck_assert_ptr_null(s);
        ck_assert_str_ne(err, "");
    }
    return rc;
}

/* Rewrites the trailing CRC-32 of a manifest image. */
static void fix_crc(uint8_t *b, size_t n)
{
    uLong c = crc32(0L, b, (uInt)(n - 4));
    for (int i = 0; i < 4; i++)
        b[n - 4 + (size_t)i] = (uint8_t)(c >> (8 * i));
}

START_TEST(manifest_bad_input)
{
    fnn_sharded *s = make(0, 1);
    const char *path = tpath("bad.fnns");
    ck_assert_int_eq(fnn_sharded_save(s, path), FNN_OK);
    size_t n;
    uint8_t *b = slurp(path, &n), *c = malloc(n + 8);
    ck_assert_int_eq(load_buf(b, n), FNN_OK);
    ck_assert_int_eq(load_buf(b, 10), FNN_E_TRUNCATED);
    ck_assert_int_eq(load_buf(b, n - 1), FNN_E_TRUNCATED);
    memcpy(c, b, n);
    c[0] ^= 1;
    ck_assert_int_eq(load_buf(c, n), FNN_E_FORMAT);
    memcpy(c, b, n);
    c[n / 2] ^= 0x40;
    ck_assert_int_eq(load_buf(c, n), FNN_E_CHECKSUM);
    memcpy(c, b, n);
    c[8] = 2;
    fix_crc(c, n);
    ck_assert_int_eq(load_buf(c, n), FNN_E_VERSION);
    memcpy(c, b, n);
    c[12] = 1;
    fix_crc(c, n);
    ck_assert_int_eq(load_buf(c, n), FNN_E_VERSION);
    memcpy(c, b, n);
    c[20] = 0; /* no shards */
    fix_crc(c, n);
    ck_assert_int_eq(load_buf(c, n), FNN_E_FORMAT);
    /* Trailing bytes, declared in the header. */
    memcpy(c, b, n - 4);
    memset(c + n - 4, 0, 4);
    c[24] = (uint8_t)(n + 4);
    c[25] = (uint8_t)((n + 4) >> 8);
    fix_crc(c, n + 4);
    ck_assert_int_eq(load_buf(c, n + 4), FNN_E_FORMAT);
    /* A spec that does not parse (first byte of "input"). */
    memcpy(c, b, n);
    c[36] = 'X';
    fix_crc(c, n);
    ck_assert_int_eq(load_buf(c, n), FNN_E_SPEC);
    /* Shard 0's record claims a shard of another number. */
    size_t slen = (size_t)b[32] | (size_t)b[33] << 8, rec = 36 + slen + ((4 - (slen & 3)) & 3) +
                                                          40 + 12 * FNN__TRAIN_NKEYS;
    memcpy(c, b, n);
    c[rec + 4] = 3;
    fix_crc(c, n);
    ck_assert_int_eq(load_buf(c, n), FNN_E_FORMAT);
    ck_assert_int_eq(load_buf(NULL, 0), FNN_E_NULL);

    /* Shard files: missing, or with other bytes than the manifest records. */
    fnn_sharded *t = NULL;
    char err[256];
    ck_assert_int_eq(fnn_sharded_load(&t, tpath("missing.fnns"), 1, err, sizeof err), FNN_E_IO);
    ck_assert_int_eq(fnn_sharded_load(&t, path, 0, err, sizeof err), FNN_OK);
    char *files = listing(), *first = NULL;
    for (char *line = strtok(files, "\n"); line && !first; line = strtok(NULL, "\n"))
        if (strncmp(line, "bad.fnns.2.", 11) == 0)
            first = line;
    ck_assert_ptr_nonnull(first);
    char victim[600];
    snprintf(victim, sizeof victim, "%s/%s", tmpdir, first);
    size_t vn;
    uint8_t *v = slurp(victim, &vn);
    v[vn / 2] ^= 1;
    spill(victim, v, vn);
    ck_assert_int_eq(fnn_sharded_hold(t, 2), FNN_E_CHECKSUM);
    ck_assert_double_eq(shard_get(t, 2, FNN_SHARD_HELD), 0);
    spill(victim, v, vn - 1);
    ck_assert_int_eq(fnn_sharded_hold(t, 2), FNN_E_FORMAT);
    unlink(victim);
    ck_assert_int_eq(fnn_sharded_hold(t, 2), FNN_E_IO);
    ck_assert_int_eq(fnn_sharded_hold(t, 1), FNN_OK);
    fnn_sharded_free(t);
    ck_assert_int_eq(fnn_sharded_load(&t, path, 1, err, sizeof err), FNN_E_IO);
    ck_assert_ptr_null(t);
    free(v);
    free(files);
    free(b);
    free(c);
    fnn_sharded_free(s);
}
END_TEST

START_TEST(distributed_save_by_records)
{
    /* Two handles of one model hold two shards each, as two processes would. */
    fnn_sharded *a = make(1, 0), *b = make(1, 0);
    for (uint32_t k = 0; k < S; k++) {
        ck_assert_int_eq(fnn_sharded_release(k % 2 ? a : b, k), FNN_OK);
        ck_assert_int_eq(fnn_sharded_train_shard(k % 2 ? b : a, k, train_set), FNN_OK);
    }
    ck_assert_int_eq(fnn_sharded_train_shard(a, 1, train_set), FNN_E_STATE);
    const char *path = tpath("dist.fnns");
    ck_assert_int_eq(fnn_sharded_save(a, path), FNN_E_STATE);
    uint8_t buf[4096];
    size_t need;
    for (uint32_t k = 1; k < S; k += 2)
        ck_assert_int_eq(fnn_sharded_shard_export(b, k, buf, sizeof buf, &need), FNN_E_STATE);
    for (uint32_t k = 0; k < S; k++)
        ck_assert_int_eq(fnn_sharded_save_shard(k % 2 ? b : a, path, k), FNN_OK);
    ck_assert_int_eq(fnn_sharded_save_manifest(a, path), FNN_E_STATE);
    for (uint32_t k = 1; k < S; k += 2) {
        ck_assert_int_eq(fnn_sharded_shard_export(b, k, NULL, 0, &need), FNN_OK);
        ck_assert_uint_le(need, sizeof buf);
        ck_assert_int_eq(fnn_sharded_shard_export(b, k, buf, need - 1, &need), FNN_E_SHAPE);
        ck_assert_int_eq(fnn_sharded_shard_export(b, k, buf, sizeof buf, &need), FNN_OK);
        ck_assert_int_eq(fnn_sharded_shard_import(b, buf, need), FNN_E_STATE);
        ck_assert_int_eq(fnn_sharded_shard_import(a, buf, need - 1), FNN_E_TRUNCATED);
        ck_assert_int_eq(fnn_sharded_shard_import(a, buf, need), FNN_OK);
    }
    ck_assert_int_eq(fnn_sharded_save_manifest(a, path), FNN_OK);
    /* The set loads whole and predicts as one model trained in one process. */
    fnn_sharded *whole = NULL, *one = make(1, 1);
    ck_assert_int_eq(fnn_sharded_load(&whole, path, 1, NULL, 0), FNN_OK);
    for (uint32_t k = 0; k < S; k++)
        ck_assert(same_params(fnn_sharded_constituent(whole, k), fnn_sharded_constituent(one, k)));
    fnn_sharded_free(a);
    fnn_sharded_free(b);
    fnn_sharded_free(whole);
    fnn_sharded_free(one);
}
END_TEST

static Suite *sharded_suite(void)
{
    Suite *s = suite_create("sharded");
    TCase *tc = tcase_create("sharded");
    tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
    tcase_add_test(tc, create_bad_arguments);
    tcase_add_test(tc, assignment_is_a_seeded_partition);
    tcase_add_test(tc, train_and_aggregate);
    tcase_add_test(tc, save_and_load);
    tcase_add_test(tc, forget_exact_equals_fresh_training);
    tcase_add_test(tc, forget_exact_equals_fresh_training_unnormalized);
    tcase_add_test(tc, forget_changes_only_affected_files);
    tcase_add_test(tc, forget_by_method_then_exact);
    tcase_add_test(tc, forget_bad_requests_change_nothing);
    tcase_add_test(tc, manifest_bad_input);
    tcase_add_test(tc, distributed_save_by_records);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fnn_test_main(sharded_suite());
}
