/* Statistics of membership-inference evaluation: ROC AUC and TPR at low FPR,
 * the loss-based attack of the NeurIPS 2023 unlearning challenge, LiRA scores
 * and the Avg. Gap. Pure functions over caller arrays; see mia.h. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "kernels.h"
#include "mia.h"

#define SQRT2 1.41421356237309504880
#define LOG_SQRT_2PI 0.91893853320467274178 /* log(sqrt(2 pi)) */

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
        return fnn__fail(err, err_size, FNN_E_NOMEM, "roc_auc: %zu x %zu pairs overflow", nm,
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

/* ---- logistic regression on one feature ---------------------------------------------- */

static double softplus(double z)
{
    return z > 0.0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

static double sigmoid(double z)
{
    if (z >= 0.0)
        return 1.0 / (1.0 + exp(-z));
    double e = exp(z);
    return e / (1.0 + e);
}

/* 0.5 w^2 + c sum [softplus(z) - y z], z = w (x - mu) + b. */
static double logreg_objective(const double *x, const uint8_t *y, size_t n, double mu,
                               double c, double w, double b)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        double z = w * (x[i] - mu) + b;
        sum += softplus(z) - (y[i] ? z : 0.0);
    }
    return 0.5 * w * w + c * sum;
}

/* Newton's method with backtracking on (w, b) over x centred at its mean,
 * which leaves the penalty (on w only) unchanged and conditions the Hessian.
 * Inputs are valid: n >= 2, both labels present, c > 0, x finite. */
static int logreg_newton(const double *x, const uint8_t *y, size_t n, double c, double *w_out,
                         double *b_out)
{
    double mu = 0.0;
    size_t ones = 0;
    for (size_t i = 0; i < n; i++) {
        mu += x[i];
        ones += y[i];
    }
    mu /= (double)n;
    double w = 0.0, b = log((double)ones / (double)(n - ones));
    double f = logreg_objective(x, y, n, mu, c, w, b);
    for (int it = 0; it < 100; it++) {
        double gw = w, gb = 0.0, hww = 1.0, hwb = 0.0, hbb = 0.0;
        for (size_t i = 0; i < n; i++) {
            double d = x[i] - mu, p = sigmoid(w * d + b);
            double r = p - (double)y[i], s = p * (1.0 - p);
            gw += c * r * d;
            gb += c * r;
            hww += c * s * d * d;
            hwb += c * s * d;
            hbb += c * s;
        }
        double det = hww * hbb - hwb * hwb;
        if (!(det > 0.0) || !isfinite(det))
            break;
        double dw = -(hbb * gw - hwb * gb) / det, db = -(hww * gb - hwb * gw) / det;
        /* Once the step is this small the next one would be below rounding
         * (convergence is quadratic): take it and stop. */
        if (fabs(dw) <= 1e-10 * (1.0 + fabs(w)) && fabs(db) <= 1e-10 * (1.0 + fabs(b))) {
            *w_out = w + dw;
            *b_out = b + db - (w + dw) * mu;
            return FNN_OK;
        }
        /* Near the minimum the decrease a step promises (the Newton decrement
         * -slope) is lost in the rounding of f, where a line search would
         * stall: take full steps there. Elsewhere backtrack (Armijo). */
        double slope = gw * dw + gb * db, t = 1.0;
        double fn = logreg_objective(x, y, n, mu, c, w + dw, b + db);
        if (-slope > 1e-10 * (1.0 + fabs(f)))
            for (int halvings = 0; fn > f + 1e-4 * t * slope; halvings++) {
                if (halvings == 60)
                    return FNN_E_NUMERIC;
                t *= 0.5;
                fn = logreg_objective(x, y, n, mu, c, w + t * dw, b + t * db);
            }
        w += t * dw;
        b += t * db;
        f = fn;
    }
    return FNN_E_NUMERIC;
}

int fnn__logreg_fit_1d(const double *x, const uint8_t *y, size_t n, double c, double *w,
                       double *b, char *err, size_t err_size)
{
    if (!x || !y || !w || !b)
        return fnn__fail(err, err_size, FNN_E_NULL, "logreg_fit_1d: %s is NULL",
                         !x ? "x" : !y ? "y" : !w ? "w" : "b");
    if (n < 2)
        return fnn__fail(err, err_size, FNN_E_EMPTY, "logreg_fit_1d: %zu samples, need 2", n);
    if (!(c > 0.0) || !isfinite(c))
        return fnn__fail(err, err_size, FNN_E_INVALID, "logreg_fit_1d: C %g is not > 0", c);
    size_t ones = 0;
    for (size_t i = 0; i < n; i++) {
        if (y[i] > 1)
            return fnn__fail(err, err_size, FNN_E_INVALID,
                             "logreg_fit_1d: label %zu is %u, not 0 or 1", i, (unsigned)y[i]);
        if (!isfinite(x[i]))
            return fnn__fail(err, err_size, FNN_E_NUMERIC,
                             "logreg_fit_1d: feature %zu is not finite", i);
        ones += y[i];
    }
    if (ones == 0 || ones == n)
        return fnn__fail(err, err_size, FNN_E_INVALID,
                         "logreg_fit_1d: every label is %d; need both", ones != 0);
    if (logreg_newton(x, y, n, c, w, b) != FNN_OK)
        return fnn__fail(err, err_size, FNN_E_NUMERIC,
                         "logreg_fit_1d: Newton's method did not converge");
    return FNN_OK;
}

/* ---- loss-based attack --------------------------------------------------------------- */

/* The two streams of a loss attack's seed: the first draw seeds the splits,
 * the rest does the balancing, so the splits do not depend on the sizes. */
static void loss_mia_streams(uint64_t seed, fnn__rng *balance, fnn__rng *splits)
{
    fnn__rng_seed(balance, seed);
    fnn__rng_seed(splits, fnn__rng_next(balance));
}

/* Selection sampling (Knuth's algorithm S): m of n positions, ascending,
 * every subset equally likely. */
static void select_ascending(fnn__rng *r, size_t n, size_t m, uint32_t *out)
{
    for (size_t t = 0, got = 0; got < m; t++)
        if (fnn__rng_below(r, n - t) < m - got)
            out[got++] = (uint32_t)t;
}

static int balance_check(const char *fn, size_t nm, size_t nn, char *err, size_t err_size)
{
    if (nm == 0 || nn == 0)
        return fnn__fail(err, err_size, FNN_E_EMPTY, "%s: no %s", fn,
                         nm == 0 ? "members" : "non-members");
    if (nm > FNN__MAX_SAMPLES || nn > FNN__MAX_SAMPLES)
        return fnn__fail(err, err_size, FNN_E_RANGE, "%s: %zu samples is over the limit %zu",
                         fn, nm > nn ? nm : nn, FNN__MAX_SAMPLES);
    return FNN_OK;
}

int fnn__loss_mia_balance(size_t nm, size_t nn, uint64_t seed, uint32_t *keep, size_t cap,
                          char *err, size_t err_size)
{
    if (!keep)
        return fnn__fail(err, err_size, FNN_E_NULL, "loss_mia_balance: keep is NULL");
    int rc = balance_check("loss_mia_balance", nm, nn, err, err_size);
    if (rc != FNN_OK)
        return rc;
    size_t m = nm < nn ? nm : nn;
    if (cap < m)
        return fnn__fail(err, err_size, FNN_E_SHAPE,
                         "loss_mia_balance: capacity %zu is below the %zu kept", cap, m);
    fnn__rng balance, splits;
    loss_mia_streams(seed, &balance, &splits);
    select_ascending(&balance, nm > nn ? nm : nn, m, keep);
    return FNN_OK;
}

/* Accuracy of one stratified split of the balanced set x[0..2m) (class 0
 * first, then class 1): perm (2m) and the train buffers (2m) are workspace. */
static int loss_mia_split(const double *x, size_t m, size_t n_train, fnn__rng *r,
                          uint32_t *perm, double *tx, uint8_t *ty, double *acc)
{
    /* sklearn's _approximate_mode: half the training samples per class, the
     * odd one to a class drawn at random; the rest of each class is tested. */
    size_t train_of[2] = { n_train / 2, n_train / 2 };
    if (n_train % 2)
        train_of[fnn__rng_below(r, 2)]++;
    size_t nt = 0;
    for (size_t c = 0; c < 2; c++) {
        uint32_t *p = perm + c * m;
        for (size_t j = 0; j < m; j++)
            p[j] = (uint32_t)(c * m + j);
        fnn__shuffle_u32(r, p, m);
        for (size_t j = 0; j < train_of[c]; j++, nt++) {
            tx[nt] = x[p[j]];
            ty[nt] = (uint8_t)c;
        }
    }
    double w, b;
    if (logreg_newton(tx, ty, nt, 1.0, &w, &b) != FNN_OK)
        return FNN_E_NUMERIC;
    size_t right = 0;
    for (size_t c = 0; c < 2; c++)
        for (size_t j = train_of[c]; j < m; j++)
            right += (w * x[perm[c * m + j]] + b > 0.0) == (c == 1);
    *acc = (double)right / (double)(2 * m - n_train);
    return FNN_OK;
}

int fnn__loss_mia(const float *member_loss, size_t nm, const float *nonmember_loss, size_t nn,
                  uint64_t seed, unsigned n_splits, double *mean_acc, double *std_acc,
                  char *err, size_t err_size)
{
    if (!member_loss || !nonmember_loss || !mean_acc)
        return fnn__fail(err, err_size, FNN_E_NULL, "loss_mia: %s is NULL",
                         !member_loss ? "member_loss"
                         : !nonmember_loss ? "nonmember_loss" : "mean_acc");
    int rc = balance_check("loss_mia", nm, nn, err, err_size);
    if (rc != FNN_OK)
        return rc;
    if (n_splits == 0)
        return fnn__fail(err, err_size, FNN_E_INVALID, "loss_mia: n_splits is 0");
    for (size_t g = 0; g < 2; g++) {
        const float *l = g ? nonmember_loss : member_loss;
        for (size_t i = 0, cnt = g ? nn : nm; i < cnt; i++)
            if (!isfinite(l[i]))
                return fnn__fail(err, err_size, FNN_E_NUMERIC,
                                 "loss_mia: %s loss %zu is not finite",
                                 g ? "non-member" : "member", i);
    }
    size_t m = nm < nn ? nm : nn, n = 2 * m;
    /* sklearn: n_test = ceil(test_size * n_samples) in double. */
    size_t n_test = (size_t)ceil(0.1 * (double)n), n_train = n - n_test;
    if (n_test < 2)
        return fnn__fail(err, err_size, FNN_E_INVALID,
                         "loss_mia: %zu samples per class leave %zu for testing; need 6 per "
                         "class", m, n_test);

    double *x = malloc(n * sizeof *x), *tx = malloc(n * sizeof *tx);
    uint32_t *keep = malloc(m * sizeof *keep), *perm = malloc(n * sizeof *perm);
    uint8_t *ty = malloc(n);
    double *acc = malloc(n_splits * sizeof *acc);
    rc = x && tx && keep && perm && ty && acc ? FNN_OK : FNN_E_NOMEM;
    if (rc == FNN_OK) {
        fnn__rng balance, splits;
        loss_mia_streams(seed, &balance, &splits);
        const float *big = nm > nn ? member_loss : nonmember_loss;
        const float *small = nm > nn ? nonmember_loss : member_loss;
        select_ascending(&balance, nm > nn ? nm : nn, m, keep);
        /* Class 0 (non-members) at x[0..m), class 1 (members) at x[m..2m). */
        double *xbig = nm > nn ? x + m : x, *xsmall = nm > nn ? x : x + m;
        for (size_t j = 0; j < m; j++) {
            xbig[j] = big[keep[j]];
            xsmall[j] = small[j];
        }
        for (unsigned s = 0; s < n_splits && rc == FNN_OK; s++)
            rc = loss_mia_split(x, m, n_train, &splits, perm, tx, ty, &acc[s]);
    }
    if (rc == FNN_OK) {
        double mean = 0.0, var = 0.0;
        for (unsigned s = 0; s < n_splits; s++)
            mean += acc[s];
        mean /= n_splits;
        for (unsigned s = 0; s < n_splits; s++)
            var += (acc[s] - mean) * (acc[s] - mean);
        *mean_acc = mean;
        if (std_acc)
            *std_acc = sqrt(var / n_splits);
    }
    free(x);
    free(tx);
    free(keep);
    free(perm);
    free(ty);
    free(acc);
    if (rc == FNN_E_NOMEM)
        return fnn__fail(err, err_size, rc, "loss_mia: no memory for %zu samples", n);
    if (rc != FNN_OK)
        return fnn__fail(err, err_size, rc, "loss_mia: the logistic fit did not converge");
    return FNN_OK;
}

/* ---- LiRA ---------------------------------------------------------------------------- */

int fnn__logit_confidence(const float *logits, size_t n, uint32_t classes,
                          const int32_t *labels, double *phi, char *err, size_t err_size)
{
    if (!logits || !labels || !phi)
        return fnn__fail(err, err_size, FNN_E_NULL, "logit_confidence: %s is NULL",
                         !logits ? "logits" : !labels ? "labels" : "phi");
    if (n == 0)
        return fnn__fail(err, err_size, FNN_E_EMPTY, "logit_confidence: no rows");
    if (classes < 2 || classes > FNN__MAX_CLASSES)
        return fnn__fail(err, err_size, FNN_E_INVALID,
                         "logit_confidence: %lu classes, need 2 to %u", (unsigned long)classes,
                         FNN__MAX_CLASSES);
    size_t total;
    if (fnn__mul(n, classes, &total) != 0)
        return fnn__fail(err, err_size, FNN_E_NOMEM,
                         "logit_confidence: %zu rows of %lu overflow", n,
                         (unsigned long)classes);
    for (size_t i = 0; i < n; i++) {
        const float *z = logits + i * classes;
        int32_t y = labels[i];
        if (y < 0 || (uint32_t)y >= classes)
            return fnn__fail(err, err_size, FNN_E_RANGE,
                             "logit_confidence: label %ld of row %zu is not below %lu",
                             (long)y, i, (unsigned long)classes);
        double top = -INFINITY;
        for (uint32_t j = 0; j < classes; j++) {
            if (!isfinite(z[j]))
                return fnn__fail(err, err_size, FNN_E_NUMERIC,
                                 "logit_confidence: logit %lu of row %zu is not finite",
                                 (unsigned long)j, i);
            if (j != (uint32_t)y && z[j] > top)
                top = z[j];
        }
        double sum = 0.0;
        for (uint32_t j = 0; j < classes; j++)
            if (j != (uint32_t)y)
                sum += exp((double)z[j] - top);
        phi[i] = ((double)z[y] - top) - log(sum);
    }
    return FNN_OK;
}

int fnn__logit_confidence_prob(const float *probs_true_class, size_t n, double *phi,
                               char *err, size_t err_size)
{
    if (!probs_true_class || !phi)
        return fnn__fail(err, err_size, FNN_E_NULL, "logit_confidence_prob: %s is NULL",
                         !phi ? "phi" : "probs_true_class");
    if (n == 0)
        return fnn__fail(err, err_size, FNN_E_EMPTY, "logit_confidence_prob: no values");
    const double lo = FLT_TRUE_MIN, hi = 1.0 - 0x1p-24;
    for (size_t i = 0; i < n; i++) {
        double p = probs_true_class[i];
        if (isnan(p))
            return fnn__fail(err, err_size, FNN_E_NUMERIC,
                             "logit_confidence_prob: probability %zu is NaN", i);
        if (p < 0.0 || p > 1.0)
            return fnn__fail(err, err_size, FNN_E_RANGE,
                             "logit_confidence_prob: probability %zu is %g, not in [0, 1]", i,
                             p);
        p = p < lo ? lo : p > hi ? hi : p;
        phi[i] = log(p) - log1p(-p);
    }
    return FNN_OK;
}

double fnn__log_ndtr(double z)
{
    if (z > 0.0)
        return log1p(-0.5 * erfc(z / SQRT2));
    if (z > -37.0)
        return log(0.5 * erfc(-z / SQRT2));
    if (isinf(z))
        return -INFINITY;
    /* Phi(z) = phi(z) / -z * (1 - 1/z^2 + 3/z^4 - 15/z^6 + 105/z^8 - 945/z^10
     * + ...): below -37 the omitted terms are under 2e-15. */
    double r = 1.0 / (z * z);
    double series = 1.0 - r * (1.0 - 3.0 * r * (1.0 - 5.0 * r * (1.0 - 7.0 * r *
                                                                     (1.0 - 9.0 * r))));
    return -0.5 * z * z - log(-z) - LOG_SQRT_2PI + log(series);
}

/* Finds the first observation that fnn__lira_scores refuses, for the message. */
static int lira_bad_observation(const double *phi, const uint8_t *mask, size_t k, size_t n,
                                char *err, size_t err_size)
{
    for (size_t r = 0; r < k; r++)
        for (size_t i = 0; i < n; i++) {
            uint8_t m = mask[r * n + i];
            if (m > FNN__LIRA_SKIP)
                return fnn__fail(err, err_size, FNN_E_INVALID,
                                 "lira_scores: mask of shadow %zu, example %zu is %u", r, i,
                                 (unsigned)m);
            if (m != FNN__LIRA_SKIP && !isfinite(phi[r * n + i]))
                return fnn__fail(err, err_size, FNN_E_NUMERIC,
                                 "lira_scores: observation of shadow %zu, example %zu is not "
                                 "finite", r, i);
        }
    return FNN_OK;
}

/* v where on is 1, +0 where it is 0, even for a NaN v: a bit mask rather than
 * a conditional, so that the loops below vectorise under strict IEEE rules. */
static inline double keep_if(double v, uint64_t on)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    bits &= -on;
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* One shadow's row of observations into the per-example IN and OUT sums and
 * counts, branch-free; returns nonzero when the row
 * holds a bad mask value or a non-finite observation in use. */
static FNN__HOT int lira_sums_row(const double *restrict p, const uint8_t *restrict mk,
                                  size_t n, double *restrict sum_in, double *restrict sum_out,
                                  uint32_t *restrict cnt_in, uint32_t *restrict cnt_out)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t m = mk[i];
        double v = p[i];
        int in = m == FNN__LIRA_IN, out = m == FNN__LIRA_OUT;
        bad |= (m > FNN__LIRA_SKIP) | ((in | out) & !isfinite(v));
        sum_in[i] += keep_if(v, (uint64_t)in);
        sum_out[i] += keep_if(v, (uint64_t)out);
        cnt_in[i] += (uint32_t)in;
        cnt_out[i] += (uint32_t)out;
    }
    return bad;
}

/* One shadow's row into the per-example sums of squared deviations. */
static FNN__HOT void lira_squares_row(const double *restrict p, const uint8_t *restrict mk,
                                      size_t n, const double *restrict mean_in,
                                      const double *restrict mean_out, double *restrict ss_in,
                                      double *restrict ss_out)
{
    for (size_t i = 0; i < n; i++) {
        double din = p[i] - mean_in[i], dout = p[i] - mean_out[i];
        ss_in[i] += keep_if(din * din, (uint64_t)(mk[i] == FNN__LIRA_IN));
        ss_out[i] += keep_if(dout * dout, (uint64_t)(mk[i] == FNN__LIRA_OUT));
    }
}

/* Pooled variance of the deviations: ss / sum (count - 1), NaN without
 * degrees of freedom. */
static double pooled_var(const double *ss, const uint32_t *cnt, size_t n)
{
    double sum = 0.0, dof = 0.0;
    for (size_t i = 0; i < n; i++)
        if (cnt[i] > 0) {
            sum += ss[i];
            dof += cnt[i] - 1.0;
        }
    return dof > 0.0 ? sum / dof : NAN;
}

int fnn__lira_scores(const double *phi, const uint8_t *mask, size_t k, size_t n,
                     const double *target, unsigned flags, double *score, uint8_t *variant,
                     fnn__lira_stats *stats, char *err, size_t err_size)
{
    if (!phi || !mask || !target || !score)
        return fnn__fail(err, err_size, FNN_E_NULL, "lira_scores: %s is NULL",
                         !phi ? "phi" : !mask ? "mask" : !target ? "target" : "score");
    if (k == 0 || n == 0)
        return fnn__fail(err, err_size, FNN_E_EMPTY, "lira_scores: %s",
                         k == 0 ? "no shadows" : "no examples");
    if (k > UINT32_MAX)
        return fnn__fail(err, err_size, FNN_E_INVALID, "lira_scores: %zu shadows is too many",
                         k);
    if (flags & ~(unsigned)(FNN__LIRA_PER_EXAMPLE_VAR | FNN__LIRA_OFFLINE_ONLY))
        return fnn__fail(err, err_size, FNN_E_INVALID, "lira_scores: unknown flags 0x%x",
                         flags);
    size_t kn, ws;
    if (fnn__mul(k, n, &kn) != 0 || fnn__mul(n, 4 * sizeof(double), &ws) != 0)
        return fnn__fail(err, err_size, FNN_E_NOMEM, "lira_scores: %zu x %zu overflows", k, n);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(target[i]))
            return fnn__fail(err, err_size, FNN_E_NUMERIC,
                             "lira_scores: target observation %zu is not finite", i);

    /* Per example: means then sums of squared deviations, IN and OUT. */
    double *mean_in = calloc(4 * n, sizeof(double));
    uint32_t *cnt_in = calloc(2 * n, sizeof(uint32_t));
    if (!mean_in || !cnt_in) {
        free(mean_in);
        free(cnt_in);
        return fnn__fail(err, err_size, FNN_E_NOMEM, "lira_scores: no memory for %zu examples",
                         n);
    }
    double *mean_out = mean_in + n, *ss_in = mean_in + 2 * n, *ss_out = mean_in + 3 * n;
    uint32_t *cnt_out = cnt_in + n;

    /* Pass 1, row by row: sums, counts, validity. */
    int bad = 0;
    for (size_t r = 0; r < k; r++)
        bad |= lira_sums_row(phi + r * n, mask + r * n, n, mean_in, mean_out, cnt_in, cnt_out);
    if (bad) {
        free(mean_in);
        free(cnt_in);
        return lira_bad_observation(phi, mask, k, n, err, err_size);
    }
    for (size_t i = 0; i < n; i++) {
        mean_in[i] = cnt_in[i] ? mean_in[i] / cnt_in[i] : 0.0;
        mean_out[i] = cnt_out[i] ? mean_out[i] / cnt_out[i] : 0.0;
    }
    /* Pass 2: squared deviations from the example's own means. */
    for (size_t r = 0; r < k; r++)
        lira_squares_row(phi + r * n, mask + r * n, n, mean_in, mean_out, ss_in, ss_out);

    double var_in = pooled_var(ss_in, cnt_in, n), var_out = pooled_var(ss_out, cnt_out, n);
    int per_example = (flags & FNN__LIRA_PER_EXAMPLE_VAR) != 0;
    int offline_only = (flags & FNN__LIRA_OFFLINE_ONLY) != 0;
    fnn__lira_stats st = { 0, 0, 0, var_in, var_out };
    for (size_t i = 0; i < n; i++) {
        uint8_t v;
        double t = target[i];
        if (cnt_out[i] < FNN__LIRA_MIN_OBS) {
            v = FNN__LIRA_UNSCORED;
            score[i] = NAN;
            st.unscored++;
        } else {
            double vo = per_example ? ss_out[i] / (cnt_out[i] - 1.0) : var_out;
            vo = vo > FNN__LIRA_MIN_VAR ? vo : FNN__LIRA_MIN_VAR;
            double dout = t - mean_out[i];
            if (!offline_only && cnt_in[i] >= FNN__LIRA_MIN_OBS) {
                double vi = per_example ? ss_in[i] / (cnt_in[i] - 1.0) : var_in;
                vi = vi > FNN__LIRA_MIN_VAR ? vi : FNN__LIRA_MIN_VAR;
                double din = t - mean_in[i];
                /* log N(t; mu_in, vi) - log N(t; mu_out, vo) */
                score[i] = 0.5 * log(vo / vi) + dout * dout / (2.0 * vo) -
                           din * din / (2.0 * vi);
                v = FNN__LIRA_ONLINE;
                st.online++;
            } else {
                score[i] = fnn__log_ndtr(dout / sqrt(vo));
                v = FNN__LIRA_OFFLINE;
                st.offline++;
            }
        }
        if (variant)
            variant[i] = v;
    }
    free(mean_in);
    free(cnt_in);
    if (stats)
        *stats = st;
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
