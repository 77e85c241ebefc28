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
    return s;
}

int main(void)
{
    return fnn_test_main(suite());
}
