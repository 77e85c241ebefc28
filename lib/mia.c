/* Statistics of membership-inference evaluation: ROC AUC and TPR at low FPR,
 * and the Avg. Gap. Pure functions over caller arrays; see mia.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mia.h"

/* ---- ROC statistics ------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The checks both ROC functions make: pointers, counts, NaN. */
static int roc_check(const char *fn, const double *member, size_t nm, const double *nonmember,
                     size_t nn, const void *out, char *err, size_t err_size)
{
    if (!member || !nonmember || !out)
        return fnn__fail(err, err_size, FNN_E_NULL, "%s: %s is NULL", fn,
                         !member ? "member_score" : !nonmember ? "nonmember_score" : "output");
    if (nm == 0 || nn == 0)
        return fnn__fail(err, err_size, FNN_E_EMPTY, "%s: no %s scores", fn,
                         nm == 0 ? "member" : "non-member");
    for (size_t g = 0; g < 2; g++) {
        const double *s = g ? nonmember : member;
        for (size_t i = 0, n = g ? nn : nm; i < n; i++)
            if (isnan(s[i]))
                return fnn__fail(err, err_size, FNN_E_NUMERIC, "%s: %s score %zu is NaN", fn,
                                 g ? "non-member" : "member", i);
    }
    return FNN_OK;
}

/* An ascending copy of s[0..n), or NULL on no memory. */
static double *sorted_copy(const double *s, size_t n)
{
    double *c = malloc(n * sizeof *c); /* n * 8 fits: the caller holds n doubles */
    if (c) {
        memcpy(c, s, n * sizeof *c);
        qsort(c, n, sizeof *c, cmp_double);
    }
    return c;
}

int fnn__roc_auc(const double *member_score, size_t nm, const double *nonmember_score,
                 size_t nn, double *auc, char *err, size_t err_size)
{
    int rc = roc_check("roc_auc", member_score, nm, nonmember_score, nn, auc, err, err_size);
    if (rc != FNN_OK)
        return rc;
    size_t pairs;
    if (fnn__mul(nm, nn, &pairs) != 0)
        return fnn__fail(err, err_size, FNN_E_RANGE, "roc_auc: %zu x %zu pairs overflow", nm,
                         nn);
    double *ms = sorted_copy(member_score, nm), *ns = sorted_copy(nonmember_score, nn);
    if (!ms || !ns) {
        free(ms);
        free(ns);
        return fnn__fail(err, err_size, FNN_E_NOMEM, "roc_auc: no memory for %zu scores",
                         nm + nn);
    }
    /* For each member (ascending), the non-members below it are ns[0..lo) and
     * those equal to it ns[lo..hi); both bounds only move up. The counts are
     * at most nm * nn, which fits. */
    size_t less = 0, equal = 0, lo = 0, hi = 0;
    for (size_t i = 0; i < nm; i++) {
        double s = ms[i];
        while (lo < nn && ns[lo] < s)
            lo++;
        if (hi < lo)
            hi = lo;
        while (hi < nn && ns[hi] <= s)
            hi++;
        less += lo;
        equal += hi - lo;
    }
    free(ms);
    free(ns);
    *auc = ((double)less + 0.5 * (double)equal) / ((double)nm * (double)nn);
    return FNN_OK;
}

int fnn__tpr_at_fpr(const double *member_score, size_t nm, const double *nonmember_score,
                    size_t nn, double fpr, double *tpr, char *err, size_t err_size)
{
    int rc = roc_check("tpr_at_fpr", member_score, nm, nonmember_score, nn, tpr, err, err_size);
    if (rc != FNN_OK)
        return rc;
    if (!(fpr > 0.0 && fpr < 1.0))
        return fnn__fail(err, err_size, FNN_E_INVALID, "tpr_at_fpr: fpr %g is not in (0, 1)",
                         fpr);
    /* k: the most false positives allowed, k / nn <= fpr compared as the
     * caller would (k < nn since fpr < 1). */
    size_t k = (size_t)floor(fpr * (double)nn);
    while (k < nn && (double)(k + 1) / (double)nn <= fpr)
        k++;
    while (k > 0 && (double)k / (double)nn > fpr)
        k--;
    double *ns = sorted_copy(nonmember_score, nn);
    if (!ns)
        return fnn__fail(err, err_size, FNN_E_NOMEM, "tpr_at_fpr: no memory for %zu scores",
                         nn);
    /* Every threshold above v keeps at most k non-members; none at or below. */
    double v = ns[nn - 1 - k];
    free(ns);
    size_t hits = 0;
    for (size_t i = 0; i < nm; i++)
        hits += member_score[i] > v;
    *tpr = (double)hits / (double)nm;
    return FNN_OK;
}

/* ---- Avg. Gap ------------------------------------------------------------------------ */

int fnn__avg_gap(const double *method, const double *reference, size_t n, double *gap,
                 char *err, size_t err_size)
{
    if (!method || !reference || !gap)
        return fnn__fail(err, err_size, FNN_E_NULL, "avg_gap: %s is NULL",
                         !method ? "method" : !reference ? "reference" : "gap");
    if (n == 0)
        return fnn__fail(err, err_size, FNN_E_EMPTY, "avg_gap: no figures");
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        for (int g = 0; g < 2; g++) {
            double a = g ? reference[i] : method[i];
            if (isnan(a))
                return fnn__fail(err, err_size, FNN_E_NUMERIC, "avg_gap: %s figure %zu is NaN",
                                 g ? "reference" : "method", i);
            if (a < 0.0 || a > 1.0)
                return fnn__fail(err, err_size, FNN_E_RANGE,
                                 "avg_gap: %s figure %zu is %g, not a fraction in [0, 1]",
                                 g ? "reference" : "method", i, a);
        }
        sum += fabs(method[i] - reference[i]);
    }
    *gap = sum / (double)n * 100.0;
    return FNN_OK;
}
