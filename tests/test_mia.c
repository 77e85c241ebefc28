/* Membership-inference statistics: ROC AUC and TPR at a fixed FPR on hand-made
 * cases, the 1-D logistic fit against a NumPy cross-check, the loss attack
 * (separable, indistinguishable, balancing, an end-to-end NumPy replay), LiRA
 * (logit confidence, the normal log-CDF, online/offline/unscored rules, a
 * synthetic attack), the Avg. Gap, and every error path.
 * White-box: links the library objects and reaches fnn__* internals.
 *
 * The NumPy cross-check (Debian's python3-numpy; no scikit-learn) re-implements
 * the fit independently twice and the attack once:
 *
 *   def fit(x, y, C=1.0):                 # plain Newton, uncentred, no line search
 *       w, b = 0.0, math.log(y.mean() / (1 - y.mean()))
 *       for _ in range(200):
 *           p = 1 / (1 + np.exp(-(w * x + b))); s = p * (1 - p)
 *           g = np.array([w + C * np.sum((p - y) * x), C * np.sum(p - y)])
 *           H = np.array([[1 + C * np.sum(s * x * x), C * np.sum(s * x)],
 *                         [C * np.sum(s * x), C * np.sum(s)]])
 *           d = np.linalg.solve(H, -g); w, b = w + d[0], b + d[1]
 *           if np.abs(d).max() < 1e-15: break
 *       return w, b
 *   # fit_profile: bisection on b for each w (sum p = sum y), then bisection
 *   # on w for the profiled gradient w + C sum (p - y) x = 0.
 *   x = np.array([0.2, 0.5, 0.9, 1.4, 1.1, 1.8, 2.3, 2.9])
 *   y = np.array([0, 0, 1, 0, 1, 0, 1, 1.])
 *   fit(x, y)          -> 0.69565084627235418, -0.95936921903695338
 *   fit_profile(x, y)  -> 0.69565084627235385, -0.95936921903695271
 *
 * and, for the whole attack, a Python port of fnn__rng (splitmix64 seeding,
 * xoshiro256**, rejection in rng_below, Fisher-Yates as fnn__shuffle_u32)
 * driving the documented procedure: balance = Rng(seed), splits =
 * Rng(balance.next()); selection sampling of the larger group; X = [non-
 * members, members]; per split the odd training sample to class
 * splits.below(2), each class's positions c*m + j shuffled, the first
 * train_of[c] trained on with fit(), the rest tested with w x + b > 0;
 * mean and np.std of the accuracies. On the losses of e2e_losses() with seed
 * 20231 it gives 0.59333333333333338 and 0.071180521680208719 (150 members,
 * 230 non-members; 300 samples: ceil(0.1 * 300) = 31 in double, as in
 * sklearn, so 269 train and 31 test per split). */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- logistic regression ------------------------------------------------------------- */

static void fit(const double *x, const uint8_t *y, size_t n, double c, double *w, double *b)
{
    char err[256] = "";
    ck_assert_msg(fnn__logreg_fit_1d(x, y, n, c, w, b, err, sizeof err) == FNN_OK, "%s", err);
}

START_TEST(logreg_numpy)
{
    /* Values of the NumPy cross-check at the top of this file. */
    const double x[8] = { 0.2, 0.5, 0.9, 1.4, 1.1, 1.8, 2.3, 2.9 };
    const uint8_t y[8] = { 0, 0, 1, 0, 1, 0, 1, 1 };
    double w, b;
    fit(x, y, 8, 1.0, &w, &b);
    assert_rel(w, 0.69565084627235418, 1e-9, "w");
    assert_rel(b, -0.95936921903695338, 1e-9, "b");
    /* The gradient vanishes: w + C sum (p - y) x = 0 and C sum (p - y) = 0. */
    double gw = w, gb = 0.0;
    for (int i = 0; i < 8; i++) {
        double p = 1.0 / (1.0 + exp(-(w * x[i] + b)));
        gw += (p - y[i]) * x[i];
        gb += p - y[i];
    }
    ck_assert(fabs(gw) < 1e-12 && fabs(gb) < 1e-12);
    /* A larger C weakens the penalty: the weight grows. */
    double w10, b10;
    fit(x, y, 8, 10.0, &w10, &b10);
    ck_assert(w10 > w);
}
END_TEST

START_TEST(logreg_closed_form)
{
    /* A constant feature carries nothing: w = 0 and b = logit(3 / 4) = log 3. */
    const double xc[4] = { 3, 3, 3, 3 };
    const uint8_t yc[4] = { 1, 0, 1, 1 };
    double w, b;
    fit(xc, yc, 4, 1.0, &w, &b);
    ck_assert(fabs(w) < 1e-15);
    assert_rel(b, log(3.0), 1e-14, "b (constant x)");
    /* x = -1 (label 0), +1 (label 1): by symmetry b = 0, and w solves
     * w = 2 (1 - sigmoid(w)); NumPy's fit gives 0.67483161434239936. */
    const double xs[2] = { -1, 1 };
    const uint8_t ys[2] = { 0, 1 };
    fit(xs, ys, 2, 1.0, &w, &b);
    ck_assert(fabs(b) < 1e-15);
    assert_rel(w, 2.0 * (1.0 - 1.0 / (1.0 + exp(-w))), 1e-14, "fixed point");
    assert_rel(w, 0.67483161434239936, 1e-12, "w (symmetric)");
    /* Separable data: the penalty keeps w finite, the fit still converges. */
    const double xp[6] = { 0, 1, 2, 10, 11, 12 };
    const uint8_t yp[6] = { 0, 0, 0, 1, 1, 1 };
    fit(xp, yp, 6, 1.0, &w, &b);
    ck_assert(w > 0.0 && isfinite(b));
    ck_assert(w * 2 + b < 0.0 && w * 10 + b > 0.0);
}
END_TEST

START_TEST(logreg_errors)
{
    const double x[3] = { 1, 2, 3 }, xn[3] = { 1, NAN, 3 };
    const uint8_t y[3] = { 0, 1, 1 }, y1[3] = { 1, 1, 1 }, y2[3] = { 0, 2, 1 };
    double w = 7.0, b = 7.0;
    char err[256];
    expect_fail(fnn__logreg_fit_1d(NULL, y, 3, 1.0, &w, &b, err, sizeof err), FNN_E_NULL, err,
                "logreg_fit_1d: x is NULL");
    expect_fail(fnn__logreg_fit_1d(x, NULL, 3, 1.0, &w, &b, err, sizeof err), FNN_E_NULL, err,
                "logreg_fit_1d: y is NULL");
    expect_fail(fnn__logreg_fit_1d(x, y, 3, 1.0, NULL, &b, err, sizeof err), FNN_E_NULL, err,
                NULL);
    expect_fail(fnn__logreg_fit_1d(x, y, 3, 1.0, &w, NULL, err, sizeof err), FNN_E_NULL, err,
                NULL);
    expect_fail(fnn__logreg_fit_1d(x, y, 1, 1.0, &w, &b, err, sizeof err), FNN_E_EMPTY, err,
                "logreg_fit_1d: 1 samples, need 2");
    expect_fail(fnn__logreg_fit_1d(x, y, 3, 0.0, &w, &b, err, sizeof err), FNN_E_INVALID, err,
                "logreg_fit_1d: C 0 is not > 0");
    expect_fail(fnn__logreg_fit_1d(x, y, 3, NAN, &w, &b, err, sizeof err), FNN_E_INVALID, err,
                NULL);
    expect_fail(fnn__logreg_fit_1d(x, y1, 3, 1.0, &w, &b, err, sizeof err), FNN_E_INVALID, err,
                "logreg_fit_1d: every label is 1; need both");
    expect_fail(fnn__logreg_fit_1d(x, y2, 3, 1.0, &w, &b, err, sizeof err), FNN_E_INVALID, err,
                "logreg_fit_1d: label 1 is 2, not 0 or 1");
    expect_fail(fnn__logreg_fit_1d(xn, y, 3, 1.0, &w, &b, err, sizeof err), FNN_E_NUMERIC, err,
                "logreg_fit_1d: feature 1 is not finite");
    ck_assert_double_eq(w, 7.0);
    ck_assert_double_eq(b, 7.0);
}
END_TEST

/* ---- loss attack --------------------------------------------------------------------- */

/* Uniform double in (0, 1). */
static double uniform(fnn__rng *r)
{
    return ((double)(fnn__rng_next(r) >> 11) + 0.5) * 0x1p-53;
}

static void loss_mia(const float *m, size_t nm, const float *n, size_t nn, uint64_t seed,
                     double *mean, double *std)
{
    char err[256] = "";
    ck_assert_msg(fnn__loss_mia(m, nm, n, nn, seed, FNN__LOSS_MIA_SPLITS, mean, std, err,
                                sizeof err) == FNN_OK,
                  "%s", err);
}

/* n losses -log(U), U uniform: exponential with mean 1, like real losses. */
static float *exp_losses(fnn__rng *r, size_t n)
{
    float *l = malloc(n * sizeof *l);
    ck_assert_ptr_nonnull(l);
    for (size_t i = 0; i < n; i++)
        l[i] = (float)-log(uniform(r));
    return l;
}

START_TEST(loss_separable)
{
    enum { N = 2000 };
    float *mem = malloc(N * sizeof *mem), *non = malloc(N * sizeof *non);
    ck_assert_ptr_nonnull(mem);
    ck_assert_ptr_nonnull(non);
    fnn__rng r;
    fnn__rng_seed(&r, 5);
    for (size_t i = 0; i < N; i++) {
        mem[i] = (float)(0.1 * uniform(&r));       /* trained on: small losses */
        non[i] = (float)(1.0 + 2.0 * uniform(&r)); /* unseen: large losses */
    }
    double mean, std;
    loss_mia(mem, N, non, N, 1, &mean, &std);
    ck_assert_msg(mean >= 0.99, "accuracy %g", mean);
    ck_assert(std >= 0.0 && std < 0.01);
    free(mem);
    free(non);
}
END_TEST

START_TEST(loss_indistinguishable)
{
    enum { N = 5000 };
    fnn__rng r;
    fnn__rng_seed(&r, 6);
    float *mem = exp_losses(&r, N), *non = exp_losses(&r, N);
    double mean, std;
    loss_mia(mem, N, non, N, 2, &mean, &std);
    ck_assert_msg(fabs(mean - 0.5) <= 0.05, "accuracy %g", mean);
    ck_assert(std > 0.0 && std < 0.05); /* the splits differ, modestly */
    free(mem);
    free(non);
}
END_TEST

/* The larger group is subsampled: the attack on 100 against 10,000 is
 * exactly the attack on the balanced set fnn__loss_mia_balance() names, and
 * near 0.5 although 99% of the samples are non-members. */
START_TEST(loss_balancing)
{
    enum { SMALL = 100, BIG = 10000 };
    fnn__rng r;
    fnn__rng_seed(&r, 7);
    float *mem = exp_losses(&r, SMALL), *non = exp_losses(&r, BIG);
    float *bal = malloc(SMALL * sizeof *bal);
    uint32_t *keep = malloc(SMALL * sizeof *keep);
    ck_assert_ptr_nonnull(bal);
    ck_assert_ptr_nonnull(keep);
    for (int swap = 0; swap < 2; swap++) {
        const uint64_t seed = 11 + (uint64_t)swap;
        char err[256] = "";
        ck_assert_msg(fnn__loss_mia_balance(swap ? BIG : SMALL, swap ? SMALL : BIG, seed, keep,
                                            SMALL, err, sizeof err) == FNN_OK,
                      "%s", err);
        double sum = 0.0;
        for (size_t j = 0; j < SMALL; j++) {
            ck_assert(keep[j] < BIG && (j == 0 || keep[j - 1] < keep[j]));
            bal[j] = non[keep[j]];
            sum += keep[j];
        }
        ck_assert(sum / SMALL > 3000 && sum / SMALL < 7000); /* spread over the group */
        double m_full, s_full, m_bal, s_bal;
        if (!swap) {
            loss_mia(mem, SMALL, non, BIG, seed, &m_full, &s_full);
            loss_mia(mem, SMALL, bal, SMALL, seed, &m_bal, &s_bal);
        } else { /* 10,000 members against 100 non-members */
            loss_mia(non, BIG, mem, SMALL, seed, &m_full, &s_full);
            loss_mia(bal, SMALL, mem, SMALL, seed, &m_bal, &s_bal);
        }
        ck_assert_double_eq(m_full, m_bal);
        ck_assert_double_eq(s_full, s_bal);
        ck_assert_msg(fabs(m_full - 0.5) < 0.15, "accuracy %g", m_full);
    }
    /* Another seed keeps another subset. */
    uint32_t *other = malloc(SMALL * sizeof *other);
    ck_assert_ptr_nonnull(other);
    ck_assert_int_eq(fnn__loss_mia_balance(SMALL, BIG, 12, other, SMALL, NULL, 0), FNN_OK);
    ck_assert_int_eq(fnn__loss_mia_balance(SMALL, BIG, 13, keep, SMALL, NULL, 0), FNN_OK);
    ck_assert(memcmp(keep, other, SMALL * sizeof *keep) != 0);
    /* Equal sizes keep everything. */
    ck_assert_int_eq(fnn__loss_mia_balance(SMALL, SMALL, 13, keep, SMALL, NULL, 0), FNN_OK);
    for (uint32_t j = 0; j < SMALL; j++)
        ck_assert_uint_eq(keep[j], j);
    free(other);
    free(keep);
    free(bal);
    free(mem);
    free(non);
}
END_TEST

/* The exact-in-float losses the NumPy replay at the top of this file uses. */
static void e2e_losses(float *mem, float *non)
{
    for (int i = 0; i < 150; i++)
        mem[i] = (float)((i * 37) % 101) / 64.0f;
    for (int i = 0; i < 230; i++)
        non[i] = (float)((i * 53) % 113) / 50.0f;
}

START_TEST(loss_numpy_replay)
{
    float mem[150], non[230];
    e2e_losses(mem, non);
    double mean, std;
    loss_mia(mem, 150, non, 230, 20231, &mean, &std);
    assert_rel(mean, 0.59333333333333338, 1e-12, "mean accuracy");
    assert_rel(std, 0.071180521680208719, 1e-9, "std of accuracies");
    /* Deterministic; std_acc may be NULL. */
    double again = -1.0;
    ck_assert_int_eq(fnn__loss_mia(mem, 150, non, 230, 20231, FNN__LOSS_MIA_SPLITS, &again,
                                   NULL, NULL, 0),
                     FNN_OK);
    ck_assert_double_eq(again, mean);
    /* One split has no spread. */
    ck_assert_int_eq(fnn__loss_mia(mem, 150, non, 230, 20231, 1, &again, &std, NULL, 0),
                     FNN_OK);
    ck_assert_double_eq(std, 0.0);
}
END_TEST

/* sklearn needs 2 test samples: 2m = 10 gives ceil(1.0) = 1, 2m = 12 gives 2. */
START_TEST(loss_minimum_size)
{
    const float a[6] = { 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f };
    const float b[6] = { 1.1f, 1.2f, 1.3f, 1.4f, 1.5f, 1.6f };
    double mean = -1.0;
    char err[256];
    expect_fail(fnn__loss_mia(a, 5, b, 6, 1, 10, &mean, NULL, err, sizeof err), FNN_E_INVALID,
                err, "loss_mia: 5 samples per class leave 1 for testing; need 6 per class");
    ck_assert_int_eq(fnn__loss_mia(a, 6, b, 6, 1, 10, &mean, NULL, err, sizeof err), FNN_OK);
    ck_assert_double_eq(mean, 1.0); /* separable; each split tests one of each */
}
END_TEST

START_TEST(loss_errors)
{
    float l[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, ln[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    double mean = 7.0, std = 7.0;
    char err[256];
    expect_fail(fnn__loss_mia(NULL, 8, l, 8, 1, 10, &mean, &std, err, sizeof err), FNN_E_NULL,
                err, "loss_mia: member_loss is NULL");
    expect_fail(fnn__loss_mia(l, 8, NULL, 8, 1, 10, &mean, &std, err, sizeof err), FNN_E_NULL,
                err, "loss_mia: nonmember_loss is NULL");
    expect_fail(fnn__loss_mia(l, 8, l, 8, 1, 10, NULL, &std, err, sizeof err), FNN_E_NULL, err,
                "loss_mia: mean_acc is NULL");
    expect_fail(fnn__loss_mia(l, 0, l, 8, 1, 10, &mean, &std, err, sizeof err), FNN_E_EMPTY,
                err, "loss_mia: no members");
    expect_fail(fnn__loss_mia(l, 8, l, 0, 1, 10, &mean, &std, err, sizeof err), FNN_E_EMPTY,
                err, "loss_mia: no non-members");
    expect_fail(fnn__loss_mia(l, 8, l, 8, 1, 0, &mean, &std, err, sizeof err), FNN_E_INVALID,
                err, "loss_mia: n_splits is 0");
    ln[3] = NAN;
    expect_fail(fnn__loss_mia(l, 8, ln, 8, 1, 10, &mean, &std, err, sizeof err), FNN_E_NUMERIC,
                err, "loss_mia: non-member loss 3 is not finite");
    ln[3] = INFINITY;
    expect_fail(fnn__loss_mia(ln, 8, l, 8, 1, 10, &mean, &std, err, sizeof err), FNN_E_NUMERIC,
                err, "loss_mia: member loss 3 is not finite");
    ck_assert_double_eq(mean, 7.0);
    ck_assert_double_eq(std, 7.0);

    uint32_t keep[4];
    expect_fail(fnn__loss_mia_balance(4, 9, 1, NULL, 4, err, sizeof err), FNN_E_NULL, err,
                "loss_mia_balance: keep is NULL");
    expect_fail(fnn__loss_mia_balance(0, 9, 1, keep, 4, err, sizeof err), FNN_E_EMPTY, err,
                "loss_mia_balance: no members");
    expect_fail(fnn__loss_mia_balance(9, 0, 1, keep, 4, err, sizeof err), FNN_E_EMPTY, err,
                "loss_mia_balance: no non-members");
    expect_fail(fnn__loss_mia_balance(9, 5, 1, keep, 4, err, sizeof err), FNN_E_SHAPE, err,
                "loss_mia_balance: capacity 4 is below the 5 kept");
#if SIZE_MAX > UINT32_MAX
    expect_fail(fnn__loss_mia_balance(4, (size_t)UINT32_MAX + 1, 1, keep, 4, err, sizeof err),
                FNN_E_RANGE, err, NULL);
#endif
}
END_TEST

/* ---- LiRA: confidences and the normal log-CDF ---------------------------------------- */

START_TEST(logit_confidence_values)
{
    const float z[5 * 4] = {
        1000, -1000, 0, 0,
        1000, -1000, -1000, 0,
        0, 0, 0, 0,
        -1000, 1000, 999, 0,
        3, 1, 0, 0,
    };
    double phi[4];
    char err[256] = "";
    /* Two classes: phi = z_y - z_other, exact even where p rounds to 1. */
    const float two[4] = { 1000, -1000, 3, 1 };
    const int32_t y2[2] = { 0, 1 };
    ck_assert_msg(fnn__logit_confidence(two, 2, 2, y2, phi, err, sizeof err) == FNN_OK, "%s",
                  err);
    ck_assert_double_eq(phi[0], 2000.0);
    ck_assert_double_eq(phi[1], -2.0);
    /* Rows of four classes. */
    const int32_t y4[5] = { 0, 0, 2, 0, 0 };
    double p4[5];
    ck_assert_msg(fnn__logit_confidence(z, 5, 4, y4, p4, err, sizeof err) == FNN_OK, "%s", err);
    ck_assert(isfinite(p4[0]) && p4[0] > 999.0); /* 1000 - logsumexp(-1000, 0, 0) */
    assert_rel(p4[0], 1000.0 - log(2.0), 1e-15, "row 0");
    ck_assert_double_eq(p4[1], 1000.0); /* log(1 + 2 exp(-1000)) is 0 */
    assert_rel(p4[2], -log(3.0), 1e-15, "row 2");     /* p = 1/4: log(1/3) */
    assert_rel(p4[3], -2000.0 - log1p(exp(-1.0)), 1e-15, "row 3");
    assert_rel(p4[4], 3.0 - log(exp(1.0) + 2.0), 1e-15, "row 4");
    /* The probability form agrees where a float holds p. */
    const float pr[3] = { 0.5f, (float)(1.0 / (1.0 + exp(-2.0))), 0.25f };
    ck_assert_int_eq(fnn__logit_confidence_prob(pr, 3, phi, err, sizeof err), FNN_OK);
    ck_assert_double_eq(phi[0], 0.0);
    assert_rel(phi[1], 2.0, 1e-6, "prob 2");
    assert_rel(phi[2], -log(3.0), 1e-15, "prob 1/4");
    /* Saturated probabilities are clamped to finite values. */
    const float sat[2] = { 1.0f, 0.0f };
    ck_assert_int_eq(fnn__logit_confidence_prob(sat, 2, phi, err, sizeof err), FNN_OK);
    assert_rel(phi[0], 16.635532273834038, 1e-14, "p = 1");
    assert_rel(phi[1], -103.27892990343184, 1e-14, "p = 0");
}
END_TEST

START_TEST(logit_confidence_errors)
{
    const float z[4] = { 1, 2, 3, 4 }, zi[4] = { 1, 2, INFINITY, 4 };
    const int32_t y[2] = { 0, 1 }, yb[2] = { 0, 2 }, yn[2] = { -1, 0 };
    double phi[2];
    char err[256];
    expect_fail(fnn__logit_confidence(NULL, 2, 2, y, phi, err, sizeof err), FNN_E_NULL, err,
                "logit_confidence: logits is NULL");
    expect_fail(fnn__logit_confidence(z, 2, 2, NULL, phi, err, sizeof err), FNN_E_NULL, err,
                "logit_confidence: labels is NULL");
    expect_fail(fnn__logit_confidence(z, 2, 2, y, NULL, err, sizeof err), FNN_E_NULL, err,
                "logit_confidence: phi is NULL");
    expect_fail(fnn__logit_confidence(z, 0, 2, y, phi, err, sizeof err), FNN_E_EMPTY, err,
                "logit_confidence: no rows");
    expect_fail(fnn__logit_confidence(z, 4, 1, y, phi, err, sizeof err), FNN_E_INVALID, err,
                "logit_confidence: 1 classes, need 2 to 65536");
    expect_fail(fnn__logit_confidence(z, 2, 2, yb, phi, err, sizeof err), FNN_E_RANGE, err,
                "logit_confidence: label 2 of row 1 is not below 2");
    expect_fail(fnn__logit_confidence(z, 2, 2, yn, phi, err, sizeof err), FNN_E_RANGE, err,
                NULL);
    expect_fail(fnn__logit_confidence(zi, 2, 2, y, phi, err, sizeof err), FNN_E_NUMERIC, err,
                "logit_confidence: logit 0 of row 1 is not finite");
#if SIZE_MAX > UINT32_MAX
    expect_fail(fnn__logit_confidence(z, SIZE_MAX / 2, 4, y, phi, err, sizeof err),
                FNN_E_NOMEM, err, NULL);
#endif
    const float p[2] = { 0.5f, NAN }, pr[2] = { 0.5f, 1.5f }, pn[1] = { -0.25f };
    expect_fail(fnn__logit_confidence_prob(NULL, 2, phi, err, sizeof err), FNN_E_NULL, err,
                "logit_confidence_prob: probs_true_class is NULL");
    expect_fail(fnn__logit_confidence_prob(p, 2, NULL, err, sizeof err), FNN_E_NULL, err,
                "logit_confidence_prob: phi is NULL");
    expect_fail(fnn__logit_confidence_prob(p, 0, phi, err, sizeof err), FNN_E_EMPTY, err,
                NULL);
    expect_fail(fnn__logit_confidence_prob(p, 2, phi, err, sizeof err), FNN_E_NUMERIC, err,
                "logit_confidence_prob: probability 1 is NaN");
    expect_fail(fnn__logit_confidence_prob(pr, 2, phi, err, sizeof err), FNN_E_RANGE, err,
                "logit_confidence_prob: probability 1 is 1.5, not in [0, 1]");
    expect_fail(fnn__logit_confidence_prob(pn, 1, phi, err, sizeof err), FNN_E_RANGE, err,
                NULL);
}
END_TEST

/* Reference values: Python's math.erfc, log(0.5 erfc(-z / sqrt 2)) for z <= 0
 * and log1p(-0.5 erfc(z / sqrt 2)) above, and below -37 the asymptotic
 * series to 15 terms. */
START_TEST(log_ndtr_values)
{
    static const struct {
        double z, want;
    } cases[] = {
        { 0.0, -0.69314718055994529 },    { -1.0, -1.8410216450092634 },
        { 1.5, -0.069143455612234006 },   { 5.0, -2.8665161296376427e-07 },
        { -10.0, -53.231285150512463 },   { -36.9, -685.33288316535061 },
        { -37.0, -689.03058557689064 },   { -37.5, -707.66898931750723 },
        { -40.0, -804.6084420137538 },    { -100.0, -5005.5242086942053 },
        { -1e6, -500000000014.73444 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_rel(fnn__log_ndtr(cases[i].z), cases[i].want, 1e-13, "log_ndtr");
    /* The two branches meet at -37. */
    assert_rel(fnn__log_ndtr(nextafter(-37.0, 0.0)), fnn__log_ndtr(-37.0), 1e-13, "seam");
    ck_assert(fnn__log_ndtr(-INFINITY) == -INFINITY);
    ck_assert_double_eq(fnn__log_ndtr(INFINITY), 0.0);
    ck_assert(fnn__log_ndtr(40.0) <= 0.0);
}
END_TEST

/* ---- LiRA scores --------------------------------------------------------------------- */

/* Standard normal (Box-Muller, one value per call). */
static double normal(fnn__rng *r)
{
    double u = uniform(r), v = uniform(r);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* Shadows k = 0..3 of examples 0..2 (see lira_rules). */
static const double hand_phi[4 * 3] = {
    3, 7, NAN, /* shadow 0 */
    5, 1, 4,
    0, 2, NAN,
    2, 3, 9,
};
static const uint8_t hand_mask[4 * 3] = {
    FNN__LIRA_IN,  FNN__LIRA_IN,  FNN__LIRA_SKIP,
    FNN__LIRA_IN,  FNN__LIRA_OUT, FNN__LIRA_OUT,
    FNN__LIRA_OUT, FNN__LIRA_OUT, FNN__LIRA_SKIP,
    FNN__LIRA_OUT, FNN__LIRA_OUT, FNN__LIRA_IN,
};

/* Example 0: IN {3, 5}, OUT {0, 2} -> online. Example 1: IN {7}, OUT {1, 2, 3}
 * -> offline. Example 2: OUT {4}, IN {9} -> unscored. Pooled: var_in = 2 / 1
 * (example 0 only has a degree of freedom), var_out = (2 + 2) / (1 + 2). */
START_TEST(lira_rules)
{
    const double target[3] = { 4, 3, 0 };
    double score[3];
    uint8_t variant[3];
    fnn__lira_stats st;
    char err[256] = "";
    ck_assert_msg(fnn__lira_scores(hand_phi, hand_mask, 4, 3, target, 0, score, variant, &st,
                                   err, sizeof err) == FNN_OK,
                  "%s", err);
    ck_assert_uint_eq(st.online, 1);
    ck_assert_uint_eq(st.offline, 1);
    ck_assert_uint_eq(st.unscored, 1);
    assert_rel(st.var_in, 2.0, 1e-15, "var_in");
    assert_rel(st.var_out, 4.0 / 3.0, 1e-15, "var_out");
    ck_assert_uint_eq(variant[0], FNN__LIRA_ONLINE);
    ck_assert_uint_eq(variant[1], FNN__LIRA_OFFLINE);
    ck_assert_uint_eq(variant[2], FNN__LIRA_UNSCORED);
    /* t = mu_in = 4: 0.5 log(var_out / var_in) + (4 - 1)^2 / (2 var_out). */
    assert_rel(score[0], 0.5 * log(2.0 / 3.0) + 27.0 / 8.0, 1e-15, "online");
    assert_rel(score[0], 3.1722674459459177, 1e-15, "online (Python)");
    /* log P(Z <= (3 - 2) / sqrt(4 / 3)), Python's erfc. */
    assert_rel(score[1], -0.21472671668738161, 1e-14, "offline");
    ck_assert(isnan(score[2]));
    /* An unscored example makes the AUC refuse. */
    double auc;
    ck_assert_int_eq(fnn__roc_auc(score + 2, 1, score, 1, &auc, NULL, 0), FNN_E_NUMERIC);

    /* Per-example variances: example 0 has 2 / 1 each, example 1 has 2 / 2. */
    ck_assert_int_eq(fnn__lira_scores(hand_phi, hand_mask, 4, 3, target,
                                      FNN__LIRA_PER_EXAMPLE_VAR, score, variant, &st, NULL, 0),
                     FNN_OK);
    assert_rel(score[0], 9.0 / 4.0, 1e-15, "online, own variances");
    assert_rel(score[1], -0.1727537790234499, 1e-14, "offline, own variance (log Phi(1))");
    assert_rel(st.var_in, 2.0, 1e-15, "var_in reported in every mode");

    /* Offline for everyone: example 0 is log P(Z <= 3 / sqrt(4 / 3)). */
    ck_assert_int_eq(fnn__lira_scores(hand_phi, hand_mask, 4, 3, target,
                                      FNN__LIRA_OFFLINE_ONLY, score, variant, &st, NULL, 0),
                     FNN_OK);
    ck_assert_uint_eq(variant[0], FNN__LIRA_OFFLINE);
    ck_assert_uint_eq(st.online, 0);
    ck_assert_uint_eq(st.offline, 2);
    assert_rel(score[0], -0.0046984044660494453, 1e-13, "offline only");

    /* variant and stats may be NULL. */
    ck_assert_int_eq(fnn__lira_scores(hand_phi, hand_mask, 4, 3, target, 0, score, NULL, NULL,
                                      NULL, 0),
                     FNN_OK);
    assert_rel(score[0], 3.1722674459459177, 1e-15, "online, no outputs");
}
END_TEST

/* Constant observations hit the variance floor and still score finitely. */
START_TEST(lira_constant)
{
    const double phi[4] = { 1, 1, 0, 0 };
    const uint8_t mask[4] = { FNN__LIRA_IN, FNN__LIRA_IN, FNN__LIRA_OUT, FNN__LIRA_OUT };
    const double target[1] = { 1 };
    double score[1];
    fnn__lira_stats st;
    ck_assert_int_eq(fnn__lira_scores(phi, mask, 4, 1, target, 0, score, NULL, &st, NULL, 0),
                     FNN_OK);
    ck_assert_double_eq(st.var_in, 0.0);
    assert_rel(score[0], 1.0 / (2.0 * FNN__LIRA_MIN_VAR), 1e-12, "floored");
}
END_TEST

/* Synthetic shadows: example i has its own level mu_i; a shadow that trained
 * on it sees mu_i + 2 + noise, one that did not mu_i + noise (noise N(0, 1)),
 * each shadow keeping each example with probability 1/2. */
typedef struct {
    size_t k, n;
    double *phi, *target, *score;
    uint8_t *mask;
} lira_case;

static lira_case lira_case_new(size_t k, size_t n, uint64_t seed, int members_in)
{
    lira_case c = { k, n, malloc(k * n * sizeof(double)), malloc(n * sizeof(double)),
                    malloc(n * sizeof(double)), malloc(k * n) };
    ck_assert(c.phi && c.target && c.score && c.mask);
    fnn__rng r;
    fnn__rng_seed(&r, seed);
    double *mu = malloc(n * sizeof *mu);
    ck_assert_ptr_nonnull(mu);
    for (size_t i = 0; i < n; i++)
        mu[i] = -3.0 + 6.0 * uniform(&r);
    for (size_t s = 0; s < k; s++)
        for (size_t i = 0; i < n; i++) {
            int in = (int)fnn__rng_below(&r, 2);
            c.mask[s * n + i] = in ? FNN__LIRA_IN : FNN__LIRA_OUT;
            c.phi[s * n + i] = mu[i] + 2.0 * in + normal(&r);
        }
    /* The first half are members of the attacked model. */
    for (size_t i = 0; i < n; i++)
        c.target[i] = mu[i] + (i < n / 2 && members_in ? 2.0 : 0.0) + normal(&r);
    free(mu);
    return c;
}

static void lira_case_free(lira_case *c)
{
    free(c->phi);
    free(c->target);
    free(c->score);
    free(c->mask);
}

/* AUC of the scores, members (the first half) against the rest. */
static double lira_auc(lira_case *c, unsigned flags, fnn__lira_stats *st)
{
    char err[256] = "";
    ck_assert_msg(fnn__lira_scores(c->phi, c->mask, c->k, c->n, c->target, flags, c->score,
                                   NULL, st, err, sizeof err) == FNN_OK,
                  "%s", err);
    return auc_of(c->score, c->n / 2, c->score + c->n / 2, c->n - c->n / 2);
}

START_TEST(lira_synthetic)
{
    enum { K = 64, N = 2000 };
    fnn__lira_stats st;
    lira_case c = lira_case_new(K, N, 21, 1);
    /* Two standard deviations apart: the ideal AUC is Phi(sqrt 2) = 0.92. */
    double auc = lira_auc(&c, 0, &st);
    ck_assert_msg(auc > 0.8, "AUC %g", auc);
    ck_assert_uint_eq(st.online, N);
    ck_assert(fabs(st.var_in - 1.0) < 0.05 && fabs(st.var_out - 1.0) < 0.05);
    ck_assert_msg(lira_auc(&c, FNN__LIRA_PER_EXAMPLE_VAR, NULL) > 0.8, "per-example");
    auc = lira_auc(&c, FNN__LIRA_OFFLINE_ONLY, &st);
    ck_assert_msg(auc > 0.8, "offline AUC %g", auc);
    ck_assert_uint_eq(st.offline, N);
    /* The scores feed TPR at low FPR directly: far above the FPR itself. */
    double tpr = tpr_of(c.score, N / 2, c.score + N / 2, N / 2, 0.01);
    ck_assert_msg(tpr > 0.1, "TPR at 1%% FPR %g", tpr);
    lira_case_free(&c);

    /* Members' targets drawn from OUT: nothing to find. */
    c = lira_case_new(K, N, 22, 0);
    auc = lira_auc(&c, 0, NULL);
    ck_assert_msg(fabs(auc - 0.5) < 0.05, "null AUC %g", auc);
    lira_case_free(&c);
}
END_TEST

/* With few shadows, examples short of IN observations fall back to offline. */
START_TEST(lira_few_shadows)
{
    enum { K = 4, N = 4000 };
    fnn__lira_stats st;
    lira_case c = lira_case_new(K, N, 23, 1);
    uint8_t *variant = malloc(N);
    ck_assert_ptr_nonnull(variant);
    ck_assert_int_eq(fnn__lira_scores(c.phi, c.mask, K, N, c.target, 0, c.score, variant, &st,
                                      NULL, 0),
                     FNN_OK);
    size_t seen[3] = { 0, 0, 0 };
    for (size_t i = 0; i < N; i++) {
        size_t in = 0, out = 0;
        for (size_t s = 0; s < K; s++) {
            in += c.mask[s * N + i] == FNN__LIRA_IN;
            out += c.mask[s * N + i] == FNN__LIRA_OUT;
        }
        uint8_t want = out < 2 ? FNN__LIRA_UNSCORED : in < 2 ? FNN__LIRA_OFFLINE
                                                             : FNN__LIRA_ONLINE;
        if (variant[i] != want)
            ck_abort_msg("example %zu (in %zu, out %zu) got variant %u", i, in, out,
                         (unsigned)variant[i]);
        ck_assert(variant[i] == FNN__LIRA_UNSCORED ? isnan(c.score[i]) : isfinite(c.score[i]));
        seen[want]++;
    }
    ck_assert_uint_eq(st.unscored, seen[FNN__LIRA_UNSCORED]);
    ck_assert_uint_eq(st.online, seen[FNN__LIRA_ONLINE]);
    ck_assert_uint_eq(st.offline, seen[FNN__LIRA_OFFLINE]);
    /* 6 of 16 masks have 2 IN and 2 OUT; 4 have 1 IN, 1 has none. */
    ck_assert(st.online > N * 6 / 16 - 200 && st.online < N * 6 / 16 + 200);
    ck_assert(st.offline > N * 5 / 16 - 200 && st.offline < N * 5 / 16 + 200);
    free(variant);
    lira_case_free(&c);
}
END_TEST

/* K = 256 shadows of 60,000 examples, the largest size the library targets. */
START_TEST(lira_large)
{
    enum { K = 256, N = 60000 };
    fnn__lira_stats st;
    lira_case c = lira_case_new(K, N, 24, 1);
    double auc = lira_auc(&c, 0, &st);
    ck_assert_uint_eq(st.online, N);
    ck_assert_msg(auc > 0.85, "AUC %g", auc);
    lira_case_free(&c);
}
END_TEST

START_TEST(lira_errors)
{
    const double target[3] = { 4, 3, 0 }, tinf[3] = { 4, INFINITY, 0 };
    double score[3], phi[12];
    uint8_t mask[12];
    char err[256];
    memcpy(phi, hand_phi, sizeof phi);
    memcpy(mask, hand_mask, sizeof mask);
    expect_fail(fnn__lira_scores(NULL, mask, 4, 3, target, 0, score, NULL, NULL, err,
                                 sizeof err),
                FNN_E_NULL, err, "lira_scores: phi is NULL");
    expect_fail(fnn__lira_scores(phi, NULL, 4, 3, target, 0, score, NULL, NULL, err,
                                 sizeof err),
                FNN_E_NULL, err, "lira_scores: mask is NULL");
    expect_fail(fnn__lira_scores(phi, mask, 4, 3, NULL, 0, score, NULL, NULL, err, sizeof err),
                FNN_E_NULL, err, "lira_scores: target is NULL");
    expect_fail(fnn__lira_scores(phi, mask, 4, 3, target, 0, NULL, NULL, NULL, err,
                                 sizeof err),
                FNN_E_NULL, err, "lira_scores: score is NULL");
    expect_fail(fnn__lira_scores(phi, mask, 0, 3, target, 0, score, NULL, NULL, err,
                                 sizeof err),
                FNN_E_EMPTY, err, "lira_scores: no shadows");
    expect_fail(fnn__lira_scores(phi, mask, 4, 0, target, 0, score, NULL, NULL, err,
                                 sizeof err),
                FNN_E_EMPTY, err, "lira_scores: no examples");
    expect_fail(fnn__lira_scores(phi, mask, 4, 3, target, 4, score, NULL, NULL, err,
                                 sizeof err),
                FNN_E_INVALID, err, "lira_scores: unknown flags 0x4");
    expect_fail(fnn__lira_scores(phi, mask, 4, 3, tinf, 0, score, NULL, NULL, err, sizeof err),
                FNN_E_NUMERIC, err, "lira_scores: target observation 1 is not finite");
#if SIZE_MAX > UINT32_MAX
    expect_fail(fnn__lira_scores(phi, mask, (size_t)UINT32_MAX + 1, 3, target, 0, score, NULL,
                                 NULL, err, sizeof err),
                FNN_E_INVALID, err, NULL);
    expect_fail(fnn__lira_scores(phi, mask, 4, SIZE_MAX / 2, target, 0, score, NULL, NULL, err,
                                 sizeof err),
                FNN_E_NOMEM, err, NULL);
#endif
    mask[7] = 3;
    expect_fail(fnn__lira_scores(phi, mask, 4, 3, target, 0, score, NULL, NULL, err,
                                 sizeof err),
                FNN_E_INVALID, err, "lira_scores: mask of shadow 2, example 1 is 3");
    mask[7] = FNN__LIRA_OUT;
    phi[4] = NAN; /* used: shadow 1, example 1 is OUT */
    expect_fail(fnn__lira_scores(phi, mask, 4, 3, target, 0, score, NULL, NULL, err,
                                 sizeof err),
                FNN_E_NUMERIC, err,
                "lira_scores: observation of shadow 1, example 1 is not finite");
    phi[4] = 1;
    phi[2] = INFINITY; /* SKIP entries are never read as values */
    ck_assert_int_eq(fnn__lira_scores(phi, mask, 4, 3, target, 0, score, NULL, NULL, NULL, 0),
                     FNN_OK);
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
        { "logreg", { logreg_numpy, logreg_closed_form, logreg_errors } },
        { "loss", { loss_separable, loss_indistinguishable, loss_balancing, loss_numpy_replay,
                    loss_minimum_size, loss_errors } },
        { "confidence", { logit_confidence_values, logit_confidence_errors,
                          log_ndtr_values } },
        { "lira", { lira_rules, lira_constant, lira_synthetic, lira_few_shadows, lira_large,
                    lira_errors } },
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
