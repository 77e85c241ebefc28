/* Inference: probabilities, labels, accuracy and per-sample losses. */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "kernels.h"

/* Samples per forward pass when no training workspace exists yet. */
#define INFER_BATCH 128

int fnn__infer(fnn_model *m, const fnn_dataset *ds, float *proba, int32_t *pred,
               float *losses, double *loss_sum, size_t *correct)
{
    size_t chunk = m->ws.batch ? m->ws.batch : INFER_BATCH;
    int rc = fnn__model_reserve(m, chunk, 0);
    if (rc != FNN_OK)
        return rc;
    int need_y = losses || loss_sum || correct;
    uint32_t classes = m->num_classes;
    double total = 0.0;
    size_t hits = 0;
    for (size_t start = 0; start < ds->n; start += chunk) {
        size_t count = ds->n - start < chunk ? ds->n - start : chunk;
        int32_t *y = need_y ? m->ws.y : NULL;
        fnn__dataset_gather_range(ds, start, count, m->ws.act[0], y);
        const float *logits = fnn__forward(m, count, 0);
        int32_t *pp = pred ? pred + start : m->ws.pred;
        total += fnn__softmax_xent(logits, y, count, classes, m->ws.loss, NULL, 0.0f, pp);
        if (losses)
            memcpy(losses + start, m->ws.loss, count * sizeof(float));
        if (correct)
            for (size_t i = 0; i < count; i++)
                hits += pp[i] == y[i];
        if (proba)
            fnn__softmax_rows(logits, count, classes, proba + start * classes);
    }
    if (loss_sum)
        *loss_sum = total;
    if (correct)
        *correct = hits;
    return FNN_OK;
}

static int check_call(fnn_model *m, const fnn_dataset *ds, const void *out, size_t n,
                      size_t per_sample, int need_labels)
{
    if (!m)
        return FNN_E_NULL;
    if (!ds)
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NULL, "data set is NULL");
    int rc = fnn__model_check_data(m, ds, need_labels);
    if (rc != FNN_OK)
        return rc;
    if (per_sample) {
        if (!out)
            return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NULL, "output buffer is NULL");
        size_t need;
        if (fnn__mul(ds->n, per_sample, &need) || n < need)
            return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_SHAPE,
                             "output buffer holds %zu values, %zu samples need %zu", n, ds->n,
                             ds->n * per_sample);
    }
    return FNN_OK;
}

FNN_API int fnn_model_predict_proba(fnn_model *m, const fnn_dataset *ds, float *out, size_t n)
{
    int rc = check_call(m, ds, out, n, m ? m->num_classes : 1, 0);
    return rc ? rc : fnn__infer(m, ds, out, NULL, NULL, NULL, NULL);
}

FNN_API int fnn_model_predict(fnn_model *m, const fnn_dataset *ds, int32_t *out, size_t n)
{
    int rc = check_call(m, ds, out, n, 1, 0);
    return rc ? rc : fnn__infer(m, ds, NULL, out, NULL, NULL, NULL);
}

FNN_API int fnn_model_evaluate(fnn_model *m, const fnn_dataset *ds, double *accuracy,
                               double *mean_loss)
{
    int rc = check_call(m, ds, NULL, 0, 0, 1);
    if (rc)
        return rc;
    double sum;
    size_t hits;
    rc = fnn__infer(m, ds, NULL, NULL, NULL, &sum, &hits);
    if (rc)
        return rc;
    if (accuracy)
        *accuracy = (double)hits / (double)ds->n;
    if (mean_loss)
        *mean_loss = sum / (double)ds->n;
    return FNN_OK;
}

FNN_API int fnn_model_sample_losses(fnn_model *m, const fnn_dataset *ds, float *out, size_t n)
{
    int rc = check_call(m, ds, out, n, 1, 1);
    return rc ? rc : fnn__infer(m, ds, NULL, NULL, out, NULL, NULL);
}
