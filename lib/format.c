/* Model files (docs/FORMAT.md): serialisation, atomic saves and checked loads.
 *
 * Every multi-byte value is packed little-endian byte by byte, floats through
 * their IEEE-754 bit pattern, so files are identical on every host. Loaders
 * parse from a buffer and check each length and count against the bytes that
 * remain before using it; the file loader first checks a file's structure and
 * declared length from its header, section headers and SPEC, so that it reads
 * a file whole only when its length is plausible for the model it holds. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "internal.h"

/* ---- layout ------------------------------------------------------------- */

static const uint8_t fmt_magic[8] = {0x89, 'F', 'N', 'N', '\r', '\n', 0x1a, '\n'};

enum {
    FMT_VERSION = 1,
    FMT_HEADER = 32,         /* magic, version, flags x2, count, length */
    FMT_SECTION_HEADER = 16, /* tag, flags, length */
    FMT_TRAILER = 4,         /* CRC-32 */
    FMT_SEC_REQUIRED = 1     /* section flag bit 0 */
};

/* Header required-flag bits this reader understands (none in version 1). */
#define FMT_REQUIRED_KNOWN 0u
/* Files (and buffers) are capped at 4 GiB. */
#define FMT_MAX_FILE ((uint64_t)1 << 32)

/* A tag is a u32 whose little-endian bytes spell four ASCII letters. */
#define FMT_TAG(a, b, c, d)                                                     \
    ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define TAG_SPEC FMT_TAG('S', 'P', 'E', 'C')
#define TAG_PARAMS FMT_TAG('P', 'A', 'R', 'M')
#define TAG_FORGET FMT_TAG('F', 'R', 'G', 'T')
#define TAG_RECIPE FMT_TAG('R', 'C', 'P', 'E')
#define TAG_HISTORY FMT_TAG('H', 'I', 'S', 'T')

/* RECIPE payload: calls, flags, init seed, training seed, samples, count,
 * then one (key, value) entry per training option. */
enum { RECIPE_FIXED = 36, RECIPE_ENTRY = 12, RECIPE_HAS_INIT = 1 };
/* HISTORY payload: a count, then per record its length (after that field),
 * its key count K, K f64 values, a 32-byte digest and a 16-byte version. */
enum { HIST_DIGEST = 32, HIST_VERSION = 16 };
#define HIST_RECORD (4 + 4 + 8 * FNN__HISTORY_NKEYS + HIST_DIGEST + HIST_VERSION)

static size_t pad4(size_t n)
{
    return (4 - (n & 3)) & 3;
}

/* zlib's crc32 takes a 32-bit length; feed large buffers in pieces. */
uint32_t fnn__crc32(const uint8_t *p, size_t n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    while (n > 0) {
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, p, chunk);
        p += chunk;
        n -= chunk;
    }
    return (uint32_t)c;
}

/* ---- little-endian packing ------------------------------------------------ */

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void put_u64(uint8_t *p, uint64_t v)
{
    put_u32(p, (uint32_t)v);
    put_u32(p + 4, (uint32_t)(v >> 32));
}

static void put_f32(uint8_t *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    put_u32(p, u);
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static float get_f32(const uint8_t *p)
{
    uint32_t u = get_u32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* ---- writing ---------------------------------------------------------------- */

/* Byte counts of the sections of m's file. */
typedef struct fmt_plan {
    size_t spec_len;   /* SPEC payload (unpadded) */
    size_t params_len; /* PARAMS payload */
    size_t forget_len; /* FORGET payload */
    size_t recipe_len; /* RECIPE payload */
    size_t history_len; /* HISTORY payload */
    size_t total;      /* whole file */
} fmt_plan;

/* What fnn_model_load() would refuse is not written: every parameter must be
 * finite and every forgetting rate > 0 (+infinity allowed). */
static int check_savable(const fnn_model *m)
{
    for (size_t i = 0; i < m->n_params; i++)
        if (!isfinite(m->params[i]))
            return fnn__model_fail(m, FNN_E_NUMERIC,
                                   "parameter %zu is %s; a model with a non-finite parameter "
                                   "is not saved",
                                   i, isnan(m->params[i]) ? "NaN" : "infinite");
    for (size_t k = 0; k < m->n_fl; k++)
        for (uint32_t j = 0; j < m->fl[k].units; j++)
            if (!(m->fl[k].tau[j] > 0.0f))
                return fnn__model_fail(m, isnan(m->fl[k].tau[j]) ? FNN_E_NUMERIC : FNN_E_STATE,
                                       "dense layer %zu, unit %u: tau is %g; a model whose "
                                       "rates are not > 0 is not saved",
                                       k, (unsigned)j, (double)m->fl[k].tau[j]);
    return FNN_OK;
}

static int plan_file(const fnn_model *m, fmt_plan *pl)
{
    size_t n, tot;
    int rc = check_savable(m);
    if (rc != FNN_OK)
        return rc;
    pl->spec_len = strlen(m->spec_text);
    if (pl->spec_len == 0 || pl->spec_len > FNN__MAX_SPEC)
        return fnn__model_fail(m, FNN_E_NOMEM,
                         "specification text of %zu bytes is outside the file "
                         "format's 1..%u",
                         pl->spec_len, FNN__MAX_SPEC);
    if (fnn__mul(m->n_params, 4, &n) || fnn__add(n, 8, &pl->params_len))
        goto overflow;
    pl->forget_len = 4;
    for (size_t k = 0; k < m->n_fl; k++) {
        if (fnn__mul(m->fl[k].units, 4, &n) || fnn__add(n, 8, &n) ||
            fnn__add(pl->forget_len, n, &pl->forget_len))
            goto overflow;
    }
    pl->recipe_len = RECIPE_FIXED + RECIPE_ENTRY * FNN__TRAIN_NKEYS;
    pl->history_len = 4 + m->n_history * (size_t)HIST_RECORD; /* n_history is capped */
    tot = FMT_HEADER + (4 + (m->n_history > 0)) * FMT_SECTION_HEADER + FMT_TRAILER;
    if (fnn__add(tot, pl->spec_len + pad4(pl->spec_len), &tot) ||
        fnn__add(tot, pl->params_len, &tot) || fnn__add(tot, pl->forget_len, &tot) ||
        fnn__add(tot, pl->recipe_len, &tot) ||
        (m->n_history > 0 && fnn__add(tot, pl->history_len, &tot)))
        goto overflow;
    if ((uint64_t)tot > FMT_MAX_FILE)
        return fnn__model_fail(m, FNN_E_NOMEM,
                               "the model needs %zu bytes, over the file format's 4 GiB cap",
                               tot);
    pl->total = tot;
    return FNN_OK;
overflow:
    return fnn__model_fail(m, FNN_E_NOMEM, "serialised size of the model overflows");
}

static uint8_t *put_section_header(uint8_t *p, uint32_t tag, uint32_t flags,
                                   size_t len)
{
    put_u32(p, tag);
    put_u32(p + 4, flags);
    put_u64(p + 8, (uint64_t)len);
    return p + FMT_SECTION_HEADER;
}

/* Writes the file planned by plan_file() into out (pl->total bytes). */

static uint8_t *write_recipe(const fnn__recipe *r, uint8_t *p)
{
    put_u32(p, r->calls);
    put_u32(p + 4, r->has_init ? RECIPE_HAS_INIT : 0u);
    put_u64(p + 8, r->init_seed);
    put_u64(p + 16, r->seed);
    put_u64(p + 24, r->samples);
    put_u32(p + 32, FNN__TRAIN_NKEYS);
    p += RECIPE_FIXED;
    for (uint32_t k = 0; k < FNN__TRAIN_NKEYS; k++, p += RECIPE_ENTRY) {
        uint64_t bits;
        memcpy(&bits, &r->v[k], sizeof bits);
        put_u32(p, k);
        put_u64(p + 4, bits);
    }
    return p;
}

static void write_file(const fnn_model *m, const fmt_plan *pl, uint8_t *out)
{
    uint8_t *p = out;

    memcpy(p, fmt_magic, sizeof fmt_magic);
    put_u32(p + 8, FMT_VERSION);
    put_u32(p + 12, 0); /* required flags */
    put_u32(p + 16, 0); /* optional flags */
    put_u32(p + 20, m->n_history > 0 ? 5 : 4); /* sections */
    put_u64(p + 24, (uint64_t)pl->total);
    p += FMT_HEADER;

    p = put_section_header(p, TAG_SPEC, FMT_SEC_REQUIRED, pl->spec_len);
    memcpy(p, m->spec_text, pl->spec_len);
    p += pl->spec_len;
    for (size_t i = pad4(pl->spec_len); i > 0; i--)
        *p++ = 0;

    p = put_section_header(p, TAG_PARAMS, FMT_SEC_REQUIRED, pl->params_len);
    put_u64(p, (uint64_t)m->n_params);
    p += 8;
    for (size_t i = 0; i < m->n_params; i++, p += 4)
        put_f32(p, m->params[i]);

    p = put_section_header(p, TAG_FORGET, 0, pl->forget_len);
    put_u32(p, m->t);
    p += 4;
    for (size_t k = 0; k < m->n_fl; k++) {
        const fnn__flayer *F = &m->fl[k];
        put_u32(p, F->units);
        put_u32(p + 4, F->on ? 1u : 0u);
        p += 8;
        for (uint32_t j = 0; j < F->units; j++, p += 4)
            put_f32(p, F->tau[j]);
    }

    p = put_section_header(p, TAG_RECIPE, 0, pl->recipe_len);
    p = write_recipe(&m->recipe, p);

    if (m->n_history > 0) {
        p = put_section_header(p, TAG_HISTORY, 0, pl->history_len);
        put_u32(p, (uint32_t)m->n_history);
        p += 4;
        for (size_t i = 0; i < m->n_history; i++) {
            const fnn__history_rec *h = &m->history[i];
            put_u32(p, HIST_RECORD - 4);
            put_u32(p + 4, FNN__HISTORY_NKEYS);
            p += 8;
            for (int k = 0; k < FNN__HISTORY_NKEYS; k++, p += 8) {
                uint64_t bits;
                memcpy(&bits, &h->v[k], sizeof bits);
                put_u64(p, bits);
            }
            memcpy(p, h->digest, HIST_DIGEST);
            p += HIST_DIGEST;
            memset(p, 0, HIST_VERSION);
            memcpy(p, h->version, strnlen(h->version, HIST_VERSION - 1));
            p += HIST_VERSION;
        }
    }

    put_u32(p, fnn__crc32(out, (size_t)(p - out)));
}

int fnn__model_serialize(const fnn_model *m, uint8_t **buf, size_t *len)
{
    fmt_plan pl;
    uint8_t *out;
    int rc;

    if (!m || !buf || !len)
        return FNN_E_NULL;
    *buf = NULL;
    *len = 0;
    if ((rc = plan_file(m, &pl)) != FNN_OK)
        return rc;
    out = malloc(pl.total);
    if (!out)
        return fnn__model_fail(m, FNN_E_NOMEM, "cannot allocate %zu bytes for the model file",
                               pl.total);
    write_file(m, &pl, out);
    *buf = out;
    *len = pl.total;
    return FNN_OK;
}

FNN_API int fnn_model_save_buffer(const fnn_model *m, void *buf, size_t size, size_t *needed)
{
    fmt_plan pl;
    int rc;

    if (!m)
        return FNN_E_NULL;
    if (!needed)
        return fnn__model_fail(m, FNN_E_NULL, "needed must not be NULL");
    if (!buf && size > 0)
        return fnn__model_fail(m, FNN_E_NULL, "buf is NULL but size is %zu", size);
    *needed = 0;
    if ((rc = plan_file(m, &pl)) != FNN_OK)
        return rc;
    *needed = pl.total;
    if (!buf)
        return FNN_OK; /* size query */
    if (size < pl.total)
        return fnn__model_fail(m, FNN_E_SHAPE,
                               "buffer of %zu bytes is too small: the model needs %zu", size,
                               pl.total);
    write_file(m, &pl, buf);
    return FNN_OK;
}

/* strerror() text without the static buffer of strerror(). */
static const char *errno_text(int e, char *buf, size_t size)
{
#if defined(_GNU_SOURCE)
    return strerror_r(e, buf, size);
#else
    if (strerror_r(e, buf, size) != 0)
        snprintf(buf, size, "error %d", e);
    return buf;
#endif
}

/* Paths in messages: long ones are shown by their last bytes, so that the
 * reason after them still fits the message buffer. */
#define PATH_SHOWN 120

static const char *path_dots(const char *path)
{
    return strlen(path) > PATH_SHOWN ? "..." : "";
}

static const char *path_tail(const char *path)
{
    size_t n = strlen(path);
    return n > PATH_SHOWN ? path + n - PATH_SHOWN : path;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n > ((size_t)1 << 30) ? ((size_t)1 << 30) : n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (w == 0) {
            errno = EIO;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Best effort: makes the rename durable by syncing the directory holding it. */
static void sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    size_t n;
    int fd;

    if (!slash) {
        fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    } else {
        n = slash == path ? 1 : (size_t)(slash - path);
        dir = malloc(n + 1);
        if (!dir)
            return;
        memcpy(dir, path, n);
        dir[n] = '\0';
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        free(dir);
    }
    if (fd >= 0) {
        (void)fsync(fd);
        (void)close(fd);
    }
}

/* Temporary files of a save to <path> are named <path>.tmp.<pid>.<6 random
 * characters from mkstemp()>, <pid> being the writer's process id in decimal.
 * Returns the length of the name's "<pid>." part that follows the infix if
 * name is one, else 0, and the pid in *pid. */
static size_t temporary_pid(const char *name, long *pid)
{
    size_t n = 0;
    long v = 0;
    if (name[0] < '1' || name[0] > '9')
        return 0;
    for (; name[n] >= '0' && name[n] <= '9'; n++) {
        if (n == 9)
            return 0; /* Linux pids are at most 2^22: a longer number is not one */
        v = v * 10 + (name[n] - '0');
    }
    if (name[n] != '.' || strlen(name + n + 1) != 6)
        return 0;
    for (const char *c = name + n + 1; *c; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')))
            return 0;
    *pid = v;
    return n + 1;
}

/* Best effort: removes the temporary files of earlier saves to path whose
 * writer no longer exists (killed or crashed before it could remove them).
 * A temporary whose writer is alive, or whose liveness kill() cannot tell,
 * is left alone, and so is every other name. */
static void remove_stale_temporaries(const char *path)
{
    static const char infix[] = ".tmp.";
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    size_t blen = strlen(base);
    char *dir = NULL;
    DIR *d;
    struct dirent *ent;

    if (blen == 0)
        return;
    if (slash) {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        if (!(dir = malloc(n + 1)))
            return;
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    d = opendir(dir ? dir : ".");
    free(dir);
    if (!d)
        return;
    while ((ent = readdir(d)) != NULL) {
        const char *name = ent->d_name;
        long pid;
        if (strncmp(name, base, blen) != 0 ||
            strncmp(name + blen, infix, sizeof infix - 1) != 0 ||
            temporary_pid(name + blen + sizeof infix - 1, &pid) == 0)
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* alive, or not ours to judge (EPERM: another user's) */
        (void)unlinkat(dirfd(d), name, 0);
    }
    (void)closedir(d);
}

int fnn__file_replace(const char *path, const uint8_t *data, size_t len, char *err,
                      size_t err_size)
{
    char suffix[48];
    char ebuf[128];
    const char *what;
    char *tmp = NULL;
    size_t plen, slen, tlen;
    struct stat st;
    int rc, fd = -1, e;

    plen = strlen(path);
    slen = (size_t)snprintf(suffix, sizeof suffix, ".tmp.%ld.XXXXXX", (long)getpid());
    if (fnn__add(plen, slen + 1, &tlen) || !(tmp = malloc(tlen)))
        return fnn__fail(err, err_size, FNN_E_NOMEM, "cannot allocate the temporary file name");
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, suffix, slen + 1);

    remove_stale_temporaries(path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        e = errno;
        free(tmp);
        return fnn__fail(err, err_size, FNN_E_IO,
                         "cannot create a temporary file for '%s%s': %s", path_dots(path),
                         path_tail(path), errno_text(e, ebuf, sizeof ebuf));
    }
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    /* A replaced file keeps its permission bits; a new one stays 0600. */
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
        (void)fchmod(fd, st.st_mode & 0777);

    what = "write";
    if (write_all(fd, data, len) != 0)
        goto fail;
    what = "sync";
    if (fsync(fd) != 0)
        goto fail;
    what = "close";
    rc = close(fd);
    fd = -1;
    if (rc != 0)
        goto fail;
    what = "rename over";
    if (rename(tmp, path) != 0)
        goto fail;
    sync_parent_dir(path);
    free(tmp);
    return FNN_OK;

fail:
    e = errno;
    if (fd >= 0)
        (void)close(fd);
    (void)unlink(tmp);
    free(tmp);
    return fnn__fail(err, err_size, FNN_E_IO, "cannot %s '%s%s': %s", what, path_dots(path),
                     path_tail(path), errno_text(e, ebuf, sizeof ebuf));
}

FNN_API int fnn_model_save(const fnn_model *m, const char *path)
{
    char msg[FNN__ERRMSG_SIZE];
    uint8_t *data = NULL;
    size_t len;
    int rc;

    if (!m)
        return FNN_E_NULL;
    if (!path)
        return fnn__model_fail(m, FNN_E_NULL, "path is NULL");
    if ((rc = fnn__model_serialize(m, &data, &len)) != FNN_OK)
        return rc;
    rc = fnn__file_replace(path, data, len, msg, sizeof msg);
    free(data);
    return rc == FNN_OK ? rc : fnn__model_fail(m, rc, "%s", msg);
}

/* ---- reading ---------------------------------------------------------------- */

static const char *section_name(uint32_t tag, char *buf, size_t size)
{
    int printable = 1;
    if (tag == TAG_SPEC)
        return "SPEC";
    if (tag == TAG_PARAMS)
        return "PARAMS";
    if (tag == TAG_FORGET)
        return "FORGET";
    if (tag == TAG_RECIPE)
        return "RECIPE";
    if (tag == TAG_HISTORY)
        return "HISTORY";
    for (int i = 0; i < 4; i++) {
        unsigned c = (tag >> (8 * i)) & 0xffu;
        if (c < 0x20 || c > 0x7e || c == '\'')
            printable = 0;
    }
    if (printable)
        snprintf(buf, size, "'%c%c%c%c' (0x%08x)", (char)(tag & 0xff),
                 (char)((tag >> 8) & 0xff), (char)((tag >> 16) & 0xff),
                 (char)(tag >> 24), (unsigned)tag);
    else
        snprintf(buf, size, "0x%08x", (unsigned)tag);
    return buf;
}

static const char *float_class(float f)
{
    return isnan(f) ? "NaN" : f > 0 ? "+infinity" : "-infinity";
}

/* Reads the FORGET payload into m's forgetting layers and clock. */
static int load_forget(fnn_model *m, const uint8_t *p, size_t len, char *err,
                       size_t err_size)
{
    size_t pos = 4;
    if (len < 4)
        return fnn__fail(err, err_size, FNN_E_TRUNCATED,
                         "section FORGET: %zu bytes, too short for the clock", len);
    for (size_t dense = 0; dense < m->n_fl; dense++) {
        fnn__flayer *F = &m->fl[dense];
        uint32_t units, on;
        if (len - pos < 8)
            return fnn__fail(err, err_size, FNN_E_TRUNCATED,
                             "section FORGET: ends before dense layer %zu", dense);
        units = get_u32(p + pos);
        on = get_u32(p + pos + 4);
        pos += 8;
        if (units != F->units)
            return fnn__fail(err, err_size, FNN_E_FORMAT,
                             "section FORGET: dense layer %zu has %u units, "
                             "model spec has %u",
                             dense, (unsigned)units, (unsigned)F->units);
        if (on > 1)
            return fnn__fail(err, err_size, FNN_E_FORMAT,
                             "section FORGET: dense layer %zu: decay_on is %u, "
                             "must be 0 or 1",
                             dense, (unsigned)on);
        if ((len - pos) / 4 < units)
            return fnn__fail(err, err_size, FNN_E_TRUNCATED,
                             "section FORGET: ends inside the %u tau values of "
                             "dense layer %zu",
                             (unsigned)units, dense);
        for (uint32_t j = 0; j < units; j++, pos += 4) {
            float tau = get_f32(p + pos);
            if (isnan(tau))
                return fnn__fail(err, err_size, FNN_E_NUMERIC,
                                 "section FORGET: dense layer %zu, unit %u: tau "
                                 "is NaN",
                                 dense, (unsigned)j);
            if (!(tau > 0.0f))
                return fnn__fail(err, err_size, FNN_E_FORMAT,
                                 "section FORGET: dense layer %zu, unit %u: tau "
                                 "is %g, must be > 0",
                                 dense, (unsigned)j, (double)tau);
            F->tau[j] = tau;
        }
        F->on = (int)on;
    }
    if (pos != len)
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         "section FORGET: %zu bytes after the last dense layer",
                         len - pos);
    m->t = get_u32(p);
    return FNN_OK;
}

/* Reads the RECIPE payload. A key this reader does not know makes the
 * recipe one it could not reproduce: it is dropped (calls = 0). */
static int load_recipe(fnn_model *m, const uint8_t *p, size_t len, char *err,
                       size_t err_size)
{
    fnn__recipe r;
    memset(&r, 0, sizeof r);
    if (len < RECIPE_FIXED)
        return fnn__fail(err, err_size, FNN_E_TRUNCATED,
                         "section RECIPE: %zu bytes, shorter than its %d-byte header", len,
                         RECIPE_FIXED);
    uint32_t flags = get_u32(p + 4), count = get_u32(p + 32);
    if (flags & ~(uint32_t)RECIPE_HAS_INIT)
        return fnn__fail(err, err_size, FNN_E_FORMAT, "section RECIPE: unknown flags 0x%08x",
                         (unsigned)(flags & ~(uint32_t)RECIPE_HAS_INIT));
    if ((len - RECIPE_FIXED) / RECIPE_ENTRY < count ||
        len - RECIPE_FIXED != (size_t)count * RECIPE_ENTRY)
        return fnn__fail(err, err_size,
                         (len - RECIPE_FIXED) / RECIPE_ENTRY < count ? FNN_E_TRUNCATED
                                                                    : FNN_E_FORMAT,
                         "section RECIPE: %zu bytes for %u entries of %d bytes", len,
                         (unsigned)count, RECIPE_ENTRY);
    r.calls = get_u32(p);
    r.has_init = (flags & RECIPE_HAS_INIT) != 0;
    r.init_seed = get_u64(p + 8);
    r.seed = get_u64(p + 16);
    r.samples = get_u64(p + 24);
    fnn_train_options d;
    fnn__train_options_init(&d);
    memcpy(r.v, d.v, sizeof r.v);
    uint32_t seen = 0;
    int unknown = 0;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = p + RECIPE_FIXED + (size_t)i * RECIPE_ENTRY;
        uint32_t key = get_u32(e);
        uint64_t bits = get_u64(e + 4);
        double v;
        memcpy(&v, &bits, sizeof v);
        if (key >= FNN__TRAIN_NKEYS) {
            unknown = 1;
            continue;
        }
        if (seen & (1u << key))
            return fnn__fail(err, err_size, FNN_E_FORMAT,
                             "section RECIPE: option %u appears twice", (unsigned)key);
        seen |= 1u << key;
        char msg[FNN__ERRMSG_SIZE];
        if (key != FNN_TRAIN_SEED &&
            fnn__key_check(&fnn__train_keys[key], v, msg, sizeof msg) != FNN_OK)
            return fnn__fail(err, err_size, isnan(v) ? FNN_E_NUMERIC : FNN_E_FORMAT,
                             "section RECIPE: %s", msg);
        r.v[key] = v;
    }
    r.v[FNN_TRAIN_SEED] = (double)r.seed;
    if (unknown)
        r.calls = 0;
    m->recipe = r;
    return FNN_OK;
}

/* Reads the HISTORY payload. Records may be longer than this reader's
 * (later fields are skipped) and may hold fewer keys (the rest read NaN). */
static int load_history(fnn_model *m, const uint8_t *p, size_t len, char *err,
                        size_t err_size)
{
    if (len < 4)
        return fnn__fail(err, err_size, FNN_E_TRUNCATED,
                         "section HISTORY: %zu bytes, too short for its count", len);
    uint32_t count = get_u32(p);
    if (count > FNN__MAX_HISTORY)
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         "section HISTORY: %u records, over the cap of %u", (unsigned)count,
                         FNN__MAX_HISTORY);
    /* Every record takes at least its two words: the count is checked against
     * the bytes before anything is allocated. */
    if ((len - 4) / 8 < count)
        return fnn__fail(err, err_size, FNN_E_TRUNCATED,
                         "section HISTORY: %u records cannot fit in %zu bytes",
                         (unsigned)count, len);
    fnn__history_rec *h = count ? calloc(count, sizeof *h) : NULL;
    if (count && !h)
        return fnn__fail(err, err_size, FNN_E_NOMEM, "section HISTORY: out of memory");
    size_t pos = 4;
    for (uint32_t i = 0; i < count; i++) {
        if (len - pos < 8) {
            free(h);
            return fnn__fail(err, err_size, FNN_E_TRUNCATED,
                             "section HISTORY: ends before record %u", (unsigned)i);
        }
        uint32_t rlen = get_u32(p + pos), keys = get_u32(p + pos + 4);
        if (rlen > len - pos - 4) {
            free(h);
            return fnn__fail(err, err_size, FNN_E_TRUNCATED,
                             "section HISTORY: record %u declares %u bytes, %zu remain",
                             (unsigned)i, (unsigned)rlen, len - pos - 4);
        }
        if (rlen < 4 + HIST_DIGEST + HIST_VERSION) {
            free(h);
            return fnn__fail(err, err_size, FNN_E_FORMAT,
                             "section HISTORY: record %u declares %u bytes, fewer than the "
                             "%u of a record without keys",
                             (unsigned)i, (unsigned)rlen, 4u + HIST_DIGEST + HIST_VERSION);
        }
        if (keys > (rlen - 4) / 8 || rlen - 4 - 8 * (size_t)keys < HIST_DIGEST + HIST_VERSION) {
            free(h);
            return fnn__fail(err, err_size, FNN_E_FORMAT,
                             "section HISTORY: record %u: %u keys do not fit its %u bytes",
                             (unsigned)i, (unsigned)keys, (unsigned)rlen);
        }
        const uint8_t *q = p + pos + 8;
        for (uint32_t k = 0; k < FNN__HISTORY_NKEYS; k++) {
            double v = NAN;
            if (k < keys) {
                uint64_t bits = get_u64(q + 8 * k);
                memcpy(&v, &bits, sizeof v);
            }
            h[i].v[k] = v;
        }
        q += 8 * (size_t)keys;
        memcpy(h[i].digest, q, HIST_DIGEST);
        q += HIST_DIGEST;
        if (!memchr(q, 0, HIST_VERSION)) {
            free(h);
            return fnn__fail(err, err_size, FNN_E_FORMAT,
                             "section HISTORY: record %u: the version is not terminated",
                             (unsigned)i);
        }
        for (size_t c = 0; c < HIST_VERSION && q[c]; c++)
            if (q[c] < 0x20 || q[c] > 0x7e) {
                free(h);
                return fnn__fail(err, err_size, FNN_E_FORMAT,
                                 "section HISTORY: record %u: the version holds byte 0x%02x",
                                 (unsigned)i, q[c]);
            }
        memcpy(h[i].version, q, HIST_VERSION);
        pos += 4 + (size_t)rlen;
    }
    if (pos != len) {
        free(h);
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         "section HISTORY: %zu bytes after the last record", len - pos);
    }
    free(m->history);
    m->history = h;
    m->n_history = count;
    return FNN_OK;
}

/* Reader caps beyond those of the layout (docs/FORMAT.md, "Reading"): how
 * many sections a file may have, and how much its unknown optional sections
 * may hold, 16 MiB plus four times the PARAMS payload, so that the size a
 * file declares is plausible for the model it describes. */
#define FMT_MAX_SECTIONS 256u
#define FMT_UNKNOWN_BASE ((uint64_t)16 << 20)
#define FMT_UNKNOWN_PER_PARAMS 4u
/* RECIPE and HISTORY caps: 4096 option entries; 1 KiB per record at the
 * record cap. */
#define FMT_MAX_RECIPE ((uint64_t)RECIPE_FIXED + (uint64_t)RECIPE_ENTRY * 4096u)
#define FMT_MAX_HISTORY ((uint64_t)4 + (uint64_t)FNN__MAX_HISTORY * 1024u)

/* Where the bytes of a model image come from while its structure is checked:
 * memory; a regular file, read with pread() at the offsets the section table
 * names; or a stream (pipe, device), read in order into a buffer that grows
 * with what arrives, never past the length its header declares. */
enum { SRC_MEM, SRC_FILE, SRC_STREAM };

typedef struct fmt_src {
    int kind;
    const uint8_t *mem;  /* SRC_MEM */
    int fd;              /* SRC_FILE, SRC_STREAM */
    const char *path;
    uint64_t size;       /* SRC_MEM, SRC_FILE: bytes present */
    uint8_t *data;       /* SRC_STREAM: bytes read so far */
    size_t have, cap;
    size_t limit;        /* SRC_STREAM: most bytes to read */
    int eof;
} fmt_src;

static int read_fail(const fmt_src *s, int e, char *err, size_t err_size)
{
    char ebuf[128];
    return fnn__fail(err, err_size, FNN_E_IO, "cannot read '%s%s': %s", path_dots(s->path),
                     path_tail(s->path), errno_text(e, ebuf, sizeof ebuf));
}

/* Reads a stream until it holds want bytes or ends, never more than
 * s->limit bytes in all. */
static int stream_fill(fmt_src *s, size_t want, char *err, size_t err_size)
{
    const size_t limit = s->limit;
    if (want > limit)
        want = limit;
    while (s->have < want && !s->eof) {
        if (s->have == s->cap) {
            size_t c = s->cap ? (s->cap > limit / 2 ? limit : s->cap * 2) : 65536;
            uint8_t *p;
            if (c < want)
                c = want;
            if (c > limit)
                c = limit;
            if (!(p = realloc(s->data, c)))
                return fnn__fail(err, err_size, FNN_E_NOMEM,
                                 "cannot allocate %zu bytes to read '%s%s'", c,
                                 path_dots(s->path), path_tail(s->path));
            s->data = p;
            s->cap = c;
        }
        size_t room = (s->cap < limit ? s->cap : limit) - s->have;
        ssize_t r = read(s->fd, s->data + s->have, room > ((size_t)1 << 30) ? ((size_t)1 << 30)
                                                                           : room);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return read_fail(s, errno, err, err_size);
        }
        if (r == 0)
            s->eof = 1;
        s->have += (size_t)r;
    }
    return FNN_OK;
}

/* Copies up to n bytes at off into dst; *got is less than n only where the
 * image ends. */
static int src_read_upto(fmt_src *s, size_t off, void *dst, size_t n, size_t *got, char *err,
                         size_t err_size)
{
    size_t k = 0;
    int rc;
    *got = 0;
    switch (s->kind) {
    case SRC_MEM:
        if (off < s->size)
            k = s->size - off < n ? (size_t)(s->size - off) : n;
        if (k)
            memcpy(dst, s->mem + off, k);
        break;
    case SRC_FILE:
        while (k < n) {
            ssize_t r = pread(s->fd, (uint8_t *)dst + k, n - k, (off_t)(off + k));
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                return read_fail(s, errno, err, err_size);
            }
            if (r == 0)
                break;
            k += (size_t)r;
        }
        break;
    default:
        if ((rc = stream_fill(s, off + n, err, err_size)) != FNN_OK)
            return rc;
        if (off < s->have)
            k = s->have - off < n ? s->have - off : n;
        if (k)
            memcpy(dst, s->data + off, k);
        break;
    }
    *got = k;
    return FNN_OK;
}

/* Copies exactly n bytes at off into dst; the section table has checked that
 * they lie within the declared length, so an image that ends before them is
 * a file that is shorter than it says, or shrank while it was read. */
static int src_read(fmt_src *s, size_t off, void *dst, size_t n, char *err, size_t err_size)
{
    size_t got;
    int rc = src_read_upto(s, off, dst, n, &got, err, err_size);
    if (rc == FNN_OK && got < n)
        rc = fnn__fail(err, err_size, FNN_E_TRUNCATED,
                       "truncated: '%s%s' ends at byte %zu, before the length its header "
                       "declares",
                       path_dots(s->path), path_tail(s->path), off + got);
    return rc;
}

/* What the section table says, and the parsed SPEC. */
typedef struct fmt_layout {
    int spec_seen, params_seen, forget_seen, recipe_seen, history_seen;
    size_t params_off, params_len;   /* PARAMS payload */
    size_t forget_off, forget_len;   /* FORGET payload */
    size_t recipe_off, recipe_len;   /* RECIPE payload */
    size_t history_off, history_len; /* HISTORY payload */
    uint64_t count;                /* PARAMS count */
    int parsed;                    /* spec holds the parsed SPEC */
    fnn__spec spec;
    size_t needed;                 /* parameters the spec needs */
    char text[FNN__MAX_SPEC + 1];
} fmt_layout;

/* FORGET payload bytes of a model with this spec. */
static size_t forget_bytes(const fnn__spec *spec)
{
    size_t n = 4;
    for (size_t i = 0; i < spec->n_layers; i++)
        if (spec->layers[i].kind == FNN__L_DENSE)
            n += 8 + 4 * (size_t)spec->layers[i].units; /* layers and units are capped */
    return n;
}

/* Parses the SPEC payload text; the parser's message may quote bytes of the
 * file, so it is escaped. */
static int parse_spec(fmt_layout *lay, size_t len, char *err, size_t err_size)
{
    char msg[FNN__ERRMSG_SIZE], safe[4 * FNN__ERRMSG_SIZE];
    const char *nul = memchr(lay->text, 0, len);
    int rc;
    if (nul)
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         "section SPEC: contains a NUL byte at offset %zu",
                         (size_t)(nul - lay->text));
    lay->text[len] = '\0';
    msg[0] = '\0';
    if ((rc = fnn__spec_parse(lay->text, &lay->spec, msg, sizeof msg)) != FNN_OK) {
        fnn__escape(safe, sizeof safe, msg);
        return fnn__fail(err, err_size, rc, "section SPEC: %s", safe);
    }
    lay->parsed = 1;
    lay->needed = fnn__spec_num_params(&lay->spec);
    return FNN_OK;
}

/* Checks the section table of an image whose sections end at `end` (the
 * trailer), section by section in file order, reading only section headers,
 * padding, the SPEC payload and the PARAMS count. A check that needs two
 * sections runs as soon as both have been seen. With `plausible`, the
 * FORGET payload must also be no longer than the model's forgetting state
 * (the buffer loader checks it exactly after the parameters). On success
 * lay->spec holds the parsed SPEC, which the caller frees. */
static int check_sections(fmt_src *s, size_t end, uint32_t nsec, int plausible,
                          fmt_layout *lay, char *err, size_t err_size)
{
    char name[40];
    const char *nm;
    uint64_t unknown = 0, unknown_cap;
    size_t pos = FMT_HEADER;
    int rc = FNN_OK, matched = 0, bounded = 0;

    memset(lay, 0, offsetof(fmt_layout, text));
    for (uint32_t i = 0; i < nsec && rc == FNN_OK; i++) {
        uint8_t h[FMT_SECTION_HEADER], pad[3];
        uint32_t tag, flags;
        uint64_t len;
        size_t padded;
        if (end - pos < FMT_SECTION_HEADER) {
            rc = fnn__fail(err, err_size, FNN_E_TRUNCATED,
                           "section %u of %u: header at offset %zu runs past the end of "
                           "the sections",
                           (unsigned)i + 1, (unsigned)nsec, pos);
            break;
        }
        if (i == FMT_MAX_SECTIONS) {
            rc = fnn__fail(err, err_size, FNN_E_FORMAT,
                           "the header declares %u sections, over the cap of %u",
                           (unsigned)nsec, FMT_MAX_SECTIONS);
            break;
        }
        if ((rc = src_read(s, pos, h, sizeof h, err, err_size)) != FNN_OK)
            break;
        tag = get_u32(h);
        flags = get_u32(h + 4);
        len = get_u64(h + 8);
        pos += FMT_SECTION_HEADER;
        nm = section_name(tag, name, sizeof name);
        if (len > (uint64_t)(end - pos)) {
            rc = fnn__fail(err, err_size, FNN_E_TRUNCATED, "section %s: declares %llu bytes, "
                           "%zu remain", nm, (unsigned long long)len, end - pos);
            break;
        }
        padded = (size_t)len + pad4((size_t)len);
        if (padded > end - pos) {
            rc = fnn__fail(err, err_size, FNN_E_TRUNCATED,
                           "section %s: padding runs past the end of the sections", nm);
            break;
        }
        if ((tag == TAG_SPEC && lay->spec_seen) || (tag == TAG_PARAMS && lay->params_seen) ||
            (tag == TAG_FORGET && lay->forget_seen) || (tag == TAG_RECIPE && lay->recipe_seen) ||
            (tag == TAG_HISTORY && lay->history_seen)) {
            rc = fnn__fail(err, err_size, FNN_E_FORMAT, "section %s appears more than once",
                           nm);
            break;
        }
        if (tag == TAG_SPEC) {
            lay->spec_seen = 1;
            if (len > FNN__MAX_SPEC)
                rc = fnn__fail(err, err_size, FNN_E_FORMAT,
                               "section SPEC: %zu bytes, over the cap of %u", (size_t)len,
                               FNN__MAX_SPEC);
            if (rc == FNN_OK)
                rc = src_read(s, pos, lay->text, (size_t)len, err, err_size);
            if (rc == FNN_OK)
                rc = parse_spec(lay, (size_t)len, err, err_size);
        } else if (tag == TAG_PARAMS) {
            uint8_t c[8];
            lay->params_seen = 1;
            lay->params_off = pos;
            lay->params_len = (size_t)len;
            if (len < 8)
                rc = fnn__fail(err, err_size, FNN_E_TRUNCATED,
                               "section PARAMS: %zu bytes, too short for its count",
                               (size_t)len);
            if (rc == FNN_OK)
                rc = src_read(s, pos, c, sizeof c, err, err_size);
            if (rc == FNN_OK && (lay->count = get_u64(c)) > (uint64_t)FNN__MAX_PARAMS)
                rc = fnn__fail(err, err_size, FNN_E_FORMAT,
                               "section PARAMS: declares %llu floats, over the cap of %zu",
                               (unsigned long long)lay->count, FNN__MAX_PARAMS);
            if (rc == FNN_OK && (len - 8) / 4 < lay->count)
                rc = fnn__fail(err, err_size, FNN_E_TRUNCATED,
                               "section PARAMS: declares %llu floats, holds %zu bytes",
                               (unsigned long long)lay->count, (size_t)len - 8);
            if (rc == FNN_OK && len - 8 != lay->count * 4)
                rc = fnn__fail(err, err_size, FNN_E_FORMAT,
                               "section PARAMS: %zu bytes after the %llu declared floats",
                               (size_t)(len - 8 - lay->count * 4),
                               (unsigned long long)lay->count);
        } else if (tag == TAG_FORGET) {
            lay->forget_seen = 1;
            lay->forget_off = pos;
            lay->forget_len = (size_t)len;
        } else if (tag == TAG_RECIPE) {
            lay->recipe_seen = 1;
            lay->recipe_off = pos;
            lay->recipe_len = (size_t)len;
            if (len > FMT_MAX_RECIPE)
                rc = fnn__fail(err, err_size, FNN_E_FORMAT,
                               "section RECIPE: %llu bytes, over the cap of %llu",
                               (unsigned long long)len, (unsigned long long)FMT_MAX_RECIPE);
        } else if (tag == TAG_HISTORY) {
            lay->history_seen = 1;
            lay->history_off = pos;
            lay->history_len = (size_t)len;
            if (len > FMT_MAX_HISTORY)
                rc = fnn__fail(err, err_size, FNN_E_FORMAT,
                               "section HISTORY: %llu bytes, over the cap of %llu",
                               (unsigned long long)len, (unsigned long long)FMT_MAX_HISTORY);
        } else if (flags & FMT_SEC_REQUIRED) {
            rc = fnn__fail(err, err_size, FNN_E_VERSION,
                           "section %s is required but unknown to this reader", nm);
        } else {
            unknown += len; /* at most 256 sections of at most 4 GiB */
        }
        if (rc == FNN_OK && lay->parsed && lay->params_seen && !matched) {
            matched = 1;
            if ((uint64_t)lay->needed != lay->count)
                rc = fnn__fail(err, err_size, FNN_E_FORMAT,
                               "section PARAMS: declares %llu floats, model spec needs %zu",
                               (unsigned long long)lay->count, lay->needed);
        }
        if (rc == FNN_OK && plausible && lay->parsed && lay->forget_seen && !bounded) {
            bounded = 1;
            if (lay->forget_len > forget_bytes(&lay->spec))
                rc = fnn__fail(err, err_size, FNN_E_FORMAT,
                               "section FORGET: %zu bytes, more than the %zu of the "
                               "model's forgetting state",
                               lay->forget_len, forget_bytes(&lay->spec));
        }
        if (rc == FNN_OK && padded > len &&
            (rc = src_read(s, pos + (size_t)len, pad, padded - (size_t)len, err, err_size)) ==
                FNN_OK) {
            for (size_t j = 0; j < padded - (size_t)len; j++)
                if (pad[j] != 0)
                    rc = fnn__fail(err, err_size, FNN_E_FORMAT,
                                   "section %s: non-zero padding byte", nm);
        }
        pos += padded;
    }
    if (rc == FNN_OK && pos != end)
        rc = fnn__fail(err, err_size, FNN_E_FORMAT, "%zu bytes after the last of %u sections",
                       end - pos, (unsigned)nsec);
    if (rc == FNN_OK && !lay->spec_seen)
        rc = fnn__fail(err, err_size, FNN_E_FORMAT, "required section SPEC is missing");
    if (rc == FNN_OK && !lay->params_seen)
        rc = fnn__fail(err, err_size, FNN_E_FORMAT, "required section PARAMS is missing");
    unknown_cap = FMT_UNKNOWN_BASE + FMT_UNKNOWN_PER_PARAMS * (uint64_t)lay->params_len;
    if (rc == FNN_OK && unknown > unknown_cap)
        rc = fnn__fail(err, err_size, FNN_E_FORMAT,
                       "unknown optional sections hold %llu bytes, over the cap of %llu "
                       "(16 MiB plus 4 times the PARAMS section)",
                       (unsigned long long)unknown, (unsigned long long)unknown_cap);
    if (rc != FNN_OK && lay->parsed) {
        fnn__spec_free(&lay->spec);
        lay->parsed = 0;
    }
    return rc;
}

/* The header fields after the envelope: version and required flags. */
static int check_version(const uint8_t *h, char *err, size_t err_size)
{
    uint32_t version = get_u32(h + 8), required = get_u32(h + 12);
    if (version != FMT_VERSION)
        return fnn__fail(err, err_size, FNN_E_VERSION,
                         "format version %u is not supported (this reader knows "
                         "version %d)",
                         (unsigned)version, FMT_VERSION);
    if (required & ~FMT_REQUIRED_KNOWN)
        return fnn__fail(err, err_size, FNN_E_VERSION,
                         "unknown required flags 0x%08x in the header",
                         (unsigned)(required & ~FMT_REQUIRED_KNOWN));
    return FNN_OK;
}

/* The envelope's size checks, shared by both loaders: the magic (as much of
 * it as there is), the minimum size and the 4 GiB cap, the declared length
 * against the size. */
static int check_size(const uint8_t *h, size_t size, char *err, size_t err_size)
{
    uint64_t declared;
    if (memcmp(h, fmt_magic, size < sizeof fmt_magic ? size : sizeof fmt_magic) != 0)
        return fnn__fail(err, err_size, FNN_E_FORMAT, "bad magic: not a libfnn model file");
    if (size < FMT_HEADER + FMT_TRAILER)
        return fnn__fail(err, err_size, FNN_E_TRUNCATED,
                         "truncated: %zu bytes, a model file has at least %d", size,
                         FMT_HEADER + FMT_TRAILER);
    if ((uint64_t)size > FMT_MAX_FILE)
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         "%zu bytes exceed the 4 GiB cap of model files", size);
    declared = get_u64(h + 24);
    if (declared > (uint64_t)size)
        return fnn__fail(err, err_size, FNN_E_TRUNCATED,
                         "truncated: header declares %llu bytes, %zu present",
                         (unsigned long long)declared, size);
    if (declared < (uint64_t)size)
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         "%llu byte(s) after the declared %llu-byte file",
                         (unsigned long long)((uint64_t)size - declared),
                         (unsigned long long)declared);
    return FNN_OK;
}

static int load_buffer(fnn_model **out, const uint8_t *b, size_t size, char *err,
                       size_t err_size)
{
    char msg[FNN__ERRMSG_SIZE];
    fmt_src src = {.kind = SRC_MEM, .mem = b, .size = size, .fd = -1, .path = ""};
    fmt_layout lay;
    uint32_t stored, computed;
    size_t end;
    fnn_model *m = NULL;
    int rc;

    /* Envelope: magic, length, checksum. */
    if ((rc = check_size(b, size, err, err_size)) != FNN_OK)
        return rc;
    end = size - FMT_TRAILER;
    stored = get_u32(b + end);
    computed = fnn__crc32(b, end);
    if (stored != computed)
        return fnn__fail(err, err_size, FNN_E_CHECKSUM,
                         "checksum mismatch: stored 0x%08x, computed 0x%08x",
                         (unsigned)stored, (unsigned)computed);

    /* Header, section table, SPEC and the PARAMS count. */
    if ((rc = check_version(b, err, err_size)) != FNN_OK ||
        (rc = check_sections(&src, end, get_u32(b + 20), 0, &lay, err, err_size)) != FNN_OK)
        return rc;

    /* The model: its size was checked against PARAMS before it is allocated. */
    rc = fnn__model_alloc(&lay.spec, &m, msg, sizeof msg);
    if (rc != FNN_OK) {
        fnn__spec_free(&lay.spec);
        return fnn__fail(err, err_size, rc, "%s", msg);
    }
    if (m->n_params != lay.needed) {
        rc = fnn__fail(err, err_size, FNN_E_FORMAT,
                       "section PARAMS: declares %llu floats, model has %zu",
                       (unsigned long long)lay.count, m->n_params);
        goto fail;
    }
    for (size_t i = 0; i < m->n_params; i++) {
        float f = get_f32(b + lay.params_off + 8 + 4 * i);
        if (!isfinite(f)) {
            rc = fnn__fail(err, err_size, FNN_E_NUMERIC,
                           "section PARAMS: parameter %zu is %s", i, float_class(f));
            goto fail;
        }
        m->params[i] = f;
    }

    /* FORGET (optional: a file without it loads with the defaults). */
    if (lay.forget_seen && (rc = load_forget(m, b + lay.forget_off, lay.forget_len, err,
                                             err_size)) != FNN_OK)
        goto fail;
    /* RECIPE (optional: without it the model records no recipe). */
    if (lay.recipe_seen && (rc = load_recipe(m, b + lay.recipe_off, lay.recipe_len, err,
                                             err_size)) != FNN_OK)
        goto fail;
    /* HISTORY (optional: without it the model has no deletion records). */
    if (lay.history_seen && (rc = load_history(m, b + lay.history_off, lay.history_len, err,
                                               err_size)) != FNN_OK)
        goto fail;
    fnn__model_update_decay(m);
    *out = m;
    return FNN_OK;

fail:
    fnn_model_free(m);
    return rc;
}

/* The start of both loaders: clears err and *out, checks the pointers. */
static int load_begin(fnn_model **out, const void *src, const char *src_name, char *err,
                      size_t err_size)
{
    if (err && err_size > 0)
        err[0] = '\0';
    if (!out)
        return fnn__fail(err, err_size, FNN_E_NULL, "out is NULL");
    *out = NULL;
    if (!src)
        return fnn__fail(err, err_size, FNN_E_NULL, "%s is NULL", src_name);
    return FNN_OK;
}

FNN_API int fnn_model_load_buffer(fnn_model **out, const void *buf, size_t size,
                                  char *err, size_t err_size)
{
    int rc = load_begin(out, buf, "buf", err, err_size);
    return rc != FNN_OK ? rc : load_buffer(out, buf, size, err, err_size);
}

/* Checks what can be checked of a file before it is read whole: the envelope
 * without the checksum, the header, and the section table with SPEC parsed
 * and the sizes it implies (check_sections with `plausible`). *declared
 * receives the length the header declares. */
static int check_file_structure(fmt_src *s, uint64_t *declared, char *err, size_t err_size)
{
    uint8_t h[FMT_HEADER + FMT_TRAILER] = {0};
    fmt_layout lay;
    size_t got;
    int rc;

    s->limit = sizeof h;
    if ((rc = src_read_upto(s, 0, h, sizeof h, &got, err, err_size)) != FNN_OK)
        return rc;
    *declared = get_u64(h + 24);
    if (s->kind == SRC_FILE && got < (s->size < sizeof h ? (size_t)s->size : sizeof h))
        rc = fnn__fail(err, err_size, FNN_E_TRUNCATED, "'%s%s' shrank while it was read",
                       path_dots(s->path), path_tail(s->path));
    else if (s->kind == SRC_FILE)
        rc = check_size(h, (size_t)s->size, err, err_size);
    else if (got < sizeof h || memcmp(h, fmt_magic, sizeof fmt_magic) != 0)
        rc = check_size(h, got, err, err_size); /* bad magic, or under 36 bytes */
    /* A stream of at least 36 bytes: its length is known only once it is read. */
    else if (*declared > FMT_MAX_FILE)
        rc = fnn__fail(err, err_size, FNN_E_FORMAT,
                       "header declares %llu bytes, over the 4 GiB cap of model files",
                       (unsigned long long)*declared);
    else if (*declared < sizeof h)
        rc = fnn__fail(err, err_size, FNN_E_FORMAT, "bytes after the declared %llu-byte file",
                       (unsigned long long)*declared);
    if (rc != FNN_OK)
        return rc;
    s->limit = (size_t)*declared + 1;
    if ((rc = check_version(h, err, err_size)) != FNN_OK ||
        (rc = check_sections(s, (size_t)*declared - FMT_TRAILER, get_u32(h + 20), 1, &lay,
                             err, err_size)) != FNN_OK)
        return rc;
    fnn__spec_free(&lay.spec);
    return FNN_OK;
}

/* Reads the whole file whose structure has been checked: its declared length
 * and one byte more, to see that it ends there. */
static int read_checked_file(fmt_src *s, uint64_t declared, uint8_t **buf, size_t *len,
                             char *err, size_t err_size)
{
    size_t want = (size_t)declared + 1, got;
    int rc;

    if (s->kind == SRC_STREAM) {
        if ((rc = stream_fill(s, want, err, err_size)) != FNN_OK)
            return rc;
        if (s->have == want)
            return fnn__fail(err, err_size, FNN_E_FORMAT,
                             "bytes after the declared %llu-byte file",
                             (unsigned long long)declared);
        *buf = s->data;
        *len = s->have;
        s->data = NULL;
        return FNN_OK;
    }
    if (!(*buf = malloc(want)))
        return fnn__fail(err, err_size, FNN_E_NOMEM, "cannot allocate %zu bytes to read '%s%s'",
                         want, path_dots(s->path), path_tail(s->path));
    if ((rc = src_read_upto(s, 0, *buf, want, &got, err, err_size)) == FNN_OK &&
        got != (size_t)declared)
        rc = fnn__fail(err, err_size, got < declared ? FNN_E_TRUNCATED : FNN_E_FORMAT,
                       "'%s%s' %s while it was read", path_dots(s->path),
                       path_tail(s->path), got < declared ? "shrank" : "grew");
    if (rc != FNN_OK) {
        free(*buf);
        *buf = NULL;
        return rc;
    }
    *len = got;
    return FNN_OK;
}

FNN_API int fnn_model_load(fnn_model **out, const char *path, char *err, size_t err_size)
{
    char ebuf[128];
    fmt_src src = {.kind = SRC_STREAM, .path = path};
    struct stat st;
    uint64_t declared = 0;
    uint8_t *data = NULL;
    size_t len = 0;
    int rc, e;

    if ((rc = load_begin(out, path, "path", err, err_size)) != FNN_OK)
        return rc;
    do
        src.fd = open(path, O_RDONLY | O_CLOEXEC);
    while (src.fd < 0 && errno == EINTR);
    if (src.fd < 0) {
        e = errno;
        return fnn__fail(err, err_size, FNN_E_IO, "cannot open '%s%s': %s", path_dots(path),
                         path_tail(path), errno_text(e, ebuf, sizeof ebuf));
    }
    if (fstat(src.fd, &st) == 0 && S_ISREG(st.st_mode)) {
        src.kind = SRC_FILE;
        src.size = (uint64_t)st.st_size;
    }
    if (src.kind == SRC_FILE && src.size > FMT_MAX_FILE)
        rc = fnn__fail(err, err_size, FNN_E_FORMAT,
                       "'%s%s' is %llu bytes, over the 4 GiB cap of model files",
                       path_dots(path), path_tail(path), (unsigned long long)src.size);
    /* Nothing larger than a few section headers and the SPEC is read until
     * the file's structure and declared size are plausible. */
    if (rc == FNN_OK)
        rc = check_file_structure(&src, &declared, err, err_size);
    if (rc == FNN_OK)
        rc = read_checked_file(&src, declared, &data, &len, err, err_size);
    (void)close(src.fd);
    free(src.data);
    if (rc != FNN_OK)
        return rc;
    rc = load_buffer(out, data, len, err, err_size);
    free(data);
    return rc;
}
