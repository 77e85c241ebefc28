/* Model files (docs/FORMAT.md): serialisation, atomic saves and checked loads.
 *
 * Every multi-byte value is packed little-endian byte by byte, floats through
 * their IEEE-754 bit pattern, so files are identical on every host. Loaders
 * parse from a buffer and check each length and count against the bytes that
 * remain before using it. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
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
static uint32_t crc_of(const uint8_t *p, size_t n)
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

static int plan_file(const fnn_model *m, fmt_plan *pl)
{
    size_t n, tot;
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

    put_u32(p, crc_of(out, (size_t)(p - out)));
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

FNN_API int fnn_model_save(const fnn_model *m, const char *path)
{
    static const char suffix[] = ".tmp.XXXXXX";
    char ebuf[128];
    const char *what;
    uint8_t *data = NULL;
    char *tmp = NULL;
    size_t len, plen, tlen;
    struct stat st;
    int rc, fd = -1, e;

    if (!m)
        return FNN_E_NULL;
    if (!path)
        return fnn__model_fail(m, FNN_E_NULL, "path is NULL");
    if ((rc = fnn__model_serialize(m, &data, &len)) != FNN_OK)
        return rc;

    plen = strlen(path);
    if (fnn__add(plen, sizeof suffix, &tlen) || !(tmp = malloc(tlen))) {
        free(data);
        return fnn__model_fail(m, FNN_E_NOMEM, "cannot allocate the temporary file name");
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, suffix, sizeof suffix);

    fd = mkstemp(tmp);
    if (fd < 0) {
        e = errno;
        free(data);
        free(tmp);
        return fnn__model_fail(m, FNN_E_IO,
                         "cannot create a temporary file for '%s%s': %s",
                         path_dots(path), path_tail(path),
                         errno_text(e, ebuf, sizeof ebuf));
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
    free(data);
    free(tmp);
    return FNN_OK;

fail:
    e = errno;
    if (fd >= 0)
        (void)close(fd);
    (void)unlink(tmp);
    free(data);
    free(tmp);
    return fnn__model_fail(m, FNN_E_IO, "cannot %s '%s%s': %s", what, path_dots(path),
                           path_tail(path), errno_text(e, ebuf, sizeof ebuf));
}

/* ---- reading ---------------------------------------------------------------- */

/* Where each known section's payload lies in the buffer. */
typedef struct fmt_section {
    const uint8_t *p;
    size_t len;
    int seen;
} fmt_section;

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

static int load_buffer(fnn_model **out, const uint8_t *b, size_t size, char *err,
                       size_t err_size)
{
    char name[40], msg[FNN__ERRMSG_SIZE];
    const char *nm;
    char text[FNN__MAX_SPEC + 1];
    fmt_section spec_sec = {0}, params_sec = {0}, forget_sec = {0}, recipe_sec = {0},
                history_sec = {0};
    uint64_t declared, count;
    uint32_t stored, computed, version, required, nsec;
    size_t pos, end, needed;
    fnn__spec spec;
    fnn_model *m = NULL;
    int rc;

    /* Envelope: magic, length, checksum. */
    if (memcmp(b, fmt_magic, size < sizeof fmt_magic ? size : sizeof fmt_magic) != 0)
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         "bad magic: not a libfnn model file");
    if (size < FMT_HEADER + FMT_TRAILER)
        return fnn__fail(err, err_size, FNN_E_TRUNCATED,
                         "truncated: %zu bytes, a model file has at least %d", size,
                         FMT_HEADER + FMT_TRAILER);
    if ((uint64_t)size > FMT_MAX_FILE)
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         "%zu bytes exceed the 4 GiB cap of model files", size);
    declared = get_u64(b + 24);
    if (declared > (uint64_t)size)
        return fnn__fail(err, err_size, FNN_E_TRUNCATED,
                         "truncated: header declares %llu bytes, %zu present",
                         (unsigned long long)declared, size);
    if (declared < (uint64_t)size)
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         "%llu byte(s) after the declared %llu-byte file",
                         (unsigned long long)((uint64_t)size - declared),
                         (unsigned long long)declared);
    end = size - FMT_TRAILER;
    stored = get_u32(b + end);
    computed = crc_of(b, end);
    if (stored != computed)
        return fnn__fail(err, err_size, FNN_E_CHECKSUM,
                         "checksum mismatch: stored 0x%08x, computed 0x%08x",
                         (unsigned)stored, (unsigned)computed);

    /* Header. */
    version = get_u32(b + 8);
    if (version != FMT_VERSION)
        return fnn__fail(err, err_size, FNN_E_VERSION,
                         "format version %u is not supported (this reader knows "
                         "version %d)",
                         (unsigned)version, FMT_VERSION);
    required = get_u32(b + 12);
    if (required & ~FMT_REQUIRED_KNOWN)
        return fnn__fail(err, err_size, FNN_E_VERSION,
                         "unknown required flags 0x%08x in the header",
                         (unsigned)(required & ~FMT_REQUIRED_KNOWN));
    nsec = get_u32(b + 20);

    /* Section table: each section is checked against the bytes that remain. */
    pos = FMT_HEADER;
    for (uint32_t i = 0; i < nsec; i++) {
        uint32_t tag, flags;
        uint64_t len;
        size_t padded;
        fmt_section *sec;
        if (end - pos < FMT_SECTION_HEADER)
            return fnn__fail(err, err_size, FNN_E_TRUNCATED,
                             "section %u of %u: header at offset %zu runs past "
                             "the end of the sections",
                             (unsigned)i + 1, (unsigned)nsec, pos);
        tag = get_u32(b + pos);
        flags = get_u32(b + pos + 4);
        len = get_u64(b + pos + 8);
        pos += FMT_SECTION_HEADER;
        nm = section_name(tag, name, sizeof name);
        if (len > (uint64_t)(end - pos))
            return fnn__fail(err, err_size, FNN_E_TRUNCATED,
                             "section %s: declares %llu bytes, %zu remain", nm,
                             (unsigned long long)len, end - pos);
        padded = (size_t)len + pad4((size_t)len);
        if (padded > end - pos)
            return fnn__fail(err, err_size, FNN_E_TRUNCATED,
                             "section %s: padding runs past the end of the "
                             "sections",
                             nm);
        for (size_t j = (size_t)len; j < padded; j++)
            if (b[pos + j] != 0)
                return fnn__fail(err, err_size, FNN_E_FORMAT,
                                 "section %s: non-zero padding byte", nm);
        sec = tag == TAG_SPEC     ? &spec_sec
              : tag == TAG_PARAMS ? &params_sec
              : tag == TAG_FORGET ? &forget_sec
              : tag == TAG_RECIPE ? &recipe_sec
              : tag == TAG_HISTORY ? &history_sec
                                  : NULL;
        if (sec) {
            if (sec->seen)
                return fnn__fail(err, err_size, FNN_E_FORMAT,
                                 "section %s appears more than once", nm);
            sec->seen = 1;
            sec->p = b + pos;
            sec->len = (size_t)len;
        } else if (flags & FMT_SEC_REQUIRED) {
            return fnn__fail(err, err_size, FNN_E_VERSION,
                             "section %s is required but unknown to this reader",
                             nm);
        }
        pos += padded;
    }
    if (pos != end)
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         "%zu bytes after the last of %u sections", end - pos,
                         (unsigned)nsec);
    if (!spec_sec.seen)
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         "required section SPEC is missing");
    if (!params_sec.seen)
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         "required section PARAMS is missing");

    /* SPEC. */
    if (spec_sec.len > FNN__MAX_SPEC)
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         "section SPEC: %zu bytes, over the cap of %u", spec_sec.len,
                         FNN__MAX_SPEC);
    if (memchr(spec_sec.p, 0, spec_sec.len))
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         "section SPEC: contains a NUL byte at offset %zu",
                         (size_t)((const uint8_t *)memchr(spec_sec.p, 0, spec_sec.len) -
                                  spec_sec.p));
    memcpy(text, spec_sec.p, spec_sec.len);
    text[spec_sec.len] = '\0';

    /* PARAMS: the count against the section's bytes and the cap. */
    if (params_sec.len < 8)
        return fnn__fail(err, err_size, FNN_E_TRUNCATED,
                         "section PARAMS: %zu bytes, too short for its count",
                         params_sec.len);
    count = get_u64(params_sec.p);
    if (count > (uint64_t)FNN__MAX_PARAMS)
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         "section PARAMS: declares %llu floats, over the cap of %zu",
                         (unsigned long long)count, FNN__MAX_PARAMS);
    if ((params_sec.len - 8) / 4 < count)
        return fnn__fail(err, err_size, FNN_E_TRUNCATED,
                         "section PARAMS: declares %llu floats, holds %zu bytes",
                         (unsigned long long)count, params_sec.len - 8);
    if (params_sec.len - 8 != (size_t)count * 4)
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         "section PARAMS: %zu bytes after the %llu declared floats",
                         params_sec.len - 8 - (size_t)count * 4,
                         (unsigned long long)count);

    /* The model: its size is checked against PARAMS before it is allocated. */
    msg[0] = '\0';
    rc = fnn__spec_parse(text, &spec, msg, sizeof msg);
    if (rc != FNN_OK)
        return fnn__fail(err, err_size, rc, "section SPEC: %s", msg);
    needed = fnn__spec_num_params(&spec);
    if ((uint64_t)needed != count) {
        fnn__spec_free(&spec);
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         "section PARAMS: declares %llu floats, model spec needs %zu",
                         (unsigned long long)count, needed);
    }
    rc = fnn__model_alloc(&spec, &m, msg, sizeof msg);
    if (rc != FNN_OK) {
        fnn__spec_free(&spec);
        return fnn__fail(err, err_size, rc, "%s", msg);
    }
    if (m->n_params != needed) {
        rc = fnn__fail(err, err_size, FNN_E_FORMAT,
                       "section PARAMS: declares %llu floats, model has %zu",
                       (unsigned long long)count, m->n_params);
        goto fail;
    }
    for (size_t i = 0; i < m->n_params; i++) {
        float f = get_f32(params_sec.p + 8 + 4 * i);
        if (!isfinite(f)) {
            rc = fnn__fail(err, err_size, FNN_E_NUMERIC,
                           "section PARAMS: parameter %zu is %s", i, float_class(f));
            goto fail;
        }
        m->params[i] = f;
    }

    /* FORGET (optional: a file without it loads with the defaults). */
    if (forget_sec.seen &&
        (rc = load_forget(m, forget_sec.p, forget_sec.len, err, err_size)) != FNN_OK)
        goto fail;
    /* RECIPE (optional: without it the model records no recipe). */
    if (recipe_sec.seen &&
        (rc = load_recipe(m, recipe_sec.p, recipe_sec.len, err, err_size)) != FNN_OK)
        goto fail;
    /* HISTORY (optional: without it the model has no deletion records). */
    if (history_sec.seen &&
        (rc = load_history(m, history_sec.p, history_sec.len, err, err_size)) != FNN_OK)
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

/* Reads a whole file of at most FMT_MAX_FILE + 1 bytes (one more than the cap,
 * so that the loader sees an over-long file for what it is). */
static int read_whole_file(const char *path, uint8_t **buf, size_t *len, char *err,
                           size_t err_size)
{
    const size_t limit = (size_t)(FMT_MAX_FILE < SIZE_MAX ? FMT_MAX_FILE + 1 : SIZE_MAX);
    char ebuf[128];
    struct stat st;
    uint8_t *data = NULL;
    size_t cap, n = 0;
    int fd, e;

    *buf = NULL;
    *len = 0;
    do
        fd = open(path, O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        e = errno;
        return fnn__fail(err, err_size, FNN_E_IO, "cannot open '%s%s': %s",
                         path_dots(path), path_tail(path),
                         errno_text(e, ebuf, sizeof ebuf));
    }
    /* Start from the size fstat reports (plus one byte to see EOF), grow if
     * the file is not regular or grows while it is read. */
    cap = 65536;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        if ((uint64_t)st.st_size > FMT_MAX_FILE) {
            (void)close(fd);
            return fnn__fail(err, err_size, FNN_E_FORMAT,
                             "'%s%s' is %llu bytes, over the 4 GiB cap of model files",
                             path_dots(path), path_tail(path),
                             (unsigned long long)st.st_size);
        }
        cap = (uint64_t)st.st_size < (uint64_t)limit ? (size_t)st.st_size + 1 : limit;
    }
    if (!(data = malloc(cap)))
        goto nomem;
    for (;;) {
        ssize_t r;
        if (n == cap) {
            size_t ncap = cap > limit / 2 ? limit : cap * 2;
            uint8_t *nd;
            if (cap >= limit)
                break; /* over the cap: the loader says so */
            if (!(nd = realloc(data, ncap))) {
                cap = ncap;
                goto nomem;
            }
            data = nd;
            cap = ncap;
        }
        r = read(fd, data + n, cap - n > ((size_t)1 << 30) ? ((size_t)1 << 30) : cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            e = errno;
            free(data);
            (void)close(fd);
            return fnn__fail(err, err_size, FNN_E_IO, "cannot read '%s%s': %s",
                             path_dots(path), path_tail(path),
                             errno_text(e, ebuf, sizeof ebuf));
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    (void)close(fd);
    *buf = data;
    *len = n;
    return FNN_OK;
nomem:
    free(data);
    (void)close(fd);
    return fnn__fail(err, err_size, FNN_E_NOMEM, "cannot allocate %zu bytes to read '%s%s'",
                     cap, path_dots(path), path_tail(path));
}

FNN_API int fnn_model_load(fnn_model **out, const char *path, char *err, size_t err_size)
{
    uint8_t *data;
    size_t len;
    int rc;

    if ((rc = load_begin(out, path, "path", err, err_size)) != FNN_OK)
        return rc;
    if ((rc = read_whole_file(path, &data, &len, err, err_size)) != FNN_OK)
        return rc;
    rc = load_buffer(out, data, len, err, err_size);
    free(data);
    return rc;
}
