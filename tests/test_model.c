/* Model module: specifications, layer maths against naive references, and
 * finite-difference gradient checks for every layer type. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "kernels.h"
#include "testutil.h"

static fnn_model *make(const char *spec, uint64_t seed)
{
    fnn_model *m = NULL;
    char err[256];
    int rc = fnn_model_create(&m, spec, seed, err, sizeof err);
    ck_assert_msg(rc == FNN_OK, "create '%s': %s", spec, err);
    return m;
}

START_TEST(test_presets)
{
    fnn_model *m = make("mlp", 1);
    ck_assert_uint_eq(fnn_model_num_params(m), 235146);
    ck_assert_uint_eq(fnn_model_num_classes(m), 10);
    char buf[512];
    fnn_model_spec(m, buf, sizeof buf);
    ck_assert_str_eq(buf, "input:28x28x1,dense:256,relu,dense:128,relu,dense:10");
    fnn_model_free(m);

    m = make(" paper-cnn ", 1);
    ck_assert_uint_eq(fnn_model_num_params(m), 1199882);
    size_t len = fnn_model_spec(m, buf, 10);
    ck_assert_uint_eq(len, strlen("input:28x28x1,conv2d:32:3,relu,conv2d:64:3,relu,maxpool:2,"
                                  "dropout:0.25,flatten,dense:128,relu,dropout:0.5,dense:10"));
    ck_assert_str_eq(buf, "input:28x");
    /* conv1 26*26*32*9, conv2 24*24*64*288, dense 9216*128, 128*10 MACs. */
    double macs = 26.0 * 26 * 32 * 9 + 24.0 * 24 * 64 * 288 + 9216.0 * 128 + 1280.0;
    ck_assert_double_eq_tol(fnn_model_flops_per_sample(m, 0), 2 * macs, 1e-6);
    ck_assert_double_eq_tol(fnn_model_flops_per_sample(m, 1),
                            2 * macs + 2 * (2 * macs - 26.0 * 26 * 32 * 9), 1e-6);
    fnn_model_free(m);
}
END_TEST

START_TEST(test_spec_errors)
{
    static const char *bad[] = {
        "",
        "dense:10",
        "input:28x28x1",
        "input:28x28x1,dense:10,relu",
        "input:28x28,dense:10",
        "input:0,dense:10",
        "input:4,dense:1",
        "input:4,dense:0,dense:2",
        "input:4,dense:x",
        "input:4x4x1,conv2d:2:5,dense:2",
        "input:4x4x1,maxpool:5,dense:2",
        "input:4,dropout:1.0,dense:2",
        "input:4,dropout:-0.1,dense:2",
        "input:4,softmax,dense:2",
        "input:4,dense:3:3,dense:2",
        "input:4,,dense:2",
        "input:70000,dense:2",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fnn_model *m = (fnn_model *)1;
        char err[256] = "";
        int rc = fnn_model_create(&m, bad[i], 0, err, sizeof err);
        ck_assert_msg(rc == FNN_E_SPEC, "'%s' gave %d", bad[i], rc);
        ck_assert_ptr_null(m);
        ck_assert_msg(err[0] != '\0', "no message for '%s'", bad[i]);
    }
    fnn_model *m = (fnn_model *)1;
    ck_assert_int_eq(fnn_model_create(&m, NULL, 0, NULL, 0), FNN_E_NULL);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(fnn_model_create(NULL, "mlp", 0, NULL, 0), FNN_E_NULL);
}
END_TEST

START_TEST(test_spec_canonical_roundtrip)
{
    fnn_model *m = make("input:6x6x2, conv2d:3:3, relu, maxpool:2, flatten, dropout:0.1, "
                        "dense:5, relu, relu, dense:2", 3);
    char a[512], b[512];
    fnn_model_spec(m, a, sizeof a);
    fnn_model *m2 = make(a, 3);
    fnn_model_spec(m2, b, sizeof b);
    ck_assert_str_eq(a, b);
    ck_assert_uint_eq(fnn_model_num_params(m), fnn_model_num_params(m2));
    /* Only the first relu after a dense is fused; the second runs alone. */
    ck_assert_int_eq(m->spec.layers[5].relu, 1);
    ck_assert_int_eq(fnn__layer_fused(&m->spec, 6), 1);
    ck_assert_int_eq(fnn__layer_fused(&m->spec, 7), 0);
    fnn_model_free(m);
    fnn_model_free(m2);
}
END_TEST

START_TEST(test_init_and_params)
{
    fnn_model *a = make("input:9,dense:4,relu,dense:3", 42);
    fnn_model *b = make("input:9,dense:4,relu,dense:3", 42);
    fnn_model *c = make("input:9,dense:4,relu,dense:3", 43);
    size_t n = fnn_model_num_params(a);
    ck_assert_uint_eq(n, 9 * 4 + 4 + 4 * 3 + 3);
    float pa[64], pb[64], pc[64];
    ck_assert_int_eq(fnn_model_get_params(a, pa, n), FNN_OK);
    ck_assert_int_eq(fnn_model_get_params(b, pb, n), FNN_OK);
    ck_assert_int_eq(fnn_model_get_params(c, pc, n), FNN_OK);
    ck_assert_mem_eq(pa, pb, n * sizeof(float));
    ck_assert_int_ne(memcmp(pa, pc, n * sizeof(float)), 0);
    for (size_t i = 0; i < 40; i++) /* first layer: fan_in 9 */
        ck_assert(fabsf(pa[i]) <= 1.0f / 3.0f);
    ck_assert_int_eq(fnn_model_get_params(a, pa, n - 1), FNN_E_SHAPE);
    ck_assert_int_eq(fnn_model_set_params(a, pc, n + 1), FNN_E_SHAPE);
    pc[3] = NAN;
    ck_assert_int_eq(fnn_model_set_params(a, pc, n), FNN_E_NUMERIC);
    ck_assert_int_eq(fnn_model_get_params(a, pb, n), FNN_OK);
    ck_assert_mem_eq(pa, pb, n * sizeof(float)); /* unchanged */
    pc[3] = 0.5f;
    ck_assert_int_eq(fnn_model_set_params(a, pc, n), FNN_OK);
    ck_assert_int_eq(fnn_model_get_params(a, pb, n), FNN_OK);
    ck_assert_mem_eq(pb, pc, n * sizeof(float));

    fnn_model *d = NULL;
    ck_assert_int_eq(fnn_model_clone(a, &d), FNN_OK);
    ck_assert_int_eq(fnn_model_get_params(d, pa, n), FNN_OK);
    ck_assert_mem_eq(pa, pc, n * sizeof(float));
    fnn_model_free(a);
    fnn_model_free(b);
    fnn_model_free(c);
    fnn_model_free(d);
    fnn_model_free(NULL);
}
END_TEST

/* A 2-2-2 network with hand-set weights: exact logits. */
START_TEST(test_dense_forward_exact)
{
    fnn_model *m = make("input:2,dense:2,relu,dense:2", 0);
    /* W1 = [[1,2],[-1,1]], b1 = [0.5,-3], W2 = [[1,0],[2,-1]], b2 = [0,1] */
    float p[] = {1, 2, -1, 1, 0.5f, -3, 1, 0, 2, -1, 0, 1};
    ck_assert_int_eq(fnn_model_set_params(m, p, 12), FNN_OK);
    ck_assert_int_eq(fnn__ws_reserve(m, &m->ws, 2, 0), FNN_OK);
    float x[] = {1, 1, 3, -1};
    memcpy(m->ws.act[0], x, sizeof x);
    const float *z = fnn__forward(m, &m->ws, 2, NULL);
    /* sample 1: h = relu([3.5, -3]) = [3.5, 0]; z = [3.5, 8]
     * sample 2: h = relu([1.5, -7]) = [1.5, 0]; z = [1.5, 4] */
    ck_assert_float_eq(z[0], 3.5f);
    ck_assert_float_eq(z[1], 8.0f);
    ck_assert_float_eq(z[2], 1.5f);
    ck_assert_float_eq(z[3], 4.0f);

    /* Decay on both layers, t = 1, tau = [1, 2] and [4, inf]:
     * h = relu([3.5 e^-1, -3 e^-0.5]) = [3.5/e, 0]; z = [3.5/e * e^-0.25, (7/e + 1) * 1]. */
    m->t = 1;
    float tau1[] = {1, 2}, tau2[] = {4, INFINITY};
    memcpy(m->fl[0].tau, tau1, sizeof tau1);
    memcpy(m->fl[1].tau, tau2, sizeof tau2);
    m->fl[0].on = m->fl[1].on = 1;
    fnn__model_update_decay(m);
    ck_assert_float_eq(m->fl[1].decay[1], 1.0f);
    memcpy(m->ws.act[0], x, sizeof x);
    z = fnn__forward(m, &m->ws, 2, NULL);
    float h0 = 3.5f * expf(-1.0f);
    ck_assert_float_eq_tol(z[0], h0 * expf(-0.25f), 1e-6f);
    ck_assert_float_eq_tol(z[1], 2.0f * h0 + 1.0f, 1e-6f);
    fnn_model_free(m);
}
END_TEST

/* Convolution and pooling against direct loops. */
START_TEST(test_conv_pool_reference)
{
    const uint32_t H = 7, W = 6, C = 3, F = 4, K = 3, B = 2;
    fnn_model *m = make("input:7x6x3,conv2d:4:3,maxpool:2,dense:2", 9);
    ck_assert_int_eq(fnn__ws_reserve(m, &m->ws, B, 1), FNN_OK);
    fnn__rng r;
    fnn__rng_seed(&r, 5);
    size_t in_dim = (size_t)H * W * C;
    for (size_t i = 0; i < B * in_dim; i++)
        m->ws.act[0][i] = fnn__rng_float(&r) * 2 - 1;
    fnn__forward(m, &m->ws, B, &m->rng);
    const float *conv = m->ws.cur[1], *pool = m->ws.cur[2];
    const float *w = m->params + m->spec.layers[0].w_off;
    const float *bias = m->params + m->spec.layers[0].b_off;
    uint32_t OH = H - K + 1, OW = W - K + 1;
    for (uint32_t b = 0; b < B; b++)
        for (uint32_t oy = 0; oy < OH; oy++)
            for (uint32_t ox = 0; ox < OW; ox++)
                for (uint32_t f = 0; f < F; f++) {
                    double acc = bias[f];
                    for (uint32_t ky = 0; ky < K; ky++)
                        for (uint32_t kx = 0; kx < K; kx++)
                            for (uint32_t c = 0; c < C; c++)
                                acc += (double)w[((f * C + c) * K + ky) * K + kx] *
                                       m->ws.act[0][b * in_dim + ((oy + ky) * W + ox + kx) * C + c];
                    /* Channel-major output: [f][b][oy][ox]. */
                    float got = conv[((f * B + b) * OH + oy) * OW + ox];
                    ck_assert_float_eq_tol(got, (float)acc, 1e-5f);
                }
    uint32_t PH = OH / 2, PW = OW / 2;
    for (uint32_t b = 0; b < B; b++)
        for (uint32_t py = 0; py < PH; py++)
            for (uint32_t px = 0; px < PW; px++)
                for (uint32_t f = 0; f < F; f++) {
                    float mx = -INFINITY;
                    for (uint32_t dy = 0; dy < 2; dy++)
                        for (uint32_t dx = 0; dx < 2; dx++) {
                            float v = conv[((f * B + b) * OH + py * 2 + dy) * OW + px * 2 + dx];
                            mx = v > mx ? v : mx;
                        }
                    ck_assert_float_eq(pool[((f * B + b) * PH + py) * PW + px], mx);
                }
    fnn_model_free(m);
}
END_TEST

/* Loss of the batch in act[0] with labels y, dropout masks replayed from a
 * fixed RNG state so every evaluation sees the same network. */
static double batch_loss(fnn_model *m, const float *x, const int32_t *y, size_t B, int backward)
{
    size_t in_dim = (size_t)m->spec.in_h * m->spec.in_w * m->spec.in_c;
    memcpy(m->ws.act[0], x, B * in_dim * sizeof(float));
    fnn__rng_seed(&m->rng, 77);
    const float *z = fnn__forward(m, &m->ws, B, &m->rng);
    double l = fnn__softmax_xent(z, y, B, m->num_classes, m->ws.loss,
                                 backward ? m->ws.grad_a : NULL, 1.0f / (float)B, NULL);
    if (backward)
        fnn__backward(m, &m->ws, B, m->grads);
    return l / (double)B;
}

static void grad_check(const char *spec, int decay)
{
    const size_t B = 3;
    fnn_model *m = make(spec, 11);
    if (decay) {
        m->t = 2;
        for (size_t i = 0; i < m->spec.n_layers; i++) {
            const fnn__layer *S = &m->spec.layers[i];
            if (S->fidx < 0)
                continue;
            fnn__flayer *L = &m->fl[S->fidx];
            for (uint32_t j = 0; j < L->units; j++)
                L->tau[j] = 1.0f + (float)j;
            L->on = 1;
        }
        fnn__model_update_decay(m);
    }
    ck_assert_int_eq(fnn__ws_reserve(m, &m->ws, B, 1), FNN_OK);
    ck_assert_int_eq(fnn__optim_reserve(m), FNN_OK);
    size_t in_dim = (size_t)m->spec.in_h * m->spec.in_w * m->spec.in_c;
    float *x = malloc(B * in_dim * sizeof *x);
    int32_t y[3];
    fnn__rng r;
    fnn__rng_seed(&r, 99);
    for (size_t i = 0; i < B * in_dim; i++)
        x[i] = fnn__rng_float(&r) * 2 - 1;
    for (size_t i = 0; i < B; i++)
        y[i] = (int32_t)fnn__rng_below(&r, m->num_classes);
    batch_loss(m, x, y, B, 1);
    size_t n = m->n_params;
    float *g = malloc(n * sizeof *g);
    memcpy(g, m->grads, n * sizeof *g);
    /* Central differences at two step sizes: where they disagree, a ReLU or a
     * max-pool window switches inside the step (the loss has a kink there),
     * and that parameter is skipped. */
    double num2 = 0, diff2 = 0, sum2 = 0;
    size_t skipped = 0;
    const float h = 1e-3f;
    for (size_t i = 0; i < n; i++) {
        float keep = m->params[i];
        double est[2];
        for (int k = 0; k < 2; k++) {
            float step = k ? h / 2 : h;
            m->params[i] = keep + step;
            double lp = batch_loss(m, x, y, B, 0);
            m->params[i] = keep - step;
            double lm = batch_loss(m, x, y, B, 0);
            m->params[i] = keep;
            est[k] = (lp - lm) / (2.0 * (double)step);
        }
        if (fabs(est[0] - est[1]) > 0.01 * fmax(fabs(est[0]), fabs(est[1])) + 1e-3) {
            skipped++;
            if (getenv("FNN_DEBUG_GRAD"))
                fprintf(stderr, "%s: param %zu: %g %g analytic %g\n", spec, i, est[0], est[1], (double)g[i]);
            continue;
        }
        double numeric = est[1];
        diff2 += (numeric - g[i]) * (numeric - g[i]);
        sum2 += (numeric + g[i]) * (numeric + g[i]);
        num2 += numeric * numeric;
    }
    double rel = sqrt(diff2) / sqrt(sum2);
    ck_assert_msg(num2 > 1e-8, "%s: gradient is zero, check is vacuous", spec);
    ck_assert_msg(skipped * 5 < n, "%s: %zu of %zu parameters sit on kinks", spec, skipped, n);
    ck_assert_msg(rel < 5e-3, "%s%s: relative gradient error %g", spec, decay ? " (decay)" : "",
                  rel);
    free(x);
    free(g);
    fnn_model_free(m);
}

START_TEST(test_grad_dense) { grad_check("input:5,dense:4,relu,dense:3", 0); }
END_TEST
START_TEST(test_grad_dense_decay) { grad_check("input:5,dense:4,relu,dense:3", 1); }
END_TEST
START_TEST(test_grad_conv) { grad_check("input:6x5x2,conv2d:3:3,relu,flatten,dense:3", 0); }
END_TEST
START_TEST(test_grad_conv_stack)
{
    grad_check("input:7x7x2,conv2d:3:2,relu,conv2d:2:3,relu,dense:3", 0);
}
END_TEST
START_TEST(test_grad_maxpool) { grad_check("input:6x6x2,conv2d:3:3,maxpool:2,dense:3", 0); }
END_TEST
START_TEST(test_grad_relu_alone)
{
    grad_check("input:6x6x1,conv2d:2:3,maxpool:2,relu,dense:4,dense:3", 0);
}
END_TEST
START_TEST(test_grad_dropout) { grad_check("input:5,dense:6,relu,dropout:0.5,dense:3", 0); }
END_TEST
START_TEST(test_grad_paper_like)
{
    grad_check("input:8x8x1,conv2d:2:3,relu,conv2d:3:3,relu,maxpool:2,dropout:0.25,flatten,"
               "dense:5,relu,dropout:0.5,dense:3",
               1);
}
END_TEST

START_TEST(test_softmax_xent_values)
{
    float z[] = {0, 0, 0, 1, 2, 3};
    int32_t y[] = {1, 2};
    float loss[2], d[6];
    int32_t pred[2];
    double total = fnn__softmax_xent(z, y, 2, 3, loss, d, 0.5f, pred);
    ck_assert_float_eq_tol(loss[0], (float)log(3.0), 1e-6f);
    double lse = log(exp(1.0) + exp(2.0) + exp(3.0));
    ck_assert_float_eq_tol(loss[1], (float)(lse - 3.0), 1e-6f);
    ck_assert_double_eq_tol(total, log(3.0) + lse - 3.0, 1e-6);
    ck_assert_float_eq_tol(d[1], 0.5f * (1.0f / 3 - 1), 1e-6f);
    ck_assert_float_eq_tol(d[3], 0.5f * (float)exp(1.0 - lse), 1e-6f);
    ck_assert_int_eq(pred[0], 0);
    ck_assert_int_eq(pred[1], 2);
    ck_assert_int_eq(fnn__all_finite(z, 6), 1);
    z[4] = INFINITY;
    ck_assert_int_eq(fnn__all_finite(z, 6), 0);
    z[4] = NAN;
    ck_assert_int_eq(fnn__all_finite(z, 6), 0);
}
END_TEST

START_TEST(test_dropout_rate)
{
    enum { N = 100000 };
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y), *mask = malloc(N * sizeof *mask);
    for (size_t i = 0; i < N; i++)
        x[i] = 1.0f;
    fnn__rng r;
    fnn__rng_seed(&r, 1);
    fnn__dropout(x, y, mask, N, 0.25f, &r);
    size_t zeros = 0;
    double sum = 0;
    for (size_t i = 0; i < N; i++) {
        zeros += y[i] == 0.0f;
        sum += y[i];
        ck_assert(y[i] == 0.0f || fabsf(y[i] - 4.0f / 3.0f) < 1e-6f);
    }
    ck_assert_msg(zeros > 24000 && zeros < 26000, "%zu zeros", zeros);
    ck_assert_double_eq_tol(sum / N, 1.0, 0.02);
    free(x);
    free(y);
    free(mask);
}
END_TEST

/* The draws and the shuffle against their plain definitions: rejection
 * sampling below `bound` and Fisher-Yates, on the same generator. Every
 * seeded split, sample and batch order depends on them drawing the same. */
static uint64_t plain_below(fnn__rng *r, uint64_t bound)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % bound, x;
    do
        x = fnn__rng_next(r);
    while (x >= limit);
    return x % bound;
}

START_TEST(test_rng_draws)
{
    static const uint64_t bounds[] = {1, 2, 3, 10, 1000003, (uint64_t)1 << 32,
                                      ((uint64_t)1 << 63) + 1, UINT64_MAX - 1, UINT64_MAX};
    for (size_t b = 0; b < sizeof bounds / sizeof bounds[0]; b++) {
        fnn__rng r1, r2;
        fnn__rng_seed(&r1, 11 + b);
        fnn__rng_seed(&r2, 11 + b);
        for (int i = 0; i < 2000; i++) {
            uint64_t x = fnn__rng_below(&r1, bounds[b]);
            ck_assert_uint_lt(x, bounds[b]);
            ck_assert_uint_eq(x, plain_below(&r2, bounds[b]));
        }
        /* Both consumed the same draws: the next ones agree. */
        ck_assert_uint_eq(fnn__rng_next(&r1), fnn__rng_next(&r2));
    }
    static const size_t sizes[] = {0, 1, 2, 3, 15, 16, 17, 33, 1000, 100000};
    for (size_t c = 0; c < sizeof sizes / sizeof sizes[0]; c++) {
        size_t n = sizes[c];
        uint32_t *a = malloc((n ? n : 1) * sizeof *a), *b = malloc((n ? n : 1) * sizeof *b);
        ck_assert(a && b);
        for (size_t i = 0; i < n; i++)
            a[i] = b[i] = (uint32_t)i;
        fnn__rng r1, r2;
        fnn__rng_seed(&r1, 5 + c);
        fnn__rng_seed(&r2, 5 + c);
        fnn__shuffle_u32(&r1, a, n);
        for (size_t i = n; i > 1; i--) {
            size_t j = (size_t)plain_below(&r2, i);
            uint32_t t = b[i - 1];
            b[i - 1] = b[j];
            b[j] = t;
        }
        for (size_t i = 0; i < n; i++)
            ck_assert_msg(a[i] == b[i], "n %zu: position %zu holds %u, not %u", n, i, a[i], b[i]);
        ck_assert_uint_eq(fnn__rng_next(&r1), fnn__rng_next(&r2));
        free(a);
        free(b);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("spec");
    tcase_add_test(tc, test_presets);
    tcase_add_test(tc, test_spec_errors);
    tcase_add_test(tc, test_spec_canonical_roundtrip);
    tcase_add_test(tc, test_init_and_params);
    suite_add_tcase(s, tc);
    tc = tcase_create("maths");
    tcase_add_test(tc, test_dense_forward_exact);
    tcase_add_test(tc, test_conv_pool_reference);
    tcase_add_test(tc, test_softmax_xent_values);
    tcase_add_test(tc, test_dropout_rate);
    tcase_add_test(tc, test_rng_draws);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradients");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_grad_dense);
    tcase_add_test(tc, test_grad_dense_decay);
    tcase_add_test(tc, test_grad_conv);
    tcase_add_test(tc, test_grad_conv_stack);
    tcase_add_test(tc, test_grad_maxpool);
    tcase_add_test(tc, test_grad_relu_alone);
    tcase_add_test(tc, test_grad_dropout);
    tcase_add_test(tc, test_grad_paper_like);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fnn_test_main(suite());
}
