/* Public API conventions: versions, status codes, NULL handles everywhere. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fnn/fnn.h>
#include "testutil.h"

START_TEST(test_versions)
{
    ck_assert_uint_eq(fnn_version_number(), FNN_VERSION_NUMBER);
    ck_assert_uint_eq(FNN_VERSION_NUMBER,
                      FNN_VERSION_MAJOR * 10000 + FNN_VERSION_MINOR * 100 + FNN_VERSION_PATCH);
    ck_assert_str_eq(fnn_version_string(), FNN_VERSION_STRING);
    char buf[32];
    snprintf(buf, sizeof buf, "%d.%d.%d", FNN_VERSION_MAJOR, FNN_VERSION_MINOR,
             FNN_VERSION_PATCH);
    ck_assert_str_eq(buf, fnn_version_string());
}
END_TEST

START_TEST(test_status_codes_pinned)
{
    /* The values are part of the ABI. */
    ck_assert_int_eq(FNN_OK, 0);
    ck_assert_int_eq(FNN_E_NULL, -1);
    ck_assert_int_eq(FNN_E_INVALID, -2);
    ck_assert_int_eq(FNN_E_NOMEM, -3);
    ck_assert_int_eq(FNN_E_IO, -4);
    ck_assert_int_eq(FNN_E_FORMAT, -5);
    ck_assert_int_eq(FNN_E_TRUNCATED, -6);
    ck_assert_int_eq(FNN_E_CHECKSUM, -7);
    ck_assert_int_eq(FNN_E_VERSION, -8);
    ck_assert_int_eq(FNN_E_SHAPE, -9);
    ck_assert_int_eq(FNN_E_RANGE, -10);
    ck_assert_int_eq(FNN_E_SPEC, -11);
    ck_assert_int_eq(FNN_E_NUMERIC, -12);
    ck_assert_int_eq(FNN_E_CANCELLED, -13);
    ck_assert_int_eq(FNN_E_STATE, -14);
    ck_assert_int_eq(FNN_E_DUPLICATE, -15);
    ck_assert_int_eq(FNN_E_EMPTY, -16);
    const char *unknown = fnn_strerror(12345);
    ck_assert_ptr_nonnull(unknown);
    for (int a = 0; a >= FNN_E_EMPTY; a--) {
        const char *sa = fnn_strerror(a);
        ck_assert_ptr_nonnull(sa);
        ck_assert_str_ne(sa, unknown);
        for (int b = a - 1; b >= FNN_E_EMPTY; b--)
            ck_assert_str_ne(sa, fnn_strerror(b));
    }
    ck_assert_str_eq(fnn_strerror(FNN_E_EMPTY - 1), unknown);
    ck_assert_str_eq(fnn_strerror(1), unknown);
}
END_TEST

START_TEST(test_null_handles)
{
    float f[4];
    int32_t l[4];
    uint32_t u[4];
    double d;
    ck_assert_ptr_nonnull(fnn_model_errmsg(NULL));
    ck_assert_ptr_nonnull(fnn_dataset_errmsg(NULL));
    ck_assert_ptr_nonnull(fnn_train_options_errmsg(NULL));
    ck_assert_ptr_nonnull(fnn_forget_options_errmsg(NULL));
    ck_assert_uint_eq(fnn_model_spec(NULL, NULL, 0), 0);
    ck_assert_uint_eq(fnn_model_num_params(NULL), 0);
    ck_assert_uint_eq(fnn_model_num_classes(NULL), 0);
    ck_assert_int_eq(fnn_model_input_shape(NULL, u, u, u), FNN_E_NULL);
    ck_assert_int_eq(fnn_model_get_params(NULL, f, 4), FNN_E_NULL);
    ck_assert_int_eq(fnn_model_set_params(NULL, f, 4), FNN_E_NULL);
    ck_assert_double_eq(fnn_model_flops_per_sample(NULL, 1), 0);
    ck_assert_int_eq(fnn_model_clone(NULL, NULL), FNN_E_NULL);
    ck_assert_int_eq(fnn_model_train(NULL, NULL, NULL), FNN_E_NULL);
    ck_assert_int_eq(fnn_model_predict_proba(NULL, NULL, f, 4), FNN_E_NULL);
    ck_assert_int_eq(fnn_model_predict(NULL, NULL, l, 4), FNN_E_NULL);
    ck_assert_int_eq(fnn_model_evaluate(NULL, NULL, &d, &d), FNN_E_NULL);
    ck_assert_int_eq(fnn_model_sample_losses(NULL, NULL, f, 4), FNN_E_NULL);
    ck_assert_int_eq(fnn_model_save(NULL, "/tmp/x"), FNN_E_NULL);
    ck_assert_int_eq(fnn_model_fold_input_normalization(NULL, f, f, 1), FNN_E_NULL);
    ck_assert_uint_eq(fnn_model_num_forgetting_layers(NULL), 0);
    ck_assert_int_eq(fnn_model_forgetting_layer_units(NULL, 0, u), FNN_E_NULL);
    ck_assert_int_eq(fnn_model_get_tau(NULL, 0, f, 4), FNN_E_NULL);
    ck_assert_int_eq(fnn_model_set_tau(NULL, 0, f, 4), FNN_E_NULL);
    ck_assert_int_eq(fnn_model_set_decay(NULL, 0, 1), FNN_E_NULL);
    ck_assert_int_eq(fnn_model_decay_enabled(NULL, 0), FNN_E_NULL);
    ck_assert_int_eq(fnn_model_set_clock(NULL, 1), FNN_E_NULL);
    ck_assert_uint_eq(fnn_model_clock(NULL), 0);
    ck_assert_int_eq(fnn_model_decay_factors(NULL, 0, f, 4), FNN_E_NULL);
    ck_assert_int_eq(fnn_model_fold_decay(NULL), FNN_E_NULL);
    ck_assert_int_eq(fnn_model_rank_neurons(NULL, NULL, 0, u, 4), FNN_E_NULL);
    ck_assert_int_eq(fnn_model_apply_policy(NULL, NULL, FNN_POLICY_FIXED, 30, 0), FNN_E_NULL);
    ck_assert_int_eq(fnn_model_forget(NULL, NULL, NULL, NULL, NULL), FNN_E_NULL);
    ck_assert_int_eq(fnn_train_options_create(NULL), FNN_E_NULL);
    ck_assert_int_eq(fnn_train_options_set_progress(NULL, NULL, NULL), FNN_E_NULL);
    ck_assert_int_eq(fnn_forget_options_create(NULL), FNN_E_NULL);
    ck_assert_int_eq(fnn_forget_options_set(NULL, 0, 0), FNN_E_NULL);
    ck_assert_int_eq(fnn_forget_options_get(NULL, 0, &d), FNN_E_NULL);
    ck_assert_int_eq(fnn_forget_report_create(NULL), FNN_E_NULL);
    ck_assert_int_eq(fnn_forget_report_get(NULL, 0, &d), FNN_E_NULL);
    ck_assert_uint_eq(fnn_forget_report_num_phases(NULL), 0);
    ck_assert_int_eq(fnn_forget_report_phase(NULL, 0, 0, &d), FNN_E_NULL);
    /* Destructors accept NULL. */
    fnn_model_free(NULL);
    fnn_dataset_free(NULL);
    fnn_train_options_free(NULL);
    fnn_forget_options_free(NULL);
    fnn_forget_report_free(NULL);
    fnn_forget_request_free(NULL);
}
END_TEST

START_TEST(test_constructor_error_buffers)
{
    fnn_model *m = (fnn_model *)1;
    char err[8];
    memset(err, 'x', sizeof err);
    /* A short buffer still gets a NUL-terminated prefix. */
    ck_assert_int_eq(fnn_model_create(&m, "input:4,bogus,dense:2", 0, err, sizeof err),
                     FNN_E_SPEC);
    ck_assert_ptr_null(m);
    ck_assert_uint_eq(strlen(err), sizeof err - 1);
    /* A NULL buffer is allowed. */
    ck_assert_int_eq(fnn_model_create(&m, "nonsense", 0, NULL, 0), FNN_E_SPEC);
    ck_assert_int_eq(fnn_model_load(&m, "/nonexistent/dir/model.fnn", NULL, 0), FNN_E_IO);
    ck_assert_ptr_null(m);
}
END_TEST

START_TEST(test_errmsg_is_per_handle)
{
    fnn_model *a = NULL, *b = NULL;
    ck_assert_int_eq(fnn_model_create(&a, "input:4,dense:2", 0, NULL, 0), FNN_OK);
    ck_assert_int_eq(fnn_model_create(&b, "input:4,dense:2", 0, NULL, 0), FNN_OK);
    float p[4];
    ck_assert_int_eq(fnn_model_set_params(a, p, 4), FNN_E_SHAPE);
    ck_assert_ptr_nonnull(strstr(fnn_model_errmsg(a), "10"));
    ck_assert_str_eq(fnn_model_errmsg(b), "");
    fnn_model_free(a);
    fnn_model_free(b);
}
END_TEST

/* ---- names and self-describing options ----------------------------------------- */

START_TEST(test_names)
{
    static const struct {
        int kind;
        size_t count;
        const char *first, *last;
    } want[] = {
        {FNN_NAMES_OPTIMIZER, 2, "sgd", "adam"},
        {FNN_NAMES_LR_SCHEDULE, 2, "constant", "step"},
        {FNN_NAMES_POLICY, 6, "fixed", "contrast"},
        {FNN_NAMES_METHOD, 7, "fnn", "none"},
        {FNN_NAMES_REQUEST_KIND, 3, "indices", "random"},
        {FNN_NAMES_PHASE_KIND, 7, "learn", "measure"},
        {FNN_NAMES_PRESET, 2, "mlp", "paper-cnn"},
        {FNN_NAMES_SPLIT, 2, "train", "test"},
        {FNN_NAMES_TRAIN_KEY, FNN_TRAIN_NORMALIZE + 1, "epochs", "normalize"},
        {FNN_NAMES_FORGET_KEY, FNN_FORGET_MONITOR_SAMPLES + 1, "procedure", "monitor-samples"},
        {FNN_NAMES_REPORT_KEY, FNN_REPORT_BUDGET_FLOPS + 1, "seconds", "budget-flops"},
        {FNN_NAMES_HISTORY_KEY, FNN_HISTORY_FLOPS + 1, "method", "flops"},
        {FNN_NAMES_MEMBERSHIP_KEY, FNN_MEMBERSHIP_TPR_01 + 1, "member-acc", "tpr-01"},
        {FNN_NAMES_PHASE_KEY, FNN_PHASE_HOLDOUT_ACC + 1, "kind", "holdout-acc"},
        {FNN_NAMES_DTYPE, 2, "float32", "uint8"},
        {FNN_NAMES_ATTACK_KEY, FNN_ATTACK_PER_EXAMPLE_VARIANCE + 1, "shadows",
         "per-example-variance"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int kind = want[i].kind;
        ck_assert_uint_eq(fnn_names_count(kind), want[i].count);
        ck_assert_str_eq(fnn_name(kind, 0), want[i].first);
        ck_assert_str_eq(fnn_name(kind, (int)want[i].count - 1), want[i].last);
        ck_assert_ptr_null(fnn_name(kind, (int)want[i].count));
        ck_assert_ptr_null(fnn_name(kind, -1));
        /* Every name is distinct, described and found again. */
        for (size_t v = 0; v < want[i].count; v++) {
            const char *n = fnn_name(kind, (int)v);
            ck_assert_ptr_nonnull(n);
            ck_assert_ptr_nonnull(fnn_name_help(kind, (int)v));
            ck_assert_uint_gt(strlen(fnn_name_help(kind, (int)v)), 5);
            int got = -1;
            ck_assert_int_eq(fnn_name_lookup(kind, n, &got), FNN_OK);
            ck_assert_int_eq(got, (int)v);
            for (size_t u = 0; u < v; u++)
                ck_assert_str_ne(fnn_name(kind, (int)u), n);
        }
    }
    int v;
    ck_assert_uint_eq(fnn_names_count(99), 0);
    ck_assert_ptr_null(fnn_name(99, 0));
    ck_assert_int_eq(fnn_name_lookup(99, "sgd", &v), FNN_E_INVALID);
    ck_assert_int_eq(fnn_name_lookup(FNN_NAMES_OPTIMIZER, "SGD", &v), FNN_E_INVALID);
    ck_assert_int_eq(fnn_name_lookup(FNN_NAMES_OPTIMIZER, NULL, &v), FNN_E_NULL);
    ck_assert_int_eq(fnn_name_lookup(FNN_NAMES_OPTIMIZER, "sgd", NULL), FNN_E_NULL);
}
END_TEST

START_TEST(test_key_bounds)
{
    double lo, hi;
    uint32_t flags;
    int names;
    char buf[128];
    ck_assert_int_eq(fnn_train_key_bounds(FNN_TRAIN_EPOCHS, &lo, &hi, &flags, &names), FNN_OK);
    ck_assert_double_eq(lo, 1);
    ck_assert_double_eq(hi, 1e6);
    ck_assert_uint_eq(flags, FNN_BOUND_INTEGER);
    ck_assert_int_eq(names, -1);
    ck_assert_uint_eq(fnn_train_key_describe(FNN_TRAIN_EPOCHS, buf, sizeof buf),
                      strlen("an integer in 1..1000000"));
    ck_assert_str_eq(buf, "an integer in 1..1000000");
    ck_assert_int_eq(fnn_train_key_bounds(FNN_TRAIN_OPTIMIZER, &lo, &hi, &flags, &names),
                     FNN_OK);
    ck_assert(flags & FNN_BOUND_NAMED);
    ck_assert_int_eq(names, FNN_NAMES_OPTIMIZER);
    fnn_train_key_describe(FNN_TRAIN_OPTIMIZER, buf, sizeof buf);
    ck_assert_str_eq(buf, "sgd or adam");
    fnn_train_key_describe(FNN_TRAIN_LEARNING_RATE, buf, sizeof buf);
    ck_assert_str_eq(buf, "a number in (0, 1000000)");
    fnn_train_key_describe(FNN_TRAIN_MOMENTUM, buf, sizeof buf);
    ck_assert_str_eq(buf, "a number in [0, 1)");
    fnn_train_key_describe(FNN_TRAIN_SEED, buf, sizeof buf);
    ck_assert_str_eq(buf, "an integer in 0..2^64-1");
    ck_assert_int_eq(fnn_forget_key_bounds(FNN_FORGET_TARGET, &lo, &hi, &flags, NULL), FNN_OK);
    ck_assert(flags & FNN_BOUND_AUTO);
    fnn_forget_key_describe(FNN_FORGET_TARGET, buf, sizeof buf);
    ck_assert_str_eq(buf, "a number in [0, 1], or -1 (automatic)");
    fnn_forget_key_describe(FNN_FORGET_METHOD, buf, sizeof buf);
    ck_assert_str_eq(buf, "fnn, fnn-paper, retrain, finetune, neggrad, newton or none");
    ck_assert_int_eq(fnn_forget_key_bounds(FNN_FORGET_PROCEDURE, NULL, NULL, &flags, NULL),
                     FNN_OK);
    ck_assert(flags & FNN_BOUND_DEPRECATED);
    /* Truncation keeps snprintf's semantics. */
    ck_assert_uint_eq(fnn_train_key_describe(FNN_TRAIN_EPOCHS, buf, 4), 24);
    ck_assert_str_eq(buf, "an ");
    ck_assert_int_eq(fnn_train_key_bounds(-1, &lo, &hi, &flags, &names), FNN_E_INVALID);
    ck_assert_int_eq(fnn_forget_key_bounds(99, NULL, NULL, NULL, NULL), FNN_E_INVALID);
    ck_assert_uint_eq(fnn_train_key_describe(99, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "");
    /* Which methods read a key. */
    ck_assert_uint_eq(fnn_forget_key_methods(FNN_FORGET_MAX_T), 1u << FNN_METHOD_FNN);
    ck_assert_uint_eq(fnn_forget_key_methods(FNN_FORGET_NEWTON_L2), 1u << FNN_METHOD_NEWTON);
    ck_assert_uint_eq(fnn_forget_key_methods(FNN_FORGET_METHOD), (1u << 7) - 1);
    ck_assert_uint_eq(fnn_forget_key_methods(99), 0);

    /* Every key's default lies in its domain: the options accept it back. */
    fnn_train_options *t = NULL;
    fnn_forget_options *f = NULL;
    ck_assert_int_eq(fnn_train_options_create(&t), FNN_OK);
    ck_assert_int_eq(fnn_forget_options_create(&f), FNN_OK);
    for (int k = 0; k < (int)fnn_names_count(FNN_NAMES_TRAIN_KEY); k++) {
        double v;
        ck_assert_int_eq(fnn_train_options_get(t, k, &v), FNN_OK);
        ck_assert_msg(fnn_train_options_set(t, k, v) == FNN_OK, "train key %d: %s", k,
                      fnn_train_options_errmsg(t));
    }
    for (int k = 0; k < (int)fnn_names_count(FNN_NAMES_FORGET_KEY); k++) {
        double v;
        ck_assert_int_eq(fnn_forget_options_get(f, k, &v), FNN_OK);
        ck_assert_msg(fnn_forget_options_set(f, k, v) == FNN_OK, "forget key %d: %s", k,
                      fnn_forget_options_errmsg(f));
    }
    fnn_train_options_free(t);
    fnn_forget_options_free(f);
}
END_TEST

START_TEST(test_options_parse_and_seeds)
{
    fnn_train_options *t = NULL;
    ck_assert_int_eq(fnn_train_options_create(&t), FNN_OK);
    double v;
    ck_assert_int_eq(fnn_train_options_parse(t, "optimizer", "sgd"), FNN_OK);
    ck_assert_int_eq(fnn_train_options_get(t, FNN_TRAIN_OPTIMIZER, &v), FNN_OK);
    ck_assert_double_eq(v, FNN_OPTIMIZER_SGD);
    ck_assert_int_eq(fnn_train_options_parse(t, "lr", "0.025"), FNN_OK);
    ck_assert_int_eq(fnn_train_options_get(t, FNN_TRAIN_LEARNING_RATE, &v), FNN_OK);
    ck_assert_double_eq(v, 0.025);
    /* Bad values say what the domain is, and change nothing. */
    ck_assert_int_eq(fnn_train_options_parse(t, "epochs", "1000001"), FNN_E_INVALID);
    ck_assert_str_eq(fnn_train_options_errmsg(t),
                     "epochs must be an integer in 1..1000000, got 1000001");
    ck_assert_int_eq(fnn_train_options_parse(t, "epochs", "2.5"), FNN_E_INVALID);
    ck_assert_int_eq(fnn_train_options_parse(t, "epochs", " 3"), FNN_E_INVALID);
    ck_assert_int_eq(fnn_train_options_parse(t, "epochs", "inf"), FNN_E_INVALID);
    ck_assert_int_eq(fnn_train_options_parse(t, "lr", "nan"), FNN_E_INVALID);
    ck_assert_int_eq(fnn_train_options_parse(t, "lr", "0x10"), FNN_E_INVALID);
    ck_assert_int_eq(fnn_train_options_parse(t, "optimizer", "rmsprop"), FNN_E_INVALID);
    ck_assert_str_eq(fnn_train_options_errmsg(t), "optimizer must be sgd or adam, got 'rmsprop'");
    ck_assert_int_eq(fnn_train_options_parse(t, "bogus", "1"), FNN_E_INVALID);
    ck_assert_ptr_nonnull(strstr(fnn_train_options_errmsg(t), "unknown"));
    ck_assert_int_eq(fnn_train_options_parse(t, NULL, "1"), FNN_E_NULL);
    ck_assert_int_eq(fnn_train_options_get(t, FNN_TRAIN_EPOCHS, &v), FNN_OK);
    ck_assert_double_eq(v, 1);
    ck_assert_int_eq(fnn_train_options_set(t, FNN_TRAIN_EPOCHS, 1000001), FNN_E_INVALID);
    ck_assert_str_eq(fnn_train_options_errmsg(t),
                     "epochs must be an integer in 1..1000000, got 1000001");

    /* Seeds take all 64 bits, through the integer setter and the parser. */
    uint64_t s = 0;
    ck_assert_int_eq(fnn_train_options_set_u64(t, FNN_TRAIN_SEED, UINT64_MAX), FNN_OK);
    ck_assert_int_eq(fnn_train_options_get_u64(t, FNN_TRAIN_SEED, &s), FNN_OK);
    ck_assert(s == UINT64_MAX);
    ck_assert_int_eq(fnn_train_options_parse(t, "seed", "18446744073709551614"), FNN_OK);
    ck_assert_int_eq(fnn_train_options_get_u64(t, FNN_TRAIN_SEED, &s), FNN_OK);
    ck_assert(s == UINT64_MAX - 1);
    ck_assert_int_eq(fnn_train_options_parse(t, "seed", "18446744073709551616"), FNN_E_INVALID);
    ck_assert_int_eq(fnn_train_options_set_u64(t, FNN_TRAIN_LEARNING_RATE, 1), FNN_E_INVALID);
    ck_assert_int_eq(fnn_train_options_get_u64(t, FNN_TRAIN_LEARNING_RATE, &s), FNN_E_INVALID);
    ck_assert_int_eq(fnn_train_options_set_u64(t, FNN_TRAIN_EPOCHS, 2000000), FNN_E_INVALID);

    /* The preset is the command line's recipe, normalisation included. */
    ck_assert_int_eq(fnn_train_options_preset(t, "mlp"), FNN_OK);
    ck_assert_int_eq(fnn_train_options_get(t, FNN_TRAIN_NORMALIZE, &v), FNN_OK);
    ck_assert_double_eq(v, 1);
    ck_assert_int_eq(fnn_train_options_get(t, FNN_TRAIN_OPTIMIZER, &v), FNN_OK);
    ck_assert_double_eq(v, FNN_OPTIMIZER_SGD);
    ck_assert_int_eq(fnn_train_options_preset(t, "resnet"), FNN_E_INVALID);
    ck_assert_str_eq(fnn_train_options_errmsg(t), "'resnet' is not a preset (mlp, paper-cnn)");
    fnn_train_options_free(t);

    /* Forget options: their keys first, then the inner training keys. */
    fnn_forget_options *f = NULL;
    ck_assert_int_eq(fnn_forget_options_create(&f), FNN_OK);
    ck_assert_int_eq(fnn_forget_options_parse(f, "method", "neggrad"), FNN_OK);
    ck_assert_int_eq(fnn_forget_options_get(f, FNN_FORGET_METHOD, &v), FNN_OK);
    ck_assert_double_eq(v, FNN_METHOD_NEGGRAD);
    ck_assert_int_eq(fnn_forget_options_parse(f, "target", "auto"), FNN_OK);
    ck_assert_int_eq(fnn_forget_options_parse(f, "momentum", "0.5"), FNN_OK);
    fnn_train_options *inner = fnn_forget_options_train(f);
    ck_assert_ptr_nonnull(inner);
    ck_assert_int_eq(fnn_train_options_get(inner, FNN_TRAIN_MOMENTUM, &v), FNN_OK);
    ck_assert_double_eq(v, 0.5);
    ck_assert_int_eq(fnn_forget_options_parse(f, "max-t", "0"), FNN_E_INVALID);
    ck_assert_str_eq(fnn_forget_options_errmsg(f),
                     "max-t must be an integer in 1..1000000, got 0");
    ck_assert_int_eq(fnn_forget_options_parse(f, "momentum", "1"), FNN_E_INVALID);
    ck_assert_str_eq(fnn_forget_options_errmsg(f), "momentum must be a number in [0, 1), got 1");
    ck_assert_int_eq(fnn_forget_options_set_u64(f, FNN_FORGET_SEED, UINT64_MAX), FNN_OK);
    ck_assert_int_eq(fnn_forget_options_get_u64(f, FNN_FORGET_SEED, &s), FNN_OK);
    ck_assert(s == UINT64_MAX);
    /* A deprecated alias writes the inner option it names. */
    ck_assert_int_eq(fnn_forget_options_set(f, FNN_FORGET_LEARNING_RATE, 0.02), FNN_OK);
    ck_assert_int_eq(fnn_train_options_get(inner, FNN_TRAIN_LEARNING_RATE, &v), FNN_OK);
    ck_assert_double_eq(v, 0.02);
    ck_assert_int_eq(fnn_forget_options_get(f, FNN_FORGET_LEARNING_RATE, &v), FNN_OK);
    ck_assert_double_eq(v, 0.02);
    ck_assert_int_eq(fnn_forget_options_set(f, FNN_FORGET_PROCEDURE, FNN_PROCEDURE_PAPER),
                     FNN_OK);
    ck_assert_int_eq(fnn_forget_options_get(f, FNN_FORGET_METHOD, &v), FNN_OK);
    ck_assert_double_eq(v, FNN_METHOD_FNN_PAPER);
    ck_assert_int_eq(fnn_forget_options_set(f, FNN_FORGET_PROCEDURE, FNN_METHOD_RETRAIN),
                     FNN_E_INVALID);
    ck_assert_ptr_null(fnn_forget_options_train(NULL));
    fnn_forget_options_free(f);
}
END_TEST

/* ---- statuses the header documents, where the code once differed ------------ */

/* n samples of `dim` features in three well separated classes. */
static fnn_dataset *three_blobs(size_t n, uint32_t dim)
{
    float *x = malloc(n * dim * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    ck_assert(x && y);
    for (size_t i = 0; i < n; i++) {
        y[i] = (int32_t)(i % 3);
        for (uint32_t j = 0; j < dim; j++)
            x[i * dim + j] = (j % 3 == (uint32_t)y[i] ? 2.0f : 0.0f) +
                             0.1f * (float)((i * 7 + j * 3) % 10);
    }
    fnn_dataset *ds = NULL;
    ck_assert_int_eq(fnn_dataset_from_arrays(&ds, x, y, n, dim, 1, 1, 3, NULL, 0), FNN_OK);
    free(x);
    free(y);
    return ds;
}

START_TEST(test_train_normalize_unfoldable)
{
    /* A normalisation that could not be folded into the first weighted layer
     * (a relu comes first) is FNN_E_STATE before any step: the model is
     * unchanged and records no recipe. It was FNN_E_STATE after training,
     * with the parameters trained on normalised features left in place. */
    fnn_dataset *ds = three_blobs(60, 4);
    fnn_model *m = NULL;
    ck_assert_int_eq(fnn_model_create(&m, "input:4,relu,dense:3", 1, NULL, 0), FNN_OK);
    float before[15], after[15];
    ck_assert_uint_eq(fnn_model_num_params(m), 15);
    ck_assert_int_eq(fnn_model_get_params(m, before, 15), FNN_OK);
    fnn_train_options *o = NULL;
    ck_assert_int_eq(fnn_train_options_create(&o), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_NORMALIZE, 1), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_EPOCHS, 3), FNN_OK);
    ck_assert_int_eq(fnn_model_train(m, ds, o), FNN_E_STATE);
    ck_assert_ptr_nonnull(strstr(fnn_model_errmsg(m), "does not commute with normalisation"));
    ck_assert_int_eq(fnn_model_get_params(m, after, 15), FNN_OK);
    ck_assert_mem_eq(before, after, sizeof before);
    ck_assert_uint_eq(fnn_model_recipe_calls(m), 0);
    ck_assert_int_eq(fnn_model_retrain(m, ds, o), FNN_E_STATE);
    ck_assert_int_eq(fnn_model_get_params(m, after, 15), FNN_OK);
    ck_assert_mem_eq(before, after, sizeof before);
    /* Without normalisation the same model trains. */
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_NORMALIZE, 0), FNN_OK);
    ck_assert_int_eq(fnn_model_train(m, ds, o), FNN_OK);
    fnn_train_options_free(o);
    fnn_model_free(m);
    fnn_dataset_free(ds);
}
END_TEST

START_TEST(test_option_caps)
{
    /* The header stated "> 0", ">= 1", ">= 0" for keys whose domains have
     * caps; a value past a cap is FNN_E_INVALID, as the bounds report. */
    static const struct {
        int key;
        double bad, good;
    } train[] = {{FNN_TRAIN_EPOCHS, 1000001, 1000000},
                 {FNN_TRAIN_LEARNING_RATE, 1e6, 999999},
                 {FNN_TRAIN_WEIGHT_DECAY, 1e6, 999999},
                 {FNN_TRAIN_EPSILON, 1, 0.5},
                 {FNN_TRAIN_LR_STEP, 1000001, 1000000}};
    fnn_train_options *t = NULL;
    ck_assert_int_eq(fnn_train_options_create(&t), FNN_OK);
    for (size_t i = 0; i < sizeof train / sizeof train[0]; i++) {
        double lo, hi, v;
        uint32_t flags;
        ck_assert_int_eq(fnn_train_key_bounds(train[i].key, &lo, &hi, &flags, NULL), FNN_OK);
        ck_assert(train[i].bad >= hi);
        ck_assert_int_eq(fnn_train_options_set(t, train[i].key, train[i].bad), FNN_E_INVALID);
        ck_assert_int_eq(fnn_train_options_set(t, train[i].key, train[i].good), FNN_OK);
        ck_assert_int_eq(fnn_train_options_get(t, train[i].key, &v), FNN_OK);
        ck_assert_double_eq(v, train[i].good);
    }
    fnn_train_options_free(t);
    static const struct {
        int key;
        double bad, good;
    } forget[] = {{FNN_FORGET_TAU, 2e9, 1e9},
                  {FNN_FORGET_TOPK, 65537, 65536},
                  {FNN_FORGET_MAX_T, 1000001, 1000000},
                  {FNN_FORGET_REPAIR_EPOCHS, 1000001, 1000000},
                  {FNN_FORGET_TURNS, 1000001, 1000000},
                  {FNN_FORGET_LEARN_EPOCHS, 1000001, 1000000},
                  {FNN_FORGET_UNLEARN_EPOCHS, 1000001, 1000000},
                  {FNN_FORGET_EVAL_SAMPLES, 4294967296.0, 4294967295.0},
                  {FNN_FORGET_MAX_EXTRA_REPAIR, 1000001, 1000000},
                  {FNN_FORGET_NEWTON_L2, 1e6, 999999},
                  {FNN_FORGET_T_START, 1000001, 1000000},
                  {FNN_FORGET_T_STEP, 1000001, 1000000},
                  {FNN_FORGET_RANK_SAMPLES, 4294967296.0, 4294967295.0},
                  {FNN_FORGET_REPAIR_SAMPLES, 4294967296.0, 4294967295.0},
                  {FNN_FORGET_MONITOR_SAMPLES, 4294967296.0, 4294967295.0}};
    fnn_forget_options *f = NULL;
    ck_assert_int_eq(fnn_forget_options_create(&f), FNN_OK);
    for (size_t i = 0; i < sizeof forget / sizeof forget[0]; i++) {
        double v;
        ck_assert_int_eq(fnn_forget_options_set(f, forget[i].key, forget[i].bad), FNN_E_INVALID);
        ck_assert_int_eq(fnn_forget_options_set(f, forget[i].key, forget[i].good), FNN_OK);
        ck_assert_int_eq(fnn_forget_options_get(f, forget[i].key, &v), FNN_OK);
        ck_assert_double_eq(v, forget[i].good);
    }
    fnn_forget_options_free(f);
}
END_TEST

START_TEST(test_dataset_invalid_arguments)
{
    /* fnn_dataset_from_arrays(): FNN_E_INVALID for more than a zero dimension. */
    float x[4] = {0, 1, 2, 3};
    int32_t y[1] = {0};
    fnn_dataset *ds = NULL;
    char err[256];
    ck_assert_int_eq(fnn_dataset_from_arrays(&ds, x, y, 1, 1, 1, 65537, 2, err, sizeof err),
                     FNN_E_INVALID);
    ck_assert_int_eq(fnn_dataset_from_arrays(&ds, x, y, 1, 8192, 8193, 1, 2, err, sizeof err),
                     FNN_E_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "features per sample"));
    ck_assert_int_eq(fnn_dataset_from_arrays(&ds, x, y, 1, 4, 1, 1, 0, err, sizeof err),
                     FNN_E_INVALID);
    ck_assert_int_eq(fnn_dataset_from_arrays(&ds, x, y, 1, 4, 1, 1, 65537, err, sizeof err),
                     FNN_E_INVALID);
    ck_assert_ptr_null(ds);
    /* fnn_dataset_set_normalization(): a mean that is not finite, and a std
     * that would make the features overflow, not only a bad std. */
    ck_assert_int_eq(fnn_dataset_from_arrays(&ds, x, y, 1, 4, 1, 1, 2, NULL, 0), FNN_OK);
    float mean = INFINITY, sd = 1, before[4], after[4];
    ck_assert_int_eq(fnn_dataset_features(ds, before, 4), FNN_OK);
    ck_assert_int_eq(fnn_dataset_set_normalization(ds, &mean, &sd, 1), FNN_E_INVALID);
    mean = 0;
    sd = 1e-38f; /* 3 / 1e-38 overflows */
    ck_assert_int_eq(fnn_dataset_set_normalization(ds, &mean, &sd, 1), FNN_E_INVALID);
    sd = 1e-30f; /* 3e30 does not */
    ck_assert_int_eq(fnn_dataset_features(ds, after, 4), FNN_OK);
    ck_assert_mem_eq(before, after, sizeof before);
    ck_assert_int_eq(fnn_dataset_set_normalization(ds, &mean, &sd, 1), FNN_OK);
    fnn_dataset_free(ds);
}
END_TEST

START_TEST(test_fixed_policy_needs_tau)
{
    /* The fixed policy with tau <= 0 or NaN is FNN_E_INVALID and changes
     * nothing (it once used 30). */
    fnn_model *m = NULL;
    ck_assert_int_eq(fnn_model_create(&m, "input:4,dense:8,relu,dense:3", 1, NULL, 0), FNN_OK);
    static const double bad[] = {-3, 0, NAN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(fnn_model_apply_policy(m, NULL, FNN_POLICY_FIXED, bad[i], 0),
                         FNN_E_INVALID);
        for (size_t k = 0; k < fnn_model_num_forgetting_layers(m); k++) {
            float tau[8];
            ck_assert_int_eq(fnn_model_decay_enabled(m, k), 0);
            ck_assert_int_eq(fnn_model_get_tau(m, k, tau, 8), FNN_OK);
            ck_assert(isinf(tau[0]));
        }
    }
    ck_assert_int_eq(fnn_model_apply_policy(m, NULL, FNN_POLICY_FIXED, 3, 0), FNN_OK);
    fnn_model_free(m);
}
END_TEST

START_TEST(test_newton_output_too_wide)
{
    /* newton forms the output layer's exact Hessian, for at most 4096 weights
     * and biases: a wider one is FNN_E_STATE before anything runs. */
    fnn_dataset *ds = three_blobs(60, 8);
    fnn_model *m = NULL;
    ck_assert_int_eq(fnn_model_create(&m, "input:8,dense:512,relu,dense:10", 1, NULL, 0), FNN_OK);
    size_t n = fnn_model_num_params(m), len = 0, len2 = 0;
    ck_assert_int_eq(fnn_model_save_buffer(m, NULL, 0, &len), FNN_OK);
    uint8_t *before = malloc(len), *after = malloc(len);
    ck_assert(before && after);
    ck_assert_int_eq(fnn_model_save_buffer(m, before, len, &len), FNN_OK);
    fnn_forget_request *req = NULL;
    ck_assert_int_eq(fnn_forget_request_from_class(&req, ds, 1, NULL, 0), FNN_OK);
    fnn_forget_options *o = NULL;
    ck_assert_int_eq(fnn_forget_options_create(&o), FNN_OK);
    ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_METHOD, FNN_METHOD_NEWTON), FNN_OK);
    ck_assert_int_eq(fnn_model_forget(m, req, NULL, o, NULL), FNN_E_STATE);
    ck_assert_ptr_nonnull(strstr(fnn_model_errmsg(m), "5130 parameters"));
    ck_assert_int_eq(fnn_model_save_buffer(m, after, len, &len2), FNN_OK);
    ck_assert_uint_eq(len, len2);
    ck_assert_mem_eq(before, after, len);
    ck_assert_uint_gt(n, 4096);
    free(before);
    free(after);
    fnn_forget_options_free(o);
    fnn_forget_request_free(req);
    fnn_model_free(m);
    fnn_dataset_free(ds);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("conventions");
    tcase_add_test(tc, test_versions);
    tcase_add_test(tc, test_status_codes_pinned);
    tcase_add_test(tc, test_null_handles);
    tcase_add_test(tc, test_constructor_error_buffers);
    tcase_add_test(tc, test_errmsg_is_per_handle);
    suite_add_tcase(s, tc);
    tc = tcase_create("names");
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_key_bounds);
    tcase_add_test(tc, test_options_parse_and_seeds);
    suite_add_tcase(s, tc);
    tc = tcase_create("statuses");
    tcase_add_test(tc, test_train_normalize_unfoldable);
    tcase_add_test(tc, test_option_caps);
    tcase_add_test(tc, test_dataset_invalid_arguments);
    tcase_add_test(tc, test_fixed_policy_needs_tau);
    tcase_add_test(tc, test_newton_output_too_wide);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fnn_test_main(suite());
}
