/* Statistics of membership-inference evaluation (mia.c); internal.
 *
 * Pure functions over caller arrays: ROC AUC and TPR at a fixed FPR of an
 * attack score, the loss-threshold attack of the NeurIPS 2023 Machine
 * Unlearning challenge (balanced classes, stratified splits, 1-D logistic
 * regression), LiRA per-example scores from shadow-model observations
 * (Carlini et al. 2022; also U-LiRA, Hayes et al. 2024), and the Avg. Gap of
 * two tables of figures. They know nothing of models or data sets.
 *
 * Common rules:
 * - Every function returns FNN_OK or a negative FNN_E_* code and, on failure,
 *   writes a message into err (err_size bytes; err may be NULL). On failure
 *   scalar outputs are left as they were; output arrays may be partly written.
 * - Pointer arguments are required unless a comment says "may be NULL"; a
 *   NULL is FNN_E_NULL even when the matching count is 0.
 * - The caller owns every array; nothing is retained after a call returns.
 *   Temporary memory is allocated and freed inside the call (FNN_E_NOMEM when
 *   it cannot be).
 * - Randomness comes only from the `seed` argument (fnn__rng): equal inputs
 *   and seed give bit-identical outputs.
 * - Thread-safety: no shared state; concurrent calls are independent.
 * - "Higher score = more likely a member" throughout, so LiRA scores feed
 *   fnn__roc_auc() and fnn__tpr_at_fpr() directly.
 */
#ifndef FNN_MIA_H
#define FNN_MIA_H

#include <stddef.h>
#include <stdint.h>

/* ---- ROC statistics ------------------------------------------------------------------ */

/* Area under the ROC curve of an attack score.
 *
 * auc = P(M > N) + 0.5 P(M = N) for M a member score and N a non-member score
 * drawn uniformly from the two arrays (the Mann-Whitney U statistic divided
 * by nm * nn). Ties count one half exactly, whichever the group sizes; 1 is
 * a perfect attack, 0.5 chance, 0 a perfect attack with the sign reversed.
 * Infinite scores are ordinary values; NaN is an error. O((nm + nn) log).
 *
 * @param member_score     nm scores of members (higher = more likely a member)
 * @param nonmember_score  nn scores of non-members
 * @param auc              receives the area, in [0, 1]
 * @return FNN_OK, FNN_E_NULL, FNN_E_EMPTY (nm or nn is 0), FNN_E_NUMERIC (a
 *         NaN score), FNN_E_RANGE (nm * nn overflows size_t), FNN_E_NOMEM. */
int fnn__roc_auc(const double *member_score, size_t nm, const double *nonmember_score,
                 size_t nn, double *auc, char *err, size_t err_size);

/* True-positive rate at a false-positive rate of at most fpr (the low-FPR
 * metric of Carlini et al. 2022), on the empirical ROC curve.
 *
 * Over every rule "score >= thr => member" (thr any real, or above every
 * score), the largest TPR = #{members >= thr} / nm among the rules with
 * FPR = #{non-members >= thr} / nn <= fpr. No interpolation and no random
 * tie-breaking: a rule admits every score equal to its threshold, members and
 * non-members alike. In effect, with k the largest count with k / nn <= fpr
 * (compared in double, so k / nn == fpr counts as allowed) and v the
 * (k + 1)-th largest non-member score, tpr = #{members > v} / nm; a member
 * tied with v is not counted, because no threshold admits it without v.
 *
 * Resolution: only FPRs that are multiples of 1 / nn exist. With fewer than
 * 1 / fpr non-members, k is 0 and the result is the TPR at zero false
 * positives (the members scoring strictly above every non-member); it is
 * still computed, and the caller should report nn with it. Note that the
 * reference plotting code of Carlini et al. uses a strict "fpr < target";
 * pass nextafter(fpr, 0) to get that rule.
 *
 * @param fpr  the FPR budget, in the open interval (0, 1): 0.01 for 1%,
 *             0.001 for 0.1%
 * @param tpr  receives the rate, in [0, 1]
 * @return FNN_OK, FNN_E_NULL, FNN_E_EMPTY, FNN_E_INVALID (fpr not in (0, 1),
 *         NaN included), FNN_E_NUMERIC (a NaN score), FNN_E_NOMEM. */
int fnn__tpr_at_fpr(const double *member_score, size_t nm, const double *nonmember_score,
                    size_t nn, double fpr, double *tpr, char *err, size_t err_size);

/* ---- loss-based attack (NeurIPS 2023 unlearning challenge) --------------------------- */

/* The number of splits of the challenge's starting kit. */
#define FNN__LOSS_MIA_SPLITS 10u

/* Fits the L2-regularised logistic regression of scikit-learn's default
 * LogisticRegression (C, penalty on the weight only, intercept free) on one
 * feature: minimises 0.5 w^2 + C sum_i [log(1 + exp(z_i)) - y_i z_i] with
 * z_i = w x_i + b. The objective is strictly convex; the minimiser is found
 * to double precision by damped Newton steps on (w, b) over centred x.
 *
 * @param x  n feature values, finite
 * @param y  n labels, each 0 or 1, with both labels present
 * @param c  inverse regularisation strength, finite and > 0 (1.0 in sklearn)
 * @param w, b  receive the weight and the intercept; P(y = 1 | x) =
 *              1 / (1 + exp(-(w x + b)))
 * @return FNN_OK, FNN_E_NULL, FNN_E_EMPTY (n < 2), FNN_E_INVALID (a label
 *         not 0/1, one label only, c not > 0), FNN_E_NUMERIC (a non-finite x,
 *         or no convergence in 100 steps). */
int fnn__logreg_fit_1d(const double *x, const uint8_t *y, size_t n, double c, double *w,
                       double *b, char *err, size_t err_size);

/* The class balancing of fnn__loss_mia(): which min(nm, nn) samples of the
 * larger group it keeps for this seed, as ascending positions in that group.
 * A uniformly random subset (selection sampling, the seed's stream after its
 * first draw); with nm == nn every position is kept. Exposed so a caller (or
 * a test) can rebuild the balanced set the attack actually uses.
 *
 * @param keep  receives min(nm, nn) positions below max(nm, nn)
 * @param cap   capacity of keep, >= min(nm, nn)
 * @return FNN_OK, FNN_E_NULL, FNN_E_EMPTY (nm or nn is 0), FNN_E_SHAPE (cap
 *         too small), FNN_E_RANGE (max(nm, nn) > FNN__MAX_SAMPLES). */
int fnn__loss_mia_balance(size_t nm, size_t nn, uint64_t seed, uint32_t *keep, size_t cap,
                          char *err, size_t err_size);

/* Accuracy of the loss-threshold membership attack, as the challenge's kit
 * computes it (members are its forget set, non-members its test set):
 *
 * 1. Balance: the larger group is subsampled to m = min(nm, nn) samples
 *    (fnn__loss_mia_balance(), seeded). Non-members are label 0, members 1.
 * 2. For each of n_splits stratified shuffle splits (scikit-learn's
 *    StratifiedShuffleSplit with test_size 0.1): n_test = ceil(0.1 * 2m) in
 *    double as sklearn computes it, n_train = 2m - n_test, each class gives
 *    floor(n_train / 2) training samples (the odd one to a random class) and
 *    the rest of the class is the test part; each class is freshly permuted
 *    per split. The random stream differs from numpy's, so the splits are
 *    sklearn's in distribution, not sample for sample.
 * 3. Fit fnn__logreg_fit_1d() with C = 1 on the training losses; predict
 *    "member" where w x + b > 0 (probability > 0.5); the split's accuracy is
 *    the fraction of the test part predicted right. sklearn stops lbfgs at a
 *    tolerance; this fit is exact, so a decision may differ for a loss within
 *    that tolerance of the boundary.
 *
 * 0.5 means the attack cannot tell members from non-members; below 0.5 is
 * possible. std_acc is the population standard deviation (ddof 0, like
 * numpy's std) of the n_splits accuracies: how much the figure moves with the
 * split. The splits overlap, so it is not a standard error of mean_acc.
 *
 * @param member_loss     nm per-sample losses of members, finite
 * @param nonmember_loss  nn per-sample losses of non-members, finite
 * @param seed            seeds balancing and splits (independently: the
 *                        splits do not depend on nm and nn beyond m)
 * @param n_splits        >= 1; FNN__LOSS_MIA_SPLITS in the kit
 * @param mean_acc        receives the mean split accuracy, in [0, 1]
 * @param std_acc         receives the spread (may be NULL)
 * @return FNN_OK, FNN_E_NULL, FNN_E_EMPTY (nm or nn is 0), FNN_E_INVALID
 *         (n_splits 0, or m < 6: sklearn needs 2 test samples per class),
 *         FNN_E_RANGE (a group larger than FNN__MAX_SAMPLES), FNN_E_NUMERIC
 *         (a non-finite loss; or a fit that did not converge, which a strictly
 *         convex objective should never give), FNN_E_NOMEM. */
int fnn__loss_mia(const float *member_loss, size_t nm, const float *nonmember_loss, size_t nn,
                  uint64_t seed, unsigned n_splits, double *mean_acc, double *std_acc,
                  char *err, size_t err_size);

/* ---- LiRA ---------------------------------------------------------------------------- */

/* LiRA's logit-scaled confidence from logits: for each row i,
 * phi_i = z[y_i] - log sum_{j != y_i} exp(z[j]) = log(p / (1 - p)) for p the
 * softmax probability of the true class, computed in double with the largest
 * other logit factored out, so it is finite and exact for any finite logits
 * (logits 1000 and -1000 give 2000), where p itself would round to 1.
 *
 * @param logits   n rows of `classes` logits, row-major, finite
 * @param classes  >= 2 and <= FNN__MAX_CLASSES
 * @param labels   n true classes, each in [0, classes)
 * @param phi      receives n values
 * @return FNN_OK, FNN_E_NULL, FNN_E_EMPTY (n 0), FNN_E_INVALID (classes),
 *         FNN_E_RANGE (a label), FNN_E_NUMERIC (a non-finite logit),
 *         FNN_E_NOMEM (n * classes overflows). */
int fnn__logit_confidence(const float *logits, size_t n, uint32_t classes,
                          const int32_t *labels, double *phi, char *err, size_t err_size);

/* The same from probabilities of the true class: phi = log(p) - log1p(-p).
 * Prefer fnn__logit_confidence(): a float probability saturates. p = 0 and
 * p = 1 are clamped to the nearest float probabilities inside (0, 1)
 * (FLT_TRUE_MIN and 1 - 2^-24), so phi stays finite, within about
 * [-103.3, 16.7]; every p above 1 - 2^-24 gives the same 16.64.
 *
 * @param probs_true_class  n probabilities in [0, 1]
 * @param phi               receives n values
 * @return FNN_OK, FNN_E_NULL, FNN_E_EMPTY, FNN_E_NUMERIC (NaN), FNN_E_RANGE
 *         (a value outside [0, 1]). */
int fnn__logit_confidence_prob(const float *probs_true_class, size_t n, double *phi,
                               char *err, size_t err_size);

/* Values of the LiRA membership mask (one byte per shadow and example). */
enum {
    FNN__LIRA_OUT = 0,  /* the shadow never saw the example */
    FNN__LIRA_IN = 1,   /* the example's "IN" condition (see fnn__lira_scores) */
    FNN__LIRA_SKIP = 2  /* observation not used (phi may be anything, NaN too) */
};

/* Flags of fnn__lira_scores(); 0 is the default. */
enum {
    FNN__LIRA_PER_EXAMPLE_VAR = 1u << 0, /* each example's own variances */
    FNN__LIRA_OFFLINE_ONLY = 1u << 1     /* the offline test for every example */
};

/* What fnn__lira_scores() computed for an example. */
enum {
    FNN__LIRA_UNSCORED = 0, /* fewer than 2 OUT observations: score is NaN */
    FNN__LIRA_ONLINE = 1,
    FNN__LIRA_OFFLINE = 2
};

/* The minimum number of IN (online) or OUT (any score) observations. */
#define FNN__LIRA_MIN_OBS 2u
/* Variances are floored here so that constant observations give finite scores. */
#define FNN__LIRA_MIN_VAR 1e-12

/* Summary of one fnn__lira_scores() call. */
typedef struct fnn__lira_stats {
    size_t online, offline, unscored; /* examples per variant; they sum to n */
    double var_in, var_out;           /* pooled variances, computed in every mode
                                         (the default uses them), before the floor;
                                         NaN without degrees of freedom */
} fnn__lira_stats;

/* LiRA per-example membership scores from K shadow observations per example
 * (Carlini et al. 2022, "Membership Inference Attacks From First Principles").
 *
 * Layout: shadow k scored every example i: phi[k * n + i] is its observation
 * (usually fnn__logit_confidence() of that shadow, written row by row), and
 * mask[k * n + i] says whether it is an IN, OUT or SKIP observation of i. So
 * each example has its own counts n_in, n_out. target[i] is the observation
 * of the model under attack.
 *
 * Per example, mu_in and mu_out are the means of its IN and OUT observations.
 * Variances: by default ONE global variance per condition, pooled over all
 * examples around their own means (sum of squared deviations over sum of
 * (count - 1)); this is the paper's fixed-variance option, far more stable
 * than per-example variances at small K. (The paper's code pools around the
 * grand mean instead and uses medians; this function fits the Gaussian
 * model's mean and pooled variance.) FNN__LIRA_PER_EXAMPLE_VAR uses each
 * example's own unbiased variances. Every variance is floored at
 * FNN__LIRA_MIN_VAR.
 *
 * Rule per example: with n_out < 2 it is UNSCORED (score NaN, which
 * fnn__roc_auc() refuses, so the caller must drop it); else with n_in >= 2
 * (and FNN__LIRA_OFFLINE_ONLY unset) ONLINE:
 *     score = log N(t; mu_in, s_in^2) - log N(t; mu_out, s_out^2);
 * else OFFLINE, the one-sided test against the OUT distribution:
 *     score = log P(Z <= (t - mu_out) / s_out), Z standard normal,
 * computed without underflow (fnn__log_ndtr()). Online and offline
 * scores are on different scales; a ROC over a mix of both is a mix of two
 * attacks, so count them (stats, variant) and use enough shadows (or
 * FNN__LIRA_OFFLINE_ONLY) for a clean figure.
 *
 * U-LiRA (Hayes et al. 2024) is the same computation: there the IN
 * observations come from shadows that trained on the example and then
 * unlearned it, the OUT ones from shadows that never saw it, and shadows that
 * kept it are SKIP. This function assumes nothing about how observations were
 * produced, only which condition each belongs to.
 *
 * Cost: two vectorised passes over the K x n matrix plus O(n) (K = 256,
 * n = 60,000: about 50 ms); 40 n bytes of workspace.
 *
 * @param phi      k * n observations, row-major by shadow; finite where the
 *                 mask is not SKIP
 * @param mask     k * n bytes, FNN__LIRA_OUT / _IN / _SKIP
 * @param k        number of shadows, >= 1 and <= UINT32_MAX
 * @param n        number of examples, >= 1
 * @param target   n finite observations of the attacked model
 * @param flags    0 or FNN__LIRA_* flags
 * @param score    receives n scores (higher = more likely a member)
 * @param variant  receives n FNN__LIRA_UNSCORED / _ONLINE / _OFFLINE (may be NULL)
 * @param stats    receives the summary (may be NULL)
 * @return FNN_OK, FNN_E_NULL, FNN_E_EMPTY (k or n is 0), FNN_E_INVALID (a mask
 *         value, an unknown flag), FNN_E_NUMERIC (a non-finite observation
 *         in use, or target), FNN_E_NOMEM (k * n overflows, or workspace). */
int fnn__lira_scores(const double *phi, const uint8_t *mask, size_t k, size_t n,
                     const double *target, unsigned flags, double *score, uint8_t *variant,
                     fnn__lira_stats *stats, char *err, size_t err_size);

/* log P(Z <= z) for Z standard normal, to about 1e-15 relative, and finite
 * for |z| < 1e154 (an asymptotic series below -37, where erfc underflows);
 * -inf at -inf, 0 at +inf. */
double fnn__log_ndtr(double z);

/* ---- Avg. Gap ------------------------------------------------------------------------ */

/* Mean absolute difference of n paired figures, in percentage points:
 * gap = 100 / n * sum_i |method_i - reference_i| (the Avg. Gap of unlearning
 * papers, over e.g. retain/forget/test accuracy and MIA).
 *
 * @param method, reference  n fractions each, in [0, 1]
 * @param gap                receives the gap, in [0, 100]
 * @return FNN_OK, FNN_E_NULL, FNN_E_EMPTY (n 0), FNN_E_NUMERIC (NaN),
 *         FNN_E_RANGE (a value outside [0, 1]: percentages passed by mistake). */
int fnn__avg_gap(const double *method, const double *reference, size_t n, double *gap,
                 char *err, size_t err_size);

#endif
