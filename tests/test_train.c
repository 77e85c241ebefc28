/* Training and inference on small synthetic data. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

/* n points in `dim` dimensions around one of `classes` well separated centres. */
static fnn_dataset *blobs(size_t n, uint32_t dim, uint32_t classes, uint64_t seed)
{
    float *x = malloc(n * dim * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    fnn__rng r;
    fnn__rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) {
        y[i] = (int32_t)(i % classes);
        for (uint32_t j = 0; j < dim; j++) {
            float centre = (j % classes == (uint32_t)y[i]) ? 2.0f : 0.0f;
            x[i * dim + j] = centre + (fnn__rng_float(&r) - 0.5f);
        }
    }
    fnn_dataset *ds = NULL;
    char err[256];
    int rc = fnn_dataset_from_arrays(&ds, x, y, n, dim, 1, 1, classes, err, sizeof err);
    ck_assert_msg(rc == FNN_OK, "%s", err);
    free(x);
    free(y);
    return ds;
}

/* 8x8 single-channel images: class 0 has a bright top half, class 1 a bright
 * left half, class 2 a bright diagonal; noise on top. */
static fnn_dataset *images(size_t n, uint64_t seed)
{
    const uint32_t S = 8;
    float *x = malloc(n * S * S * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    fnn__rng r;
    fnn__rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) {
        y[i] = (int32_t)(i % 3);
        for (uint32_t a = 0; a < S; a++)
            for (uint32_t b = 0; b < S; b++) {
                int on = y[i] == 0 ? a < S / 2 : y[i] == 1 ? b < S / 2 : a == b;
                x[i * S * S + a * S + b] = (on ? 0.8f : 0.1f) + 0.2f * fnn__rng_float(&r);
            }
    }
    fnn_dataset *ds = NULL;
    ck_assert_int_eq(fnn_dataset_from_arrays(&ds, x, y, n, S, S, 1, 3, NULL, 0), FNN_OK);
    free(x);
    free(y);
    return ds;
}

static fnn_train_options *opts(int optimizer, double lr, int epochs, int batch)
{
    fnn_train_options *o = NULL;
    ck_assert_int_eq(fnn_train_options_create(&o), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_OPTIMIZER, optimizer), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_LEARNING_RATE, lr), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_EPOCHS, epochs), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_BATCH_SIZE, batch), FNN_OK);
    return o;
}

static double accuracy(fnn_model *m, const fnn_dataset *ds)
{
    double acc = -1;
    ck_assert_int_eq(fnn_model_evaluate(m, ds, &acc, NULL), FNN_OK);
    return acc;
}

START_TEST(test_mlp_separable_sgd)
{
    fnn_dataset *ds = blobs(200, 6, 3, 1);
    fnn_model *m = NULL;
    ck_assert_int_eq(fnn_model_create(&m, "input:6,dense:16,relu,dense:3", 1, NULL, 0), FNN_OK);
    ck_assert_double_lt(accuracy(m, ds), 0.9);
    fnn_train_options *o = opts(FNN_OPTIMIZER_SGD, 0.1, 30, 16);
    ck_assert_int_eq(fnn_model_train(m, ds, o), FNN_OK);
    ck_assert_double_eq(accuracy(m, ds), 1.0);
    fnn_train_options_free(o);
    fnn_model_free(m);
    fnn_dataset_free(ds);
}
END_TEST

START_TEST(test_cnn_separable_adam)
{
    fnn_dataset *ds = images(150, 2);
    fnn_model *m = NULL;
    ck_assert_int_eq(fnn_model_create(&m,
                                      "input:8x8x1,conv2d:4:3,relu,conv2d:4:3,relu,maxpool:2,"
                                      "dropout:0.1,flatten,dense:8,relu,dense:3",
                                      3, NULL, 0),
                     FNN_OK);
    fnn_train_options *o = opts(FNN_OPTIMIZER_ADAM, 0.01, 30, 10);
    ck_assert_int_eq(fnn_model_train(m, ds, o), FNN_OK);
    ck_assert_double_eq(accuracy(m, ds), 1.0);
    fnn_train_options_free(o);
    fnn_model_free(m);
    fnn_dataset_free(ds);
}
END_TEST

static void train_params(uint64_t model_seed, uint64_t train_seed, float *out, size_t *n)
{
    fnn_dataset *ds = images(60, 4);
    fnn_model *m = NULL;
    ck_assert_int_eq(fnn_model_create(&m, "input:8x8x1,conv2d:2:3,relu,maxpool:2,dropout:0.3,"
                                          "dense:5,relu,dense:3",
                                      model_seed, NULL, 0),
                     FNN_OK);
    fnn_train_options *o = opts(FNN_OPTIMIZER_ADAM, 0.01, 2, 7);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_SEED, (double)train_seed), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_WEIGHT_DECAY, 1e-3), FNN_OK);
    ck_assert_int_eq(fnn_model_train(m, ds, o), FNN_OK);
    *n = fnn_model_num_params(m);
    ck_assert_int_eq(fnn_model_get_params(m, out, *n), FNN_OK);
    fnn_train_options_free(o);
    fnn_model_free(m);
    fnn_dataset_free(ds);
}

START_TEST(test_determinism)
{
    float a[512], b[512], c[512];
    size_t na, nb, nc;
    train_params(7, 9, a, &na);
    train_params(7, 9, b, &nb);
    train_params(7, 10, c, &nc);
    ck_assert_uint_eq(na, nb);
    ck_assert_uint_lt(na, 512);
    ck_assert_mem_eq(a, b, na * sizeof(float));
    ck_assert_int_ne(memcmp(a, c, na * sizeof(float)), 0);
}
END_TEST

START_TEST(test_inference_consistency)
{
    fnn_dataset *ds = blobs(37, 5, 4, 3);
    fnn_model *m = NULL;
    ck_assert_int_eq(fnn_model_create(&m, "input:5,dense:7,relu,dense:4", 5, NULL, 0), FNN_OK);
    float proba[37 * 4], losses[37];
    int32_t pred[37], labels[37];
    ck_assert_int_eq(fnn_model_predict_proba(m, ds, proba, 37 * 4), FNN_OK);
    ck_assert_int_eq(fnn_model_predict(m, ds, pred, 37), FNN_OK);
    ck_assert_int_eq(fnn_model_sample_losses(m, ds, losses, 37), FNN_OK);
    ck_assert_int_eq(fnn_dataset_labels(ds, labels, 37), FNN_OK);
    double acc, mean;
    ck_assert_int_eq(fnn_model_evaluate(m, ds, &acc, &mean), FNN_OK);
    size_t hits = 0;
    double sum = 0;
    for (int i = 0; i < 37; i++) {
        float s = 0;
        int am = 0;
        for (int j = 0; j < 4; j++) {
            s += proba[i * 4 + j];
            if (proba[i * 4 + j] > proba[i * 4 + am])
                am = j;
        }
        ck_assert_float_eq_tol(s, 1.0f, 1e-5f);
        ck_assert_int_eq(pred[i], am);
        ck_assert_float_eq_tol(losses[i], -logf(proba[i * 4 + labels[i]]), 1e-4f);
        hits += pred[i] == labels[i];
        sum += losses[i];
    }
    ck_assert_double_eq_tol(acc, (double)hits / 37, 1e-12);
    ck_assert_double_eq_tol(mean, sum / 37, 1e-5);
    /* Buffer too small, NULL buffer. */
    ck_assert_int_eq(fnn_model_predict(m, ds, pred, 36), FNN_E_SHAPE);
    ck_assert_int_eq(fnn_model_predict_proba(m, ds, proba, 37 * 4 - 1), FNN_E_SHAPE);
    ck_assert_int_eq(fnn_model_sample_losses(m, ds, NULL, 37), FNN_E_NULL);
    fnn_model_free(m);
    fnn_dataset_free(ds);
}
END_TEST

START_TEST(test_shape_and_class_mismatch)
{
    fnn_dataset *ds = blobs(20, 6, 3, 1);
    fnn_model *m = NULL;
    ck_assert_int_eq(fnn_model_create(&m, "input:5,dense:3", 1, NULL, 0), FNN_OK);
    ck_assert_int_eq(fnn_model_train(m, ds, NULL), FNN_E_SHAPE);
    ck_assert_ptr_nonnull(strstr(fnn_model_errmsg(m), "expects"));
    double acc;
    ck_assert_int_eq(fnn_model_evaluate(m, ds, &acc, NULL), FNN_E_SHAPE);
    fnn_model_free(m);
    ck_assert_int_eq(fnn_model_create(&m, "input:6,dense:2", 1, NULL, 0), FNN_OK);
    ck_assert_int_eq(fnn_model_train(m, ds, NULL), FNN_E_RANGE);
    ck_assert_int_eq(fnn_model_evaluate(m, ds, &acc, NULL), FNN_E_RANGE);
    /* Prediction needs no labels. */
    int32_t pred[20];
    ck_assert_int_eq(fnn_model_predict(m, ds, pred, 20), FNN_OK);
    fnn_model_free(m);
    fnn_dataset_free(ds);
}
END_TEST

START_TEST(test_divergence_restores)
{
    fnn_dataset *ds = blobs(64, 6, 3, 1);
    fnn_model *m = NULL;
    ck_assert_int_eq(fnn_model_create(&m, "input:6,dense:16,relu,dense:3", 1, NULL, 0), FNN_OK);
    size_t n = fnn_model_num_params(m);
    float before[200], after[200];
    ck_assert_uint_lt(n, 200);
    fnn_model_get_params(m, before, n);
    fnn_train_options *o = opts(FNN_OPTIMIZER_SGD, 1e5, 20, 8);
    ck_assert_int_eq(fnn_model_train(m, ds, o), FNN_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(fnn_model_errmsg(m), "restored"));
    fnn_model_get_params(m, after, n);
    ck_assert_mem_eq(before, after, n * sizeof(float));
    fnn_train_options_free(o);
    fnn_model_free(m);
    fnn_dataset_free(ds);
}
END_TEST

struct progress_log {
    int calls;
    size_t last_batch, batches;
    uint32_t last_epoch;
    int stop_at;
};

static int on_progress(void *user, uint32_t epoch, uint32_t epochs, size_t batch,
                       size_t batches, float loss)
{
    struct progress_log *p = user;
    p->calls++;
    p->last_epoch = epoch;
    p->last_batch = batch;
    p->batches = batches;
    ck_assert_uint_eq(epochs, 3);
    ck_assert(isfinite(loss) && loss > 0);
    return p->stop_at && p->calls == p->stop_at;
}

START_TEST(test_progress_and_cancel)
{
    fnn_dataset *ds = blobs(50, 6, 3, 1);
    fnn_model *m = NULL;
    ck_assert_int_eq(fnn_model_create(&m, "input:6,dense:3", 1, NULL, 0), FNN_OK);
    fnn_train_options *o = opts(FNN_OPTIMIZER_SGD, 0.01, 3, 16);
    struct progress_log p = {0};
    ck_assert_int_eq(fnn_train_options_set_progress(o, on_progress, &p), FNN_OK);
    ck_assert_int_eq(fnn_model_train(m, ds, o), FNN_OK);
    ck_assert_int_eq(p.calls, 12); /* 3 epochs x ceil(50/16) */
    ck_assert_uint_eq(p.batches, 4);
    ck_assert_uint_eq(p.last_epoch, 2);
    memset(&p, 0, sizeof p);
    p.stop_at = 5;
    ck_assert_int_eq(fnn_model_train(m, ds, o), FNN_E_CANCELLED);
    ck_assert_int_eq(p.calls, 5);
    fnn_train_options_free(o);
    fnn_model_free(m);
    fnn_dataset_free(ds);
}
END_TEST

START_TEST(test_options_validation)
{
    fnn_train_options *o = NULL;
    ck_assert_int_eq(fnn_train_options_create(&o), FNN_OK);
    double v;
    ck_assert_int_eq(fnn_train_options_get(o, FNN_TRAIN_BATCH_SIZE, &v), FNN_OK);
    ck_assert_double_eq(v, 64);
    ck_assert_int_eq(fnn_train_options_get(o, FNN_TRAIN_OPTIMIZER, &v), FNN_OK);
    ck_assert_double_eq(v, FNN_OPTIMIZER_ADAM);
    struct {
        int key;
        double value;
    } bad[] = {
        {FNN_TRAIN_EPOCHS, 0},        {FNN_TRAIN_EPOCHS, 1.5},
        {FNN_TRAIN_BATCH_SIZE, 0},    {FNN_TRAIN_BATCH_SIZE, 70000},
        {FNN_TRAIN_OPTIMIZER, 2},     {FNN_TRAIN_LEARNING_RATE, 0},
        {FNN_TRAIN_LEARNING_RATE, NAN}, {FNN_TRAIN_MOMENTUM, 1},
        {FNN_TRAIN_BETA2, -0.1},      {FNN_TRAIN_EPSILON, 0},
        {FNN_TRAIN_WEIGHT_DECAY, -1}, {FNN_TRAIN_LR_SCHEDULE, 3},
        {FNN_TRAIN_LR_STEP, 0},       {FNN_TRAIN_LR_GAMMA, 0},
        {FNN_TRAIN_LR_GAMMA, 1.5},    {FNN_TRAIN_SEED, -1},
        {FNN_TRAIN_SHUFFLE, 2},       {-1, 1},
        {99, 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(fnn_train_options_set(o, bad[i].key, bad[i].value) == FNN_E_INVALID,
                      "key %d value %g accepted", bad[i].key, bad[i].value);
        ck_assert_str_ne(fnn_train_options_errmsg(o), "");
    }
    ck_assert_int_eq(fnn_train_options_get(o, FNN_TRAIN_BATCH_SIZE, &v), FNN_OK);
    ck_assert_double_eq(v, 64); /* unchanged by the failures */
    ck_assert_int_eq(fnn_train_options_set(NULL, FNN_TRAIN_EPOCHS, 1), FNN_E_NULL);
    ck_assert_int_eq(fnn_train_options_get(o, FNN_TRAIN_EPOCHS, NULL), FNN_E_NULL);
    ck_assert_int_eq(fnn_train_options_get(o, 42, &v), FNN_E_INVALID);
    fnn_train_options_free(o);
    fnn_train_options_free(NULL);
}
END_TEST

START_TEST(test_presets)
{
    fnn_train_options *o = NULL;
    double v;
    ck_assert_int_eq(fnn_train_options_create(&o), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_EPOCHS, 7), FNN_OK);
    ck_assert_int_eq(fnn_train_options_preset(o, "mlp"), FNN_OK);
    fnn_train_options_get(o, FNN_TRAIN_OPTIMIZER, &v);
    ck_assert_double_eq(v, FNN_OPTIMIZER_SGD);
    fnn_train_options_get(o, FNN_TRAIN_LEARNING_RATE, &v);
    ck_assert_double_eq(v, 0.05);
    fnn_train_options_get(o, FNN_TRAIN_BATCH_SIZE, &v);
    ck_assert_double_eq(v, 128);
    fnn_train_options_get(o, FNN_TRAIN_LR_SCHEDULE, &v);
    ck_assert_double_eq(v, FNN_LR_STEP);
    fnn_train_options_get(o, FNN_TRAIN_LR_GAMMA, &v);
    ck_assert_double_eq(v, 0.7);
    fnn_train_options_get(o, FNN_TRAIN_EPOCHS, &v);
    ck_assert_double_eq(v, 7); /* kept */
    ck_assert_int_eq(fnn_train_options_preset(o, "paper-cnn"), FNN_OK);
    fnn_train_options_get(o, FNN_TRAIN_OPTIMIZER, &v);
    ck_assert_double_eq(v, FNN_OPTIMIZER_ADAM);
    fnn_train_options_get(o, FNN_TRAIN_BATCH_SIZE, &v);
    ck_assert_double_eq(v, 64);
    ck_assert_int_eq(fnn_train_options_preset(o, "resnet"), FNN_E_INVALID);
    ck_assert_ptr_nonnull(strstr(fnn_train_options_errmsg(o), "resnet"));
    fnn_train_options_get(o, FNN_TRAIN_BATCH_SIZE, &v);
    ck_assert_double_eq(v, 64); /* unchanged */
    ck_assert_int_eq(fnn_train_options_preset(o, NULL), FNN_E_NULL);
    ck_assert_int_eq(fnn_train_options_preset(NULL, "mlp"), FNN_E_NULL);
    fnn_train_options_free(o);
}
END_TEST

START_TEST(test_lr_schedule)
{
    fnn__train_cfg c;
    fnn__train_cfg_from(NULL, &c);
    c.lr = 0.01;
    ck_assert_double_eq(fnn__lr_at(&c, 5), 0.01);
    c.schedule = FNN_LR_STEP;
    c.lr_step = 2;
    c.lr_gamma = 0.5;
    ck_assert_double_eq(fnn__lr_at(&c, 0), 0.01);
    ck_assert_double_eq(fnn__lr_at(&c, 1), 0.01);
    ck_assert_double_eq_tol(fnn__lr_at(&c, 2), 0.005, 1e-15);
    ck_assert_double_eq_tol(fnn__lr_at(&c, 5), 0.0025, 1e-15);
}
END_TEST

START_TEST(test_step_schedule_trains)
{
    /* Step decay must still train (a schedule that zeroes the rate would not). */
    fnn_dataset *ds = blobs(200, 6, 3, 1);
    fnn_model *m = NULL;
    ck_assert_int_eq(fnn_model_create(&m, "input:6,dense:16,relu,dense:3", 1, NULL, 0), FNN_OK);
    fnn_train_options *o = opts(FNN_OPTIMIZER_SGD, 0.1, 30, 16);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_LR_SCHEDULE, FNN_LR_STEP), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_LR_STEP, 10), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_LR_GAMMA, 0.5), FNN_OK);
    ck_assert_int_eq(fnn_model_train(m, ds, o), FNN_OK);
    ck_assert_double_eq(accuracy(m, ds), 1.0);
    fnn_train_options_free(o);
    fnn_model_free(m);
    fnn_dataset_free(ds);
}
END_TEST

static void check_fold_norm(const char *spec, uint32_t rows, uint32_t cols, uint32_t ch)
{
    size_t n = 9, dim = (size_t)rows * cols * ch;
    float *x = malloc(n * dim * sizeof *x), mean[4], sd[4];
    int32_t y[9] = {0};
    fnn__rng r;
    fnn__rng_seed(&r, 8);
    for (size_t i = 0; i < n * dim; i++)
        x[i] = fnn__rng_float(&r);
    for (uint32_t c = 0; c < ch; c++) {
        mean[c] = 0.2f + 0.1f * (float)c;
        sd[c] = 0.3f + 0.2f * (float)c;
    }
    fnn_dataset *raw = NULL, *norm = NULL;
    ck_assert_int_eq(fnn_dataset_from_arrays(&raw, x, y, n, rows, cols, ch, 2, NULL, 0), FNN_OK);
    ck_assert_int_eq(fnn_dataset_from_arrays(&norm, x, y, n, rows, cols, ch, 2, NULL, 0), FNN_OK);
    ck_assert_int_eq(fnn_dataset_set_normalization(norm, mean, sd, ch), FNN_OK);
    fnn_model *m = NULL;
    ck_assert_int_eq(fnn_model_create(&m, spec, 4, NULL, 0), FNN_OK);
    float *pn = malloc(n * 3 * sizeof *pn), *pr = malloc(n * 3 * sizeof *pr);
    ck_assert_int_eq(fnn_model_predict_proba(m, norm, pn, n * 3), FNN_OK);
    ck_assert_int_eq(fnn_model_fold_input_normalization(m, mean, sd, ch), FNN_OK);
    ck_assert_int_eq(fnn_model_predict_proba(m, raw, pr, n * 3), FNN_OK);
    for (size_t i = 0; i < n * 3; i++)
        ck_assert_msg(fabsf(pn[i] - pr[i]) < 1e-5f, "%s: %zu: %g vs %g", spec, i, (double)pn[i],
                      (double)pr[i]);
    ck_assert_int_eq(fnn_model_fold_input_normalization(m, mean, sd, ch + 1), FNN_E_SHAPE);
    sd[0] = 0;
    ck_assert_int_eq(fnn_model_fold_input_normalization(m, mean, sd, ch), FNN_E_INVALID);
    free(x);
    free(pn);
    free(pr);
    fnn_model_free(m);
    fnn_dataset_free(raw);
    fnn_dataset_free(norm);
}

START_TEST(test_fold_input_normalization)
{
    check_fold_norm("input:4x4x2,dense:5,relu,dense:3", 4, 4, 2);
    check_fold_norm("input:6x6x3,conv2d:4:3,relu,maxpool:2,dense:3", 6, 6, 3);
    check_fold_norm("input:6x6x3,maxpool:2,flatten,dense:3", 6, 6, 3);
    fnn_model *m = NULL;
    float mean = 0, sd = 1;
    ck_assert_int_eq(fnn_model_create(&m, "input:4,relu,dense:3", 4, NULL, 0), FNN_OK);
    ck_assert_int_eq(fnn_model_fold_input_normalization(m, &mean, &sd, 1), FNN_E_STATE);
    ck_assert_int_eq(fnn_model_fold_input_normalization(m, NULL, &sd, 1), FNN_E_NULL);
    ck_assert_int_eq(fnn_model_fold_input_normalization(NULL, &mean, &sd, 1), FNN_E_NULL);
    fnn_model_free(m);
}
END_TEST

/* ---- numbers that overflow ------------------------------------------------------ */

/* Every read-only call on ds fails with FNN_E_NUMERIC and says so. */
static void expect_inference_numeric(fnn_model *m, fnn_dataset *ds)
{
    size_t n = fnn_dataset_size(ds);
    uint32_t C = fnn_model_num_classes(m);
    float *f = malloc(n * C * sizeof *f);
    int32_t *l = malloc(n * sizeof *l);
    ck_assert(f && l);
    double acc = -1, loss = -1, ca[16], fig[FNN_MEMBERSHIP_TPR_01 + 1];
    uint32_t ranks[64];
    ck_assert_uint_le(C, 16);
    ck_assert_int_eq(fnn_model_predict_proba(m, ds, f, n * C), FNN_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(fnn_model_errmsg(m), "not finite"));
    ck_assert_int_eq(fnn_model_predict(m, ds, l, n), FNN_E_NUMERIC);
    ck_assert_int_eq(fnn_model_logits(m, ds, f, n * C), FNN_E_NUMERIC);
    ck_assert_int_eq(fnn_model_evaluate(m, ds, &acc, &loss), FNN_E_NUMERIC);
    ck_assert_double_eq(acc, -1); /* nothing written */
    ck_assert_double_eq(loss, -1);
    ck_assert_int_eq(fnn_model_sample_losses(m, ds, f, n), FNN_E_NUMERIC);
    ck_assert_int_eq(fnn_model_class_accuracies(m, ds, ca, NULL, 16), FNN_E_NUMERIC);
    ck_assert_int_eq(fnn_model_membership(m, ds, ds, 1, fig, FNN_MEMBERSHIP_TPR_01 + 1),
                     FNN_E_NUMERIC);
    ck_assert_int_eq(fnn_model_rank_neurons(m, ds, 0, ranks, 64), FNN_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(fnn_model_errmsg(m), "pre-activation"));
    /* The same samples as a raw array. */
    uint32_t rows, cols, ch;
    ck_assert_int_eq(fnn_dataset_shape(ds, &rows, &cols, &ch), FNN_OK);
    size_t dim = (size_t)rows * cols * ch;
    float *x = malloc(n * dim * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    ck_assert(x && y);
    ck_assert_int_eq(fnn_dataset_features(ds, x, n * dim), FNN_OK);
    ck_assert_int_eq(fnn_dataset_labels(ds, y, n), FNN_OK);
    ck_assert_int_eq(fnn_model_predict_array(m, x, FNN_DTYPE_FLOAT32, n, l, n), FNN_E_NUMERIC);
    ck_assert_int_eq(fnn_model_predict_proba_array(m, x, FNN_DTYPE_FLOAT32, n, f, n * C),
                     FNN_E_NUMERIC);
    ck_assert_int_eq(fnn_model_logits_array(m, x, FNN_DTYPE_FLOAT32, n, f, n * C),
                     FNN_E_NUMERIC);
    ck_assert_int_eq(fnn_model_sample_losses_array(m, x, FNN_DTYPE_FLOAT32, y, n, f, n),
                     FNN_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(fnn_model_errmsg(m), "not finite"));
    free(x);
    free(y);
    free(f);
    free(l);
}

START_TEST(test_overflow_refused)
{
    fnn_dataset *ds = blobs(60, 6, 3, 1);
    size_t nf = 60 * 6;
    float *x0 = malloc(nf * sizeof *x0), *x1 = malloc(nf * sizeof *x1);
    ck_assert(x0 && x1);
    ck_assert_int_eq(fnn_dataset_features(ds, x0, nf), FNN_OK);
    /* A normalisation that would make features infinite is refused, and the
     * data set keeps presenting what it did. */
    float mean = 0, tiny = 1e-45f;
    ck_assert_int_eq(fnn_dataset_set_normalization(ds, &mean, &tiny, 1), FNN_E_INVALID);
    ck_assert_ptr_nonnull(strstr(fnn_dataset_errmsg(ds), "would make features overflow"));
    ck_assert_int_eq(fnn_dataset_features(ds, x1, nf), FNN_OK);
    ck_assert_mem_eq(x0, x1, nf * sizeof *x0);

    fnn_model *m = NULL;
    ck_assert_int_eq(fnn_model_create(&m, "input:6,dense:16,relu,dense:3", 1, NULL, 0), FNN_OK);
    fnn_train_options *o = opts(FNN_OPTIMIZER_SGD, 0.1, 5, 16);
    ck_assert_int_eq(fnn_model_train(m, ds, o), FNN_OK);
    size_t n = fnn_model_num_params(m);
    float p0[200], p1[200], bad[200];
    ck_assert_uint_le(n, 200);
    ck_assert_int_eq(fnn_model_get_params(m, p0, n), FNN_OK);
    /* Folding that std overflows the first layer: refused, nothing changed. */
    ck_assert_int_eq(fnn_model_fold_input_normalization(m, &mean, &tiny, 1), FNN_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(fnn_model_errmsg(m), "nothing changed"));
    ck_assert_int_eq(fnn_model_get_params(m, p1, n), FNN_OK);
    ck_assert_mem_eq(p0, p1, n * sizeof *p0);
    /* Parameters that are not finite are refused. */
    memcpy(bad, p0, n * sizeof *bad);
    bad[n - 1] = -INFINITY;
    ck_assert_int_eq(fnn_model_set_params(m, bad, n), FNN_E_NUMERIC);
    ck_assert_int_eq(fnn_model_get_params(m, p1, n), FNN_OK);
    ck_assert_mem_eq(p0, p1, n * sizeof *p0);

    /* Finite features so large that the first layer overflows: training fails
     * at its first step, blames the features, not the learning rate, and
     * restores the parameters. */
    float *huge = malloc(nf * sizeof *huge);
    int32_t y[60];
    ck_assert_ptr_nonnull(huge);
    for (size_t i = 0; i < nf; i++)
        huge[i] = FLT_MAX;
    for (int i = 0; i < 60; i++)
        y[i] = i % 3;
    fnn_dataset *big = NULL;
    ck_assert_int_eq(fnn_dataset_from_arrays(&big, huge, y, 60, 6, 1, 1, 3, NULL, 0), FNN_OK);
    for (size_t i = 0; i < n; i++)
        bad[i] = 0.5f;
    ck_assert_int_eq(fnn_model_set_params(m, bad, n), FNN_OK);
    ck_assert_int_eq(fnn_model_train(m, big, o), FNN_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(fnn_model_errmsg(m), "before any update"));
    ck_assert_ptr_null(strstr(fnn_model_errmsg(m), "learning rate"));
    ck_assert_int_eq(fnn_model_get_params(m, p1, n), FNN_OK);
    ck_assert_mem_eq(bad, p1, n * sizeof *p1);
    expect_inference_numeric(m, big);

    /* Weights that are all FLT_MAX: finite, but every output overflows. No
     * call reports a result, and training fails, restoring them. */
    for (size_t i = 0; i < n; i++)
        bad[i] = FLT_MAX;
    ck_assert_int_eq(fnn_model_set_params(m, bad, n), FNN_OK);
    expect_inference_numeric(m, ds);
    ck_assert_int_eq(fnn_model_train(m, ds, o), FNN_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(fnn_model_errmsg(m), "before any update"));
    ck_assert_int_eq(fnn_model_get_params(m, p1, n), FNN_OK);
    ck_assert_mem_eq(bad, p1, n * sizeof *p1);
    ck_assert_uint_eq(fnn_model_recipe_calls(m), 1); /* the failed calls recorded nothing */

    fnn_train_options_free(o);
    fnn_model_free(m);
    fnn_dataset_free(big);
    fnn_dataset_free(ds);
    free(huge);
    free(x0);
    free(x1);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("train");
    TCase *tc = tcase_create("learning");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_mlp_separable_sgd);
    tcase_add_test(tc, test_cnn_separable_adam);
    tcase_add_test(tc, test_determinism);
    tcase_add_test(tc, test_step_schedule_trains);
    suite_add_tcase(s, tc);
    tc = tcase_create("api");
    tcase_add_test(tc, test_inference_consistency);
    tcase_add_test(tc, test_shape_and_class_mismatch);
    tcase_add_test(tc, test_divergence_restores);
    tcase_add_test(tc, test_overflow_refused);
    tcase_add_test(tc, test_progress_and_cancel);
    tcase_add_test(tc, test_options_validation);
    tcase_add_test(tc, test_lr_schedule);
    tcase_add_test(tc, test_presets);
    tcase_add_test(tc, test_fold_input_normalization);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fnn_test_main(suite());
}
