/* Forgetting layers, rate policies, folding and the unlearning procedures,
 * on small synthetic data. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

static fnn_model *make(const char *spec, uint64_t seed)
{
    fnn_model *m = NULL;
    char err[256];
    ck_assert_msg(fnn_model_create(&m, spec, seed, err, sizeof err) == FNN_OK, "%s", err);
    return m;
}

static fnn_dataset *arrays(const float *x, const int32_t *y, size_t n, uint32_t dim,
                           uint32_t classes)
{
    fnn_dataset *ds = NULL;
    char err[256];
    ck_assert_msg(fnn_dataset_from_arrays(&ds, x, y, n, dim, 1, 1, classes, err, sizeof err) ==
                      FNN_OK,
                  "%s", err);
    return ds;
}

/* n points around `classes` separated centres in `dim` dimensions. */
static fnn_dataset *blobs(size_t n, uint32_t dim, uint32_t classes, uint64_t seed)
{
    float *x = malloc(n * dim * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    fnn__rng r;
    fnn__rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) {
        y[i] = (int32_t)(i % classes);
        for (uint32_t j = 0; j < dim; j++)
            x[i * dim + j] = (j % classes == (uint32_t)y[i] ? 2.0f : 0.0f) +
                             (fnn__rng_float(&r) - 0.5f);
    }
    fnn_dataset *ds = arrays(x, y, n, dim, classes);
    free(x);
    free(y);
    return ds;
}

/* "input:3,dense:4,dense:2" with W1 rows e0, e1, e2, -e0 and b1 = [0, .5, -.5, 0]. */
static fnn_model *hand_model(void)
{
    fnn_model *m = make("input:3,dense:4,dense:2", 1);
    float p[3 * 4 + 4 + 4 * 2 + 2] = {
        1, 0, 0, 0, 1, 0, 0, 0, 1, -1, 0, 0, /* W1 */
        0, 0.5f, -0.5f, 0,                   /* b1 */
        1, 0, 0, 0, 0, 0, 0, 1,              /* W2: out0 = h0, out1 = h3 */
        0, 0,                                /* b2 */
    };
    ck_assert_int_eq(fnn_model_set_params(m, p, sizeof p / sizeof p[0]), FNN_OK);
    return m;
}

/* Two samples with mean [2, 2, 2]: layer-0 means a = [2, 2.5, 1.5, -2]. */
static fnn_dataset *hand_data(void)
{
    float x[] = {1, 2, 3, 3, 2, 1};
    int32_t y[] = {0, 1};
    return arrays(x, y, 2, 3, 2);
}

START_TEST(test_decay_factors_exact)
{
    fnn_model *m = hand_model();
    ck_assert_uint_eq(fnn_model_num_forgetting_layers(m), 2);
    uint32_t units;
    ck_assert_int_eq(fnn_model_forgetting_layer_units(m, 0, &units), FNN_OK);
    ck_assert_uint_eq(units, 4);
    ck_assert_int_eq(fnn_model_forgetting_layer_units(m, 2, &units), FNN_E_RANGE);
    float tau[4], f[4];
    ck_assert_int_eq(fnn_model_get_tau(m, 0, tau, 4), FNN_OK);
    for (int i = 0; i < 4; i++)
        ck_assert(isinf(tau[i]));
    float set[4] = {1, 2, 4, INFINITY};
    ck_assert_int_eq(fnn_model_set_tau(m, 0, set, 4), FNN_OK);
    ck_assert_int_eq(fnn_model_set_clock(m, 2), FNN_OK);
    ck_assert_uint_eq(fnn_model_clock(m), 2);
    ck_assert_int_eq(fnn_model_decay_factors(m, 0, f, 4), FNN_OK);
    ck_assert_float_eq(f[0], expf(-2.0f));
    ck_assert_float_eq(f[1], expf(-1.0f));
    ck_assert_float_eq(f[2], expf(-0.5f));
    ck_assert_float_eq(f[3], 1.0f);
    ck_assert_int_eq(fnn_model_set_clock(m, 0), FNN_OK);
    ck_assert_int_eq(fnn_model_decay_factors(m, 0, f, 4), FNN_OK);
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(f[i], 1.0f);

    /* The decay changes predictions only while it is on. */
    ck_assert_int_eq(fnn_model_set_clock(m, 1), FNN_OK);
    fnn_dataset *ds = hand_data();
    float off[4], on[4];
    ck_assert_int_eq(fnn_model_decay_enabled(m, 0), 0);
    ck_assert_int_eq(fnn_model_predict_proba(m, ds, off, 4), FNN_OK);
    ck_assert_int_eq(fnn_model_set_decay(m, 0, 1), FNN_OK);
    ck_assert_int_eq(fnn_model_decay_enabled(m, 0), 1);
    ck_assert_int_eq(fnn_model_predict_proba(m, ds, on, 4), FNN_OK);
    /* sample 0: h = [1 e^-1, 2.5 e^-.5, 2.5 e^-.25, -1]; logits [e^-1, -1] */
    double z0 = exp(-1.0), z1 = -1.0;
    ck_assert_float_eq_tol(on[0], (float)(1.0 / (1.0 + exp(z1 - z0))), 1e-6f);
    ck_assert_float_eq_tol(off[0], (float)(1.0 / (1.0 + exp(-1.0 - 1.0))), 1e-6f);
    fnn_dataset_free(ds);
    fnn_model_free(m);
}
END_TEST

START_TEST(test_tau_validation)
{
    fnn_model *m = hand_model();
    float bad[4] = {1, 0, 2, 3};
    ck_assert_int_eq(fnn_model_set_tau(m, 0, bad, 4), FNN_E_INVALID);
    bad[1] = NAN;
    ck_assert_int_eq(fnn_model_set_tau(m, 0, bad, 4), FNN_E_INVALID);
    bad[1] = -1;
    ck_assert_int_eq(fnn_model_set_tau(m, 0, bad, 4), FNN_E_INVALID);
    float tau[4];
    ck_assert_int_eq(fnn_model_get_tau(m, 0, tau, 4), FNN_OK);
    ck_assert(isinf(tau[1])); /* unchanged */
    bad[1] = 5;
    ck_assert_int_eq(fnn_model_set_tau(m, 0, bad, 3), FNN_E_SHAPE);
    ck_assert_int_eq(fnn_model_set_tau(m, 7, bad, 4), FNN_E_RANGE);
    ck_assert_int_eq(fnn_model_set_tau(m, 0, NULL, 4), FNN_E_NULL);
    ck_assert_int_eq(fnn_model_get_tau(m, 0, tau, 3), FNN_E_SHAPE);
    ck_assert_int_eq(fnn_model_decay_factors(m, 0, tau, 3), FNN_E_SHAPE);
    ck_assert_int_eq(fnn_model_set_decay(m, 2, 1), FNN_E_RANGE);
    ck_assert_int_eq(fnn_model_decay_enabled(m, 2), FNN_E_RANGE);
    fnn_model_free(m);
}
END_TEST

START_TEST(test_ranks_hand_made)
{
    fnn_model *m = hand_model();
    fnn_dataset *ds = hand_data();
    uint32_t r[4];
    ck_assert_int_eq(fnn_model_rank_neurons(m, ds, 0, r, 4), FNN_OK);
    ck_assert_uint_eq(r[0], 2);
    ck_assert_uint_eq(r[1], 1);
    ck_assert_uint_eq(r[2], 3);
    ck_assert_uint_eq(r[3], 4);
    /* Layer 1: a = [h0, h3] = [2, -2] (no activation between the layers). */
    ck_assert_int_eq(fnn_model_rank_neurons(m, ds, 1, r, 2), FNN_OK);
    ck_assert_uint_eq(r[0], 1);
    ck_assert_uint_eq(r[1], 2);
    /* Ranks use the neurons' own activity: the layer's decay does not change them. */
    float tau[4] = {1, 100, 100, 100};
    ck_assert_int_eq(fnn_model_set_tau(m, 0, tau, 4), FNN_OK);
    ck_assert_int_eq(fnn_model_set_clock(m, 5), FNN_OK);
    ck_assert_int_eq(fnn_model_set_decay(m, 0, 1), FNN_OK);
    ck_assert_int_eq(fnn_model_rank_neurons(m, ds, 0, r, 4), FNN_OK);
    ck_assert_uint_eq(r[0], 2);
    ck_assert_uint_eq(r[1], 1);
    ck_assert_int_eq(fnn_model_rank_neurons(m, ds, 0, r, 3), FNN_E_SHAPE);
    ck_assert_int_eq(fnn_model_rank_neurons(m, NULL, 0, r, 4), FNN_E_NULL);
    ck_assert_int_eq(fnn_model_rank_neurons(m, ds, 9, r, 4), FNN_E_RANGE);
    fnn_dataset_free(ds);
    fnn_model_free(m);
}
END_TEST

static void expect_tau(fnn_model *m, size_t layer, const float *want, size_t n)
{
    float got[8];
    ck_assert_int_eq(fnn_model_get_tau(m, layer, got, n), FNN_OK);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "tau[%zu] = %g, want %g", i, (double)got[i],
                      (double)want[i]);
    ck_assert_int_eq(fnn_model_decay_enabled(m, layer), 1);
}

START_TEST(test_policies)
{
    fnn_model *m = hand_model();
    fnn_dataset *ds = hand_data();
    ck_assert_int_eq(fnn_model_apply_policy(m, NULL, FNN_POLICY_FIXED, 30, 0), FNN_OK);
    expect_tau(m, 0, (float[]){30, 30, 30, 30}, 4);
    expect_tau(m, 1, (float[]){30, 30}, 2);
    ck_assert_int_eq(fnn_model_apply_policy(m, NULL, FNN_POLICY_ORDERED, 0, 0), FNN_OK);
    expect_tau(m, 0, (float[]){1, 2, 3, 4}, 4);
    ck_assert_int_eq(fnn_model_apply_policy(m, ds, FNN_POLICY_RANK, 0, 0), FNN_OK);
    expect_tau(m, 0, (float[]){2, 1, 3, 4}, 4);
    expect_tau(m, 1, (float[]){1, 2}, 2);
    /* K = 64 at width 128 is 2 of 4 neurons here, and 1 of 2. */
    ck_assert_int_eq(fnn_model_apply_policy(m, ds, FNN_POLICY_TOPK, 64, 0), FNN_OK);
    expect_tau(m, 0, (float[]){1, 1, 3, 4}, 4);
    expect_tau(m, 1, (float[]){1, 2}, 2);
    ck_assert_int_eq(fnn_model_apply_policy(m, ds, FNN_POLICY_TOPK, 128, 0), FNN_OK);
    expect_tau(m, 0, (float[]){1, 1, 1, 1}, 4);
    /* Random: ranks, then K = 2 seeded neurons at 1. */
    ck_assert_int_eq(fnn_model_apply_policy(m, ds, FNN_POLICY_RANDOM, 64, 5), FNN_OK);
    float a[4], b[4];
    ck_assert_int_eq(fnn_model_get_tau(m, 0, a, 4), FNN_OK);
    const float rank[4] = {2, 1, 3, 4};
    int ones = 0;
    for (int i = 0; i < 4; i++) {
        ck_assert(a[i] == 1.0f || a[i] == rank[i]);
        ones += a[i] == 1.0f && rank[i] != 1.0f;
    }
    ck_assert_int_ge(ones, 1); /* at least one neuron besides rank 1 */
    ck_assert_int_eq(fnn_model_apply_policy(m, ds, FNN_POLICY_RANDOM, 64, 5), FNN_OK);
    ck_assert_int_eq(fnn_model_get_tau(m, 0, b, 4), FNN_OK);
    ck_assert_mem_eq(a, b, sizeof a);
    /* Errors. */
    ck_assert_int_eq(fnn_model_apply_policy(m, NULL, FNN_POLICY_RANK, 0, 0), FNN_E_NULL);
    ck_assert_int_eq(fnn_model_apply_policy(m, ds, 9, 0, 0), FNN_E_INVALID);
    ck_assert_int_eq(fnn_model_apply_policy(m, ds, FNN_POLICY_FIXED, NAN, 0), FNN_E_INVALID);
    /* The fixed policy's tau must be > 0; nothing changes otherwise. */
    ck_assert_int_eq(fnn_model_get_tau(m, 0, a, 4), FNN_OK);
    ck_assert_int_eq(fnn_model_apply_policy(m, NULL, FNN_POLICY_FIXED, -3, 0), FNN_E_INVALID);
    ck_assert_ptr_nonnull(strstr(fnn_model_errmsg(m), "got -3"));
    ck_assert_int_eq(fnn_model_apply_policy(m, NULL, FNN_POLICY_FIXED, 0, 0), FNN_E_INVALID);
    ck_assert_int_eq(fnn_model_get_tau(m, 0, b, 4), FNN_OK);
    ck_assert_mem_eq(a, b, sizeof a);
    fnn_dataset_free(ds);
    fnn_model_free(m);
}
END_TEST

START_TEST(test_fold_matches_live_decay)
{
    fnn_dataset *ds = blobs(50, 6, 3, 2);
    fnn_model *m = make("input:6,dense:5,relu,dense:4,relu,dense:3", 3);
    ck_assert_int_eq(fnn_model_apply_policy(m, ds, FNN_POLICY_RANK, 0, 0), FNN_OK);
    ck_assert_int_eq(fnn_model_set_clock(m, 3), FNN_OK);
    float live[150], folded[150];
    int32_t pl[50], pf[50];
    ck_assert_int_eq(fnn_model_predict_proba(m, ds, live, 150), FNN_OK);
    ck_assert_int_eq(fnn_model_predict(m, ds, pl, 50), FNN_OK);
    ck_assert_int_eq(fnn_model_fold_decay(m), FNN_OK);
    ck_assert_uint_eq(fnn_model_clock(m), 0);
    ck_assert_int_eq(fnn_model_decay_enabled(m, 0), 0);
    ck_assert_int_eq(fnn_model_predict_proba(m, ds, folded, 150), FNN_OK);
    ck_assert_int_eq(fnn_model_predict(m, ds, pf, 50), FNN_OK);
    ck_assert_mem_eq(pl, pf, sizeof pl);
    for (int i = 0; i < 150; i++)
        ck_assert_float_eq_tol(live[i], folded[i], 1e-6f);
    /* Folding again changes nothing. */
    ck_assert_int_eq(fnn_model_fold_decay(m), FNN_OK);
    ck_assert_int_eq(fnn_model_predict_proba(m, ds, live, 150), FNN_OK);
    ck_assert_mem_eq(live, folded, sizeof live);
    fnn_model_free(m);
    fnn_dataset_free(ds);
}
END_TEST

static fnn_model *trained(fnn_dataset *train)
{
    fnn_model *m = make("input:8,dense:16,relu,dense:12,relu,dense:4", 5);
    fnn_train_options *o = NULL;
    fnn_train_options_create(&o);
    fnn_train_options_set(o, FNN_TRAIN_EPOCHS, 20);
    fnn_train_options_set(o, FNN_TRAIN_BATCH_SIZE, 16);
    fnn_train_options_set(o, FNN_TRAIN_LEARNING_RATE, 0.01);
    ck_assert_int_eq(fnn_model_train(m, train, o), FNN_OK);
    fnn_train_options_free(o);
    double acc;
    fnn_model_evaluate(m, train, &acc, NULL);
    ck_assert_double_eq(acc, 1.0);
    return m;
}

START_TEST(test_posthoc_class_forgetting)
{
    fnn_dataset *train = blobs(400, 8, 4, 1), *test = blobs(200, 8, 4, 2);
    fnn_model *m = trained(train);
    fnn_forget_request *req = NULL;
    ck_assert_int_eq(fnn_forget_request_from_class(&req, train, 2, NULL, 0), FNN_OK);
    fnn_forget_options *o = NULL;
    fnn_forget_report *rep = NULL;
    ck_assert_int_eq(fnn_forget_options_create(&o), FNN_OK);
    ck_assert_int_eq(fnn_forget_report_create(&rep), FNN_OK);
    /* Small data: a budget of a fifth of the training pays for the repair
     * (on half the retain set per epoch: the deprecated key still works). */
    ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_BUDGET, 0.2), FNN_OK);
    ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_REPAIR_FRACTION, 0.5), FNN_OK);
    ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_BATCH_SIZE, 16), FNN_OK);
    ck_assert_int_eq(fnn_model_forget(m, req, test, o, rep), FNN_OK);
    double v;
    ck_assert_int_eq(fnn_forget_report_get(rep, FNN_REPORT_FORGET_ACC_BEFORE, &v), FNN_OK);
    ck_assert_double_eq(v, 1.0);
    ck_assert_int_eq(fnn_forget_report_get(rep, FNN_REPORT_FORGET_ACC_AFTER, &v), FNN_OK);
    ck_assert_double_le(v, 0.002);
    ck_assert_int_eq(fnn_forget_report_get(rep, FNN_REPORT_REACHED_TARGET, &v), FNN_OK);
    ck_assert_double_eq(v, 1);
    ck_assert_int_eq(fnn_forget_report_get(rep, FNN_REPORT_TARGET, &v), FNN_OK);
    ck_assert_double_eq(v, 0);
    ck_assert_double_le(fnn_test_class_accuracy(m, test, 2, 0), 0.05);
    ck_assert_double_ge(fnn_test_class_accuracy(m, test, 2, 1), 0.95);
    /* The decay is folded: a plain model. */
    ck_assert_uint_eq(fnn_model_clock(m), 0);
    ck_assert_int_eq(fnn_model_decay_enabled(m, 0), 0);
    size_t phases = fnn_forget_report_num_phases(rep);
    ck_assert_uint_ge(phases, 1);
    /* The clock starts at 4 for a class, with every layer decaying; later
     * rounds step by 2. The run kept within its budget. */
    ck_assert_int_eq(fnn_forget_report_get(rep, FNN_REPORT_FINAL_T, &v), FNN_OK);
    ck_assert_double_eq(v, 4.0 + 2.0 * (double)(phases - 1));
    double budget, spent;
    ck_assert_int_eq(fnn_forget_report_get(rep, FNN_REPORT_BUDGET_FLOPS, &budget), FNN_OK);
    ck_assert_int_eq(fnn_forget_report_get(rep, FNN_REPORT_METHOD_FLOPS, &spent), FNN_OK);
    ck_assert_double_le(spent, budget);
    for (size_t i = 0; i < phases; i++) {
        ck_assert_int_eq(fnn_forget_report_phase(rep, i, FNN_PHASE_KIND, &v), FNN_OK);
        ck_assert_double_eq(v, FNN_PHASE_DECAY);
        ck_assert_int_eq(fnn_forget_report_phase(rep, i, FNN_PHASE_T, &v), FNN_OK);
        ck_assert_double_eq(v, 4.0 + 2.0 * (double)i);
        ck_assert_int_eq(fnn_forget_report_phase(rep, i, FNN_PHASE_FLOPS, &v), FNN_OK);
        ck_assert_double_gt(v, 0);
    }
    ck_assert_int_eq(fnn_forget_report_phase(rep, phases, FNN_PHASE_T, &v), FNN_E_RANGE);
    ck_assert_int_eq(fnn_forget_report_phase(rep, 0, 99, &v), FNN_E_INVALID);
    ck_assert_int_eq(fnn_forget_report_get(rep, FNN_REPORT_FLOPS, &v), FNN_OK);
    ck_assert_double_gt(v, 0);
    ck_assert_int_eq(fnn_forget_report_get(rep, FNN_REPORT_SECONDS, &v), FNN_OK);
    ck_assert_double_gt(v, 0);
    ck_assert_int_eq(fnn_forget_report_get(rep, 99, &v), FNN_E_INVALID);
    fnn_forget_report_free(rep);
    fnn_forget_options_free(o);
    fnn_forget_request_free(req);
    fnn_model_free(m);
    fnn_dataset_free(train);
    fnn_dataset_free(test);
}
END_TEST

static void forget_params(uint64_t seed, float *out, size_t *n)
{
    fnn_dataset *train = blobs(200, 8, 4, 1), *test = blobs(100, 8, 4, 2);
    fnn_model *m = trained(train);
    fnn_forget_request *req = NULL;
    ck_assert_int_eq(fnn_forget_request_random(&req, train, 20, 3, NULL, 0), FNN_OK);
    fnn_forget_options *o = NULL;
    fnn_forget_options_create(&o);
    fnn_forget_options_set(o, FNN_FORGET_SEED, (double)seed);
    fnn_forget_options_set(o, FNN_FORGET_TARGET, 0.5);
    fnn_forget_options_set(o, FNN_FORGET_MAX_T, 3);
    fnn_forget_options_set(o, FNN_FORGET_POLICY, FNN_POLICY_RANDOM);
    ck_assert_int_eq(fnn_model_forget(m, req, test, o, NULL), FNN_OK);
    *n = fnn_model_num_params(m);
    fnn_model_get_params(m, out, *n);
    fnn_forget_options_free(o);
    fnn_forget_request_free(req);
    fnn_model_free(m);
    fnn_dataset_free(train);
    fnn_dataset_free(test);
}

START_TEST(test_forget_determinism)
{
    float a[512], b[512], c[512];
    size_t na, nb, nc;
    forget_params(1, a, &na);
    forget_params(1, b, &nb);
    forget_params(2, c, &nc);
    ck_assert_uint_eq(na, nb);
    ck_assert_mem_eq(a, b, na * sizeof(float));
    ck_assert_int_ne(memcmp(a, c, na * sizeof(float)), 0);
}
END_TEST

START_TEST(test_paper_protocol)
{
    fnn_dataset *train = blobs(200, 8, 4, 1), *test = blobs(100, 8, 4, 2);
    fnn_model *m = make("input:8,dense:16,relu,dense:12,relu,dense:4", 5);
    fnn_forget_request *req = NULL;
    ck_assert_int_eq(fnn_forget_request_from_class(&req, train, 1, NULL, 0), FNN_OK);
    fnn_forget_options *o = NULL;
    fnn_forget_report *rep = NULL;
    fnn_forget_options_create(&o);
    fnn_forget_report_create(&rep);
    ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_PROCEDURE, FNN_PROCEDURE_PAPER),
                     FNN_OK);
    ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_TURNS, 3), FNN_OK);
    ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_FOLD, 0), FNN_OK);
    ck_assert_int_eq(fnn_model_forget(m, req, NULL, o, rep), FNN_OK);
    ck_assert_uint_eq(fnn_forget_report_num_phases(rep), 6);
    double v;
    for (size_t i = 0; i < 6; i++) {
        ck_assert_int_eq(fnn_forget_report_phase(rep, i, FNN_PHASE_KIND, &v), FNN_OK);
        ck_assert_double_eq(v, i % 2 ? FNN_PHASE_UNLEARN : FNN_PHASE_LEARN);
        ck_assert_int_eq(fnn_forget_report_phase(rep, i, FNN_PHASE_TURN, &v), FNN_OK);
        ck_assert_double_eq(v, (double)(i / 2));
        ck_assert_int_eq(fnn_forget_report_phase(rep, i, FNN_PHASE_EPOCHS, &v), FNN_OK);
        ck_assert_double_eq(v, i % 2 ? 2 : 1);
        ck_assert_int_eq(fnn_forget_report_phase(rep, i, FNN_PHASE_HOLDOUT_ACC, &v), FNN_OK);
        ck_assert(isnan(v)); /* no holdout given */
    }
    ck_assert_int_eq(fnn_forget_report_get(rep, FNN_REPORT_EPOCHS, &v), FNN_OK);
    ck_assert_double_eq(v, 9);
    /* Not folded: the state of the last unlearning phase stays, t = U. */
    ck_assert_uint_eq(fnn_model_clock(m), 2);
    ck_assert_int_eq(fnn_model_decay_enabled(m, 1), 1);
    fnn_forget_report_free(rep);
    fnn_forget_options_free(o);
    fnn_forget_request_free(req);
    fnn_model_free(m);
    fnn_dataset_free(train);
    fnn_dataset_free(test);
}
END_TEST

START_TEST(test_forget_validation)
{
    fnn_dataset *train = blobs(40, 8, 4, 1), *other = blobs(10, 6, 4, 1);
    fnn_model *m = make("input:8,dense:4", 1);
    fnn_forget_request *req = NULL;
    ck_assert_int_eq(fnn_forget_request_random(&req, train, 5, 1, NULL, 0), FNN_OK);
    size_t n = fnn_model_num_params(m);
    float before[64], after[64];
    fnn_model_get_params(m, before, n);
    /* A random request's automatic target needs held-out data. */
    ck_assert_int_eq(fnn_model_forget(m, req, NULL, NULL, NULL), FNN_E_NULL);
    ck_assert_ptr_nonnull(strstr(fnn_model_errmsg(m), "holdout"));
    ck_assert_int_eq(fnn_model_forget(m, NULL, NULL, NULL, NULL), FNN_E_NULL);
    ck_assert_int_eq(fnn_model_forget(m, req, other, NULL, NULL), FNN_E_SHAPE);
    fnn_model *small = make("input:8,dense:3", 1);
    ck_assert_int_eq(fnn_model_forget(small, req, NULL, NULL, NULL), FNN_E_RANGE);
    fnn_model_free(small);
    fnn_model_get_params(m, after, n);
    ck_assert_mem_eq(before, after, n * sizeof(float));
    ck_assert_int_eq(fnn_model_decay_enabled(m, 0), 0);

    fnn_forget_options *o = NULL;
    ck_assert_int_eq(fnn_forget_options_create(&o), FNN_OK);
    double v;
    ck_assert_int_eq(fnn_forget_options_get(o, FNN_FORGET_POLICY, &v), FNN_OK);
    ck_assert_double_eq(v, -1);
    struct {
        int key;
        double value;
    } bad[] = {
        {FNN_FORGET_PROCEDURE, 2}, {FNN_FORGET_POLICY, 6},   {FNN_FORGET_TAU, 0},
        {FNN_FORGET_TOPK, 0},      {FNN_FORGET_MAX_T, 0},    {FNN_FORGET_TARGET, 1.5},
        {FNN_FORGET_TARGET, -0.5}, {FNN_FORGET_REPAIR_FRACTION, 0},
        {FNN_FORGET_TURNS, 0},     {FNN_FORGET_UNLEARN_EPOCHS, 0},
        {FNN_FORGET_BATCH_SIZE, 0}, {FNN_FORGET_LR_GAMMA, 0}, {FNN_FORGET_FOLD, 2},
        {FNN_FORGET_EVAL_SAMPLES, 0}, {FNN_FORGET_TOLERANCE, 2}, {FNN_FORGET_SEED, 0.5},
        {FNN_FORGET_LEARNING_RATE, NAN}, {FNN_FORGET_BUDGET, 0}, {FNN_FORGET_BUDGET, 2},
        {FNN_FORGET_T_START, 0}, {FNN_FORGET_T_STEP, 0}, {FNN_FORGET_RANK_SAMPLES, 0},
        {FNN_FORGET_REPAIR_SAMPLES, 0.5}, {FNN_FORGET_MONITOR_SAMPLES, 0},
        {FNN_FORGET_DECAY_OUTPUT, 3}, {-1, 0}, {99, 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(fnn_forget_options_set(o, bad[i].key, bad[i].value) == FNN_E_INVALID,
                      "key %d value %g accepted", bad[i].key, bad[i].value);
    ck_assert_int_eq(fnn_forget_options_get(o, FNN_FORGET_POLICY, &v), FNN_OK);
    ck_assert_double_eq(v, -1);
    fnn_forget_options_free(o);
    fnn_forget_request_free(req);
    fnn_model_free(m);
    fnn_dataset_free(train);
    fnn_dataset_free(other);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("forget");
    TCase *tc = tcase_create("state");
    tcase_add_test(tc, test_decay_factors_exact);
    tcase_add_test(tc, test_tau_validation);
    tcase_add_test(tc, test_ranks_hand_made);
    tcase_add_test(tc, test_policies);
    tcase_add_test(tc, test_fold_matches_live_decay);
    suite_add_tcase(s, tc);
    tc = tcase_create("procedures");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_posthoc_class_forgetting);
    tcase_add_test(tc, test_forget_determinism);
    tcase_add_test(tc, test_paper_protocol);
    tcase_add_test(tc, test_forget_validation);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fnn_test_main(suite());
}
