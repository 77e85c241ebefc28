/* Membership-inference statistics: ROC AUC and TPR at a fixed FPR on hand-made
 * cases and a NumPy cross-check, the Avg. Gap, and every error path.
 * White-box: links the library objects and reaches fnn__* internals. */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "internal.h"
#include "mia.h"
#include "testutil.h"

/* ---- helpers ------------------------------------------------------------------------- */

/* |got - want| <= tol * |want| (or tol when want is 0). */
static void assert_rel(double got, double want, double tol, const char *what)
{
    double scale = want != 0.0 ? fabs(want) : 1.0;
    if (!(fabs(got - want) <= tol * scale))
        ck_abort_msg("%s: got %.17g, want %.17g (rel tol %g)", what, got, want, tol);
}

static double auc_of(const double *m, size_t nm, const double *n, size_t nn)
{
    double auc = -1.0;
    char err[256] = "";
    ck_assert_msg(fnn__roc_auc(m, nm, n, nn, &auc, err, sizeof err) == FNN_OK, "%s", err);
    return auc;
}

static double tpr_of(const double *m, size_t nm, const double *n, size_t nn, double fpr)
{
    double tpr = -1.0;
    char err[256] = "";
    ck_assert_msg(fnn__tpr_at_fpr(m, nm, n, nn, fpr, &tpr, err, sizeof err) == FNN_OK, "%s",
                  err);
    return tpr;
}

/* Expects code and, when msg is not NULL, exactly that message. */
static void expect_fail(int got, int code, const char *err, const char *msg)
{
    ck_assert_int_eq(got, code);
    if (msg)
        ck_assert_str_eq(err, msg);
}

/* ---- ROC AUC ------------------------------------------------------------------------- */

START_TEST(auc_hand)
{
    /* Pairs: 3 beats 0, 1, 2; 2 beats 0, 1, ties 2; 1 beats 0, ties 1: (6 + 2/2) / 9. */
    const double m1[3] = { 3, 2, 1 }, n1[3] = { 0, 1, 2 };
    ck_assert_double_eq(auc_of(m1, 3, n1, 3), 7.0 / 9.0);
    /* The order of the inputs does not matter. */
    const double m1r[3] = { 1, 3, 2 }, n1r[3] = { 2, 0, 1 };
    ck_assert_double_eq(auc_of(m1r, 3, n1r, 3), 7.0 / 9.0);
    /* Perfect, inverted, all tied. */
    const double hi[2] = { 5, 6 }, lo[3] = { 1, 2, 3 }, ones[3] = { 1, 1, 1 };
    ck_assert_double_eq(auc_of(hi, 2, lo, 3), 1.0);
    ck_assert_double_eq(auc_of(lo, 3, hi, 2), 0.0);
    ck_assert_double_eq(auc_of(ones, 2, ones, 3), 0.5);
    /* Infinities are ordinary values: inf > -inf, inf > 0, 0 > -inf, 0 = 0. */
    const double mi[2] = { INFINITY, 0 }, ni[2] = { -INFINITY, 0 };
    ck_assert_double_eq(auc_of(mi, 2, ni, 2), 3.5 / 4.0);
    /* One member against many: 2 beats 0 and 1, ties one 2, loses to 3. */
    const double one[1] = { 2 }, many[5] = { 0, 1, 2, 3, 3 };
    ck_assert_double_eq(auc_of(one, 1, many, 5), 2.5 / 5.0);
    /* -0.0 and 0.0 are equal scores. */
    const double pz[1] = { 0.0 }, nz[1] = { -0.0 };
    ck_assert_double_eq(auc_of(pz, 1, nz, 1), 0.5);
}
END_TEST

/* The sweep equals a brute-force pair count on random scores with many ties. */
START_TEST(auc_brute_force)
{
    enum { NM = 500, NN = 700 };
    double *m = malloc(NM * sizeof *m), *n = malloc(NN * sizeof *n);
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_nonnull(n);
    fnn__rng r;
    fnn__rng_seed(&r, 99);
    for (size_t i = 0; i < NM; i++)
        m[i] = (double)fnn__rng_below(&r, 20) + 2.0;
    for (size_t i = 0; i < NN; i++)
        n[i] = (double)fnn__rng_below(&r, 20);
    size_t less = 0, equal = 0;
    for (size_t i = 0; i < NM; i++)
        for (size_t j = 0; j < NN; j++) {
            less += n[j] < m[i];
            equal += n[j] == m[i];
        }
    double want = ((double)less + 0.5 * (double)equal) / ((double)NM * NN);
    ck_assert_double_eq(auc_of(m, NM, n, NN), want);
    ck_assert(want > 0.55 && want < 0.7); /* a shift of 2 in 20 levels */
    free(m);
    free(n);
}
END_TEST

/* NumPy cross-check on scores with many ties: the AUC from mid-ranks
 * (Mann-Whitney), the TPR by trying every distinct threshold:
 *   m = [((i * 37) % 101) / 10 + 4 for i < 700]; n = [((i * 53) % 113) / 10 for i < 900]
 *   u, inv, cnt = np.unique(all, return_inverse=True, return_counts=True)
 *   ranks = (np.cumsum(cnt) - (cnt - 1) / 2)[inv]
 *   auc = (ranks[:700].sum() - 700 * 701 / 2) / (700 * 900)   -> 0.7656722222222222
 *   thr = [inf] + distinct scores; tpr, fpr = mean(m >= t), mean(n >= t) per t
 *   max(tpr[fpr <= f]) for f = 0.1, 0.01, 0.001 -> 0.38571428571428573,
 *                                   0.28714285714285714, 0.27714285714285714 */
START_TEST(roc_numpy)
{
    double *m = malloc(700 * sizeof *m), *n = malloc(900 * sizeof *n);
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_nonnull(n);
    for (int i = 0; i < 700; i++)
        m[i] = ((i * 37) % 101) / 10.0 + 4.0;
    for (int i = 0; i < 900; i++)
        n[i] = ((i * 53) % 113) / 10.0;
    assert_rel(auc_of(m, 700, n, 900), 0.7656722222222222, 1e-15, "AUC");
    ck_assert_double_eq(tpr_of(m, 700, n, 900, 0.1), 270.0 / 700.0);
    ck_assert_double_eq(tpr_of(m, 700, n, 900, 0.01), 201.0 / 700.0);
    ck_assert_double_eq(tpr_of(m, 700, n, 900, 0.001), 194.0 / 700.0);
    assert_rel(270.0 / 700.0, 0.38571428571428573, 1e-16, "NumPy 10%");
    assert_rel(201.0 / 700.0, 0.28714285714285714, 1e-16, "NumPy 1%");
    assert_rel(194.0 / 700.0, 0.27714285714285714, 1e-16, "NumPy 0.1%");
    free(m);
    free(n);
}
END_TEST

START_TEST(auc_errors)
{
    const double s[2] = { 1, 2 }, bad[2] = { 1, NAN };
    double auc = 7.0;
    char err[256];
    expect_fail(fnn__roc_auc(NULL, 2, s, 2, &auc, err, sizeof err), FNN_E_NULL, err,
                "roc_auc: member_score is NULL");
    expect_fail(fnn__roc_auc(s, 2, NULL, 2, &auc, err, sizeof err), FNN_E_NULL, err,
                "roc_auc: nonmember_score is NULL");
    expect_fail(fnn__roc_auc(s, 2, s, 2, NULL, err, sizeof err), FNN_E_NULL, err,
                "roc_auc: output is NULL");
    expect_fail(fnn__roc_auc(NULL, 0, s, 2, &auc, err, sizeof err), FNN_E_NULL, err, NULL);
    expect_fail(fnn__roc_auc(s, 0, s, 2, &auc, err, sizeof err), FNN_E_EMPTY, err,
                "roc_auc: no member scores");
    expect_fail(fnn__roc_auc(s, 2, s, 0, &auc, err, sizeof err), FNN_E_EMPTY, err,
                "roc_auc: no non-member scores");
    expect_fail(fnn__roc_auc(bad, 2, s, 2, &auc, err, sizeof err), FNN_E_NUMERIC, err,
                "roc_auc: member score 1 is NaN");
    expect_fail(fnn__roc_auc(s, 2, bad, 2, &auc, err, sizeof err), FNN_E_NUMERIC, err,
                "roc_auc: non-member score 1 is NaN");
    ck_assert_int_eq(fnn__roc_auc(bad, 2, s, 2, &auc, NULL, 0), FNN_E_NUMERIC);
    ck_assert_double_eq(auc, 7.0); /* untouched on failure */
}
END_TEST

/* ---- TPR at FPR ---------------------------------------------------------------------- */

START_TEST(tpr_hand)
{
    const double non[10] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
    const double mem[5] = { 9.5, 9, 8.5, 5, 1 };
    /* 10% of 10 allows one false positive (1 / 10 <= 0.1): any threshold above
     * 8 admits non-member 9, and members 9.5, 9, 8.5. */
    ck_assert_double_eq(tpr_of(mem, 5, non, 10, 0.1), 0.6);
    /* None allowed: above 9 only; member 9 ties non-member 9 and is out. */
    ck_assert_double_eq(tpr_of(mem, 5, non, 10, 0.05), 0.2);
    ck_assert_double_eq(tpr_of(mem, 5, non, 10, nextafter(0.1, 0.0)), 0.2);
    ck_assert_double_eq(tpr_of(mem, 5, non, 10, 0.3), 0.6);
    /* Four allowed: above 5; member 5 ties non-member 5 and stays out. */
    ck_assert_double_eq(tpr_of(mem, 5, non, 10, 0.45), 0.6);
    ck_assert_double_eq(tpr_of(mem, 5, non, 10, 0.5), 0.8);
    ck_assert_double_eq(tpr_of(mem, 5, non, 10, 0.9), 1.0);

    /* Tied non-members move together: admitting a 5 admits all three. */
    const double tn[4] = { 5, 1, 5, 5 }, tm[3] = { 5, 6, 3 };
    ck_assert_double_eq(tpr_of(tm, 3, tn, 4, 0.5), 1.0 / 3.0);
    ck_assert_double_eq(tpr_of(tm, 3, tn, 4, 0.75), 1.0);

    /* Perfect and inverted attacks, at 1% and 0.1%. */
    const double hi[3] = { 10, 11, 12 }, lo[4] = { 1, 2, 3, 4 };
    ck_assert_double_eq(tpr_of(hi, 3, lo, 4, 0.01), 1.0);
    ck_assert_double_eq(tpr_of(hi, 3, lo, 4, 0.001), 1.0);
    ck_assert_double_eq(tpr_of(lo, 4, hi, 3, 0.01), 0.0);
    /* Fewer than 1 / fpr non-members: the TPR at zero false positives. */
    const double few[4] = { 0, 5, 2, 7 }, m7[4] = { 8, 7, 6, 9 };
    ck_assert_double_eq(tpr_of(m7, 4, few, 4, 0.01), 0.5);
    ck_assert_double_eq(tpr_of(m7, 4, few, 4, 0.001), 0.5);
}
END_TEST

/* The budget is compared as k / nn <= fpr, not floor(fpr * nn): 0.29 * 100
 * is 28.999999999999996 in double, yet 29 / 100 == 0.29. */
START_TEST(tpr_budget_rounding)
{
    double non[100], mem[100];
    for (int i = 0; i < 100; i++) {
        non[i] = i;
        mem[i] = i + 0.5;
    }
    ck_assert(floor(0.29 * 100) == 28.0);
    /* 29 allowed: above 70, i.e. members 70.5 ... 99.5. */
    ck_assert_double_eq(tpr_of(mem, 100, non, 100, 0.29), 0.30);
    ck_assert_double_eq(tpr_of(mem, 100, non, 100, 0.07), 0.08);
    ck_assert_double_eq(tpr_of(mem, 100, non, 100, 0.01), 0.02);
    ck_assert_double_eq(tpr_of(mem, 100, non, 100, 0.001), 0.01);
}
END_TEST

START_TEST(tpr_errors)
{
    const double s[2] = { 1, 2 }, bad[2] = { NAN, 1 };
    double tpr = 7.0;
    char err[256];
    expect_fail(fnn__tpr_at_fpr(NULL, 2, s, 2, 0.1, &tpr, err, sizeof err), FNN_E_NULL, err,
                "tpr_at_fpr: member_score is NULL");
    expect_fail(fnn__tpr_at_fpr(s, 2, NULL, 2, 0.1, &tpr, err, sizeof err), FNN_E_NULL, err,
                "tpr_at_fpr: nonmember_score is NULL");
    expect_fail(fnn__tpr_at_fpr(s, 2, s, 2, 0.1, NULL, err, sizeof err), FNN_E_NULL, err,
                "tpr_at_fpr: output is NULL");
    expect_fail(fnn__tpr_at_fpr(s, 0, s, 2, 0.1, &tpr, err, sizeof err), FNN_E_EMPTY, err,
                "tpr_at_fpr: no member scores");
    expect_fail(fnn__tpr_at_fpr(s, 2, s, 0, 0.1, &tpr, err, sizeof err), FNN_E_EMPTY, err,
                "tpr_at_fpr: no non-member scores");
    expect_fail(fnn__tpr_at_fpr(s, 2, bad, 2, 0.1, &tpr, err, sizeof err), FNN_E_NUMERIC, err,
                "tpr_at_fpr: non-member score 0 is NaN");
    expect_fail(fnn__tpr_at_fpr(bad, 2, s, 2, 0.1, &tpr, err, sizeof err), FNN_E_NUMERIC, err,
                "tpr_at_fpr: member score 0 is NaN");
    const double out[6] = { 0.0, 1.0, -0.01, 1.5, NAN, INFINITY };
    for (int i = 0; i < 6; i++)
        expect_fail(fnn__tpr_at_fpr(s, 2, s, 2, out[i], &tpr, err, sizeof err),
                    FNN_E_INVALID, err, NULL);
    expect_fail(fnn__tpr_at_fpr(s, 2, s, 2, 0.0, &tpr, err, sizeof err), FNN_E_INVALID, err,
                "tpr_at_fpr: fpr 0 is not in (0, 1)");
    ck_assert_double_eq(tpr, 7.0);
}
END_TEST

/* ---- Avg. Gap ------------------------------------------------------------------------ */

START_TEST(avg_gap_values)
{
    /* |0.5 - 0.75| + 0 + |1 - 0.5| + |0 - 0.125| = 0.875; / 4 * 100 = 21.875. */
    const double m[4] = { 0.5, 0.25, 1.0, 0.0 }, r[4] = { 0.75, 0.25, 0.5, 0.125 };
    double gap = -1.0;
    ck_assert_int_eq(fnn__avg_gap(m, r, 4, &gap, NULL, 0), FNN_OK);
    ck_assert_double_eq(gap, 21.875);
    ck_assert_int_eq(fnn__avg_gap(m, m, 4, &gap, NULL, 0), FNN_OK);
    ck_assert_double_eq(gap, 0.0);
    const double zero[1] = { 0.0 }, one[1] = { 1.0 };
    ck_assert_int_eq(fnn__avg_gap(zero, one, 1, &gap, NULL, 0), FNN_OK);
    ck_assert_double_eq(gap, 100.0);
}
END_TEST

START_TEST(avg_gap_errors)
{
    const double a[2] = { 0.5, 0.5 }, nan2[2] = { 0.5, NAN }, pct[2] = { 50, 0.5 };
    const double neg[2] = { 0.5, -0.01 };
    double gap = 7.0;
    char err[256];
    expect_fail(fnn__avg_gap(NULL, a, 2, &gap, err, sizeof err), FNN_E_NULL, err,
                "avg_gap: method is NULL");
    expect_fail(fnn__avg_gap(a, NULL, 2, &gap, err, sizeof err), FNN_E_NULL, err,
                "avg_gap: reference is NULL");
    expect_fail(fnn__avg_gap(a, a, 2, NULL, err, sizeof err), FNN_E_NULL, err,
                "avg_gap: gap is NULL");
    expect_fail(fnn__avg_gap(a, a, 0, &gap, err, sizeof err), FNN_E_EMPTY, err,
                "avg_gap: no figures");
    expect_fail(fnn__avg_gap(nan2, a, 2, &gap, err, sizeof err), FNN_E_NUMERIC, err,
                "avg_gap: method figure 1 is NaN");
    expect_fail(fnn__avg_gap(a, nan2, 2, &gap, err, sizeof err), FNN_E_NUMERIC, err,
                "avg_gap: reference figure 1 is NaN");
    expect_fail(fnn__avg_gap(pct, a, 2, &gap, err, sizeof err), FNN_E_RANGE, err,
                "avg_gap: method figure 0 is 50, not a fraction in [0, 1]");
    expect_fail(fnn__avg_gap(a, neg, 2, &gap, err, sizeof err), FNN_E_RANGE, err, NULL);
    ck_assert_double_eq(gap, 7.0);
}
END_TEST

static Suite *mia_suite(void)
{
    Suite *s = suite_create("mia");
    struct {
        const char *name;
        const TTest *tests[8];
    } groups[] = {
        { "auc", { auc_hand, auc_brute_force, roc_numpy, auc_errors } },
        { "tpr", { tpr_hand, tpr_budget_rounding, tpr_errors } },
        { "avg_gap", { avg_gap_values, avg_gap_errors } },
    };
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        TCase *tc = tcase_create(groups[g].name);
        for (size_t t = 0; t < 8 && groups[g].tests[t]; t++)
            tcase_add_test(tc, groups[g].tests[t]);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void)
{
    return fnn_test_main(mia_suite());
}
