/* Fused element-wise kernels (kernels.c); internal. */
#ifndef FNN_KERNELS_H
#define FNN_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* Hot element-wise loops get an AVX2+FMA clone chosen at load time on x86-64,
 * so a portable build still runs them at full vector width. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__) && \
    !defined(FNN_NO_CLONES)
#define FNN__HOT __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define FNN__HOT
#endif

/* y[r][j] = act((y[r][j] + b[j]) * f[j]); f may be NULL (factor 1). */
void fnn__bias_act(float *restrict y, size_t rows, size_t cols, const float *restrict b,
                   const float *restrict f, int relu);
/* fnn__bias_act that also adds each pre-activation y + b to sums[column]. */
void fnn__bias_act_sum(float *restrict y, size_t rows, size_t cols, const float *restrict b,
                       const float *restrict f, int relu, double *restrict sums);
/* In place g = g * [y > 0 if relu] * f, and db = column sums of the result. */
void fnn__act_grad_bias(float *restrict g, const float *restrict y, size_t rows,
                        size_t cols, const float *restrict f, int relu, float *restrict db);
void fnn__relu(float *restrict y, const float *restrict x, size_t n);
void fnn__relu_grad(float *restrict g, const float *restrict y, size_t n);
/* Channel-major variants: a buffer is [channels][batch][plane]. */
/* y[c][j] = act(y[c][j] + b[c]). */
void fnn__bias_act_cm(float *restrict y, size_t channels, size_t plane, const float *restrict b,
                      int relu);
/* In place g = g * [y > 0 if relu], and db[c] = sum of row c of the result. */
void fnn__act_grad_bias_cm(float *restrict g, const float *restrict y, size_t channels,
                           size_t plane, int relu, float *restrict db);
/* im2col for a k x k, stride 1, valid convolution of x [c][batch][h][w] into
 * col [c][ky][kx][batch * oh * ow]: one row per weight, one column per output
 * pixel, so that Y[f][pixels] = W[f][c ky kx] col. */
void fnn__im2col_cm(const float *restrict x, size_t batch, uint32_t c, uint32_t h, uint32_t w,
                    uint32_t k, float *restrict col);
/* Scatter-adds col back into dx [c][batch][h][w] (zeroed first). */
void fnn__col2im_cm(const float *restrict col, size_t batch, uint32_t c, uint32_t h,
                    uint32_t w, uint32_t k, float *restrict dx);
/* k x k max pooling, stride k, of `planes` h x w planes; arg (may be NULL)
 * receives the winning offset within each input plane. */
void fnn__maxpool_cm(const float *restrict x, size_t planes, uint32_t h, uint32_t w,
                     uint32_t k, float *restrict y, uint32_t *restrict arg);
void fnn__maxpool_grad_cm(const float *restrict gy, const uint32_t *restrict arg,
                          size_t planes, size_t hw, size_t ohw, float *restrict gx);
/* [c][batch][hw] <-> [batch][c][hw] (a dense layer's sample-major input). */
void fnn__cm_to_sm(const float *restrict x, size_t c, size_t batch, size_t hw,
                   float *restrict y);
void fnn__sm_to_cm(const float *restrict x, size_t c, size_t batch, size_t hw,
                   float *restrict y);
/* [batch][hw][c] (channels last) -> [c][batch][hw]. */
void fnn__nhwc_to_cm(const float *restrict x, size_t batch, size_t hw, size_t c,
                     float *restrict y);
/* Inverted dropout: mask = 0 or 1/(1-p), y = x * mask. */
void fnn__dropout(const float *restrict x, float *restrict y, float *restrict mask, size_t n,
                  float p, fnn__rng *rng);
void fnn__mul_into(float *restrict y, const float *restrict x, const float *restrict s,
                   size_t n);
/* g[i] *= s[i]. */
void fnn__scale_inplace(float *restrict g, const float *restrict s, size_t n);
void fnn__softmax_rows(const float *logits, size_t count, uint32_t classes, float *out);
/* v = mu v + g + wd w; w -= lr v (mu = 0: plain SGD, v unused). */
void fnn__sgd_update(float *restrict w, const float *restrict g, float *restrict v, size_t n,
                     float lr, float mu, float wd);
/* Adam with the bias corrections folded into lr_t and eps_t. */
void fnn__adam_update(float *restrict w, const float *restrict g, float *restrict m,
                      float *restrict v, size_t n, float lr_t, float b1, float b2, float eps_t,
                      float wd);
/* 1 when every value is finite. */
int fnn__all_finite(const float *x, size_t n);

#endif
