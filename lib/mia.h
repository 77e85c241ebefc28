/* Statistics of membership-inference evaluation (mia.c); internal.
 *
 * Pure functions over caller arrays: ROC AUC and TPR at a fixed FPR of an
 * attack score, the loss-threshold attack of the NeurIPS 2023 Machine
 * Unlearning challenge (balanced classes, stratified splits, 1-D logistic
 * regression), and the Avg. Gap of two tables of figures. They know nothing
 * of models or data sets.
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
 * - "Higher score = more likely a member" throughout.
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
