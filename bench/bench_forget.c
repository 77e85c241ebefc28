/* Measures the cost and quality of unlearning against retraining from scratch,
 * through the public API only.
 *
 *   bench_forget [--data DIR] [--arch mlp|paper-cnn|SPEC] [--epochs N]
 *                [--request class:C|random:N]... [--policy rank|topk|random|fixed|ordered]
 *                [--method NAME] [--seed S] [--samples N]
 *                [--synthetic N] [--json]
 *
 * Trains the original model with the recipe of `fnn train` (the preset's
 * training options). For each request it retrains from scratch on the retain
 * set with the same recipe (fnn_model_retrain, the gold standard) and
 * unlearns a clone of the original with
 * fnn_model_forget(), the test split as holdout. For the original, retrained
 * and unlearned models it reports accuracy on the forget, retain and test sets
 * (for a class request also on that class of the test set and on the others),
 * seconds and GFLOP, the speed-up of unlearning over retraining, and the AUC
 * of a loss-threshold membership inference attack: the probability that a
 * forget sample has a lower loss than a test sample (ties count 1/2), over the
 * forget set and an equal-size random sample of the test set. For a class
 * request a second AUC compares the forget set with the test samples of the
 * same class. Good unlearning brings the unlearned model's AUC close to the
 * retrained model's.
 *
 * Defaults: DIR = data/mnist, mlp, 3 epochs, the requests class:3 and
 * random:6000 (a tenth of the training set when that is smaller), method fnn
 * with the rank policy, seed 0, the whole training split.
 * --samples N keeps the first N training samples; --synthetic N trains on N
 * generated 28x28 images of 10 classes (and tests on N/4), needing no data.
 * Timings are printed, never asserted. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fnn/fnn.h>

#define PROG "bench_forget"
#define MAX_REQUESTS 16

static const char usage_text[] =
    "usage: bench_forget [--data DIR] [--arch mlp|paper-cnn|SPEC] [--epochs N]\n"
    "                    [--request class:C|random:N]... "
    "[--policy rank|topk|random|fixed|ordered]\n"
    "                    [--method NAME] [--seed S] [--samples N]\n"
    "                    [--synthetic N] [--json]\n";

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* splitmix64: the bench's own generator for synthetic data and samples. */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static float next_float(uint64_t *s)
{
    return (float)(next_u64(s) >> 40) * (1.0f / 16777216.0f);
}

/* Prints a one-line error and returns the failure exit status. */
static int fail(const char *what, int status, const char *msg)
{
    if (msg && *msg)
        fprintf(stderr, PROG ": %s: %s (%s)\n", what, msg, fnn_strerror(status));
    else
        fprintf(stderr, PROG ": %s: %s\n", what, fnn_strerror(status));
    return 1;
}

/* ---- the training recipe of `fnn train` ------------------------------------------ */

/* Training options of `arch`: its preset's recipe (fnn_train_options_preset,
 * which `fnn train` uses too), the library's defaults for any other spec. */
static fnn_train_options *recipe_for(const char *arch, uint32_t epochs, uint64_t seed)
{
    fnn_train_options *o = NULL;
    int preset;
    if (fnn_train_options_create(&o) != FNN_OK)
        return NULL;
    if (fnn_name_lookup(FNN_NAMES_PRESET, arch, &preset) == FNN_OK)
        fnn_train_options_preset(o, arch);
    fnn_train_options_set(o, FNN_TRAIN_EPOCHS, epochs);
    fnn_train_options_set_u64(o, FNN_TRAIN_SEED, seed);
    return o;
}

/* ---- membership inference ------------------------------------------------------- */

struct scored {
    float loss;
    int member;
};

static int cmp_scored(const void *pa, const void *pb)
{
    float a = ((const struct scored *)pa)->loss, b = ((const struct scored *)pb)->loss;
    return (a > b) - (a < b);
}

/* *auc = P(a random member loss < a random non-member loss), ties 1/2: the
 * exact Mann-Whitney statistic by one sort; NaN if a loss is NaN or a side
 * empty. Returns FNN_OK or FNN_E_NOMEM. */
static int attack_auc(const float *members, size_t nm, const float *others, size_t no,
                      double *auc)
{
    *auc = NAN;
    if (!nm || !no)
        return FNN_OK;
    struct scored *s = malloc((nm + no) * sizeof *s);
    if (!s)
        return FNN_E_NOMEM;
    for (size_t i = 0; i < nm + no; i++) {
        s[i].member = i < nm;
        s[i].loss = i < nm ? members[i] : others[i - nm];
        if (isnan(s[i].loss)) {
            free(s);
            return FNN_OK;
        }
    }
    qsort(s, nm + no, sizeof *s, cmp_scored);
    double pairs = 0, members_below = 0;
    for (size_t i = 0; i < nm + no;) {
        size_t j = i;
        double cm = 0, co = 0;
        for (; j < nm + no && s[j].loss == s[i].loss; j++) {
            cm += s[j].member;
            co += !s[j].member;
        }
        pairs += co * members_below + 0.5 * co * cm;
        members_below += cm;
        i = j;
    }
    free(s);
    *auc = pairs / ((double)nm * (double)no);
    return FNN_OK;
}

/* ---- one request ---------------------------------------------------------------- */

struct request_arg {
    int is_class;
    uint64_t value; /* class label or sample count */
};

/* The data sets a request is measured on. */
struct sets {
    fnn_dataset *forget, *retain;
    fnn_dataset *test_class, *test_other; /* class requests only */
    fnn_dataset *mia_forget, *mia_test;   /* equal-size samples for the attack */
};

static void sets_free(struct sets *s)
{
    fnn_dataset_free(s->forget);
    fnn_dataset_free(s->retain);
    fnn_dataset_free(s->test_class);
    fnn_dataset_free(s->test_other);
    fnn_dataset_free(s->mia_forget);
    fnn_dataset_free(s->mia_test);
}

/* Figures of one model. */
struct figures {
    double forget_acc, retain_acc, test_acc, class_acc, other_acc;
    double auc, auc_class;
    double seconds, gflop;
};

struct result {
    char name[48];
    int is_class;
    int32_t label;
    size_t forget_n, retain_n, mia_n;
    struct figures orig, retrained, unlearned;
    double target, final_t, epochs, reached, report_seconds;
    double phase_gflop; /* unlearning FLOPs in its phases: training and ranking */
};

/* A view of k samples of ds drawn without replacement by *rng, or of all of
 * ds (in order) when k >= its size. */
static int sample_view(fnn_dataset *ds, size_t k, uint64_t *rng, fnn_dataset **out)
{
    size_t n = fnn_dataset_size(ds);
    uint32_t *pos = malloc(n * sizeof *pos);
    if (!pos)
        return FNN_E_NOMEM;
    for (size_t i = 0; i < n; i++)
        pos[i] = (uint32_t)i;
    if (k < n)
        for (size_t i = 0; i < k; i++) {
            size_t j = i + (size_t)(next_u64(rng) % (n - i));
            uint32_t t = pos[i];
            pos[i] = pos[j];
            pos[j] = t;
        }
    int st = fnn_dataset_subset(ds, pos, k < n ? k : n, out);
    free(pos);
    return st;
}

/* A view of the test samples with label `label` (want == 1) or of the others;
 * NULL when there are none. */
static int label_view(fnn_dataset *test, const int32_t *labels, int32_t label, int want,
                      fnn_dataset **out)
{
    *out = NULL;
    size_t n = fnn_dataset_size(test), k = 0;
    uint32_t *pos = malloc(n * sizeof *pos);
    if (!pos)
        return FNN_E_NOMEM;
    for (size_t i = 0; i < n; i++)
        if ((labels[i] == label) == want)
            pos[k++] = (uint32_t)i;
    int st = k ? fnn_dataset_subset(test, pos, k, out) : FNN_OK;
    free(pos);
    return st;
}

static int accuracy(fnn_model *m, fnn_dataset *ds, double *acc)
{
    if (!ds) {
        *acc = NAN;
        return FNN_OK;
    }
    return fnn_model_evaluate(m, ds, acc, NULL);
}

/* Accuracies and attack AUCs of m on the request's sets. */
static int measure(fnn_model *m, fnn_dataset *test, const struct sets *s, struct figures *f,
                   const char *what)
{
    size_t nm = fnn_dataset_size(s->mia_forget), nt = fnn_dataset_size(s->mia_test);
    size_t nc = fnn_dataset_size(s->test_class);
    float *lm = malloc(nm * sizeof *lm), *lt = malloc((nt > nc ? nt : nc) * sizeof *lt);
    int st = FNN_E_NOMEM;
    if (lm && lt && !(st = accuracy(m, s->forget, &f->forget_acc)) &&
        !(st = accuracy(m, s->retain, &f->retain_acc)) &&
        !(st = accuracy(m, test, &f->test_acc)) &&
        !(st = accuracy(m, s->test_class, &f->class_acc)) &&
        !(st = accuracy(m, s->test_other, &f->other_acc)) &&
        !(st = fnn_model_sample_losses(m, s->mia_forget, lm, nm)) &&
        !(st = fnn_model_sample_losses(m, s->mia_test, lt, nt))) {
        st = attack_auc(lm, nm, lt, nt, &f->auc);
        f->auc_class = NAN;
        if (!st && s->test_class && !(st = fnn_model_sample_losses(m, s->test_class, lt, nc)))
            st = attack_auc(lm, nm, lt, nc, &f->auc_class);
    }
    free(lm);
    free(lt);
    if (st)
        return fail(what, st, st == FNN_E_NOMEM ? "out of memory" : fnn_model_errmsg(m));
    return 0;
}

struct config {
    const char *arch;
    uint32_t epochs;
    uint64_t seed;
    int policy, method;
    fnn_train_options *recipe;
};

static int run_request(const struct config *c, fnn_model *orig, const struct figures *orig_cost,
                       fnn_dataset *train, fnn_dataset *test, const int32_t *test_labels,
                       const struct request_arg *ra, struct result *res)
{
    char err[256] = "", what[96];
    struct sets s = {0};
    fnn_forget_request *req = NULL;
    fnn_model *re = NULL, *un = NULL;
    fnn_forget_options *fo = NULL;
    fnn_forget_report *rep = NULL;
    int st, rc = 1;
    memset(res, 0, sizeof *res);
    snprintf(res->name, sizeof res->name, "%s:%llu", ra->is_class ? "class" : "random",
             (unsigned long long)ra->value);
    snprintf(what, sizeof what, "request %s", res->name);

    if (ra->is_class)
        st = fnn_forget_request_from_class(&req, train, (int32_t)ra->value, err, sizeof err);
    else
        st = fnn_forget_request_random(&req, train, (size_t)ra->value, c->seed, err, sizeof err);
    if (st) {
        fail(what, st, err);
        goto done;
    }
    uint64_t rng = c->seed ^ 0x6d1a5e1b3c2f4a97ull;
    if ((st = fnn_forget_request_forget_set(req, &s.forget)) ||
        (st = fnn_forget_request_retain_set(req, &s.retain)) ||
        (ra->is_class &&
         ((st = label_view(test, test_labels, (int32_t)ra->value, 1, &s.test_class)) ||
          (st = label_view(test, test_labels, (int32_t)ra->value, 0, &s.test_other))))) {
        fail(what, st, fnn_dataset_errmsg(test));
        goto done;
    }
    size_t nf = fnn_dataset_size(s.forget), nt = fnn_dataset_size(test);
    size_t k = nf < nt ? nf : nt;
    if ((st = sample_view(s.forget, k, &rng, &s.mia_forget)) ||
        (st = sample_view(test, k, &rng, &s.mia_test))) {
        fail(what, st, "sampling for the attack");
        goto done;
    }
    res->is_class = ra->is_class;
    res->label = (int32_t)ra->value;
    res->forget_n = nf;
    res->retain_n = fnn_dataset_size(s.retain);
    res->mia_n = k;

    /* The original model. */
    snprintf(what, sizeof what, "request %s: measuring the original", res->name);
    if (measure(orig, test, &s, &res->orig, what))
        goto done;
    res->orig.seconds = orig_cost->seconds;
    res->orig.gflop = orig_cost->gflop;

    /* Retraining from scratch on the retain set: the gold standard. */
    snprintf(what, sizeof what, "request %s: retraining", res->name);
    double t0 = now();
    if ((st = fnn_model_clone(orig, &re)) || (st = fnn_model_retrain(re, s.retain, NULL))) {
        fail(what, st, re ? fnn_model_errmsg(re) : fnn_model_errmsg(orig));
        goto done;
    }
    res->retrained.seconds = now() - t0;
    res->retrained.gflop = fnn_model_flops_per_sample(re, 1) * (double)res->retain_n *
                           c->epochs * 1e-9;
    snprintf(what, sizeof what, "request %s: measuring the retrained model", res->name);
    if (measure(re, test, &s, &res->retrained, what))
        goto done;

    /* Unlearning a clone of the original. */
    snprintf(what, sizeof what, "request %s: unlearning", res->name);
    if ((st = fnn_model_clone(orig, &un))) {
        fail(what, st, fnn_model_errmsg(orig));
        goto done;
    }
    if ((st = fnn_forget_options_create(&fo)) || (st = fnn_forget_report_create(&rep))) {
        fail(what, st, "");
        goto done;
    }
    if ((st = fnn_forget_options_set(fo, FNN_FORGET_METHOD, c->method)) ||
        (st = fnn_forget_options_set(fo, FNN_FORGET_POLICY, c->policy)) ||
        (st = fnn_forget_options_set_u64(fo, FNN_FORGET_SEED, c->seed))) {
        fail(what, st, fnn_forget_options_errmsg(fo));
        goto done;
    }
    t0 = now();
    if ((st = fnn_model_forget(un, req, test, fo, rep))) {
        fail(what, st, fnn_model_errmsg(un));
        goto done;
    }
    res->unlearned.seconds = now() - t0;
    double flops = NAN;
    fnn_forget_report_get(rep, FNN_REPORT_FLOPS, &flops);
    fnn_forget_report_get(rep, FNN_REPORT_TARGET, &res->target);
    fnn_forget_report_get(rep, FNN_REPORT_FINAL_T, &res->final_t);
    fnn_forget_report_get(rep, FNN_REPORT_EPOCHS, &res->epochs);
    fnn_forget_report_get(rep, FNN_REPORT_REACHED_TARGET, &res->reached);
    fnn_forget_report_get(rep, FNN_REPORT_SECONDS, &res->report_seconds);
    res->unlearned.gflop = flops * 1e-9;
    for (size_t i = 0; i < fnn_forget_report_num_phases(rep); i++) {
        double f = 0;
        fnn_forget_report_phase(rep, i, FNN_PHASE_FLOPS, &f);
        res->phase_gflop += f * 1e-9;
    }
    snprintf(what, sizeof what, "request %s: measuring the unlearned model", res->name);
    if (measure(un, test, &s, &res->unlearned, what))
        goto done;
    rc = 0;
done:
    fnn_forget_report_free(rep);
    fnn_forget_options_free(fo);
    fnn_model_free(un);
    fnn_model_free(re);
    fnn_forget_request_free(req);
    sets_free(&s);
    return rc;
}

/* ---- output --------------------------------------------------------------------- */

/* A percentage, or "-" when not measured. */
static void pct(char *buf, size_t size, double v)
{
    if (isnan(v))
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%.2f%%", 100.0 * v);
}

static void print_row(const char *name, const struct figures *f, int is_class)
{
    char a[5][16];
    pct(a[0], sizeof a[0], f->forget_acc);
    pct(a[1], sizeof a[1], f->retain_acc);
    pct(a[2], sizeof a[2], f->test_acc);
    pct(a[3], sizeof a[3], f->class_acc);
    pct(a[4], sizeof a[4], f->other_acc);
    if (is_class)
        printf("  %-10s %8s %8s %8s %8s %8s %7.3f %7.3f %9.2f %9.2f\n", name, a[0], a[1], a[2],
               a[3], a[4], f->auc, f->auc_class, f->seconds, f->gflop);
    else
        printf("  %-10s %8s %8s %8s %7.3f %9.2f %9.2f\n", name, a[0], a[1], a[2], f->auc,
               f->seconds, f->gflop);
}

static void print_table(const struct result *r, const struct config *c)
{
    printf("\nrequest %s: forget %zu, retain %zu samples; attack on %zu forget vs %zu test "
           "samples\n",
           r->name, r->forget_n, r->retain_n, r->mia_n, r->mia_n);
    if (r->is_class)
        printf("  %-10s %8s %8s %8s %8s %8s %7s %7s %9s %9s\n", "model", "forget", "retain",
               "test", "test=c", "test!=c", "MIA", "MIA c", "seconds", "GFLOP");
    else
        printf("  %-10s %8s %8s %8s %7s %9s %9s\n", "model", "forget", "retain", "test", "MIA",
               "seconds", "GFLOP");
    print_row("original", &r->orig, r->is_class);
    print_row("retrained", &r->retrained, r->is_class);
    print_row("unlearned", &r->unlearned, r->is_class);
    char tgt[48];
    if (isnan(r->target))
        snprintf(tgt, sizeof tgt, "no target");
    else
        snprintf(tgt, sizeof tgt, "target %.2f%% %s", 100.0 * r->target,
                 r->reached != 0 ? "reached" : "not reached");
    printf("  unlearning (%s, %s): final t %.0f, %.0f training epochs, %s\n",
           fnn_name(FNN_NAMES_METHOD, c->method), fnn_name(FNN_NAMES_POLICY, c->policy),
           r->final_t, r->epochs, tgt);
    printf("  speed-up over retraining: %.2fx in seconds, %.2fx in FLOPs; %.2fx in FLOPs of "
           "its phases alone\n",
           r->retrained.seconds / r->unlearned.seconds, r->retrained.gflop / r->unlearned.gflop,
           r->retrained.gflop / r->phase_gflop);
    printf("  (the unlearning's %.2f GFLOP: %.2f in its phases (training, ranking), %.2f in "
           "its evaluations)\n",
           r->unlearned.gflop, r->phase_gflop, r->unlearned.gflop - r->phase_gflop);
}

/* A JSON string, escaped. */
static void jstr(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

/* A JSON number, or null when not finite. */
static void jnum(const char *key, double v, const char *sep)
{
    if (isfinite(v))
        printf("\"%s\": %.6g%s", key, v, sep);
    else
        printf("\"%s\": null%s", key, sep);
}

static void json_figures(const char *name, const struct figures *f, const char *sep)
{
    printf("\"%s\": {", name);
    jnum("forget_acc", f->forget_acc, ", ");
    jnum("retain_acc", f->retain_acc, ", ");
    jnum("test_acc", f->test_acc, ", ");
    jnum("test_class_acc", f->class_acc, ", ");
    jnum("test_other_acc", f->other_acc, ", ");
    jnum("mia_auc", f->auc, ", ");
    jnum("mia_auc_class", f->auc_class, ", ");
    jnum("seconds", f->seconds, ", ");
    jnum("gflop", f->gflop, "");
    printf("}%s", sep);
}

static void print_json(const struct config *c, const char *spec, size_t params, size_t n_train,
                       size_t n_test, const char *data, const struct figures *orig,
                       const struct result *res, size_t n_res)
{
    printf("{\"library\": \"%s\", \"arch\": ", fnn_version_string());
    jstr(c->arch);
    printf(", \"spec\": ");
    jstr(spec);
    printf(", \"params\": %zu, \"data\": ", params);
    if (data)
        jstr(data);
    else
        printf("null");
    printf(", ");
    printf("\"train_samples\": %zu, \"test_samples\": %zu, \"epochs\": %u, \"seed\": %llu, "
           "\"method\": \"%s\", \"policy\": \"%s\", ",
           n_train, n_test, c->epochs, (unsigned long long)c->seed,
           fnn_name(FNN_NAMES_METHOD, c->method), fnn_name(FNN_NAMES_POLICY, c->policy));
    printf("\"original\": {");
    jnum("test_acc", orig->test_acc, ", ");
    jnum("seconds", orig->seconds, ", ");
    jnum("gflop", orig->gflop, "");
    printf("}, \"requests\": [");
    for (size_t i = 0; i < n_res; i++) {
        const struct result *r = &res[i];
        printf("%s{\"request\": \"%s\", \"forget_samples\": %zu, \"retain_samples\": %zu, "
               "\"mia_samples\": %zu, ",
               i ? ", " : "", r->name, r->forget_n, r->retain_n, r->mia_n);
        json_figures("original", &r->orig, ", ");
        json_figures("retrained", &r->retrained, ", ");
        json_figures("unlearned", &r->unlearned, ", ");
        jnum("speedup_seconds", r->retrained.seconds / r->unlearned.seconds, ", ");
        jnum("speedup_flops", r->retrained.gflop / r->unlearned.gflop, ", ");
        jnum("unlearning_phase_gflop", r->phase_gflop, ", ");
        jnum("speedup_phase_flops", r->retrained.gflop / r->phase_gflop, ", ");
        jnum("target", r->target, ", ");
        printf("\"reached_target\": %s, ",
               isnan(r->target) ? "null" : r->reached != 0 ? "true" : "false");
        jnum("final_t", r->final_t, ", ");
        jnum("unlearning_epochs", r->epochs, ", ");
        jnum("report_seconds", r->report_seconds, "");
        printf("}");
    }
    printf("]}\n");
}

/* ---- data ----------------------------------------------------------------------- */

/* n 28x28 images of 10 classes: noise, plus a bright 7x7 block whose place
 * depends on the class. */
static int synthetic(size_t n, uint64_t seed, fnn_dataset **out)
{
    char err[256] = "";
    float *x = malloc(n * 784 * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    int st = FNN_E_NOMEM;
    if (x && y) {
        uint64_t s = seed;
        for (size_t i = 0; i < n; i++) {
            int32_t c = (int32_t)(next_u64(&s) % 10);
            y[i] = c;
            size_t r0 = (size_t)(c / 4) * 7 + 3, c0 = (size_t)(c % 4) * 7;
            for (size_t p = 0; p < 784; p++) {
                size_t r = p / 28, col = p % 28;
                int in = r >= r0 && r < r0 + 7 && col >= c0 && col < c0 + 7;
                x[i * 784 + p] = 0.6f * next_float(&s) + (in ? 0.4f : 0.0f);
            }
        }
        st = fnn_dataset_from_arrays(out, x, y, n, 28, 28, 1, 10, err, sizeof err);
    }
    free(x);
    free(y);
    if (st)
        return fail("generating synthetic data", st, err);
    return 0;
}

static int load(const char *dir, int split, fnn_dataset **out)
{
    char err[256] = "", what[300];
    int st = fnn_dataset_load_dir(out, dir, split, err, sizeof err);
    if (!st)
        return 0;
    snprintf(what, sizeof what, "loading the %s split of %s",
             split == FNN_SPLIT_TRAIN ? "train" : "test", dir);
    return fail(what, st, err);
}

/* Keeps the first `limit` samples of *ds. */
static int keep_first(fnn_dataset **ds, size_t limit)
{
    if (!limit || limit >= fnn_dataset_size(*ds))
        return 0;
    uint32_t *idx = malloc(limit * sizeof *idx);
    fnn_dataset *part = NULL;
    int st = FNN_E_NOMEM;
    if (idx) {
        for (size_t i = 0; i < limit; i++)
            idx[i] = (uint32_t)i;
        st = fnn_dataset_subset(*ds, idx, limit, &part);
    }
    free(idx);
    if (st)
        return fail("limiting the training split", st, fnn_dataset_errmsg(*ds));
    fnn_dataset_free(*ds);
    *ds = part;
    return 0;
}

/* ---- arguments ------------------------------------------------------------------ */

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, PROG ": ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see --help)\n");
    return 2;
}

/* A decimal integer in [lo, hi]; 0 on success. */
static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int choice(const char *s, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (names[i] && !strcmp(s, names[i]))
            return (int)i;
    return -1;
}

/* The value of `name` in the library's names of `kind`, or -1. */
static int named(int kind, const char *name)
{
    int v;
    return fnn_name_lookup(kind, name, &v) == FNN_OK ? v : -1;
}

int main(int argc, char **argv)
{
    const char *dir = "data/mnist";
    struct config c = {.arch = "mlp", .epochs = 3, .seed = 0, .policy = FNN_POLICY_RANK,
                       .method = FNN_METHOD_FNN};
    struct request_arg reqs[MAX_REQUESTS];
    size_t n_reqs = 0;
    uint64_t limit = 0, synth = 0, v;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (!strcmp(a, "--json")) {
            json = 1;
            continue;
        }
        static const char *const valued[] = {"--data", "--arch", "--epochs", "--request",
                                             "--policy", "--method", "--seed",
                                             "--samples", "--synthetic"};
        if (choice(a, valued, sizeof valued / sizeof valued[0]) < 0)
            return usage_error("unknown argument '%s'", a);
        if (!val)
            return usage_error("%s needs a value", a);
        i++;
        if (!strcmp(a, "--data")) {
            dir = val;
        } else if (!strcmp(a, "--arch")) {
            c.arch = val;
        } else if (!strcmp(a, "--epochs")) {
            if (parse_u64(val, 1, 100000, &v))
                return usage_error("--epochs wants an integer in [1, 100000], not '%s'", val);
            c.epochs = (uint32_t)v;
        } else if (!strcmp(a, "--request")) {
            struct request_arg r;
            if (!strncmp(val, "class:", 6) && !parse_u64(val + 6, 0, 65535, &v))
                r = (struct request_arg){1, v};
            else if (!strncmp(val, "random:", 7) && !parse_u64(val + 7, 1, UINT32_MAX, &v))
                r = (struct request_arg){0, v};
            else
                return usage_error("--request wants class:C or random:N, not '%s'", val);
            if (n_reqs == MAX_REQUESTS)
                return usage_error("at most 16 --request options, '%s' is one too many", val);
            reqs[n_reqs++] = r;
        } else if (!strcmp(a, "--policy")) {
            if ((c.policy = named(FNN_NAMES_POLICY, val)) < 0)
                return usage_error("--policy: '%s' is not a policy (fnn forget --help)", val);
        } else if (!strcmp(a, "--method")) {
            if ((c.method = named(FNN_NAMES_METHOD, val)) < 0)
                return usage_error("--method: '%s' is not a method (fnn forget --help)", val);
        } else if (!strcmp(a, "--seed")) {
            if (parse_u64(val, 0, UINT64_C(1) << 53, &c.seed))
                return usage_error("--seed wants an integer in [0, 2^53], not '%s'", val);
        } else if (!strcmp(a, "--samples")) {
            if (parse_u64(val, 2, UINT32_MAX, &limit))
                return usage_error("--samples wants an integer >= 2, not '%s'", val);
        } else { /* --synthetic */
            if (parse_u64(val, 20, 10000000, &synth))
                return usage_error("--synthetic wants an integer in [20, 10000000], not '%s'",
                                   val);
        }
    }
    c.recipe = recipe_for(c.arch, c.epochs, c.seed);

    int rc = 1, st;
    char err[256] = "", spec[1024] = "";
    fnn_model *m = NULL;
    fnn_dataset *train = NULL, *test = NULL;
    int32_t *test_labels = NULL;
    struct result *res = calloc(MAX_REQUESTS, sizeof *res);
    if (!res) {
        fail("starting", FNN_E_NOMEM, "out of memory");
        goto done;
    }

    /* The model first: a mistyped specification fails before any loading. */
    if ((st = fnn_model_create(&m, c.arch, c.seed, err, sizeof err))) {
        if (st == FNN_E_SPEC) {
            rc = 2;
            fprintf(stderr, PROG ": --arch '%s': %s\n", c.arch, err);
        } else {
            fail("creating the model", st, err);
        }
        goto done;
    }
    fnn_model_spec(m, spec, sizeof spec);
    if (synth ? synthetic((size_t)synth, c.seed + 1, &train) ||
                    synthetic((size_t)(synth / 4 > 10 ? synth / 4 : 10), c.seed + 2, &test)
              : load(dir, FNN_SPLIT_TRAIN, &train) || load(dir, FNN_SPLIT_TEST, &test))
        goto done;
    if (keep_first(&train, (size_t)limit))
        goto done;
    size_t n_train = fnn_dataset_size(train), n_test = fnn_dataset_size(test);
    if (n_reqs == 0) {
        size_t tenth = n_train / 10;
        reqs[n_reqs++] = (struct request_arg){1, 3};
        reqs[n_reqs++] = (struct request_arg){0, tenth < 6000 ? (tenth ? tenth : 1) : 6000};
    }
    test_labels = malloc(n_test * sizeof *test_labels);
    if (!test_labels || (st = fnn_dataset_labels(test, test_labels, n_test))) {
        fail("reading the test labels", test_labels ? st : FNN_E_NOMEM, "");
        goto done;
    }

    if (!json) {
        const char *thr = getenv("OPENBLAS_NUM_THREADS");
        printf("libfnn %s, OPENBLAS_NUM_THREADS=%s\n", fnn_version_string(),
               thr ? thr : "(unset)");
        printf("model %s: %s (%zu parameters)\n", c.arch, spec, fnn_model_num_params(m));
        double opt = 0, lr = 0, batch = 0;
        fnn_train_options_get(c.recipe, FNN_TRAIN_OPTIMIZER, &opt);
        fnn_train_options_get(c.recipe, FNN_TRAIN_LEARNING_RATE, &lr);
        fnn_train_options_get(c.recipe, FNN_TRAIN_BATCH_SIZE, &batch);
        printf("data %s: %zu train, %zu test samples; %u epochs, %s lr %g batch %.0f\n",
               synth ? "synthetic" : dir, n_train, n_test, c.epochs,
               fnn_name(FNN_NAMES_OPTIMIZER, (int)opt), lr, batch);
        fflush(stdout);
    }

    /* The original model. */
    struct figures orig = {0};
    double t0 = now();
    if (!c.recipe || (st = fnn_model_train(m, train, c.recipe))) {
        fail("training the original", c.recipe ? st : FNN_E_NOMEM, fnn_model_errmsg(m));
        goto done;
    }
    orig.seconds = now() - t0;
    orig.gflop = fnn_model_flops_per_sample(m, 1) * (double)n_train * c.epochs * 1e-9;
    if ((st = fnn_model_evaluate(m, test, &orig.test_acc, NULL))) {
        fail("evaluating the original", st, fnn_model_errmsg(m));
        goto done;
    }
    if (!json) {
        printf("original: trained in %.2f s, %.2f GFLOP, test accuracy %.2f%%\n", orig.seconds,
               orig.gflop, 100.0 * orig.test_acc);
        int any_class = 0;
        for (size_t i = 0; i < n_reqs; i++)
            any_class |= reqs[i].is_class;
        printf("columns: accuracy on the forget, retain and test sets; MIA: attack AUC, "
               "P(loss of a forget sample < loss of a test sample)\n");
        if (any_class)
            printf("         test=c, test!=c: accuracy on the test samples of the class, "
                   "of the others; MIA c: the attack against test samples of the class\n");
        fflush(stdout);
    }

    for (size_t i = 0; i < n_reqs; i++) {
        if (run_request(&c, m, &orig, train, test, test_labels, &reqs[i], &res[i]))
            goto done;
        if (!json) {
            print_table(&res[i], &c);
            fflush(stdout);
        }
    }
    if (json)
        print_json(&c, spec, fnn_model_num_params(m), n_train, n_test, synth ? NULL : dir,
                   &orig, res, n_reqs);
    rc = 0;
done:
    fnn_train_options_free(c.recipe);
    free(res);
    free(test_labels);
    fnn_dataset_free(test);
    fnn_dataset_free(train);
    fnn_model_free(m);
    return rc;
}
