/* Hot loops: the sgemm wrapper and the fused element-wise passes around it.
 * Each function is one pass over contiguous memory that the compiler
 * vectorises; none allocates. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "kernels.h"

void fnn__gemm(const fnn_model *m, int trans_a, int trans_b, int M, int N, int K, float alpha,
               const float *A, int lda, const float *B, int ldb, float beta, float *C,
               int ldc)
{
    fnn__gemm_trace *t = m ? m->trace : NULL;
    if (t && t->n < t->cap)
        t->recs[t->n++] = (fnn__gemm_rec){trans_a, trans_b, M, N, K};
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C,
                ldc);
}

FNN__HOT void fnn__bias_act(float *restrict y, size_t rows, size_t cols,
                            const float *restrict b, const float *restrict f, int relu)
{
    for (size_t r = 0; r < rows; r++) {
        float *restrict yr = y + r * cols;
        if (f && relu)
            for (size_t j = 0; j < cols; j++) {
                float v = (yr[j] + b[j]) * f[j];
                yr[j] = v > 0.0f ? v : 0.0f;
            }
        else if (f)
            for (size_t j = 0; j < cols; j++)
                yr[j] = (yr[j] + b[j]) * f[j];
        else if (relu)
            for (size_t j = 0; j < cols; j++) {
                float v = yr[j] + b[j];
                yr[j] = v > 0.0f ? v : 0.0f;
            }
        else
            for (size_t j = 0; j < cols; j++)
                yr[j] += b[j];
    }
}

void fnn__bias_act_sum(float *restrict y, size_t rows, size_t cols, const float *restrict b,
                       const float *restrict f, int relu, double *restrict sums)
{
    for (size_t r = 0; r < rows; r++) {
        float *restrict yr = y + r * cols;
        for (size_t j = 0; j < cols; j++) {
            float v = yr[j] + b[j];
            sums[j] += v;
            if (f)
                v *= f[j];
            yr[j] = relu && v < 0.0f ? 0.0f : v;
        }
    }
}

FNN__HOT void fnn__act_grad_bias(float *restrict g, const float *restrict y, size_t rows,
                                 size_t cols, const float *restrict f, int relu,
                                 float *restrict db)
{
    memset(db, 0, cols * sizeof *db);
    for (size_t r = 0; r < rows; r++) {
        float *restrict gr = g + r * cols;
        const float *restrict yr = y + r * cols;
        if (f && relu)
            for (size_t j = 0; j < cols; j++) {
                float v = yr[j] > 0.0f ? gr[j] * f[j] : 0.0f;
                gr[j] = v;
                db[j] += v;
            }
        else if (f)
            for (size_t j = 0; j < cols; j++) {
                float v = gr[j] * f[j];
                gr[j] = v;
                db[j] += v;
            }
        else if (relu)
            for (size_t j = 0; j < cols; j++) {
                float v = yr[j] > 0.0f ? gr[j] : 0.0f;
                gr[j] = v;
                db[j] += v;
            }
        else
            for (size_t j = 0; j < cols; j++)
                db[j] += gr[j];
    }
}

FNN__HOT void fnn__relu(float *restrict y, const float *restrict x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

FNN__HOT void fnn__relu_grad(float *restrict g, const float *restrict y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        g[i] = y[i] > 0.0f ? g[i] : 0.0f;
}

FNN__HOT void fnn__bias_act_cm(float *restrict y, size_t channels, size_t plane,
                               const float *restrict b, int relu)
{
    for (size_t c = 0; c < channels; c++) {
        float *restrict yc = y + c * plane;
        const float bc = b[c];
        if (relu)
            for (size_t j = 0; j < plane; j++) {
                float v = yc[j] + bc;
                yc[j] = v > 0.0f ? v : 0.0f;
            }
        else
            for (size_t j = 0; j < plane; j++)
                yc[j] += bc;
    }
}

FNN__HOT void fnn__act_grad_bias_cm(float *restrict g, const float *restrict y,
                                    size_t channels, size_t plane, int relu,
                                    float *restrict db)
{
    enum { LANES = 16 };
    for (size_t c = 0; c < channels; c++) {
        float *restrict gc = g + c * plane;
        const float *restrict yc = y + c * plane;
        /* Independent partial sums, so the reduction vectorises. */
        float acc[LANES] = {0};
        size_t j = 0;
        for (; j + LANES <= plane; j += LANES)
            for (size_t l = 0; l < LANES; l++) {
                float v = relu && yc[j + l] <= 0.0f ? 0.0f : gc[j + l];
                gc[j + l] = v;
                acc[l] += v;
            }
        float sum = 0.0f;
        for (; j < plane; j++) {
            float v = relu && yc[j] <= 0.0f ? 0.0f : gc[j];
            gc[j] = v;
            sum += v;
        }
        for (size_t l = 0; l < LANES; l++)
            sum += acc[l];
        db[c] = sum;
    }
}

void fnn__im2col_cm(const float *restrict x, size_t batch, uint32_t c, uint32_t h, uint32_t w,
                    uint32_t k, float *restrict col)
{
    uint32_t oh = h - k + 1, ow = w - k + 1;
    size_t rows = batch * oh * ow, hw = (size_t)h * w;
    for (uint32_t ch = 0; ch < c; ch++)
        for (uint32_t ky = 0; ky < k; ky++)
            for (uint32_t kx = 0; kx < k; kx++) {
                float *restrict dst = col + (((size_t)ch * k + ky) * k + kx) * rows;
                for (size_t b = 0; b < batch; b++) {
                    const float *xp = x + ((size_t)ch * batch + b) * hw + (size_t)ky * w + kx;
                    for (uint32_t oy = 0; oy < oh; oy++) {
                        const float *restrict src = xp + (size_t)oy * w;
                        float *restrict d = dst + (b * oh + oy) * ow;
                        for (uint32_t ox = 0; ox < ow; ox++)
                            d[ox] = src[ox];
                    }
                }
            }
}

void fnn__col2im_cm(const float *restrict col, size_t batch, uint32_t c, uint32_t h,
                    uint32_t w, uint32_t k, float *restrict dx)
{
    uint32_t oh = h - k + 1, ow = w - k + 1;
    size_t rows = batch * oh * ow, hw = (size_t)h * w;
    memset(dx, 0, (size_t)c * batch * hw * sizeof *dx);
    for (uint32_t ch = 0; ch < c; ch++)
        for (uint32_t ky = 0; ky < k; ky++)
            for (uint32_t kx = 0; kx < k; kx++) {
                const float *restrict src = col + (((size_t)ch * k + ky) * k + kx) * rows;
                for (size_t b = 0; b < batch; b++) {
                    float *dp = dx + ((size_t)ch * batch + b) * hw + (size_t)ky * w + kx;
                    for (uint32_t oy = 0; oy < oh; oy++) {
                        float *restrict d = dp + (size_t)oy * w;
                        const float *restrict s = src + (b * oh + oy) * ow;
                        for (uint32_t ox = 0; ox < ow; ox++)
                            d[ox] += s[ox];
                    }
                }
            }
}

/* 2 x 2 windows, branch-free so that it vectorises across each output row. */
FNN__HOT static void maxpool2_cm(const float *restrict x, size_t planes, uint32_t h,
                                 uint32_t w, float *restrict y, uint32_t *restrict arg)
{
    uint32_t oh = h / 2, ow = w / 2;
    size_t hw = (size_t)h * w, ohw = (size_t)oh * ow;
    for (size_t p = 0; p < planes; p++)
        for (uint32_t oy = 0; oy < oh; oy++) {
            const float *restrict r0 = x + p * hw + (size_t)(2 * oy) * w;
            const float *restrict r1 = r0 + w;
            float *restrict yo = y + p * ohw + (size_t)oy * ow;
            uint32_t *restrict ao = arg + p * ohw + (size_t)oy * ow;
            uint32_t base = 2 * oy * w;
            for (uint32_t ox = 0; ox < ow; ox++) {
                float a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
                /* The first of equal values wins, as in the general loop. */
                uint32_t iab = b > a ? 1u : 0u, icd = d > c ? 1u : 0u;
                float ab = b > a ? b : a, cd = d > c ? d : c;
                uint32_t top = base + 2 * ox + iab, bottom = base + w + 2 * ox + icd;
                yo[ox] = cd > ab ? cd : ab;
                ao[ox] = cd > ab ? bottom : top;
            }
        }
}

void fnn__maxpool_cm(const float *restrict x, size_t planes, uint32_t h, uint32_t w,
                     uint32_t k, float *restrict y, uint32_t *restrict arg)
{
    if (k == 2 && arg) {
        maxpool2_cm(x, planes, h, w, y, arg);
        return;
    }
    uint32_t oh = h / k, ow = w / k;
    size_t hw = (size_t)h * w, ohw = (size_t)oh * ow;
    for (size_t p = 0; p < planes; p++) {
        const float *xp = x + p * hw;
        float *yp = y + p * ohw;
        uint32_t *ap = arg ? arg + p * ohw : NULL;
        for (uint32_t oy = 0; oy < oh; oy++)
            for (uint32_t ox = 0; ox < ow; ox++) {
                uint32_t best = oy * k * w + ox * k;
                float mx = xp[best];
                for (uint32_t ky = 0; ky < k; ky++)
                    for (uint32_t kx = 0; kx < k; kx++) {
                        uint32_t at = (oy * k + ky) * w + ox * k + kx;
                        if (xp[at] > mx) {
                            mx = xp[at];
                            best = at;
                        }
                    }
                yp[(size_t)oy * ow + ox] = mx;
                if (ap)
                    ap[(size_t)oy * ow + ox] = best;
            }
    }
}

void fnn__maxpool_grad_cm(const float *restrict gy, const uint32_t *restrict arg,
                          size_t planes, size_t hw, size_t ohw, float *restrict gx)
{
    memset(gx, 0, planes * hw * sizeof *gx);
    for (size_t p = 0; p < planes; p++) {
        float *gp = gx + p * hw;
        const float *gyp = gy + p * ohw;
        const uint32_t *ap = arg + p * ohw;
        for (size_t i = 0; i < ohw; i++)
            gp[ap[i]] += gyp[i];
    }
}

void fnn__cm_to_sm(const float *restrict x, size_t c, size_t batch, size_t hw,
                   float *restrict y)
{
    for (size_t b = 0; b < batch; b++)
        for (size_t ch = 0; ch < c; ch++)
            memcpy(y + (b * c + ch) * hw, x + (ch * batch + b) * hw, hw * sizeof *y);
}

void fnn__sm_to_cm(const float *restrict x, size_t c, size_t batch, size_t hw,
                   float *restrict y)
{
    for (size_t b = 0; b < batch; b++)
        for (size_t ch = 0; ch < c; ch++)
            memcpy(y + (ch * batch + b) * hw, x + (b * c + ch) * hw, hw * sizeof *y);
}

void fnn__nhwc_to_cm(const float *restrict x, size_t batch, size_t hw, size_t c,
                     float *restrict y)
{
    for (size_t b = 0; b < batch; b++)
        for (size_t s = 0; s < hw; s++)
            for (size_t ch = 0; ch < c; ch++)
                y[(ch * batch + b) * hw + s] = x[(b * hw + s) * c + ch];
}

/* A 32-bit integer hash (lowbias32) with full avalanche. */
static inline uint32_t hash32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

FNN__HOT static void dropout_mask(float *restrict mask, size_t n, uint32_t thr, float keep,
                                  uint32_t k1, uint32_t k2)
{
    /* Counter-based: element i draws hash(i, key), so the loop vectorises
     * and the masks depend only on the key and the position. */
    for (size_t i = 0; i < n; i++) {
        uint32_t u = hash32((uint32_t)i * 0x9e3779b9u + k1 + (uint32_t)(i >> 32) * k2);
        mask[i] = u >= thr ? keep : 0.0f;
    }
}

void fnn__dropout(const float *restrict x, float *restrict y, float *restrict mask, size_t n,
                  float p, fnn__rng *rng)
{
    uint64_t key = fnn__rng_next(rng);
    double t = (double)p * 4294967296.0;
    uint32_t thr = t >= 4294967295.0 ? UINT32_MAX : (uint32_t)t;
    dropout_mask(mask, n, thr, 1.0f / (1.0f - p), (uint32_t)key, (uint32_t)(key >> 32) | 1u);
    fnn__mul_into(y, x, mask, n);
}

FNN__HOT void fnn__mul_into(float *restrict y, const float *restrict x,
                            const float *restrict s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] * s[i];
}

FNN__HOT void fnn__scale_inplace(float *restrict g, const float *restrict s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        g[i] *= s[i];
}

double fnn__softmax_xent(const float *logits, const int32_t *y, size_t count,
                         uint32_t classes, float *loss, float *dlogits, float grad_scale,
                         int32_t *pred)
{
    double total = 0.0;
    for (size_t r = 0; r < count; r++) {
        const float *z = logits + r * classes;
        float mx = z[0];
        uint32_t am = 0;
        for (uint32_t j = 1; j < classes; j++)
            if (z[j] > mx) {
                mx = z[j];
                am = j;
            }
        double sum = 0.0;
        for (uint32_t j = 0; j < classes; j++)
            sum += exp((double)(z[j] - mx));
        double lse = log(sum) + (double)mx;
        if (pred)
            pred[r] = (int32_t)am;
        if (y) {
            double l = lse - (double)z[y[r]];
            if (loss)
                loss[r] = (float)l;
            total += l;
        }
        if (dlogits) {
            float *d = dlogits + r * classes;
            for (uint32_t j = 0; j < classes; j++)
                d[j] = (float)exp((double)z[j] - lse) * grad_scale;
            d[y[r]] -= grad_scale;
        }
    }
    return total;
}

void fnn__softmax_rows(const float *logits, size_t count, uint32_t classes, float *out)
{
    for (size_t r = 0; r < count; r++) {
        const float *z = logits + r * classes;
        float *o = out + r * classes;
        float mx = z[0];
        for (uint32_t j = 1; j < classes; j++)
            mx = z[j] > mx ? z[j] : mx;
        double sum = 0.0;
        for (uint32_t j = 0; j < classes; j++)
            sum += exp((double)(z[j] - mx));
        double inv = 1.0 / sum;
        for (uint32_t j = 0; j < classes; j++)
            o[j] = (float)(exp((double)(z[j] - mx)) * inv);
    }
}

FNN__HOT void fnn__sgd_update(float *restrict w, const float *restrict g,
                              float *restrict v, size_t n, float lr, float mu, float wd)
{
    if (mu == 0.0f) {
        for (size_t i = 0; i < n; i++)
            w[i] -= lr * (g[i] + wd * w[i]);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        float vi = mu * v[i] + g[i] + wd * w[i];
        v[i] = vi;
        w[i] -= lr * vi;
    }
}

FNN__HOT void fnn__adam_update(float *restrict w, const float *restrict g,
                               float *restrict m, float *restrict v, size_t n, float lr_t,
                               float b1, float b2, float eps_t, float wd)
{
    float c1 = 1.0f - b1, c2 = 1.0f - b2;
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] + wd * w[i];
        float mi = b1 * m[i] + c1 * gi;
        float vi = b2 * v[i] + c2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] -= lr_t * mi / (sqrtf(vi) + eps_t);
    }
}

int fnn__all_finite(const float *x, size_t n)
{
    /* x - x is 0 for finite values and NaN for NaN or infinity. */
    float acc = 0.0f;
    for (size_t i = 0; i < n; i++)
        acc += x[i] - x[i];
    return acc == 0.0f;
}
