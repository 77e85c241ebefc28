/* Helpers shared by the Check test programs. */
#ifndef FNN_TESTUTIL_H
#define FNN_TESTUTIL_H

#include <check.h>
#include <stdlib.h>

#include <fnn/fnn.h>

/* Runs a suite as the environment asks (CK_TAP_LOG_FILE_NAME, CK_VERBOSITY,
 * CK_FORK) and returns the process exit status. */
static inline int fnn_test_main(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* Accuracy of m over the samples of ds labelled cls (invert == 0) or labelled
 * anything else (invert != 0). */
static inline double fnn_test_class_accuracy(fnn_model *m, fnn_dataset *ds, int32_t cls,
                                             int invert)
{
    size_t n = fnn_dataset_size(ds), hits = 0, total = 0;
    int32_t *pred = malloc(n * sizeof *pred), *y = malloc(n * sizeof *y);
    ck_assert_ptr_nonnull(pred);
    ck_assert_ptr_nonnull(y);
    ck_assert_int_eq(fnn_model_predict(m, ds, pred, n), FNN_OK);
    ck_assert_int_eq(fnn_dataset_labels(ds, y, n), FNN_OK);
    for (size_t i = 0; i < n; i++)
        if ((y[i] == cls) != (invert != 0)) {
            total++;
            hits += pred[i] == y[i];
        }
    free(pred);
    free(y);
    ck_assert_uint_gt(total, 0);
    return (double)hits / (double)total;
}

#endif
