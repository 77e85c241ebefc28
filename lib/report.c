/* The unlearning report handle: the figures of a run and its phases. */
#include <math.h>
#include <stdlib.h>

#include "unlearn.h"

void fnn__report_reset(fnn_forget_report *r)
{
    for (int i = 0; i < FNN__REPORT_NKEYS; i++)
        r->v[i] = NAN;
    r->n = 0;
}

FNN_API int fnn_forget_report_create(fnn_forget_report **out)
{
    if (!out)
        return FNN_E_NULL;
    fnn_forget_report *r = calloc(1, sizeof *r);
    *out = r;
    if (!r)
        return FNN_E_NOMEM;
    fnn__report_reset(r);
    return FNN_OK;
}

FNN_API void fnn_forget_report_free(fnn_forget_report *r)
{
    if (r)
        free(r->phases);
    free(r);
}

FNN_API int fnn_forget_report_get(const fnn_forget_report *r, int key, double *value)
{
    if (!r || !value)
        return FNN_E_NULL;
    if (key < 0 || key >= FNN__REPORT_NKEYS)
        return FNN_E_INVALID;
    *value = r->v[key];
    return FNN_OK;
}

FNN_API size_t fnn_forget_report_num_phases(const fnn_forget_report *r)
{
    return r ? r->n : 0;
}

FNN_API int fnn_forget_report_phase(const fnn_forget_report *r, size_t i, int key,
                                    double *value)
{
    if (!r || !value)
        return FNN_E_NULL;
    if (i >= r->n)
        return FNN_E_RANGE;
    if (key < 0 || key >= FNN__PHASE_NKEYS)
        return FNN_E_INVALID;
    *value = r->phases[i].v[key];
    return FNN_OK;
}

int fnn__report_add_phase(fnn_forget_report *r, fnn__phase_rec **out)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 16;
        fnn__phase_rec *p = realloc(r->phases, cap * sizeof *p);
        if (!p)
            return FNN_E_NOMEM;
        r->phases = p;
        r->cap = cap;
    }
    *out = &r->phases[r->n++];
    return FNN_OK;
}
