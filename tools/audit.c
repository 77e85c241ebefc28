/* fnn audit: the evidence that a model forgot one deletion request.
 *
 * On the samples the model trained on (its recipe says which: the pool of
 * `fnn train --holdout`) it measures the forget set against held-out
 * samples of the training distribution: accuracies, the loss attack, its AUC
 * and TPR at low FPR, and, with shadow models, LiRA and U-LiRA (shadows that
 * unlearned with the method the model's deletion history names). With a
 * retrained reference it gives the Avg. Gap. The request's digest is looked
 * up in the model's deletion history. Everything goes to a JSON report. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static struct opt audit_opts[] = {
    OPT("model", "FILE", "the model to audit"),
    OPT("data", "DIR", "the data directory it was trained on"),
    OPT("forget-class", "C", "the request: every training sample of class C"),
    OPT("forget-random", "N", "the request: N training samples drawn by --seed"),
    OPT("forget-indices", "FILE", "the request: the samples at the indices in FILE"),
    OPT("seed", "S", "seed of --forget-random, of the attacks and of the shadows [0]"),
    OPT("reference", "FILE", "a model retrained without the request (fnn forget --method "
                             "retrain): the Avg. Gap is taken against it"),
    OPT("shadows", "K", "LiRA and U-LiRA with K shadow models (0: off) [16]"),
    OPT("threads", "T", "shadows trained at once (OpenBLAS then runs one thread) [1]"),
    OPT("report", "FILE", "write the JSON report to FILE ('-': standard output)"),
};

enum { A_MODEL, A_DATA, A_CLASS, A_RANDOM, A_INDICES, A_SEED, A_REFERENCE, A_SHADOWS,
       A_THREADS, A_REPORT };

void audit_help(FILE *f)
{
    fputs("Usage: fnn audit --model FILE --data DIR\n"
          "         (--forget-class C | --forget-random N --seed S | --forget-indices FILE)\n"
          "         [--reference FILE] [--shadows K] [--report FILE]\n"
          "\n"
          "Gathers the evidence that a model forgot a deletion request: its accuracy on\n"
          "the forget set, the rest of its training data, its held-out samples and the\n"
          "test split; membership attacks of the forget set against held-out samples of\n"
          "the training distribution (of the class, for a class request): the loss attack\n"
          "(0.5 = cannot tell), its AUC and TPR at 1% and 0.1% FPR, LiRA with shadow\n"
          "models and U-LiRA, whose shadows unlearned with the method the model's\n"
          "deletion history records; the Avg. Gap to a retrained reference; and whether\n"
          "the request's SHA-256 matches a record of the history. The attacks need a\n"
          "model trained with 'fnn train --holdout' (else the test split stands in for\n"
          "the held-out samples and the shadow attacks are left out).\n"
          "\n",
          f);
    for (size_t k = 0; k < COUNT(audit_opts); k++)
        print_option_help(f, audit_opts[k].name, audit_opts[k].arg, audit_opts[k].help, NULL);
}

/* The figures of one model on the request. */
struct figures {
    double forget, retain, heldout, test;
    double mia, mia_spread, auc, tpr_1, tpr_01;
    double lira_auc, lira_tpr_1, lira_tpr_01;
    double ulira_auc, ulira_tpr_1, ulira_tpr_01;
};

static int measure(const fnn_model *m, const char *which, const fnn_dataset *forget,
                   const fnn_dataset *retain, const fnn_dataset *held,
                   const fnn_dataset *negative, const fnn_dataset *test, uint64_t seed,
                   struct figures *f)
{
    double fig[FNN_MEMBERSHIP_TPR_01 + 1];
    int st;
    f->heldout = NAN;
    if ((st = fnn_model_evaluate(m, retain, &f->retain, NULL)) ||
        (held && (st = fnn_model_evaluate(m, held, &f->heldout, NULL))) ||
        (st = fnn_model_evaluate(m, test, &f->test, NULL)) ||
        (st = fnn_model_membership(m, forget, negative, seed, fig, COUNT(fig))))
        return fail(st, fnn_model_errmsg(m), "measuring %s", which);
    f->forget = fig[FNN_MEMBERSHIP_MEMBER_ACC];
    f->mia = fig[FNN_MEMBERSHIP_LOSS_MIA];
    f->mia_spread = fig[FNN_MEMBERSHIP_LOSS_MIA_SPREAD];
    f->auc = fig[FNN_MEMBERSHIP_AUC];
    f->tpr_1 = fig[FNN_MEMBERSHIP_TPR_1];
    f->tpr_01 = fig[FNN_MEMBERSHIP_TPR_01];
    f->lira_auc = f->lira_tpr_1 = f->lira_tpr_01 = NAN;
    f->ulira_auc = f->ulira_tpr_1 = f->ulira_tpr_01 = NAN;
    return EXIT_OK;
}

static void jnum(FILE *f, const char *key, double v, const char *sep)
{
    if (isfinite(v))
        fprintf(f, "\"%s\": %.10g%s", key, v, sep);
    else
        fprintf(f, "\"%s\": null%s", key, sep);
}

static void jstr(FILE *f, const char *key, const char *s, const char *sep)
{
    fprintf(f, "\"%s\": \"", key);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20 || ch >= 0x7f)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fprintf(f, "\"%s", sep);
}

static void json_figures(FILE *f, const char *key, const struct figures *g, const char *sep)
{
    fprintf(f, "  \"%s\": {", key);
    jnum(f, "forget_acc", g->forget, ", ");
    jnum(f, "retain_acc", g->retain, ", ");
    jnum(f, "heldout_acc", g->heldout, ", ");
    jnum(f, "test_acc", g->test, ", ");
    jnum(f, "mia", g->mia, ", ");
    jnum(f, "mia_spread", g->mia_spread, ", ");
    jnum(f, "auc", g->auc, ", ");
    jnum(f, "tpr_1", g->tpr_1, ", ");
    jnum(f, "tpr_01", g->tpr_01, ", ");
    jnum(f, "lira_auc", g->lira_auc, ", ");
    jnum(f, "lira_tpr_1", g->lira_tpr_1, ", ");
    jnum(f, "lira_tpr_01", g->lira_tpr_01, ", ");
    jnum(f, "ulira_auc", g->ulira_auc, ", ");
    jnum(f, "ulira_tpr_1", g->ulira_tpr_1, ", ");
    jnum(f, "ulira_tpr_01", g->ulira_tpr_01, "");
    fprintf(f, "}%s\n", sep);
}

static void hex32(const uint8_t *d, char out[65])
{
    for (int k = 0; k < 32; k++)
        snprintf(out + 2 * k, 3, "%02x", d[k]);
}

static void print_row(const char *name, const struct figures *g)
{
    char b[12][16];
    printf("%-10s %8s %8s %9s %8s %8s %7.3f %8s %8s %9s %9s\n", name,
           percent(g->forget, b[0], 16), percent(g->retain, b[1], 16),
           percent(g->heldout, b[2], 16), percent(g->test, b[3], 16), percent(g->mia, b[4], 16),
           g->auc, percent(g->tpr_1, b[5], 16), percent(g->tpr_01, b[6], 16),
           isnan(g->lira_auc) ? "-" : (snprintf(b[7], 16, "%.3f", g->lira_auc), b[7]),
           isnan(g->ulira_auc) ? "-" : (snprintf(b[8], 16, "%.3f", g->ulira_auc), b[8]));
}

static int on_shadow(void *user, uint32_t done, uint32_t shadows)
{
    struct bar *b = user;
    char detail[32];
    snprintf(detail, sizeof detail, "%u/%u", done, shadows);
    bar_draw(b, "shadows", (double)done / shadows, detail);
    return 0;
}

/* Reads a whole index file (free() it). */
static int read_file(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(FNN_E_IO, strerror(errno), "--forget-indices %s", path);
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *g = realloc(buf, cap * 2);
        if (!g) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = g;
        cap *= 2;
    }
    int bad = !buf || ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return fail(buf ? FNN_E_IO : FNN_E_NOMEM, "", "--forget-indices %s", path);
    }
    *out = buf;
    *len = n;
    return EXIT_OK;
}

int cmd_audit(const struct command *cmd, int argc, char **argv)
{
    struct opt o[COUNT(audit_opts)];
    memcpy(o, audit_opts, sizeof o);
    size_t nkv;
    int p = parse_args(cmd, argc, argv, o, COUNT(o), 0, NULL, &nkv);
    if (p != PARSE_OK)
        return p == PARSE_HELP ? EXIT_OK : EXIT_USAGE;
    static const char *const required[] = {"model", "data", NULL};
    uint64_t seed = 0, shadows = 16, threads = 1, label = 0, count = 0;
    if (check_required(cmd, o, COUNT(o), required) ||
        opt_uint(cmd, &o[A_SEED], 0, UINT64_MAX, &seed) ||
        opt_uint(cmd, &o[A_SHADOWS], 0, 4096, &shadows) ||
        opt_uint(cmd, &o[A_THREADS], 1, 64, &threads) ||
        opt_uint(cmd, &o[A_CLASS], 0, INT32_MAX, &label) ||
        opt_uint(cmd, &o[A_RANDOM], 1, UINT32_MAX, &count))
        return EXIT_USAGE;
    const struct opt *request = NULL;
    for (int k = A_CLASS; k <= A_INDICES; k++) {
        if (!o[k].value)
            continue;
        if (request)
            return usage_error(cmd, "audit: --%s and --%s exclude each other", request->name,
                               o[k].name);
        request = &o[k];
    }
    if (!request)
        return usage_error(cmd, "audit: one of --forget-class, --forget-random or "
                                "--forget-indices is required");

    int rc = EXIT_FAIL, st;
    fnn_model *m = NULL, *ref = NULL;
    fnn_dataset *train = NULL, *test = NULL, *forget = NULL, *retain = NULL, *negative = NULL;
    fnn_forget_request *req = NULL;
    fnn_attack *lira = NULL, *ulira = NULL;
    fnn_forget_options *unlearn = NULL;
    uint32_t *cand = NULL, *fidx = NULL, *nidx = NULL;
    uint8_t *role = NULL, *all = NULL;
    char *text = NULL, err[512] = "";
    size_t text_len = 0;
    struct split sp = {0};
    struct bar bar = {.draw = isatty(STDERR_FILENO)};
    double t0 = now_seconds();
    if ((o[A_INDICES].value && read_file(o[A_INDICES].value, &text, &text_len)) ||
        load_model(o[A_MODEL].value, &m) ||
        (o[A_REFERENCE].value && load_model(o[A_REFERENCE].value, &ref)) ||
        load_split(o[A_DATA].value, FNN_SPLIT_TRAIN, &train) ||
        load_split(o[A_DATA].value, FNN_SPLIT_TEST, &test))
        goto done;
    sp.train = train;
    if (open_model_data(m, &sp) ||
        request_from_args(&sp, request->name, request->value, text, text_len, seed, &req))
        goto done;
    /* The sets: forget and retain in the pool; the non-members are held-out
     * samples (of the class, for a class request), or the test split. */
    size_t nf = fnn_forget_request_size(req);
    const fnn_dataset *others = sp.held ? sp.held : test;
    size_t no = fnn_dataset_size(others), nn = 0;
    int32_t *labels = malloc(no * sizeof *labels);
    fidx = malloc(nf * sizeof *fidx);
    nidx = malloc(no * sizeof *nidx);
    if (!labels || !fidx || !nidx) {
        free(labels);
        fail(FNN_E_NOMEM, "", "building the audit's sets");
        goto done;
    }
    fnn_dataset_labels((fnn_dataset *)others, labels, no);
    for (size_t i = 0; i < no; i++)
        if (!o[A_CLASS].value || labels[i] == (int32_t)label)
            nidx[nn++] = (uint32_t)i;
    free(labels);
    if ((st = fnn_forget_request_forget_set(req, &forget)) ||
        (st = fnn_forget_request_retain_set(req, &retain)) ||
        (st = fnn_dataset_subset((fnn_dataset *)others, nidx, nn, &negative))) {
        fail(st, "", "building the audit's sets");
        goto done;
    }
    /* The request in the deletion history. */
    uint8_t digest[32], d[32];
    char hex[65];
    fnn_forget_request_digest(req, digest);
    hex32(digest, hex);
    long match = -1;
    for (size_t i = fnn_model_history_count(m); i-- > 0 && match < 0;)
        if (fnn_model_history_digest(m, i, d) == FNN_OK && memcmp(d, digest, 32) == 0)
            match = (long)i;
    double method = NAN;
    if (match >= 0)
        fnn_model_history_get(m, (size_t)match, FNN_HISTORY_METHOD, &method);

    struct figures fm, fr;
    if (measure(m, o[A_MODEL].value, forget, retain, sp.held, negative, test, seed, &fm) ||
        (ref &&
         measure(ref, o[A_REFERENCE].value, forget, retain, sp.held, negative, test, seed, &fr)))
        goto done;
    double gap = NAN;
    if (ref) {
        double a[4] = {fm.forget, fm.retain, fm.test, fm.mia};
        double b[4] = {fr.forget, fr.retain, fr.test, fr.mia};
        fnn_avg_gap(a, b, 4, &gap, NULL, 0);
    }
    /* The shadow attacks: candidates are the forget set and the non-members,
     * in train positions; the universe is the whole train split. */
    int shadow_attacks = shadows > 0 && sp.held != NULL;
    if (shadow_attacks) {
        size_t nc = nf + nn;
        uint32_t *pos = malloc(nf * sizeof *pos);
        cand = malloc(nc * sizeof *cand);
        role = malloc(nc);
        all = malloc(nc);
        if (!pos || !cand || !role || !all) {
            free(pos);
            fail(FNN_E_NOMEM, "", "building the attack's candidates");
            goto done;
        }
        fnn_forget_request_indices(req, pos, nf);
        for (size_t i = 0; i < nf; i++) {
            cand[i] = sp.pool_idx[pos[i]];
            role[i] = 1;
        }
        for (size_t i = 0; i < nn; i++) {
            cand[nf + i] = sp.held_idx[nidx[i]];
            role[nf + i] = 0;
        }
        free(pos);
        memset(all, 1, nc);
        if ((st = fnn_attack_create(&lira, m, train, cand, nc, err, sizeof err))) {
            fail(st, err, "creating the attack");
            goto done;
        }
        fnn_attack_set(lira, FNN_ATTACK_SHADOWS, (double)shadows);
        fnn_attack_set(lira, FNN_ATTACK_THREADS, (double)threads);
        fnn_attack_set_u64(lira, FNN_ATTACK_SEED, seed);
        fnn_attack_set_progress(lira, on_shadow, &bar);
        st = fnn_attack_train(lira);
        bar_clear(&bar);
        if (st != FNN_OK ||
            (st = fnn_attack_evaluate(lira, m, role, nc, &fm.lira_auc, &fm.lira_tpr_1,
                                      &fm.lira_tpr_01)) ||
            (ref && (st = fnn_attack_evaluate(lira, ref, role, nc, &fr.lira_auc,
                                              &fr.lira_tpr_1, &fr.lira_tpr_01)))) {
            fail(st, fnn_attack_errmsg(lira), "LiRA");
            goto done;
        }
        if (!isnan(method)) {
            if ((st = fnn_forget_options_create(&unlearn)) ||
                (st = fnn_forget_options_set(unlearn, FNN_FORGET_METHOD, method)) ||
                (st = fnn_forget_options_set_u64(unlearn, FNN_FORGET_SEED, seed))) {
                fail(st, "", "the unlearning options of U-LiRA");
                goto done;
            }
            st = fnn_attack_unlearn(lira, all, nc, unlearn, &ulira, err, sizeof err);
            bar_clear(&bar);
            if (st != FNN_OK ||
                (st = fnn_attack_evaluate(ulira, m, role, nc, &fm.ulira_auc, &fm.ulira_tpr_1,
                                          &fm.ulira_tpr_01))) {
                fail(st, ulira ? fnn_attack_errmsg(ulira) : err, "U-LiRA");
                goto done;
            }
        }
    }

    /* The summary. */
    printf("model %s: request %s %s, %zu samples, sha256 %s\n", o[A_MODEL].value,
           request->name, request->value, nf, hex);
    if (match >= 0)
        printf("deletion history: matches record %ld (method %s)\n", match + 1,
               fnn_name(FNN_NAMES_METHOD, (int)method));
    else
        printf("deletion history: no record matches this request\n");
    printf("non-members: %zu samples of the %s%s\n", nn,
           sp.held ? "held-out samples" : "test split", o[A_CLASS].value ? ", of the class" : "");
    printf("%-10s %8s %8s %9s %8s %8s %7s %8s %8s %9s %9s\n", "model", "forget", "retain",
           sp.held ? "held-out" : "-", "test", "MIA", "AUC", "TPR@1%", "TPR@.1%", "LiRA AUC",
           "U-LiRA");
    print_row("audited", &fm);
    if (ref)
        print_row("reference", &fr);
    if (ref)
        printf("Avg. Gap to the reference: %.2f points\n", gap);
    if (!shadow_attacks)
        printf("shadow attacks: %s\n", shadows ? "left out: the model has no held-out samples"
                                               : "off (--shadows 0)");
    else
        printf("shadow attacks: %" PRIu64 " shadows on halves of %zu samples%s\n", shadows,
               fnn_dataset_size(train),
               ulira ? "; U-LiRA's shadows unlearned with the recorded method" : "");
    printf("%.1f s\n", now_seconds() - t0);
    fflush(stdout);

    if (o[A_REPORT].value) {
        const char *path = o[A_REPORT].value;
        FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
        if (!f) {
            fprintf(stderr, "fnn: audit: cannot write %s: %s\n", path, strerror(errno));
            goto done;
        }
        char *spec = model_spec(m);
        fprintf(f, "{\n  ");
        jstr(f, "library", fnn_version_string(), ",\n  ");
        jstr(f, "model", o[A_MODEL].value, ",\n  ");
        jstr(f, "spec", spec ? spec : "", ",\n  ");
        jstr(f, "data", o[A_DATA].value, ",\n  ");
        fprintf(f, "\"request\": {");
        jstr(f, "kind", request->name + 7, ", ");
        jstr(f, "value", request->value, ", ");
        fprintf(f, "\"samples\": %zu, ", nf);
        jstr(f, "sha256", hex, ", ");
        if (match >= 0) {
            fprintf(f, "\"history_record\": %ld, ", match + 1);
            jstr(f, "method", fnn_name(FNN_NAMES_METHOD, (int)method), "");
        } else {
            fprintf(f, "\"history_record\": null, \"method\": null");
        }
        fprintf(f, "},\n  \"nonmembers\": {");
        jstr(f, "source", sp.held ? "held-out" : "test", ", ");
        fprintf(f, "\"samples\": %zu},\n  \"seed\": %" PRIu64 ",\n  \"shadows\": %" PRIu64
                   ",\n",
                nn, seed, shadow_attacks ? shadows : 0);
        json_figures(f, "audited", &fm, ref ? "," : ",");
        if (ref) {
            fprintf(f, "  ");
            jstr(f, "reference_model", o[A_REFERENCE].value, ",\n");
            json_figures(f, "reference", &fr, ",");
        }
        fprintf(f, "  ");
        jnum(f, "avg_gap", gap, ",\n");
        fprintf(f, "  \"history\": [");
        for (size_t i = 0; i < fnn_model_history_count(m); i++) {
            fprintf(f, "%s\n    {", i ? "," : "");
            for (int k = 0; k < (int)fnn_names_count(FNN_NAMES_HISTORY_KEY); k++) {
                double v = NAN;
                fnn_model_history_get(m, i, k, &v);
                char key[40];
                snprintf(key, sizeof key, "%s", fnn_name(FNN_NAMES_HISTORY_KEY, k));
                for (char *c = key; *c; c++)
                    if (*c == '-')
                        *c = '_';
                jnum(f, key, v, ", ");
            }
            fnn_model_history_digest(m, i, d);
            hex32(d, hex);
            jstr(f, "sha256", hex, ", ");
            const char *ver = fnn_model_history_version(m, i);
            jstr(f, "library", ver ? ver : "", "}");
        }
        fprintf(f, "%s]\n}\n", fnn_model_history_count(m) ? "\n  " : "");
        free(spec);
        if (f != stdout) {
            if (ferror(f) | fclose(f)) {
                fprintf(stderr, "fnn: audit: writing %s failed\n", path);
                goto done;
            }
        } else if (fflush(f) != 0) {
            goto done;
        }
    }
    rc = EXIT_OK;
done:
    bar_clear(&bar);
    free(text);
    free(cand);
    free(role);
    free(all);
    free(fidx);
    free(nidx);
    fnn_forget_options_free(unlearn);
    fnn_attack_free(ulira);
    fnn_attack_free(lira);
    fnn_forget_request_free(req);
    fnn_dataset_free(forget);
    fnn_dataset_free(retain);
    fnn_dataset_free(negative);
    split_free(&sp);
    fnn_dataset_free(train);
    fnn_dataset_free(test);
    fnn_model_free(ref);
    fnn_model_free(m);
    return rc;
}
