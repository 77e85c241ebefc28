/* Shared parts of the fnn command: messages, options parsed against the
 * library's keys, help texts, loading, progress bars (cli.c). */
#ifndef FNN_CLI_H
#define FNN_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <fnn/fnn.h>

/* Exit statuses of every command. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_TARGET = 3 };

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

struct command {
    const char *name;
    const char *summary;
    int (*run)(const struct command *cmd, int argc, char **argv);
    void (*help)(FILE *f);
};

/* ---- messages ------------------------------------------------------------- */

/* The program named in messages ("fnn"). */
extern const char *cli_program;

/* Prints "fnn: MESSAGE" and a hint to stderr; returns EXIT_USAGE. */
int usage_error(const struct command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints "fnn: WHAT: DETAIL (STATUS TEXT)" to stderr; returns EXIT_FAIL.
 * DETAIL is the library's message for the failed call and may be empty. */
int fail(int status, const char *detail, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
double now_seconds(void);

/* ---- options ---------------------------------------------------------------- */

/* A command's own option ("--name VALUE", or "--name" for a switch, whose
 * arg is NULL); value is set by parse_args(). A repeatable option (arg
 * ending in "...") keeps every value given in values[0..count). */
enum { OPT_MAX_VALUES = 32 };
#define OPT(n_, a_, h_) {.name = (n_), .arg = (a_), .help = (h_)}
struct opt {
    const char *name; /* without the leading "--" */
    const char *arg;  /* the value as the help shows it; NULL for a switch */
    const char *help;
    const char *value;
    const char *values[OPT_MAX_VALUES];
    size_t count;
};

/* Sets of library option keys a command accepts besides its own options. */
enum { KEYS_TRAIN = 1, KEYS_FORGET = 2 };

/* A library option given on the command line, applied later by name. */
struct keyval {
    const char *name, *value;
    int forget; /* a forget key (else a training key) */
    int key;
};

enum { PARSE_OK, PARSE_HELP, PARSE_ERROR };

/* The library key named by the first len bytes of name among the sets of
 * `keys`: forget keys first (without deprecated ones), then training keys. */
int find_key(const char *name, size_t len, int keys, int *forget, int *key);
/* Fills opts[i].value and kv (room for argc entries, may be NULL when keys
 * is 0) from argv[1..argc-1]; PARSE_HELP after printing the help,
 * PARSE_ERROR after a usage error. */
int parse_args(const struct command *cmd, int argc, char **argv, struct opt *opts, size_t n,
               int keys, struct keyval *kv, size_t *nkv);
/* The option of opts named `name` (it must exist). */
struct opt *opt_named(struct opt *opts, size_t n, const char *name);
/* Usage error unless every option named in `required` was given. */
int check_required(const struct command *cmd, struct opt *opts, size_t n,
                   const char *const *required);
/* Reads an option as a whole decimal integer in [min, max]; *out is left
 * unchanged when the option is absent. */
int opt_uint(const struct command *cmd, const struct opt *o, uint64_t min, uint64_t max,
             uint64_t *out);
/* Applies the library keys of kv to the handles (train for training keys
 * when not NULL, else the forget options' inner training options); a value
 * outside its domain is a usage error with the library's message. */
int apply_keys(const struct command *cmd, const struct keyval *kv, size_t nkv,
               fnn_train_options *train, fnn_forget_options *forget);

/* ---- help texts ----------------------------------------------------------------- */

/* Prints head, then text wrapped at column 79 and indented to `indent`. */
void print_wrapped(FILE *f, const char *head, int indent, const char *text);
/* "  --NAME ARG" in a column of 22, its help, "[DEFAULT]" when not NULL. */
void print_option_help(FILE *f, const char *name, const char *arg, const char *help,
                       const char *dflt);
/* Every named value of an enum fnn_names kind with its description. */
void print_names(FILE *f, int kind);
/* A library key's help line with its domain and the default `value` (NaN:
 * none shown). */
void print_key_help(FILE *f, int forget, int key, double value);
/* The text of value v of a key with those domain flags and names. */
const char *value_text(double v, uint32_t flags, int names, char *buf, size_t size);
/* The names of the methods in mask, "a, b and c". */
void method_list(uint32_t mask, char *buf, size_t size);

/* ---- files and data -------------------------------------------------------------- */

/* Fails early when a model could not be saved at path. */
int check_output_path(const struct command *cmd, const char *path);
/* Loads one split of an MNIST-style directory, with a message on failure. */
int load_split(const char *dir, int split, fnn_dataset **out);
int load_model(const char *path, fnn_model **out);
/* The model's canonical specification in a new string (free() it), or NULL. */
char *model_spec(const fnn_model *m);
/* An accuracy in [0, 1] as a percentage, or "-" when NaN. */
const char *percent(double acc, char *buf, size_t size);
/* A report's figure or a phase's, NaN when it cannot be read. */
double report_value(const fnn_forget_report *r, int key);
double phase_value(const fnn_forget_report *r, size_t i, int key);

/* ---- the split into a pool and held-out samples ------------------------------------ */

/* The train split of a data set cut, by a seeded permutation (splitmix64 of
 * the seed), into `holdout` held-out samples (the first of the permutation)
 * and a pool (the rest, at most `pool` of them when pool > 0): what `fnn train
 * --holdout`, `fnn forget`, `fnn audit` and `fnn bench` all use, so that the
 * same seed gives the same samples. train and test are set by the caller. */
struct split {
    fnn_dataset *train, *test, *pool, *held;
    uint32_t *pool_idx, *held_idx; /* positions in train */
    size_t n_pool, n_held;
    int32_t *held_labels;
};

void split_free(struct split *s);
int make_split(struct split *s, uint64_t holdout, uint64_t pool, uint64_t seed);
/* The samples a saved model trained on: when its recipe's training set is
 * smaller than sp->train (fnn train --holdout), the split it implies (its
 * size and seed) into pool and held-out samples; else sp->pool and sp->held
 * stay NULL, the whole train split. */
int open_model_data(const fnn_model *m, struct split *sp);
/* A request of the command line (kind "forget-class", "forget-random" or
 * "forget-indices", value, the index file's text) on the model's pool;
 * indices are positions in the train split's files. */
int request_from_args(const struct split *sp, const char *kind, const char *value,
                      const char *text, size_t text_len, uint64_t seed,
                      fnn_forget_request **out);

/* ---- progress bars --------------------------------------------------------------- */

struct bar {
    int draw;         /* stderr is a terminal */
    int shown;        /* a bar is on the terminal */
    double last_draw; /* now_seconds() of the last redraw */
};

void bar_clear(struct bar *b);
/* Draws "LABEL [####......] DETAIL" for a fraction in [0, 1], at most ten
 * times a second. */
void bar_draw(struct bar *b, const char *label, double fraction, const char *detail);

/* ---- commands ---------------------------------------------------------------------- */

int cmd_bench(const struct command *cmd, int argc, char **argv);
void bench_help(FILE *f);
int cmd_audit(const struct command *cmd, int argc, char **argv);
void audit_help(FILE *f);

#endif
