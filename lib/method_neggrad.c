/* Method `neggrad`: NegGrad+ (Kurmanji et al. 2023, "Towards Unbounded
 * Machine Unlearning"). Every step takes a batch of the retain set and a
 * batch of the forget set and descends on
 *     alpha * L(retain batch) - (1 - alpha) * L(forget batch),
 * so the model keeps fitting what it retains while it climbs the loss of
 * what it forgets. An epoch is one pass over the retain set; the forget
 * batches cycle through a shuffled forget set. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unlearn.h"
#include "kernels.h"

static void train_defaults(const fnn__run *r, fnn_train_options *o)
{
    fnn__recipe_continuation(r->m, o);
}

static double plan(const fnn__run *r)
{
    /* Each step runs a retain batch and a forget batch of the same size. */
    return 2.0 * (double)r->cfg.epochs * (double)r->retain->n *
           fnn_model_flops_per_sample(r->m, 1);
}

/* Forward and backward of `count` gathered samples whose logits' gradient
 * is scaled by `scale` (its sign chooses descent or ascent); returns the
 * batch's mean loss. */
static double pass(fnn_model *m, size_t count, float scale, float *grads)
{
    fnn__ws *ws = &m->ws;
    const float *logits = fnn__forward(m, ws, count, &m->rng);
    double loss = fnn__softmax_xent(logits, ws->y, count, m->num_classes, ws->loss,
                                    ws->grad_a, scale / (float)count, NULL);
    fnn__backward(m, ws, count, grads);
    return loss / (double)count;
}

static void shuffled(uint32_t *pos, size_t n, fnn__rng *rng)
{
    for (size_t i = 0; i < n; i++)
        pos[i] = (uint32_t)i;
    fnn__shuffle_u32(rng, pos, n);
}

static int run(fnn__run *r)
{
    fnn_model *m = r->m;
    const fnn__train_cfg *c = &r->cfg;
    double t0 = fnn__now(), f0 = r->flops;
    r->phase = FNN_PHASE_ASCENT;
    float alpha = (float)r->o[FNN_FORGET_NEGGRAD_ALPHA];
    size_t nr = r->retain->n, nf = r->forget->n;
    size_t B = c->batch < nr ? c->batch : nr;
    int rc = fnn__ws_reserve(m, &m->ws, B, 1);
    if (rc)
        return rc;
    uint32_t *rpos = malloc(nr * sizeof *rpos), *fpos = malloc(nf * sizeof *fpos);
    float *ascent = fnn__alloc_floats(m->n_params);
    if (!rpos || !fpos || !ascent) {
        free(rpos);
        free(fpos);
        free(ascent);
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NOMEM, "out of memory");
    }
    fnn__rng rng;
    fnn__rng_seed(&rng, c->seed);
    fnn__rng_seed(&m->rng, fnn__seed_mix(c->seed, 1));
    double flops_step = fnn_model_flops_per_sample(m, 1);
    size_t fnext = nf; /* forces a shuffle of the forget set first */
    for (uint32_t e = 0; e < c->epochs && rc == FNN_OK; e++) {
        double lr = fnn__lr_at(c, e);
        shuffled(rpos, nr, &rng);
        for (size_t start = 0; start < nr && rc == FNN_OK; start += B) {
            size_t count = nr - start < B ? nr - start : B;
            /* The forget batch: the next `fcount` of the shuffled forget set. */
            size_t fcount = count < nf ? count : nf;
            if (fnext + fcount > nf) {
                shuffled(fpos, nf, &rng);
                fnext = 0;
            }
            fnn__dataset_gather(r->forget, fpos + fnext, fcount, m->ws.act[0], m->ws.y);
            fnext += fcount;
            double lf = pass(m, fcount, -(1.0f - alpha), ascent);
            fnn__dataset_gather(r->retain, rpos + start, count, m->ws.act[0], m->ws.y);
            double lr_loss = pass(m, count, alpha, m->grads);
            if (!isfinite(lf) || !isfinite(lr_loss)) {
                rc = fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NUMERIC,
                               "NegGrad+ loss became %g (forget) / %g (retain) at epoch %u; "
                               "lower the learning rate or raise neggrad-alpha",
                               lf, lr_loss, e);
                break;
            }
            for (size_t i = 0; i < m->n_params; i++)
                m->grads[i] += ascent[i];
            fnn__optimizer_step(m, c, lr);
            r->flops += flops_step * (double)(count + fcount);
            if (fnn__run_step(r, e, c->epochs, start / B + 1, (nr + B - 1) / B, lr_loss, 0.0))
                rc = fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_CANCELLED,
                               "unlearning cancelled by the progress callback");
        }
        r->epochs++;
    }
    free(rpos);
    free(fpos);
    free(ascent);
    if (rc != FNN_OK)
        return rc;
    fnn__accs a;
    if ((rc = fnn__run_measure(r, 1, &a)))
        return rc;
    return fnn__run_phase(r, FNN_PHASE_ASCENT, 0, c->epochs, t0, f0, &a);
}

const fnn__method fnn__method_neggrad = {
    FNN_METHOD_NEGGRAD, "neggrad",
    "NegGrad+: descent on the retain set combined with ascent on the forget set",
    train_defaults, NULL, plan, run, 0,
};
