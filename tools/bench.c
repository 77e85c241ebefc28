/* fnn bench: unlearning against retraining from scratch, measured in one run.
 *
 * For each data set, architecture and seed the train split is split into a
 * pool and held-out samples of the same distribution; the original model
 * trains on the pool with its architecture's recipe. For each request
 * (inside the pool) every method unlearns a copy of the original through
 * fnn_model_forget(); the `retrain` method, which trains from scratch on the
 * retain set with the same recipe, is the reference for the speed-up and the
 * Avg. Gap. Every figure comes from the library: accuracies on the forget,
 * retain, held-out and test sets, the loss attack and its AUC, and, with
 * --shadows, LiRA and U-LiRA. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

enum { MAX_REQUESTS = 16, MAX_METHODS = 16, MAX_VARIANTS = 32, MAX_DATA = 8, MAX_ARCH = 8,
       MAX_CURVE = 64 };

/* One request as given: class:C, random:N or random:P%. */
struct request_arg {
    const char *text;
    int is_class;
    uint64_t value;  /* class, or sample count */
    double percent;  /* > 0 for random:P% */
};

/* The --floor row: the retain set trained from scratch with the original's
 * recipe, from the seed plus FLOOR_SEED_OFFSET (initialisation, shuffling
 * and dropout all change). Retraining is exact unlearning, so its Avg. Gap
 * to the retrain row is the spread of the measurement itself: what the
 * attack's sampling and training's randomness alone put between two models
 * that never saw the forget set. */
#define FLOOR_NAME "retrain2"
#define FLOOR_SEED_OFFSET (UINT64_C(1) << 32)

/* A --variant: a named row of one method with its own unlearning options. */
struct variant {
    char name[32];
    int method;
    const char *options; /* "KEY=VALUE,..." after the name, or "" */
};

struct config {
    const char *data[MAX_DATA];
    size_t n_data;
    const char *arch[MAX_ARCH];
    size_t n_arch;
    struct request_arg req[MAX_REQUESTS];
    size_t n_req;
    int method[MAX_METHODS];
    size_t n_method;
    struct variant var[MAX_VARIANTS];
    size_t n_var;
    uint64_t epochs;     /* 0: the architecture's default */
    uint64_t seed, seeds;
    uint64_t holdout, pool;
    uint64_t shadows, threads;
    int floor;           /* --floor: a second retraining from another seed */
    const char *csv, *json, *plot;
    const struct command *cmd;
    const struct keyval *kv; /* training options for the original's recipe */
    size_t nkv;
};

/* The figures of one (data set, architecture, request, seed, method). */
struct row {
    const char *data, *arch, *request, *method;
    uint64_t seed;
    int method_id;
    int slot;                       /* the method's or variant's place in the run */
    int variant;                    /* 1 for a --variant row */
    int floor;                      /* 1 for the --floor row */
    double seconds, speedup, flops, budget_flops, retrain_flops;
    double forget, retain, heldout, test;
    double mia, mia_spread, auc, tpr_1, tpr_01;
    double lira_auc, lira_tpr_1, ulira_auc, ulira_tpr_1;
    double gap, reached, final_t;
    size_t n_forget, n_retain, n_negative;
    size_t n_curve;                 /* fnn: forget accuracy after each clock step */
    double curve_t[MAX_CURVE], curve_acc[MAX_CURVE];
};

struct rows {
    struct row *r;
    size_t n, cap;
};

static struct row *add_row(struct rows *rs)
{
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? 2 * rs->cap : 64;
        struct row *r = realloc(rs->r, cap * sizeof *r);
        if (!r)
            return NULL;
        rs->r = r;
        rs->cap = cap;
    }
    struct row *r = &rs->r[rs->n++];
    memset(r, 0, sizeof *r);
    return r;
}

/* ---- options ----------------------------------------------------------------- */

static struct opt bench_opts[] = {
    OPT("data", "DIR...", "an MNIST-style data directory; repeatable "
                          "[data/fashion-mnist]"),
    OPT("arch", "ARCH...", "a preset or specification; repeatable [mlp]"),
    OPT("request", "SPEC...", "class:C, random:N or random:P% of the pool; repeatable "
                              "[class:3 and random:20%]"),
    OPT("methods", "LIST", "comma-separated method names; retrain, the reference, always "
                           "runs [every method]"),
    OPT("variant", "NAME:K=V,...", "one more row, NAME: the method method=M [fnn] with these "
                                   "unlearning options of fnn forget (e.g. "
                                   "t4:t-start=4,budget=0.02); repeatable"),
    OPT("seed", "S", "first seed of the split, the original and every method [0]"),
    OPT("seeds", "N", "seeds S, S+1, ...: every table shows mean and standard deviation "
                      "[1]"),
    OPT("holdout", "N", "held-out samples split off the train split: the non-members of "
                        "the attacks and the fnn method's target [10000]"),
    OPT("pool", "N", "at most N samples of the rest for training [all]"),
    OPT("shadows", "K", "LiRA and U-LiRA with K shadow models (0: off) [0]"),
    OPT("threads", "T", "shadows trained at once (OpenBLAS then runs one thread) [1]"),
    OPT("csv", "FILE", "write every row as CSV ('-': standard output)"),
    OPT("json", "FILE", "write every row as JSON ('-': standard output)"),
    OPT("plot", "FILE.png", "plot speed-up against Avg. Gap, and the fnn method's "
                            "forget-set accuracy against t (gnuplot)"),
    OPT("quick", NULL, "a run of under a minute: a pool of 5000, 1000 held out, 3 epochs"),
    OPT("full", NULL, "MNIST and Fashion-MNIST, mlp and paper-cnn, 3 seeds, U-LiRA with 16 "
                      "shadows"),
    OPT("floor", NULL, "one more row, " FLOOR_NAME ": retraining from scratch again, from "
                       "another seed; its Avg. Gap is how far two exact unlearnings end apart"),
};

enum {
    B_DATA, B_ARCH, B_REQUEST, B_METHODS, B_VARIANT, B_SEED, B_SEEDS, B_HOLDOUT, B_POOL,
    B_SHADOWS, B_THREADS, B_CSV, B_JSON, B_PLOT, B_QUICK, B_FULL, B_FLOOR
};

void bench_help(FILE *f)
{
    fputs("Usage: fnn bench [OPTIONS]\n"
          "\n"
          "Measures every unlearning method against retraining from scratch, in one run:\n"
          "the train split is split into a pool and held-out samples (seeded), the\n"
          "original model trains on the pool with the architecture's recipe, and for each\n"
          "request inside the pool every method unlearns a copy of it. For each method\n"
          "the table shows the seconds of its own work and the speed-up over the retrain\n"
          "method (same run, same recipe), accuracy on the forget, retain, held-out and\n"
          "test sets, the loss-based membership attack (MIA: members are the forget set,\n"
          "non-members the held-out samples, of its class for a class request; 0.5 =\n"
          "cannot tell), its AUC, and the Avg. Gap to retraining: the mean of |method -\n"
          "retrain| over forget, retain and test accuracy and MIA, in points.\n"
          "\n",
          f);
    for (size_t k = 0; k < COUNT(bench_opts); k++)
        print_option_help(f, bench_opts[k].name, bench_opts[k].arg, bench_opts[k].help, NULL);
    fputs("\nThe training options of fnn train (--epochs, --lr, ...) change the original's\n"
          "recipe, which retraining repeats [the preset's, 10 epochs; paper-cnn 5].\n"
          "With no options: mlp on Fashion-MNIST, both requests, every method.\n",
          f);
}

/* Parses class:C, random:N or random:P%. */
static int parse_request(const struct command *cmd, const char *s, struct request_arg *r)
{
    char *end = NULL;
    memset(r, 0, sizeof *r);
    r->text = s;
    if (strncmp(s, "class:", 6) == 0 && s[6] >= '0' && s[6] <= '9') {
        errno = 0;
        unsigned long long v = strtoull(s + 6, &end, 10);
        if (!errno && *end == '\0' && v < 65536) {
            r->is_class = 1;
            r->value = v;
            return EXIT_OK;
        }
    } else if (strncmp(s, "random:", 7) == 0 && s[7] >= '0' && s[7] <= '9') {
        errno = 0;
        double v = strtod(s + 7, &end);
        if (!errno && end[0] == '%' && end[1] == '\0' && v > 0 && v < 100) {
            r->percent = v;
            return EXIT_OK;
        }
        if (!errno && *end == '\0' && v >= 1 && v == floor(v) && v < 4294967296.0) {
            r->value = (uint64_t)v;
            return EXIT_OK;
        }
    }
    return usage_error(cmd, "bench: --request: expected class:C, random:N or random:P%%, got "
                            "'%s'",
                       s);
}

/* Reads the comma-separated method names of list into c. */
static int parse_methods(const struct command *cmd, const char *list, struct config *c)
{
    c->n_method = 0;
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char name[32];
        int m;
        if (len == 0 || len >= sizeof name)
            return usage_error(cmd, "bench: --methods: bad list '%s'", list);
        memcpy(name, p, len);
        name[len] = '\0';
        if (fnn_name_lookup(FNN_NAMES_METHOD, name, &m) != FNN_OK)
            return usage_error(cmd, "bench: --methods: '%s' is not a method (fnn forget --help "
                                    "lists them)",
                               name);
        for (size_t k = 0; k < c->n_method; k++)
            if (c->method[k] == m)
                return usage_error(cmd, "bench: --methods: '%s' given twice", name);
        if (c->n_method == MAX_METHODS)
            return usage_error(cmd, "bench: --methods: too many");
        c->method[c->n_method++] = m;
        p += len + (e != NULL);
    }
    return EXIT_OK;
}

/* ---- one run ------------------------------------------------------------------ */

/* Progress shown while the bench runs. */
struct progress {
    struct bar bar;
    char label[96];
};

static int on_train(void *user, uint32_t epoch, uint32_t epochs, size_t batch, size_t batches,
                    float loss)
{
    struct progress *p = user;
    char detail[48];
    snprintf(detail, sizeof detail, "epoch %u/%u  loss %.4f", epoch + 1, epochs, (double)loss);
    bar_draw(&p->bar, p->label, ((double)epoch + (double)batch / (double)batches) / epochs,
             detail);
    return 0;
}

static int on_forget(void *user, int phase_kind, uint64_t step, double done, double total,
                     const fnn_forget_report *so_far)
{
    struct progress *p = user;
    (void)so_far;
    char detail[64];
    const char *phase = fnn_name(FNN_NAMES_PHASE_KIND, phase_kind);
    snprintf(detail, sizeof detail, "%s, step %" PRIu64, phase ? phase : "?", step);
    bar_draw(&p->bar, p->label, total > 0 ? done / total : 0, detail);
    return 0;
}

static int on_shadow(void *user, uint32_t done, uint32_t shadows)
{
    struct progress *p = user;
    char detail[32];
    snprintf(detail, sizeof detail, "%u/%u", done, shadows);
    bar_draw(&p->bar, p->label, (double)done / shadows, detail);
    return 0;
}

/* A request's sets: forget and retain (views of the pool), the attacks'
 * non-members (held-out samples, of the class for a class request). */
struct req_sets {
    fnn_forget_request *req;
    fnn_dataset *forget, *retain, *negative;
    uint32_t *forget_train; /* forget samples' positions in train */
    uint32_t *negative_train;
    size_t n_forget, n_negative;
};

static void req_sets_free(struct req_sets *q)
{
    fnn_forget_request_free(q->req);
    fnn_dataset_free(q->forget);
    fnn_dataset_free(q->retain);
    fnn_dataset_free(q->negative);
    free(q->forget_train);
    free(q->negative_train);
    memset(q, 0, sizeof *q);
}

static int make_request(const struct split *s, const struct request_arg *ra, uint64_t seed,
                        struct req_sets *q)
{
    char err[256] = "";
    int st;
    if (ra->is_class)
        st = fnn_forget_request_from_class(&q->req, s->pool, (int32_t)ra->value, err,
                                           sizeof err);
    else {
        size_t count = ra->percent > 0
                           ? (size_t)floor(ra->percent / 100.0 * (double)s->n_pool + 0.5)
                           : (size_t)ra->value;
        st = fnn_forget_request_random(&q->req, s->pool, count ? count : 1, seed, err,
                                       sizeof err);
    }
    if (st != FNN_OK)
        return fail(st, err, "--request %s", ra->text);
    q->n_forget = fnn_forget_request_size(q->req);
    uint32_t *pos = malloc(q->n_forget * sizeof *pos);
    q->forget_train = malloc(q->n_forget * sizeof *q->forget_train);
    q->negative_train = malloc(s->n_held * sizeof *q->negative_train);
    uint32_t *neg = malloc(s->n_held * sizeof *neg);
    st = pos && q->forget_train && q->negative_train && neg ? FNN_OK : FNN_E_NOMEM;
    if (st == FNN_OK && (st = fnn_forget_request_indices(q->req, pos, q->n_forget)) == FNN_OK) {
        for (size_t i = 0; i < q->n_forget; i++)
            q->forget_train[i] = s->pool_idx[pos[i]];
        for (size_t i = 0; i < s->n_held; i++)
            if (!ra->is_class || s->held_labels[i] == (int32_t)ra->value) {
                neg[q->n_negative] = (uint32_t)i;
                q->negative_train[q->n_negative++] = s->held_idx[i];
            }
        if (q->n_negative == 0)
            st = FNN_E_EMPTY;
    }
    if (st == FNN_OK && (st = fnn_forget_request_forget_set(q->req, &q->forget)) == FNN_OK &&
        (st = fnn_forget_request_retain_set(q->req, &q->retain)) == FNN_OK)
        st = fnn_dataset_subset(s->held, neg, q->n_negative, &q->negative);
    free(pos);
    free(neg);
    if (st != FNN_OK)
        return fail(st, "", "--request %s: building its sets", ra->text);
    return EXIT_OK;
}

static uint64_t default_epochs(const char *arch)
{
    return strcmp(arch, "paper-cnn") == 0 ? 5 : 10;
}

/* Measures model m on the request's sets into r (outside any timing). */
static int measure(const fnn_model *m, const struct split *s, const struct req_sets *q,
                   uint64_t seed, struct row *r)
{
    double fig[FNN_MEMBERSHIP_TPR_01 + 1];
    int st;
    if ((st = fnn_model_evaluate(m, q->retain, &r->retain, NULL)) ||
        (st = fnn_model_evaluate(m, s->held, &r->heldout, NULL)) ||
        (st = fnn_model_evaluate(m, s->test, &r->test, NULL)) ||
        (st = fnn_model_membership(m, q->forget, q->negative, seed, fig, COUNT(fig))))
        return fail(st, fnn_model_errmsg(m), "measuring %s", r->method);
    r->forget = fig[FNN_MEMBERSHIP_MEMBER_ACC];
    r->mia = fig[FNN_MEMBERSHIP_LOSS_MIA];
    r->mia_spread = fig[FNN_MEMBERSHIP_LOSS_MIA_SPREAD];
    r->auc = fig[FNN_MEMBERSHIP_AUC];
    r->tpr_1 = fig[FNN_MEMBERSHIP_TPR_1];
    r->tpr_01 = fig[FNN_MEMBERSHIP_TPR_01];
    return EXIT_OK;
}

/* The candidates of the attacks: every request's forget set and
 * non-members, in train positions, and each request's role flags. */
struct candidates {
    uint32_t *idx;
    size_t n;
    uint8_t *role[MAX_REQUESTS];   /* 1 forget, 0 non-member, 2 another request's */
    uint8_t *forget[MAX_REQUESTS]; /* U-LiRA: what the shadows unlearn */
};

static void candidates_free(struct candidates *c, size_t n_req)
{
    free(c->idx);
    for (size_t k = 0; k < n_req; k++) {
        free(c->role[k]);
        free(c->forget[k]);
    }
    memset(c, 0, sizeof *c);
}

static int make_candidates(const struct req_sets *q, size_t n_req, size_t n_train,
                           struct candidates *c)
{
    int32_t *slot = malloc(n_train * sizeof *slot);
    size_t cap = 0;
    for (size_t k = 0; k < n_req; k++)
        cap += q[k].n_forget + q[k].n_negative;
    c->idx = malloc(cap * sizeof *c->idx);
    if (!slot || !c->idx) {
        free(slot);
        return fail(FNN_E_NOMEM, "", "building the attack's candidates");
    }
    for (size_t i = 0; i < n_train; i++)
        slot[i] = -1;
    for (size_t k = 0; k < n_req; k++) {
        const uint32_t *lists[2] = {q[k].forget_train, q[k].negative_train};
        size_t lens[2] = {q[k].n_forget, q[k].n_negative};
        for (int l = 0; l < 2; l++)
            for (size_t i = 0; i < lens[l]; i++)
                if (slot[lists[l][i]] < 0) {
                    slot[lists[l][i]] = (int32_t)c->n;
                    c->idx[c->n++] = lists[l][i];
                }
    }
    int ok = 1;
    for (size_t k = 0; k < n_req && ok; k++) {
        c->role[k] = malloc(c->n);
        c->forget[k] = calloc(c->n, 1);
        if (!(ok = c->role[k] && c->forget[k]))
            break;
        memset(c->role[k], 2, c->n);
        for (size_t i = 0; i < q[k].n_forget; i++) {
            c->role[k][slot[q[k].forget_train[i]]] = 1;
            c->forget[k][slot[q[k].forget_train[i]]] = 1;
        }
        for (size_t i = 0; i < q[k].n_negative; i++) {
            c->role[k][slot[q[k].negative_train[i]]] = 0;
            c->forget[k][slot[q[k].negative_train[i]]] = 1;
        }
    }
    free(slot);
    if (!ok)
        return fail(FNN_E_NOMEM, "", "building the attack's candidates");
    return EXIT_OK;
}

/* Applies "KEY=VALUE,..." to o; on failure writes the message into err. */
static int apply_variant(fnn_forget_options *o, const char *spec, char *err, size_t size)
{
    const char *p = spec;
    while (*p) {
        const char *e = strchr(p, ','), *eq = strchr(p, '=');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char key[64], value[64];
        if (!eq || (size_t)(eq - p) >= len || (size_t)(eq - p) >= sizeof key ||
            len - (size_t)(eq - p) - 1 >= sizeof value) {
            snprintf(err, size, "expected KEY=VALUE, got '%.*s'", (int)len, p);
            return FNN_E_INVALID;
        }
        memcpy(key, p, (size_t)(eq - p));
        key[eq - p] = '\0';
        memcpy(value, eq + 1, len - (size_t)(eq - p) - 1);
        value[len - (size_t)(eq - p) - 1] = '\0';
        int st = fnn_forget_options_parse(o, key, value);
        if (st != FNN_OK) {
            snprintf(err, size, "%s", fnn_forget_options_errmsg(o));
            return st;
        }
        p += len + (e != NULL);
    }
    return FNN_OK;
}

/* The forget options of method m with the bench's seed, and a variant's
 * options (may be NULL) on top. */
static fnn_forget_options *method_options(int m, uint64_t seed, const struct variant *v)
{
    fnn_forget_options *o = NULL;
    char err[256];
    if (fnn_forget_options_create(&o) != FNN_OK)
        return NULL;
    if (fnn_forget_options_set(o, FNN_FORGET_METHOD, m) != FNN_OK ||
        fnn_forget_options_set_u64(o, FNN_FORGET_SEED, seed) != FNN_OK ||
        (v && apply_variant(o, v->options, err, sizeof err) != FNN_OK)) {
        fnn_forget_options_free(o);
        return NULL;
    }
    return o;
}

/* Parses NAME:KEY=VALUE,... into v, checking every option now. */
static int parse_variant(const struct command *cmd, const char *s, struct variant *v)
{
    const char *colon = strchr(s, ':');
    size_t len = colon ? (size_t)(colon - s) : strlen(s);
    int m;
    memset(v, 0, sizeof v[0]);
    if (len == 0 || len >= sizeof v->name)
        return usage_error(cmd, "bench: --variant: expected NAME:KEY=VALUE,..., got '%s'", s);
    memcpy(v->name, s, len);
    if (fnn_name_lookup(FNN_NAMES_METHOD, v->name, &m) == FNN_OK)
        return usage_error(cmd, "bench: --variant: '%s' is a method's name; name the variant "
                                "otherwise",
                           v->name);
    v->options = colon ? colon + 1 : "";
    fnn_forget_options *o = NULL;
    char err[256] = "";
    if (fnn_forget_options_create(&o) != FNN_OK)
        return fail(FNN_E_NOMEM, "", "checking --variant");
    int st = apply_variant(o, v->options, err, sizeof err);
    double method = FNN_METHOD_FNN;
    if (st == FNN_OK)
        fnn_forget_options_get(o, FNN_FORGET_METHOD, &method);
    fnn_forget_options_free(o);
    if (st != FNN_OK)
        return usage_error(cmd, "bench: --variant %s: %s", v->name, err);
    v->method = (int)method;
    return EXIT_OK;
}

/* Appends the row of one method (or variant, or the floor) on one request,
 * its figures not measured yet. */
static struct row *request_row(struct rows *rows, const char *data, const char *arch,
                               const char *request, uint64_t seed, const struct req_sets *q,
                               const char *method, int method_id, int slot)
{
    struct row *r = add_row(rows);
    if (!r)
        return NULL;
    r->data = data;
    r->arch = arch;
    r->request = request;
    r->method = method;
    r->method_id = method_id;
    r->slot = slot;
    r->seed = seed;
    r->n_forget = q->n_forget;
    r->n_retain = fnn_dataset_size(q->retain);
    r->n_negative = q->n_negative;
    r->lira_auc = r->lira_tpr_1 = r->ulira_auc = r->ulira_tpr_1 = NAN;
    r->gap = r->speedup = NAN;
    return r;
}

/* Runs every method of c on one request of one (data set, architecture,
 * seed); appends a row per method. */
static int run_request(const struct config *c, const char *data, const char *arch,
                       uint64_t seed, const fnn_model *orig, const struct split *s,
                       const struct req_sets *q, const char *request, fnn_attack *lira,
                       const struct candidates *cand, size_t k_req, struct progress *prog,
                       struct rows *rows)
{
    for (size_t k = 0; k < c->n_method + c->n_var; k++) {
        const struct variant *v = k < c->n_method ? NULL : &c->var[k - c->n_method];
        int m = v ? v->method : c->method[k];
        const char *name = v ? v->name : fnn_name(FNN_NAMES_METHOD, m);
        struct row *r = request_row(rows, data, arch, request, seed, q, name, m, (int)k);
        if (!r)
            return fail(FNN_E_NOMEM, "", "recording a row");
        r->variant = v != NULL;
        fnn_model *u = NULL;
        fnn_forget_options *o = method_options(m, seed, v);
        fnn_forget_report *rep = NULL;
        int st = o ? fnn_forget_report_create(&rep) : FNN_E_NOMEM;
        if (st == FNN_OK)
            st = fnn_model_clone(orig, &u);
        if (st != FNN_OK) {
            fnn_forget_options_free(o);
            return fail(st, "", "preparing %s", name);
        }
        snprintf(prog->label, sizeof prog->label, "%s %s %s seed %" PRIu64 ": %s", data, arch,
                 request, seed, name);
        fnn_forget_options_set_progress(o, on_forget, prog);
        st = fnn_model_forget(u, q->req, s->held, o, rep);
        bar_clear(&prog->bar);
        int rc = EXIT_OK;
        if (st != FNN_OK) {
            rc = fail(st, fnn_model_errmsg(u), "%s: %s on %s", data, name, request);
            goto next;
        }
        r->seconds = report_value(rep, FNN_REPORT_METHOD_SECONDS);
        r->flops = report_value(rep, FNN_REPORT_METHOD_FLOPS);
        r->budget_flops = report_value(rep, FNN_REPORT_BUDGET_FLOPS);
        r->retrain_flops = report_value(rep, FNN_REPORT_RETRAIN_FLOPS);
        r->reached = report_value(rep, FNN_REPORT_REACHED_TARGET);
        r->final_t = report_value(rep, FNN_REPORT_FINAL_T);
        for (size_t i = 0; i < fnn_forget_report_num_phases(rep) && r->n_curve < MAX_CURVE;
             i++)
            if (phase_value(rep, i, FNN_PHASE_KIND) == FNN_PHASE_DECAY) {
                r->curve_t[r->n_curve] = phase_value(rep, i, FNN_PHASE_T);
                r->curve_acc[r->n_curve++] = phase_value(rep, i, FNN_PHASE_FORGET_ACC);
            }
        if ((rc = measure(u, s, q, seed, r)) != EXIT_OK)
            goto next;
        if (lira) {
            snprintf(prog->label, sizeof prog->label, "%s %s %s seed %" PRIu64 ": U-LiRA of %s",
                     data, arch, request, seed, name);
            if ((st = fnn_attack_evaluate(lira, u, cand->role[k_req], cand->n, &r->lira_auc,
                                          &r->lira_tpr_1, NULL)) != FNN_OK) {
                rc = fail(st, fnn_attack_errmsg(lira), "LiRA of %s", name);
                goto next;
            }
            fnn_attack *ul = NULL;
            char err[256] = "";
            fnn_forget_options_set_progress(o, NULL, NULL);
            st = fnn_attack_unlearn(lira, cand->forget[k_req], cand->n, o, &ul, err,
                                    sizeof err);
            if (st == FNN_OK)
                st = fnn_attack_evaluate(ul, u, cand->role[k_req], cand->n, &r->ulira_auc,
                                         &r->ulira_tpr_1, NULL);
            bar_clear(&prog->bar);
            if (st != FNN_OK)
                rc = fail(st, ul ? fnn_attack_errmsg(ul) : err, "U-LiRA of %s", name);
            fnn_attack_free(ul);
        }
    next:
        fnn_model_free(u);
        fnn_forget_report_free(rep);
        fnn_forget_options_free(o);
        if (rc != EXIT_OK)
            return rc;
    }
    return EXIT_OK;
}

/* Appends the --floor row of one request: a model created from the seed
 * plus FLOOR_SEED_OFFSET and trained on the retain set with the original's
 * recipe (whose seed is set for the call and then put back). */
static int run_floor(const struct config *c, const char *data, const char *arch, uint64_t seed,
                     fnn_train_options *recipe, const struct split *s,
                     const struct req_sets *q, const char *request, fnn_attack *lira,
                     const struct candidates *cand, size_t k_req, struct progress *prog,
                     struct rows *rows)
{
    struct row *r = request_row(rows, data, arch, request, seed, q, FLOOR_NAME,
                                FNN_METHOD_RETRAIN, (int)(c->n_method + c->n_var));
    if (!r)
        return fail(FNN_E_NOMEM, "", "recording a row");
    r->floor = 1;
    r->budget_flops = r->reached = r->final_t = NAN;
    uint64_t other = seed + FLOOR_SEED_OFFSET;
    fnn_model *m = NULL;
    char err[256] = "";
    int st = fnn_model_create(&m, arch, other, err, sizeof err);
    if (st != FNN_OK)
        return fail(st, err, "--floor: --arch %s", arch);
    int rc = EXIT_OK;
    if ((st = fnn_train_options_set_u64(recipe, FNN_TRAIN_SEED, other)) != FNN_OK) {
        rc = fail(st, fnn_train_options_errmsg(recipe), "--floor: the recipe's seed");
        goto done;
    }
    snprintf(prog->label, sizeof prog->label, "%s %s %s seed %" PRIu64 ": " FLOOR_NAME, data,
             arch, request, seed);
    double t0 = now_seconds();
    st = fnn_model_train(m, q->retain, recipe);
    r->seconds = now_seconds() - t0;
    bar_clear(&prog->bar);
    int put_back = fnn_train_options_set_u64(recipe, FNN_TRAIN_SEED, seed);
    if (st != FNN_OK) {
        rc = fail(st, fnn_model_errmsg(m), "%s: " FLOOR_NAME " on %s", data, request);
        goto done;
    }
    if (put_back != FNN_OK) {
        rc = fail(put_back, fnn_train_options_errmsg(recipe), "--floor: the recipe's seed");
        goto done;
    }
    double epochs = 0;
    fnn_train_options_get(recipe, FNN_TRAIN_EPOCHS, &epochs);
    r->flops = r->retrain_flops =
        epochs * (double)r->n_retain * fnn_model_flops_per_sample(m, 1);
    if ((rc = measure(m, s, q, seed, r)) != EXIT_OK)
        goto done;
    if (lira && (st = fnn_attack_evaluate(lira, m, cand->role[k_req], cand->n, &r->lira_auc,
                                          &r->lira_tpr_1, NULL)) != FNN_OK)
        rc = fail(st, fnn_attack_errmsg(lira), "LiRA of " FLOOR_NAME);
done:
    fnn_model_free(m);
    return rc;
}

/* Speed-up and Avg. Gap against the retrain row of the same group. */
static void relate(struct row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct row *ref = NULL;
        for (size_t j = 0; j < n && !ref; j++)
            if (rows[j].method_id == FNN_METHOD_RETRAIN && !rows[j].variant && !rows[j].floor &&
                rows[j].seed == rows[i].seed &&
                rows[j].data == rows[i].data && rows[j].arch == rows[i].arch &&
                rows[j].request == rows[i].request)
                ref = &rows[j];
        if (!ref)
            continue;
        /* Doing nothing takes no time: a speed-up would say nothing. */
        rows[i].speedup = rows[i].method_id == FNN_METHOD_NONE || !(rows[i].seconds > 0)
                              ? NAN
                              : ref->seconds / rows[i].seconds;
        double a[4] = {rows[i].forget, rows[i].retain, rows[i].test, rows[i].mia};
        double b[4] = {ref->forget, ref->retain, ref->test, ref->mia};
        if (fnn_avg_gap(a, b, 4, &rows[i].gap, NULL, 0) != FNN_OK)
            rows[i].gap = NAN;
    }
}

/* Runs one data set: loads it once, then every architecture and seed. */
static int run_data(const struct config *c, const char *data, struct progress *prog,
                    struct rows *rows)
{
    struct split s = {0};
    int rc = EXIT_FAIL;
    if (load_split(data, FNN_SPLIT_TRAIN, &s.train) || load_split(data, FNN_SPLIT_TEST, &s.test))
        goto done;
    for (size_t a = 0; a < c->n_arch; a++) {
        const char *arch = c->arch[a];
        uint64_t epochs = c->epochs ? c->epochs : default_epochs(arch);
        for (uint64_t si = 0; si < c->seeds; si++) {
            uint64_t seed = c->seed + si;
            struct req_sets q[MAX_REQUESTS];
            struct candidates cand = {0};
            fnn_model *orig = NULL;
            fnn_train_options *o = NULL;
            fnn_attack *lira = NULL;
            char err[256] = "";
            int st;
            memset(q, 0, sizeof q);
            rc = EXIT_FAIL;
            if (make_split(&s, c->holdout, c->pool, seed))
                goto seed_done;
            if ((st = fnn_model_create(&orig, arch, seed, err, sizeof err)) != FNN_OK) {
                fail(st, err, "--arch %s", arch);
                goto seed_done;
            }
            int preset;
            if ((st = fnn_train_options_create(&o)) ||
                (fnn_name_lookup(FNN_NAMES_PRESET, arch, &preset) == FNN_OK &&
                 (st = fnn_train_options_preset(o, arch))) ||
                (st = fnn_train_options_set(o, FNN_TRAIN_EPOCHS, (double)epochs)) ||
                (st = fnn_train_options_set_u64(o, FNN_TRAIN_SEED, seed))) {
                fail(st, o ? fnn_train_options_errmsg(o) : "", "the recipe of %s", arch);
                goto seed_done;
            }
            if (apply_keys(c->cmd, c->kv, c->nkv, o, NULL) != EXIT_OK)
                goto seed_done;
            snprintf(prog->label, sizeof prog->label, "%s %s seed %" PRIu64 ": original", data,
                     arch, seed);
            fnn_train_options_set_progress(o, on_train, prog);
            double t0 = now_seconds();
            st = fnn_model_train(orig, s.pool, o);
            bar_clear(&prog->bar);
            if (st != FNN_OK) {
                fail(st, fnn_model_errmsg(orig), "training the original %s on %s", arch, data);
                goto seed_done;
            }
            fprintf(stderr, "fnn bench: %s, %s, seed %" PRIu64 ": original trained on %zu "
                            "samples in %.1f s\n",
                    data, arch, seed, s.n_pool, now_seconds() - t0);
            for (size_t k = 0; k < c->n_req; k++)
                if (make_request(&s, &c->req[k], seed, &q[k]))
                    goto seed_done;
            if (c->shadows) {
                if (make_candidates(q, c->n_req, fnn_dataset_size(s.train), &cand))
                    goto seed_done;
                if ((st = fnn_attack_create(&lira, orig, s.train, cand.idx, cand.n, err,
                                            sizeof err))) {
                    fail(st, err, "creating the attack");
                    goto seed_done;
                }
                fnn_attack_set(lira, FNN_ATTACK_SHADOWS, (double)c->shadows);
                fnn_attack_set(lira, FNN_ATTACK_THREADS, (double)c->threads);
                fnn_attack_set_u64(lira, FNN_ATTACK_SEED, seed);
                fnn_attack_set_progress(lira, on_shadow, prog);
                snprintf(prog->label, sizeof prog->label, "%s %s seed %" PRIu64 ": shadows",
                         data, arch, seed);
                t0 = now_seconds();
                st = fnn_attack_train(lira);
                bar_clear(&prog->bar);
                if (st != FNN_OK) {
                    fail(st, fnn_attack_errmsg(lira), "training the shadows");
                    goto seed_done;
                }
                fprintf(stderr, "fnn bench: %" PRIu64 " shadows on halves of %zu samples in "
                                "%.1f s\n",
                        c->shadows, fnn_dataset_size(s.train), now_seconds() - t0);
            }
            for (size_t k = 0; k < c->n_req; k++)
                if (run_request(c, data, arch, seed, orig, &s, &q[k], c->req[k].text, lira,
                                &cand, k, prog, rows) ||
                    (c->floor && run_floor(c, data, arch, seed, o, &s, &q[k], c->req[k].text,
                                           lira, &cand, k, prog, rows)))
                    goto seed_done;
            rc = EXIT_OK;
        seed_done:
            for (size_t k = 0; k < c->n_req; k++)
                req_sets_free(&q[k]);
            candidates_free(&cand, c->n_req);
            fnn_attack_free(lira);
            fnn_train_options_free(o);
            fnn_model_free(orig);
            split_free(&s);
            if (rc != EXIT_OK)
                goto done;
        }
    }
    rc = EXIT_OK;
done:
    split_free(&s);
    fnn_dataset_free(s.train);
    fnn_dataset_free(s.test);
    return rc;
}

/* ---- output ------------------------------------------------------------------ */

/* Mean and sample standard deviation of a field over the rows of a group. */
struct stat2 {
    double mean, sd;
    size_t n;
};

static struct stat2 stat_of(const struct row *rows, size_t n, const struct row *g,
                            size_t offset)
{
    struct stat2 st = {0, 0, 0};
    double sum = 0, sq = 0;
    for (size_t i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        if (r->data != g->data || r->arch != g->arch || r->request != g->request ||
            r->slot != g->slot)
            continue;
        double v = *(const double *)((const char *)r + offset);
        if (isnan(v))
            continue;
        sum += v;
        sq += v * v;
        st.n++;
    }
    st.mean = st.n ? sum / (double)st.n : NAN;
    st.sd = st.n > 1 ? sqrt(fmax(0.0, (sq - sum * sum / (double)st.n) / (double)(st.n - 1)))
                     : NAN;
    return st;
}

/* "mean" or "mean±sd", scaled (100 for percentages). */
static const char *cell(struct stat2 st, double scale, int decimals, char *buf, size_t size)
{
    if (isnan(st.mean))
        snprintf(buf, size, "-");
    else if (isinf(st.mean))
        snprintf(buf, size, "inf");
    else if (st.n > 1 && !isnan(st.sd))
        snprintf(buf, size, "%.*f±%.*f", decimals, st.mean * scale, decimals, st.sd * scale);
    else
        snprintf(buf, size, "%.*f", decimals, st.mean * scale);
    return buf;
}

#define F(field) offsetof(struct row, field)

static void print_tables(const struct config *c, const struct rows *rs)
{
    const struct row *rows = rs->r;
    int w = 10;
    for (size_t i = 0; i < rs->n; i++)
        if ((int)strlen(rows[i].method) > w)
            w = (int)strlen(rows[i].method);
    for (size_t i = 0; i < rs->n; i++) {
        const struct row *g = &rows[i];
        /* The first row of each (data, arch, request) starts its table. */
        int first = 1;
        for (size_t j = 0; j < i && first; j++)
            first = !(rows[j].data == g->data && rows[j].arch == g->arch &&
                      rows[j].request == g->request);
        if (!first)
            continue;
        uint64_t epochs = c->epochs ? c->epochs : default_epochs(g->arch);
        printf("\n%s, %s (%" PRIu64 " epochs), request %s: forget %zu, retain %zu; MIA "
               "against %zu held-out samples; %" PRIu64 " seed%s%s\n",
               g->data, g->arch, epochs, g->request, g->n_forget, g->n_retain, g->n_negative,
               c->seeds, c->seeds == 1 ? "" : "s", c->seeds > 1 ? ", mean±sd" : "");
        printf("%-*s %13s %11s %13s %13s %13s %13s %13s %13s", w, "method", "seconds",
               "speed-up", "forget %", "retain %", "held-out %", "test %", "MIA %", "AUC");
        if (c->shadows)
            printf(" %13s %13s", "LiRA AUC", "U-LiRA AUC");
        printf(" %11s\n", "Avg.Gap");
        for (size_t j = i; j < rs->n; j++) {
            const struct row *r = &rows[j];
            if (r->data != g->data || r->arch != g->arch || r->request != g->request)
                continue;
            /* One line per method: its first row in this group. */
            int seen = 0;
            for (size_t k = i; k < j && !seen; k++)
                seen = rows[k].data == r->data && rows[k].arch == r->arch &&
                       rows[k].request == r->request && rows[k].slot == r->slot;
            if (seen)
                continue;
            char b[12][40];
            struct stat2 sp = stat_of(rows, rs->n, r, F(speedup));
            printf("%-*s %13s %11s %13s %13s %13s %13s %13s %13s", w, r->method,
                   cell(stat_of(rows, rs->n, r, F(seconds)), 1, 2, b[0], 40),
                   r->method_id == FNN_METHOD_NONE ? "-" : cell(sp, 1, 1, b[1], 40),
                   cell(stat_of(rows, rs->n, r, F(forget)), 100, 2, b[2], 40),
                   cell(stat_of(rows, rs->n, r, F(retain)), 100, 2, b[3], 40),
                   cell(stat_of(rows, rs->n, r, F(heldout)), 100, 2, b[4], 40),
                   cell(stat_of(rows, rs->n, r, F(test)), 100, 2, b[5], 40),
                   cell(stat_of(rows, rs->n, r, F(mia)), 100, 2, b[6], 40),
                   cell(stat_of(rows, rs->n, r, F(auc)), 1, 3, b[7], 40));
            if (c->shadows)
                printf(" %13s %13s", cell(stat_of(rows, rs->n, r, F(lira_auc)), 1, 3, b[8], 40),
                       cell(stat_of(rows, rs->n, r, F(ulira_auc)), 1, 3, b[9], 40));
            printf(" %11s\n", cell(stat_of(rows, rs->n, r, F(gap)), 1, 2, b[10], 40));
        }
    }
    fflush(stdout);
}

/* Opens FILE for writing, or standard output for '-'. */
static FILE *open_out(const char *path)
{
    if (strcmp(path, "-") == 0)
        return stdout;
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "fnn: bench: cannot write %s: %s\n", path, strerror(errno));
    return f;
}

static int close_out(FILE *f, const char *path)
{
    if (f == stdout)
        return fflush(f) == 0 ? EXIT_OK : EXIT_FAIL;
    if (ferror(f) | fclose(f)) {
        fprintf(stderr, "fnn: bench: writing %s failed\n", path);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

/* A JSON number, or null when not finite. */
static void jnum(FILE *f, const char *key, double v, const char *sep)
{
    if (isfinite(v))
        fprintf(f, "\"%s\": %.10g%s", key, v, sep);
    else
        fprintf(f, "\"%s\": null%s", key, sep);
}

/* A JSON string (the bench's strings are paths and names: escape what JSON
 * needs). */
static void jstr(FILE *f, const char *key, const char *s, const char *sep)
{
    fprintf(f, "\"%s\": \"", key);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fprintf(f, "\"%s", sep);
}

static int write_json(const struct config *c, const struct rows *rs, const char *path)
{
    FILE *f = open_out(path);
    if (!f)
        return EXIT_FAIL;
    fprintf(f, "{");
    jstr(f, "library", fnn_version_string(), ", ");
    fprintf(f, "\"seeds\": %" PRIu64 ", \"holdout\": %" PRIu64 ", \"shadows\": %" PRIu64
               ", \"rows\": [\n",
            c->seeds, c->holdout, c->shadows);
    for (size_t i = 0; i < rs->n; i++) {
        const struct row *r = &rs->r[i];
        fprintf(f, "  {");
        jstr(f, "dataset", r->data, ", ");
        jstr(f, "arch", r->arch, ", ");
        jstr(f, "request", r->request, ", ");
        fprintf(f, "\"seed\": %" PRIu64 ", ", r->seed);
        jstr(f, "method", r->method, ", ");
        if (r->floor)
            fprintf(f, "\"floor\": true, \"floor_seed\": %" PRIu64 ", ",
                    r->seed + FLOOR_SEED_OFFSET);
        if (r->variant) {
            jstr(f, "variant_of", fnn_name(FNN_NAMES_METHOD, r->method_id), ", ");
            jstr(f, "variant_options", c->var[r->slot - (int)c->n_method].options, ", ");
        }
        fprintf(f, "\"epochs\": %" PRIu64 ", ", c->epochs ? c->epochs : default_epochs(r->arch));
        jnum(f, "seconds", r->seconds, ", ");
        jnum(f, "speedup", r->speedup, ", ");
        jnum(f, "flops", r->flops, ", ");
        jnum(f, "budget_flops", r->budget_flops, ", ");
        jnum(f, "retrain_flops", r->retrain_flops, ", ");
        jnum(f, "reached_target", r->reached, ", ");
        jnum(f, "final_t", r->final_t, ", ");
        jnum(f, "forget_acc", r->forget, ", ");
        jnum(f, "retain_acc", r->retain, ", ");
        jnum(f, "heldout_acc", r->heldout, ", ");
        jnum(f, "test_acc", r->test, ", ");
        jnum(f, "mia", r->mia, ", ");
        jnum(f, "mia_spread", r->mia_spread, ", ");
        jnum(f, "auc", r->auc, ", ");
        jnum(f, "tpr_1", r->tpr_1, ", ");
        jnum(f, "tpr_01", r->tpr_01, ", ");
        jnum(f, "lira_auc", r->lira_auc, ", ");
        jnum(f, "lira_tpr_1", r->lira_tpr_1, ", ");
        jnum(f, "ulira_auc", r->ulira_auc, ", ");
        jnum(f, "ulira_tpr_1", r->ulira_tpr_1, ", ");
        jnum(f, "avg_gap", r->gap, ", ");
        fprintf(f, "\"forget_samples\": %zu, \"retain_samples\": %zu, \"nonmember_samples\": "
                   "%zu",
                r->n_forget, r->n_retain, r->n_negative);
        fprintf(f, "}%s\n", i + 1 < rs->n ? "," : "");
    }
    fprintf(f, "]}\n");
    return close_out(f, path);
}

static int write_csv(const struct rows *rs, const char *path)
{
    FILE *f = open_out(path);
    if (!f)
        return EXIT_FAIL;
    fprintf(f, "dataset,arch,request,seed,method,seconds,speedup,flops,forget_acc,retain_acc,"
               "heldout_acc,test_acc,mia,mia_spread,auc,tpr_1,tpr_01,lira_auc,lira_tpr_1,"
               "ulira_auc,ulira_tpr_1,avg_gap\n");
    for (size_t i = 0; i < rs->n; i++) {
        const struct row *r = &rs->r[i];
        double v[] = {r->seconds, r->speedup, r->flops, r->forget, r->retain, r->heldout,
                      r->test, r->mia, r->mia_spread, r->auc, r->tpr_1, r->tpr_01,
                      r->lira_auc, r->lira_tpr_1, r->ulira_auc, r->ulira_tpr_1, r->gap};
        fprintf(f, "%s,%s,%s,%" PRIu64 ",%s", r->data, r->arch, r->request, r->seed, r->method);
        for (size_t k = 0; k < COUNT(v); k++)
            if (isfinite(v[k]))
                fprintf(f, ",%.10g", v[k]);
            else
                fprintf(f, ",");
        fprintf(f, "\n");
    }
    return close_out(f, path);
}

/* The index of the (data, arch, request) group of row r, in order of first
 * appearance. */
static int group_of(const struct row *rows, size_t i)
{
    int g = 0;
    for (size_t k = 0; k < i; k++) {
        int first = 1;
        for (size_t j = 0; j < k && first; j++)
            first = !(rows[j].data == rows[k].data && rows[j].arch == rows[k].arch &&
                      rows[j].request == rows[k].request);
        if (first && !(rows[k].data == rows[i].data && rows[k].arch == rows[i].arch &&
                       rows[k].request == rows[i].request))
            g++;
        else if (rows[k].data == rows[i].data && rows[k].arch == rows[i].arch &&
                 rows[k].request == rows[i].request)
            return g;
    }
    return g;
}

/* A file name's last component, for titles. */
static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s && s[1] ? s + 1 : path;
}

/* Plots with gnuplot: speed-up (log) against Avg. Gap per method and
 * request (means over seeds), and the fnn rows' forget accuracy against t. */
static int write_plot(const struct rows *rs, const char *path)
{
    char dir[] = "/tmp/fnn-bench-plot-XXXXXX";
    if (!mkdtemp(dir)) {
        fprintf(stderr, "fnn: bench: --plot: cannot make a temporary directory: %s\n",
                strerror(errno));
        return EXIT_FAIL;
    }
    char points[64], curves[64], script[64];
    snprintf(points, sizeof points, "%s/points", dir);
    snprintf(curves, sizeof curves, "%s/curves", dir);
    snprintf(script, sizeof script, "%s/plot.gp", dir);
    FILE *fp = fopen(points, "w"), *fc = fopen(curves, "w"), *fs = fopen(script, "w");
    int rc = fp && fc && fs ? EXIT_OK : EXIT_FAIL;
    const struct row *rows = rs->r;
    int groups = 0, blocks = 0;
    char titles[MAX_CURVE][128];
    for (size_t i = 0; rc == EXIT_OK && i < rs->n; i++) {
        const struct row *r = &rows[i];
        int g = group_of(rows, i);
        groups = g + 1 > groups ? g + 1 : groups;
        int seen = 0;
        for (size_t k = 0; k < i && !seen; k++)
            seen = rows[k].data == r->data && rows[k].arch == r->arch &&
                   rows[k].request == r->request && rows[k].slot == r->slot;
        if (!seen) {
            struct stat2 gap = stat_of(rows, rs->n, r, F(gap));
            struct stat2 sp = stat_of(rows, rs->n, r, F(speedup));
            if (isfinite(gap.mean) && isfinite(sp.mean) && sp.mean > 0)
                fprintf(fp, "%g %g %d \"%s\"\n", gap.mean, sp.mean, g + 1, r->method);
        }
        if (r->method_id == FNN_METHOD_FNN && r->n_curve && blocks < MAX_CURVE) {
            snprintf(titles[blocks++], sizeof titles[0], "%s %s %s %s, seed %" PRIu64,
                     r->method, base_name(r->data), r->arch, r->request, r->seed);
            for (size_t k = 0; k < r->n_curve; k++)
                fprintf(fc, "%g %g\n", r->curve_t[k], 100.0 * r->curve_acc[k]);
            fprintf(fc, "\n\n");
        }
    }
    if (fs) {
        fprintf(fs,
                "set terminal pngcairo size 1400,600 font 'DejaVu Sans,10'\n"
                "set output '%s'\n"
                "set multiplot layout 1,2\n"
                "set title 'Cost against quality (means over seeds; colour: request)'\n"
                "set xlabel 'Avg. Gap to retraining (points)'\n"
                "set ylabel 'speed-up over retraining (x, log scale)'\n"
                "set logscale y\n"
                "set grid\n"
                "set key top right\n",
                path);
        /* One key entry per request group, in the colours of the points. */
        fprintf(fs, "plot '%s' using 1:2:3 with points pt 7 ps 1.5 lc variable notitle, "
                    "'' using 1:2:4 with labels offset 1,0.5 left notitle",
                points);
        for (int g = 0; g < groups; g++) {
            const struct row *r = NULL;
            for (size_t i = 0; i < rs->n && !r; i++)
                if (group_of(rows, i) == g)
                    r = &rows[i];
            fprintf(fs, ", NaN with points pt 7 lc %d title '%s %s %s'", g + 1,
                    base_name(r->data), r->arch, r->request);
        }
        fprintf(fs, "\nunset logscale y\n"
                    "set title 'fnn: forget-set accuracy (monitoring sample) after each step'\n"
                    "set xlabel 'forgetting clock t'\n"
                    "set ylabel 'forget-set accuracy (%%)'\n"
                    "set yrange [0:100]\n");
        if (blocks == 0)
            fprintf(fs, "plot NaN notitle\n");
        else
            fprintf(fs, "plot ");
        for (int b = 0; b < blocks; b++)
            fprintf(fs, "%s'%s' index %d using 1:2 with linespoints title '%s'",
                    b ? ", " : "", curves, b, titles[b]);
        fprintf(fs, "%sunset multiplot\n", blocks ? "\n" : "");
    }
    if (fp && fclose(fp))
        rc = EXIT_FAIL;
    if (fc && fclose(fc))
        rc = EXIT_FAIL;
    if (fs && fclose(fs))
        rc = EXIT_FAIL;
    if (rc == EXIT_OK) {
        pid_t pid = fork();
        if (pid == 0) {
            execlp("gnuplot", "gnuplot", script, (char *)NULL);
            _exit(127);
        }
        int status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0) {
            fprintf(stderr, "fnn: bench: --plot: gnuplot failed%s (install gnuplot-nox)\n",
                    WIFEXITED(status) && WEXITSTATUS(status) == 127 ? ": not found" : "");
            rc = EXIT_FAIL;
        }
    } else {
        fprintf(stderr, "fnn: bench: --plot: cannot write the plot's data in %s\n", dir);
    }
    unlink(points);
    unlink(curves);
    unlink(script);
    rmdir(dir);
    return rc;
}

/* ---- the command ---------------------------------------------------------------- */

static int bench_main(const struct command *cmd, struct opt *o, struct config *cp);

int cmd_bench(const struct command *cmd, int argc, char **argv)
{
    struct opt o[COUNT(bench_opts)];
    memcpy(o, bench_opts, sizeof o);
    size_t nkv;
    struct keyval *kv = calloc((size_t)argc, sizeof *kv);
    if (!kv)
        return fail(FNN_E_NOMEM, "", "parsing the arguments");
    int p = parse_args(cmd, argc, argv, o, COUNT(o), KEYS_TRAIN, kv, &nkv);
    int rc = p == PARSE_HELP ? EXIT_OK : EXIT_USAGE;
    if (p != PARSE_OK) {
        free(kv);
        return rc;
    }
    struct config c;
    memset(&c, 0, sizeof c);
    c.cmd = cmd;
    c.kv = kv;
    c.nkv = nkv;
    rc = bench_main(cmd, o, &c);
    free(kv);
    return rc;
}

/* The rest of cmd_bench, once the arguments are parsed. */
static int bench_main(const struct command *cmd, struct opt *o, struct config *cp)
{
    struct config c = *cp;
    int quick = o[B_QUICK].value != NULL, full = o[B_FULL].value != NULL;
    if (quick && full)
        return usage_error(cmd, "bench: --quick and --full exclude each other");
    c.seeds = full ? 3 : 1;
    c.holdout = quick ? 1000 : 10000;
    c.pool = quick ? 5000 : 0;
    c.epochs = quick ? 3 : 0;
    c.shadows = full ? 16 : 0;
    c.threads = 1;
    for (size_t k = 0; k < c.nkv; k++)
        if (c.kv[k].key == FNN_TRAIN_EPOCHS) {
            /* Checked by the library when it is applied; read here for the tables. */
            char *end;
            c.epochs = strtoull(c.kv[k].value, &end, 10);
        } else if (c.kv[k].key == FNN_TRAIN_SEED) {
            return usage_error(cmd, "bench: the seeds come from --seed and --seeds");
        }
    /* Every training option is checked now, before anything is loaded. */
    {
        fnn_train_options *t = NULL;
        if (fnn_train_options_create(&t) != FNN_OK)
            return fail(FNN_E_NOMEM, "", "checking the training options");
        int st = apply_keys(cmd, c.kv, c.nkv, t, NULL);
        fnn_train_options_free(t);
        if (st != EXIT_OK)
            return st;
    }
    if (opt_uint(cmd, &o[B_SEED], 0, UINT64_MAX, &c.seed) ||
        opt_uint(cmd, &o[B_SEEDS], 1, 1000, &c.seeds) ||
        opt_uint(cmd, &o[B_HOLDOUT], 6, UINT32_MAX, &c.holdout) ||
        opt_uint(cmd, &o[B_POOL], 2, UINT32_MAX, &c.pool) ||
        opt_uint(cmd, &o[B_SHADOWS], 0, 4096, &c.shadows) ||
        opt_uint(cmd, &o[B_THREADS], 1, 64, &c.threads))
        return EXIT_USAGE;
    if (o[B_DATA].count > MAX_DATA || o[B_ARCH].count > MAX_ARCH ||
        o[B_REQUEST].count > MAX_REQUESTS)
        return usage_error(cmd, "bench: too many --data, --arch or --request options");
    static const char *const full_data[] = {"data/mnist", "data/fashion-mnist"};
    static const char *const full_arch[] = {"mlp", "paper-cnn"};
    if (o[B_DATA].count) {
        for (size_t k = 0; k < o[B_DATA].count; k++)
            c.data[c.n_data++] = o[B_DATA].values[k];
    } else if (full) {
        c.data[c.n_data++] = full_data[0];
        c.data[c.n_data++] = full_data[1];
    } else {
        c.data[c.n_data++] = "data/fashion-mnist";
    }
    if (o[B_ARCH].count) {
        for (size_t k = 0; k < o[B_ARCH].count; k++)
            c.arch[c.n_arch++] = o[B_ARCH].values[k];
    } else if (full) {
        c.arch[c.n_arch++] = full_arch[0];
        c.arch[c.n_arch++] = full_arch[1];
    } else {
        c.arch[c.n_arch++] = "mlp";
    }
    static const char *const default_requests[] = {"class:3", "random:20%"};
    size_t nr = o[B_REQUEST].count ? o[B_REQUEST].count : COUNT(default_requests);
    for (size_t k = 0; k < nr; k++) {
        const char *text = o[B_REQUEST].count ? o[B_REQUEST].values[k] : default_requests[k];
        if (parse_request(cmd, text, &c.req[c.n_req++]))
            return EXIT_USAGE;
    }
    if (o[B_METHODS].value) {
        if (parse_methods(cmd, o[B_METHODS].value, &c))
            return EXIT_USAGE;
    } else {
        for (size_t m = 0; m < fnn_names_count(FNN_NAMES_METHOD); m++)
            c.method[c.n_method++] = (int)m;
    }
    if (o[B_VARIANT].count > MAX_VARIANTS)
        return usage_error(cmd, "bench: at most %d --variant options", MAX_VARIANTS);
    for (size_t k = 0; k < o[B_VARIANT].count; k++) {
        if (parse_variant(cmd, o[B_VARIANT].values[k], &c.var[c.n_var]))
            return EXIT_USAGE;
        for (size_t j = 0; j < c.n_var; j++)
            if (strcmp(c.var[j].name, c.var[c.n_var].name) == 0)
                return usage_error(cmd, "bench: --variant: '%s' given twice", c.var[j].name);
        c.n_var++;
    }
    /* The reference runs first. */
    int has_retrain = 0;
    for (size_t k = 0; k < c.n_method; k++)
        has_retrain |= c.method[k] == FNN_METHOD_RETRAIN;
    if (!has_retrain) {
        if (c.n_method == MAX_METHODS)
            return usage_error(cmd, "bench: --methods: too many");
        memmove(c.method + 1, c.method, c.n_method * sizeof *c.method);
        c.method[0] = FNN_METHOD_RETRAIN;
        c.n_method++;
    }
    c.floor = o[B_FLOOR].value != NULL;
    c.csv = o[B_CSV].value;
    c.json = o[B_JSON].value;
    c.plot = o[B_PLOT].value;
    int to_stdout = (c.csv && strcmp(c.csv, "-") == 0) + (c.json && strcmp(c.json, "-") == 0);
    if (to_stdout > 1)
        return usage_error(cmd, "bench: --csv - and --json - would share standard output");

    struct progress prog = {.bar = {.draw = isatty(STDERR_FILENO)}};
    struct rows rows = {0};
    int rc = EXIT_OK;
    double t0 = now_seconds();
    for (size_t d = 0; d < c.n_data && rc == EXIT_OK; d++)
        rc = run_data(&c, c.data[d], &prog, &rows);
    if (rc == EXIT_OK) {
        relate(rows.r, rows.n);
        if (!to_stdout) {
            print_tables(&c, &rows);
            printf("\nseconds: the method's own work (its monitoring included), measured in "
                   "this run; speed-up: retrain's seconds over the method's; %.0f s in all\n",
                   now_seconds() - t0);
        }
        if (c.csv && (rc = write_csv(&rows, c.csv)) != EXIT_OK)
            goto done;
        if (c.json && (rc = write_json(&c, &rows, c.json)) != EXIT_OK)
            goto done;
        if (c.plot && (rc = write_plot(&rows, c.plot)) != EXIT_OK)
            goto done;
    }
done:
    free(rows.r);
    return rc;
}
