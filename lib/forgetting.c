/* The forgetting state of a model: per-neuron rates tau, the clock t, which
 * layers decay, the factors exp(-t / tau), and folding them into the
 * weights. */
#include <math.h>
#include <string.h>

#include "internal.h"

/* Forgetting layer number `idx`, or NULL with a message on m. */
static int get_layer(const fnn_model *m, size_t idx, fnn__flayer **F)
{
    if (!m)
        return FNN_E_NULL;
    if (idx >= m->n_fl) {
        *F = NULL;
        return fnn__model_fail(m, FNN_E_RANGE,
                               "forgetting layer %zu does not exist (the model has %zu)", idx,
                               m->n_fl);
    }
    *F = &m->fl[idx];
    return FNN_OK;
}

FNN_API size_t fnn_model_num_forgetting_layers(const fnn_model *m)
{
    return m ? m->n_fl : 0;
}

FNN_API int fnn_model_forgetting_layer_units(const fnn_model *m, size_t layer, uint32_t *units)
{
    fnn__flayer *F;
    int rc = get_layer(m, layer, &F);
    if (rc)
        return rc;
    if (!units)
        return FNN_E_NULL;
    *units = F->units;
    return FNN_OK;
}

FNN_API int fnn_model_get_tau(const fnn_model *m, size_t layer, float *tau, size_t n)
{
    fnn__flayer *F;
    int rc = get_layer(m, layer, &F);
    if (rc)
        return rc;
    if (!tau)
        return FNN_E_NULL;
    if (n < F->units)
        return FNN_E_SHAPE;
    memcpy(tau, F->tau, F->units * sizeof *tau);
    return FNN_OK;
}

FNN_API int fnn_model_set_tau(fnn_model *m, size_t layer, const float *tau, size_t n)
{
    fnn__flayer *F;
    int rc = get_layer(m, layer, &F);
    if (rc)
        return rc;
    if (!tau)
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_NULL, "tau is NULL");
    if (n != F->units)
        return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_SHAPE,
                         "%zu rates given, layer %zu has %u neurons", n, layer, F->units);
    for (size_t i = 0; i < n; i++)
        if (!(tau[i] > 0.0f))
            return fnn__fail(m->errmsg, sizeof m->errmsg, FNN_E_INVALID,
                             "tau[%zu] = %g: rates must be > 0 (or +infinity)", i,
                             (double)tau[i]);
    memcpy(F->tau, tau, n * sizeof *tau);
    fnn__model_update_decay(m);
    return FNN_OK;
}

FNN_API int fnn_model_set_decay(fnn_model *m, size_t layer, int on)
{
    fnn__flayer *F;
    int rc = get_layer(m, layer, &F);
    if (rc)
        return rc;
    F->on = on != 0;
    return FNN_OK;
}

FNN_API int fnn_model_decay_enabled(const fnn_model *m, size_t layer)
{
    fnn__flayer *F;
    int rc = get_layer(m, layer, &F);
    return rc ? rc : F->on;
}

FNN_API int fnn_model_set_clock(fnn_model *m, uint32_t t)
{
    if (!m)
        return FNN_E_NULL;
    m->t = t;
    fnn__model_update_decay(m);
    return FNN_OK;
}

FNN_API uint32_t fnn_model_clock(const fnn_model *m)
{
    return m ? m->t : 0;
}

FNN_API int fnn_model_decay_factors(const fnn_model *m, size_t layer, float *out, size_t n)
{
    fnn__flayer *F;
    int rc = get_layer(m, layer, &F);
    if (rc)
        return rc;
    if (!out)
        return FNN_E_NULL;
    if (n < F->units)
        return FNN_E_SHAPE;
    memcpy(out, F->decay, F->units * sizeof *out);
    return FNN_OK;
}

void fnn__forgetting_reset(fnn_model *m)
{
    for (size_t k = 0; k < m->n_fl; k++) {
        fnn__flayer *F = &m->fl[k];
        F->on = 0;
        for (uint32_t j = 0; j < F->units; j++)
            F->tau[j] = INFINITY;
    }
    m->t = 0;
    fnn__model_update_decay(m);
}

void fnn__set_all_decay(fnn_model *m, int on)
{
    for (size_t k = 0; k < m->n_fl; k++)
        m->fl[k].on = on;
}

FNN_API int fnn_model_fold_decay(fnn_model *m)
{
    if (!m)
        return FNN_E_NULL;
    /* Factors lie in [0, 1]: the products cannot overflow. */
    for (size_t k = 0; k < m->n_fl; k++) {
        const fnn__flayer *F = &m->fl[k];
        if (!F->on)
            continue;
        const fnn__layer *L = &m->spec.layers[F->layer];
        float *w = m->params + L->w_off, *b = m->params + L->b_off;
        for (uint32_t j = 0; j < F->units; j++) {
            float f = F->decay[j];
            float *row = w + (size_t)j * L->in_dim;
            for (size_t i = 0; i < L->in_dim; i++)
                row[i] *= f;
            b[j] *= f;
        }
    }
    fnn__forgetting_reset(m);
    return FNN_OK;
}
