/* Read-only calls on one model from many threads at once (the thread-safety
 * convention of include/fnn/fnn.h): every result must equal, bit for bit,
 * what the same call returned on the same samples with one thread: the
 * calls on data sets and on raw arrays. Each thread also scores the shared
 * model with a LiRA attack of its own.
 *
 * The model has every kind of layer and buffer a workspace holds (a
 * two-channel input made channel-major, im2col, max pooling, a dense layer
 * on a channel-major input, dropout, decay factors below 1), and the data
 * sets are longer than one inference chunk, so two calls that shared any
 * part of a workspace would corrupt each other's results. .ci/run also runs
 * this program under ThreadSanitizer. Threads record mismatches and the main
 * thread asserts, since Check's assertions are not for other threads. */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fnn/fnn.h>
#include "testutil.h"

enum {
    ROWS = 8,
    COLS = 8,
    CHANNELS = 2,
    DIM = ROWS * COLS * CHANNELS,
    CLASSES = 3,
    N_TRAIN = 600,  /* more than one inference chunk (256 samples) */
    N_HELD = 120,
    N_SUBSETS = 12, /* subset 0 is the whole training set */
    THREADS = 8,
    ROUNDS = 4,     /* every thread runs every subset's calls ROUNDS times */
    MEMBERSHIP = FNN_MEMBERSHIP_TPR_01 + 1,
    CANDIDATES = 40, /* of each thread's shadow attack */
    SHADOWS = 2
};

static const char spec[] = "input:8x8x2,conv2d:4:3,relu,maxpool:2,flatten,dense:16,relu,"
                           "dropout:0.25,dense:3";

/* A 64-bit LCG: the data need no library code. */
static uint32_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}

/* Class 0 lights the top half of channel 0, class 1 the left half of channel
 * 1, class 2 the diagonal of both; noise on top. */
static fnn_dataset *images(size_t n, uint64_t seed)
{
    float *x = malloc(n * DIM * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    ck_assert_ptr_nonnull(x);
    ck_assert_ptr_nonnull(y);
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        y[i] = (int32_t)(lcg(&s) % CLASSES);
        for (int r = 0; r < ROWS; r++)
            for (int c = 0; c < COLS; c++)
                for (int k = 0; k < CHANNELS; k++) {
                    int on = y[i] == 0 ? k == 0 && r < ROWS / 2
                           : y[i] == 1 ? k == 1 && c < COLS / 2
                                       : r == c;
                    float noise = (float)(lcg(&s) % 1000) / 1000.0f;
                    x[((i * ROWS + r) * COLS + c) * CHANNELS + k] =
                        (on ? 0.7f : 0.1f) + 0.3f * noise;
                }
    }
    fnn_dataset *ds = NULL;
    char err[256];
    ck_assert_msg(fnn_dataset_from_arrays(&ds, x, y, n, ROWS, COLS, CHANNELS, CLASSES, err,
                                          sizeof err) == FNN_OK,
                  "%s", err);
    free(x);
    free(y);
    return ds;
}

/* What every read-only call returns on one set of samples. */
typedef struct results {
    size_t n;
    float *proba, *logits, *losses; /* n * CLASSES, n * CLASSES, n */
    int32_t *pred;                  /* n */
    double acc, loss;
    double class_acc[CLASSES];
    size_t class_count[CLASSES];
    double membership[MEMBERSHIP];  /* against the held-out set */
    uint32_t *ranks;                /* every forgetting layer's, one after another */
    /* The same samples as a raw array (fnn_model_*_array()). */
    float *a_proba, *a_logits, *a_losses;
    int32_t *a_pred;
} results;

/* The shared model and data, and the single-threaded reference results. */
static fnn_model *model;
static fnn_dataset *train, *held;
static uint32_t *subset_idx[N_SUBSETS];
static size_t subset_n[N_SUBSETS];
static float *subset_x[N_SUBSETS];   /* each subset's features as a raw array */
static int32_t *subset_y[N_SUBSETS];
static results ref[N_SUBSETS];
static size_t total_units, n_params;
static float *ref_params;
static uint8_t *ref_bytes;
static size_t ref_len;
/* One LiRA attack per thread (an attack handle is used by one thread at a
 * time), each scoring the shared model, and its scores by one thread. */
static fnn_attack *attack[THREADS];
static double ref_scores[THREADS][CANDIDATES];

static void results_alloc(results *r, size_t n)
{
    memset(r, 0, sizeof *r);
    r->n = n;
    r->proba = malloc(n * CLASSES * sizeof *r->proba);
    r->logits = malloc(n * CLASSES * sizeof *r->logits);
    r->losses = malloc(n * sizeof *r->losses);
    r->pred = malloc(n * sizeof *r->pred);
    r->ranks = malloc(total_units * sizeof *r->ranks);
    r->a_proba = malloc(n * CLASSES * sizeof *r->a_proba);
    r->a_logits = malloc(n * CLASSES * sizeof *r->a_logits);
    r->a_losses = malloc(n * sizeof *r->a_losses);
    r->a_pred = malloc(n * sizeof *r->a_pred);
    ck_assert(r->proba && r->logits && r->losses && r->pred && r->ranks && r->a_proba &&
              r->a_logits && r->a_losses && r->a_pred);
}

static void results_free(results *r)
{
    free(r->proba);
    free(r->logits);
    free(r->losses);
    free(r->pred);
    free(r->ranks);
    free(r->a_proba);
    free(r->a_logits);
    free(r->a_losses);
    free(r->a_pred);
}

/* Runs every read-only call on ds, and on subset k's raw array, into r;
 * returns the first status that is not FNN_OK (0 when all succeeded). Safe
 * in any thread. */
static int run_calls(const fnn_dataset *ds, int k, results *r)
{
    size_t n = r->n;
    const float *x = subset_x[k];
    int rc;
    if ((rc = fnn_model_predict_proba(model, ds, r->proba, n * CLASSES)) ||
        (rc = fnn_model_logits(model, ds, r->logits, n * CLASSES)) ||
        (rc = fnn_model_predict(model, ds, r->pred, n)) ||
        (rc = fnn_model_evaluate(model, ds, &r->acc, &r->loss)) ||
        (rc = fnn_model_sample_losses(model, ds, r->losses, n)) ||
        (rc = fnn_model_class_accuracies(model, ds, r->class_acc, r->class_count, CLASSES)) ||
        (rc = fnn_model_membership(model, ds, held, 7, r->membership, MEMBERSHIP)) ||
        (rc = fnn_model_predict_proba_array(model, x, FNN_DTYPE_FLOAT32, n, r->a_proba,
                                            n * CLASSES)) ||
        (rc = fnn_model_logits_array(model, x, FNN_DTYPE_FLOAT32, n, r->a_logits,
                                     n * CLASSES)) ||
        (rc = fnn_model_predict_array(model, x, FNN_DTYPE_FLOAT32, n, r->a_pred, n)) ||
        (rc = fnn_model_sample_losses_array(model, x, FNN_DTYPE_FLOAT32, subset_y[k], n,
                                            r->a_losses, n)))
        return rc;
    size_t off = 0;
    for (size_t layer = 0; layer < fnn_model_num_forgetting_layers(model); layer++) {
        uint32_t units = 0;
        if ((rc = fnn_model_forgetting_layer_units(model, layer, &units)) ||
            (rc = fnn_model_rank_neurons(model, ds, layer, r->ranks + off, units)))
            return rc;
        off += units;
    }
    return FNN_OK;
}

/* Names the first result of got that differs from want, or returns NULL. */
static const char *first_difference(const results *got, const results *want)
{
    size_t n = want->n;
    if (memcmp(got->proba, want->proba, n * CLASSES * sizeof *got->proba))
        return "fnn_model_predict_proba";
    if (memcmp(got->logits, want->logits, n * CLASSES * sizeof *got->logits))
        return "fnn_model_logits";
    if (memcmp(got->pred, want->pred, n * sizeof *got->pred))
        return "fnn_model_predict";
    if (memcmp(&got->acc, &want->acc, sizeof got->acc) ||
        memcmp(&got->loss, &want->loss, sizeof got->loss))
        return "fnn_model_evaluate";
    if (memcmp(got->losses, want->losses, n * sizeof *got->losses))
        return "fnn_model_sample_losses";
    if (memcmp(got->class_acc, want->class_acc, sizeof got->class_acc) ||
        memcmp(got->class_count, want->class_count, sizeof got->class_count))
        return "fnn_model_class_accuracies";
    if (memcmp(got->membership, want->membership, sizeof got->membership))
        return "fnn_model_membership";
    if (memcmp(got->ranks, want->ranks, total_units * sizeof *got->ranks))
        return "fnn_model_rank_neurons";
    if (memcmp(got->a_proba, want->a_proba, n * CLASSES * sizeof *got->a_proba))
        return "fnn_model_predict_proba_array";
    if (memcmp(got->a_logits, want->a_logits, n * CLASSES * sizeof *got->a_logits))
        return "fnn_model_logits_array";
    if (memcmp(got->a_pred, want->a_pred, n * sizeof *got->a_pred))
        return "fnn_model_predict_array";
    if (memcmp(got->a_losses, want->a_losses, n * sizeof *got->a_losses))
        return "fnn_model_sample_losses_array";
    return NULL;
}

static void setup(void)
{
    train = images(N_TRAIN, 1);
    held = images(N_HELD, 2);
    char err[256];
    ck_assert_msg(fnn_model_create(&model, spec, 3, err, sizeof err) == FNN_OK, "%s", err);
    fnn_train_options *o = NULL;
    ck_assert_int_eq(fnn_train_options_create(&o), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_EPOCHS, 3), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_LEARNING_RATE, 0.01), FNN_OK);
    ck_assert_int_eq(fnn_model_train(model, train, o), FNN_OK);
    fnn_train_options_free(o);
    /* Forgetting state as after a few unlearning steps: rank-based rates on
     * 30 samples, decay on, clock 3, so every factor path runs. */
    uint32_t first[30];
    for (uint32_t i = 0; i < 30; i++)
        first[i] = i;
    fnn_dataset *forget = NULL;
    ck_assert_int_eq(fnn_dataset_subset(train, first, 30, &forget), FNN_OK);
    ck_assert_int_eq(fnn_model_apply_policy(model, forget, FNN_POLICY_RANK, 0, 0), FNN_OK);
    fnn_dataset_free(forget);
    ck_assert_int_eq(fnn_model_set_clock(model, 3), FNN_OK);
    double acc = 0;
    ck_assert_int_eq(fnn_model_evaluate(model, train, &acc, NULL), FNN_OK);
    ck_assert_double_gt(acc, 0.5); /* a model that has learned something */

    total_units = 0;
    for (size_t k = 0; k < fnn_model_num_forgetting_layers(model); k++) {
        uint32_t units = 0;
        ck_assert_int_eq(fnn_model_forgetting_layer_units(model, k, &units), FNN_OK);
        total_units += units;
    }
    n_params = fnn_model_num_params(model);
    ref_params = malloc(n_params * sizeof *ref_params);
    ck_assert_ptr_nonnull(ref_params);
    ck_assert_int_eq(fnn_model_get_params(model, ref_params, n_params), FNN_OK);
    ck_assert_int_eq(fnn_model_save_buffer(model, NULL, 0, &ref_len), FNN_OK);
    ref_bytes = malloc(ref_len);
    ck_assert_ptr_nonnull(ref_bytes);
    ck_assert_int_eq(fnn_model_save_buffer(model, ref_bytes, ref_len, &ref_len), FNN_OK);
    uint32_t cand[CANDIDATES];
    for (uint32_t i = 0; i < CANDIDATES; i++)
        cand[i] = 3 * i;
    for (int t = 0; t < THREADS; t++) {
        ck_assert_msg(fnn_attack_create(&attack[t], model, train, cand, CANDIDATES, err,
                                        sizeof err) == FNN_OK,
                      "%s", err);
        ck_assert_int_eq(fnn_attack_set(attack[t], FNN_ATTACK_SHADOWS, SHADOWS), FNN_OK);
        ck_assert_int_eq(fnn_attack_set(attack[t], FNN_ATTACK_SEED, t), FNN_OK);
        ck_assert_msg(fnn_attack_train(attack[t]) == FNN_OK, "%s",
                      fnn_attack_errmsg(attack[t]));
        ck_assert_int_eq(fnn_attack_scores(attack[t], model, ref_scores[t], CANDIDATES),
                         FNN_OK);
    }

    /* Subsets of different sizes and orders (0: the whole set), with their
     * reference results computed by this thread alone. */
    uint64_t s = 11;
    for (int k = 0; k < N_SUBSETS; k++) {
        size_t n = k == 0 ? N_TRAIN : 6 + lcg(&s) % (N_TRAIN - 6);
        uint32_t *idx = malloc(n * sizeof *idx);
        ck_assert_ptr_nonnull(idx);
        for (size_t i = 0; i < n; i++)
            idx[i] = k == 0 ? (uint32_t)i : lcg(&s) % N_TRAIN; /* repeats are allowed */
        subset_idx[k] = idx;
        subset_n[k] = n;
        fnn_dataset *ds = NULL;
        ck_assert_int_eq(fnn_dataset_subset(train, idx, n, &ds), FNN_OK);
        subset_x[k] = malloc(n * DIM * sizeof *subset_x[k]);
        subset_y[k] = malloc(n * sizeof *subset_y[k]);
        ck_assert(subset_x[k] && subset_y[k]);
        ck_assert_int_eq(fnn_dataset_features(ds, subset_x[k], n * DIM), FNN_OK);
        ck_assert_int_eq(fnn_dataset_labels(ds, subset_y[k], n), FNN_OK);
        results_alloc(&ref[k], n);
        int rc = run_calls(ds, k, &ref[k]);
        ck_assert_msg(rc == FNN_OK, "subset %d: %s: %s", k, fnn_strerror(rc),
                      fnn_model_errmsg(model));
        /* The same call twice in one thread: the reference is repeatable. */
        results again;
        results_alloc(&again, n);
        ck_assert_int_eq(run_calls(ds, k, &again), FNN_OK);
        const char *diff = first_difference(&again, &ref[k]);
        ck_assert_msg(diff == NULL, "subset %d: %s differs between two runs", k, diff);
        results_free(&again);
        fnn_dataset_free(ds);
    }
}

static void teardown(void)
{
    for (int k = 0; k < N_SUBSETS; k++) {
        results_free(&ref[k]);
        free(subset_idx[k]);
        free(subset_x[k]);
        free(subset_y[k]);
    }
    for (int t = 0; t < THREADS; t++)
        fnn_attack_free(attack[t]);
    free(ref_params);
    free(ref_bytes);
    fnn_model_free(model);
    fnn_dataset_free(train);
    fnn_dataset_free(held);
}

/* ---- the threads ---------------------------------------------------------------- */

typedef struct worker {
    int id;
    pthread_barrier_t *start;
    size_t calls;         /* rounds of run_calls() completed */
    int failures;
    char first[256];      /* the first failure */
} worker;

static void record(worker *w, const char *fmt, const char *what, int subset, int round)
{
    if (w->failures++ == 0)
        snprintf(w->first, sizeof w->first, fmt, what, subset, round);
}

static void *work(void *arg)
{
    worker *w = arg;
    results got[N_SUBSETS];
    for (int k = 0; k < N_SUBSETS; k++) {
        memset(&got[k], 0, sizeof got[k]);
        got[k].n = subset_n[k];
        got[k].proba = malloc(subset_n[k] * CLASSES * sizeof(float));
        got[k].logits = malloc(subset_n[k] * CLASSES * sizeof(float));
        got[k].losses = malloc(subset_n[k] * sizeof(float));
        got[k].pred = malloc(subset_n[k] * sizeof(int32_t));
        got[k].ranks = malloc(total_units * sizeof(uint32_t));
        got[k].a_proba = malloc(subset_n[k] * CLASSES * sizeof(float));
        got[k].a_logits = malloc(subset_n[k] * CLASSES * sizeof(float));
        got[k].a_losses = malloc(subset_n[k] * sizeof(float));
        got[k].a_pred = malloc(subset_n[k] * sizeof(int32_t));
    }
    float *params = malloc(n_params * sizeof *params);
    uint8_t *bytes = malloc(ref_len);
    pthread_barrier_wait(w->start);
    for (int round = 0; round < ROUNDS; round++) {
        for (int j = 0; j < N_SUBSETS; j++) {
            /* Every thread walks the subsets from its own starting point, so
             * different threads run different samples at any moment. */
            int k = (w->id * 5 + j) % N_SUBSETS;
            results *r = &got[k];
            if (!r->proba || !r->logits || !r->losses || !r->pred || !r->ranks ||
                !r->a_proba || !r->a_logits || !r->a_losses || !r->a_pred || !params ||
                !bytes) {
                record(w, "%s (subset %d, round %d)", "out of memory", k, round);
                goto done;
            }
            /* The whole set through the shared handle; the others through a
             * view this thread makes of the shared set. */
            fnn_dataset *view = NULL;
            if (k > 0 && fnn_dataset_subset(train, subset_idx[k], subset_n[k], &view) != FNN_OK) {
                record(w, "%s (subset %d, round %d)", "fnn_dataset_subset failed", k, round);
                continue;
            }
            int rc = run_calls(k == 0 ? train : view, k, r);
            if (rc != FNN_OK) {
                record(w, "%s (subset %d, round %d)", fnn_strerror(rc), k, round);
            } else {
                const char *diff = first_difference(r, &ref[k]);
                if (diff)
                    record(w, "%s differs from one thread's result (subset %d, round %d)",
                           diff, k, round);
            }
            /* Calls that fail: their messages are written under a lock. */
            if (fnn_model_predict(model, k == 0 ? train : view, r->pred, 0) != FNN_E_SHAPE)
                record(w, "%s (subset %d, round %d)", "a short buffer was not FNN_E_SHAPE", k,
                       round);
            const uint32_t beyond = N_TRAIN;
            fnn_dataset *none = NULL;
            if (fnn_dataset_subset(train, &beyond, 1, &none) != FNN_E_RANGE || none)
                record(w, "%s (subset %d, round %d)", "an index beyond was not FNN_E_RANGE", k,
                       round);
            fnn_dataset_free(view);
            w->calls++;
        }
        /* The other read-only calls: copies, serialisation, queries, and
         * this thread's shadow attack scoring the shared model. */
        size_t len = 0;
        fnn_model *copy = NULL;
        if (fnn_model_save_buffer(model, bytes, ref_len, &len) != FNN_OK || len != ref_len ||
            memcmp(bytes, ref_bytes, ref_len))
            record(w, "%s (subset %d, round %d)", "fnn_model_save_buffer", -1, round);
        if (fnn_model_clone(model, &copy) != FNN_OK ||
            fnn_model_get_params(copy, params, n_params) != FNN_OK ||
            memcmp(params, ref_params, n_params * sizeof *params))
            record(w, "%s (subset %d, round %d)", "fnn_model_clone", -1, round);
        fnn_model_free(copy);
        if (fnn_model_get_params(model, params, n_params) != FNN_OK ||
            memcmp(params, ref_params, n_params * sizeof *params))
            record(w, "%s (subset %d, round %d)", "fnn_model_get_params", -1, round);
        double scores[CANDIDATES];
        if (fnn_attack_scores(attack[w->id], model, scores, CANDIDATES) != FNN_OK ||
            memcmp(scores, ref_scores[w->id], sizeof scores))
            record(w, "%s (subset %d, round %d)", "fnn_attack_scores", -1, round);
    }
done:
    for (int k = 0; k < N_SUBSETS; k++)
        results_free(&got[k]);
    free(params);
    free(bytes);
    return NULL;
}

START_TEST(test_concurrent_reads_match_one_thread)
{
    pthread_barrier_t start;
    ck_assert_int_eq(pthread_barrier_init(&start, NULL, THREADS), 0);
    worker w[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].id = i;
        w[i].start = &start;
        ck_assert_int_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < THREADS; i++) {
        ck_assert_msg(w[i].failures == 0, "thread %d: %d failures, the first: %s", i,
                      w[i].failures, w[i].first);
        ck_assert_uint_eq(w[i].calls, (size_t)ROUNDS * N_SUBSETS);
    }
    /* The model is as it was: the calls only read it. */
    size_t len = 0;
    uint8_t *bytes = malloc(ref_len);
    ck_assert_ptr_nonnull(bytes);
    ck_assert_int_eq(fnn_model_save_buffer(model, bytes, ref_len, &len), FNN_OK);
    ck_assert_uint_eq(len, ref_len);
    ck_assert_mem_eq(bytes, ref_bytes, ref_len);
    free(bytes);
    /* And one thread still gets the reference. */
    results again;
    results_alloc(&again, N_TRAIN);
    ck_assert_int_eq(run_calls(train, 0, &again), FNN_OK);
    ck_assert_ptr_null(first_difference(&again, &ref[0]));
    results_free(&again);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("threads");
    TCase *tc = tcase_create("threads");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_concurrent_reads_match_one_thread);
    suite_add_tcase(s, tc);
    return fnn_test_main(s);
}
