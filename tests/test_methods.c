/* The unlearning methods of the method table on small synthetic data: every
 * method through fnn_model_forget(), what each must achieve, exact
 * retraining, progress and cancellation, the recipe and its normalisation. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
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

/* n points around `classes` overlapping centres in `dim` dimensions, with an
 * offset of 3 and a spread of `noise`, so that normalisation matters. */
static fnn_dataset *blobs(size_t n, uint32_t dim, uint32_t classes, float noise, uint64_t seed)
{
    float *x = malloc(n * dim * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    fnn__rng r;
    fnn__rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) {
        y[i] = (int32_t)(i % classes);
        for (uint32_t j = 0; j < dim; j++)
            x[i * dim + j] = 3.0f + (j % classes == (uint32_t)y[i] ? 2.0f : 0.0f) +
                             noise * (fnn__rng_float(&r) - 0.5f);
    }
    fnn_dataset *ds = NULL;
    char err[256];
    ck_assert_msg(fnn_dataset_from_arrays(&ds, x, y, n, dim, 1, 1, classes, err, sizeof err) ==
                      FNN_OK,
                  "%s", err);
    free(x);
    free(y);
    return ds;
}

static const char *const SPEC = "input:8,dense:16,relu,dense:12,relu,dense:4";

/* SGD with momentum, normalised inputs: the shape of the presets' recipe. */
static fnn_train_options *recipe(uint32_t epochs, uint64_t seed)
{
    fnn_train_options *o = NULL;
    ck_assert_int_eq(fnn_train_options_create(&o), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_EPOCHS, epochs), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_BATCH_SIZE, 16), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_OPTIMIZER, FNN_OPTIMIZER_SGD), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_LEARNING_RATE, 0.05), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_LR_SCHEDULE, FNN_LR_STEP), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_LR_GAMMA, 0.9), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_NORMALIZE, 1), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set_u64(o, FNN_TRAIN_SEED, seed), FNN_OK);
    return o;
}

static fnn_model *trained(const fnn_dataset *train, uint32_t epochs)
{
    fnn_model *m = make(SPEC, 5);
    fnn_train_options *o = recipe(epochs, 77);
    ck_assert_int_eq(fnn_model_train(m, train, o), FNN_OK);
    fnn_train_options_free(o);
    return m;
}

static double report(const fnn_forget_report *r, int key)
{
    double v = NAN;
    ck_assert_int_eq(fnn_forget_report_get(r, key, &v), FNN_OK);
    return v;
}

/* The model's file bytes: everything that defines it. */
static uint8_t *bytes_of(const fnn_model *m, size_t *len)
{
    ck_assert_int_eq(fnn_model_save_buffer(m, NULL, 0, len), FNN_OK);
    uint8_t *b = malloc(*len);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(fnn_model_save_buffer(m, b, *len, len), FNN_OK);
    return b;
}

static void assert_same_bytes(const fnn_model *a, const fnn_model *b)
{
    size_t la, lb;
    uint8_t *ba = bytes_of(a, &la), *bb = bytes_of(b, &lb);
    ck_assert_uint_eq(la, lb);
    ck_assert_msg(memcmp(ba, bb, la) == 0, "the models differ");
    free(ba);
    free(bb);
}

/* Same parameters and forgetting state (the records may differ). */
static void assert_same_params(const fnn_model *a, const fnn_model *b)
{
    size_t n = fnn_model_num_params(a);
    ck_assert_uint_eq(fnn_model_num_params(b), n);
    ck_assert_msg(memcmp(a->params, b->params, n * sizeof(float)) == 0, "parameters differ");
    ck_assert_uint_eq(a->t, b->t);
    for (size_t k = 0; k < a->n_fl; k++) {
        ck_assert_int_eq(a->fl[k].on, b->fl[k].on);
        ck_assert(memcmp(a->fl[k].tau, b->fl[k].tau, a->fl[k].units * sizeof(float)) == 0);
    }
}

static double mean_loss(const fnn_model *m, const fnn_dataset *ds)
{
    double loss = NAN;
    ck_assert_int_eq(fnn_model_evaluate(m, ds, NULL, &loss), FNN_OK);
    return loss;
}

static double accuracy(const fnn_model *m, const fnn_dataset *ds)
{
    double acc = NAN;
    ck_assert_int_eq(fnn_model_evaluate(m, ds, &acc, NULL), FNN_OK);
    return acc;
}

/* ---- the table ---------------------------------------------------------------- */

START_TEST(test_method_names)
{
    static const char *const want[] = {"fnn",     "fnn-paper", "retrain", "finetune",
                                       "neggrad", "newton",    "none"};
    ck_assert_uint_eq(fnn_names_count(FNN_NAMES_METHOD), 7);
    for (int m = 0; m < 7; m++) {
        ck_assert_str_eq(fnn_name(FNN_NAMES_METHOD, m), want[m]);
        ck_assert_ptr_nonnull(fnn_name_help(FNN_NAMES_METHOD, m));
        int v = -1;
        ck_assert_int_eq(fnn_name_lookup(FNN_NAMES_METHOD, want[m], &v), FNN_OK);
        ck_assert_int_eq(v, m);
    }
    ck_assert_ptr_null(fnn_name(FNN_NAMES_METHOD, 7));
    ck_assert_ptr_null(fnn_name(FNN_NAMES_METHOD, -1));
    int v;
    ck_assert_int_eq(fnn_name_lookup(FNN_NAMES_METHOD, "posthoc", &v), FNN_E_INVALID);
    /* The enum and the table agree. */
    ck_assert_int_eq(FNN_METHOD_FNN, 0);
    ck_assert_int_eq(FNN_METHOD_NONE, 6);
    ck_assert_int_eq(FNN_PROCEDURE_PAPER, FNN_METHOD_FNN_PAPER);
}
END_TEST

/* Runs `method` on a class request and checks what every method reports. */
static void run_method(int method, fnn_model *m, const fnn_dataset *train,
                       const fnn_dataset *test, fnn_forget_report *rep)
{
    fnn_forget_request *req = NULL;
    ck_assert_int_eq(fnn_forget_request_from_class(&req, train, 2, NULL, 0), FNN_OK);
    fnn_forget_options *o = NULL;
    ck_assert_int_eq(fnn_forget_options_create(&o), FNN_OK);
    ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_METHOD, method), FNN_OK);
    /* 400 samples: a fifth of the training pays for fnn's repair. */
    ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_BUDGET, 0.2), FNN_OK);
    ck_assert_msg(fnn_model_forget(m, req, test, o, rep) == FNN_OK, "%s: %s",
                  fnn_name(FNN_NAMES_METHOD, method), fnn_model_errmsg(m));
    ck_assert_double_eq(report(rep, FNN_REPORT_METHOD), method);
    ck_assert_double_eq(report(rep, FNN_REPORT_FORGET_SIZE), 100);
    ck_assert_double_eq(report(rep, FNN_REPORT_RETAIN_SIZE), 300);
    ck_assert_double_eq(report(rep, FNN_REPORT_HOLDOUT_SIZE), 200);
    ck_assert(report(rep, FNN_REPORT_SECONDS) >= report(rep, FNN_REPORT_METHOD_SECONDS));
    ck_assert(report(rep, FNN_REPORT_FLOPS) >= report(rep, FNN_REPORT_METHOD_FLOPS));
    ck_assert(report(rep, FNN_REPORT_FLOPS) > 0);
    ck_assert(!isnan(report(rep, FNN_REPORT_RETRAIN_FLOPS)));
    fnn_forget_options_free(o);
    fnn_forget_request_free(req);
}

START_TEST(test_every_method)
{
    fnn_dataset *train = blobs(400, 8, 4, 1.0f, 1), *test = blobs(200, 8, 4, 1.0f, 2);
    fnn_model *orig = trained(train, 20);
    ck_assert_double_ge(accuracy(orig, test), 0.95);
    for (int method = 0; method < (int)fnn_names_count(FNN_NAMES_METHOD); method++) {
        fnn_model *m = NULL;
        fnn_forget_report *rep = NULL;
        ck_assert_int_eq(fnn_model_clone(orig, &m), FNN_OK);
        ck_assert_int_eq(fnn_forget_report_create(&rep), FNN_OK);
        run_method(method, m, train, test, rep);
        double forget_after = report(rep, FNN_REPORT_FORGET_ACC_AFTER);
        ck_assert_double_ge(report(rep, FNN_REPORT_FORGET_ACC_BEFORE), 0.95);
        switch (method) {
        case FNN_METHOD_NONE:
            assert_same_params(orig, m);
            ck_assert_double_eq(report(rep, FNN_REPORT_METHOD_FLOPS), 0);
            ck_assert_uint_eq(fnn_forget_report_num_phases(rep), 0);
            break;
        case FNN_METHOD_RETRAIN:
        case FNN_METHOD_FNN:
        case FNN_METHOD_NEWTON:
            /* These forget a class: a model without it never predicts it. */
            ck_assert_msg(forget_after <= 0.02, "%s: forget accuracy %g",
                          fnn_name(FNN_NAMES_METHOD, method), forget_after);
            ck_assert_msg(fnn_test_class_accuracy(m, (fnn_dataset *)test, 2, 1) >= 0.9,
                          "%s: other classes at %g", fnn_name(FNN_NAMES_METHOD, method),
                          fnn_test_class_accuracy(m, (fnn_dataset *)test, 2, 1));
            break;
        default:
            /* finetune and neggrad move it, each in its own way (below). */
            break;
        }
        if (method != FNN_METHOD_NONE)
            ck_assert_uint_ge(fnn_forget_report_num_phases(rep), 1);
        /* A plain model afterwards: nothing decays. */
        for (size_t k = 0; k < fnn_model_num_forgetting_layers(m); k++)
            ck_assert_int_eq(fnn_model_decay_enabled(m, k), 0);
        fnn_forget_report_free(rep);
        fnn_model_free(m);
    }
    fnn_model_free(orig);
    fnn_dataset_free(train);
    fnn_dataset_free(test);
}
END_TEST

/* ---- NegGrad+ -------------------------------------------------------------------- */

START_TEST(test_neggrad_ascends_forget_loss)
{
    /* Overlapping classes: the model is not sure of everything, so the ascent
     * has a gradient to follow. */
    fnn_dataset *train = blobs(400, 8, 4, 4.0f, 1);
    fnn_model *m = trained(train, 20);
    fnn_forget_request *req = NULL;
    ck_assert_int_eq(fnn_forget_request_random(&req, train, 40, 3, NULL, 0), FNN_OK);
    fnn_dataset *forget = NULL, *retain = NULL;
    ck_assert_int_eq(fnn_forget_request_forget_set(req, &forget), FNN_OK);
    ck_assert_int_eq(fnn_forget_request_retain_set(req, &retain), FNN_OK);
    double loss_before = mean_loss(m, forget), retain_before = accuracy(m, retain);
    fnn_forget_options *o = NULL;
    ck_assert_int_eq(fnn_forget_options_create(&o), FNN_OK);
    ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_METHOD, FNN_METHOD_NEGGRAD), FNN_OK);
    ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_NEGGRAD_ALPHA, 0.95), FNN_OK);
    fnn_train_options *inner = fnn_forget_options_train(o);
    ck_assert_int_eq(fnn_train_options_set(inner, FNN_TRAIN_EPOCHS, 3), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(inner, FNN_TRAIN_LEARNING_RATE, 0.05), FNN_OK);
    ck_assert_int_eq(fnn_model_forget(m, req, NULL, o, NULL), FNN_OK);
    double loss_after = mean_loss(m, forget), retain_after = accuracy(m, retain);
    if (getenv("FNN_DEBUG_NEGGRAD"))
        fprintf(stderr, "forget loss %g -> %g, retain accuracy %g -> %g\n", loss_before,
                loss_after, retain_before, retain_after);
    ck_assert_msg(loss_after > 2 * loss_before, "forget loss %g -> %g", loss_before,
                  loss_after);
    ck_assert_msg(retain_after >= retain_before - 0.05, "retain accuracy %g -> %g",
                  retain_before, retain_after);
    fnn_forget_options_free(o);
    fnn_dataset_free(forget);
    fnn_dataset_free(retain);
    fnn_forget_request_free(req);
    fnn_model_free(m);
    fnn_dataset_free(train);
}
END_TEST

/* ---- the Newton step ------------------------------------------------------------ */

/* The input features h of the output layer for every sample of ds (n x H). */
static double *features(const fnn_model *m, const fnn_dataset *ds, size_t *H)
{
    size_t li = m->fl[m->n_fl - 1].layer;
    const fnn__layer *L = &m->spec.layers[li];
    *H = L->in_dim;
    double *h = malloc(ds->n * *H * sizeof *h);
    fnn__ws ws = {0};
    ck_assert_int_eq(fnn__ws_reserve(m, &ws, ds->n, 0), FNN_OK);
    fnn__dataset_gather_range(ds, 0, ds->n, ws.act[0], ws.y);
    fnn__forward(m, &ws, ds->n, NULL);
    for (size_t i = 0; i < ds->n * *H; i++)
        h[i] = ws.cur[li][i];
    fnn__ws_release(m, &ws);
    return h;
}

/* Minimises 1/n sum CE(W h + b, y) + lambda/2 |theta|^2 by full-batch
 * gradient descent from theta (C x (H + 1), per class H weights then the
 * bias), to a gradient norm below 1e-10. */
static void fit_output(double *theta, const double *h, const int32_t *y, size_t n, size_t H,
                       size_t C, double lambda)
{
    size_t X = H + 1, D = C * X;
    double *g = malloc(D * sizeof *g), *z = malloc(C * sizeof *z);
    for (int it = 0; it < 200000; it++) {
        for (size_t j = 0; j < D; j++)
            g[j] = lambda * theta[j];
        for (size_t i = 0; i < n; i++) {
            double mx = -INFINITY, sum = 0;
            for (size_t c = 0; c < C; c++) {
                z[c] = theta[c * X + H];
                for (size_t j = 0; j < H; j++)
                    z[c] += theta[c * X + j] * h[i * H + j];
                mx = fmax(mx, z[c]);
            }
            for (size_t c = 0; c < C; c++)
                sum += exp(z[c] - mx);
            for (size_t c = 0; c < C; c++) {
                double d = (exp(z[c] - mx) / sum - (y[i] == (int32_t)c)) / (double)n;
                for (size_t j = 0; j < H; j++)
                    g[c * X + j] += d * h[i * H + j];
                g[c * X + H] += d;
            }
        }
        double norm = 0;
        for (size_t j = 0; j < D; j++) {
            norm += g[j] * g[j];
            theta[j] -= 0.5 * g[j];
        }
        if (norm < 1e-20) {
            if (getenv("FNN_DEBUG_FIT"))
                fprintf(stderr, "fit converged after %d iterations\n", it);
            break;
        }
    }
    free(g);
    free(z);
}

static void get_output(const fnn_model *m, double *theta)
{
    const fnn__layer *L = &m->spec.layers[m->fl[m->n_fl - 1].layer];
    size_t H = L->in_dim, X = H + 1;
    for (size_t c = 0; c < L->units; c++) {
        for (size_t j = 0; j < H; j++)
            theta[c * X + j] = m->params[L->w_off + c * H + j];
        theta[c * X + H] = m->params[L->b_off + c];
    }
}

static void set_output(fnn_model *m, const double *theta)
{
    const fnn__layer *L = &m->spec.layers[m->fl[m->n_fl - 1].layer];
    size_t H = L->in_dim, X = H + 1;
    for (size_t c = 0; c < L->units; c++) {
        for (size_t j = 0; j < H; j++)
            m->params[L->w_off + c * H + j] = (float)theta[c * X + j];
        m->params[L->b_off + c] = (float)theta[c * X + H];
    }
}

START_TEST(test_newton_matches_retrained_output_layer)
{
    const double lambda = 0.01;
    fnn_dataset *train = blobs(200, 8, 4, 3.0f, 1);
    fnn_model *m = trained(train, 10);
    size_t H, n = train->n, C = m->num_classes, D;
    double *h = features(m, train, &H);
    D = C * (H + 1);
    int32_t *y = malloc(n * sizeof *y);
    ck_assert_int_eq(fnn_dataset_labels(train, y, n), FNN_OK);
    /* The output layer at the regularised optimum of the whole training set. */
    double *full = malloc(D * sizeof *full), *retain = malloc(D * sizeof *retain);
    double *newton = malloc(D * sizeof *newton);
    get_output(m, full);
    fit_output(full, h, y, n, H, C, lambda);
    set_output(m, full);
    get_output(m, full); /* as the model holds it, in single precision */

    /* Forget 6 samples with the Newton step ... */
    static const uint32_t forget[] = {3, 17, 42, 99, 150, 188};
    fnn_forget_request *req = NULL;
    ck_assert_int_eq(fnn_forget_request_from_indices(&req, train, forget, 6, NULL, 0), FNN_OK);
    fnn_forget_options *o = NULL;
    ck_assert_int_eq(fnn_forget_options_create(&o), FNN_OK);
    ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_METHOD, FNN_METHOD_NEWTON), FNN_OK);
    ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_NEWTON_L2, lambda), FNN_OK);
    ck_assert_int_eq(fnn_model_forget(m, req, NULL, o, NULL), FNN_OK);
    get_output(m, newton);

    /* ... and retrain the output layer on the retained features to convergence. */
    double *hr = malloc(n * H * sizeof *hr);
    int32_t *yr = malloc(n * sizeof *yr);
    size_t nr = 0;
    for (size_t i = 0, k = 0; i < n; i++) {
        if (k < 6 && forget[k] == i) {
            k++;
            continue;
        }
        memcpy(hr + nr * H, h + i * H, H * sizeof *hr);
        yr[nr++] = y[i];
    }
    memcpy(retain, full, D * sizeof *retain);
    fit_output(retain, hr, yr, nr, H, C, lambda);

    double moved = 0, err = 0, scale = 0;
    for (size_t j = 0; j < D; j++) {
        moved = fmax(moved, fabs(retain[j] - full[j]));
        err = fmax(err, fabs(newton[j] - retain[j]));
        scale = fmax(scale, fabs(retain[j]));
    }
    /* The forget set moved the optimum; the step lands on it to 1e-3 of the
     * parameters' scale, far closer than where it started. */
    ck_assert_msg(moved > 1e-3 * scale, "removing 6 samples moved nothing (%g)", moved);
    ck_assert_msg(err < 1e-3 * scale && err < 0.05 * moved,
                  "newton is %g from the retrained optimum (moved %g, scale %g)", err, moved,
                  scale);
    /* The layers below did not change. */
    fnn_model_free(m);
    free(h);
    free(hr);
    free(y);
    free(yr);
    free(full);
    free(retain);
    free(newton);
    fnn_forget_options_free(o);
    fnn_forget_request_free(req);
    fnn_dataset_free(train);
}
END_TEST

/* ---- exact retraining ------------------------------------------------------------ */

START_TEST(test_retrain_reproduces_training)
{
    fnn_dataset *train = blobs(300, 8, 4, 1.0f, 1);
    fnn_model *m = trained(train, 8);
    ck_assert_uint_eq(fnn_model_recipe_calls(m), 1);
    /* Through a file: the recipe is saved with the model. */
    size_t len;
    uint8_t *b = bytes_of(m, &len);
    fnn_model *r = NULL;
    char err[256];
    ck_assert_msg(fnn_model_load_buffer(&r, b, len, err, sizeof err) == FNN_OK, "%s", err);
    free(b);
    /* Scramble it first: retraining starts from the recorded seed. */
    float *junk = calloc(fnn_model_num_params(r), sizeof *junk);
    ck_assert_int_eq(fnn_model_set_params(r, junk, fnn_model_num_params(r)), FNN_OK);
    free(junk);
    ck_assert_int_eq(fnn_model_retrain(r, train, NULL), FNN_OK);
    assert_same_bytes(m, r);

    /* The recipe reads back; overriding a key changes the result. */
    fnn_train_options *o = NULL;
    uint64_t init = 9, samples = 0;
    ck_assert_int_eq(fnn_model_recipe(r, &o, &init, &samples), FNN_OK);
    ck_assert_uint_eq(init, 5);
    ck_assert_uint_eq(samples, 300);
    double v;
    ck_assert_int_eq(fnn_train_options_get(o, FNN_TRAIN_EPOCHS, &v), FNN_OK);
    ck_assert_double_eq(v, 8);
    fnn_train_options_free(o);
    ck_assert_int_eq(fnn_train_options_create(&o), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_EPOCHS, 2), FNN_OK);
    ck_assert_int_eq(fnn_model_retrain(r, train, o), FNN_OK);
    size_t la, lb;
    uint8_t *ba = bytes_of(m, &la), *bb = bytes_of(r, &lb);
    ck_assert(la != lb || memcmp(ba, bb, la) != 0);
    free(ba);
    free(bb);
    fnn_train_options_free(o);

    /* The retrain method is fnn_model_retrain() on the retain set. */
    fnn_forget_request *req = NULL;
    ck_assert_int_eq(fnn_forget_request_from_class(&req, train, 1, NULL, 0), FNN_OK);
    fnn_dataset *retain = NULL;
    ck_assert_int_eq(fnn_forget_request_retain_set(req, &retain), FNN_OK);
    fnn_model *a = NULL, *c = NULL;
    ck_assert_int_eq(fnn_model_clone(m, &a), FNN_OK);
    ck_assert_int_eq(fnn_model_clone(m, &c), FNN_OK);
    fnn_forget_options *fo = NULL;
    ck_assert_int_eq(fnn_forget_options_create(&fo), FNN_OK);
    ck_assert_int_eq(fnn_forget_options_set(fo, FNN_FORGET_METHOD, FNN_METHOD_RETRAIN), FNN_OK);
    ck_assert_int_eq(fnn_model_forget(a, req, NULL, fo, NULL), FNN_OK);
    ck_assert_int_eq(fnn_model_retrain(c, retain, NULL), FNN_OK);
    assert_same_params(a, c);
    ck_assert_double_eq(fnn_test_class_accuracy(a, train, 1, 0), 0.0);

    /* Without a recipe, retraining needs the options. */
    fnn_model *plain = make(SPEC, 5);
    ck_assert_int_eq(fnn_model_retrain(plain, train, NULL), FNN_E_STATE);
    ck_assert_ptr_nonnull(strstr(fnn_model_errmsg(plain), "recipe"));
    ck_assert_int_eq(fnn_model_forget(plain, req, NULL, fo, NULL), FNN_E_STATE);
    fnn_model_free(plain);

    fnn_forget_options_free(fo);
    fnn_dataset_free(retain);
    fnn_forget_request_free(req);
    fnn_model_free(a);
    fnn_model_free(c);
    fnn_model_free(r);
    fnn_model_free(m);
    fnn_dataset_free(train);
}
END_TEST

/* ---- the deletion history ------------------------------------------------------------ */

START_TEST(test_history_records)
{
    fnn_dataset *train = blobs(400, 8, 4, 1.0f, 1), *test = blobs(200, 8, 4, 1.0f, 2);
    fnn_model *m = trained(train, 10);
    ck_assert_uint_eq(fnn_model_history_count(m), 0);
    fnn_forget_request *req = NULL;
    ck_assert_int_eq(fnn_forget_request_from_class(&req, train, 2, NULL, 0), FNN_OK);
    fnn_forget_report *rep = NULL;
    ck_assert_int_eq(fnn_forget_report_create(&rep), FNN_OK);
    ck_assert_int_eq(fnn_model_forget(m, req, test, NULL, rep), FNN_OK);
    ck_assert_uint_eq(fnn_model_history_count(m), 1);
    double v;
    static const struct {
        int hist, report;
    } same[] = {
        {FNN_HISTORY_FORGET_ACC_BEFORE, FNN_REPORT_FORGET_ACC_BEFORE},
        {FNN_HISTORY_FORGET_ACC_AFTER, FNN_REPORT_FORGET_ACC_AFTER},
        {FNN_HISTORY_RETAIN_ACC_AFTER, FNN_REPORT_RETAIN_ACC_AFTER},
        {FNN_HISTORY_HOLDOUT_ACC_AFTER, FNN_REPORT_HOLDOUT_ACC_AFTER},
        {FNN_HISTORY_MIA_BEFORE, FNN_REPORT_MIA_BEFORE},
        {FNN_HISTORY_MIA_AFTER, FNN_REPORT_MIA_AFTER},
        {FNN_HISTORY_FLOPS, FNN_REPORT_METHOD_FLOPS},
    };
    for (size_t k = 0; k < sizeof same / sizeof same[0]; k++) {
        ck_assert_int_eq(fnn_model_history_get(m, 0, same[k].hist, &v), FNN_OK);
        ck_assert_double_eq(v, report(rep, same[k].report));
    }
    /* The class's samples of the holdout are the attack's non-members; the
     * original tells them from the forget set only near chance, here. */
    ck_assert(report(rep, FNN_REPORT_MIA_BEFORE) >= 0 && report(rep, FNN_REPORT_MIA_BEFORE) <= 1);
    ck_assert_int_eq(fnn_model_history_get(m, 0, FNN_HISTORY_METHOD, &v), FNN_OK);
    ck_assert_double_eq(v, FNN_METHOD_FNN);
    ck_assert_int_eq(fnn_model_history_get(m, 0, FNN_HISTORY_REQUEST_KIND, &v), FNN_OK);
    ck_assert_double_eq(v, FNN_REQUEST_CLASS);
    ck_assert_int_eq(fnn_model_history_get(m, 0, FNN_HISTORY_CLASS, &v), FNN_OK);
    ck_assert_double_eq(v, 2);
    ck_assert_int_eq(fnn_model_history_get(m, 0, FNN_HISTORY_FORGET_SIZE, &v), FNN_OK);
    ck_assert_double_eq(v, 100);
    ck_assert_int_eq(fnn_model_history_get(m, 0, FNN_HISTORY_TRAIN_SIZE, &v), FNN_OK);
    ck_assert_double_eq(v, 400);
    uint8_t a[32], b[32];
    ck_assert_int_eq(fnn_model_history_digest(m, 0, a), FNN_OK);
    ck_assert_int_eq(fnn_forget_request_digest(req, b), FNN_OK);
    ck_assert_mem_eq(a, b, 32);
    ck_assert_str_eq(fnn_model_history_version(m, 0), fnn_version_string());
    ck_assert_int_eq(fnn_model_history_get(m, 1, FNN_HISTORY_METHOD, &v), FNN_E_RANGE);
    ck_assert_int_eq(fnn_model_history_get(m, 0, 99, &v), FNN_E_INVALID);
    ck_assert_ptr_null(fnn_model_history_version(m, 1));

    /* A second deletion appends; the record survives the file and a clone. */
    fnn_forget_request *r2 = NULL;
    static const uint32_t idx[] = {0, 5, 9};
    ck_assert_int_eq(fnn_forget_request_from_indices(&r2, train, idx, 3, NULL, 0), FNN_OK);
    fnn_forget_options *o = NULL;
    ck_assert_int_eq(fnn_forget_options_create(&o), FNN_OK);
    ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_METHOD, FNN_METHOD_NONE), FNN_OK);
    ck_assert_int_eq(fnn_model_forget(m, r2, NULL, o, NULL), FNN_OK);
    ck_assert_uint_eq(fnn_model_history_count(m), 2);
    ck_assert_int_eq(fnn_model_history_get(m, 1, FNN_HISTORY_MIA_AFTER, &v), FNN_OK);
    ck_assert(isnan(v)); /* no holdout, no attack */
    size_t len;
    uint8_t *bytes = bytes_of(m, &len);
    fnn_model *r = NULL, *c = NULL;
    ck_assert_int_eq(fnn_model_load_buffer(&r, bytes, len, NULL, 0), FNN_OK);
    ck_assert_int_eq(fnn_model_clone(r, &c), FNN_OK);
    assert_same_bytes(m, r);
    assert_same_bytes(m, c);
    ck_assert_uint_eq(fnn_model_history_count(c), 2);
    ck_assert_int_eq(fnn_model_history_digest(c, 1, a), FNN_OK);
    ck_assert_int_eq(fnn_forget_request_digest(r2, b), FNN_OK);
    ck_assert_mem_eq(a, b, 32);
    /* A failed run records nothing. */
    fnn_model *small = make("input:8,dense:3", 1);
    ck_assert_int_ne(fnn_model_forget(small, r2, NULL, NULL, NULL), FNN_OK);
    ck_assert_uint_eq(fnn_model_history_count(small), 0);
    fnn_model_free(small);
    free(bytes);
    fnn_model_free(r);
    fnn_model_free(c);
    fnn_forget_options_free(o);
    fnn_forget_request_free(r2);
    fnn_forget_report_free(rep);
    fnn_forget_request_free(req);
    fnn_model_free(m);
    fnn_dataset_free(train);
    fnn_dataset_free(test);
}
END_TEST

START_TEST(test_sha256_vectors)
{
    /* FIPS 180-2's examples. */
    static const struct {
        const char *msg;
        const char *hex;
    } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        fnn__sha256 h;
        uint8_t out[32];
        char hex[65];
        fnn__sha256_init(&h);
        /* Fed byte by byte, so that block boundaries fall everywhere. */
        for (const char *p = v[i].msg; *p; p++)
            fnn__sha256_update(&h, p, 1);
        fnn__sha256_final(&h, out);
        for (int k = 0; k < 32; k++)
            snprintf(hex + 2 * k, 3, "%02x", out[k]);
        ck_assert_str_eq(hex, v[i].hex);
    }
    /* A million 'a's in odd chunks. */
    fnn__sha256 h;
    uint8_t out[32];
    char hex[65], chunk[997];
    memset(chunk, 'a', sizeof chunk);
    fnn__sha256_init(&h);
    for (size_t left = 1000000; left > 0;) {
        size_t n = left < sizeof chunk ? left : sizeof chunk;
        fnn__sha256_update(&h, chunk, n);
        left -= n;
    }
    fnn__sha256_final(&h, out);
    for (int k = 0; k < 32; k++)
        snprintf(hex + 2 * k, 3, "%02x", out[k]);
    ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

/* ---- progress and cancellation ---------------------------------------------------- */

struct watch {
    int calls, stop_at;
    uint64_t last_step;
    double last_done;
    int monotone;
    size_t phases_seen;
};

static int watch_cb(void *user, int phase_kind, uint64_t step, double done, double total,
                    const fnn_forget_report *so_far)
{
    struct watch *w = user;
    w->calls++;
    if (step < w->last_step || done < w->last_done || phase_kind < 0 ||
        phase_kind >= (int)fnn_names_count(FNN_NAMES_PHASE_KIND) || total < 0)
        w->monotone = 0;
    w->last_step = step;
    w->last_done = done;
    w->phases_seen = fnn_forget_report_num_phases(so_far);
    return w->stop_at && w->calls >= w->stop_at;
}

START_TEST(test_progress_and_cancel)
{
    fnn_dataset *train = blobs(400, 8, 4, 1.0f, 1), *test = blobs(200, 8, 4, 1.0f, 2);
    fnn_model *orig = trained(train, 10);
    fnn_forget_request *req = NULL;
    ck_assert_int_eq(fnn_forget_request_from_class(&req, train, 0, NULL, 0), FNN_OK);
    for (int method = 0; method < (int)fnn_names_count(FNN_NAMES_METHOD); method++) {
        if (method == FNN_METHOD_NONE)
            continue;
        /* Watched to the end: steps and FLOPs only grow. */
        fnn_model *m = NULL;
        ck_assert_int_eq(fnn_model_clone(orig, &m), FNN_OK);
        fnn_forget_options *o = NULL;
        fnn_forget_report *rep = NULL;
        ck_assert_int_eq(fnn_forget_options_create(&o), FNN_OK);
        ck_assert_int_eq(fnn_forget_report_create(&rep), FNN_OK);
        ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_METHOD, method), FNN_OK);
        struct watch w = {.monotone = 1};
        ck_assert_int_eq(fnn_forget_options_set_progress(o, watch_cb, &w), FNN_OK);
        ck_assert_int_eq(fnn_model_forget(m, req, test, o, rep), FNN_OK);
        ck_assert_int_ge(w.calls, 3);
        ck_assert_msg(w.monotone, "%s: progress went backwards",
                      fnn_name(FNN_NAMES_METHOD, method));
        ck_assert_uint_eq(w.phases_seen, fnn_forget_report_num_phases(rep));
        ck_assert_double_eq(report(rep, FNN_REPORT_STEPS), (double)w.last_step);

        /* Cancelled halfway: FNN_E_CANCELLED and the model exactly as it was. */
        fnn_model *c = NULL;
        ck_assert_int_eq(fnn_model_clone(orig, &c), FNN_OK);
        struct watch stop = {.monotone = 1, .stop_at = w.calls / 2 + 1};
        ck_assert_int_eq(fnn_forget_options_set_progress(o, watch_cb, &stop), FNN_OK);
        ck_assert_int_eq(fnn_model_forget(c, req, test, o, rep), FNN_E_CANCELLED);
        ck_assert_ptr_nonnull(strstr(fnn_model_errmsg(c), "cancelled"));
        assert_same_bytes(orig, c);
        fnn_model_free(c);
        fnn_forget_report_free(rep);
        fnn_forget_options_free(o);
        fnn_model_free(m);
    }
    fnn_forget_request_free(req);
    fnn_model_free(orig);
    fnn_dataset_free(train);
    fnn_dataset_free(test);
}
END_TEST

/* ---- the fnn method's budget and layers ----------------------------------------------- */

START_TEST(test_fnn_budget)
{
    /* Every FLOP of the method's work is within its budget, the budget is
     * its share of the recipe's training, and never more than retraining. */
    fnn_dataset *train = blobs(400, 8, 4, 1.0f, 1), *test = blobs(200, 8, 4, 1.0f, 2);
    fnn_model *orig = trained(train, 20);
    const double per = fnn_model_flops_per_sample(orig, 1);
    const double recipe_flops = 20.0 * 400.0 * per, retrain_flops = 20.0 * 300.0 * per;
    fnn_forget_request *req = NULL, *rnd = NULL;
    ck_assert_int_eq(fnn_forget_request_from_class(&req, train, 2, NULL, 0), FNN_OK);
    ck_assert_int_eq(fnn_forget_request_random(&rnd, train, 100, 9, NULL, 0), FNN_OK);
    static const double budgets[] = {0.002, 0.01, 0.2, 0.75, 1.0};
    for (size_t i = 0; i < sizeof budgets / sizeof budgets[0]; i++) {
        for (int kind = 0; kind < 2; kind++) {
            fnn_model *m = NULL;
            fnn_forget_options *o = NULL;
            fnn_forget_report *rep = NULL;
            ck_assert_int_eq(fnn_model_clone(orig, &m), FNN_OK);
            ck_assert_int_eq(fnn_forget_options_create(&o), FNN_OK);
            ck_assert_int_eq(fnn_forget_report_create(&rep), FNN_OK);
            ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_BUDGET, budgets[i]), FNN_OK);
            /* A target out of reach: the run spends what it may. */
            if (kind) {
                ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_TARGET, 0), FNN_OK);
                ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_TOLERANCE, 0), FNN_OK);
                ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_T_START, 1), FNN_OK);
                ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_T_STEP, 1), FNN_OK);
            }
            ck_assert_msg(fnn_model_forget(m, kind ? rnd : req, test, o, rep) == FNN_OK, "%s",
                          fnn_model_errmsg(m));
            if (kind)
                ck_assert_double_eq(report(rep, FNN_REPORT_REACHED_TARGET), 0);
            double want = fmin(budgets[i] * recipe_flops, retrain_flops);
            ck_assert_double_eq_tol(report(rep, FNN_REPORT_BUDGET_FLOPS), want, want * 1e-12);
            ck_assert_double_eq_tol(report(rep, FNN_REPORT_RETRAIN_FLOPS), retrain_flops,
                                    retrain_flops * 1e-12);
            ck_assert_msg(report(rep, FNN_REPORT_METHOD_FLOPS) <= want,
                          "budget %g: %g FLOPs spent of %g", budgets[i],
                          report(rep, FNN_REPORT_METHOD_FLOPS), want);
            ck_assert_double_gt(report(rep, FNN_REPORT_METHOD_FLOPS), 0);
            ck_assert_double_le(report(rep, FNN_REPORT_METHOD_FLOPS), retrain_flops);
            fnn_forget_report_free(rep);
            fnn_forget_options_free(o);
            fnn_model_free(m);
        }
    }
    /* A budget that cannot pay for the least run is refused before anything
     * changes. */
    fnn_model *m = NULL;
    fnn_forget_options *o = NULL;
    ck_assert_int_eq(fnn_model_clone(orig, &m), FNN_OK);
    ck_assert_int_eq(fnn_forget_options_create(&o), FNN_OK);
    ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_BUDGET, 1e-7), FNN_OK);
    ck_assert_int_eq(fnn_model_forget(m, req, test, o, NULL), FNN_E_INVALID);
    ck_assert_ptr_nonnull(strstr(fnn_model_errmsg(m), "raise the budget"));
    assert_same_bytes(orig, m);
    ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_BUDGET, 0), FNN_E_INVALID);
    ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_BUDGET, 1.5), FNN_E_INVALID);
    fnn_forget_options_free(o);
    fnn_model_free(m);
    fnn_forget_request_free(req);
    fnn_forget_request_free(rnd);
    fnn_model_free(orig);
    fnn_dataset_free(train);
    fnn_dataset_free(test);
}
END_TEST

START_TEST(test_fnn_layers)
{
    /* FNN_FORGET_DECAY_OUTPUT picks the layers that decay: 0 the hidden
     * ones, 1 all, 2 the output layer; -1 all for a class, otherwise the
     * output layer for the first round, all of them from the second.
     * Unfolded, the model shows which;
     * for a class request the output layer decays the class's logit only. */
    fnn_dataset *train = blobs(400, 8, 4, 1.0f, 1), *test = blobs(200, 8, 4, 1.0f, 2);
    fnn_model *orig = trained(train, 20);
    size_t n_fl = fnn_model_num_forgetting_layers(orig);
    ck_assert_uint_eq(n_fl, 3);
    fnn_forget_request *cls = NULL, *rnd = NULL;
    ck_assert_int_eq(fnn_forget_request_from_class(&cls, train, 2, NULL, 0), FNN_OK);
    ck_assert_int_eq(fnn_forget_request_random(&rnd, train, 40, 3, NULL, 0), FNN_OK);
    static const struct {
        int value, class_request, hidden_on, output_on;
    } cases[] = {
        {0, 1, 1, 0}, {1, 1, 1, 1}, {2, 1, 0, 1}, {-1, 1, 1, 1}, {-1, 0, -1, 1}, {2, 0, 0, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fnn_model *m = NULL;
        fnn_forget_options *o = NULL;
        ck_assert_int_eq(fnn_model_clone(orig, &m), FNN_OK);
        ck_assert_int_eq(fnn_forget_options_create(&o), FNN_OK);
        ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_DECAY_OUTPUT, cases[i].value),
                         FNN_OK);
        ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_FOLD, 0), FNN_OK);
        ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_BUDGET, 0.2), FNN_OK);
        fnn_forget_report *rep = NULL;
        ck_assert_int_eq(fnn_forget_report_create(&rep), FNN_OK);
        ck_assert_msg(fnn_model_forget(m, cases[i].class_request ? cls : rnd, test, o, rep) ==
                          FNN_OK,
                      "%s", fnn_model_errmsg(m));
        size_t rounds = fnn_forget_report_num_phases(rep);
        fnn_forget_report_free(rep);
        for (size_t k = 0; k < n_fl; k++) {
            int want = k + 1 == n_fl ? cases[i].output_on : cases[i].hidden_on;
            if (want < 0)
                want = rounds > 1;
            ck_assert_msg(fnn_model_decay_enabled(m, k) == want,
                          "case %zu: layer %zu decay %d, want %d", i, k,
                          fnn_model_decay_enabled(m, k), want);
            float tau[16];
            uint32_t units = 0;
            ck_assert_int_eq(fnn_model_forgetting_layer_units(m, k, &units), FNN_OK);
            ck_assert_int_eq(fnn_model_get_tau(m, k, tau, 16), FNN_OK);
            /* A class request's output layer forgets the class's logit alone. */
            int class_logit = want && k + 1 == n_fl && cases[i].class_request;
            for (uint32_t j = 0; j < units; j++) {
                int finite = want && (!class_logit || j == 2);
                ck_assert_msg(finite ? isfinite(tau[j]) : isinf(tau[j]),
                              "case %zu: layer %zu unit %u tau %g", i, k, j, tau[j]);
            }
        }
        fnn_forget_options_free(o);
        fnn_model_free(m);
    }
    fnn_forget_request_free(cls);
    fnn_forget_request_free(rnd);
    fnn_model_free(orig);
    fnn_dataset_free(train);
    fnn_dataset_free(test);
}
END_TEST

START_TEST(test_fnn_class_below_retained)
{
    /* A class request's logit decays towards zero, and the retained logits'
     * biases rise by one common amount until the class ends below them on
     * every monitored forget sample. With the output layer alone decaying
     * and no repair, every retained logit is the original's plus that
     * amount, so no prediction among the retained classes changes. */
    fnn_dataset *train = blobs(400, 8, 4, 1.0f, 1), *test = blobs(200, 8, 4, 1.0f, 2);
    fnn_model *orig = trained(train, 20), *m = NULL;
    fnn_forget_request *cls = NULL;
    ck_assert_int_eq(fnn_forget_request_from_class(&cls, train, 2, NULL, 0), FNN_OK);
    ck_assert_int_eq(fnn_model_clone(orig, &m), FNN_OK);
    fnn_forget_options *o = NULL;
    ck_assert_int_eq(fnn_forget_options_create(&o), FNN_OK);
    ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_DECAY_OUTPUT, 2), FNN_OK);
    ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_REPAIR_EPOCHS, 0), FNN_OK);
    ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_FOLD, 0), FNN_OK);
    ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_BUDGET, 0.2), FNN_OK);
    ck_assert_msg(fnn_model_forget(m, cls, test, o, NULL) == FNN_OK, "%s", fnn_model_errmsg(m));

    size_t n = fnn_dataset_size(train);
    float *a = malloc(n * 4 * sizeof *a), *b = malloc(n * 4 * sizeof *b);
    ck_assert_int_eq(fnn_model_logits(orig, train, a, n * 4), FNN_OK);
    ck_assert_int_eq(fnn_model_logits(m, train, b, n * 4), FNN_OK);
    float factors[4];
    ck_assert_int_eq(fnn_model_decay_factors(m, 2, factors, 4), FNN_OK);
    float f = factors[2];
    ck_assert_msg(f > 0 && f < 0.1f, "class logit factor %g", f);
    double shift = NAN;
    size_t wins_decayed = 0, wins_after = 0;
    for (size_t i = 0; i < n; i++) {
        const float *x = a + 4 * i, *y = b + 4 * i;
        float best = -INFINITY;
        for (int j = 0; j < 4; j++) {
            if (j == 2)
                continue;
            double d = (double)y[j] - (double)x[j];
            if (isnan(shift))
                shift = d;
            ck_assert_msg(fabs(d - shift) < 1e-3, "sample %zu logit %d moved %g, others %g", i,
                          j, d, shift);
            best = x[j] > best ? x[j] : best;
        }
        if (i % 4 == 2) { /* blobs() labels sample i with class i % 4 */
            wins_decayed += f * x[2] > best;
            wins_after += y[2] > best + (float)shift;
        }
    }
    /* The decay alone would leave the class predicted for some of its
     * samples; the common rise of the retained logits leaves none. */
    ck_assert_msg(wins_decayed > 0, "the decayed logit never wins here: the case is too easy");
    ck_assert_msg(shift > 0, "shift %g", shift);
    ck_assert_uint_eq(wins_after, 0);
    free(a);
    free(b);
    fnn_forget_options_free(o);
    fnn_forget_request_free(cls);
    fnn_model_free(m);
    fnn_model_free(orig);
    fnn_dataset_free(train);
    fnn_dataset_free(test);
}
END_TEST

/* ---- numbers that are not finite ------------------------------------------------------ */

/* fnn_model_forget(m, a class request) with `method` and inner SGD at `lr`
 * (0: the method's default) must fail with FNN_E_NUMERIC, leave m exactly as
 * it was, with no new history record, and say why: `why` is in the message. */
static void expect_numeric(fnn_model *m, const fnn_dataset *train, const fnn_dataset *test,
                           int method, double lr, const char *why)
{
    fnn_model *before = NULL;
    ck_assert_int_eq(fnn_model_clone(m, &before), FNN_OK);
    fnn_forget_request *req = NULL;
    ck_assert_int_eq(fnn_forget_request_from_class(&req, train, 2, NULL, 0), FNN_OK);
    fnn_forget_options *o = NULL;
    ck_assert_int_eq(fnn_forget_options_create(&o), FNN_OK);
    ck_assert_int_eq(fnn_forget_options_set(o, FNN_FORGET_METHOD, method), FNN_OK);
    if (lr > 0) {
        fnn_train_options *inner = fnn_forget_options_train(o);
        ck_assert_int_eq(fnn_train_options_set(inner, FNN_TRAIN_OPTIMIZER, FNN_OPTIMIZER_SGD),
                         FNN_OK);
        ck_assert_int_eq(fnn_train_options_set(inner, FNN_TRAIN_LEARNING_RATE, lr), FNN_OK);
    }
    int rc = fnn_model_forget(m, req, test, o, NULL);
    ck_assert_msg(rc == FNN_E_NUMERIC, "%s, lr %g: %s (%s)", fnn_name(FNN_NAMES_METHOD, method),
                  lr, fnn_strerror(rc), fnn_model_errmsg(m));
    ck_assert_msg(strstr(fnn_model_errmsg(m), why), "%s: the message is \"%s\"",
                  fnn_name(FNN_NAMES_METHOD, method), fnn_model_errmsg(m));
    assert_same_bytes(before, m);
    ck_assert_uint_eq(fnn_model_history_count(m), fnn_model_history_count(before));
    fnn_forget_options_free(o);
    fnn_forget_request_free(req);
    fnn_model_free(before);
}

START_TEST(test_numeric_failures_restore)
{
    fnn_dataset *train = blobs(400, 8, 4, 1.0f, 1), *test = blobs(200, 8, 4, 1.0f, 2);
    fnn_model *m = trained(train, 5);
    /* Training diverges inside a method: the run fails and the model is as
     * it was. (fnn, fnn-paper and neggrad are not here: on these data, at
     * this rate, their weights grow, to 1e5 in the one step of fnn's budget
     * and to about 1e27 for the others, but stay finite, and they succeed
     * with a useless model.) */
    static const int trains[] = {FNN_METHOD_RETRAIN, FNN_METHOD_FINETUNE};
    for (size_t i = 0; i < sizeof trains / sizeof trains[0]; i++)
        expect_numeric(m, train, test, trains[i], 999999, "became");
    /* Weights that all overflow: every method refuses the model itself. */
    size_t n = fnn_model_num_params(m);
    float *big = malloc(n * sizeof *big);
    ck_assert_ptr_nonnull(big);
    for (size_t i = 0; i < n; i++)
        big[i] = FLT_MAX;
    ck_assert_int_eq(fnn_model_set_params(m, big, n), FNN_OK);
    for (int method = 0; method < (int)fnn_names_count(FNN_NAMES_METHOD); method++)
        expect_numeric(m, train, test, method, 0, "not finite");
    free(big);
    fnn_model_free(m);
    fnn_dataset_free(train);
    fnn_dataset_free(test);
}
END_TEST

/* ---- the normalising recipe --------------------------------------------------------- */

START_TEST(test_normalize_folds)
{
    /* Offset, spread-out features: normalised training is the same network
     * as training on manually normalised data, folded afterwards. */
    fnn_dataset *train = blobs(300, 8, 4, 2.0f, 3);
    fnn_model *a = make(SPEC, 1), *b = make(SPEC, 1);
    fnn_train_options *o = recipe(5, 1);
    ck_assert_int_eq(fnn_model_train(a, train, o), FNN_OK);
    ck_assert_ptr_null(a->in_mean); /* folded: a plain model */

    float mean, sd;
    fnn_dataset *view = NULL;
    uint32_t *all = malloc(300 * sizeof *all);
    for (uint32_t i = 0; i < 300; i++)
        all[i] = i;
    ck_assert_int_eq(fnn_dataset_subset(train, all, 300, &view), FNN_OK);
    free(all);
    ck_assert_int_eq(fnn_dataset_channel_stats(view, &mean, &sd, 1), FNN_OK);
    ck_assert_int_eq(fnn_dataset_set_normalization(view, &mean, &sd, 1), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_NORMALIZE, 0), FNN_OK);
    ck_assert_int_eq(fnn_model_train(b, view, o), FNN_OK);
    ck_assert_int_eq(fnn_model_fold_input_normalization(b, &mean, &sd, 1), FNN_OK);
    float pa[1200], pb[1200];
    size_t n = 300 * 4;
    ck_assert_int_eq(fnn_model_predict_proba(a, train, pa, n), FNN_OK);
    ck_assert_int_eq(fnn_model_predict_proba(b, train, pb, n), FNN_OK);
    for (size_t i = 0; i < n; i++)
        ck_assert_float_eq_tol(pa[i], pb[i], 2e-3f);
    /* And normalising helps here: the plain run on raw features is worse. */
    fnn_model *c = make(SPEC, 1);
    ck_assert_int_eq(fnn_model_train(c, train, o), FNN_OK);
    ck_assert_double_gt(accuracy(a, train), accuracy(c, train));
    fnn_model_free(c);
    fnn_train_options_free(o);
    fnn_dataset_free(view);
    fnn_model_free(a);
    fnn_model_free(b);
    fnn_dataset_free(train);
}
END_TEST

static int stop_after_5(void *user, uint32_t epoch, uint32_t epochs, size_t batch,
                        size_t batches, float loss)
{
    int *n = user;
    (void)epoch, (void)epochs, (void)batch, (void)batches, (void)loss;
    return ++*n >= 5;
}

START_TEST(test_normalize_cancelled_and_evaluated)
{
    /* A cancelled normalised training still leaves a model of raw features. */
    fnn_dataset *train = blobs(300, 8, 4, 2.0f, 3);
    fnn_model *m = make(SPEC, 1);
    fnn_train_options *o = recipe(3, 1);
    int n = 0;
    ck_assert_int_eq(fnn_train_options_set_progress(o, stop_after_5, &n), FNN_OK);
    ck_assert_int_eq(fnn_model_train(m, train, o), FNN_E_CANCELLED);
    ck_assert_ptr_null(m->in_mean);
    ck_assert_uint_eq(fnn_model_recipe_calls(m), 0);
    ck_assert(fnn__model_params_finite(m));
    fnn_train_options_free(o);
    fnn_model_free(m);
    fnn_dataset_free(train);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("methods");
    TCase *tc = tcase_create("table");
    tcase_add_test(tc, test_method_names);
    suite_add_tcase(s, tc);
    tc = tcase_create("methods");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_every_method);
    tcase_add_test(tc, test_neggrad_ascends_forget_loss);
    tcase_add_test(tc, test_newton_matches_retrained_output_layer);
    tcase_add_test(tc, test_retrain_reproduces_training);
    tcase_add_test(tc, test_progress_and_cancel);
    tcase_add_test(tc, test_history_records);
    tcase_add_test(tc, test_sha256_vectors);
    tcase_add_test(tc, test_fnn_budget);
    tcase_add_test(tc, test_fnn_layers);
    tcase_add_test(tc, test_fnn_class_below_retained);
    tcase_add_test(tc, test_numeric_failures_restore);
    suite_add_tcase(s, tc);
    tc = tcase_create("recipe");
    tcase_add_test(tc, test_normalize_folds);
    tcase_add_test(tc, test_normalize_cancelled_and_evaluated);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fnn_test_main(suite());
}
