/* Evaluation of a model: per-class accuracy, and (with lib/mia.c) the
 * figures that show whether a model has forgotten. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mia.h"

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

FNN_API int fnn_model_logits(const fnn_model *m, const fnn_dataset *ds, float *out, size_t n)
{
    if (!m)
        return FNN_E_NULL;
    if (!ds || !out)
        return fnn__model_fail(m, FNN_E_NULL, "%s is NULL", ds ? "out" : "data set");
    int rc = fnn__model_check_data(m, ds, 0);
    if (rc != FNN_OK)
        return rc;
    size_t need;
    if (fnn__mul(ds->n, m->num_classes, &need) || n < need)
        return fnn__model_fail(m, FNN_E_SHAPE, "output buffer holds %zu values, %zu samples "
                                               "need %zu",
                               n, ds->n, ds->n * (size_t)m->num_classes);
    fnn__infer_out o = {.logits = out, .check_finite = 1};
    return fnn__infer(m, ds, &o);
}

/* ---- membership inference ----------------------------------------------------- */

FNN_API int fnn_mia_auc(const double *member_score, size_t nm, const double *nonmember_score,
                        size_t nn, double *auc, char *err, size_t err_size)
{
    if (!auc)
        return fnn__fail(err, err_size, FNN_E_NULL, "auc is NULL");
    return fnn__roc_auc(member_score, nm, nonmember_score, nn, auc, err, err_size);
}

FNN_API int fnn_mia_tpr_at_fpr(const double *member_score, size_t nm,
                               const double *nonmember_score, size_t nn, double fpr,
                               double *tpr, char *err, size_t err_size)
{
    if (!tpr)
        return fnn__fail(err, err_size, FNN_E_NULL, "tpr is NULL");
    return fnn__tpr_at_fpr(member_score, nm, nonmember_score, nn, fpr, tpr, err, err_size);
}

FNN_API int fnn_mia_loss_attack(const float *member_loss, size_t nm,
                                const float *nonmember_loss, size_t nn, uint64_t seed,
                                double *accuracy, double *spread, char *err, size_t err_size)
{
    if (!accuracy)
        return fnn__fail(err, err_size, FNN_E_NULL, "accuracy is NULL");
    return fnn__loss_mia(member_loss, nm, nonmember_loss, nn, seed, FNN__LOSS_MIA_SPLITS,
                         accuracy, spread, err, err_size);
}

FNN_API int fnn_avg_gap(const double *method, const double *reference, size_t n, double *gap,
                        char *err, size_t err_size)
{
    if (!gap)
        return fnn__fail(err, err_size, FNN_E_NULL, "gap is NULL");
    return fnn__avg_gap(method, reference, n, gap, err, err_size);
}

enum { MEMBERSHIP_KEYS = FNN_MEMBERSHIP_TPR_01 + 1 };

FNN_API int fnn_model_membership(const fnn_model *m, const fnn_dataset *members,
                                 const fnn_dataset *nonmembers, uint64_t seed, double *out,
                                 size_t n)
{
    if (!m)
        return FNN_E_NULL;
    if (!members || !nonmembers || !out)
        return fnn__model_fail(m, FNN_E_NULL, "%s is NULL",
                               !members ? "members" : !nonmembers ? "nonmembers" : "out");
    int rc = fnn__model_check_data(m, members, 1);
    if (rc == FNN_OK)
        rc = fnn__model_check_data(m, nonmembers, 1);
    if (rc != FNN_OK)
        return rc;
    size_t nm = members->n, nn = nonmembers->n;
    float *lm = malloc(nm * sizeof *lm), *ln = malloc(nn * sizeof *ln);
    double *sm = malloc(nm * sizeof *sm), *sn = malloc(nn * sizeof *sn);
    double v[MEMBERSHIP_KEYS];
    size_t hm = 0, hn = 0;
    double sum_m = 0, sum_n = 0;
    char msg[FNN__ERRMSG_SIZE] = "";
    if (!lm || !ln || !sm || !sn) {
        rc = fnn__model_fail(m, FNN_E_NOMEM, "out of memory for %zu losses", nm + nn);
        goto done;
    }
    fnn__infer_out om = {.losses = lm, .correct = &hm, .loss_sum = &sum_m, .check_finite = 1};
    fnn__infer_out on = {.losses = ln, .correct = &hn, .loss_sum = &sum_n, .check_finite = 1};
    if ((rc = fnn__infer(m, members, &om)) || (rc = fnn__infer(m, nonmembers, &on)))
        goto done;
    v[FNN_MEMBERSHIP_MEMBER_ACC] = (double)hm / (double)nm;
    v[FNN_MEMBERSHIP_NONMEMBER_ACC] = (double)hn / (double)nn;
    v[FNN_MEMBERSHIP_MEMBER_LOSS] = sum_m / (double)nm;
    v[FNN_MEMBERSHIP_NONMEMBER_LOSS] = sum_n / (double)nn;
    for (size_t i = 0; i < nm; i++)
        sm[i] = -(double)lm[i];
    for (size_t i = 0; i < nn; i++)
        sn[i] = -(double)ln[i];
    if ((rc = fnn__loss_mia(lm, nm, ln, nn, seed, FNN__LOSS_MIA_SPLITS,
                            &v[FNN_MEMBERSHIP_LOSS_MIA], &v[FNN_MEMBERSHIP_LOSS_MIA_SPREAD],
                            msg, sizeof msg)) ||
        (rc = fnn__roc_auc(sm, nm, sn, nn, &v[FNN_MEMBERSHIP_AUC], msg, sizeof msg)) ||
        (rc = fnn__tpr_at_fpr(sm, nm, sn, nn, 0.01, &v[FNN_MEMBERSHIP_TPR_1], msg,
                              sizeof msg)) ||
        (rc = fnn__tpr_at_fpr(sm, nm, sn, nn, 0.001, &v[FNN_MEMBERSHIP_TPR_01], msg,
                              sizeof msg))) {
        fnn__model_fail(m, rc, "membership attack: %s", msg);
        goto done;
    }
    for (size_t k = 0; k < n && k < MEMBERSHIP_KEYS; k++)
        out[k] = v[k];
done:
    free(lm);
    free(ln);
    free(sm);
    free(sn);
    return rc;
}
