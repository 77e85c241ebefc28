/* Method `newton`: removes the forget set's influence from the output layer
 * by Newton steps over the frozen features (after Guo et al. 2020,
 * "Certified Data Removal from Machine Learning Models").
 *
 * With h the input of the last dense layer, x = [h; 1] and theta = (W, b)
 * that layer's parameters (C classes, H features, D = C (H + 1) values), the
 * retained samples' regularised loss is
 *     J(theta) = 1/n sum_i CE(softmax(W h_i + b), y_i) + lambda/2 |theta|^2,
 * its gradient g = 1/n sum_i (p_i - e_{y_i}) (x) x_i + lambda theta and its
 * Hessian
 *     Hs = 1/n sum_i (diag(p_i) - p_i p_i^T) (x) x_i x_i^T + lambda I.
 * The first step theta -= Hs^-1 g is the removal step of Guo et al.: for a
 * few forgotten samples it lands on the minimiser of J. A large request
 * (a whole class) moves the minimiser far, so the step is damped by a
 * backtracking line search on J and repeated with the same factored Hessian
 * until the gradient vanishes, which costs one pass over the retained
 * features per step instead of a new Hessian.
 *
 * Hs is accumulated in single precision with symmetric rank-k updates
 * (cblas_ssyrk: half the work of the equivalent cblas_sgemm), then factored
 * in double precision by LAPACKE_dpotrf and applied by LAPACKE_dpotrs. */
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

/* The retained samples' regularised loss J(theta) and its gradient g, from
 * their features x (n rows of X = H + 1 floats, the last 1) and labels:
 * logits Z = x Theta^T and G = (softmax(Z) - Y)^T x / n + lambda theta, both
 * through cblas_sgemm. theta, g are C x X doubles; w, z, gz are workspaces
 * of C * X, n * C and C * X floats. Returns J. */
static double loss_grad(const fnn_model *m, const float *x, const int32_t *y, size_t n,
                        size_t C, size_t X, double lambda, const double *theta, double *g,
                        float *w, float *z, float *gz)
{
    size_t D = C * X;
    double reg = 0.0;
    for (size_t j = 0; j < D; j++) {
        w[j] = (float)theta[j];
        reg += theta[j] * theta[j];
    }
    fnn__gemm(m, 0, 1, (int)n, (int)C, (int)X, 1.0f, x, (int)X, w, (int)X, 0.0f, z, (int)C);
    double total = 0.0;
    for (size_t i = 0; i < n; i++) {
        float *zi = z + i * C;
        float mx = zi[0];
        for (size_t c = 1; c < C; c++)
            mx = zi[c] > mx ? zi[c] : mx;
        double sum = 0.0;
        for (size_t c = 0; c < C; c++)
            sum += exp((double)(zi[c] - mx));
        double lse = log(sum) + (double)mx;
        total += lse - (double)zi[y[i]];
        /* z becomes (softmax - onehot) / n, the logits' gradient. */
        for (size_t c = 0; c < C; c++)
            zi[c] = (float)((exp((double)zi[c] - lse) - (y[i] == (int32_t)c)) / (double)n);
    }
    fnn__gemm(m, 1, 0, (int)C, (int)X, (int)n, 1.0f, z, (int)C, x, (int)X, 0.0f, gz, (int)X);
    for (size_t j = 0; j < D; j++)
        g[j] = (double)gz[j] + lambda * theta[j];
    return total / (double)n + 0.5 * lambda * reg;
}

/* Newton steps with the Hessian factored once (the first is the removal
 * step), each damped by a backtracking line search on J, until the largest
 * gradient component is below this or the step budget is spent. */
#define NEWTON_GRAD_TOL 1e-6
#define NEWTON_MAX_STEPS 30

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
    const size_t n = ds->n;
    size_t chunk = fnn__infer_batch(m), xs;
    fnn__ws *ws = fnn__ws_acquire(m, chunk);
    float *hs = fnn__alloc_floats(D * D);
    float *v = fnn__alloc_floats(chunk * D), *a = fnn__alloc_floats(chunk * X);
    float *p = fnn__alloc_floats(chunk * C);
    float *x = fnn__mul(n, X, &xs) ? NULL : fnn__alloc_floats(xs);
    float *z = fnn__alloc_floats(n * C), *w = fnn__alloc_floats(D), *gz = fnn__alloc_floats(D);
    int32_t *y = malloc(n * sizeof *y);
    double *hd = malloc(D * D * sizeof *hd), *theta = malloc(5 * D * sizeof *theta);
    int rc = FNN_OK;
    if (!ws || !hs || !v || !a || !p || !x || !z || !w || !gz || !y || !hd || !theta) {
        rc = fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM,
                       "newton: out of memory for a %zu x %zu Hessian and %zu features", D, D,
                       n);
        goto done;
    }
    double *g = theta + D, *delta = theta + 2 * D, *trial = theta + 3 * D, *gt = theta + 4 * D;
    /* One pass over the retain set: its features, and the Hessian at the
     * current weights. */
    double flops_fwd = fnn_model_flops_per_sample(m, 0);
    for (size_t start = 0; start < n && rc == FNN_OK; start += chunk) {
        size_t k = n - start < chunk ? n - start : chunk;
        fnn__dataset_gather_range(ds, start, k, ws->act[0], y + start);
        const float *logits = fnn__forward(m, ws, k, NULL);
        const float *h = ws->xt[li] ? ws->xt[li] : ws->cur[li];
        fnn__softmax_rows(logits, k, (uint32_t)C, p);
        for (size_t i = 0; i < k; i++) {
            const float *hi = h + i * H, *pi = p + i * C;
            float *xi = x + (start + i) * X, *vi = v + i * D;
            memcpy(xi, hi, H * sizeof *xi);
            xi[H] = 1.0f;
            for (size_t c = 0; c < C; c++)
                for (size_t j = 0; j < X; j++)
                    vi[c * X + j] = pi[c] * xi[j];
        }
        /* - sum p p^T (x) x x^T over the chunk, the whole matrix... */
        cblas_ssyrk(CblasRowMajor, CblasLower, CblasTrans, (int)D, (int)k, -1.0f, v, (int)D,
                    1.0f, hs, (int)D);
        /* ... + sum p_c x x^T on each class's diagonal block. */
        for (size_t c = 0; c < C; c++) {
            for (size_t i = 0; i < k; i++) {
                float s = sqrtf(p[i * C + c]);
                const float *xi = x + (start + i) * X;
                float *ai = a + i * X;
                for (size_t j = 0; j < X; j++)
                    ai[j] = s * xi[j];
            }
            cblas_ssyrk(CblasRowMajor, CblasLower, CblasTrans, (int)X, (int)k, 1.0f, a,
                        (int)X, 1.0f, hs + c * X * D + c * X, (int)D);
        }
        r->flops += (double)k * (flops_fwd + (double)D * D + (double)C * X * X);
        rc = fnn__run_progress(r);
    }
    if (rc != FNN_OK)
        goto done;
    for (size_t i = 0; i < D; i++) {
        for (size_t j = 0; j <= i; j++)
            hd[i * D + j] = (double)hs[i * D + j] / (double)n;
        hd[i * D + i] += lambda;
    }
    lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)D, hd, (lapack_int)D);
    if (info != 0) {
        rc = fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NUMERIC,
                       "newton: the regularised Hessian is not positive definite (LAPACK info "
                       "%d); raise newton-l2",
                       (int)info);
        goto done;
    }
    /* theta in the Hessian's order: per class, H weights then the bias. */
    float *Wm = m->params + L->w_off, *bm = m->params + L->b_off;
    for (size_t c = 0; c < C; c++) {
        for (size_t j = 0; j < H; j++)
            theta[c * X + j] = Wm[c * H + j];
        theta[c * X + H] = bm[c];
    }
    double step_flops = 4.0 * (double)n * (double)D;
    double J = loss_grad(m, x, y, n, C, X, lambda, theta, g, w, z, gz);
    r->flops += step_flops;
    for (int step = 0; step < NEWTON_MAX_STEPS; step++) {
        double gmax = 0.0, slope = 0.0;
        for (size_t j = 0; j < D; j++)
            gmax = fmax(gmax, fabs(g[j]));
        if (gmax < NEWTON_GRAD_TOL)
            break;
        memcpy(delta, g, D * sizeof *g);
        if (LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'L', (lapack_int)D, 1, hd, (lapack_int)D, delta,
                           1) != 0)
            break;
        for (size_t j = 0; j < D; j++)
            slope += g[j] * delta[j];
        /* The full step unless it fails to lower J enough: then halve it. */
        double alpha = 1.0, Jt = J;
        int accepted = 0;
        for (int k = 0; k < 40 && !accepted; k++, alpha *= 0.5) {
            for (size_t j = 0; j < D; j++)
                trial[j] = theta[j] - alpha * delta[j];
            Jt = loss_grad(m, x, y, n, C, X, lambda, trial, gt, w, z, gz);
            r->flops += step_flops;
            accepted = Jt <= J - 1e-4 * alpha * slope;
        }
        if (!accepted)
            break;
        memcpy(theta, trial, D * sizeof *theta);
        memcpy(g, gt, D * sizeof *g);
        J = Jt;
        r->steps++;
        if ((rc = fnn__run_progress(r)))
            goto done;
    }
    for (size_t c = 0; c < C; c++) {
        for (size_t j = 0; j < H; j++)
            Wm[c * H + j] = (float)theta[c * X + j];
        bm[c] = (float)theta[c * X + H];
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
    free(x);
    free(z);
    free(w);
    free(gz);
    free(y);
    free(hd);
    free(theta);
    return rc;
}

const fnn__method fnn__method_newton = {
    FNN_METHOD_NEWTON, "newton",
    "Newton steps removing the forget set from the output layer over frozen features",
    NULL, validate, plan, run, 0,
};
