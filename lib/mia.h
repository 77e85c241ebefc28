/* Statistics of membership-inference evaluation (mia.c); internal.
 *
 * Pure functions over caller arrays: ROC AUC and TPR at a fixed FPR of an
 * attack score, and the Avg. Gap of two tables of figures. They know nothing
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
