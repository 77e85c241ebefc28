/* Inference: probabilities, logits, labels, accuracy, per-sample losses and
 * the activation sums ranking needs, in one loop over a data set. Every call
 * takes its own workspace, so it only reads the model. */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "kernels.h"

int fnn__infer(const fnn_model *m, const fnn_dataset *ds, const fnn__infer_out *out)
{
    size_t chunk = fnn__infer_batch(m);
    fnn__ws *ws = fnn__ws_acquire(m, chunk);
    if (!ws)
        return FNN_E_NOMEM;
    ws->capture = out->capture;
    ws->no_decay = out->no_decay;
    int need_y = out->losses || out->loss_sum || out->correct;
    uint32_t classes = m->num_classes;
    double total = 0.0;
    size_t hits = 0;
    int rc = FNN_OK;
    for (size_t start = 0; start < ds->n; start += chunk) {
        size_t count = ds->n - start < chunk ? ds->n - start : chunk;
        int32_t *y = need_y ? ws->y : NULL;
        fnn__dataset_gather_range(ds, start, count, ws->act[0], y);
        const float *logits = fnn__forward(m, ws, count, NULL);
        if (out->check_finite && !fnn__all_finite(logits, count * classes)) {
            rc = fnn__model_fail(m, FNN_E_NUMERIC,
                                 "the model's outputs are not finite (sample %zu..%zu): its "
                                 "parameters overflow",
                                 start, start + count - 1);
            break;
        }
        int32_t *pp = out->pred ? out->pred + start : ws->pred;
        total += fnn__softmax_xent(logits, y, count, classes, ws->loss, NULL, 0.0f, pp);
        if (out->losses)
            memcpy(out->losses + start, ws->loss, count * sizeof(float));
        if (out->correct)
            for (size_t i = 0; i < count; i++)
                hits += pp[i] == y[i];
        if (out->proba)
            fnn__softmax_rows(logits, count, classes, out->proba + start * classes);
        if (out->logits)
            memcpy(out->logits + start * classes, logits, count * classes * sizeof(float));
    }
    ws->capture = NULL;
    ws->no_decay = 0;
    fnn__ws_give_back(m, ws);
    if (rc != FNN_OK)
        return rc;
    /* Sums of finite floats cannot overflow a double: a sum that is not
     * finite holds a pre-activation that was not, and every rank made from
     * it would be meaningless. */
    for (size_t i = 0; out->capture && i < m->spec.n_layers; i++)
        for (uint32_t j = 0; out->capture[i] && j < m->spec.layers[i].units; j++)
            if (!isfinite(out->capture[i][j]))
                return fnn__model_fail(m, FNN_E_NUMERIC,
                                       "the pre-activation of neuron %u of layer %zu is not "
                                       "finite: the model's parameters overflow",
                                       j, i);
    if (out->loss_sum)
        *out->loss_sum = total;
    if (out->correct)
        *out->correct = hits;
    return FNN_OK;
}

int fnn__accuracy(const fnn_model *m, const fnn_dataset *ds, double *acc)
{
    size_t hits = 0;
    fnn__infer_out o = {.correct = &hits, .check_finite = 1};
    int rc = fnn__infer(m, ds, &o);
    if (rc == FNN_OK)
        *acc = (double)hits / (double)ds->n;
    return rc;
}

static int check_call(const fnn_model *m, const fnn_dataset *ds, const void *out, size_t n,
                      size_t per_sample, int need_labels)
{
    if (!m)
        return FNN_E_NULL;
    if (!ds)
        return fnn__model_fail(m, FNN_E_NULL, "data set is NULL");
    int rc = fnn__model_check_data(m, ds, need_labels);
    if (rc != FNN_OK)
        return rc;
    if (per_sample) {
        if (!out)
            return fnn__model_fail(m, FNN_E_NULL, "output buffer is NULL");
        size_t need;
        if (fnn__mul(ds->n, per_sample, &need) || n < need)
            return fnn__model_fail(m, FNN_E_SHAPE,
                                   "output buffer holds %zu values, %zu samples need %zu", n,
                                   ds->n, ds->n * per_sample);
    }
    return FNN_OK;
}

FNN_API int fnn_model_predict_proba(const fnn_model *m, const fnn_dataset *ds, float *out,
                                    size_t n)
{
    int rc = check_call(m, ds, out, n, m ? m->num_classes : 1, 0);
    fnn__infer_out o = {.proba = out, .check_finite = 1};
    return rc ? rc : fnn__infer(m, ds, &o);
}

FNN_API int fnn_model_predict(const fnn_model *m, const fnn_dataset *ds, int32_t *out, size_t n)
{
    int rc = check_call(m, ds, out, n, 1, 0);
    fnn__infer_out o = {.pred = out, .check_finite = 1};
    return rc ? rc : fnn__infer(m, ds, &o);
}

FNN_API int fnn_model_evaluate(const fnn_model *m, const fnn_dataset *ds, double *accuracy,
                               double *mean_loss)
{
    int rc = check_call(m, ds, NULL, 0, 0, 1);
    if (rc)
        return rc;
    double sum;
    size_t hits;
    fnn__infer_out o = {.loss_sum = &sum, .correct = &hits, .check_finite = 1};
    if ((rc = fnn__infer(m, ds, &o)))
        return rc;
    if (accuracy)
        *accuracy = (double)hits / (double)ds->n;
    if (mean_loss)
        *mean_loss = sum / (double)ds->n;
    return FNN_OK;
}

FNN_API int fnn_model_sample_losses(const fnn_model *m, const fnn_dataset *ds, float *out,
                                    size_t n)
{
    int rc = check_call(m, ds, out, n, 1, 1);
    fnn__infer_out o = {.losses = out, .check_finite = 1};
    return rc ? rc : fnn__infer(m, ds, &o);
}

/* ---- raw arrays ------------------------------------------------------------------ */

/* What a *_array call computes: the data-set call it stands for. */
enum { ON_PREDICT, ON_PROBA, ON_LOGITS, ON_LOSSES };

/* Runs the data-set call `what` on a data set over the caller's n samples
 * of m's input shape, for the length of this call: the features are
 * borrowed, the labels (may be NULL) checked against m's classes and copied.
 * Messages on m start with the function's name. */
static int on_array(const fnn_model *m, const void *x, int dtype, const int32_t *labels,
                    size_t n, int what, void *out, size_t out_n)
{
    static const char *const names[] = {
        [ON_PREDICT] = "predict_array", [ON_PROBA] = "predict_proba_array",
        [ON_LOGITS] = "logits_array", [ON_LOSSES] = "sample_losses_array",
    };
    if (!m)
        return FNN_E_NULL;
    if (what == ON_LOSSES && !labels)
        return fnn__model_fail(m, FNN_E_NULL, "%s: labels is NULL", names[what]);
    char err[FNN__ERRMSG_SIZE];
    fnn_dataset *ds = NULL;
    int rc = fnn__dataset_borrow(&ds, x, dtype, labels, n, m->spec.in_h, m->spec.in_w,
                                 m->spec.in_c, m->num_classes, names[what], err, sizeof err);
    if (rc != FNN_OK)
        return fnn__model_fail(m, rc, "%s", err);
    switch (what) {
    case ON_PREDICT: rc = fnn_model_predict(m, ds, out, out_n); break;
    case ON_PROBA: rc = fnn_model_predict_proba(m, ds, out, out_n); break;
    case ON_LOGITS: rc = fnn_model_logits(m, ds, out, out_n); break;
    default: rc = fnn_model_sample_losses(m, ds, out, out_n); break;
    }
    fnn_dataset_free(ds);
    return rc;
}

FNN_API int fnn_model_predict_array(const fnn_model *m, const void *x, int dtype, size_t n,
                                    int32_t *out, size_t out_n)
{
    return on_array(m, x, dtype, NULL, n, ON_PREDICT, out, out_n);
}

FNN_API int fnn_model_predict_proba_array(const fnn_model *m, const void *x, int dtype,
                                          size_t n, float *out, size_t out_n)
{
    return on_array(m, x, dtype, NULL, n, ON_PROBA, out, out_n);
}

FNN_API int fnn_model_logits_array(const fnn_model *m, const void *x, int dtype, size_t n,
                                   float *out, size_t out_n)
{
    return on_array(m, x, dtype, NULL, n, ON_LOGITS, out, out_n);
}

FNN_API int fnn_model_sample_losses_array(const fnn_model *m, const void *x, int dtype,
                                          const int32_t *labels, size_t n, float *out,
                                          size_t out_n)
{
    return on_array(m, x, dtype, labels, n, ON_LOSSES, out, out_n);
}
