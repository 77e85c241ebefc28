/* Membership attacks on models: the loss figures of fnn_model_membership(),
 * LiRA and U-LiRA (fnn_attack) on a deliberately overfit small model, where
 * they must find the members, and on held-out data, where they must not. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

enum { DIM = 12, N_ALL = 480, N_POOL = 240 };

/* N_ALL points of 4 overlapping classes with 40% of the labels random: a
 * small network trained long memorises its training samples, so members
 * and non-members differ in confidence. */
static fnn_dataset *noisy(uint64_t seed)
{
    float *x = malloc(N_ALL * DIM * sizeof *x);
    int32_t *y = malloc(N_ALL * sizeof *y);
    fnn__rng r;
    fnn__rng_seed(&r, seed);
    for (size_t i = 0; i < N_ALL; i++) {
        int32_t c = (int32_t)(i % 4);
        for (uint32_t j = 0; j < DIM; j++)
            x[i * DIM + j] = (j % 4 == (uint32_t)c ? 1.0f : 0.0f) + 1.5f * (fnn__rng_float(&r) - 0.5f);
        y[i] = fnn__rng_float(&r) < 0.4f ? (int32_t)fnn__rng_below(&r, 4) : c;
    }
    fnn_dataset *ds = NULL;
    ck_assert_int_eq(fnn_dataset_from_arrays(&ds, x, y, N_ALL, DIM, 1, 1, 4, NULL, 0), FNN_OK);
    free(x);
    free(y);
    return ds;
}

static fnn_train_options *overfit_recipe(void)
{
    fnn_train_options *o = NULL;
    ck_assert_int_eq(fnn_train_options_create(&o), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_EPOCHS, 300), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_BATCH_SIZE, 16), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_LEARNING_RATE, 0.01), FNN_OK);
    return o;
}

/* positions [first, first + n) */
static fnn_dataset *range(fnn_dataset *all, uint32_t first, uint32_t n, uint32_t *idx)
{
    for (uint32_t i = 0; i < n; i++)
        idx[i] = first + i;
    fnn_dataset *v = NULL;
    ck_assert_int_eq(fnn_dataset_subset(all, idx, n, &v), FNN_OK);
    return v;
}

START_TEST(test_membership_figures)
{
    fnn_dataset *all = noisy(1);
    uint32_t idx[N_ALL];
    fnn_dataset *pool = range(all, 0, N_POOL, idx), *held = range(all, N_POOL, N_POOL, idx);
    fnn_model *m = NULL;
    ck_assert_int_eq(fnn_model_create(&m, "input:12,dense:64,relu,dense:4", 2, NULL, 0), FNN_OK);
    fnn_train_options *o = overfit_recipe();
    ck_assert_int_eq(fnn_model_train(m, pool, o), FNN_OK);
    double f[FNN_MEMBERSHIP_TPR_01 + 1];
    ck_assert_int_eq(fnn_model_membership(m, pool, held, 3, f, FNN_MEMBERSHIP_TPR_01 + 1),
                     FNN_OK);
    /* Memorised: members near 100%, held-out samples far below; the attacks see it. */
    ck_assert_double_ge(f[FNN_MEMBERSHIP_MEMBER_ACC], 0.97);
    ck_assert_double_le(f[FNN_MEMBERSHIP_NONMEMBER_ACC], 0.85);
    ck_assert_double_lt(f[FNN_MEMBERSHIP_MEMBER_LOSS], f[FNN_MEMBERSHIP_NONMEMBER_LOSS]);
    ck_assert_double_ge(f[FNN_MEMBERSHIP_LOSS_MIA], 0.65);
    ck_assert_double_ge(f[FNN_MEMBERSHIP_AUC], 0.7);
    ck_assert(f[FNN_MEMBERSHIP_TPR_1] >= 0 && f[FNN_MEMBERSHIP_TPR_1] <= 1);
    /* Two sets the model never saw: nothing to find. */
    fnn_dataset *h1 = range(all, N_POOL, N_POOL / 2, idx);
    fnn_dataset *h2 = range(all, N_POOL + N_POOL / 2, N_POOL / 2, idx);
    ck_assert_int_eq(fnn_model_membership(m, h1, h2, 3, f, FNN_MEMBERSHIP_AUC + 1), FNN_OK);
    ck_assert_double_le(fabs(f[FNN_MEMBERSHIP_AUC] - 0.5), 0.1);
    /* The figures the caller asked for, no more. */
    double two[2] = {-1, -1}, big[12];
    ck_assert_int_eq(fnn_model_membership(m, h1, h2, 3, two, 1), FNN_OK);
    ck_assert_double_ge(two[0], 0);
    ck_assert_double_eq(two[1], -1);
    for (int k = 0; k < 12; k++)
        big[k] = -7;
    ck_assert_int_eq(fnn_model_membership(m, h1, h2, 3, big, 12), FNN_OK);
    ck_assert_double_eq(big[FNN_MEMBERSHIP_TPR_01 + 1], -7);
    ck_assert_int_eq(fnn_model_membership(m, NULL, h2, 3, f, 1), FNN_E_NULL);
    fnn_train_options_free(o);
    fnn_dataset_free(h1);
    fnn_dataset_free(h2);
    fnn_dataset_free(pool);
    fnn_dataset_free(held);
    fnn_dataset_free(all);
    fnn_model_free(m);
}
END_TEST

START_TEST(test_lira_and_ulira)
{
    fnn_dataset *all = noisy(1);
    uint32_t idx[N_ALL];
    fnn_dataset *pool = range(all, 0, N_POOL, idx);
    fnn_model *m = NULL;
    ck_assert_int_eq(fnn_model_create(&m, "input:12,dense:64,relu,dense:4", 2, NULL, 0), FNN_OK);
    fnn_train_options *o = overfit_recipe();
    ck_assert_int_eq(fnn_model_train(m, pool, o), FNN_OK);
    /* Candidates: 100 members (pool 0..99), 100 held out (240..339) and 100
     * more held out (340..439). */
    uint32_t cand[300];
    uint8_t members[300], held_pair[300], all_flags[300];
    for (uint32_t i = 0; i < 100; i++) {
        cand[i] = i;
        cand[100 + i] = N_POOL + i;
        cand[200 + i] = N_POOL + 100 + i;
    }
    for (int i = 0; i < 300; i++) {
        members[i] = i < 100 ? 1 : i < 200 ? 0 : 2;
        held_pair[i] = i < 100 ? 2 : i < 200 ? 1 : 0;
        all_flags[i] = i < 200;
    }
    fnn_attack *a = NULL;
    char err[256];
    ck_assert_msg(fnn_attack_create(&a, m, all, cand, 300, err, sizeof err) == FNN_OK, "%s",
                  err);
    ck_assert_int_eq(fnn_attack_set(a, FNN_ATTACK_SHADOWS, 16), FNN_OK);
    ck_assert_int_eq(fnn_attack_set(a, FNN_ATTACK_THREADS, 2), FNN_OK);
    ck_assert_int_eq(fnn_attack_set(a, FNN_ATTACK_SHADOWS, 0), FNN_E_INVALID);
    double scores[300], auc, tpr1;
    ck_assert_int_eq(fnn_attack_scores(a, m, scores, 300), FNN_E_STATE);
    ck_assert_int_eq(fnn_attack_train(a), FNN_OK);
    ck_assert_uint_eq(fnn_attack_shadows_trained(a), 16);
    /* LiRA finds the members of an overfit model... */
    ck_assert_int_eq(fnn_attack_evaluate(a, m, members, 300, &auc, &tpr1, NULL), FNN_OK);
    ck_assert_msg(auc >= 0.8, "LiRA AUC %g on members of an overfit model", auc);
    ck_assert_double_ge(tpr1, 0.02);
    /* ... and nothing between two held-out sets. */
    ck_assert_int_eq(fnn_attack_evaluate(a, m, held_pair, 300, &auc, NULL, NULL), FNN_OK);
    ck_assert_msg(fabs(auc - 0.5) <= 0.12, "LiRA AUC %g between two held-out sets", auc);
    ck_assert_int_eq(fnn_attack_scores(a, m, scores, 300), FNN_OK);
    for (int i = 0; i < 300; i++)
        ck_assert(!isnan(scores[i])); /* 16 halves: every candidate has IN and OUT */

    /* Retraining without the members is exact unlearning: U-LiRA, whose
     * shadows retrained without their candidates, cannot tell the members
     * from held-out samples, while LiRA against the original still can. */
    fnn_forget_request *req = NULL;
    uint32_t first100[100];
    for (uint32_t i = 0; i < 100; i++)
        first100[i] = i;
    ck_assert_int_eq(fnn_forget_request_from_indices(&req, pool, first100, 100, NULL, 0),
                     FNN_OK);
    fnn_forget_options *fo = NULL;
    ck_assert_int_eq(fnn_forget_options_create(&fo), FNN_OK);
    ck_assert_int_eq(fnn_forget_options_set(fo, FNN_FORGET_METHOD, FNN_METHOD_RETRAIN), FNN_OK);
    fnn_model *re = NULL;
    ck_assert_int_eq(fnn_model_clone(m, &re), FNN_OK);
    ck_assert_int_eq(fnn_model_forget(re, req, NULL, fo, NULL), FNN_OK);
    ck_assert_int_eq(fnn_attack_evaluate(a, re, members, 300, &auc, NULL, NULL), FNN_OK);
    ck_assert_msg(fabs(auc - 0.5) <= 0.12, "LiRA AUC %g after retraining", auc);
    fnn_attack *u = NULL;
    ck_assert_int_eq(fnn_attack_unlearn(a, all_flags, 300, fo, &u, err, sizeof err), FNN_OK);
    ck_assert_int_eq(fnn_attack_evaluate(u, re, members, 300, &auc, NULL, NULL), FNN_OK);
    ck_assert_msg(fabs(auc - 0.5) <= 0.12, "U-LiRA AUC %g after retraining", auc);
    /* The unlearned attack has no shadows of its own to derive from. */
    fnn_attack *uu = NULL;
    ck_assert_int_eq(fnn_attack_unlearn(u, all_flags, 300, fo, &uu, err, sizeof err),
                     FNN_E_STATE);
    ck_assert_ptr_null(uu);
    /* Doing nothing leaves the members as visible as before. */
    ck_assert_int_eq(fnn_forget_options_set(fo, FNN_FORGET_METHOD, FNN_METHOD_NONE), FNN_OK);
    fnn_attack_free(u);
    ck_assert_int_eq(fnn_attack_unlearn(a, all_flags, 300, fo, &u, err, sizeof err), FNN_OK);
    ck_assert_int_eq(fnn_attack_evaluate(u, m, members, 300, &auc, NULL, NULL), FNN_OK);
    ck_assert_msg(auc >= 0.8, "U-LiRA AUC %g when nothing was forgotten", auc);

    /* Errors. */
    uint32_t dup[2] = {3, 3}, far[1] = {N_ALL};
    fnn_attack *bad = NULL;
    ck_assert_int_eq(fnn_attack_create(&bad, m, all, dup, 2, NULL, 0), FNN_E_DUPLICATE);
    ck_assert_int_eq(fnn_attack_create(&bad, m, all, far, 1, NULL, 0), FNN_E_RANGE);
    ck_assert_int_eq(fnn_attack_create(&bad, m, all, cand, 0, NULL, 0), FNN_E_EMPTY);
    fnn_model *plain = NULL;
    ck_assert_int_eq(fnn_model_create(&plain, "input:12,dense:4", 1, NULL, 0), FNN_OK);
    ck_assert_int_eq(fnn_attack_create(&bad, plain, all, cand, 300, NULL, 0), FNN_E_STATE);
    ck_assert_int_eq(fnn_attack_scores(a, plain, scores, 300), FNN_E_SHAPE);
    ck_assert_int_eq(fnn_attack_evaluate(a, m, members, 299, &auc, NULL, NULL), FNN_E_SHAPE);
    ck_assert_ptr_null(bad);
    fnn_attack_free(NULL);
    fnn_model_free(plain);
    fnn_attack_free(u);
    fnn_model_free(re);
    fnn_forget_options_free(fo);
    fnn_forget_request_free(req);
    fnn_attack_free(a);
    fnn_train_options_free(o);
    fnn_dataset_free(pool);
    fnn_dataset_free(all);
    fnn_model_free(m);
}
END_TEST

START_TEST(test_public_statistics)
{
    /* The wrappers of lib/mia.c, on hand-made cases. */
    double m[3] = {0.9, 0.8, 0.3}, n[3] = {0.1, 0.8, 0.2}, auc, tpr, gap;
    char err[128];
    ck_assert_int_eq(fnn_mia_auc(m, 3, n, 3, &auc, err, sizeof err), FNN_OK);
    /* pairs won: 0.9 > all 3; 0.8 > 0.1, 0.2, ties 0.8 (1/2); 0.3 > 0.1, 0.2 */
    ck_assert_double_eq_tol(auc, (3 + 2.5 + 2) / 9.0, 1e-15);
    /* No false positive allowed: only 0.9 is above every non-member. */
    ck_assert_int_eq(fnn_mia_tpr_at_fpr(m, 3, n, 3, 0.3, &tpr, err, sizeof err), FNN_OK);
    ck_assert_double_eq_tol(tpr, 1.0 / 3.0, 1e-15);
    /* One allowed (0.8): the threshold drops to just above 0.2. */
    ck_assert_int_eq(fnn_mia_tpr_at_fpr(m, 3, n, 3, 0.34, &tpr, err, sizeof err), FNN_OK);
    ck_assert_double_eq(tpr, 1.0);
    ck_assert_int_eq(fnn_mia_tpr_at_fpr(m, 3, n, 3, 1.5, &tpr, err, sizeof err), FNN_E_INVALID);
    ck_assert_int_eq(fnn_mia_auc(m, 3, n, 3, NULL, err, sizeof err), FNN_E_NULL);
    double a[4] = {0.1, 0.9, 0.5, 0.5}, b[4] = {0.0, 0.8, 0.7, 0.5};
    ck_assert_int_eq(fnn_avg_gap(a, b, 4, &gap, err, sizeof err), FNN_OK);
    ck_assert_double_eq_tol(gap, 100.0 * (0.1 + 0.1 + 0.2 + 0) / 4, 1e-12);
    a[0] = 50;
    ck_assert_int_eq(fnn_avg_gap(a, b, 4, &gap, err, sizeof err), FNN_E_RANGE);
    float lm[100], ln[100];
    for (int i = 0; i < 100; i++) {
        lm[i] = 0.01f * (float)i;
        ln[i] = 5.0f + 0.01f * (float)i;
    }
    double acc, spread;
    ck_assert_int_eq(fnn_mia_loss_attack(lm, 100, ln, 100, 1, &acc, &spread, err, sizeof err),
                     FNN_OK);
    ck_assert_double_eq(acc, 1.0);
    ck_assert_double_eq(spread, 0.0);
    ck_assert_int_eq(fnn_mia_loss_attack(lm, 3, ln, 100, 1, &acc, NULL, err, sizeof err),
                     FNN_E_INVALID);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("attack");
    TCase *tc = tcase_create("attacks");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_public_statistics);
    tcase_add_test(tc, test_membership_figures);
    tcase_add_test(tc, test_lira_and_ulira);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fnn_test_main(suite());
}
