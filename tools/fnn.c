/*
 * fnn: the command-line front end of libfnn. Trains, evaluates and describes
 * models stored in the libfnn file format, and makes them forget chosen
 * training data, using only the public API. Every option that sets a
 * training or unlearning option is the library's own key: its name, domain,
 * default and help come from the library, which also validates it.
 *
 * Exit status: 0 on success, 1 when an operation fails, 2 on a usage error,
 * 3 when `fnn forget` saved a model whose forget-set accuracy did not reach
 * its target. Results go to stdout; errors, warnings and a progress bar (when
 * stderr is a terminal) go to stderr.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <fnn/fnn.h>

#include "cli.h"

/* ------------------------------------------------------------------------ */
/* fnn train                                                                */
/* ------------------------------------------------------------------------ */

/* State shared with the training progress callback. */
struct train_progress {
    struct bar bar;
    uint64_t epoch;    /* 1-based epoch being trained */
    uint64_t epochs;
    float loss;
    const fnn_model *model; /* evaluated on `test` at the end of every epoch */
    const fnn_dataset *test;
    double epoch_start;
    int status;        /* first failure of an evaluation */
};

static int epoch_done(struct train_progress *p)
{
    double seconds = now_seconds() - p->epoch_start;
    bar_clear(&p->bar);
    double acc = 0;
    int st = fnn_model_evaluate(p->model, p->test, &acc, NULL);
    if (st != FNN_OK) {
        fail(st, fnn_model_errmsg(p->model), "evaluating epoch %" PRIu64, p->epoch);
        p->status = st;
        return 1;
    }
    printf("epoch %" PRIu64 "/%" PRIu64 "  loss %.4f  test acc %.2f%%  (%.1f s)\n", p->epoch,
           p->epochs, (double)p->loss, 100.0 * acc, seconds);
    fflush(stdout);
    p->epoch_start = now_seconds();
    return 0;
}

static int on_train_progress(void *user, uint32_t epoch, uint32_t epochs, size_t batch,
                             size_t batches, float loss)
{
    struct train_progress *p = user;
    p->epoch = (uint64_t)epoch + 1;
    p->epochs = epochs;
    p->loss = loss;
    if (batch == batches)
        return epoch_done(p);
    char label[48], detail[64];
    snprintf(label, sizeof label, "epoch %" PRIu64 "/%" PRIu64, p->epoch, p->epochs);
    snprintf(detail, sizeof detail, "%zu/%zu  loss %.4f", batch, batches, (double)loss);
    bar_draw(&p->bar, label, (double)batch / (double)batches, detail);
    return 0;
}

static struct opt train_opts[] = {
    OPT("data", "DIR", "data directory (train-images-idx3-ubyte[.gz], ...)"),
    OPT("arch", "ARCH", "a preset or a specification string such as "
                     "'input:28x28x1,dense:128,relu,dense:10'"),
    OPT("out", "FILE", "where to save the trained model"),
    OPT("holdout", "N", "train on the train split minus N held-out samples drawn by --seed; "
                        "fnn forget and fnn audit find them again from the model's recipe and "
                        "use them as non-members [0]"),
};

static void train_help(FILE *f)
{
    fputs("Usage: fnn train --data DIR --arch ARCH --epochs N --out FILE [OPTIONS]\n"
          "\n"
          "Trains a model on the train split of DIR (an MNIST-style directory of IDX\n"
          "files, raw or .gz) and saves it to FILE; after each epoch it prints the mean\n"
          "training loss and the accuracy on the test split. With --holdout, samples of\n"
          "the train split are kept out of training, as non-members of the training\n"
          "distribution for unlearning and its audit. A preset architecture\n"
          "trains with its recipe (fnn_train_options_preset()), other specifications\n"
          "with the library's defaults; the options below change either. The model\n"
          "records its recipe, so 'fnn forget --method retrain' can repeat it.\n"
          "\n",
          f);
    for (size_t k = 0; k < COUNT(train_opts); k++)
        print_option_help(f, train_opts[k].name, train_opts[k].arg, train_opts[k].help, NULL);
    fputs("\nTraining options (library defaults; --seed also initialises the model):\n", f);
    fnn_train_options *d = NULL;
    if (fnn_train_options_create(&d) != FNN_OK)
        d = NULL;
    for (size_t k = 0; k < fnn_names_count(FNN_NAMES_TRAIN_KEY); k++) {
        double v = NAN;
        if (d)
            fnn_train_options_get(d, (int)k, &v);
        print_key_help(f, 0, (int)k, v);
    }
    fnn_train_options_free(d);
    fputs("\nPresets (--arch):\n", f);
    print_names(f, FNN_NAMES_PRESET);
    fputs("\nThe run is deterministic for a given --seed and OPENBLAS_NUM_THREADS.\n", f);
}

static int cmd_train(const struct command *cmd, int argc, char **argv)
{
    enum { DATA, ARCH, OUT, HOLDOUT };
    struct opt o[COUNT(train_opts)];
    memcpy(o, train_opts, sizeof o);
    struct keyval *kv = calloc((size_t)argc, sizeof *kv);
    if (!kv)
        return fail(FNN_E_NOMEM, "", "parsing the arguments");
    size_t nkv;
    static const char *const required[] = {"data", "arch", "out", NULL};
    int p = parse_args(cmd, argc, argv, o, COUNT(o), KEYS_TRAIN, kv, &nkv);
    if (p != PARSE_OK) {
        free(kv);
        return p == PARSE_HELP ? EXIT_OK : EXIT_USAGE;
    }
    int rc = EXIT_FAIL, st;
    fnn_dataset *train = NULL, *test = NULL;
    struct split sp = {0};
    fnn_model *m = NULL;
    fnn_train_options *opts = NULL;
    char *spec = NULL;
    char err[512] = "";
    struct train_progress prog = {.bar = {.draw = isatty(STDERR_FILENO)}};
    uint64_t holdout = 0;
    if (check_required(cmd, o, COUNT(o), required) ||
        opt_uint(cmd, &o[HOLDOUT], 0, UINT32_MAX, &holdout)) {
        rc = EXIT_USAGE;
        goto done;
    }
    int has_epochs = 0;
    for (size_t k = 0; k < nkv; k++)
        has_epochs |= kv[k].key == FNN_TRAIN_EPOCHS;
    if (!has_epochs) {
        rc = usage_error(cmd, "train: option '--epochs' is required");
        goto done;
    }
    if ((st = fnn_train_options_create(&opts)) != FNN_OK) {
        fail(st, "", "creating training options");
        goto done;
    }
    /* The preset's recipe first, then the options given. */
    int preset;
    if (fnn_name_lookup(FNN_NAMES_PRESET, o[ARCH].value, &preset) == FNN_OK &&
        (st = fnn_train_options_preset(opts, o[ARCH].value)) != FNN_OK) {
        fail(st, fnn_train_options_errmsg(opts), "--arch %s", o[ARCH].value);
        goto done;
    }
    if ((rc = apply_keys(cmd, kv, nkv, opts, NULL)) != EXIT_OK)
        goto done;
    rc = EXIT_FAIL;
    int early = check_output_path(cmd, o[OUT].value);
    if (early != EXIT_OK) {
        rc = early;
        goto done;
    }
    uint64_t seed = 0;
    double epochs = 0, batch = 0, lr = 0, optimizer = 0;
    fnn_train_options_get_u64(opts, FNN_TRAIN_SEED, &seed);
    fnn_train_options_get(opts, FNN_TRAIN_EPOCHS, &epochs);
    fnn_train_options_get(opts, FNN_TRAIN_BATCH_SIZE, &batch);
    fnn_train_options_get(opts, FNN_TRAIN_LEARNING_RATE, &lr);
    fnn_train_options_get(opts, FNN_TRAIN_OPTIMIZER, &optimizer);

    /* The model first: a mistyped specification fails before any loading. */
    st = fnn_model_create(&m, o[ARCH].value, seed, err, sizeof err);
    if (st != FNN_OK) {
        fail(st, err, "creating a model from '%s'", o[ARCH].value);
        goto done;
    }
    if (load_split(o[DATA].value, FNN_SPLIT_TRAIN, &train) ||
        load_split(o[DATA].value, FNN_SPLIT_TEST, &test))
        goto done;
    size_t n_train = fnn_dataset_size(train);
    if (holdout) {
        sp.train = train;
        if (make_split(&sp, holdout, 0, seed))
            goto done;
    }
    fnn_dataset *pool = holdout ? sp.pool : train;
    prog.model = m;
    prog.test = test;
    if ((st = fnn_train_options_set_progress(opts, on_train_progress, &prog)) != FNN_OK) {
        fail(st, fnn_train_options_errmsg(opts), "setting the progress callback");
        goto done;
    }
    if (!(spec = model_spec(m))) {
        fail(FNN_E_NOMEM, "", "reading the model specification");
        goto done;
    }
    printf("model %s (%zu parameters)\n", spec, fnn_model_num_params(m));
    if (holdout)
        printf("data %s: %zu train (%" PRIu64 " of %zu held out by seed %" PRIu64 "), %zu test "
               "samples; %s, lr %g, batch %.0f\n",
               o[DATA].value, fnn_dataset_size(pool), holdout, n_train, seed,
               fnn_dataset_size(test), fnn_name(FNN_NAMES_OPTIMIZER, (int)optimizer), lr,
               batch);
    else
        printf("data %s: %zu train, %zu test samples; %s, lr %g, batch %.0f\n", o[DATA].value,
               n_train, fnn_dataset_size(test), fnn_name(FNN_NAMES_OPTIMIZER, (int)optimizer),
               lr, batch);
    fflush(stdout);

    prog.epochs = (uint64_t)epochs;
    prog.epoch_start = now_seconds();
    st = fnn_model_train(m, pool, opts);
    bar_clear(&prog.bar);
    if (prog.status != FNN_OK)
        goto done;
    if (st != FNN_OK) {
        fail(st, fnn_model_errmsg(m), "training");
        goto done;
    }
    st = fnn_model_save(m, o[OUT].value);
    if (st != FNN_OK) {
        fail(st, fnn_model_errmsg(m), "saving the model to %s", o[OUT].value);
        goto done;
    }
    printf("saved %s\n", o[OUT].value);
    rc = EXIT_OK;
done:
    bar_clear(&prog.bar);
    free(kv);
    free(spec);
    fnn_train_options_free(opts);
    fnn_model_free(m);
    split_free(&sp);
    fnn_dataset_free(test);
    fnn_dataset_free(train);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* fnn forget                                                               */
/* ------------------------------------------------------------------------ */

static struct opt forget_opts[] = {
    OPT("model", "FILE", "a model saved by 'fnn train' or fnn_model_save()"),
    OPT("data", "DIR", "data directory (train-images-idx3-ubyte[.gz], ...)"),
    OPT("out", "FILE", "where to save the model that has forgotten"),
    OPT("forget-class", "C", "every training sample of class C"),
    OPT("forget-random", "N", "N training samples drawn by --seed"),
    OPT("forget-indices", "FILE",
     "the training samples at the 0-based indices in FILE: decimal numbers separated by "
     "white space or newlines; '#' starts a comment that runs to the end of the line"),
};

enum { F_MODEL, F_DATA, F_OUT, F_CLASS, F_RANDOM, F_INDICES };

static void forget_help(FILE *f)
{
    fputs("Usage: fnn forget --model FILE --data DIR --out FILE\n"
          "         (--forget-class C | --forget-random N | --forget-indices FILE)\n"
          "         [--method NAME] [OPTIONS]\n"
          "\n"
          "Makes a model trained on the train split of DIR (an MNIST-style directory of\n"
          "IDX files, raw or .gz) forget part of that split with an unlearning method,\n"
          "and saves it to FILE. The holdout, which sets the target of random and index\n"
          "requests of --method fnn and is the loss attack's non-members, is the held-out\n"
          "part of the train split for a model trained with 'fnn train --holdout', else\n"
          "the test split. Prints one line per phase of the run, then the accuracy on the\n"
          "forget set, on a sample of the rest of the training data (the retain set) and\n"
          "on the holdout before and after, the loss attack, and the time and\n"
          "matrix-product GFLOP the run took. Indices are positions in the train split.\n"
          "\n",
          f);
    for (size_t k = 0; k < COUNT(forget_opts); k++) {
        if (k == F_CLASS)
            fputs("\nWhat to forget, exactly one of:\n", f);
        print_option_help(f, forget_opts[k].name, forget_opts[k].arg, forget_opts[k].help,
                          NULL);
    }
    fputs("\nMethods (--method):\n", f);
    print_names(f, FNN_NAMES_METHOD);
    fnn_forget_options *d = NULL;
    if (fnn_forget_options_create(&d) != FNN_OK)
        d = NULL;
    /* Keys grouped by the methods that read them, in the order they first
     * appear. */
    uint32_t seen[32];
    size_t groups = 0;
    for (size_t k = 0; k < fnn_names_count(FNN_NAMES_FORGET_KEY); k++) {
        uint32_t mask = fnn_forget_key_methods((int)k), flags = 0;
        fnn_forget_key_bounds((int)k, NULL, NULL, &flags, NULL);
        if (flags & FNN_BOUND_DEPRECATED)
            continue;
        size_t g = 0;
        while (g < groups && seen[g] != mask)
            g++;
        if (g == groups && groups < COUNT(seen))
            seen[groups++] = mask;
    }
    for (size_t g = 0; g < groups; g++) {
        char methods[200];
        method_list(seen[g], methods, sizeof methods);
        uint32_t all = (1u << fnn_names_count(FNN_NAMES_METHOD)) - 1;
        if (seen[g] == all)
            fputs("\nOptions of every method:\n", f);
        else
            fprintf(f, "\nOptions of %s:\n", methods);
        for (size_t k = 0; k < fnn_names_count(FNN_NAMES_FORGET_KEY); k++) {
            uint32_t flags = 0;
            fnn_forget_key_bounds((int)k, NULL, NULL, &flags, NULL);
            if ((flags & FNN_BOUND_DEPRECATED) || fnn_forget_key_methods((int)k) != seen[g])
                continue;
            double v = NAN;
            if (d)
                fnn_forget_options_get(d, (int)k, &v);
            print_key_help(f, 1, (int)k, v);
        }
    }
    fputs("\nInner training options, for the methods that train (their defaults depend\n"
          "on the method: retrain repeats the model's recipe, finetune and neggrad\n"
          "continue it for one epoch; fnn and fnn-paper have their own epoch options):\n",
          f);
    for (size_t k = 0; k < fnn_names_count(FNN_NAMES_TRAIN_KEY); k++) {
        int forget, key;
        const char *name = fnn_name(FNN_NAMES_TRAIN_KEY, (int)k);
        if (find_key(name, strlen(name), KEYS_FORGET, &forget, &key))
            continue; /* the forget key of the same name wins (--seed) */
        print_key_help(f, 0, (int)k, NAN);
    }
    fnn_forget_options_free(d);
    fputs("\nExit status 3: the model was saved, but the fnn method did not bring the\n"
          "forget-set accuracy to its target.\n"
          "The run is deterministic for a given --seed and OPENBLAS_NUM_THREADS.\n",
          f);
}

/* Reads a whole file into a new buffer (free() it). */
static int read_text(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(FNN_E_IO, strerror(errno), "--forget-indices %s", path);
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    int rc = EXIT_OK;
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *grown = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
        if (!grown) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = grown;
        cap *= 2;
    }
    if (!buf)
        rc = fail(FNN_E_NOMEM, "", "--forget-indices %s", path);
    else if (ferror(f))
        rc = fail(FNN_E_IO, strerror(errno), "--forget-indices %s", path);
    fclose(f); /* opened for reading: nothing is lost if this fails */
    if (rc != EXIT_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    *len = n;
    return EXIT_OK;
}

/* State shared with the unlearning progress callback. */
struct forget_progress {
    struct bar bar;
    const char *method;
};

static int on_forget_progress(void *user, int phase_kind, uint64_t step, double done,
                              double total, const fnn_forget_report *so_far)
{
    struct forget_progress *p = user;
    (void)so_far;
    char label[64], detail[64];
    const char *phase = fnn_name(FNN_NAMES_PHASE_KIND, phase_kind);
    snprintf(label, sizeof label, "%s: %s", p->method, phase ? phase : "?");
    snprintf(detail, sizeof detail, "step %" PRIu64 "  %.1f GFLOP", step, done * 1e-9);
    bar_draw(&p->bar, label, total > 0 ? done / total : 0, detail);
    return 0;
}

/* Accuracy of m on the test samples of classes other than `label`, from the
 * per-class accuracies. */
static int other_classes(const fnn_model *m, const fnn_dataset *test, int32_t label,
                         double *acc, size_t *samples)
{
    size_t n = fnn_model_num_classes(m);
    double *a = malloc(n * sizeof *a);
    size_t *c = malloc(n * sizeof *c);
    int st = a && c ? fnn_model_class_accuracies(m, test, a, c, n) : FNN_E_NOMEM;
    if (st == FNN_OK) {
        double hits = 0;
        size_t total = 0;
        for (size_t k = 0; k < n; k++)
            if ((int32_t)k != label && c[k]) {
                hits += a[k] * (double)c[k];
                total += c[k];
            }
        *acc = total ? hits / (double)total : NAN;
        *samples = total;
    }
    free(a);
    free(c);
    return st;
}

static void print_forget_report(const fnn_forget_report *r, int method, double eval_samples,
                                const char *holdout, double other_before, double other_after,
                                size_t other_n)
{
    char a[16], b[16], c[16];
    size_t n = fnn_forget_report_num_phases(r);
    double sample = report_value(r, FNN_REPORT_RETAIN_SAMPLE);
    if (n > 0) {
        printf("phase  kind     turn  t   epochs  seconds  forget*  retain*  %s*\n", holdout);
        for (size_t i = 0; i < n; i++) {
            const char *kind = fnn_name(FNN_NAMES_PHASE_KIND,
                                        (int)phase_value(r, i, FNN_PHASE_KIND));
            printf("%-6zu %-8s %-5.0f %-3.0f %-7.0f %-8.2f %-8s %-8s %s\n", i + 1,
                   kind ? kind : "?", phase_value(r, i, FNN_PHASE_TURN),
                   phase_value(r, i, FNN_PHASE_T), phase_value(r, i, FNN_PHASE_EPOCHS),
                   phase_value(r, i, FNN_PHASE_SECONDS),
                   percent(phase_value(r, i, FNN_PHASE_FORGET_ACC), a, sizeof a),
                   percent(phase_value(r, i, FNN_PHASE_RETAIN_ACC), b, sizeof b),
                   percent(phase_value(r, i, FNN_PHASE_HOLDOUT_ACC), c, sizeof c));
        }
        printf("* on fixed monitoring samples of at most %.0f samples per set "
               "(--eval-samples)\n",
               eval_samples);
    }
    char label[64];
    printf("%-32s %-8s %s\n", "accuracy", "before", "after");
    snprintf(label, sizeof label, "forget (all %.0f)", report_value(r, FNN_REPORT_FORGET_SIZE));
    printf("%-32s %-8s %s\n", label,
           percent(report_value(r, FNN_REPORT_FORGET_ACC_BEFORE), a, sizeof a),
           percent(report_value(r, FNN_REPORT_FORGET_ACC_AFTER), b, sizeof b));
    snprintf(label, sizeof label, "retain (sample of %.0f of %.0f)", sample,
             report_value(r, FNN_REPORT_RETAIN_SIZE));
    printf("%-32s %-8s %s\n", label,
           percent(report_value(r, FNN_REPORT_RETAIN_ACC_BEFORE), a, sizeof a),
           percent(report_value(r, FNN_REPORT_RETAIN_ACC_AFTER), b, sizeof b));
    snprintf(label, sizeof label, "%s (all %.0f)", holdout,
             report_value(r, FNN_REPORT_HOLDOUT_SIZE));
    printf("%-32s %-8s %s\n", label,
           percent(report_value(r, FNN_REPORT_HOLDOUT_ACC_BEFORE), a, sizeof a),
           percent(report_value(r, FNN_REPORT_HOLDOUT_ACC_AFTER), b, sizeof b));
    snprintf(label, sizeof label, "loss attack, forget vs %s", holdout);
    printf("%-32s %-8s %s\n", label, percent(report_value(r, FNN_REPORT_MIA_BEFORE), a, sizeof a),
           percent(report_value(r, FNN_REPORT_MIA_AFTER), b, sizeof b));
    if (other_n) {
        snprintf(label, sizeof label, "test, other classes (all %zu)", other_n);
        printf("%-32s %-8s %s\n", label, percent(other_before, a, sizeof a),
               percent(other_after, b, sizeof b));
    }
    if (method == FNN_METHOD_FNN)
        printf("target %s (reached: %s), ", percent(report_value(r, FNN_REPORT_TARGET), a, sizeof a),
               report_value(r, FNN_REPORT_REACHED_TARGET) == 1 ? "yes" : "no");
    double epochs = report_value(r, FNN_REPORT_EPOCHS);
    printf("final t %.0f, %.0f epoch%s, %.2f s (method %.2f s), %.1f GFLOP (method %.1f)\n",
           report_value(r, FNN_REPORT_FINAL_T), epochs, epochs == 1 ? "" : "s",
           report_value(r, FNN_REPORT_SECONDS), report_value(r, FNN_REPORT_METHOD_SECONDS),
           report_value(r, FNN_REPORT_FLOPS) * 1e-9,
           report_value(r, FNN_REPORT_METHOD_FLOPS) * 1e-9);
    double retrain = report_value(r, FNN_REPORT_RETRAIN_FLOPS);
    if (!isnan(retrain))
        printf("retraining on the retain set with the model's recipe: %.1f GFLOP\n",
               retrain * 1e-9);
}

/* Usage errors for keys the chosen method would ignore. */
static int check_applicable(const struct command *cmd, const struct keyval *kv, size_t nkv,
                            int method, int policy)
{
    for (size_t k = 0; k < nkv; k++) {
        if (!kv[k].forget)
            continue;
        uint32_t mask = fnn_forget_key_methods(kv[k].key);
        if (!((mask >> method) & 1)) {
            char methods[200];
            method_list(mask, methods, sizeof methods);
            return usage_error(cmd, "forget: --%s applies to --method %s only", kv[k].name,
                               methods);
        }
        if (kv[k].key == FNN_FORGET_TAU && policy != FNN_POLICY_FIXED)
            return usage_error(cmd, "forget: --tau applies to --policy fixed only");
        if (kv[k].key == FNN_FORGET_TOPK && policy != FNN_POLICY_TOPK &&
            policy != FNN_POLICY_RANDOM)
            return usage_error(cmd, "forget: --topk applies to --policy topk or random only");
    }
    return EXIT_OK;
}

static int cmd_forget(const struct command *cmd, int argc, char **argv)
{
    struct opt o[COUNT(forget_opts)];
    memcpy(o, forget_opts, sizeof o);
    struct keyval *kv = calloc((size_t)argc, sizeof *kv);
    if (!kv)
        return fail(FNN_E_NOMEM, "", "parsing the arguments");
    size_t nkv;
    static const char *const required[] = {"model", "data", "out", NULL};
    int p = parse_args(cmd, argc, argv, o, COUNT(o), KEYS_FORGET | KEYS_TRAIN, kv, &nkv);
    if (p != PARSE_OK) {
        free(kv);
        return p == PARSE_HELP ? EXIT_OK : EXIT_USAGE;
    }
    int rc = EXIT_USAGE, st;
    fnn_forget_options *opts = NULL;
    fnn_model *m = NULL;
    fnn_dataset *train = NULL, *test = NULL;
    fnn_forget_request *req = NULL;
    fnn_forget_report *report = NULL;
    char *spec = NULL, *text = NULL;
    size_t text_len = 0;
    struct split sp = {0};
    struct forget_progress prog = {.bar = {.draw = isatty(STDERR_FILENO)}};

    if (check_required(cmd, o, COUNT(o), required))
        goto done;
    /* Exactly one request. */
    const struct opt *request = NULL;
    for (int k = F_CLASS; k <= F_INDICES; k++) {
        if (!o[k].value)
            continue;
        if (request) {
            rc = usage_error(cmd, "forget: --%s and --%s exclude each other", request->name,
                             o[k].name);
            goto done;
        }
        request = &o[k];
    }
    if (!request) {
        rc = usage_error(cmd, "forget: one of --forget-class, --forget-random or "
                              "--forget-indices is required");
        goto done;
    }
    uint64_t label = 0, count = 0;
    if (opt_uint(cmd, &o[F_CLASS], 0, INT32_MAX, &label) ||
        opt_uint(cmd, &o[F_RANDOM], 1, UINT32_MAX, &count))
        goto done;
    if ((st = fnn_forget_options_create(&opts)) != FNN_OK) {
        rc = fail(st, "", "creating forgetting options");
        goto done;
    }
    if ((rc = apply_keys(cmd, kv, nkv, NULL, opts)) != EXIT_OK)
        goto done;
    double method = 0, policy = 0;
    uint64_t seed = 0;
    fnn_forget_options_get(opts, FNN_FORGET_METHOD, &method);
    fnn_forget_options_get(opts, FNN_FORGET_POLICY, &policy);
    fnn_forget_options_get_u64(opts, FNN_FORGET_SEED, &seed);
    if ((rc = check_applicable(cmd, kv, nkv, (int)method, (int)policy)) != EXIT_OK)
        goto done;
    rc = EXIT_FAIL;
    int early = check_output_path(cmd, o[F_OUT].value);
    if (early != EXIT_OK) {
        rc = early;
        goto done;
    }
    if (o[F_INDICES].value && read_text(o[F_INDICES].value, &text, &text_len))
        goto done;
    if ((st = fnn_forget_report_create(&report)) != FNN_OK) {
        fail(st, "", "creating a forgetting report");
        goto done;
    }
    if (load_model(o[F_MODEL].value, &m) || load_split(o[F_DATA].value, FNN_SPLIT_TRAIN, &train) ||
        load_split(o[F_DATA].value, FNN_SPLIT_TEST, &test))
        goto done;

    /* The samples the model trained on, and its non-members. */
    sp.train = train;
    if (open_model_data(m, &sp))
        goto done;
    fnn_dataset *pool = sp.pool ? sp.pool : train;
    const fnn_dataset *holdout = sp.held ? sp.held : test;
    /* The request, on the samples the model trained on. */
    char what[600]; /* the request, as the output describes it */
    if (o[F_CLASS].value)
        snprintf(what, sizeof what, "class %" PRIu64, label);
    else if (o[F_RANDOM].value)
        snprintf(what, sizeof what, "random, seed %" PRIu64, seed);
    else
        snprintf(what, sizeof what, "indices from %s", o[F_INDICES].value);
    if (request_from_args(&sp, request->name, request->value, text, text_len, seed, &req))
        goto done;
    if (!(spec = model_spec(m))) {
        fail(FNN_E_NOMEM, "", "reading the model specification");
        goto done;
    }
    size_t n_forget = fnn_forget_request_size(req);
    const char *method_name = fnn_name(FNN_NAMES_METHOD, (int)method);
    printf("model %s (%zu parameters)\n", spec, fnn_model_num_params(m));
    if (method == FNN_METHOD_FNN || method == FNN_METHOD_FNN_PAPER)
        printf("method %s, policy %s\n", method_name,
               policy >= 0 ? fnn_name(FNN_NAMES_POLICY, (int)policy)
               : method == FNN_METHOD_FNN ? "contrast (automatic)"
                                          : "rank (automatic)");
    else
        printf("method %s\n", method_name);
    printf("forget set: %zu samples (%s)   retain set: %zu samples\n", n_forget, what,
           fnn_dataset_size(pool) - n_forget);
    if (sp.held)
        printf("holdout: the %zu samples of the train split the model was trained without\n",
               sp.n_held);
    else
        printf("holdout: the test split (the model trained on the whole train split; its "
               "held-out samples, fnn train --holdout, would match the training "
               "distribution)\n");
    fflush(stdout);

    /* For a class, the other classes of the test split before and after. */
    double other_before = NAN, other_after = NAN;
    size_t other_n = 0;
    if (o[F_CLASS].value &&
        (st = other_classes(m, test, (int32_t)label, &other_before, &other_n)) != FNN_OK) {
        fail(st, fnn_model_errmsg(m), "evaluating the test split");
        goto done;
    }
    prog.method = method_name;
    if ((st = fnn_forget_options_set_progress(opts, on_forget_progress, &prog)) != FNN_OK) {
        fail(st, fnn_forget_options_errmsg(opts), "setting the progress callback");
        goto done;
    }
    st = fnn_model_forget(m, req, holdout, opts, report);
    bar_clear(&prog.bar);
    if (st != FNN_OK) {
        fail(st, fnn_model_errmsg(m), "forgetting %s", what);
        goto done;
    }
    if (other_n && (st = other_classes(m, test, (int32_t)label, &other_after, &other_n))) {
        fail(st, fnn_model_errmsg(m), "evaluating the test split");
        goto done;
    }
    double eval_samples = 0;
    fnn_forget_options_get(opts, FNN_FORGET_EVAL_SAMPLES, &eval_samples);
    print_forget_report(report, (int)method, eval_samples, sp.held ? "held-out" : "test",
                        other_before, other_after, other_n);
    fflush(stdout);
    st = fnn_model_save(m, o[F_OUT].value);
    if (st != FNN_OK) {
        fail(st, fnn_model_errmsg(m), "saving the model to %s", o[F_OUT].value);
        goto done;
    }
    printf("saved %s\n", o[F_OUT].value);
    rc = EXIT_OK;
    if (method == FNN_METHOD_FNN && report_value(report, FNN_REPORT_REACHED_TARGET) != 1) {
        char a[16], b[16];
        fprintf(stderr,
                "fnn: warning: the forget-set accuracy (%s) did not reach its target (%s) "
                "by t = %.0f; the model was saved, exit status 3\n",
                percent(report_value(report, FNN_REPORT_FORGET_ACC_AFTER), a, sizeof a),
                percent(report_value(report, FNN_REPORT_TARGET), b, sizeof b),
                report_value(report, FNN_REPORT_FINAL_T));
        rc = EXIT_TARGET;
    }
done:
    bar_clear(&prog.bar);
    free(kv);
    free(spec);
    free(text);
    fnn_forget_report_free(report);
    fnn_forget_request_free(req);
    split_free(&sp);
    fnn_dataset_free(test);
    fnn_dataset_free(train);
    fnn_model_free(m);
    fnn_forget_options_free(opts);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* fnn eval, fnn info, fnn version                                          */
/* ------------------------------------------------------------------------ */

static struct opt eval_opts[] = {
    OPT("model", "FILE", "a model saved by 'fnn train' or fnn_model_save()"),
    OPT("data", "DIR", "data directory (train-images-idx3-ubyte[.gz], ...)"),
    OPT("split", "NAME", "test or train [test]"),
};

static void eval_help(FILE *f)
{
    fputs("Usage: fnn eval --model FILE --data DIR [--split test|train]\n"
          "\n"
          "Prints the accuracy and mean cross-entropy loss of a saved model on one\n"
          "split of an MNIST-style data directory.\n"
          "\n",
          f);
    for (size_t k = 0; k < COUNT(eval_opts); k++)
        print_option_help(f, eval_opts[k].name, eval_opts[k].arg, eval_opts[k].help, NULL);
}

static int cmd_eval(const struct command *cmd, int argc, char **argv)
{
    enum { MODEL, DATA, SPLIT };
    struct opt o[COUNT(eval_opts)];
    memcpy(o, eval_opts, sizeof o);
    static const char *const required[] = {"model", "data", NULL};
    size_t nkv;
    int p = parse_args(cmd, argc, argv, o, COUNT(o), 0, NULL, &nkv);
    if (p != PARSE_OK)
        return p == PARSE_HELP ? EXIT_OK : EXIT_USAGE;
    int split = FNN_SPLIT_TEST;
    if (check_required(cmd, o, COUNT(o), required))
        return EXIT_USAGE;
    if (o[SPLIT].value && fnn_name_lookup(FNN_NAMES_SPLIT, o[SPLIT].value, &split) != FNN_OK)
        return usage_error(cmd, "eval: --split: unknown value '%s'", o[SPLIT].value);

    int rc = EXIT_FAIL;
    fnn_model *m = NULL;
    fnn_dataset *ds = NULL;
    if (load_model(o[MODEL].value, &m) || load_split(o[DATA].value, split, &ds))
        goto done;
    double acc = 0, loss = 0;
    int st = fnn_model_evaluate(m, ds, &acc, &loss);
    if (st != FNN_OK) {
        fail(st, fnn_model_errmsg(m), "evaluating %s on %s", o[MODEL].value, o[DATA].value);
        goto done;
    }
    printf("accuracy %.2f%%  mean loss %.4f  (%zu %s samples)\n", 100.0 * acc, loss,
           fnn_dataset_size(ds), fnn_name(FNN_NAMES_SPLIT, split));
    rc = EXIT_OK;
done:
    fnn_dataset_free(ds);
    fnn_model_free(m);
    return rc;
}

static struct opt info_opts[] = {
    OPT("model", "FILE", "a model saved by 'fnn train' or fnn_model_save()"),
};

static void info_help(FILE *f)
{
    fputs("Usage: fnn info --model FILE\n"
          "\n"
          "Prints a saved model's specification, parameter count, number of classes,\n"
          "input shape, the training recipe it records and its deletion history: one\n"
          "record per unlearning run, with the SHA-256 of the forgotten indices.\n",
          f);
}

/* Prints the recorded recipe: "trained by N call(s): KEY VALUE ...". */
static void print_recipe(const fnn_model *m)
{
    uint32_t calls = fnn_model_recipe_calls(m);
    fnn_train_options *r = NULL;
    uint64_t init = 0, samples = 0;
    if (calls == 0 || fnn_model_recipe(m, &r, &init, &samples) != FNN_OK) {
        printf("recipe      none recorded\n");
        return;
    }
    printf("recipe      %" PRIu32 " training call%s on %" PRIu64 " samples, init seed %" PRIu64
           "\n           ",
           calls, calls == 1 ? "" : "s", samples, init);
    for (size_t k = 0; k < fnn_names_count(FNN_NAMES_TRAIN_KEY); k++) {
        double v = 0;
        uint32_t flags = 0;
        int names = -1;
        char buf[40];
        fnn_train_options_get(r, (int)k, &v);
        fnn_train_key_bounds((int)k, NULL, NULL, &flags, &names);
        if (k == FNN_TRAIN_SEED) {
            uint64_t s = 0;
            fnn_train_options_get_u64(r, (int)k, &s);
            snprintf(buf, sizeof buf, "%" PRIu64, s);
            printf(" --%s %s", fnn_name(FNN_NAMES_TRAIN_KEY, (int)k), buf);
            continue;
        }
        printf(" --%s %s", fnn_name(FNN_NAMES_TRAIN_KEY, (int)k),
               value_text(v, flags, names, buf, sizeof buf));
    }
    printf("\n");
    fnn_train_options_free(r);
}

/* Prints the deletion history, one record per deletion. */
static void print_history(const fnn_model *m)
{
    size_t n = fnn_model_history_count(m);
    if (n == 0) {
        printf("history     no deletions recorded\n");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        double v[FNN_HISTORY_FLOPS + 1];
        for (int k = 0; k <= FNN_HISTORY_FLOPS; k++)
            if (fnn_model_history_get(m, i, k, &v[k]) != FNN_OK)
                v[k] = NAN;
        const char *method = fnn_name(FNN_NAMES_METHOD, (int)v[FNN_HISTORY_METHOD]);
        const char *kind = fnn_name(FNN_NAMES_REQUEST_KIND, (int)v[FNN_HISTORY_REQUEST_KIND]);
        char what[48], a[16], b[16];
        if (v[FNN_HISTORY_REQUEST_KIND] == FNN_REQUEST_CLASS)
            snprintf(what, sizeof what, "class %.0f", v[FNN_HISTORY_CLASS]);
        else
            snprintf(what, sizeof what, "%s", kind ? kind : "?");
        uint8_t d[32];
        char hex[65] = "";
        if (fnn_model_history_digest(m, i, d) == FNN_OK)
            for (int k = 0; k < 32; k++)
                snprintf(hex + 2 * k, 3, "%02x", d[k]);
        const char *ver = fnn_model_history_version(m, i);
        printf("deletion %zu  %s: %s, %.0f of %.0f samples, libfnn %s\n", i + 1,
               method ? method : "?", what, v[FNN_HISTORY_FORGET_SIZE],
               v[FNN_HISTORY_TRAIN_SIZE], ver ? ver : "?");
        printf("            forget %s -> %s", percent(v[FNN_HISTORY_FORGET_ACC_BEFORE], a, 16),
               percent(v[FNN_HISTORY_FORGET_ACC_AFTER], b, 16));
        printf(", retain sample %s -> %s", percent(v[FNN_HISTORY_RETAIN_ACC_BEFORE], a, 16),
               percent(v[FNN_HISTORY_RETAIN_ACC_AFTER], b, 16));
        printf(", holdout %s -> %s", percent(v[FNN_HISTORY_HOLDOUT_ACC_BEFORE], a, 16),
               percent(v[FNN_HISTORY_HOLDOUT_ACC_AFTER], b, 16));
        printf(", loss MIA %s -> %s, %.1f GFLOP\n", percent(v[FNN_HISTORY_MIA_BEFORE], a, 16),
               percent(v[FNN_HISTORY_MIA_AFTER], b, 16), v[FNN_HISTORY_FLOPS] * 1e-9);
        printf("            sha256 of the indices %s\n", hex);
    }
}

static int cmd_info(const struct command *cmd, int argc, char **argv)
{
    struct opt o[COUNT(info_opts)];
    memcpy(o, info_opts, sizeof o);
    static const char *const required[] = {"model", NULL};
    size_t nkv;
    int p = parse_args(cmd, argc, argv, o, COUNT(o), 0, NULL, &nkv);
    if (p != PARSE_OK)
        return p == PARSE_HELP ? EXIT_OK : EXIT_USAGE;
    if (check_required(cmd, o, COUNT(o), required))
        return EXIT_USAGE;

    fnn_model *m = NULL;
    if (load_model(o[0].value, &m))
        return EXIT_FAIL;
    char *spec = model_spec(m);
    uint32_t rows = 0, cols = 0, channels = 0;
    int st = fnn_model_input_shape(m, &rows, &cols, &channels);
    int rc = EXIT_OK;
    if (!spec) {
        rc = fail(FNN_E_NOMEM, "", "reading the model specification");
    } else if (st != FNN_OK) {
        rc = fail(st, fnn_model_errmsg(m), "reading the input shape");
    } else {
        printf("spec        %s\n", spec);
        printf("parameters  %zu\n", fnn_model_num_params(m));
        printf("classes     %" PRIu32 "\n", fnn_model_num_classes(m));
        printf("input       %" PRIu32 "x%" PRIu32 "x%" PRIu32 "\n", rows, cols, channels);
        print_recipe(m);
        print_history(m);
    }
    free(spec);
    fnn_model_free(m);
    return rc;
}

static void version_help(FILE *f)
{
    fputs("Usage: fnn version\n"
          "\n"
          "Prints the version of fnn and of the libfnn it runs with.\n",
          f);
}

static int cmd_version(const struct command *cmd, int argc, char **argv)
{
    size_t nkv;
    int p = parse_args(cmd, argc, argv, NULL, 0, 0, NULL, &nkv);
    if (p != PARSE_OK)
        return p == PARSE_HELP ? EXIT_OK : EXIT_USAGE;
    printf("fnn %s (libfnn %s)\n", FNN_VERSION_STRING, fnn_version_string());
    return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* Dispatch                                                                 */
/* ------------------------------------------------------------------------ */

static const struct command commands[] = {
    {"train", "train a model on an MNIST-style data directory", cmd_train, train_help},
    {"forget", "make a saved model forget part of its training data", cmd_forget,
     forget_help},
    {"bench", "measure every unlearning method against retraining, in one run", cmd_bench,
     bench_help},
    {"audit", "gather the evidence that a model forgot a deletion request", cmd_audit,
     audit_help},
    {"eval", "print a saved model's accuracy and loss on a data set", cmd_eval, eval_help},
    {"info", "describe a saved model", cmd_info, info_help},
    {"version", "print the version", cmd_version, version_help},
};

static void main_help(FILE *f)
{
    fputs("Usage: fnn COMMAND [OPTIONS]\n"
          "\n"
          "Trains, evaluates and describes libfnn models, and makes them forget\n"
          "chosen training data.\n"
          "\n"
          "Commands:\n",
          f);
    for (size_t k = 0; k < COUNT(commands); k++)
        fprintf(f, "  %-9s %s\n", commands[k].name, commands[k].summary);
    fputs("\nRun 'fnn COMMAND --help' for the options of a command.\n"
          "Exit status: 0 success, 1 failure, 2 usage error, 3 (forget) target not "
          "reached.\n",
          f);
}

static const struct command *find_command(const char *name)
{
    for (size_t k = 0; k < COUNT(commands); k++)
        if (strcmp(commands[k].name, name) == 0)
            return &commands[k];
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        main_help(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0) {
        main_help(stdout);
        return EXIT_OK;
    }
    if (strcmp(name, "--version") == 0)
        name = "version";
    if (strcmp(name, "help") == 0) {
        if (argc < 3) {
            main_help(stdout);
            return EXIT_OK;
        }
        const struct command *cmd = find_command(argv[2]);
        if (!cmd)
            return usage_error(NULL, "help: unknown command '%s'", argv[2]);
        cmd->help(stdout);
        return EXIT_OK;
    }
    const struct command *cmd = find_command(name);
    if (!cmd)
        return usage_error(NULL, "unknown command '%s'", name);
    int rc = cmd->run(cmd, argc - 1, argv + 1);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "fnn: writing to standard output: %s\n", strerror(errno));
        return EXIT_FAIL;
    }
    return rc;
}
