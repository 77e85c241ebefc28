/*
 * fnn: the command-line front end of libfnn. Trains, evaluates and describes
 * models stored in the libfnn file format, and makes them forget chosen
 * training data, using only the public API.
 *
 * Exit status: 0 on success, 1 when an operation fails, 2 on a usage error.
 * Results go to stdout; errors, and a progress bar when stderr is a terminal,
 * go to stderr.
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

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* Training defaults of an architecture: the library's recipe for a preset
 * (fnn_train_options_preset), the library's defaults for any other spec. */
struct arch_defaults {
    int optimizer;        /* enum fnn_optimizer */
    double learning_rate;
    double momentum;      /* used with SGD only */
    uint64_t batch_size;
    double lr_gamma;      /* learning rate factor after every epoch */
};

static const char *const preset_names[] = {"mlp", "paper-cnn"};

static int defaults_for(const char *arch, struct arch_defaults *d)
{
    fnn_train_options *o = NULL;
    double v[5] = {0}, schedule = FNN_LR_CONSTANT;
    if (fnn_train_options_create(&o) != FNN_OK)
        return -1;
    if (arch)
        (void)fnn_train_options_preset(o, arch); /* other specs keep the defaults */
    static const int keys[5] = {FNN_TRAIN_OPTIMIZER, FNN_TRAIN_LEARNING_RATE,
                                FNN_TRAIN_MOMENTUM, FNN_TRAIN_BATCH_SIZE, FNN_TRAIN_LR_GAMMA};
    for (int k = 0; k < 5; k++)
        fnn_train_options_get(o, keys[k], &v[k]);
    fnn_train_options_get(o, FNN_TRAIN_LR_SCHEDULE, &schedule);
    fnn_train_options_free(o);
    *d = (struct arch_defaults){(int)v[0], v[1], v[2], (uint64_t)v[3],
                                schedule == FNN_LR_STEP ? v[4] : 1.0};
    return 0;
}

static const char *const optimizer_names[] = {
    [FNN_OPTIMIZER_SGD] = "sgd",
    [FNN_OPTIMIZER_ADAM] = "adam",
};

/* ------------------------------------------------------------------------ */
/* Commands and their options                                               */
/* ------------------------------------------------------------------------ */

struct command {
    const char *name;
    const char *summary;
    int (*run)(const struct command *cmd, int argc, char **argv);
    void (*help)(FILE *f);
};

/* A long option of a command. Every option takes a value, given as
 * "--name VALUE" or "--name=VALUE". */
struct opt {
    const char *name;  /* without the leading "--" */
    const char *value; /* set by parse_opts(); NULL when absent */
};

enum { PARSE_OK, PARSE_HELP, PARSE_ERROR };

/* Prints "fnn: MESSAGE" and a hint to stderr; returns EXIT_USAGE. */
static int usage_error(const struct command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int usage_error(const struct command *cmd, const char *fmt, ...)
{
    va_list ap;
    fputs("fnn: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (cmd)
        fprintf(stderr, "\nTry 'fnn %s --help'.\n", cmd->name);
    else
        fputs("\nTry 'fnn --help'.\n", stderr);
    return EXIT_USAGE;
}

/* Prints "fnn: WHAT: DETAIL (STATUS TEXT)" to stderr; returns EXIT_FAIL.
 * DETAIL is the library's message for the failed call and may be empty. */
static int fail(int status, const char *detail, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(int status, const char *detail, const char *fmt, ...)
{
    va_list ap;
    fputs("fnn: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (detail && detail[0])
        fprintf(stderr, ": %s (%s)\n", detail, fnn_strerror(status));
    else
        fprintf(stderr, ": %s\n", fnn_strerror(status));
    return EXIT_FAIL;
}

/* Fills opts[i].value from argv[1..argc-1]. Prints the command's help on -h
 * or --help (PARSE_HELP) and a usage error on anything else it does not
 * know, a missing value or an option given twice (PARSE_ERROR). */
static int parse_opts(const struct command *cmd, int argc, char **argv, struct opt *opts,
                      size_t n)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            cmd->help(stdout);
            return PARSE_HELP;
        }
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            usage_error(cmd, "%s: unexpected argument '%s'", cmd->name, arg);
            return PARSE_ERROR;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        struct opt *o = NULL;
        for (size_t k = 0; k < n; k++) {
            if (strlen(opts[k].name) == len && strncmp(opts[k].name, name, len) == 0) {
                o = &opts[k];
                break;
            }
        }
        if (!o) {
            usage_error(cmd, "%s: unknown option '--%.*s'", cmd->name, (int)len, name);
            return PARSE_ERROR;
        }
        if (o->value) {
            usage_error(cmd, "%s: option '--%s' given twice", cmd->name, o->name);
            return PARSE_ERROR;
        }
        if (eq) {
            o->value = eq + 1;
        } else if (i + 1 < argc) {
            o->value = argv[++i];
        } else {
            usage_error(cmd, "%s: option '--%s' needs a value", cmd->name, o->name);
            return PARSE_ERROR;
        }
    }
    return PARSE_OK;
}

/* Checks that every option named in `required` was given. */
static int check_required(const struct command *cmd, const struct opt *opts, size_t n,
                          const char *const *required)
{
    for (; *required; required++) {
        for (size_t k = 0; k < n; k++) {
            if (strcmp(opts[k].name, *required) == 0 && !opts[k].value)
                return usage_error(cmd, "%s: option '--%s' is required", cmd->name,
                                   *required);
        }
    }
    return EXIT_OK;
}

/* Reads an absent-or-given option as a whole decimal integer in [min, max];
 * *out is left unchanged when the option is absent. */
static int opt_uint(const struct command *cmd, const struct opt *o, uint64_t min,
                    uint64_t max, uint64_t *out)
{
    if (!o->value)
        return EXIT_OK;
    const char *s = o->value;
    char *end = NULL;
    unsigned long long v = 0;
    int ok = s[0] >= '0' && s[0] <= '9'; /* strtoull would take spaces and signs */
    if (ok) {
        errno = 0;
        v = strtoull(s, &end, 10);
        ok = errno == 0 && *end == '\0' && v >= min && v <= max;
    }
    if (!ok)
        return usage_error(cmd, "%s: --%s: expected an integer in [%" PRIu64 ", %" PRIu64
                                "], got '%s'",
                           cmd->name, o->name, min, max, s);
    *out = (uint64_t)v;
    return EXIT_OK;
}

/* Reads an absent-or-given option as a finite real number in the interval
 * from lo to hi (lo_open, hi_open exclude the ends); *out is left unchanged
 * when the option is absent. */
static int opt_real(const struct command *cmd, const struct opt *o, double lo, int lo_open,
                    double hi, int hi_open, double *out)
{
    if (!o->value)
        return EXIT_OK;
    const char *s = o->value;
    char *end = NULL;
    double v = 0;
    /* strtod would also take leading spaces, "inf", "nan" and hex. */
    int ok = (s[0] >= '0' && s[0] <= '9') || s[0] == '.' ||
             ((s[0] == '-' || s[0] == '+') && ((s[1] >= '0' && s[1] <= '9') || s[1] == '.'));
    ok = ok && !strpbrk(s, "xX");
    if (ok) {
        errno = 0;
        v = strtod(s, &end);
        ok = errno == 0 && *end == '\0' && isfinite(v) && (lo_open ? v > lo : v >= lo) &&
             (hi_open ? v < hi : v <= hi);
    }
    if (!ok)
        return usage_error(cmd, "%s: --%s: expected a number in %c%g, %g%c, got '%s'",
                           cmd->name, o->name, lo_open ? '(' : '[', lo, hi,
                           hi_open ? ')' : ']', s);
    *out = v;
    return EXIT_OK;
}

/* Reads an absent-or-given option as one of `names` (n entries, NULL entries
 * skipped); *out receives the index. */
static int opt_choice(const struct command *cmd, const struct opt *o,
                      const char *const *names, size_t n, int *out)
{
    if (!o->value)
        return EXIT_OK;
    for (size_t k = 0; k < n; k++) {
        if (names[k] && strcmp(names[k], o->value) == 0) {
            *out = (int)k;
            return EXIT_OK;
        }
    }
    return usage_error(cmd, "%s: --%s: unknown value '%s'", cmd->name, o->name, o->value);
}

static const char *const split_names[] = {
    [FNN_SPLIT_TRAIN] = "train",
    [FNN_SPLIT_TEST] = "test",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Fails early, before any training, when the model could not be saved at
 * `path`: it names a directory, or its directory is not writable. */
static int check_output_path(const struct command *cmd, const char *path)
{
    struct stat st;
    if (path[0] == '\0')
        return usage_error(cmd, "%s: --out: empty file name", cmd->name);
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "fnn: --out %s: is a directory\n", path);
        return EXIT_FAIL;
    }
    const char *slash = strrchr(path, '/');
    char *dir = NULL;
    if (!slash) {
        dir = strdup(".");
    } else if (slash == path) {
        dir = strdup("/");
    } else {
        size_t len = (size_t)(slash - path);
        dir = malloc(len + 1);
        if (dir) {
            memcpy(dir, path, len);
            dir[len] = '\0';
        }
    }
    if (!dir)
        return fail(FNN_E_NOMEM, "", "--out %s", path);
    int rc = EXIT_OK;
    if (access(dir, W_OK | X_OK) != 0) {
        fprintf(stderr, "fnn: --out %s: cannot write in directory '%s': %s\n", path, dir,
                strerror(errno));
        rc = EXIT_FAIL;
    }
    free(dir);
    return rc;
}

/* Loads one half of an MNIST-style directory. */
static int load_split(const char *dir, int split, fnn_dataset **out)
{
    char err[512] = "";
    int rc = fnn_dataset_load_dir(out, dir, split, err, sizeof err);
    if (rc != FNN_OK)
        return fail(rc, err, "loading the %s split of %s", split_names[split], dir);
    return EXIT_OK;
}

static int load_model(const char *path, fnn_model **out)
{
    char err[512] = "";
    int rc = fnn_model_load(out, path, err, sizeof err);
    if (rc != FNN_OK)
        return fail(rc, err, "loading model %s", path);
    return EXIT_OK;
}

/* The model's canonical specification in a new string (free() it), or NULL. */
static char *model_spec(const fnn_model *m)
{
    size_t len = fnn_model_spec(m, NULL, 0);
    char *s = malloc(len + 1);
    if (s)
        fnn_model_spec(m, s, len + 1);
    return s;
}

/* ------------------------------------------------------------------------ */
/* fnn train                                                                */
/* ------------------------------------------------------------------------ */

/* State shared with the progress callback. */
struct progress {
    int draw;          /* draw a bar on stderr (it is a terminal) */
    uint64_t epoch;    /* 1-based epoch being trained */
    uint64_t epochs;   /* epochs in the run */
    float loss;        /* mean training loss of the epoch so far */
    double last_draw;  /* now_seconds() of the last redraw */
    int shown;         /* a bar is on the terminal */
    fnn_model *model;  /* evaluated on `test` at the end of every epoch */
    fnn_dataset *test;
    double epoch_start;
    int status;        /* first failure of an evaluation */
};

static void progress_clear(struct progress *p);

/* Prints the summary line of an epoch that has just ended. */
static int epoch_done(struct progress *p)
{
    double seconds = now_seconds() - p->epoch_start;
    progress_clear(p);
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

static int on_progress(void *user, uint32_t epoch, uint32_t epochs, size_t batch,
                       size_t batches, float loss)
{
    struct progress *p = user;
    (void)epochs;
    p->epoch = (uint64_t)epoch + 1;
    p->loss = loss;
    if (batch == batches)
        return epoch_done(p);
    if (!p->draw)
        return 0;
    double t = now_seconds();
    if (t - p->last_draw < 0.1)
        return 0;
    enum { WIDTH = 30 };
    char bar[WIDTH + 1];
    size_t filled = batches ? batch * WIDTH / batches : WIDTH;
    for (size_t k = 0; k < WIDTH; k++)
        bar[k] = k < filled ? '#' : '.';
    bar[WIDTH] = '\0';
    fprintf(stderr, "\repoch %" PRIu64 "/%" PRIu64 " [%s] %zu/%zu  loss %.4f", p->epoch,
            p->epochs, bar, batch, batches, (double)loss);
    fflush(stderr);
    p->last_draw = t;
    p->shown = 1;
    return 0;
}

static void progress_clear(struct progress *p)
{
    if (p->shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        p->shown = 0;
    }
}

static void train_help(FILE *f)
{
    fputs("Usage: fnn train --data DIR --arch ARCH --epochs N --out FILE [OPTIONS]\n"
          "\n"
          "Trains a model on the train split of DIR (an MNIST-style directory of IDX\n"
          "files, raw or .gz); after each epoch it prints the mean training loss and the\n"
          "accuracy on the test split. Inputs are normalised by the training set's mean\n"
          "and standard deviation while training; the normalisation is then folded into\n"
          "the first layer, so the saved model takes the raw [0, 1] pixels. Saves the\n"
          "model to FILE.\n"
          "\n"
          "  --data DIR          data directory (train-images-idx3-ubyte[.gz], ...)\n"
          "  --arch ARCH         'mlp', 'paper-cnn' or a specification string such as\n"
          "                      'input:28x28x1,dense:128,relu,dense:10'\n"
          "  --epochs N          number of epochs\n"
          "  --out FILE          where to save the trained model\n"
          "  --batch B           samples per step (1..65536)\n"
          "  --lr X              learning rate (> 0)\n"
          "  --optimizer NAME    sgd or adam\n"
          "  --momentum M        SGD momentum in [0, 1)\n"
          "  --weight-decay W    L2 coefficient (>= 0) [0]\n"
          "  --lr-step S         multiply the learning rate by G every S epochs [1]\n"
          "  --lr-gamma G        the factor of --lr-step, in (0, 1]\n"
          "  --normalize 0|1     normalise inputs while training [1]\n"
          "  --seed S            seed of initialisation, shuffling and dropout [0]\n"
          "\n"
          "Defaults by architecture:\n",
          f);
    for (size_t k = 0; k <= COUNT(preset_names); k++) {
        const char *arch = k < COUNT(preset_names) ? preset_names[k] : NULL;
        struct arch_defaults d;
        if (defaults_for(arch, &d) != 0)
            continue;
        fprintf(f, "  %-10s --optimizer %s --lr %g", arch ? arch : "other",
                optimizer_names[d.optimizer], d.learning_rate);
        if (d.optimizer == FNN_OPTIMIZER_SGD)
            fprintf(f, " --momentum %g", d.momentum);
        fprintf(f, " --batch %" PRIu64 " --lr-gamma %g\n", d.batch_size, d.lr_gamma);
    }
    fputs("\nThe run is deterministic for a given --seed and OPENBLAS_NUM_THREADS.\n", f);
}

static int set_option(fnn_train_options *o, int key, double value, const char *what)
{
    int rc = fnn_train_options_set(o, key, value);
    if (rc != FNN_OK)
        return fail(rc, fnn_train_options_errmsg(o), "setting %s", what);
    return EXIT_OK;
}

static int cmd_train(const struct command *cmd, int argc, char **argv)
{
    enum {
        DATA, ARCH, EPOCHS, OUT, BATCH, LR, OPTIMIZER, MOMENTUM, WEIGHT_DECAY, LR_STEP,
        LR_GAMMA, SEED, NORMALIZE, NOPTS
    };
    struct opt o[NOPTS] = {
        [DATA] = {"data", NULL},       [ARCH] = {"arch", NULL},
        [EPOCHS] = {"epochs", NULL},   [OUT] = {"out", NULL},
        [BATCH] = {"batch", NULL},     [LR] = {"lr", NULL},
        [OPTIMIZER] = {"optimizer", NULL}, [MOMENTUM] = {"momentum", NULL},
        [WEIGHT_DECAY] = {"weight-decay", NULL}, [LR_STEP] = {"lr-step", NULL},
        [LR_GAMMA] = {"lr-gamma", NULL}, [SEED] = {"seed", NULL},
        [NORMALIZE] = {"normalize", NULL},
    };
    static const char *const required[] = {"data", "arch", "epochs", "out", NULL};
    int p = parse_opts(cmd, argc, argv, o, NOPTS);
    if (p != PARSE_OK)
        return p == PARSE_HELP ? EXIT_OK : EXIT_USAGE;
    if (check_required(cmd, o, NOPTS, required) != EXIT_OK)
        return EXIT_USAGE;

    struct arch_defaults d;
    if (defaults_for(o[ARCH].value, &d) != 0)
        return fail(FNN_E_NOMEM, "", "reading the training defaults");
    uint64_t epochs = 0, batch = d.batch_size, lr_step = 1, seed = 0, normalize = 1;
    double lr = d.learning_rate, momentum = d.momentum, weight_decay = 0, gamma = d.lr_gamma;
    int optimizer = d.optimizer;
    if (opt_uint(cmd, &o[EPOCHS], 1, UINT32_MAX, &epochs) ||
        opt_uint(cmd, &o[BATCH], 1, 65536, &batch) ||
        opt_real(cmd, &o[LR], 0, 1, HUGE_VAL, 1, &lr) ||
        opt_choice(cmd, &o[OPTIMIZER], optimizer_names, COUNT(optimizer_names), &optimizer) ||
        opt_real(cmd, &o[MOMENTUM], 0, 0, 1, 1, &momentum) ||
        opt_real(cmd, &o[WEIGHT_DECAY], 0, 0, HUGE_VAL, 1, &weight_decay) ||
        opt_uint(cmd, &o[LR_STEP], 1, UINT32_MAX, &lr_step) ||
        opt_real(cmd, &o[LR_GAMMA], 0, 1, 1, 0, &gamma) ||
        opt_uint(cmd, &o[SEED], 0, (UINT64_C(1) << 53), &seed) ||
        opt_uint(cmd, &o[NORMALIZE], 0, 1, &normalize))
        return EXIT_USAGE;
    if (o[MOMENTUM].value && optimizer != FNN_OPTIMIZER_SGD)
        return usage_error(cmd, "train: --momentum applies to --optimizer sgd only");
    const char *data = o[DATA].value, *out = o[OUT].value;
    int early = check_output_path(cmd, out);
    if (early != EXIT_OK)
        return early;

    int rc = EXIT_FAIL, st;
    fnn_dataset *train = NULL, *test = NULL;
    fnn_model *m = NULL;
    fnn_train_options *opts = NULL;
    char *spec = NULL;
    char err[512] = "";
    struct progress prog = {.draw = isatty(STDERR_FILENO), .epochs = epochs};
    float mean = 0, sd = 1;

    /* The model first: a mistyped specification fails before any loading. */
    st = fnn_model_create(&m, o[ARCH].value, seed, err, sizeof err);
    if (st != FNN_OK) {
        fail(st, err, "creating a model from '%s'", o[ARCH].value);
        goto done;
    }
    if (load_split(data, FNN_SPLIT_TRAIN, &train) || load_split(data, FNN_SPLIT_TEST, &test))
        goto done;
    st = fnn_train_options_create(&opts);
    if (st != FNN_OK) {
        fail(st, "", "creating training options");
        goto done;
    }
    if (normalize) {
        /* Statistics of the training set, applied to both splits. */
        st = fnn_dataset_channel_stats(train, &mean, &sd, 1);
        if (st == FNN_OK)
            st = fnn_dataset_set_normalization(train, &mean, &sd, 1);
        if (st == FNN_OK)
            st = fnn_dataset_set_normalization(test, &mean, &sd, 1);
        if (st != FNN_OK) {
            fail(st, fnn_dataset_errmsg(train), "normalising %s", data);
            goto done;
        }
    }
    if (set_option(opts, FNN_TRAIN_EPOCHS, (double)epochs, "--epochs") ||
        set_option(opts, FNN_TRAIN_LEARNING_RATE, lr, "--lr") ||
        set_option(opts, FNN_TRAIN_SEED, (double)seed, "--seed") ||
        set_option(opts, FNN_TRAIN_LR_SCHEDULE, gamma < 1 ? FNN_LR_STEP : FNN_LR_CONSTANT,
                   "the schedule") ||
        set_option(opts, FNN_TRAIN_LR_STEP, (double)lr_step, "--lr-step") ||
        set_option(opts, FNN_TRAIN_LR_GAMMA, gamma, "--lr-gamma") ||
        set_option(opts, FNN_TRAIN_BATCH_SIZE, (double)batch, "--batch") ||
        set_option(opts, FNN_TRAIN_OPTIMIZER, optimizer, "--optimizer") ||
        set_option(opts, FNN_TRAIN_WEIGHT_DECAY, weight_decay, "--weight-decay") ||
        (optimizer == FNN_OPTIMIZER_SGD &&
         set_option(opts, FNN_TRAIN_MOMENTUM, momentum, "--momentum")))
        goto done;
    st = fnn_train_options_set_progress(opts, on_progress, &prog);
    if (st != FNN_OK) {
        fail(st, fnn_train_options_errmsg(opts), "setting the progress callback");
        goto done;
    }

    spec = model_spec(m);
    if (!spec) {
        fail(FNN_E_NOMEM, "", "reading the model specification");
        goto done;
    }
    printf("model %s (%zu parameters)\n", spec, fnn_model_num_params(m));
    printf("data %s: %zu train, %zu test samples; %s, lr %g, batch %" PRIu64 "\n", data,
           fnn_dataset_size(train), fnn_dataset_size(test), optimizer_names[optimizer], lr,
           batch);
    fflush(stdout);

    prog.model = m;
    prog.test = test;
    prog.epoch_start = now_seconds();
    st = fnn_model_train(m, train, opts);
    progress_clear(&prog);
    if (prog.status != FNN_OK)
        goto done;
    if (st != FNN_OK) {
        if (prog.epoch)
            fail(st, fnn_model_errmsg(m), "training epoch %" PRIu64, prog.epoch);
        else
            fail(st, fnn_model_errmsg(m), "training");
        goto done;
    }
    if (normalize) {
        st = fnn_model_fold_input_normalization(m, &mean, &sd, 1);
        if (st != FNN_OK) {
            fail(st, fnn_model_errmsg(m), "folding the input normalisation");
            goto done;
        }
    }

    st = fnn_model_save(m, out);
    if (st != FNN_OK) {
        fail(st, fnn_model_errmsg(m), "saving the model to %s", out);
        goto done;
    }
    printf("saved %s\n", out);
    rc = EXIT_OK;
done:
    progress_clear(&prog);
    free(spec);
    fnn_train_options_free(opts);
    fnn_model_free(m);
    fnn_dataset_free(test);
    fnn_dataset_free(train);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* fnn forget                                                               */
/* ------------------------------------------------------------------------ */

static const char *const policy_names[] = {
    [FNN_POLICY_FIXED] = "fixed", [FNN_POLICY_ORDERED] = "ordered",
    [FNN_POLICY_RANK] = "rank",   [FNN_POLICY_TOPK] = "topk",
    [FNN_POLICY_RANDOM] = "random",
};

static const char *const procedure_names[] = {
    [FNN_PROCEDURE_POSTHOC] = "posthoc",
    [FNN_PROCEDURE_PAPER] = "paper",
};

static const char *const phase_names[] = {
    [FNN_PHASE_LEARN] = "learn",
    [FNN_PHASE_UNLEARN] = "unlearn",
    [FNN_PHASE_DECAY] = "decay",
};

/* The values --decay-output takes, in the order of their numbers -1, 0, 1. */
static const char *const tristate_names[] = {"-1", "0", "1"};

/* The numeric options of fnn forget. Each goes to fnn_forget_options_set()
 * only when given, so the library's defaults stay the defaults; the help
 * prints those defaults as fnn_forget_options_get() reports them. */
enum {
    SET_SEED, SET_BATCH, SET_LR, SET_LR_GAMMA, SET_FOLD, SET_DECAY_OUTPUT, SET_TAU, SET_TOPK,
    SET_MAX_T, SET_TARGET, SET_REPAIR_EPOCHS, SET_REPAIR_FRACTION, SET_TURNS,
    SET_LEARN_EPOCHS, SET_UNLEARN_EPOCHS, NSETTINGS
};

enum { ARG_UINT, ARG_REAL, ARG_TRISTATE };

static const struct forget_setting {
    const char *name;      /* option name without "--" */
    const char *arg;       /* its value, as the help shows it */
    int key;               /* enum fnn_forget_key */
    int type;              /* ARG_* */
    double lo, hi;         /* ARG_UINT, ARG_REAL: the accepted interval */
    int lo_open, hi_open;  /* ARG_REAL: whether it excludes its ends */
    int group;             /* heading in the help (forget_groups) */
    const char *help;      /* lines after the first indented in the help */
    const char *automatic; /* how the library chooses a default of -1, or NULL */
} forget_settings[NSETTINGS] = {
    [SET_SEED] = {"seed", "S", FNN_FORGET_SEED, ARG_UINT, 0, 9007199254740992.0, 0, 0, 0,
                  "seed of --forget-random, the random policy, the repair\n"
                  "samples and the shuffling",
                  NULL},
    [SET_BATCH] = {"batch", "B", FNN_FORGET_BATCH_SIZE, ARG_UINT, 1, 65536, 0, 0, 0,
                   "samples per step (1..65536)", NULL},
    [SET_LR] = {"lr", "X", FNN_FORGET_LEARNING_RATE, ARG_REAL, 0, HUGE_VAL, 1, 1, 0,
                "learning rate (> 0)", NULL},
    [SET_LR_GAMMA] = {"lr-gamma", "G", FNN_FORGET_LR_GAMMA, ARG_REAL, 0, 1, 1, 0, 0,
                      "learning rate factor after every epoch, in (0, 1]",
                      "paper 0.07, posthoc 1"},
    [SET_FOLD] = {"fold", "0|1", FNN_FORGET_FOLD, ARG_UINT, 0, 1, 0, 0, 0,
                  "1 folds the decay into the weights at the end", NULL},
    [SET_DECAY_OUTPUT] = {"decay-output", "-1|0|1", FNN_FORGET_DECAY_OUTPUT, ARG_TRISTATE,
                          -1, 1, 0, 0, 0,
                          "1: the output layer forgets too; 0: only the hidden\n"
                          "dense layers; -1: paper 1, posthoc 0",
                          NULL},
    [SET_TAU] = {"tau", "X", FNN_FORGET_TAU, ARG_REAL, 0, HUGE_VAL, 1, 1, 1,
                 "--policy fixed: tau of every neuron (> 0)", NULL},
    [SET_TOPK] = {"topk", "K", FNN_FORGET_TOPK, ARG_UINT, 1, 65536, 0, 0, 1,
                  "--policy topk, random: neurons set to forget fastest, at\n"
                  "width 128, scaled to each layer's width (1..65536)",
                  NULL},
    [SET_MAX_T] = {"max-t", "T", FNN_FORGET_MAX_T, ARG_UINT, 1, UINT32_MAX, 0, 0, 2,
                   "largest forgetting clock t (>= 1)", NULL},
    [SET_TARGET] = {"target", "A", FNN_FORGET_TARGET, ARG_REAL, 0, 1, 0, 0, 2,
                    "forget-set accuracy to reach, a fraction in [0, 1]",
                    "0 for a class, else the test accuracy before"},
    [SET_REPAIR_EPOCHS] = {"repair-epochs", "E", FNN_FORGET_REPAIR_EPOCHS, ARG_UINT, 0,
                           UINT32_MAX, 0, 0, 2, "repair epochs per clock step (>= 0)", NULL},
    [SET_REPAIR_FRACTION] = {"repair-fraction", "F", FNN_FORGET_REPAIR_FRACTION, ARG_REAL, 0,
                             1, 1, 0, 2, "share of the retain set per repair epoch, in (0, 1]",
                             NULL},
    [SET_TURNS] = {"turns", "T", FNN_FORGET_TURNS, ARG_UINT, 1, UINT32_MAX, 0, 0, 3,
                   "turns of learning then unlearning (>= 1)", NULL},
    [SET_LEARN_EPOCHS] = {"learn-epochs", "L", FNN_FORGET_LEARN_EPOCHS, ARG_UINT, 0,
                          UINT32_MAX, 0, 0, 3,
                          "epochs per turn on the whole train split (>= 0)", NULL},
    [SET_UNLEARN_EPOCHS] = {"unlearn-epochs", "U", FNN_FORGET_UNLEARN_EPOCHS, ARG_UINT, 1,
                            UINT32_MAX, 0, 0, 3,
                            "epochs per turn on the forget set (>= 1)", NULL},
};

/* Help headings of forget_settings[].group, and the procedure each group is
 * limited to (-1: any). */
static const struct {
    const char *heading;
    int procedure;
} forget_groups[] = {
    {"Options of both procedures:", -1},
    {"Options of the policies:", -1},
    {"Options of --procedure posthoc:", FNN_PROCEDURE_POSTHOC},
    {"Options of --procedure paper:", FNN_PROCEDURE_PAPER},
};

/* The library's default of `key`, or NaN when it cannot be read. */
static double forget_default(const fnn_forget_options *defaults, int key)
{
    double v = NAN;
    if (fnn_forget_options_get(defaults, key, &v) != FNN_OK)
        return NAN;
    return v;
}

/* The name a default indexes in `names`, or NULL when it cannot be read. */
static const char *default_name(double v, const char *const *names, size_t n)
{
    if (v >= 0 && v < (double)n && v == floor(v))
        return names[(size_t)v];
    return NULL;
}

/* Prints one option of a help text: "--NAME ARG" in a column of 22, then its
 * lines of help indented under each other, then "[DEFAULT]" when there is
 * one, on a line of its own if it would pass column 79. */
static void print_option_help(FILE *f, const char *name, const char *arg, const char *help,
                              const char *dflt)
{
    enum { INDENT = 22, WIDTH = 79 };
    int col = fprintf(f, "  --%s %s", name, arg);
    if (col >= INDENT) {
        fprintf(f, "\n%*s", INDENT, "");
    } else {
        fprintf(f, "%*s", INDENT - col, "");
    }
    col = INDENT;
    for (const char *p = help; *p; p++) {
        fputc(*p, f);
        col++;
        if (*p == '\n') {
            fprintf(f, "%*s", INDENT, "");
            col = INDENT;
        }
    }
    if (dflt) {
        if (col + 3 + (int)strlen(dflt) > WIDTH)
            fprintf(f, "\n%*s[%s]", INDENT, "", dflt);
        else
            fprintf(f, " [%s]", dflt);
    }
    fputc('\n', f);
}

static void forget_help(FILE *f)
{
    fnn_forget_options *d = NULL;
    if (fnn_forget_options_create(&d) != FNN_OK)
        d = NULL; /* the help goes on without the defaults */
    fputs("Usage: fnn forget --model FILE --data DIR --out FILE\n"
          "         (--forget-class C | --forget-random N | --forget-indices FILE)\n"
          "         [--policy NAME] [--procedure NAME] [OPTIONS]\n"
          "\n"
          "Makes a model trained on the train split of DIR (an MNIST-style directory of\n"
          "IDX files, raw or .gz) forget part of that split, and saves it to FILE. The\n"
          "test split is the holdout: it sets the target of random and index requests.\n"
          "Prints one line per phase of the run, the accuracy on the forget set, on the\n"
          "rest of the train split (the retain set) and on the test split before and\n"
          "after, and the time and matrix-product GFLOP the run took.\n"
          "\n"
          "  --model FILE        a model saved by 'fnn train' or fnn_model_save()\n"
          "  --data DIR          data directory (train-images-idx3-ubyte[.gz], ...)\n"
          "  --out FILE          where to save the model that has forgotten\n"
          "\n"
          "What to forget, exactly one of:\n"
          "  --forget-class C    every training sample of class C\n"
          "  --forget-random N   N training samples drawn by --seed\n"
          "  --forget-indices FILE\n"
          "                      the training samples at the 0-based indices in FILE:\n"
          "                      decimal numbers separated by white space or newlines;\n"
          "                      '#' starts a comment that runs to the end of the line\n"
          "\n"
          "How:\n",
          f);
    print_option_help(f, "procedure", "NAME",
                      "posthoc: raise the forgetting clock t step by step with\n"
                      "the decay on, repairing on a share of the retain set\n"
                      "after each step, until the forget-set accuracy reaches\n"
                      "the target or t reaches --max-t; paper: --turns turns of\n"
                      "--learn-epochs epochs on the whole train split, then\n"
                      "--unlearn-epochs epochs on the forget set, decay on",
                      default_name(forget_default(d, FNN_FORGET_PROCEDURE), procedure_names,
                                   COUNT(procedure_names)));
    print_option_help(f, "policy", "NAME",
                      "forgetting rate tau of each neuron: fixed (--tau),\n"
                      "ordered (tau = position + 1), rank (tau = rank of its\n"
                      "mean activation on the forget set, the largest 1),\n"
                      "topk (rank, and the --topk most active get tau = 1),\n"
                      "random (rank, and --topk random ones get tau = 1)",
                      default_name(forget_default(d, FNN_FORGET_POLICY), policy_names,
                                   COUNT(policy_names)));

    for (size_t g = 0; g < COUNT(forget_groups); g++) {
        fprintf(f, "\n%s\n", forget_groups[g].heading);
        for (size_t k = 0; k < NSETTINGS; k++) {
            const struct forget_setting *s = &forget_settings[k];
            if ((size_t)s->group != g)
                continue;
            char dflt[32];
            double v = forget_default(d, s->key);
            snprintf(dflt, sizeof dflt, "%g", v);
            print_option_help(f, s->name, s->arg, s->help,
                              v == -1 && s->automatic ? s->automatic
                              : isnan(v)              ? NULL
                                                      : dflt);
        }
    }
    fputs("\nThe run is deterministic for a given --seed and OPENBLAS_NUM_THREADS.\n", f);
    fnn_forget_options_free(d);
}

enum { TOKEN_SHOWN = 24 }; /* bytes of a bad token an error message shows */

/* Writes the first TOKEN_SHOWN bytes of a token of `len` bytes into buf,
 * unprintable bytes as '?', and "..." when the token is longer. */
static void token_text(const char *tok, size_t len, char buf[TOKEN_SHOWN + 4])
{
    size_t k = 0;
    for (; k < len && k < TOKEN_SHOWN; k++)
        buf[k] = (tok[k] >= 0x20 && tok[k] < 0x7f) ? tok[k] : '?';
    strcpy(buf + k, len > TOKEN_SHOWN ? "..." : "");
}

/* Reads `path` as decimal sample indices separated by white space; '#' starts
 * a comment that runs to the end of the line. On success *out (free() it)
 * holds *count >= 1 indices in file order. */
static int read_indices(const char *path, uint32_t **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return fail(FNN_E_IO, strerror(errno), "--forget-indices %s", path);
    uint32_t *idx = NULL;
    size_t n = 0, cap = 0;
    char tok[TOKEN_SHOWN], shown[TOKEN_SHOWN + 4];
    size_t len = 0;     /* bytes in the current token; tok keeps the first */
    uint64_t value = 0; /* its value while it is all digits, capped above UINT32_MAX */
    int digits = 1;     /* it is all digits so far */
    unsigned long line = 1;
    int comment = 0, status = FNN_OK, c;
    char msg[128] = ""; /* what is wrong, when status is not FNN_OK */
    do {
        c = getc(f);
        if (c != EOF && !comment && c != '#' && c != ' ' && c != '\t' && c != '\n' &&
            c != '\r' && c != '\v' && c != '\f') {
            if (len < sizeof tok)
                tok[len] = (char)c;
            len++;
            if (c >= '0' && c <= '9') {
                value = value * 10 + (uint64_t)(c - '0');
                if (value > UINT32_MAX)
                    value = (uint64_t)UINT32_MAX + 1;
            } else {
                digits = 0;
            }
            continue;
        }
        if (len > 0) { /* a token has ended */
            token_text(tok, len, shown);
            if (!digits) {
                status = FNN_E_FORMAT;
                snprintf(msg, sizeof msg, "line %lu: '%s' is not a decimal index", line, shown);
                break;
            }
            if (value > UINT32_MAX) {
                status = FNN_E_FORMAT;
                snprintf(msg, sizeof msg, "line %lu: %s is larger than %" PRIu32, line, shown,
                         UINT32_MAX);
                break;
            }
            if (n == cap) {
                size_t next = cap ? 2 * cap : 1024;
                uint32_t *grown =
                    next <= SIZE_MAX / sizeof *idx ? realloc(idx, next * sizeof *idx) : NULL;
                if (!grown) {
                    status = FNN_E_NOMEM;
                    snprintf(msg, sizeof msg, "line %lu: no memory for %zu indices", line,
                             next);
                    break;
                }
                idx = grown;
                cap = next;
            }
            idx[n++] = (uint32_t)value;
            len = 0;
            value = 0;
            digits = 1;
        }
        if (c == '#') {
            comment = 1;
        } else if (c == '\n') {
            comment = 0;
            line++;
        }
    } while (c != EOF);
    if (status == FNN_OK && ferror(f)) {
        status = FNN_E_IO;
        snprintf(msg, sizeof msg, "%s", strerror(errno));
    }
    if (status == FNN_OK && n == 0) {
        status = FNN_E_EMPTY;
        snprintf(msg, sizeof msg, "no indices in the file");
    }
    fclose(f); /* opened for reading: nothing is lost if this fails */
    if (status != FNN_OK) {
        free(idx);
        return fail(status, msg, "--forget-indices %s", path);
    }
    *out = idx;
    *count = n;
    return EXIT_OK;
}

/* Formats an accuracy in [0, 1] as a percentage, or "-" when not measured. */
static const char *percent(double acc, char *buf, size_t size)
{
    if (isnan(acc))
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%.2f%%", 100.0 * acc);
    return buf;
}

/* A figure of the report; NaN when it cannot be read. */
static double report_value(const fnn_forget_report *r, int key)
{
    double v = NAN;
    if (fnn_forget_report_get(r, key, &v) != FNN_OK)
        return NAN;
    return v;
}

static double phase_value(const fnn_forget_report *r, size_t i, int key)
{
    double v = NAN;
    if (fnn_forget_report_phase(r, i, key, &v) != FNN_OK)
        return NAN;
    return v;
}

static void print_forget_report(const fnn_forget_report *r, int posthoc)
{
    char a[16], b[16], c[16];
    size_t n = fnn_forget_report_num_phases(r);
    printf("phase  kind    turn  t   epochs  seconds  forget   retain   test\n");
    for (size_t i = 0; i < n; i++) {
        double kind = phase_value(r, i, FNN_PHASE_KIND);
        const char *kind_name = "?";
        if (kind >= 0 && kind < (double)COUNT(phase_names) && phase_names[(size_t)kind])
            kind_name = phase_names[(size_t)kind];
        printf("%-6zu %-7s %-5.0f %-3.0f %-7.0f %-8.2f %-8s %-8s %s\n", i + 1, kind_name,
               phase_value(r, i, FNN_PHASE_TURN), phase_value(r, i, FNN_PHASE_T),
               phase_value(r, i, FNN_PHASE_EPOCHS), phase_value(r, i, FNN_PHASE_SECONDS),
               percent(phase_value(r, i, FNN_PHASE_FORGET_ACC), a, sizeof a),
               percent(phase_value(r, i, FNN_PHASE_RETAIN_ACC), b, sizeof b),
               percent(phase_value(r, i, FNN_PHASE_HOLDOUT_ACC), c, sizeof c));
    }
    static const struct {
        const char *name;
        int before, after;
    } rows[] = {
        {"forget", FNN_REPORT_FORGET_ACC_BEFORE, FNN_REPORT_FORGET_ACC_AFTER},
        {"retain", FNN_REPORT_RETAIN_ACC_BEFORE, FNN_REPORT_RETAIN_ACC_AFTER},
        {"test", FNN_REPORT_HOLDOUT_ACC_BEFORE, FNN_REPORT_HOLDOUT_ACC_AFTER},
    };
    printf("accuracy   before   after\n");
    for (size_t k = 0; k < COUNT(rows); k++)
        printf("%-10s %-8s %s\n", rows[k].name,
               percent(report_value(r, rows[k].before), a, sizeof a),
               percent(report_value(r, rows[k].after), b, sizeof b));
    if (posthoc)
        printf("target %s (reached: %s), ",
               percent(report_value(r, FNN_REPORT_TARGET), a, sizeof a),
               report_value(r, FNN_REPORT_REACHED_TARGET) == 1 ? "yes" : "no");
    double epochs = report_value(r, FNN_REPORT_EPOCHS);
    printf("final t %.0f, %.0f epoch%s, %.1f s, %.1f GFLOP\n",
           report_value(r, FNN_REPORT_FINAL_T), epochs, epochs == 1 ? "" : "s",
           report_value(r, FNN_REPORT_SECONDS), report_value(r, FNN_REPORT_FLOPS) * 1e-9);
}

static int set_forget_option(fnn_forget_options *o, int key, double value, const char *what)
{
    int rc = fnn_forget_options_set(o, key, value);
    if (rc != FNN_OK)
        return fail(rc, fnn_forget_options_errmsg(o), "setting %s", what);
    return EXIT_OK;
}

static int cmd_forget(const struct command *cmd, int argc, char **argv)
{
    enum {
        MODEL, DATA, OUT, CLASS, RANDOM, INDICES, POLICY, PROCEDURE, NFIXED,
        NOPTS = NFIXED + NSETTINGS
    };
    struct opt o[NOPTS] = {
        [MODEL] = {"model", NULL},           [DATA] = {"data", NULL},
        [OUT] = {"out", NULL},               [CLASS] = {"forget-class", NULL},
        [RANDOM] = {"forget-random", NULL},  [INDICES] = {"forget-indices", NULL},
        [POLICY] = {"policy", NULL},         [PROCEDURE] = {"procedure", NULL},
    };
    struct opt *set = o + NFIXED; /* set[k] is the option of forget_settings[k] */
    for (size_t k = 0; k < NSETTINGS; k++)
        set[k] = (struct opt){forget_settings[k].name, NULL};
    static const char *const required[] = {"model", "data", "out", NULL};
    int p = parse_opts(cmd, argc, argv, o, NOPTS);
    if (p != PARSE_OK)
        return p == PARSE_HELP ? EXIT_OK : EXIT_USAGE;
    if (check_required(cmd, o, NOPTS, required))
        return EXIT_USAGE;

    /* Exactly one request. */
    const struct opt *request = NULL;
    for (int k = CLASS; k <= INDICES; k++) {
        if (!o[k].value)
            continue;
        if (request)
            return usage_error(cmd, "forget: --%s and --%s exclude each other",
                               request->name, o[k].name);
        request = &o[k];
    }
    if (!request)
        return usage_error(cmd, "forget: one of --forget-class, --forget-random or "
                                "--forget-indices is required");

    int rc = EXIT_FAIL, st;
    fnn_forget_options *opts = NULL;
    fnn_model *m = NULL;
    fnn_dataset *train = NULL, *test = NULL;
    fnn_forget_request *req = NULL;
    fnn_forget_report *report = NULL;
    uint32_t *indices = NULL;
    size_t n_indices = 0;
    char *spec = NULL;
    char err[512] = "";

    /* The options handle holds the library's defaults, which stand for
     * whatever is not given. */
    st = fnn_forget_options_create(&opts);
    if (st != FNN_OK)
        return fail(st, "", "creating forgetting options");
    /* Reading a valid key of a valid handle cannot fail: no NaN here. */
    uint64_t label = 0, count = 0;
    int policy = (int)forget_default(opts, FNN_FORGET_POLICY);
    int procedure = (int)forget_default(opts, FNN_FORGET_PROCEDURE);
    double values[NSETTINGS];
    for (size_t k = 0; k < NSETTINGS; k++)
        values[k] = forget_default(opts, forget_settings[k].key);
    int usage = opt_uint(cmd, &o[CLASS], 0, INT32_MAX, &label) ||
                opt_uint(cmd, &o[RANDOM], 1, UINT32_MAX, &count) ||
                opt_choice(cmd, &o[POLICY], policy_names, COUNT(policy_names), &policy) ||
                opt_choice(cmd, &o[PROCEDURE], procedure_names, COUNT(procedure_names),
                           &procedure);
    for (size_t k = 0; k < NSETTINGS && !usage; k++) {
        const struct forget_setting *s = &forget_settings[k];
        uint64_t u = 0;
        int choice = 0;
        switch (s->type) {
        case ARG_UINT:
            usage = opt_uint(cmd, &set[k], (uint64_t)s->lo, (uint64_t)s->hi, &u);
            if (set[k].value)
                values[k] = (double)u;
            break;
        case ARG_REAL:
            usage = opt_real(cmd, &set[k], s->lo, s->lo_open, s->hi, s->hi_open, &values[k]);
            break;
        default: /* ARG_TRISTATE */
            usage = opt_choice(cmd, &set[k], tristate_names, COUNT(tristate_names), &choice);
            if (set[k].value)
                values[k] = choice - 1;
            break;
        }
        /* An option that the run would ignore is a mistake worth reporting. */
        int limit = forget_groups[s->group].procedure;
        if (!usage && set[k].value && limit >= 0 && limit != procedure)
            usage = usage_error(cmd, "forget: --%s applies to --procedure %s only", s->name,
                                procedure_names[limit]);
    }
    if (!usage && set[SET_TAU].value && policy != FNN_POLICY_FIXED)
        usage = usage_error(cmd, "forget: --tau applies to --policy fixed only");
    if (!usage && set[SET_TOPK].value && policy != FNN_POLICY_TOPK &&
        policy != FNN_POLICY_RANDOM)
        usage = usage_error(cmd, "forget: --topk applies to --policy topk or random only");
    if (usage) {
        fnn_forget_options_free(opts);
        return EXIT_USAGE;
    }
    const char *data = o[DATA].value, *out = o[OUT].value;
    int early = check_output_path(cmd, out);
    if (early != EXIT_OK) {
        fnn_forget_options_free(opts);
        return early;
    }

    /* Everything that can be checked before the data is loaded. */
    if ((o[POLICY].value &&
         set_forget_option(opts, FNN_FORGET_POLICY, policy, "--policy")) ||
        (o[PROCEDURE].value &&
         set_forget_option(opts, FNN_FORGET_PROCEDURE, procedure, "--procedure")))
        goto done;
    for (size_t k = 0; k < NSETTINGS; k++) {
        char name[40];
        snprintf(name, sizeof name, "--%s", forget_settings[k].name);
        if (set[k].value && set_forget_option(opts, forget_settings[k].key, values[k], name))
            goto done;
    }
    if (o[INDICES].value && read_indices(o[INDICES].value, &indices, &n_indices))
        goto done;
    st = fnn_forget_report_create(&report);
    if (st != FNN_OK) {
        fail(st, "", "creating a forgetting report");
        goto done;
    }
    if (load_model(o[MODEL].value, &m) || load_split(data, FNN_SPLIT_TRAIN, &train) ||
        load_split(data, FNN_SPLIT_TEST, &test))
        goto done;

    /* The request, on the train split. */
    char what[600]; /* the request, as the output describes it */
    if (o[CLASS].value) {
        st = fnn_forget_request_from_class(&req, train, (int32_t)label, err, sizeof err);
        snprintf(what, sizeof what, "class %" PRIu64, label);
    } else if (o[RANDOM].value) {
        st = fnn_forget_request_random(&req, train, (size_t)count, (uint64_t)values[SET_SEED],
                                       err, sizeof err);
        snprintf(what, sizeof what, "random, seed %.0f", values[SET_SEED]);
    } else {
        st = fnn_forget_request_from_indices(&req, train, indices, n_indices, err, sizeof err);
        snprintf(what, sizeof what, "indices from %s", o[INDICES].value);
    }
    if (st != FNN_OK) {
        fail(st, err, "--%s %s", request->name, request->value);
        goto done;
    }

    spec = model_spec(m);
    if (!spec) {
        fail(FNN_E_NOMEM, "", "reading the model specification");
        goto done;
    }
    size_t n_forget = fnn_forget_request_size(req);
    printf("model %s (%zu parameters)\n", spec, fnn_model_num_params(m));
    printf("procedure %s, policy %s\n", procedure_names[procedure], policy_names[policy]);
    printf("forget set: %zu samples (%s)   retain set: %zu samples\n", n_forget, what,
           fnn_dataset_size(train) - n_forget);
    fflush(stdout);

    st = fnn_model_forget(m, req, test, opts, report);
    if (st != FNN_OK) {
        fail(st, fnn_model_errmsg(m), "forgetting %s", what);
        goto done;
    }
    print_forget_report(report, procedure == FNN_PROCEDURE_POSTHOC);
    fflush(stdout);

    st = fnn_model_save(m, out);
    if (st != FNN_OK) {
        fail(st, fnn_model_errmsg(m), "saving the model to %s", out);
        goto done;
    }
    printf("saved %s\n", out);
    rc = EXIT_OK;
done:
    free(spec);
    free(indices);
    fnn_forget_report_free(report);
    fnn_forget_request_free(req);
    fnn_dataset_free(test);
    fnn_dataset_free(train);
    fnn_model_free(m);
    fnn_forget_options_free(opts);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* fnn eval, fnn info, fnn version                                          */
/* ------------------------------------------------------------------------ */

static void eval_help(FILE *f)
{
    fputs("Usage: fnn eval --model FILE --data DIR [--split test|train]\n"
          "\n"
          "Prints the accuracy and mean cross-entropy loss of a saved model on one\n"
          "split of an MNIST-style data directory.\n"
          "\n"
          "  --model FILE        a model saved by 'fnn train' or fnn_model_save()\n"
          "  --data DIR          data directory (train-images-idx3-ubyte[.gz], ...)\n"
          "  --split NAME        test or train [test]\n",
          f);
}

static int cmd_eval(const struct command *cmd, int argc, char **argv)
{
    enum { MODEL, DATA, SPLIT, NOPTS };
    struct opt o[NOPTS] = {
        [MODEL] = {"model", NULL}, [DATA] = {"data", NULL}, [SPLIT] = {"split", NULL}};
    static const char *const required[] = {"model", "data", NULL};
    int p = parse_opts(cmd, argc, argv, o, NOPTS);
    if (p != PARSE_OK)
        return p == PARSE_HELP ? EXIT_OK : EXIT_USAGE;
    int split = FNN_SPLIT_TEST;
    if (check_required(cmd, o, NOPTS, required) ||
        opt_choice(cmd, &o[SPLIT], split_names, COUNT(split_names), &split))
        return EXIT_USAGE;

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
           fnn_dataset_size(ds), split_names[split]);
    rc = EXIT_OK;
done:
    fnn_dataset_free(ds);
    fnn_model_free(m);
    return rc;
}

static void info_help(FILE *f)
{
    fputs("Usage: fnn info --model FILE\n"
          "\n"
          "Prints a saved model's specification, parameter count, number of classes\n"
          "and input shape.\n",
          f);
}

static int cmd_info(const struct command *cmd, int argc, char **argv)
{
    enum { MODEL, NOPTS };
    struct opt o[NOPTS] = {[MODEL] = {"model", NULL}};
    static const char *const required[] = {"model", NULL};
    int p = parse_opts(cmd, argc, argv, o, NOPTS);
    if (p != PARSE_OK)
        return p == PARSE_HELP ? EXIT_OK : EXIT_USAGE;
    if (check_required(cmd, o, NOPTS, required))
        return EXIT_USAGE;

    fnn_model *m = NULL;
    if (load_model(o[MODEL].value, &m))
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
    int p = parse_opts(cmd, argc, argv, NULL, 0);
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
    fputs("\nRun 'fnn COMMAND --help' for the options of a command.\n", f);
}

static const struct command *find_command(const char *name)
{
    for (size_t k = 0; k < COUNT(commands); k++) {
        if (strcmp(commands[k].name, name) == 0)
            return &commands[k];
    }
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
