/* Shared parts of the fnn command (cli.h). */
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

#include "cli.h"

/* ------------------------------------------------------------------------ */
/* Messages                                                                 */
/* ------------------------------------------------------------------------ */

const char *cli_program = "fnn";

int fail(int status, const char *detail, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", cli_program);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (detail && detail[0])
        fprintf(stderr, ": %s (%s)\n", detail, fnn_strerror(status));
    else
        fprintf(stderr, ": %s\n", fnn_strerror(status));
    return EXIT_FAIL;
}

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------------------ */
/* Options                                                                  */
/* ------------------------------------------------------------------------ */



int usage_error(const struct command *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", cli_program);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (cmd)
        fprintf(stderr, "\nTry '%s %s --help'.\n", cli_program, cmd->name);
    else
        fprintf(stderr, "\nTry '%s --help'.\n", cli_program);
    return EXIT_USAGE;
}


/* The library key named `name` in the sets of `keys`: forget keys first
 * (without deprecated ones), then training keys. */
int find_key(const char *name, size_t len, int keys, int *forget, int *key)
{
    for (int kind = 0; kind < 2; kind++) {
        int want = kind == 0 ? KEYS_FORGET : KEYS_TRAIN;
        if (!(keys & want))
            continue;
        int names = kind == 0 ? FNN_NAMES_FORGET_KEY : FNN_NAMES_TRAIN_KEY;
        for (size_t k = 0; k < fnn_names_count(names); k++) {
            const char *n = fnn_name(names, (int)k);
            uint32_t flags = 0;
            if (kind == 0)
                fnn_forget_key_bounds((int)k, NULL, NULL, &flags, NULL);
            if (!n || (flags & FNN_BOUND_DEPRECATED) || strlen(n) != len ||
                strncmp(n, name, len) != 0)
                continue;
            *forget = kind == 0;
            *key = (int)k;
            return 1;
        }
    }
    return 0;
}

/* Fills opts[i].value and kv (room for argc entries) from argv[1..argc-1].
 * Prints the command's help on -h or --help (PARSE_HELP) and a usage error
 * on anything it does not know, a missing value or an option given twice
 * (PARSE_ERROR). */
int parse_args(const struct command *cmd, int argc, char **argv, struct opt *opts,
                      size_t n, int keys, struct keyval *kv, size_t *nkv)
{
    *nkv = 0;
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
        const char **slot = NULL;
        struct opt *o = NULL;
        for (size_t k = 0; k < n && !o; k++)
            if (strlen(opts[k].name) == len && strncmp(opts[k].name, name, len) == 0)
                o = &opts[k];
        int forget = 0, key = -1;
        if (o) {
            slot = &o->value;
        } else if (find_key(name, len, keys, &forget, &key)) {
            for (size_t k = 0; k < *nkv; k++)
                if (kv[k].forget == forget && kv[k].key == key) {
                    usage_error(cmd, "%s: option '--%.*s' given twice", cmd->name, (int)len,
                                name);
                    return PARSE_ERROR;
                }
            kv[*nkv] = (struct keyval){NULL, NULL, forget, key};
            kv[*nkv].name = fnn_name(forget ? FNN_NAMES_FORGET_KEY : FNN_NAMES_TRAIN_KEY, key);
            slot = &kv[*nkv].value;
            ++*nkv;
        } else {
            usage_error(cmd, "%s: unknown option '--%.*s'", cmd->name, (int)len, name);
            return PARSE_ERROR;
        }
        int repeat = o && o->arg && strstr(o->arg, "...");
        if (o && o->value && !repeat) {
            usage_error(cmd, "%s: option '--%s' given twice", cmd->name, o->name);
            return PARSE_ERROR;
        }
        if (o && !o->arg) { /* a switch */
            if (eq) {
                usage_error(cmd, "%s: option '--%s' takes no value", cmd->name, o->name);
                return PARSE_ERROR;
            }
            o->value = "1";
            continue;
        }
        if (repeat && o->count == OPT_MAX_VALUES) {
            usage_error(cmd, "%s: option '--%s' given more than %d times", cmd->name, o->name,
                        OPT_MAX_VALUES);
            return PARSE_ERROR;
        }
        if (eq) {
            *slot = eq + 1;
        } else if (i + 1 < argc) {
            *slot = argv[++i];
        } else {
            usage_error(cmd, "%s: option '--%.*s' needs a value", cmd->name, (int)len, name);
            return PARSE_ERROR;
        }
        if (o)
            o->values[o->count++] = o->value;
    }
    return PARSE_OK;
}

/* The option of opts named `name` (it exists). */
struct opt *opt_named(struct opt *opts, size_t n, const char *name)
{
    for (size_t k = 0; k < n; k++)
        if (strcmp(opts[k].name, name) == 0)
            return &opts[k];
    return NULL;
}

/* Checks that every option named in `required` was given. */
int check_required(const struct command *cmd, struct opt *opts, size_t n,
                          const char *const *required)
{
    for (; *required; required++)
        if (!opt_named(opts, n, *required)->value)
            return usage_error(cmd, "%s: option '--%s' is required", cmd->name, *required);
    return EXIT_OK;
}

/* Reads an option as a whole decimal integer in [min, max]; *out is left
 * unchanged when the option is absent. */
int opt_uint(const struct command *cmd, const struct opt *o, uint64_t min,
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

/* Applies the library keys of kv to the options handles; a value outside a
 * key's domain is a usage error that prints the library's message. */
int apply_keys(const struct command *cmd, const struct keyval *kv, size_t nkv,
                      fnn_train_options *train, fnn_forget_options *forget)
{
    for (size_t k = 0; k < nkv; k++) {
        int st;
        const char *msg;
        if (kv[k].forget) {
            st = fnn_forget_options_parse(forget, kv[k].name, kv[k].value);
            msg = fnn_forget_options_errmsg(forget);
        } else if (train) {
            st = fnn_train_options_parse(train, kv[k].name, kv[k].value);
            msg = fnn_train_options_errmsg(train);
        } else {
            st = fnn_train_options_parse(fnn_forget_options_train(forget), kv[k].name,
                                         kv[k].value);
            msg = fnn_train_options_errmsg(fnn_forget_options_train(forget));
        }
        if (st == FNN_E_INVALID)
            return usage_error(cmd, "%s: --%s: %s", cmd->name, kv[k].name, msg);
        if (st != FNN_OK)
            return fail(st, msg, "setting --%s", kv[k].name);
    }
    return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* Help texts                                                               */
/* ------------------------------------------------------------------------ */

/* Prints `head` and then `text` wrapped at column 79 and indented to
 * column `indent` (on a line of its own when head reaches it). */
void print_wrapped(FILE *f, const char *head, int indent, const char *text)
{
    enum { WIDTH = 79 };
    int col = fprintf(f, "%s", head);
    const int INDENT = indent;
    if (col >= INDENT)
        col = fprintf(f, "\n%*s", INDENT, "") - 1;
    else
        col += fprintf(f, "%*s", INDENT - col, "");
    for (const char *p = text; *p;) {
        const char *sp = strchr(p, ' ');
        size_t w = sp ? (size_t)(sp - p) : strlen(p);
        if (col > INDENT && col + 1 + (int)w > WIDTH) {
            fprintf(f, "\n%*s", INDENT, "");
            col = INDENT;
        } else if (col > INDENT) {
            fputc(' ', f);
            col++;
        }
        fprintf(f, "%.*s", (int)w, p);
        col += (int)w;
        p += w;
        while (*p == ' ')
            p++;
    }
    fputc('\n', f);
}

/* Prints one option of a help text: "--NAME ARG" in a column of 22, then its
 * help, then "[DEFAULT]" when given. */
void print_option_help(FILE *f, const char *name, const char *arg, const char *help,
                              const char *dflt)
{
    char head[96], text[640];
    snprintf(head, sizeof head, "  --%s%s%s", name, arg ? " " : "", arg ? arg : "");
    snprintf(text, sizeof text, "%s%s%s%s", help, dflt ? " [" : "", dflt ? dflt : "",
             dflt ? "]" : "");
    print_wrapped(f, head, 22, text);
}

/* Prints every named value of `kind` with its description. */
void print_names(FILE *f, int kind)
{
    for (size_t k = 0; k < fnn_names_count(kind); k++) {
        char head[64];
        snprintf(head, sizeof head, "  %s", fnn_name(kind, (int)k));
        print_wrapped(f, head, 14, fnn_name_help(kind, (int)k));
    }
}

/* The text of value v of a key with the given domain flags and names. */
const char *value_text(double v, uint32_t flags, int names, char *buf, size_t size)
{
    if ((flags & FNN_BOUND_AUTO) && v == -1)
        return "auto";
    if (flags & FNN_BOUND_NAMED) {
        const char *n = fnn_name(names, (int)v);
        if (n)
            return n;
    }
    snprintf(buf, size, "%.10g", v);
    return buf;
}

/* Prints a library key's help line: its description, its domain and the
 * default that `value` holds. */
void print_key_help(FILE *f, int forget, int key, double value)
{
    int kind = forget ? FNN_NAMES_FORGET_KEY : FNN_NAMES_TRAIN_KEY;
    uint32_t flags = 0;
    int names = -1;
    char domain[200], help[400], dflt[40];
    if (forget) {
        fnn_forget_key_bounds(key, NULL, NULL, &flags, &names);
        fnn_forget_key_describe(key, domain, sizeof domain);
    } else {
        fnn_train_key_bounds(key, NULL, NULL, &flags, &names);
        fnn_train_key_describe(key, domain, sizeof domain);
    }
    snprintf(help, sizeof help, "%s: %s", fnn_name_help(kind, key), domain);
    print_option_help(f, fnn_name(kind, key), flags & FNN_BOUND_NAMED ? "NAME" : "X", help,
                      isnan(value) ? NULL : value_text(value, flags, names, dflt, sizeof dflt));
}

/* The names of the methods in mask, "a, b and c". */
void method_list(uint32_t mask, char *buf, size_t size)
{
    size_t n = 0, total = 0, len = 0;
    for (size_t m = 0; m < fnn_names_count(FNN_NAMES_METHOD); m++)
        total += (mask >> m) & 1;
    buf[0] = '\0';
    for (size_t m = 0; m < fnn_names_count(FNN_NAMES_METHOD) && len < size; m++) {
        if (!((mask >> m) & 1))
            continue;
        n++;
        len += (size_t)snprintf(buf + len, size - len, "%s%s",
                                n == 1 ? "" : n == total ? " and " : ", ",
                                fnn_name(FNN_NAMES_METHOD, (int)m));
    }
}

/* ------------------------------------------------------------------------ */
/* Files and data                                                           */
/* ------------------------------------------------------------------------ */

/* Fails early, before any training, when the model could not be saved at
 * `path`: it names a directory, or its directory is not writable. */
int check_output_path(const struct command *cmd, const char *path)
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
int load_split(const char *dir, int split, fnn_dataset **out)
{
    char err[512] = "";
    int rc = fnn_dataset_load_dir(out, dir, split, err, sizeof err);
    if (rc != FNN_OK)
        return fail(rc, err, "loading the %s split of %s", fnn_name(FNN_NAMES_SPLIT, split),
                    dir);
    return EXIT_OK;
}

int load_model(const char *path, fnn_model **out)
{
    char err[512] = "";
    int rc = fnn_model_load(out, path, err, sizeof err);
    if (rc != FNN_OK)
        return fail(rc, err, "loading model %s", path);
    return EXIT_OK;
}

/* The model's canonical specification in a new string (free() it), or NULL. */
char *model_spec(const fnn_model *m)
{
    size_t len = fnn_model_spec(m, NULL, 0);
    char *s = malloc(len + 1);
    if (s)
        fnn_model_spec(m, s, len + 1);
    return s;
}

/* Formats an accuracy in [0, 1] as a percentage, or "-" when not measured. */
const char *percent(double acc, char *buf, size_t size)
{
    if (isnan(acc))
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%.2f%%", 100.0 * acc);
    return buf;
}

/* ------------------------------------------------------------------------ */
/* Progress bars                                                            */
/* ------------------------------------------------------------------------ */


void bar_clear(struct bar *b)
{
    if (b->shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        b->shown = 0;
    }
}

/* Draws "LABEL [####......] DETAIL" for a fraction in [0, 1], at most ten
 * times a second. */
void bar_draw(struct bar *b, const char *label, double fraction, const char *detail)
{
    if (!b->draw)
        return;
    double t = now_seconds();
    if (t - b->last_draw < 0.1)
        return;
    enum { WIDTH = 30 };
    char cells[WIDTH + 1];
    if (!(fraction >= 0))
        fraction = 0;
    size_t filled = (size_t)(fraction > 1 ? WIDTH : fraction * WIDTH);
    for (size_t k = 0; k < WIDTH; k++)
        cells[k] = k < filled ? '#' : '.';
    cells[WIDTH] = '\0';
    fprintf(stderr, "\r\033[K%s [%s] %s", label, cells, detail);
    fflush(stderr);
    b->last_draw = t;
    b->shown = 1;
}

/* A figure of the report; NaN when it cannot be read. */
double report_value(const fnn_forget_report *r, int key)
{
    double v = NAN;
    if (fnn_forget_report_get(r, key, &v) != FNN_OK)
        return NAN;
    return v;
}

double phase_value(const fnn_forget_report *r, size_t i, int key)
{
    double v = NAN;
    if (fnn_forget_report_phase(r, i, key, &v) != FNN_OK)
        return NAN;
    return v;
}


/* ---- the split into a pool and held-out samples ---------------------------------- */


void split_free(struct split *s)
{
    fnn_dataset_free(s->pool);
    fnn_dataset_free(s->held);
    free(s->pool_idx);
    free(s->held_idx);
    free(s->held_labels);
    s->pool = s->held = NULL;
    s->pool_idx = s->held_idx = NULL;
    s->held_labels = NULL;
}

/* splitmix64: the bench's permutation of the train split. */
static uint64_t next_u64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Splits train into held-out samples and a pool by a seeded permutation. */
int make_split(struct split *s, uint64_t holdout, uint64_t pool, uint64_t seed)
{
    size_t n = fnn_dataset_size(s->train);
    if (holdout + 2 > n)
        return fail(FNN_E_RANGE, "", "--holdout %" PRIu64 " leaves no pool of %zu samples",
                    holdout, n);
    uint32_t *perm = malloc(n * sizeof *perm);
    if (!perm)
        return fail(FNN_E_NOMEM, "", "splitting the data");
    for (size_t i = 0; i < n; i++)
        perm[i] = (uint32_t)i;
    uint64_t x = seed ^ 0x51c3e5d7a9b1f203ull;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)(next_u64(&x) % (i + 1));
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    s->n_held = (size_t)holdout;
    s->n_pool = n - s->n_held;
    if (pool && pool < s->n_pool)
        s->n_pool = (size_t)pool;
    s->held_idx = malloc(s->n_held * sizeof *s->held_idx);
    s->pool_idx = malloc(s->n_pool * sizeof *s->pool_idx);
    s->held_labels = malloc(s->n_held * sizeof *s->held_labels);
    int st = s->held_idx && s->pool_idx && s->held_labels ? FNN_OK : FNN_E_NOMEM;
    if (st == FNN_OK) {
        memcpy(s->held_idx, perm, s->n_held * sizeof *perm);
        memcpy(s->pool_idx, perm + s->n_held, s->n_pool * sizeof *perm);
        if ((st = fnn_dataset_subset(s->train, s->pool_idx, s->n_pool, &s->pool)) == FNN_OK &&
            (st = fnn_dataset_subset(s->train, s->held_idx, s->n_held, &s->held)) == FNN_OK)
            st = fnn_dataset_labels(s->held, s->held_labels, s->n_held);
    }
    free(perm);
    if (st != FNN_OK)
        return fail(st, fnn_dataset_errmsg(s->train), "splitting the data");
    return EXIT_OK;
}


int open_model_data(const fnn_model *m, struct split *sp)
{
    fnn_train_options *r = NULL;
    uint64_t samples = 0;
    size_t n = fnn_dataset_size(sp->train);
    sp->pool = sp->held = NULL;
    if (fnn_model_recipe(m, &r, NULL, &samples) != FNN_OK || samples == 0 || samples >= n) {
        fnn_train_options_free(r);
        return EXIT_OK; /* the whole train split */
    }
    uint64_t seed = 0;
    fnn_train_options_get_u64(r, FNN_TRAIN_SEED, &seed);
    fnn_train_options_free(r);
    if (make_split(sp, n - samples, 0, seed))
        return EXIT_FAIL;
    return EXIT_OK;
}

int request_from_args(const struct split *sp, const char *kind, const char *value,
                      const char *text, size_t text_len, uint64_t seed,
                      fnn_forget_request **out)
{
    char err[512] = "";
    fnn_dataset *pool = sp->pool ? sp->pool : sp->train;
    int st;
    if (strcmp(kind, "forget-class") == 0) {
        st = fnn_forget_request_from_class(out, pool, (int32_t)strtol(value, NULL, 10), err,
                                           sizeof err);
    } else if (strcmp(kind, "forget-random") == 0) {
        st = fnn_forget_request_random(out, pool, (size_t)strtoull(value, NULL, 10), seed, err,
                                       sizeof err);
    } else {
        /* Indices of the train split's file; with held-out samples they are
         * found in the pool. */
        fnn_forget_request *whole = NULL;
        st = fnn_forget_request_from_index_text(&whole, sp->train, text, text_len, err,
                                                sizeof err);
        if (st == FNN_OK && sp->pool) {
            size_t n = fnn_forget_request_size(whole), N = fnn_dataset_size(sp->train);
            uint32_t *idx = malloc(n * sizeof *idx);
            int64_t *at = malloc(N * sizeof *at);
            if (!idx || !at) {
                st = FNN_E_NOMEM;
                snprintf(err, sizeof err, "out of memory");
            } else {
                for (size_t i = 0; i < N; i++)
                    at[i] = -1;
                for (size_t i = 0; i < sp->n_pool; i++)
                    at[sp->pool_idx[i]] = (int64_t)i;
                fnn_forget_request_indices(whole, idx, n);
                for (size_t i = 0; i < n && st == FNN_OK; i++) {
                    if (at[idx[i]] < 0) {
                        st = FNN_E_RANGE;
                        snprintf(err, sizeof err,
                                 "sample %lu is one of the model's held-out samples: it was "
                                 "never trained on",
                                 (unsigned long)idx[i]);
                    }
                    idx[i] = (uint32_t)at[idx[i]];
                }
                if (st == FNN_OK)
                    st = fnn_forget_request_from_indices(out, pool, idx, n, err, sizeof err);
            }
            free(idx);
            free(at);
            fnn_forget_request_free(whole);
        } else {
            *out = whole;
        }
    }
    if (st != FNN_OK)
        return fail(st, err, "--%s %s", kind, value);
    return EXIT_OK;
}
