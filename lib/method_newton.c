/* Method `newton`: removes the forget set's influence from the output layer
 * by one Newton step over the frozen features (after Guo et al. 2020,
 * "Certified Data Removal from Machine Learning Models").
 *
 * With h the input of the last dense layer, x = [h; 1] and theta = (W, b)
 * that layer's parameters (C classes, H features, D = C (H + 1) values), the
 * retained samples' regularised loss is
 *     J(theta) = 1/n sum_i CE(softmax(W h_i + b), y_i) + lambda/2 |theta|^2,
 * its gradient g = 1/n sum_i (p_i - e_{y_i}) (x) x_i + lambda theta and its
 * Hessian
 *     Hs = 1/n sum_i (diag(p_i) - p_i p_i^T) (x) x_i x_i^T + lambda I.
 * The step theta -= Hs^-1 g lands on the minimiser of J when theta is near
 * it, which it is for a model trained on a superset of the retained data.
 * Hs is accumulated in single precision with symmetric rank-k updates
 * (cblas_ssyrk: half the work of the equivalent cblas_sgemm), then factored
 * in double precision by LAPACKE_dpotrf and solved by LAPACKE_dpotrs. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unlearn.h"
#include "kernels.h"

/* Parameters of the output layer the exact Hessian may have (its double
 * copy then takes at most 128 MiB). */
#define NEWTON_MAX_DIM 4096u

static const fnn__layer *output_layer(const fnn_model *m)
{
    return &m->spec.layers[m->fl[m->n_fl - 1].layer];
}

static int validate(fnn__run *r)
{
    const fnn__layer *L = output_layer(r->m);
    size_t D = (size_t)L->units * (L->in_dim + 1);
    if (D > NEWTON_MAX_DIM)
        return fnn__fail(r->m->errmsg, sizeof r->m->errmsg, FNN_E_STATE,
                         "newton: the output layer has %zu parameters, more than the %u an "
                         "exact Hessian is formed for",
                         D, NEWTON_MAX_DIM);
    return FNN_OK;
}

static double plan(const fnn__run *r)
{
    const fnn__layer *L = output_layer(r->m);
    double D = (double)L->units * (double)(L->in_dim + 1), X = (double)(L->in_dim + 1);
    return (double)r->retain->n *
           (fnn_model_flops_per_sample(r->m, 0) + D * D + (double)L->units * X * X);
}

static int run(fnn__run *r)
{
    fnn_model *m = r->m;
    double t0 = fnn__now(), f0 = r->flops;
    r->phase = FNN_PHASE_NEWTON;
    /* A decaying output layer becomes a plain linear map first. */
    fnn_model_fold_decay(m);
    const fnn__layer *L = output_layer(m);
    const size_t li = m->fl[m->n_fl - 1].layer;
    const size_t C = L->units, H = L->in_dim, X = H + 1, D = C * X;
    const double lambda = r->o[FNN_FORGET_NEWTON_L2];
    const fnn_dataset *ds = r->retain;
    size_t chunk = fnn__infer_batch(m);
    fnn__ws *ws = fnn__ws_acquire(m, chunk);
    float *hs = fnn__alloc_floats(D * D);
    float *v = fnn__alloc_floats(chunk * D), *a = fnn__alloc_floats(chunk * X);
    float *p = fnn__alloc_floats(chunk * C);
    double *hd = malloc(D * D * sizeof *hd), *g = calloc(D, sizeof *g);
    int rc = FNN_OK;
    if (!ws || !hs || !v || !a || !p || !hd || !g) {
        rc = fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM,
                       "newton: out of memory for a %zu x %zu Hessian", D, D);
        goto done;
    }
    double flops_fwd = fnn_model_flops_per_sample(m, 0);
    for (size_t start = 0; start < ds->n && rc == FNN_OK; start += chunk) {
        size_t k = ds->n - start < chunk ? ds->n - start : chunk;
        fnn__dataset_gather_range(ds, start, k, ws->act[0], ws->y);
        const float *logits = fnn__forward(m, ws, k, NULL);
        const float *h = ws->xt[li] ? ws->xt[li] : ws->cur[li];
        fnn__softmax_rows(logits, k, (uint32_t)C, p);
        for (size_t i = 0; i < k; i++) {
            const float *hi = h + i * H, *pi = p + i * C;
            float *vi = v + i * D;
            for (size_t c = 0; c < C; c++) {
                float pc = pi[c];
                double gc = (double)pc - (ws->y[i] == (int32_t)c);
                float *vc = vi + c * X;
                for (size_t j = 0; j < H; j++) {
                    vc[j] = pc * hi[j];
                    g[c * X + j] += gc * hi[j];
                }
                vc[H] = pc;
                g[c * X + H] += gc;
            }
        }
        /* - sum p p^T (x) x x^T over the chunk, the whole matrix... */
        cblas_ssyrk(CblasRowMajor, CblasLower, CblasTrans, (int)D, (int)k, -1.0f, v, (int)D,
                    1.0f, hs, (int)D);
        /* ... + sum p_c x x^T on each class's diagonal block. */
        for (size_t c = 0; c < C; c++) {
            for (size_t i = 0; i < k; i++) {
                float s = sqrtf(p[i * C + c]);
                const float *hi = h + i * H;
                float *ai = a + i * X;
                for (size_t j = 0; j < H; j++)
                    ai[j] = s * hi[j];
                ai[H] = s;
            }
            cblas_ssyrk(CblasRowMajor, CblasLower, CblasTrans, (int)X, (int)k, 1.0f, a,
                        (int)X, 1.0f, hs + c * X * D + c * X, (int)D);
        }
        r->flops += (double)k * (flops_fwd + (double)D * D + (double)C * X * X);
        rc = fnn__run_progress(r);
    }
    if (rc != FNN_OK)
        goto done;
    /* theta in the Hessian's order: per class, H weights then the bias. */
    const float *W = m->params + L->w_off, *b = m->params + L->b_off;
    double n = (double)ds->n;
    for (size_t c = 0; c < C; c++) {
        for (size_t j = 0; j < X; j++) {
            double theta = j < H ? W[c * H + j] : b[c];
            g[c * X + j] = g[c * X + j] / n + lambda * theta;
        }
    }
    for (size_t i = 0; i < D; i++) {
        for (size_t j = 0; j <= i; j++)
            hd[i * D + j] = (double)hs[i * D + j] / n;
        hd[i * D + i] += lambda;
    }
    lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)D, hd, (lapack_int)D);
    if (info == 0)
        info = LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'L', (lapack_int)D, 1, hd, (lapack_int)D, g, 1);
    if (info != 0) {
        rc = fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NUMERIC,
                       "newton: the regularised Hessian is not positive definite (LAPACK info "
                       "%d); raise newton-l2",
                       (int)info);
        goto done;
    }
    float *Wm = m->params + L->w_off, *bm = m->params + L->b_off;
    for (size_t c = 0; c < C; c++) {
        for (size_t j = 0; j < H; j++)
            Wm[c * H + j] = (float)((double)Wm[c * H + j] - g[c * X + j]);
        bm[c] = (float)((double)bm[c] - g[c * X + H]);
    }
    fnn__accs acc;
    if ((rc = fnn__run_measure(r, 1, &acc)) == FNN_OK)
        rc = fnn__run_phase(r, FNN_PHASE_NEWTON, 0, 0, t0, f0, &acc);
done:
    fnn__ws_give_back(m, ws);
    free(hs);
    free(v);
    free(a);
    free(p);
    free(hd);
    free(g);
    return rc;
}

const fnn__method fnn__method_newton = {
    FNN_METHOD_NEWTON, "newton",
    "one Newton step removing the forget set from the output layer over frozen features",
    NULL, validate, plan, run, 0,
};
