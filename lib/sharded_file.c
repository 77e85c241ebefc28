/* Sharded model files (docs/SCALE.md, "Files"): the manifest, its shard
 * records, and the model files beside it, named after their contents.
 *
 * The manifest follows the conventions of model files: little-endian, a magic
 * number, a format version, required flags, a declared length and a CRC-32
 * checked before anything else is read; every count is checked against the
 * bytes that remain before it is used. Shard files are written through
 * fnn__file_replace() under names that hold the first bytes of their SHA-256,
 * so a save never rewrites a file an older manifest names; the manifest is
 * replaced last and files it does not name are removed only after it. */
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

#include "sharded.h"

static const uint8_t man_magic[8] = {0x89, 'F', 'N', 'S', '\r', '\n', 0x1a, '\n'};

enum {
    MAN_VERSION = 1,
    MAN_HEADER = 32,   /* magic, version, required, optional, shards, length */
    MAN_TRAILER = 4,   /* CRC-32 */
    MAN_FIXED = 40,    /* N, R, rule, seed, aggregation, recipe count, recipe seed */
    MAN_ENTRY = 12,    /* recipe entry: key, value bits */
    REC_FIXED = 24,    /* shard, flags, exact, requests, removed, files */
    REC_FILE = 40,     /* size, SHA-256 */
    REC_TRAINED = 1,   /* record flag */
    RULE_PERMUTATION = 1,
    MIN_MODEL_FILE = 36
};
#define MAN_REQUIRED_KNOWN 0u
#define MAN_MAX ((uint64_t)1 << 30)
#define MODEL_MAX ((uint64_t)1 << 32)

/* ---- packing --------------------------------------------------------------- */

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    put_u32(p, (uint32_t)v);
    put_u32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static size_t pad4(size_t n)
{
    return (4 - (n & 3)) & 3;
}

static int sfail(fnn_sharded *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int sfail(fnn_sharded *s, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fnn__vfail(s->errmsg, sizeof s->errmsg, code, fmt, ap);
    va_end(ap);
    return code;
}

/* ---- shard records ---------------------------------------------------------- */

static size_t record_size(const fnn_sharded *s, uint32_t k)
{
    const fnn__shard *sh = &s->shards[k];
    return REC_FIXED + 4 * sh->n_removed + (size_t)REC_FILE * fnn__shard_stored(s, sh);
}

static void write_record(const fnn_sharded *s, uint32_t k, uint8_t *p)
{
    const fnn__shard *sh = &s->shards[k];
    uint32_t nf = fnn__shard_stored(s, sh);
    put_u32(p, k);
    put_u32(p + 4, sh->trained ? REC_TRAINED : 0u);
    put_u32(p + 8, sh->exact);
    put_u32(p + 12, sh->requests);
    put_u32(p + 16, (uint32_t)sh->n_removed);
    put_u32(p + 20, nf);
    p += REC_FIXED;
    /* Forgotten samples, ascending. */
    size_t first = sh->first, end = sh->first + sh->n;
    for (size_t x = 0, c = 0; x < s->n && c < sh->n_removed; x++)
        if (s->removed[x] && s->inv[x] >= first && s->inv[x] < end) {
            put_u32(p, (uint32_t)x);
            p += 4;
            c++;
        }
    for (uint32_t f = 0; f < nf; f++, p += REC_FILE) {
        put_u64(p, sh->files[f].size);
        memcpy(p + 8, sh->files[f].sha, 32);
    }
}

/* Parses the record of shard `want` (any shard when want is S) from p
 * (len bytes, exactly the record) and applies it to s. */
static int parse_record(fnn_sharded *s, uint32_t want, const uint8_t *p, size_t len,
                        char *err, size_t err_size)
{
    if (len < REC_FIXED)
        return fnn__fail(err, err_size, FNN_E_TRUNCATED,
                         "shard record of %zu bytes, shorter than its %d-byte header", len,
                         REC_FIXED);
    uint32_t k = get_u32(p), flags = get_u32(p + 4), exact = get_u32(p + 8);
    uint32_t requests = get_u32(p + 12), nrem = get_u32(p + 16), nf = get_u32(p + 20);
    if (want < s->S ? k != want : k >= s->S)
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         want < s->S ? "shard record %u where shard %u's belongs"
                                     : "shard record %u of a model of %u shards",
                         (unsigned)k, (unsigned)(want < s->S ? want : s->S));
    fnn__shard *sh = &s->shards[k];
    int trained = (flags & REC_TRAINED) != 0;
    if (flags & ~(uint32_t)REC_TRAINED)
        return fnn__fail(err, err_size, FNN_E_FORMAT, "shard %u: unknown flags 0x%08x",
                         (unsigned)k, (unsigned)(flags & ~(uint32_t)REC_TRAINED));
    if (exact > s->R || (!trained && (exact || requests || nrem)))
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         "shard %u: %s with %u exact slices, %u requests, %u forgotten "
                         "samples (of %u slices)",
                         (unsigned)k, trained ? "trained" : "untrained", (unsigned)exact,
                         (unsigned)requests, (unsigned)nrem, (unsigned)s->R);
    if (nrem >= sh->n)
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         "shard %u: %u forgotten samples leave none of its %zu", (unsigned)k,
                         (unsigned)nrem, sh->n);
    uint32_t want_files = trained ? (exact < s->R - 1 ? exact : s->R - 1) + 1 : 0;
    if (nf != want_files)
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         "shard %u: %u files, its state needs %u", (unsigned)k, (unsigned)nf,
                         (unsigned)want_files);
    size_t need = REC_FIXED + 4 * (size_t)nrem + (size_t)REC_FILE * nf;
    if (len != need)
        return fnn__fail(err, err_size, len < need ? FNN_E_TRUNCATED : FNN_E_FORMAT,
                         "shard %u: record of %zu bytes, its counts need %zu", (unsigned)k, len,
                         need);
    const uint8_t *q = p + REC_FIXED;
    for (uint32_t i = 0; i < nrem; i++) {
        uint32_t x = get_u32(q + 4 * (size_t)i);
        if (x >= s->n)
            return fnn__fail(err, err_size, FNN_E_RANGE,
                             "shard %u: forgotten sample %u is outside the %zu samples",
                             (unsigned)k, (unsigned)x, s->n);
        if (i > 0 && x <= get_u32(q + 4 * (size_t)(i - 1)))
            return fnn__fail(err, err_size, FNN_E_FORMAT,
                             "shard %u: forgotten samples are not strictly ascending at %u",
                             (unsigned)k, (unsigned)x);
        if (s->inv[x] < sh->first || s->inv[x] >= sh->first + sh->n)
            return fnn__fail(err, err_size, FNN_E_FORMAT,
                             "shard %u: forgotten sample %u belongs to another shard",
                             (unsigned)k, (unsigned)x);
    }
    const uint8_t *fq = q + 4 * (size_t)nrem;
    for (uint32_t f = 0; f < nf; f++) {
        uint64_t size = get_u64(fq + (size_t)REC_FILE * f);
        if (size < MIN_MODEL_FILE || size > MODEL_MAX)
            return fnn__fail(err, err_size, FNN_E_FORMAT,
                             "shard %u: file %u of %llu bytes is no model file", (unsigned)k,
                             (unsigned)f, (unsigned long long)size);
    }
    fnn__shard_file *files = NULL;
    if (nf && !(files = malloc(nf * sizeof *files)))
        return fnn__fail(err, err_size, FNN_E_NOMEM, "out of memory");
    for (uint32_t f = 0; f < nf; f++) {
        files[f].size = get_u64(fq + (size_t)REC_FILE * f);
        memcpy(files[f].sha, fq + (size_t)REC_FILE * f + 8, 32);
    }
    /* Apply. */
    for (size_t pos = sh->first; pos < sh->first + sh->n; pos++)
        s->removed[s->perm[pos]] = 0;
    for (uint32_t i = 0; i < nrem; i++)
        s->removed[get_u32(q + 4 * (size_t)i)] = 1;
    sh->n_removed = nrem;
    sh->trained = trained;
    sh->exact = exact;
    sh->requests = requests;
    free(sh->files);
    sh->files = files;
    sh->n_files = nf;
    sh->clean = 1;
    sh->stale = 0;
    return FNN_OK;
}

FNN_API int fnn_sharded_shard_export(const fnn_sharded *s, uint32_t shard, void *buf,
                                     size_t size, size_t *needed)
{
    if (!s)
        return FNN_E_NULL;
    fnn_sharded *w = (fnn_sharded *)s; /* for messages only */
    if (shard >= s->S)
        return sfail(w, FNN_E_RANGE, "shard %u does not exist", (unsigned)shard);
    if (!needed || (!buf && size))
        return sfail(w, FNN_E_NULL, "%s is NULL", needed ? "buf" : "needed");
    const fnn__shard *sh = &s->shards[shard];
    if (sh->stale)
        return sfail(w, FNN_E_STATE, "shard %u's record is out of date in this handle",
                     (unsigned)shard);
    if (sh->trained && !sh->clean)
        return sfail(w, FNN_E_STATE, "shard %u has changed since it was last saved",
                     (unsigned)shard);
    *needed = record_size(s, shard);
    if (!buf)
        return FNN_OK;
    if (size < *needed)
        return sfail(w, FNN_E_SHAPE, "buffer of %zu bytes, the record needs %zu", size, *needed);
    write_record(s, shard, buf);
    return FNN_OK;
}

FNN_API int fnn_sharded_shard_import(fnn_sharded *s, const void *buf, size_t size)
{
    if (!s)
        return FNN_E_NULL;
    if (!buf)
        return sfail(s, FNN_E_NULL, "buf is NULL");
    if (size >= 4) {
        uint32_t k = get_u32(buf);
        if (k < s->S && s->shards[k].ckpt)
            return sfail(s, FNN_E_STATE, "shard %u is held by this handle", (unsigned)k);
    }
    char msg[FNN__ERRMSG_SIZE];
    int rc = parse_record(s, s->S, buf, size, msg, sizeof msg);
    return rc == FNN_OK ? rc : sfail(s, rc, "importing a shard record: %s", msg);
}

/* ---- the manifest ------------------------------------------------------------------ */

int fnn__sharded_serialize(const fnn_sharded *s, uint8_t **buf, size_t *len)
{
    size_t slen = strlen(s->spec_text), total = MAN_HEADER + 4 + slen + pad4(slen) + MAN_FIXED +
                                                (size_t)MAN_ENTRY * FNN__TRAIN_NKEYS +
                                                MAN_TRAILER;
    for (uint32_t k = 0; k < s->S; k++)
        total += 4 + record_size(s, k);
    uint8_t *out = malloc(total), *p = out;
    *buf = NULL;
    if (!out)
        return FNN_E_NOMEM;
    memcpy(p, man_magic, sizeof man_magic);
    put_u32(p + 8, MAN_VERSION);
    put_u32(p + 12, 0);
    put_u32(p + 16, 0);
    put_u32(p + 20, s->S);
    put_u64(p + 24, total);
    p += MAN_HEADER;
    put_u32(p, (uint32_t)slen);
    memcpy(p + 4, s->spec_text, slen);
    p += 4 + slen;
    for (size_t i = pad4(slen); i > 0; i--)
        *p++ = 0;
    put_u64(p, s->n);
    put_u32(p + 8, s->R);
    put_u32(p + 12, RULE_PERMUTATION);
    put_u64(p + 16, s->seed);
    put_u32(p + 24, (uint32_t)s->aggregation);
    put_u32(p + 28, FNN__TRAIN_NKEYS);
    put_u64(p + 32, s->recipe.seed);
    p += MAN_FIXED;
    for (uint32_t k = 0; k < FNN__TRAIN_NKEYS; k++, p += MAN_ENTRY) {
        uint64_t bits;
        memcpy(&bits, &s->recipe.v[k], sizeof bits);
        put_u32(p, k);
        put_u64(p + 4, bits);
    }
    for (uint32_t k = 0; k < s->S; k++) {
        size_t r = record_size(s, k);
        put_u32(p, (uint32_t)r);
        write_record(s, k, p + 4);
        p += 4 + r;
    }
    put_u32(p, fnn__crc32(out, (size_t)(p - out)));
    *buf = out;
    *len = total;
    return FNN_OK;
}

int fnn__sharded_parse(const uint8_t *b, size_t size, fnn_sharded **out, char *err,
                       size_t err_size)
{
    *out = NULL;
    if (memcmp(b, man_magic, size < sizeof man_magic ? size : sizeof man_magic) != 0)
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         "bad magic: not a libfnn sharded model manifest");
    if (size < MAN_HEADER + MAN_TRAILER)
        return fnn__fail(err, err_size, FNN_E_TRUNCATED,
                         "truncated: %zu bytes, a manifest has at least %d", size,
                         MAN_HEADER + MAN_TRAILER);
    if ((uint64_t)size > MAN_MAX)
        return fnn__fail(err, err_size, FNN_E_FORMAT, "%zu bytes exceed the 1 GiB cap of "
                                                      "manifests", size);
    uint64_t declared = get_u64(b + 24);
    if (declared != (uint64_t)size)
        return fnn__fail(err, err_size, declared > size ? FNN_E_TRUNCATED : FNN_E_FORMAT,
                         "the header declares %llu bytes, %zu present",
                         (unsigned long long)declared, size);
    size_t end = size - MAN_TRAILER;
    uint32_t stored = get_u32(b + end), computed = fnn__crc32(b, end);
    if (stored != computed)
        return fnn__fail(err, err_size, FNN_E_CHECKSUM,
                         "checksum mismatch: stored 0x%08x, computed 0x%08x",
                         (unsigned)stored, (unsigned)computed);
    uint32_t version = get_u32(b + 8), required = get_u32(b + 12), S = get_u32(b + 20);
    if (version != MAN_VERSION)
        return fnn__fail(err, err_size, FNN_E_VERSION,
                         "manifest version %u is not supported (this reader knows version %d)",
                         (unsigned)version, MAN_VERSION);
    if (required & ~MAN_REQUIRED_KNOWN)
        return fnn__fail(err, err_size, FNN_E_VERSION,
                         "unknown required flags 0x%08x in the header", (unsigned)required);
    size_t pos = MAN_HEADER;
    if (end - pos < 4)
        return fnn__fail(err, err_size, FNN_E_TRUNCATED, "truncated before the specification");
    size_t slen = get_u32(b + pos);
    pos += 4;
    if (slen == 0 || slen > FNN__MAX_SPEC)
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         "specification of %zu bytes is outside 1..%u", slen, FNN__MAX_SPEC);
    if (end - pos < slen + pad4(slen) + MAN_FIXED)
        return fnn__fail(err, err_size, FNN_E_TRUNCATED, "truncated in the specification");
    char spec[FNN__MAX_SPEC + 1];
    memcpy(spec, b + pos, slen);
    spec[slen] = '\0';
    if (strlen(spec) != slen)
        return fnn__fail(err, err_size, FNN_E_FORMAT, "the specification holds a NUL byte");
    for (size_t i = 0; i < pad4(slen); i++)
        if (b[pos + slen + i])
            return fnn__fail(err, err_size, FNN_E_FORMAT, "non-zero padding after the "
                                                          "specification");
    pos += slen + pad4(slen);
    const uint8_t *f = b + pos;
    uint64_t n = get_u64(f);
    uint32_t R = get_u32(f + 8), rule = get_u32(f + 12), agg = get_u32(f + 24);
    uint32_t nkeys = get_u32(f + 28);
    pos += MAN_FIXED;
    if (rule != RULE_PERMUTATION)
        return fnn__fail(err, err_size, FNN_E_VERSION, "unknown assignment rule %u",
                         (unsigned)rule);
    if (agg != FNN_AGGREGATE_MEAN && agg != FNN_AGGREGATE_VOTE)
        return fnn__fail(err, err_size, FNN_E_FORMAT, "unknown aggregation %u", (unsigned)agg);
    if (n > fnn__sharded_max_samples || n == 0)
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         "a training set of %llu samples is outside 1..%llu",
                         (unsigned long long)n, (unsigned long long)fnn__sharded_max_samples);
    if ((end - pos) / MAN_ENTRY < nkeys)
        return fnn__fail(err, err_size, FNN_E_TRUNCATED, "truncated in the %u recipe entries",
                         (unsigned)nkeys);
    /* The records need at least their length fields. */
    if (S == 0 || S > FNN_SHARDED_MAX_SHARDS || (end - pos - (size_t)MAN_ENTRY * nkeys) / 4 < S)
        return fnn__fail(err, err_size, S == 0 || S > FNN_SHARDED_MAX_SHARDS ? FNN_E_FORMAT
                                                                             : FNN_E_TRUNCATED,
                         "%u shard records do not fit", (unsigned)S);
    char msg[FNN__ERRMSG_SIZE];
    /* The recipe is read before the handle is made: building the
     * permutation of n samples costs O(n), and a bad entry is found first. */
    fnn_train_options recipe;
    fnn__train_options_init(&recipe);
    recipe.seed = get_u64(f + 32);
    int rc = FNN_OK;
    uint32_t seen = 0;
    for (uint32_t i = 0; i < nkeys && rc == FNN_OK; i++, pos += MAN_ENTRY) {
        uint32_t key = get_u32(b + pos);
        uint64_t bits = get_u64(b + pos + 4);
        double v;
        memcpy(&v, &bits, sizeof v);
        if (key >= FNN__TRAIN_NKEYS || (seen & (1u << key)))
            rc = fnn__fail(err, err_size, FNN_E_FORMAT, "recipe option %u is %s",
                           (unsigned)key, key >= FNN__TRAIN_NKEYS ? "unknown" : "given twice");
        else if (key != FNN_TRAIN_SEED &&
                 fnn__key_check(&fnn__train_keys[key], v, msg, sizeof msg) != FNN_OK)
            rc = fnn__fail(err, err_size, isnan(v) ? FNN_E_NUMERIC : FNN_E_FORMAT,
                           "recipe: %s", msg);
        else if (key != FNN_TRAIN_SEED)
            recipe.v[key] = v;
        seen |= key < FNN__TRAIN_NKEYS ? 1u << key : 0u;
    }
    if (rc != FNN_OK)
        return rc;
    recipe.v[FNN_TRAIN_SEED] = (double)recipe.seed;
    fnn_sharded *s;
    rc = fnn__sharded_alloc(spec, (size_t)n, S, R, get_u64(f + 16), &s, msg, sizeof msg);
    if (rc != FNN_OK)
        return fnn__fail(err, err_size, rc == FNN_E_INVALID ? FNN_E_FORMAT : rc, "%s", msg);
    s->aggregation = (int)agg;
    memcpy(s->recipe.v, recipe.v, sizeof recipe.v);
    s->recipe.seed = recipe.seed;
    s->recipe.set_mask = 0;
    for (uint32_t k = 0; k < S && rc == FNN_OK; k++) {
        if (end - pos < 4) {
            rc = fnn__fail(err, err_size, FNN_E_TRUNCATED, "truncated before shard %u's record",
                           (unsigned)k);
            break;
        }
        size_t rlen = get_u32(b + pos);
        pos += 4;
        if (end - pos < rlen) {
            rc = fnn__fail(err, err_size, FNN_E_TRUNCATED,
                           "shard %u's record of %zu bytes runs past the end", (unsigned)k,
                           rlen);
            break;
        }
        rc = parse_record(s, k, b + pos, rlen, err, err_size);
        pos += rlen;
    }
    if (rc == FNN_OK && pos != end)
        rc = fnn__fail(err, err_size, FNN_E_FORMAT, "%zu bytes after the last shard record",
                       end - pos);
    if (rc != FNN_OK) {
        fnn_sharded_free(s);
        return rc;
    }
    *out = s;
    return FNN_OK;
}

/* ---- files ------------------------------------------------------------------------- */

/* "<manifest path>.<shard>.<stage>.<16 hex digits of the SHA-256>". */
static char *file_path(const char *manifest, uint32_t k, uint32_t j, const uint8_t *sha)
{
    size_t len = strlen(manifest) + 48;
    char *p = malloc(len);
    if (!p)
        return NULL;
    int w = snprintf(p, len, "%s.%u.%u.", manifest, (unsigned)k, (unsigned)j);
    for (int i = 0; i < 8; i++)
        w += snprintf(p + w, len - (size_t)w, "%02x", sha[i]);
    return p;
}

/* The stage a stored file of a shard holds. */
static uint32_t file_stage(const fnn_sharded *s, uint32_t nf, uint32_t f)
{
    return f + 1 == nf ? s->R - 1 : f;
}

static int set_path(fnn_sharded *s, const char *path)
{
    if (s->path && strcmp(s->path, path) == 0)
        return FNN_OK;
    char *p = strdup(path);
    if (!p)
        return sfail(s, FNN_E_NOMEM, "out of memory");
    free(s->path);
    s->path = p;
    for (uint32_t k = 0; k < s->S; k++)
        s->shards[k].clean = 0;
    return FNN_OK;
}

FNN_API int fnn_sharded_save_shard(fnn_sharded *s, const char *path, uint32_t shard)
{
    if (!s)
        return FNN_E_NULL;
    if (!path)
        return sfail(s, FNN_E_NULL, "path is NULL");
    if (shard >= s->S)
        return sfail(s, FNN_E_RANGE, "shard %u does not exist", (unsigned)shard);
    fnn__shard *sh = &s->shards[shard];
    int same = s->path && strcmp(s->path, path) == 0;
    if (sh->trained && !sh->ckpt && !(same && sh->clean))
        return sfail(s, FNN_E_STATE, "shard %u is not held by this handle", (unsigned)shard);
    int rc = set_path(s, path);
    if (rc != FNN_OK)
        return rc;
    if (sh->clean || !sh->trained) {
        sh->clean = 1;
        return FNN_OK;
    }
    uint32_t nf = fnn__shard_stored(s, sh);
    fnn__shard_file *files = malloc(nf * sizeof *files);
    if (!files)
        return sfail(s, FNN_E_NOMEM, "out of memory");
    for (uint32_t f = 0; f < nf && rc == FNN_OK; f++) {
        uint32_t j = file_stage(s, nf, f);
        uint8_t *data = NULL;
        size_t len = 0;
        char *fp = NULL;
        if ((rc = fnn__model_serialize(sh->ckpt[j], &data, &len)) != FNN_OK) {
            sfail(s, rc, "shard %u, stage %u: %s", (unsigned)shard, (unsigned)j,
                  fnn_model_errmsg(sh->ckpt[j]));
            break;
        }
        fnn__sha256 h;
        fnn__sha256_init(&h);
        fnn__sha256_update(&h, data, len);
        fnn__sha256_final(&h, files[f].sha);
        files[f].size = len;
        if (!(fp = file_path(path, shard, j, files[f].sha)))
            rc = sfail(s, FNN_E_NOMEM, "out of memory");
        else if ((rc = fnn__file_replace(fp, data, len, s->errmsg, sizeof s->errmsg)) != FNN_OK)
            (void)0; /* the message is in place */
        free(fp);
        free(data);
    }
    if (rc != FNN_OK) {
        free(files);
        return rc;
    }
    free(sh->files);
    sh->files = files;
    sh->n_files = nf;
    sh->clean = 1;
    return FNN_OK;
}

/* 1 when name (in the manifest's directory) is a shard file of the manifest
 * named base: "<base>.<shard>.<stage>.<16 hex digits>"; 2 when it is the
 * temporary of one that a save left, "<shard file>.tmp.<pid>.XXXXXX", with
 * the writer's pid in *pid; else 0. */
static int is_shard_file(const char *name, const char *base, long *pid)
{
    size_t bl = strlen(base);
    if (strncmp(name, base, bl) != 0 || name[bl] != '.')
        return 0;
    const char *p = name + bl + 1;
    for (int field = 0; field < 2; field++) {
        if (*p < '0' || *p > '9')
            return 0;
        while (*p >= '0' && *p <= '9')
            p++;
        if (*p++ != '.')
            return 0;
    }
    for (int i = 0; i < 16; i++, p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    if (*p == '\0')
        return 1;
    if (strncmp(p, ".tmp.", 5) != 0 || p[5] < '1' || p[5] > '9')
        return 0;
    char *end;
    errno = 0;
    *pid = strtol(p + 5, &end, 10);
    if (errno || *end != '.' || strlen(end + 1) != 6)
        return 0;
    return 2;
}

/* Best effort: removes the shard files of the manifest at path that it does
 * not name (those of earlier saves, and of saves that died before theirs). */
static void remove_unnamed(const fnn_sharded *s, const char *path)
{
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : NULL;
    if (slash && !dir)
        return;
    DIR *d = opendir(dir ? dir : ".");
    free(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        long pid = 0;
        int kind = is_shard_file(e->d_name, base, &pid);
        if (kind == 2 && kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
            (void)unlinkat(dirfd(d), e->d_name, 0); /* its writer died */
            continue;
        }
        if (kind != 1)
            continue;
        int named = 0;
        for (uint32_t k = 0; k < s->S && !named; k++) {
            const fnn__shard *sh = &s->shards[k];
            for (uint32_t f = 0; f < sh->n_files && !named; f++) {
                char *fp = file_path(base, k, file_stage(s, sh->n_files, f), sh->files[f].sha);
                named = !fp || strcmp(fp, e->d_name) == 0; /* no memory: keep it */
                free(fp);
            }
        }
        if (!named)
            (void)unlinkat(dirfd(d), e->d_name, 0);
    }
    (void)closedir(d);
}

FNN_API int fnn_sharded_save_manifest(fnn_sharded *s, const char *path)
{
    if (!s)
        return FNN_E_NULL;
    if (!path)
        return sfail(s, FNN_E_NULL, "path is NULL");
    if (!s->path || strcmp(s->path, path) != 0)
        return sfail(s, FNN_E_STATE, "no shard files were saved for '%s'", path);
    for (uint32_t k = 0; k < s->S; k++) {
        if (s->shards[k].stale)
            return sfail(s, FNN_E_STATE,
                         "shard %u's record is out of date in this handle: import it from "
                         "the handle that holds it",
                         (unsigned)k);
        if (s->shards[k].trained && !s->shards[k].clean)
            return sfail(s, FNN_E_STATE, "shard %u has no files saved for '%s'", (unsigned)k,
                         path);
    }
    uint8_t *data;
    size_t len;
    if (fnn__sharded_serialize(s, &data, &len) != FNN_OK)
        return sfail(s, FNN_E_NOMEM, "out of memory for the manifest");
    int rc = fnn__file_replace(path, data, len, s->errmsg, sizeof s->errmsg);
    free(data);
    if (rc == FNN_OK)
        remove_unnamed(s, path);
    return rc;
}

FNN_API int fnn_sharded_save(fnn_sharded *s, const char *path)
{
    if (!s)
        return FNN_E_NULL;
    for (uint32_t k = 0; k < s->S; k++)
        if (!s->shards[k].ckpt)
            return sfail(s, FNN_E_STATE,
                         "shard %u is not held by this handle: save the shards where they are "
                         "held (fnn_sharded_save_shard())",
                         (unsigned)k);
    for (uint32_t k = 0; k < s->S; k++) {
        int rc = fnn_sharded_save_shard(s, path, k);
        if (rc != FNN_OK)
            return rc;
    }
    return fnn_sharded_save_manifest(s, path);
}

/* ---- reading ------------------------------------------------------------------------ */

/* Reads a whole file of at most cap bytes (exactly `exact` bytes when
 * exact > 0). */
static int read_bounded(const char *path, uint64_t cap, uint64_t exact, uint8_t **buf,
                        size_t *len, char *err, size_t err_size)
{
    *buf = NULL;
    int fd;
    do
        fd = open(path, O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return fnn__fail(err, err_size, FNN_E_IO, "cannot open '%s': %s", path,
                         strerror(errno));
    struct stat st;
    int rc = FNN_OK;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        if (exact && (uint64_t)st.st_size != exact)
            rc = fnn__fail(err, err_size, FNN_E_FORMAT,
                           "'%s' is %llu bytes, the manifest records %llu", path,
                           (unsigned long long)st.st_size, (unsigned long long)exact);
        else if ((uint64_t)st.st_size > cap)
            rc = fnn__fail(err, err_size, FNN_E_FORMAT, "'%s' is %llu bytes, over the cap of %llu",
                           path, (unsigned long long)st.st_size, (unsigned long long)cap);
    }
    size_t have = 0, room = exact ? (size_t)exact + 1 : 65536;
    uint8_t *b = rc == FNN_OK ? malloc(room) : NULL;
    if (rc == FNN_OK && !b)
        rc = fnn__fail(err, err_size, FNN_E_NOMEM, "out of memory reading '%s'", path);
    while (rc == FNN_OK) {
        if (have == room) {
            if ((uint64_t)room > cap) {
                rc = fnn__fail(err, err_size, exact ? FNN_E_FORMAT : FNN_E_FORMAT,
                               "'%s' is longer than %llu bytes", path,
                               (unsigned long long)(exact ? exact : cap));
                break;
            }
            uint8_t *nb = realloc(b, room * 2);
            if (!nb) {
                rc = fnn__fail(err, err_size, FNN_E_NOMEM, "out of memory reading '%s'", path);
                break;
            }
            b = nb;
            room *= 2;
        }
        ssize_t r = read(fd, b + have, room - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            rc = fnn__fail(err, err_size, FNN_E_IO, "cannot read '%s': %s", path,
                           strerror(errno));
        if (r <= 0)
            break;
        have += (size_t)r;
    }
    (void)close(fd);
    if (rc == FNN_OK && exact && have != exact)
        rc = fnn__fail(err, err_size, have < exact ? FNN_E_TRUNCATED : FNN_E_FORMAT,
                       "'%s' holds %zu bytes, the manifest records %llu", path, have,
                       (unsigned long long)exact);
    if (rc == FNN_OK && have > cap)
        rc = fnn__fail(err, err_size, FNN_E_FORMAT, "'%s' is over the cap of %llu bytes", path,
                       (unsigned long long)cap);
    if (rc != FNN_OK) {
        free(b);
        return rc;
    }
    *buf = b;
    *len = have;
    return FNN_OK;
}

FNN_API int fnn_sharded_load_manifest_buffer(fnn_sharded **out, const void *buf, size_t size,
                                             char *err, size_t err_size)
{
    if (err && err_size)
        err[0] = '\0';
    if (!out)
        return fnn__fail(err, err_size, FNN_E_NULL, "out is NULL");
    *out = NULL;
    if (!buf)
        return fnn__fail(err, err_size, FNN_E_NULL, "buf is NULL");
    return fnn__sharded_parse(buf, size, out, err, err_size);
}

FNN_API int fnn_sharded_hold(fnn_sharded *s, uint32_t shard)
{
    if (!s)
        return FNN_E_NULL;
    if (shard >= s->S)
        return sfail(s, FNN_E_RANGE, "shard %u does not exist", (unsigned)shard);
    fnn__shard *sh = &s->shards[shard];
    if (sh->ckpt)
        return FNN_OK;
    if (sh->stale)
        return sfail(s, FNN_E_STATE, "shard %u's record is out of date in this handle",
                     (unsigned)shard);
    if (!sh->trained) {
        fnn_model **c = calloc(s->R, sizeof *c);
        char msg[FNN__ERRMSG_SIZE];
        int rc = c ? fnn_model_create(&c[s->R - 1], s->spec_text,
                                      fnn__shard_init_seed(s, shard), msg, sizeof msg)
                   : FNN_E_NOMEM;
        if (rc != FNN_OK) {
            free(c);
            return sfail(s, rc, "shard %u: %s", (unsigned)shard, c ? msg : "out of memory");
        }
        sh->ckpt = c;
        return FNN_OK;
    }
    if (!s->path || !sh->clean)
        return sfail(s, FNN_E_STATE, "shard %u has no files to load", (unsigned)shard);
    fnn_model **c = calloc(s->R, sizeof *c);
    if (!c)
        return sfail(s, FNN_E_NOMEM, "out of memory");
    int rc = FNN_OK;
    for (uint32_t f = 0; f < sh->n_files && rc == FNN_OK; f++) {
        uint32_t j = file_stage(s, sh->n_files, f);
        char *fp = file_path(s->path, shard, j, sh->files[f].sha), msg[FNN__ERRMSG_SIZE];
        uint8_t *data = NULL, sha[32];
        size_t len = 0;
        if (!fp) {
            rc = sfail(s, FNN_E_NOMEM, "out of memory");
            break;
        }
        rc = read_bounded(fp, MODEL_MAX, sh->files[f].size, &data, &len, msg, sizeof msg);
        if (rc == FNN_OK) {
            fnn__sha256 h;
            fnn__sha256_init(&h);
            fnn__sha256_update(&h, data, len);
            fnn__sha256_final(&h, sha);
            if (memcmp(sha, sh->files[f].sha, 32) != 0)
                rc = fnn__fail(msg, sizeof msg, FNN_E_CHECKSUM,
                               "'%s' does not have the SHA-256 the manifest records", fp);
        }
        if (rc == FNN_OK)
            rc = fnn_model_load_buffer(&c[j], data, len, msg, sizeof msg);
        if (rc == FNN_OK) {
            size_t sl = fnn_model_spec(c[j], NULL, 0);
            char *sp = malloc(sl + 1);
            if (!sp)
                rc = fnn__fail(msg, sizeof msg, FNN_E_NOMEM, "out of memory");
            else if (fnn_model_spec(c[j], sp, sl + 1), strcmp(sp, s->spec_text) != 0)
                rc = fnn__fail(msg, sizeof msg, FNN_E_FORMAT,
                               "'%s' holds a model of another specification", fp);
            free(sp);
        }
        if (rc != FNN_OK)
            sfail(s, rc, "shard %u: %s", (unsigned)shard, msg);
        free(data);
        free(fp);
    }
    if (rc != FNN_OK) {
        for (uint32_t j = 0; j < s->R; j++)
            fnn_model_free(c[j]);
        free(c);
        return rc;
    }
    sh->ckpt = c;
    return FNN_OK;
}

FNN_API int fnn_sharded_load(fnn_sharded **out, const char *path, int hold_all, char *err,
                             size_t err_size)
{
    if (err && err_size)
        err[0] = '\0';
    if (!out)
        return fnn__fail(err, err_size, FNN_E_NULL, "out is NULL");
    *out = NULL;
    if (!path)
        return fnn__fail(err, err_size, FNN_E_NULL, "path is NULL");
    uint8_t *data;
    size_t len;
    char msg[FNN__ERRMSG_SIZE];
    int rc = read_bounded(path, MAN_MAX, 0, &data, &len, err, err_size);
    if (rc != FNN_OK)
        return rc;
    fnn_sharded *s;
    rc = fnn__sharded_parse(data, len, &s, msg, sizeof msg);
    free(data);
    if (rc != FNN_OK)
        return fnn__fail(err, err_size, rc, "'%s': %s", path, msg);
    if (!(s->path = strdup(path))) {
        fnn_sharded_free(s);
        return fnn__fail(err, err_size, FNN_E_NOMEM, "out of memory");
    }
    for (uint32_t k = 0; k < s->S && hold_all && rc == FNN_OK; k++)
        rc = fnn_sharded_hold(s, k);
    if (rc != FNN_OK) {
        fnn__fail(err, err_size, rc, "%s", s->errmsg);
        fnn_sharded_free(s);
        return rc;
    }
    *out = s;
    return FNN_OK;
}
