/* Integration tests on the real data sets (FNN_DATA_DIR holds mnist/ and
 * fashion-mnist/): training accuracy, save/load, and post-hoc forgetting. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fnn/fnn.h>
#include "testutil.h"

static char dir_buf[4096];

static const char *data_dir(const char *name)
{
    const char *root = getenv("FNN_DATA_DIR");
    ck_assert_msg(root != NULL, "FNN_DATA_DIR is not set");
    snprintf(dir_buf, sizeof dir_buf, "%s/%s", root, name);
    return dir_buf;
}

static fnn_dataset *load(const char *name, int split)
{
    fnn_dataset *ds = NULL;
    char err[512];
    int rc = fnn_dataset_load_dir(&ds, data_dir(name), split, err, sizeof err);
    ck_assert_msg(rc == FNN_OK, "%s", err);
    return ds;
}

/* The mlp preset's recipe, which `fnn train` uses too. */
static fnn_model *train_mlp(fnn_dataset *train, uint32_t epochs)
{
    fnn_model *m = NULL;
    ck_assert_int_eq(fnn_model_create(&m, "mlp", 1, NULL, 0), FNN_OK);
    fnn_train_options *o = NULL;
    ck_assert_int_eq(fnn_train_options_create(&o), FNN_OK);
    ck_assert_int_eq(fnn_train_options_preset(o, "mlp"), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_EPOCHS, epochs), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_SEED, 1), FNN_OK);
    ck_assert_msg(fnn_model_train(m, train, o) == FNN_OK, "%s", fnn_model_errmsg(m));
    fnn_train_options_free(o);
    return m;
}

static double accuracy(fnn_model *m, fnn_dataset *ds)
{
    double acc = -1;
    ck_assert_msg(fnn_model_evaluate(m, ds, &acc, NULL) == FNN_OK, "%s", fnn_model_errmsg(m));
    return acc;
}

START_TEST(test_fashion_mlp_one_epoch)
{
    fnn_dataset *train = load("fashion-mnist", FNN_SPLIT_TRAIN);
    fnn_dataset *test = load("fashion-mnist", FNN_SPLIT_TEST);
    ck_assert_uint_eq(fnn_dataset_size(train), 60000);
    ck_assert_uint_eq(fnn_dataset_size(test), 10000);
    fnn_model *m = train_mlp(train, 1);
    double acc = accuracy(m, test);
    ck_assert_msg(acc >= 0.80, "test accuracy %.4f after one epoch", acc);

    /* Save and load give back the same predictions. */
    char path[] = "/tmp/fnn-integration-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(fnn_model_save(m, path), FNN_OK);
    fnn_model *copy = NULL;
    char err[512];
    ck_assert_msg(fnn_model_load(&copy, path, err, sizeof err) == FNN_OK, "%s", err);
    ck_assert_double_eq(accuracy(copy, test), acc);
    remove(path);
    fnn_model_free(copy);
    fnn_model_free(m);
    fnn_dataset_free(train);
    fnn_dataset_free(test);
}
END_TEST

/* One model trained once for the forgetting tests. */
static fnn_dataset *mnist_train, *mnist_test;
static fnn_model *mnist_model;

static void mnist_setup(void)
{
    mnist_train = load("mnist", FNN_SPLIT_TRAIN);
    mnist_test = load("mnist", FNN_SPLIT_TEST);
    mnist_model = train_mlp(mnist_train, 3);
}

static void mnist_teardown(void)
{
    fnn_model_free(mnist_model);
    fnn_dataset_free(mnist_train);
    fnn_dataset_free(mnist_test);
}

static fnn_model *fresh_copy(void)
{
    fnn_model *m = NULL;
    ck_assert_int_eq(fnn_model_clone(mnist_model, &m), FNN_OK);
    return m;
}

START_TEST(test_mnist_forget_class)
{
    const int32_t cls = 3;
    fnn_model *m = fresh_copy();
    double cls_before = fnn_test_class_accuracy(m, mnist_test, cls, 0);
    double others_before = fnn_test_class_accuracy(m, mnist_test, cls, 1);
    ck_assert_double_ge(cls_before, 0.95);
    fnn_forget_request *req = NULL;
    ck_assert_int_eq(fnn_forget_request_from_class(&req, mnist_train, cls, NULL, 0), FNN_OK);
    fnn_forget_options *o = NULL;
    fnn_forget_report *rep = NULL;
    fnn_forget_options_create(&o);
    fnn_forget_report_create(&rep);
    ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_POLICY, FNN_POLICY_RANK), FNN_OK);
    ck_assert_msg(fnn_model_forget(m, req, mnist_test, o, rep) == FNN_OK, "%s",
                  fnn_model_errmsg(m));
    double cls_after = fnn_test_class_accuracy(m, mnist_test, cls, 0);
    double others_after = fnn_test_class_accuracy(m, mnist_test, cls, 1);
    ck_assert_msg(cls_after < 0.05, "class %d test accuracy %.4f after forgetting", cls,
                  cls_after);
    ck_assert_msg(fabs(others_after - others_before) <= 0.03,
                  "other classes: %.4f before, %.4f after", others_before, others_after);
    double forget_after;
    fnn_forget_report_get(rep, FNN_REPORT_FORGET_ACC_AFTER, &forget_after);
    ck_assert_double_lt(forget_after, 0.05);
    fnn_forget_report_free(rep);
    fnn_forget_options_free(o);
    fnn_forget_request_free(req);
    fnn_model_free(m);
}
END_TEST

/* A random 6,000 of MNIST's training images, at the default budget and at a
 * tenth of training's cost: the run keeps to its budget, says whether it
 * reached its target (the holdout's accuracy, on a sample), never pushes the
 * forget set far below the holdout (which would mark it as much as a high
 * accuracy does) and keeps the test accuracy. Random requests are post-hoc
 * FNN's weak case: it need not reach the target (docs/RESULTS.md). */
START_TEST(test_mnist_forget_random)
{
    double test_before = accuracy(mnist_model, mnist_test);
    fnn_forget_request *req = NULL;
    ck_assert_int_eq(fnn_forget_request_random(&req, mnist_train, 6000, 11, NULL, 0), FNN_OK);
    fnn_dataset *forget = NULL;
    ck_assert_int_eq(fnn_forget_request_forget_set(req, &forget), FNN_OK);
    static const double budgets[] = {-1, 0.1};
    for (size_t i = 0; i < 2; i++) {
        fnn_model *m = fresh_copy();
        fnn_forget_options *o = NULL;
        fnn_forget_report *rep = NULL;
        ck_assert_int_eq(fnn_forget_options_create(&o), FNN_OK);
        ck_assert_int_eq(fnn_forget_report_create(&rep), FNN_OK);
        if (budgets[i] > 0)
            ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_BUDGET, budgets[i]), FNN_OK);
        ck_assert_msg(fnn_model_forget(m, req, mnist_test, o, rep) == FNN_OK, "%s",
                      fnn_model_errmsg(m));
        double forget_after = accuracy(m, forget), test_after = accuracy(m, mnist_test);
        double v, target, reached, flops, budget;
        fnn_forget_report_get(rep, FNN_REPORT_FORGET_ACC_AFTER, &v);
        fnn_forget_report_get(rep, FNN_REPORT_TARGET, &target);
        fnn_forget_report_get(rep, FNN_REPORT_REACHED_TARGET, &reached);
        fnn_forget_report_get(rep, FNN_REPORT_METHOD_FLOPS, &flops);
        fnn_forget_report_get(rep, FNN_REPORT_BUDGET_FLOPS, &budget);
        fprintf(stderr, "# budget %g: forget %.4f, target %.4f (%s), test %.4f -> %.4f\n",
                budgets[i], forget_after, target, reached ? "reached" : "not reached",
                test_before, test_after);
        ck_assert_double_eq_tol(v, forget_after, 1e-12);
        /* the target is measured on a sample of the holdout */
        ck_assert_double_eq_tol(target, test_before, 0.03);
        ck_assert_msg(flops <= budget, "%.4g FLOPs over a budget of %.4g", flops, budget);
        ck_assert_msg(fabs(test_after - test_before) <= 0.02, "test accuracy %.4f -> %.4f",
                      test_before, test_after);
        ck_assert_msg(forget_after >= test_after - 0.02, "forget-set accuracy %.4f vs test %.4f",
                      forget_after, test_after);
        if (reached == 1)
            ck_assert_double_le(forget_after, target + 0.01);
        fnn_forget_report_free(rep);
        fnn_forget_options_free(o);
        fnn_model_free(m);
    }
    fnn_dataset_free(forget);
    fnn_forget_request_free(req);
}
END_TEST

/* Every method of the table on a class of MNIST: each runs, the exact and
 * the forgetting methods remove the class, and none breaks the others. */
START_TEST(test_mnist_every_method)
{
    const int32_t cls = 7;
    fnn_forget_request *req = NULL;
    ck_assert_int_eq(fnn_forget_request_from_class(&req, mnist_train, cls, NULL, 0), FNN_OK);
    double others_before = fnn_test_class_accuracy(mnist_model, mnist_test, cls, 1);
    for (int method = 0; method < (int)fnn_names_count(FNN_NAMES_METHOD); method++) {
        const char *name = fnn_name(FNN_NAMES_METHOD, method);
        fnn_model *m = fresh_copy();
        fnn_forget_options *o = NULL;
        fnn_forget_report *rep = NULL;
        ck_assert_int_eq(fnn_forget_options_create(&o), FNN_OK);
        ck_assert_int_eq(fnn_forget_report_create(&rep), FNN_OK);
        ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_METHOD, method), FNN_OK);
        if (method == FNN_METHOD_FNN_PAPER) /* a short run of the paper's protocol */
            ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_TURNS, 2), FNN_OK);
        ck_assert_msg(fnn_model_forget(m, req, mnist_test, o, rep) == FNN_OK, "%s: %s", name,
                      fnn_model_errmsg(m));
        double before, after, seconds;
        fnn_forget_report_get(rep, FNN_REPORT_FORGET_ACC_BEFORE, &before);
        fnn_forget_report_get(rep, FNN_REPORT_FORGET_ACC_AFTER, &after);
        fnn_forget_report_get(rep, FNN_REPORT_SECONDS, &seconds);
        double others = fnn_test_class_accuracy(m, mnist_test, cls, 1);
        fprintf(stderr, "# %-9s forget %.4f -> %.4f, other test classes %.4f -> %.4f, %.2f s\n",
                name, before, after, others_before, others, seconds);
        ck_assert_double_ge(before, 0.95);
        if (method == FNN_METHOD_NONE)
            ck_assert_double_eq(after, before);
        else
            ck_assert_msg(after < before, "%s: forget accuracy %.4f -> %.4f", name, before,
                          after);
        if (method == FNN_METHOD_FNN || method == FNN_METHOD_RETRAIN ||
            method == FNN_METHOD_NEWTON)
            ck_assert_msg(after < 0.02, "%s: forget accuracy %.4f", name, after);
        if (method != FNN_METHOD_FNN_PAPER)
            ck_assert_msg(others >= others_before - 0.03, "%s: other classes %.4f -> %.4f",
                          name, others_before, others);
        fnn_forget_report_free(rep);
        fnn_forget_options_free(o);
        fnn_model_free(m);
    }
    fnn_forget_request_free(req);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("integration");
    TCase *tc = tcase_create("train");
    tcase_set_timeout(tc, 1200);
    tcase_add_test(tc, test_fashion_mlp_one_epoch);
    suite_add_tcase(s, tc);
    tc = tcase_create("forget");
    tcase_set_timeout(tc, 1200);
    tcase_add_unchecked_fixture(tc, mnist_setup, mnist_teardown);
    tcase_add_test(tc, test_mnist_forget_class);
    tcase_add_test(tc, test_mnist_forget_random);
    tcase_add_test(tc, test_mnist_every_method);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fnn_test_main(suite());
}
