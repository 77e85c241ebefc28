/* Option keys that describe themselves (name, default, domain, help), the
 * checks and the text parser every options handle shares, and the training
 * options handle. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* 2^64: the exclusive upper bound of a 64-bit seed. */
#define SEED_END 18446744073709551616.0

/* ---- domains ----------------------------------------------------------------- */

/* The shortest decimal text of v that reads back to it. */
static void number_text(double v, char *buf, size_t size)
{
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, size, "%.0f", v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

void fnn__key_domain(const fnn__keydef *d, char *buf, size_t size)
{
    char lo[32], hi[32];
    size_t len = 0;
    buf[0] = '\0';
#define ADD(...)                                                                           \
    do {                                                                                   \
        if (len < size) {                                                                  \
            int w_ = snprintf(buf + len, size - len, __VA_ARGS__);                         \
            len += w_ > 0 ? (size_t)w_ : 0;                                                \
        }                                                                                  \
    } while (0)
    if (d->flags & FNN_BOUND_NAMED) {
        /* The names inside the bounds, "a, b or c". */
        size_t first = (size_t)d->lo, last = (size_t)d->hi, shown = 0;
        for (size_t v = first; v <= last; v++) {
            const char *name = fnn_name(d->names, (int)v);
            if (!name)
                continue;
            ADD("%s%s", shown == 0 ? "" : v == last ? " or " : ", ", name);
            shown++;
        }
    } else {
        number_text(d->lo, lo, sizeof lo);
        number_text(d->hi, hi, sizeof hi);
        int hi_inf = isinf(d->hi);
        if ((d->flags & FNN_BOUND_INTEGER) && d->hi - d->lo == 1) {
            ADD("%s or %s", lo, hi);
        } else if (d->flags & FNN_BOUND_INTEGER) {
            if (d->hi == SEED_END)
                ADD("an integer in %s..2^64-1", lo);
            else if (hi_inf)
                ADD("an integer >= %s", lo);
            else
                ADD("an integer in %s..%s", lo, hi);
        } else if (hi_inf) {
            ADD("a number %s %s", d->flags & FNN_BOUND_LO_OPEN ? ">" : ">=", lo);
        } else {
            ADD("a number in %c%s, %s%c", d->flags & FNN_BOUND_LO_OPEN ? '(' : '[', lo, hi,
                d->flags & FNN_BOUND_HI_OPEN ? ')' : ']');
        }
    }
    if (d->flags & FNN_BOUND_AUTO)
        ADD(", or -1 (automatic)");
#undef ADD
}

int fnn__key_check(const fnn__keydef *d, double v, char *err, size_t err_size)
{
    int ok = !isnan(v);
    if (ok && !((d->flags & FNN_BOUND_AUTO) && v == -1.0)) {
        ok = (d->flags & FNN_BOUND_LO_OPEN ? v > d->lo : v >= d->lo) &&
             (d->flags & FNN_BOUND_HI_OPEN ? v < d->hi : v <= d->hi) &&
             (!(d->flags & FNN_BOUND_INTEGER) || v == floor(v));
    }
    if (ok)
        return FNN_OK;
    char domain[160], got[32];
    fnn__key_domain(d, domain, sizeof domain);
    number_text(v, got, sizeof got);
    return fnn__fail(err, err_size, FNN_E_INVALID, "%s must be %s, got %s", d->name, domain,
                     got);
}

/* Reads a decimal number that takes the whole text: no spaces, no "inf",
 * "nan" or hexadecimal, which strtod() would accept. */
static int read_number(const char *s, double *v)
{
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    if (!((*p >= '0' && *p <= '9') || (*p == '.' && p[1] >= '0' && p[1] <= '9')))
        return -1;
    if (strpbrk(s, "xXpP"))
        return -1;
    char *end = NULL;
    errno = 0;
    double x = strtod(s, &end);
    if (errno == ERANGE || *end != '\0' || !isfinite(x))
        return -1;
    *v = x;
    return 0;
}

int fnn__key_parse(const fnn__keydef *d, const char *text, double *v, char *err,
                   size_t err_size)
{
    double x = 0;
    int value;
    char domain[160];
    if ((d->flags & FNN_BOUND_AUTO) && strcmp(text, "auto") == 0)
        x = -1;
    else if ((d->flags & FNN_BOUND_NAMED) && fnn_name_lookup(d->names, text, &value) == FNN_OK)
        x = value;
    else if (read_number(text, &x) != 0) {
        fnn__key_domain(d, domain, sizeof domain);
        return fnn__fail(err, err_size, FNN_E_INVALID, "%s must be %s, got '%.40s'%s",
                         d->name, domain, text, strlen(text) > 40 ? "..." : "");
    }
    int rc = fnn__key_check(d, x, err, err_size);
    if (rc == FNN_OK)
        *v = x;
    return rc;
}

/* ---- training option keys ------------------------------------------------------ */

#define I FNN_BOUND_INTEGER
#define LO FNN_BOUND_LO_OPEN
#define HI FNN_BOUND_HI_OPEN
#define N FNN_BOUND_NAMED

const fnn__keydef fnn__train_keys[FNN__TRAIN_NKEYS] = {
    [FNN_TRAIN_EPOCHS] = {"epochs", 1, 1, 1e6, I, -1, 0, "full passes over the training set"},
    [FNN_TRAIN_BATCH_SIZE] = {"batch", 64, 1, 65536, I, -1, 0, "samples per step"},
    [FNN_TRAIN_OPTIMIZER] = {"optimizer", FNN_OPTIMIZER_ADAM, 0, FNN_OPTIMIZER_ADAM, I | N,
                             FNN_NAMES_OPTIMIZER, 0, "the optimizer"},
    [FNN_TRAIN_LEARNING_RATE] = {"lr", 0.001, 0, 1e6, LO | HI, -1, 0, "learning rate"},
    [FNN_TRAIN_MOMENTUM] = {"momentum", 0.9, 0, 1, HI, -1, 0, "SGD momentum"},
    [FNN_TRAIN_BETA1] = {"beta1", 0.9, 0, 1, HI, -1, 0, "Adam's first-moment decay"},
    [FNN_TRAIN_BETA2] = {"beta2", 0.999, 0, 1, HI, -1, 0, "Adam's second-moment decay"},
    [FNN_TRAIN_EPSILON] = {"epsilon", 1e-8, 0, 1, LO | HI, -1, 0, "Adam's epsilon"},
    [FNN_TRAIN_WEIGHT_DECAY] = {"weight-decay", 0, 0, 1e6, HI, -1, 0,
                                "L2 coefficient added to the gradients"},
    [FNN_TRAIN_LR_SCHEDULE] = {"lr-schedule", FNN_LR_CONSTANT, 0, FNN_LR_STEP, I | N,
                               FNN_NAMES_LR_SCHEDULE, 0, "learning-rate schedule"},
    [FNN_TRAIN_LR_STEP] = {"lr-step", 1, 1, 1e6, I, -1, 0,
                           "step schedule: epochs between decays"},
    [FNN_TRAIN_LR_GAMMA] = {"lr-gamma", 0.1, 0, 1, LO, -1, 0,
                            "step schedule: factor applied at each decay"},
    [FNN_TRAIN_SEED] = {"seed", 0, 0, SEED_END, I | HI, -1, 0,
                        "seed of shuffling and dropout"},
    [FNN_TRAIN_SHUFFLE] = {"shuffle", 1, 0, 1, I, -1, 0,
                           "1 shuffles the samples every epoch, 0 keeps their order"},
    [FNN_TRAIN_NORMALIZE] = {"normalize", 0, 0, 1, I, -1, 0,
                             "1 normalises inputs by the training set's statistics while "
                             "training and folds them into the first layer"},
};

#undef I
#undef LO
#undef HI
#undef N

/* The keydef of key in table, or NULL. */
static const fnn__keydef *train_key(int key)
{
    return key >= 0 && key < FNN__TRAIN_NKEYS ? &fnn__train_keys[key] : NULL;
}

size_t fnn__key_describe(const fnn__keydef *d, char *buf, size_t size)
{
    char text[256];
    fnn__key_domain(d, text, sizeof text);
    size_t len = strlen(text);
    if (buf && size > 0) {
        size_t c = len < size ? len : size - 1;
        memcpy(buf, text, c);
        buf[c] = '\0';
    }
    return len;
}

FNN_API size_t fnn_train_key_describe(int key, char *buf, size_t size)
{
    const fnn__keydef *d = train_key(key);
    if (!d) {
        if (buf && size > 0)
            buf[0] = '\0';
        return 0;
    }
    return fnn__key_describe(d, buf, size);
}

void fnn__key_bounds(const fnn__keydef *d, double *lo, double *hi, uint32_t *flags,
                     int *names)
{
    if (lo)
        *lo = d->lo;
    if (hi)
        *hi = d->hi;
    if (flags)
        *flags = d->flags;
    if (names)
        *names = d->flags & FNN_BOUND_NAMED ? d->names : -1;
}

FNN_API int fnn_train_key_bounds(int key, double *lo, double *hi, uint32_t *flags, int *names)
{
    const fnn__keydef *d = train_key(key);
    if (!d)
        return FNN_E_INVALID;
    fnn__key_bounds(d, lo, hi, flags, names);
    return FNN_OK;
}

/* ---- training options handle ----------------------------------------------------- */

void fnn__train_options_init(fnn_train_options *o)
{
    for (int k = 0; k < FNN__TRAIN_NKEYS; k++)
        o->v[k] = fnn__train_keys[k].dflt;
    o->seed = (uint64_t)fnn__train_keys[FNN_TRAIN_SEED].dflt;
    o->set_mask = 0;
}

void fnn__train_options_put(fnn_train_options *o, int key, double v)
{
    o->v[key] = v;
    if (key == FNN_TRAIN_SEED)
        o->seed = (uint64_t)v;
    o->set_mask |= 1u << key;
}

static void put_seed(fnn_train_options *o, uint64_t seed)
{
    o->seed = seed;
    o->v[FNN_TRAIN_SEED] = (double)seed;
    o->set_mask |= 1u << FNN_TRAIN_SEED;
}

void fnn__train_options_overlay(fnn_train_options *dst, const fnn_train_options *src)
{
    for (int k = 0; k < FNN__TRAIN_NKEYS; k++)
        if (src->set_mask & (1u << k))
            dst->v[k] = src->v[k];
    if (src->set_mask & (1u << FNN_TRAIN_SEED))
        dst->seed = src->seed;
    dst->set_mask |= src->set_mask;
}

void fnn__train_options_apply_preset(fnn_train_options *o, const fnn__preset *p)
{
    fnn__train_options_put(o, FNN_TRAIN_OPTIMIZER, p->optimizer);
    fnn__train_options_put(o, FNN_TRAIN_LEARNING_RATE, p->lr);
    fnn__train_options_put(o, FNN_TRAIN_MOMENTUM, p->momentum);
    fnn__train_options_put(o, FNN_TRAIN_BATCH_SIZE, p->batch);
    fnn__train_options_put(o, FNN_TRAIN_LR_SCHEDULE, FNN_LR_STEP);
    fnn__train_options_put(o, FNN_TRAIN_LR_STEP, 1);
    fnn__train_options_put(o, FNN_TRAIN_LR_GAMMA, p->lr_gamma);
    fnn__train_options_put(o, FNN_TRAIN_NORMALIZE, 1);
}

void fnn__train_cfg_from(const fnn_train_options *o, fnn__train_cfg *c)
{
    fnn_train_options d;
    if (!o) {
        fnn__train_options_init(&d);
        d.progress = NULL;
        d.user = NULL;
        o = &d;
    }
    memset(c, 0, sizeof *c);
    c->epochs = (uint32_t)o->v[FNN_TRAIN_EPOCHS];
    c->batch = (size_t)o->v[FNN_TRAIN_BATCH_SIZE];
    c->optimizer = (int)o->v[FNN_TRAIN_OPTIMIZER];
    c->lr = o->v[FNN_TRAIN_LEARNING_RATE];
    c->momentum = o->v[FNN_TRAIN_MOMENTUM];
    c->beta1 = o->v[FNN_TRAIN_BETA1];
    c->beta2 = o->v[FNN_TRAIN_BETA2];
    c->eps = o->v[FNN_TRAIN_EPSILON];
    c->weight_decay = o->v[FNN_TRAIN_WEIGHT_DECAY];
    c->schedule = (int)o->v[FNN_TRAIN_LR_SCHEDULE];
    c->lr_step = (uint32_t)o->v[FNN_TRAIN_LR_STEP];
    c->lr_gamma = o->v[FNN_TRAIN_LR_GAMMA];
    c->seed = o->seed;
    c->shuffle = o->v[FNN_TRAIN_SHUFFLE] != 0.0;
    c->normalize = o->v[FNN_TRAIN_NORMALIZE] != 0.0;
    c->progress = o->progress;
    c->user = o->user;
}

FNN_API int fnn_train_options_create(fnn_train_options **out)
{
    if (!out)
        return FNN_E_NULL;
    fnn_train_options *o = calloc(1, sizeof *o);
    *out = o;
    if (!o)
        return FNN_E_NOMEM;
    fnn__train_options_init(o);
    return FNN_OK;
}

FNN_API void fnn_train_options_free(fnn_train_options *o)
{
    free(o);
}

FNN_API int fnn_train_options_preset(fnn_train_options *o, const char *arch)
{
    if (!o)
        return FNN_E_NULL;
    if (!arch)
        return fnn__fail(o->errmsg, sizeof o->errmsg, FNN_E_NULL, "preset name is NULL");
    const fnn__preset *p = fnn__preset_find(arch);
    if (!p) {
        char names[128] = "";
        for (size_t i = 0; i < fnn__n_presets; i++) {
            strncat(names, i ? ", " : "", sizeof names - strlen(names) - 1);
            strncat(names, fnn__presets[i].name, sizeof names - strlen(names) - 1);
        }
        return fnn__fail(o->errmsg, sizeof o->errmsg, FNN_E_INVALID,
                         "'%.64s' is not a preset (%s)", arch, names);
    }
    fnn__train_options_apply_preset(o, p);
    return FNN_OK;
}

FNN_API const char *fnn_train_options_errmsg(const fnn_train_options *o)
{
    return o ? o->errmsg : "options handle is NULL";
}

FNN_API int fnn_train_options_set(fnn_train_options *o, int key, double v)
{
    if (!o)
        return FNN_E_NULL;
    const fnn__keydef *d = train_key(key);
    if (!d)
        return fnn__fail(o->errmsg, sizeof o->errmsg, FNN_E_INVALID, "unknown option key %d",
                         key);
    int rc = fnn__key_check(d, v, o->errmsg, sizeof o->errmsg);
    if (rc == FNN_OK)
        fnn__train_options_put(o, key, v);
    return rc;
}

FNN_API int fnn_train_options_get(const fnn_train_options *o, int key, double *value)
{
    if (!o || !value)
        return FNN_E_NULL;
    if (!train_key(key))
        return FNN_E_INVALID;
    *value = o->v[key];
    return FNN_OK;
}

FNN_API int fnn_train_options_set_u64(fnn_train_options *o, int key, uint64_t value)
{
    if (!o)
        return FNN_E_NULL;
    const fnn__keydef *d = train_key(key);
    if (!d || !(d->flags & FNN_BOUND_INTEGER))
        return fnn__fail(o->errmsg, sizeof o->errmsg, FNN_E_INVALID,
                         "option key %d is not an integer option", key);
    if (key == FNN_TRAIN_SEED) {
        put_seed(o, value);
        return FNN_OK;
    }
    return fnn_train_options_set(o, key, (double)value);
}

FNN_API int fnn_train_options_get_u64(const fnn_train_options *o, int key, uint64_t *value)
{
    if (!o || !value)
        return FNN_E_NULL;
    const fnn__keydef *d = train_key(key);
    if (!d || !(d->flags & FNN_BOUND_INTEGER))
        return FNN_E_INVALID;
    *value = key == FNN_TRAIN_SEED ? o->seed : (uint64_t)o->v[key];
    return FNN_OK;
}

/* Reads a whole decimal unsigned 64-bit integer. */
static int read_u64(const char *s, uint64_t *v)
{
    if (!(*s >= '0' && *s <= '9'))
        return -1;
    errno = 0;
    char *end = NULL;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno == ERANGE || *end != '\0')
        return -1;
    *v = (uint64_t)x;
    return 0;
}

FNN_API int fnn_train_options_parse(fnn_train_options *o, const char *name, const char *value)
{
    if (!o)
        return FNN_E_NULL;
    if (!name || !value)
        return fnn__fail(o->errmsg, sizeof o->errmsg, FNN_E_NULL, "%s is NULL",
                         name ? "value" : "name");
    int key;
    if (fnn_name_lookup(FNN_NAMES_TRAIN_KEY, name, &key) != FNN_OK)
        return fnn__fail(o->errmsg, sizeof o->errmsg, FNN_E_INVALID,
                         "unknown training option '%.40s'", name);
    uint64_t seed;
    if (key == FNN_TRAIN_SEED && read_u64(value, &seed) == 0) {
        put_seed(o, seed);
        return FNN_OK;
    }
    double v;
    int rc = fnn__key_parse(&fnn__train_keys[key], value, &v, o->errmsg, sizeof o->errmsg);
    if (rc == FNN_OK)
        fnn__train_options_put(o, key, v);
    return rc;
}

FNN_API int fnn_train_options_set_progress(fnn_train_options *o, fnn_progress_fn fn,
                                           void *user)
{
    if (!o)
        return FNN_E_NULL;
    o->progress = fn;
    o->user = user;
    return FNN_OK;
}
