/* Evaluation of a model: per-class accuracy, and (with lib/mia.c) the
 * figures that show whether a model has forgotten. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

FNN_API int fnn_model_class_accuracies(const fnn_model *m, const fnn_dataset *ds, double *acc,
                                       size_t *counts, size_t n)
{
    if (!m)
        return FNN_E_NULL;
    if (!ds || !acc)
        return fnn__model_fail(m, FNN_E_NULL, "%s is NULL", ds ? "acc" : "data set");
    int rc = fnn__model_check_data(m, ds, 1);
    if (rc != FNN_OK)
        return rc;
    uint32_t C = m->num_classes;
    if (n < C)
        return fnn__model_fail(m, FNN_E_SHAPE, "room for %zu classes, the model has %u", n, C);
    int32_t *pred = malloc(ds->n * sizeof *pred);
    size_t *hits = calloc(2 * (size_t)C, sizeof *hits);
    if (!pred || !hits) {
        free(pred);
        free(hits);
        return fnn__model_fail(m, FNN_E_NOMEM, "out of memory");
    }
    size_t *total = hits + C;
    fnn__infer_out o = {.pred = pred, .check_finite = 1};
    rc = fnn__infer(m, ds, &o);
    if (rc == FNN_OK) {
        for (size_t i = 0; i < ds->n; i++) {
            int32_t y = ds->store->labels[fnn__ds_at(ds, i)];
            total[y]++;
            hits[y] += pred[i] == y;
        }
        for (uint32_t c = 0; c < C; c++) {
            acc[c] = total[c] ? (double)hits[c] / (double)total[c] : NAN;
            if (counts)
                counts[c] = total[c];
        }
    }
    free(pred);
    free(hits);
    return rc;
}
