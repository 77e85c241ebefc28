/* Model files (docs/FORMAT.md): round trips, the documented byte layout, one
 * test per corruption with the status it must produce, and atomic saves. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "internal.h"
#include "testutil.h"

#define TINY "input:4,dense:3,relu,dense:2"
#define SMALL_CNN                                                                       \
    "input:6x6x2,conv2d:3:3,relu,maxpool:2,flatten,dense:5,relu,dropout:0.5,dense:3"

/* ---- helpers ---------------------------------------------------------------- */

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void putf(uint8_t *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    put32(p, u);
}

/* Rewrites the trailing CRC so that a deliberate change is what a test hits. */
static void recrc(uint8_t *b, size_t len)
{
    put32(b + len - 4, (uint32_t)crc32(0L, b, (uInt)(len - 4)));
}

static fnn_model *make_model(const char *spec, uint64_t seed)
{
    fnn_model *m = NULL;
    char err[256] = "";
    int rc = fnn_model_create(&m, spec, seed, err, sizeof err);
    ck_assert_msg(rc == FNN_OK, "create '%s': %s", spec, err);
    return m;
}

/* Gives every dense layer a distinct forgetting state and sets the clock. */
static void set_forget(fnn_model *m, uint32_t t)
{
    for (size_t dense = 0; dense < m->n_fl; dense++) {
        fnn__flayer *l = &m->fl[dense];
        for (uint32_t j = 0; j < l->units; j++)
            l->tau[j] = j % 3 == 2 ? INFINITY : 0.25f + (float)j * 1.5f + (float)dense;
        l->on = dense % 2 == 0;
    }
    m->t = t;
    fnn__model_update_decay(m);
}

static void assert_same_model(fnn_model *a, fnn_model *b)
{
    size_t n = fnn_model_num_params(a);
    ck_assert_uint_eq(fnn_model_num_params(b), n);
    float *pa = malloc(n * sizeof *pa), *pb = malloc(n * sizeof *pb);
    ck_assert_ptr_nonnull(pa);
    ck_assert_ptr_nonnull(pb);
    ck_assert_int_eq(fnn_model_get_params(a, pa, n), FNN_OK);
    ck_assert_int_eq(fnn_model_get_params(b, pb, n), FNN_OK);
    ck_assert_msg(memcmp(pa, pb, n * sizeof *pa) == 0, "parameters differ");
    free(pa);
    free(pb);
    ck_assert_str_eq(a->spec_text, b->spec_text);
    ck_assert_uint_eq(a->t, b->t);
    ck_assert_uint_eq(a->spec.n_layers, b->spec.n_layers);
    for (size_t i = 0; i < a->spec.n_layers; i++)
        ck_assert_int_eq(a->spec.layers[i].kind, b->spec.layers[i].kind);
    ck_assert_uint_eq(a->n_fl, b->n_fl);
    for (size_t k = 0; k < a->n_fl; k++) {
        const fnn__flayer *la = &a->fl[k], *lb = &b->fl[k];
        ck_assert_uint_eq(la->units, lb->units);
        ck_assert_int_eq(la->on, lb->on);
        ck_assert(memcmp(la->tau, lb->tau, la->units * sizeof(float)) == 0);
        ck_assert(memcmp(la->decay, lb->decay, la->units * sizeof(float)) == 0);
    }
    const fnn__recipe *ra = &a->recipe, *rb = &b->recipe;
    ck_assert_int_eq(ra->has_init, rb->has_init);
    ck_assert_uint_eq(ra->init_seed, rb->init_seed);
    ck_assert_uint_eq(ra->calls, rb->calls);
    ck_assert_uint_eq(ra->seed, rb->seed);
    ck_assert_uint_eq(ra->samples, rb->samples);
    ck_assert(memcmp(ra->v, rb->v, sizeof ra->v) == 0);
}

static uint8_t *serialize(fnn_model *m, size_t *len)
{
    uint8_t *b = NULL;
    ck_assert_int_eq(fnn__model_serialize(m, &b, len), FNN_OK);
    ck_assert_ptr_nonnull(b);
    return b;
}

/* Loads a buffer and checks the status; returns the model (NULL on failure). */
static fnn_model *load_expect(const uint8_t *b, size_t len, int want, const char *msg_part)
{
    fnn_model *m = (fnn_model *)&m; /* must be overwritten */
    char err[256] = "";
    int rc = fnn_model_load_buffer(&m, b, len, err, sizeof err);
    ck_assert_msg(rc == want, "status %d (%s), want %d; message: %s", rc,
                  fnn_strerror(rc), want, err);
    if (want != FNN_OK) {
        ck_assert_ptr_null(m);
        ck_assert_msg(err[0] != '\0', "no message for status %d", rc);
    }
    if (msg_part)
        ck_assert_msg(strstr(err, msg_part) != NULL, "message '%s' lacks '%s'", err,
                      msg_part);
    return m;
}

/* ---- an independent writer of the documented layout ---------------------------
 * Tests build files section by section from this, not from the library's
 * writer, so that they check docs/FORMAT.md rather than the code against itself. */

#define TAG(s) ((uint32_t)(uint8_t)(s)[0] | (uint32_t)(uint8_t)(s)[1] << 8 |              \
                (uint32_t)(uint8_t)(s)[2] << 16 | (uint32_t)(uint8_t)(s)[3] << 24)

typedef struct sec {
    uint32_t tag, flags;
    const uint8_t *data;
    size_t len;
} sec;

typedef struct hdr {
    uint32_t version, required, optional;
} hdr;

static const hdr v1 = {1, 0, 0};

static uint8_t *build(hdr h, const sec *s, size_t n, size_t *out_len)
{
    size_t len = 32 + 4;
    for (size_t i = 0; i < n; i++)
        len += 16 + s[i].len + ((4 - s[i].len % 4) % 4);
    uint8_t *b = calloc(1, len), *p = b;
    ck_assert_ptr_nonnull(b);
    memcpy(p, "\x89" "FNN\r\n\x1a\n", 8);
    put32(p + 8, h.version);
    put32(p + 12, h.required);
    put32(p + 16, h.optional);
    put32(p + 20, (uint32_t)n);
    put64(p + 24, len);
    p += 32;
    for (size_t i = 0; i < n; i++) {
        put32(p, s[i].tag);
        put32(p + 4, s[i].flags);
        put64(p + 8, s[i].len);
        if (s[i].len)
            memcpy(p + 16, s[i].data, s[i].len);
        p += 16 + s[i].len + ((4 - s[i].len % 4) % 4); /* padding stays zero */
    }
    recrc(b, len);
    *out_len = len;
    return b;
}

/* Section payloads of a model, made from its public and internal state. */
typedef struct payloads {
    uint8_t *params, *forget, *recipe;
    size_t params_len, forget_len, recipe_len;
    const char *spec;
} payloads;

static payloads payloads_of(fnn_model *m)
{
    payloads p;
    size_t n = fnn_model_num_params(m);
    float *f = malloc(n * sizeof *f);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fnn_model_get_params(m, f, n), FNN_OK);
    p.params_len = 8 + 4 * n;
    p.params = malloc(p.params_len);
    ck_assert_ptr_nonnull(p.params);
    put64(p.params, n);
    for (size_t i = 0; i < n; i++)
        putf(p.params + 8 + 4 * i, f[i]);
    free(f);

    p.forget_len = 4;
    for (size_t k = 0; k < m->n_fl; k++)
        p.forget_len += 8 + 4 * (size_t)m->fl[k].units;
    p.forget = malloc(p.forget_len);
    ck_assert_ptr_nonnull(p.forget);
    put32(p.forget, m->t);
    size_t o = 4;
    for (size_t k = 0; k < m->n_fl; k++) {
        const fnn__flayer *l = &m->fl[k];
        put32(p.forget + o, l->units);
        put32(p.forget + o + 4, (uint32_t)l->on);
        o += 8;
        for (uint32_t j = 0; j < l->units; j++, o += 4)
            putf(p.forget + o, l->tau[j]);
    }

    /* RECIPE: calls, flags, init seed, seed, samples, count, (key, f64) entries. */
    const fnn__recipe *r = &m->recipe;
    p.recipe_len = 36 + 12 * (size_t)FNN__TRAIN_NKEYS;
    p.recipe = malloc(p.recipe_len);
    ck_assert_ptr_nonnull(p.recipe);
    put32(p.recipe, r->calls);
    put32(p.recipe + 4, r->has_init ? 1u : 0u);
    put64(p.recipe + 8, r->init_seed);
    put64(p.recipe + 16, r->seed);
    put64(p.recipe + 24, r->samples);
    put32(p.recipe + 32, FNN__TRAIN_NKEYS);
    for (uint32_t k = 0; k < FNN__TRAIN_NKEYS; k++) {
        uint64_t bits;
        memcpy(&bits, &r->v[k], sizeof bits);
        put32(p.recipe + 36 + 12 * k, k);
        put64(p.recipe + 40 + 12 * k, bits);
    }
    p.spec = m->spec_text;
    return p;
}

static void payloads_free(payloads *p)
{
    free(p->params);
    free(p->forget);
    free(p->recipe);
}

static sec spec_sec(const char *text)
{
    sec s = {TAG("SPEC"), 1, (const uint8_t *)text, strlen(text)};
    return s;
}

static sec params_sec(const payloads *p)
{
    sec s = {TAG("PARM"), 1, p->params, p->params_len};
    return s;
}

static sec forget_sec(const payloads *p)
{
    sec s = {TAG("FRGT"), 0, p->forget, p->forget_len};
    return s;
}

static sec recipe_sec(const payloads *p)
{
    sec s = {TAG("RCPE"), 0, p->recipe, p->recipe_len};
    return s;
}

/* The file the documented layout prescribes for m. */
static uint8_t *build_model(fnn_model *m, size_t *len)
{
    payloads p = payloads_of(m);
    sec s[4] = {spec_sec(p.spec), params_sec(&p), forget_sec(&p), recipe_sec(&p)};
    uint8_t *b = build(v1, s, 4, len);
    payloads_free(&p);
    return b;
}

/* The same file without the optional RECIPE section, as the first writers
 * of version 1 wrote it: FORGET is the last section. */
static uint8_t *build_model_v1_0(fnn_model *m, size_t *len)
{
    payloads p = payloads_of(m);
    sec s[3] = {spec_sec(p.spec), params_sec(&p), forget_sec(&p)};
    uint8_t *b = build(v1, s, 3, len);
    payloads_free(&p);
    return b;
}

/* ---- temporary directories ---------------------------------------------------- */

static void make_tmpdir(char *dir, size_t size)
{
    ck_assert_uint_gt(size, sizeof "/tmp/fnn-format-XXXXXX");
    strcpy(dir, "/tmp/fnn-format-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        char sub[4096];
        ck_assert_ptr_nonnull(d);
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            remove_tree(sub);
        }
        closedir(d);
        ck_assert_int_eq(rmdir(path), 0);
    } else {
        ck_assert_int_eq(unlink(path), 0);
    }
}

/* Number of entries in dir (without . and ..); the only one's name in *only. */
static int count_entries(const char *dir, char *only, size_t only_size)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (only)
            snprintf(only, only_size, "%s", e->d_name);
        n++;
    }
    closedir(d);
    return n;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    uint8_t *b = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    ck_assert_int_eq(fclose(f), 0);
    *len = (size_t)n;
    return b;
}

static void write_file(const char *path, const void *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* ---- round trips ------------------------------------------------------------------ */

static const char *const roundtrip_specs[] = {"mlp", "paper-cnn", TINY, SMALL_CNN};

START_TEST(test_roundtrip_file)
{
    char dir[64], path[128], err[256] = "";
    const char *spec = roundtrip_specs[_i];
    fnn_model *m = make_model(spec, 42 + (uint64_t)_i), *r = NULL;
    set_forget(m, 7 + (uint32_t)_i);
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/model.fnn", dir);

    ck_assert_int_eq(fnn_model_save(m, path), FNN_OK);
    ck_assert_int_eq(fnn_model_load(&r, path, err, sizeof err), FNN_OK);
    ck_assert_str_eq(err, "");
    assert_same_model(m, r);

    /* The file is exactly the documented layout, and saving the loaded model
     * again gives the same bytes. */
    size_t flen, blen, rlen;
    uint8_t *file = read_file(path, &flen), *doc = build_model(m, &blen);
    uint8_t *again = serialize(r, &rlen);
    ck_assert_uint_eq(flen, blen);
    ck_assert(memcmp(file, doc, flen) == 0);
    ck_assert_uint_eq(rlen, flen);
    ck_assert(memcmp(file, again, flen) == 0);

    /* A new file is private to its owner (mkstemp) and no temporary is left. */
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(count_entries(dir, NULL, 0), 1);

    free(file);
    free(doc);
    free(again);
    fnn_model_free(m);
    fnn_model_free(r);
    remove_tree(dir);
}
END_TEST

START_TEST(test_roundtrip_buffer)
{
    fnn_model *m = make_model(SMALL_CNN, 5), *r;
    set_forget(m, 3);
    size_t needed = 0, len;
    uint8_t *ref = serialize(m, &len);

    /* Size query. */
    ck_assert_int_eq(fnn_model_save_buffer(m, NULL, 0, &needed), FNN_OK);
    ck_assert_uint_eq(needed, len);

    /* Too small: FNN_E_SHAPE and not a byte written. */
    uint8_t *buf = malloc(len + 8);
    ck_assert_ptr_nonnull(buf);
    memset(buf, 0xa5, len + 8);
    needed = 0;
    ck_assert_int_eq(fnn_model_save_buffer(m, buf, len - 1, &needed), FNN_E_SHAPE);
    ck_assert_uint_eq(needed, len);
    ck_assert_ptr_nonnull(strstr(fnn_model_errmsg(m), "too small"));
    for (size_t i = 0; i < len + 8; i++)
        ck_assert_uint_eq(buf[i], 0xa5);

    /* Larger than needed: writes exactly `needed` bytes. */
    ck_assert_int_eq(fnn_model_save_buffer(m, buf, len + 8, &needed), FNN_OK);
    ck_assert_uint_eq(needed, len);
    ck_assert(memcmp(buf, ref, len) == 0);
    for (size_t i = len; i < len + 8; i++)
        ck_assert_uint_eq(buf[i], 0xa5);

    r = load_expect(buf, len, FNN_OK, NULL);
    assert_same_model(m, r);
    /* decay[] was recomputed from tau and t, not merely copied. */
    for (size_t k = 0; k < r->n_fl; k++) {
        const fnn__flayer *l = &r->fl[k];
        for (uint32_t j = 0; j < l->units; j++)
            ck_assert(l->decay[j] == expf(-3.0f / l->tau[j]));
    }
    free(buf);
    free(ref);
    fnn_model_free(m);
    fnn_model_free(r);
}
END_TEST

/* The worked example of docs/FORMAT.md, byte for byte. */
START_TEST(test_documented_header)
{
    static const uint8_t want[] = {
        0x89, 0x46, 0x4e, 0x4e, 0x0d, 0x0a, 0x1a, 0x0a, /* magic */
        0x01, 0x00, 0x00, 0x00,                         /* version 1 */
        0x00, 0x00, 0x00, 0x00,                         /* required flags */
        0x00, 0x00, 0x00, 0x00,                         /* optional flags */
        0x04, 0x00, 0x00, 0x00,                         /* 4 sections */
        0xe4, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 484 bytes */
        'S',  'P',  'E',  'C',  0x01, 0x00, 0x00, 0x00, /* SPEC, required */
        0x1c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 28 bytes */
    };
    fnn_model *m = make_model(TINY, 1);
    size_t len;
    uint8_t *b = serialize(m, &len);
    ck_assert_uint_eq(len, 484);
    ck_assert(memcmp(b, want, sizeof want) == 0);
    ck_assert(memcmp(b + 48, TINY, 28) == 0);
    /* PARAMS at 76: 23 floats; FORGET at 192: t = 0, then layer 0 with 3
     * units, decay off, tau +inf. */
    static const uint8_t params_hdr[] = {
        'P', 'A', 'R', 'M', 1, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 23, 0, 0, 0, 0, 0, 0, 0,
    };
    static const uint8_t forget_hdr[] = {
        'F', 'R', 'G', 'T', 0, 0, 0, 0, 40, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x80, 0x7f,
    };
    /* RECIPE at 248: 216 bytes; no training call yet, seed 1 recorded. */
    static const uint8_t recipe_hdr[] = {
        'R', 'C', 'P', 'E', 0, 0, 0, 0, 0xd8, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
    };
    ck_assert(memcmp(b + 76, params_hdr, sizeof params_hdr) == 0);
    ck_assert(memcmp(b + 192, forget_hdr, sizeof forget_hdr) == 0);
    ck_assert(memcmp(b + 248, recipe_hdr, sizeof recipe_hdr) == 0);
    ck_assert_uint_eq(get32(b + 296), FNN__TRAIN_NKEYS); /* entries at 300 */
    ck_assert_uint_eq(get32(b + 480), (uint32_t)crc32(0L, b, 480));
    free(b);
    fnn_model_free(m);
}
END_TEST

/* ---- corruptions ------------------------------------------------------------------ */

START_TEST(test_bad_magic)
{
    fnn_model *m = make_model(TINY, 1);
    size_t len;
    uint8_t *b = serialize(m, &len);
    for (size_t i = 0; i < 8; i++) {
        b[i] ^= 0x20;
        load_expect(b, len, FNN_E_FORMAT, "bad magic");
        b[i] ^= 0x20;
    }
    load_expect((const uint8_t *)"GIF89a", 6, FNN_E_FORMAT, "bad magic");
    load_expect((const uint8_t *)"\x89" "FNN\r\n", 6, FNN_E_TRUNCATED, NULL);
    load_expect(b, 0, FNN_E_TRUNCATED, NULL);
    free(b);
    fnn_model_free(m);
}
END_TEST

START_TEST(test_checksum)
{
    fnn_model *m = make_model(TINY, 1);
    size_t len;
    uint8_t *b = serialize(m, &len);
    char want[64];
    const size_t offsets[] = {8, 20, 40, 100, 200, 247, 248, 251};
    for (size_t k = 0; k < sizeof offsets / sizeof offsets[0]; k++) {
        size_t i = offsets[k];
        b[i] ^= 0x01;
        uint32_t stored = get32(b + len - 4), computed = (uint32_t)crc32(0L, b, (uInt)len - 4);
        snprintf(want, sizeof want, "checksum mismatch: stored 0x%08x, computed 0x%08x",
                 (unsigned)stored, (unsigned)computed);
        load_expect(b, len, FNN_E_CHECKSUM, want);
        b[i] ^= 0x01;
    }
    fnn_model_free(load_expect(b, len, FNN_OK, NULL));
    free(b);
    fnn_model_free(m);
}
END_TEST

START_TEST(test_truncated)
{
    fnn_model *m = make_model(SMALL_CNN, 1);
    size_t len;
    uint8_t *b = serialize(m, &len);
    const size_t cuts[] = {0, 1, 7, 8, 12, 24, 31, 32, 35, 36, 47, 48, 100, len / 2,
                           len - 5, len - 4, len - 1};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        /* A copy of exactly the prefix, so that ASan sees any over-read. */
        uint8_t *p = malloc(cuts[k] ? cuts[k] : 1);
        ck_assert_ptr_nonnull(p);
        memcpy(p, b, cuts[k]);
        load_expect(p, cuts[k], FNN_E_TRUNCATED, NULL);
        free(p);
    }
    /* A truncated file on disk. */
    char dir[64], path[128], err[256];
    fnn_model *r = NULL;
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/cut.fnn", dir);
    write_file(path, b, len - 10);
    ck_assert_int_eq(fnn_model_load(&r, path, err, sizeof err), FNN_E_TRUNCATED);
    ck_assert_ptr_null(r);
    ck_assert_ptr_nonnull(strstr(err, "truncated"));
    remove_tree(dir);
    free(b);
    fnn_model_free(m);
}
END_TEST

START_TEST(test_trailing_bytes)
{
    fnn_model *m = make_model(TINY, 1);
    size_t len;
    uint8_t *b = serialize(m, &len), *p = malloc(len + 1);
    ck_assert_ptr_nonnull(p);
    memcpy(p, b, len);
    p[len] = 0;
    load_expect(p, len + 1, FNN_E_FORMAT, "1 byte(s) after the declared 484-byte file");
    /* Even with the declared length and CRC made to cover the extra byte, the
     * sections no longer end where the trailer starts. */
    put64(p + 24, len + 1);
    recrc(p, len + 1);
    load_expect(p, len + 1, FNN_E_FORMAT, "after the last of 4 sections");
    free(p);
    free(b);
    fnn_model_free(m);
}
END_TEST

START_TEST(test_flags_and_version)
{
    fnn_model *m = make_model(TINY, 1);
    size_t len;
    uint8_t *b = serialize(m, &len);

    put32(b + 12, 1u << 5); /* an unknown required flag */
    recrc(b, len);
    load_expect(b, len, FNN_E_VERSION, "unknown required flags 0x00000020");
    put32(b + 12, 0);

    put32(b + 16, 0xffffffffu); /* unknown optional flags are ignored */
    recrc(b, len);
    fnn_model *r = load_expect(b, len, FNN_OK, NULL);
    assert_same_model(m, r);
    fnn_model_free(r);
    put32(b + 16, 0);

    put32(b + 8, 2); /* a newer version */
    recrc(b, len);
    load_expect(b, len, FNN_E_VERSION, "format version 2 is not supported");
    put32(b + 8, 0);
    recrc(b, len);
    load_expect(b, len, FNN_E_VERSION, "format version 0");
    free(b);
    fnn_model_free(m);
}
END_TEST

START_TEST(test_unknown_sections)
{
    fnn_model *m = make_model(TINY, 3), *r;
    set_forget(m, 11);
    payloads p = payloads_of(m);
    const uint8_t extra[5] = {1, 2, 3, 4, 5};
    size_t len;
    uint8_t *b;

    /* An unknown required section stops the reader. */
    sec req[4] = {spec_sec(p.spec), {TAG("XTRA"), 1, extra, 5}, params_sec(&p),
                  forget_sec(&p)};
    b = build(v1, req, 4, &len);
    load_expect(b, len, FNN_E_VERSION, "section 'XTRA' (0x41525458) is required");
    free(b);

    /* An unknown optional one (odd length, so padded) is skipped, as are
     * unknown section flag bits; known sections may come in any order. */
    sec opt[6] = {forget_sec(&p), {TAG("XTRA"), 0xfffffffeu, extra, 5}, params_sec(&p),
                  recipe_sec(&p), {TAG("NOTE"), 0, NULL, 0}, spec_sec(p.spec)};
    b = build(v1, opt, 6, &len);
    r = load_expect(b, len, FNN_OK, NULL);
    assert_same_model(m, r);
    fnn_model_free(r);
    free(b);

    /* A binary tag is named in hex. */
    sec bin[3] = {spec_sec(p.spec), params_sec(&p), {0x00ff0001u, 1, NULL, 0}};
    b = build(v1, bin, 3, &len);
    load_expect(b, len, FNN_E_VERSION, "section 0x00ff0001 is required");
    free(b);
    payloads_free(&p);
    fnn_model_free(m);
}
END_TEST

START_TEST(test_section_set)
{
    fnn_model *m = make_model(TINY, 3), *r;
    set_forget(m, 11);
    payloads p = payloads_of(m);
    size_t len;
    uint8_t *b;

    sec dup[4] = {spec_sec(p.spec), params_sec(&p), forget_sec(&p), spec_sec(p.spec)};
    b = build(v1, dup, 4, &len);
    load_expect(b, len, FNN_E_FORMAT, "section SPEC appears more than once");
    free(b);

    sec dupf[4] = {spec_sec(p.spec), params_sec(&p), forget_sec(&p), forget_sec(&p)};
    b = build(v1, dupf, 4, &len);
    load_expect(b, len, FNN_E_FORMAT, "section FORGET appears more than once");
    free(b);

    sec nospec[2] = {params_sec(&p), forget_sec(&p)};
    b = build(v1, nospec, 2, &len);
    load_expect(b, len, FNN_E_FORMAT, "required section SPEC is missing");
    free(b);

    sec noparams[2] = {spec_sec(p.spec), forget_sec(&p)};
    b = build(v1, noparams, 2, &len);
    load_expect(b, len, FNN_E_FORMAT, "required section PARAMS is missing");
    free(b);

    b = build(v1, NULL, 0, &len);
    ck_assert_uint_eq(len, 36);
    load_expect(b, len, FNN_E_FORMAT, "required section SPEC is missing");
    free(b);

    /* Without FORGET the model loads with the defaults: nothing forgets. */
    sec noforget[2] = {spec_sec(p.spec), params_sec(&p)};
    b = build(v1, noforget, 2, &len);
    r = load_expect(b, len, FNN_OK, NULL);
    ck_assert_uint_eq(r->t, 0);
    for (size_t k = 0; k < r->n_fl; k++) {
        const fnn__flayer *l = &r->fl[k];
        ck_assert_int_eq(l->on, 0);
        for (uint32_t j = 0; j < l->units; j++) {
            ck_assert(isinf(l->tau[j]) && l->tau[j] > 0);
            ck_assert(l->decay[j] == 1.0f);
        }
    }
    fnn_model_free(r);
    free(b);
    payloads_free(&p);
    fnn_model_free(m);
}
END_TEST

START_TEST(test_section_bounds)
{
    fnn_model *m = make_model(TINY, 1);
    size_t len;
    uint8_t *b = build_model_v1_0(m, &len);

    /* SPEC's length reaching past the trailer. */
    put64(b + 40, len);
    recrc(b, len);
    load_expect(b, len, FNN_E_TRUNCATED, "section SPEC: declares");
    put64(b + 40, 28);

    put64(b + 40, 0xffffffffffffffffull);
    recrc(b, len);
    load_expect(b, len, FNN_E_TRUNCATED, "section SPEC: declares 18446744073709551615");
    put64(b + 40, 28);

    /* FORGET grown to 41 bytes, the last of them right before the trailer:
     * its 3 padding bytes are not there. */
    uint8_t *odd = calloc(1, len + 1);
    ck_assert_ptr_nonnull(odd);
    memcpy(odd, b, len - 4);
    put64(odd + 24, len + 1);
    put64(odd + 192 + 8, 41);
    recrc(odd, len + 1);
    load_expect(odd, len + 1, FNN_E_TRUNCATED, "section FORGET: padding runs past");
    free(odd);

    /* More sections declared than present, and fewer. */
    put32(b + 20, 4);
    recrc(b, len);
    load_expect(b, len, FNN_E_TRUNCATED, "section 4 of 4: header at offset 248");
    put32(b + 20, 0xffffffffu);
    recrc(b, len);
    load_expect(b, len, FNN_E_TRUNCATED, "section 4 of 4294967295");
    put32(b + 20, 2);
    recrc(b, len);
    load_expect(b, len, FNN_E_FORMAT, "56 bytes after the last of 2 sections");
    put32(b + 20, 3);
    recrc(b, len);
    fnn_model_free(load_expect(b, len, FNN_OK, NULL));
    free(b);

    /* Padding must be zero. A spec with a trailing space is 29 bytes. */
    fnn_model *r;
    payloads p = payloads_of(m);
    sec s[3] = {spec_sec(TINY " "), params_sec(&p), forget_sec(&p)};
    b = build(v1, s, 3, &len);
    r = load_expect(b, len, FNN_OK, NULL); /* readers accept any valid spec text */
    ck_assert_str_eq(r->spec_text, TINY);
    fnn_model_free(r);
    ck_assert_uint_eq(b[48 + 29], 0);
    b[48 + 30] = 0x01;
    recrc(b, len);
    load_expect(b, len, FNN_E_FORMAT, "section SPEC: non-zero padding byte");
    free(b);
    payloads_free(&p);
    fnn_model_free(m);
}
END_TEST

START_TEST(test_params_count)
{
    fnn_model *m = make_model("mlp", 1);
    payloads p = payloads_of(m);
    size_t n = fnn_model_num_params(m), len;
    char want[128];
    uint8_t *b;

    /* Six floats too many, consistently declared. */
    uint8_t *more = calloc(1, p.params_len + 24);
    ck_assert_ptr_nonnull(more);
    memcpy(more, p.params, p.params_len);
    put64(more, n + 6);
    sec s[3] = {spec_sec(p.spec), {TAG("PARM"), 1, more, p.params_len + 24}, forget_sec(&p)};
    b = build(v1, s, 3, &len);
    snprintf(want, sizeof want, "section PARAMS: declares %zu floats, model spec needs %zu",
             n + 6, n);
    load_expect(b, len, FNN_E_FORMAT, want);
    free(b);

    /* The count says more than the section holds. */
    put64(more, n + 7);
    b = build(v1, s, 3, &len);
    load_expect(b, len, FNN_E_TRUNCATED, "section PARAMS: declares");
    free(b);

    /* ... or less. */
    put64(more, n);
    b = build(v1, s, 3, &len);
    load_expect(b, len, FNN_E_FORMAT, "section PARAMS: 24 bytes after");
    free(b);

    /* Over the cap, and too short for the count itself. */
    put64(more, (uint64_t)FNN__MAX_PARAMS + 1);
    b = build(v1, s, 3, &len);
    load_expect(b, len, FNN_E_FORMAT, "over the cap");
    free(b);
    s[1].len = 7;
    b = build(v1, s, 3, &len);
    load_expect(b, len, FNN_E_TRUNCATED, "too short for its count");
    free(b);

    /* A huge spec whose parameters the file does not hold is refused before
     * anything is allocated for it (a 1 GiB model from a tiny file). */
    uint8_t big[8];
    put64(big, (uint64_t)16384 * 16384 + 16384);
    sec h[2] = {spec_sec("input:16384,dense:16384"), {TAG("PARM"), 1, big, 8}};
    b = build(v1, h, 2, &len);
    load_expect(b, len, FNN_E_TRUNCATED, "section PARAMS: declares 268451840 floats");
    free(b);
    put64(big, 0);
    b = build(v1, h, 2, &len);
    load_expect(b, len, FNN_E_FORMAT, "declares 0 floats, model spec needs 268451840");
    free(b);

    free(more);
    payloads_free(&p);
    fnn_model_free(m);
}
END_TEST

START_TEST(test_params_numeric)
{
    fnn_model *m = make_model(TINY, 1);
    size_t len;
    uint8_t *b = serialize(m, &len);
    const size_t first = 92 + 8; /* PARAMS payload at 92, floats after the count */

    putf(b + first + 4 * 5, NAN);
    recrc(b, len);
    load_expect(b, len, FNN_E_NUMERIC, "section PARAMS: parameter 5 is NaN");
    putf(b + first + 4 * 5, 0.5f);
    putf(b + first + 4 * 22, -INFINITY);
    recrc(b, len);
    load_expect(b, len, FNN_E_NUMERIC, "parameter 22 is -infinity");
    putf(b + first + 4 * 22, INFINITY);
    recrc(b, len);
    load_expect(b, len, FNN_E_NUMERIC, "parameter 22 is +infinity");
    /* Subnormals and negative zero are ordinary finite values. */
    putf(b + first + 4 * 22, -0.0f);
    putf(b + first, 1e-40f);
    recrc(b, len);
    fnn_model *r = load_expect(b, len, FNN_OK, NULL);
    ck_assert(signbit(r->params[22]) && r->params[22] == 0.0f);
    ck_assert(r->params[0] == 1e-40f);
    fnn_model_free(r);
    free(b);
    fnn_model_free(m);
}
END_TEST

START_TEST(test_bad_spec)
{
    fnn_model *m = make_model(TINY, 1);
    payloads p = payloads_of(m);
    size_t len;
    uint8_t *b;

    sec bad[3] = {spec_sec("input:4,dense:3,bogus:1,dense:2"), params_sec(&p),
                  forget_sec(&p)};
    b = build(v1, bad, 3, &len);
    load_expect(b, len, FNN_E_SPEC, "section SPEC: ");
    free(b);

    sec empty[3] = {spec_sec(""), params_sec(&p), forget_sec(&p)};
    b = build(v1, empty, 3, &len);
    load_expect(b, len, FNN_E_SPEC, "section SPEC: ");
    free(b);

    static const char nul[] = "input:4,dense:3\0,relu,dense:2";
    sec withnul[3] = {{TAG("SPEC"), 1, (const uint8_t *)nul, sizeof nul - 1},
                      params_sec(&p), forget_sec(&p)};
    b = build(v1, withnul, 3, &len);
    load_expect(b, len, FNN_E_FORMAT, "section SPEC: contains a NUL byte at offset 15");
    free(b);

    char *longtext = malloc(FNN__MAX_SPEC + 2);
    ck_assert_ptr_nonnull(longtext);
    memset(longtext, ' ', FNN__MAX_SPEC + 1);
    longtext[FNN__MAX_SPEC + 1] = '\0';
    memcpy(longtext, TINY, strlen(TINY));
    sec toolong[3] = {spec_sec(longtext), params_sec(&p), forget_sec(&p)};
    b = build(v1, toolong, 3, &len);
    load_expect(b, len, FNN_E_FORMAT, "section SPEC: 4097 bytes, over the cap of 4096");
    free(b);
    longtext[FNN__MAX_SPEC] = '\0'; /* exactly at the cap: accepted */
    toolong[0] = spec_sec(longtext);
    b = build(v1, toolong, 3, &len);
    fnn_model_free(load_expect(b, len, FNN_OK, NULL));
    free(b);
    free(longtext);

    /* A valid spec that does not match the parameters. */
    sec other[3] = {spec_sec("input:4,dense:4,relu,dense:2"), params_sec(&p),
                    forget_sec(&p)};
    b = build(v1, other, 3, &len);
    load_expect(b, len, FNN_E_FORMAT, "declares 23 floats, model spec needs 30");
    free(b);
    payloads_free(&p);
    fnn_model_free(m);
}
END_TEST

START_TEST(test_forget_invalid)
{
    fnn_model *m = make_model(TINY, 1);
    set_forget(m, 4);
    size_t len;
    uint8_t *b = serialize(m, &len);
    /* FORGET payload at 208: t, then layer 0 (units, decay_on, 3 tau) from 212. */
    uint8_t *tau0 = b + 220, *on0 = b + 216, *units1 = b + 232;

    putf(tau0 + 4, NAN);
    recrc(b, len);
    load_expect(b, len, FNN_E_NUMERIC, "section FORGET: dense layer 0, unit 1: tau is NaN");
    putf(tau0 + 4, 0.0f);
    recrc(b, len);
    load_expect(b, len, FNN_E_FORMAT, "unit 1: tau is 0, must be > 0");
    putf(tau0 + 4, -0.0f);
    recrc(b, len);
    load_expect(b, len, FNN_E_FORMAT, "must be > 0");
    putf(tau0 + 4, -1.0f);
    recrc(b, len);
    load_expect(b, len, FNN_E_FORMAT, "tau is -1, must be > 0");
    putf(tau0 + 4, -INFINITY);
    recrc(b, len);
    load_expect(b, len, FNN_E_FORMAT, "must be > 0");
    putf(tau0 + 4, 2.0f);

    put32(on0, 2);
    recrc(b, len);
    load_expect(b, len, FNN_E_FORMAT, "dense layer 0: decay_on is 2, must be 0 or 1");
    put32(on0, 1);

    put32(units1, 3);
    recrc(b, len);
    load_expect(b, len, FNN_E_FORMAT, "dense layer 1 has 3 units, model spec has 2");
    put32(units1, 2);
    recrc(b, len);
    fnn_model *r = load_expect(b, len, FNN_OK, NULL);
    ck_assert(r->fl[0].tau[1] == 2.0f);
    ck_assert_int_eq(r->fl[0].on, 1);
    ck_assert_uint_eq(r->t, 4);
    fnn_model_free(r);
    free(b);

    /* FORGET payloads cut short, or too long. */
    payloads p = payloads_of(m);
    sec s[3] = {spec_sec(p.spec), params_sec(&p), forget_sec(&p)};
    const size_t short_lens[] = {0, 3, 4, 11, 12, 23, p.forget_len - 1};
    for (size_t k = 0; k < sizeof short_lens / sizeof short_lens[0]; k++) {
        s[2].len = short_lens[k];
        b = build(v1, s, 3, &len);
        load_expect(b, len, FNN_E_TRUNCATED, "section FORGET: ");
        free(b);
    }
    uint8_t *longer = calloc(1, p.forget_len + 4);
    ck_assert_ptr_nonnull(longer);
    memcpy(longer, p.forget, p.forget_len);
    s[2].data = longer;
    s[2].len = p.forget_len + 4;
    b = build(v1, s, 3, &len);
    load_expect(b, len, FNN_E_FORMAT, "section FORGET: 4 bytes after the last dense layer");
    free(b);
    free(longer);
    payloads_free(&p);
    fnn_model_free(m);
}
END_TEST

START_TEST(test_recipe_section)
{
    /* A trained model's recipe survives the file. */
    fnn_model *m = make_model(TINY, 4);
    float x[8 * 4];
    int32_t y[8];
    for (int i = 0; i < 8; i++) {
        y[i] = i % 2;
        for (int j = 0; j < 4; j++)
            x[i * 4 + j] = (float)((i + j) % 3);
    }
    fnn_dataset *ds = NULL;
    ck_assert_int_eq(fnn_dataset_from_arrays(&ds, x, y, 8, 4, 1, 1, 2, NULL, 0), FNN_OK);
    fnn_train_options *o = NULL;
    ck_assert_int_eq(fnn_train_options_create(&o), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set(o, FNN_TRAIN_EPOCHS, 3), FNN_OK);
    ck_assert_int_eq(fnn_train_options_set_u64(o, FNN_TRAIN_SEED, UINT64_MAX - 5), FNN_OK);
    ck_assert_int_eq(fnn_model_train(m, ds, o), FNN_OK);
    fnn_train_options_free(o);
    fnn_dataset_free(ds);
    size_t len;
    uint8_t *b = serialize(m, &len);
    fnn_model *r = load_expect(b, len, FNN_OK, NULL);
    assert_same_model(m, r);
    ck_assert_uint_eq(r->recipe.calls, 1);
    ck_assert(r->recipe.seed == UINT64_MAX - 5);
    ck_assert_uint_eq(r->recipe.samples, 8);
    fnn_model_free(r);
    /* The writer follows the documented layout. */
    size_t blen;
    uint8_t *doc = build_model(m, &blen);
    ck_assert_uint_eq(blen, len);
    ck_assert(memcmp(doc, b, len) == 0);
    free(doc);
    free(b);

    /* A file without it (as version 0.1 wrote) loads with no recipe. */
    b = build_model_v1_0(m, &len);
    r = load_expect(b, len, FNN_OK, NULL);
    ck_assert_uint_eq(r->recipe.calls, 0);
    ck_assert_int_eq(r->recipe.has_init, 0);
    ck_assert_uint_eq(fnn_model_recipe_calls(r), 0);
    fnn_model_free(r);
    free(b);

    /* Corrupt payloads. */
    payloads p = payloads_of(m);
    sec s[4] = {spec_sec(p.spec), params_sec(&p), forget_sec(&p), recipe_sec(&p)};
    uint8_t *payload = calloc(1, p.recipe_len + 12); /* the long case writes 4 bytes more */
    ck_assert_ptr_nonnull(payload);
    memcpy(payload, p.recipe, p.recipe_len);
    s[3].data = payload;
    const size_t short_lens[] = {0, 35, 36, p.recipe_len - 1};
    for (size_t k = 0; k < sizeof short_lens / sizeof short_lens[0]; k++) {
        s[3].len = short_lens[k];
        b = build(v1, s, 4, &len);
        load_expect(b, len, FNN_E_TRUNCATED, "section RECIPE: ");
        free(b);
    }
    s[3].len = p.recipe_len + 4;
    b = build(v1, s, 4, &len);
    load_expect(b, len, FNN_E_FORMAT, "section RECIPE: ");
    free(b);
    s[3].len = p.recipe_len;
    /* Unknown flags. */
    put32(payload + 4, 3);
    b = build(v1, s, 4, &len);
    load_expect(b, len, FNN_E_FORMAT, "section RECIPE: unknown flags 0x00000002");
    free(b);
    put32(payload + 4, 1);
    /* A value outside its key's domain, and NaN. */
    uint64_t bits;
    double zero = 0.0, nan = NAN;
    memcpy(&bits, &zero, sizeof bits);
    put64(payload + 36 + 4, bits); /* entry 0: epochs = 0 */
    b = build(v1, s, 4, &len);
    load_expect(b, len, FNN_E_FORMAT, "section RECIPE: epochs must be an integer");
    free(b);
    memcpy(&bits, &nan, sizeof bits);
    put64(payload + 36 + 4, bits);
    b = build(v1, s, 4, &len);
    load_expect(b, len, FNN_E_NUMERIC, "section RECIPE: epochs must be");
    free(b);
    memcpy(payload, p.recipe, p.recipe_len);
    /* A key twice. */
    put32(payload + 36 + 12, 0);
    b = build(v1, s, 4, &len);
    load_expect(b, len, FNN_E_FORMAT, "section RECIPE: option 0 appears twice");
    free(b);
    memcpy(payload, p.recipe, p.recipe_len);
    /* An unknown key (a newer writer's) drops the recipe: it cannot be
     * reproduced here. */
    put32(payload + 32, FNN__TRAIN_NKEYS + 1);
    put32(payload + p.recipe_len, 999);
    s[3].len = p.recipe_len + 12;
    b = build(v1, s, 4, &len);
    r = load_expect(b, len, FNN_OK, NULL);
    ck_assert_uint_eq(r->recipe.calls, 0);
    fnn_model_free(r);
    free(b);
    free(payload);
    payloads_free(&p);
    fnn_model_free(m);
}
END_TEST

/* Offset of the payload of the section tagged `tag` in a serialised file,
 * and its length; 0 when absent. */
static size_t find_section(const uint8_t *b, size_t len, const char *tag, size_t *plen,
                           uint32_t *flags)
{
    size_t pos = 32;
    uint32_t n = get32(b + 20);
    for (uint32_t i = 0; i < n && pos + 16 <= len; i++) {
        size_t l = (size_t)get64(b + pos + 8);
        if (get32(b + pos) == TAG(tag)) {
            *plen = l;
            if (flags)
                *flags = get32(b + pos + 4);
            return pos + 16;
        }
        pos += 16 + l + ((4 - l % 4) % 4);
    }
    return 0;
}

START_TEST(test_history_section)
{
    fnn_model *m = make_model(TINY, 2);
    size_t len, plen;
    uint8_t *b = serialize(m, &len);
    ck_assert_uint_eq(find_section(b, len, "HIST", &plen, NULL), 0); /* none yet */
    free(b);
    for (int r = 0; r < 3; r++) {
        fnn__history_rec h;
        memset(&h, 0, sizeof h);
        for (int k = 0; k < FNN__HISTORY_NKEYS; k++)
            h.v[k] = k == FNN_HISTORY_MIA_AFTER ? NAN : r * 100 + k + 0.5;
        for (int k = 0; k < 32; k++)
            h.digest[k] = (uint8_t)(r * 32 + k);
        snprintf(h.version, sizeof h.version, "0.2.%d", r);
        ck_assert_int_eq(fnn__history_append(m, &h), FNN_OK);
    }
    b = serialize(m, &len);
    uint32_t flags = 9;
    size_t at = find_section(b, len, "HIST", &plen, &flags);
    ck_assert_uint_gt(at, 0);
    ck_assert_uint_eq(flags, 0); /* optional: older readers skip it */
    ck_assert_uint_eq(plen, 4 + 3 * (4 + 4 + 8 * FNN__HISTORY_NKEYS + 32 + 16));
    ck_assert_uint_eq(get32(b + 20), 5);
    fnn_model *r = load_expect(b, len, FNN_OK, NULL);
    ck_assert_uint_eq(fnn_model_history_count(r), 3);
    for (size_t i = 0; i < 3; i++) {
        ck_assert(memcmp(&r->history[i], &m->history[i], sizeof m->history[i]) == 0 ||
                  isnan(r->history[i].v[FNN_HISTORY_MIA_AFTER]));
        ck_assert_str_eq(fnn_model_history_version(r, i), m->history[i].version);
        uint8_t d[32];
        ck_assert_int_eq(fnn_model_history_digest(r, i, d), FNN_OK);
        ck_assert_mem_eq(d, m->history[i].digest, 32);
        double v;
        ck_assert_int_eq(fnn_model_history_get(r, i, FNN_HISTORY_FLOPS, &v), FNN_OK);
        ck_assert_double_eq(v, m->history[i].v[FNN_HISTORY_FLOPS]);
    }
    fnn_model_free(r);
    /* An older reader skips the section: without it, the file still loads. */
    payloads p = payloads_of(m);
    sec four[4] = {spec_sec(p.spec), params_sec(&p), forget_sec(&p), recipe_sec(&p)};
    size_t l4;
    uint8_t *b4 = build(v1, four, 4, &l4);
    r = load_expect(b4, l4, FNN_OK, NULL);
    ck_assert_uint_eq(fnn_model_history_count(r), 0);
    fnn_model_free(r);
    free(b4);

    /* Corruptions, each with a recomputed checksum. */
    uint8_t *c = malloc(len);
    ck_assert_ptr_nonnull(c);
#define CORRUPT(offset, value, status, part)                                           \
    do {                                                                               \
        memcpy(c, b, len);                                                             \
        put32(c + (offset), (value));                                                  \
        recrc(c, len);                                                                 \
        load_expect(c, len, (status), (part));                                         \
    } while (0)
    CORRUPT(at, 70000, FNN_E_FORMAT, "section HISTORY: 70000 records, over the cap");
    CORRUPT(at, 64, FNN_E_TRUNCATED, "section HISTORY: 64 records cannot fit");
    CORRUPT(at, 4, FNN_E_TRUNCATED, "section HISTORY: ends before record 3");
    CORRUPT(at, 2, FNN_E_FORMAT, "bytes after the last record");
    CORRUPT(at + 4, 100000, FNN_E_TRUNCATED, "record 0 declares 100000 bytes");
    CORRUPT(at + 8, 99, FNN_E_FORMAT, "record 0: 99 keys do not fit");
    /* Shorter than its own key count: no unsigned wrap may let it through. */
    CORRUPT(at + 4, 2, FNN_E_FORMAT, "record 0 declares 2 bytes, fewer than the 52");
    CORRUPT(at + 4, 0, FNN_E_FORMAT, "record 0 declares 0 bytes");
    /* An unterminated or unprintable version. */
    size_t ver = at + 4 + 8 + 8 * FNN__HISTORY_NKEYS + 32;
    memcpy(c, b, len);
    memset(c + ver, 'x', 16);
    recrc(c, len);
    load_expect(c, len, FNN_E_FORMAT, "record 0: the version is not terminated");
    memcpy(c, b, len);
    c[ver] = 0x1b;
    recrc(c, len);
    load_expect(c, len, FNN_E_FORMAT, "record 0: the version holds byte 0x1b");
#undef CORRUPT
    free(c);

    /* Records written with fewer keys read NaN for the rest; longer records
     * (a newer writer's) have their extra bytes skipped. */
    size_t rec = 4 + 8 * 2 + 32 + 16, rec2 = 4 + 8 * FNN__HISTORY_NKEYS + 32 + 16 + 8;
    size_t hl = 4 + 4 + rec + 4 + rec2;
    uint8_t *hp = calloc(1, hl);
    ck_assert_ptr_nonnull(hp);
    put32(hp, 2);
    put32(hp + 4, (uint32_t)rec);
    put32(hp + 8, 2);
    uint64_t bits;
    double five = 5.0;
    memcpy(&bits, &five, sizeof bits);
    put64(hp + 12, bits);
    put64(hp + 20, bits);
    memcpy(hp + 28 + 32, "0.1.9", 5);
    size_t o2 = 4 + 4 + rec;
    put32(hp + o2, (uint32_t)rec2);
    put32(hp + o2 + 4, FNN__HISTORY_NKEYS);
    memcpy(hp + o2 + 8 + 8 * FNN__HISTORY_NKEYS + 32, "9.9.9", 5);
    sec five_secs[5] = {spec_sec(p.spec), params_sec(&p), forget_sec(&p), recipe_sec(&p),
                        {TAG("HIST"), 0, hp, hl}};
    b4 = build(v1, five_secs, 5, &l4);
    r = load_expect(b4, l4, FNN_OK, NULL);
    ck_assert_uint_eq(fnn_model_history_count(r), 2);
    double v;
    ck_assert_int_eq(fnn_model_history_get(r, 0, 1, &v), FNN_OK);
    ck_assert_double_eq(v, 5.0);
    ck_assert_int_eq(fnn_model_history_get(r, 0, 2, &v), FNN_OK);
    ck_assert(isnan(v));
    ck_assert_str_eq(fnn_model_history_version(r, 1), "9.9.9");
    fnn_model_free(r);
    free(b4);
    free(hp);
    payloads_free(&p);
    free(b);
    fnn_model_free(m);
}
END_TEST

/* ---- arguments and files ------------------------------------------------------------ */

START_TEST(test_null_args)
{
    fnn_model *m = make_model(TINY, 1), *r = (fnn_model *)&r;
    char err[256];
    size_t needed;
    uint8_t *buf;
    size_t len;

    ck_assert_int_eq(fnn_model_save(NULL, "/tmp/x.fnn"), FNN_E_NULL);
    ck_assert_int_eq(fnn_model_save(m, NULL), FNN_E_NULL);
    ck_assert_str_eq(fnn_model_errmsg(m), "path is NULL");
    ck_assert_int_eq(fnn_model_load(NULL, "/tmp/x.fnn", err, sizeof err), FNN_E_NULL);
    ck_assert_int_eq(fnn_model_load(&r, NULL, err, sizeof err), FNN_E_NULL);
    ck_assert_ptr_null(r);
    ck_assert_str_eq(err, "path is NULL");
    r = (fnn_model *)&r;
    ck_assert_int_eq(fnn_model_load_buffer(&r, NULL, 10, err, sizeof err), FNN_E_NULL);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(fnn_model_load_buffer(NULL, "x", 1, NULL, 0), FNN_E_NULL);
    ck_assert_int_eq(fnn_model_save_buffer(NULL, NULL, 0, &needed), FNN_E_NULL);
    ck_assert_int_eq(fnn_model_save_buffer(m, NULL, 0, NULL), FNN_E_NULL);
    ck_assert_int_eq(fnn_model_save_buffer(m, NULL, 5, &needed), FNN_E_NULL);
    ck_assert_int_eq(fnn__model_serialize(NULL, &buf, &len), FNN_E_NULL);
    ck_assert_int_eq(fnn__model_serialize(m, NULL, &len), FNN_E_NULL);
    /* No err buffer is fine. */
    ck_assert_int_eq(fnn_model_load_buffer(&r, "GIF89a", 6, NULL, 0), FNN_E_FORMAT);
    ck_assert_int_eq(fnn_model_load(&r, "/nonexistent/x.fnn", NULL, 0), FNN_E_IO);
    fnn_model_free(m);
}
END_TEST

START_TEST(test_load_io_errors)
{
    char dir[64], path[128], err[256], want[256];
    fnn_model *r = (fnn_model *)&r;
    make_tmpdir(dir, sizeof dir);

    snprintf(path, sizeof path, "%s/missing.fnn", dir);
    ck_assert_int_eq(fnn_model_load(&r, path, err, sizeof err), FNN_E_IO);
    ck_assert_ptr_null(r);
    snprintf(want, sizeof want, "cannot open '%s': %s", path, strerror(ENOENT));
    ck_assert_str_eq(err, want);

    /* A directory opens but cannot be read. */
    ck_assert_int_eq(fnn_model_load(&r, dir, err, sizeof err), FNN_E_IO);
    snprintf(want, sizeof want, "cannot read '%s': %s", dir, strerror(EISDIR));
    ck_assert_str_eq(err, want);

    /* An empty file is a truncated one. */
    snprintf(path, sizeof path, "%s/empty.fnn", dir);
    write_file(path, "", 0);
    ck_assert_int_eq(fnn_model_load(&r, path, err, sizeof err), FNN_E_TRUNCATED);

    /* A (sparse) file over the 4 GiB cap is refused before it is read. */
    snprintf(path, sizeof path, "%s/huge.fnn", dir);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(ftruncate(fileno(f), (off_t)((1ll << 32) + 1)), 0);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_eq(fnn_model_load(&r, path, err, sizeof err), FNN_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "is 4294967297 bytes, over the 4 GiB cap"));
    ck_assert_int_eq(unlink(path), 0);

    /* A corrupt file reports as the buffer loader does. */
    snprintf(path, sizeof path, "%s/empty.fnn", dir);
    fnn_model *m = make_model(TINY, 1);
    size_t len;
    uint8_t *b = serialize(m, &len);
    b[100] ^= 0xff;
    write_file(path, b, len);
    ck_assert_int_eq(fnn_model_load(&r, path, err, sizeof err), FNN_E_CHECKSUM);
    ck_assert_ptr_nonnull(strstr(err, "checksum mismatch"));
    free(b);
    fnn_model_free(m);
    remove_tree(dir);
}
END_TEST

START_TEST(test_save_bad_parent)
{
    char dir[64], path[160], want[256];
    fnn_model *m = make_model(TINY, 1);
    make_tmpdir(dir, sizeof dir);

    /* The parent is a regular file (root ignores permission bits, not this). */
    snprintf(path, sizeof path, "%s/plain", dir);
    write_file(path, "x", 1);
    snprintf(path, sizeof path, "%s/plain/model.fnn", dir);
    ck_assert_int_eq(fnn_model_save(m, path), FNN_E_IO);
    snprintf(want, sizeof want, "cannot create a temporary file for '%s': %s", path,
             strerror(ENOTDIR));
    ck_assert_str_eq(fnn_model_errmsg(m), want);

    /* The parent does not exist. */
    snprintf(path, sizeof path, "%s/nodir/model.fnn", dir);
    ck_assert_int_eq(fnn_model_save(m, path), FNN_E_IO);
    ck_assert_ptr_nonnull(strstr(fnn_model_errmsg(m), strerror(ENOENT)));

    ck_assert_int_eq(count_entries(dir, NULL, 0), 1); /* only "plain" */
    fnn_model_free(m);
    remove_tree(dir);
}
END_TEST

/* Writes an old file at path and checks, after a failed save, that it is
 * byte-identical and the only entry of dir. */
static void expect_failed_save_keeps_old(fnn_model *m, const char *dir, const char *path,
                                         const char *msg_part)
{
    static const char old[] = "previous model file contents";
    size_t len;
    char only[300];
    write_file(path, old, sizeof old);
    ck_assert_int_eq(fnn_model_save(m, path), FNN_E_IO);
    ck_assert_msg(strstr(fnn_model_errmsg(m), msg_part) != NULL, "message '%s' lacks '%s'",
                  fnn_model_errmsg(m), msg_part);
    uint8_t *b = read_file(path, &len);
    ck_assert_uint_eq(len, sizeof old);
    ck_assert(memcmp(b, old, len) == 0);
    free(b);
    ck_assert_int_eq(count_entries(dir, only, sizeof only), 1);
    ck_assert_str_eq(only, strrchr(path, '/') + 1);
}

START_TEST(test_save_name_too_long_keeps_old)
{
    /* A 250-byte name is valid, its 261-byte temporary name is not. */
    char dir[64], path[400], name[251];
    fnn_model *m = make_model(TINY, 1);
    make_tmpdir(dir, sizeof dir);
    memset(name, 'm', 250);
    name[250] = '\0';
    snprintf(path, sizeof path, "%s/%s", dir, name);
    expect_failed_save_keeps_old(m, dir, path, strerror(ENAMETOOLONG));
    ck_assert_ptr_nonnull(strstr(fnn_model_errmsg(m), "for '...mmm"));
    fnn_model_free(m);
    remove_tree(dir);
}
END_TEST

START_TEST(test_save_write_error_keeps_old)
{
    /* A file size limit makes write() fail with EFBIG after the temporary file
     * exists: it must be removed and the old file left alone. Check runs each
     * test in its own process; the limit is restored anyway. */
    char dir[64], path[128];
    struct rlimit old_lim, lim;
    fnn_model *m = make_model("mlp", 1);
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/model.fnn", dir);

    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old_lim), 0);
    lim = old_lim;
    lim.rlim_cur = 4096;
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    expect_failed_save_keeps_old(m, dir, path, strerror(EFBIG));
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old_lim), 0);
    signal(SIGXFSZ, old_handler);
    ck_assert_ptr_nonnull(strstr(fnn_model_errmsg(m), "cannot write"));

    fnn_model_free(m);
    remove_tree(dir);
}
END_TEST

START_TEST(test_save_over_directory)
{
    /* rename() cannot replace a non-empty directory: the temporary goes. */
    char dir[64], path[128], inner[160];
    fnn_model *m = make_model(TINY, 1);
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/model.fnn", dir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    snprintf(inner, sizeof inner, "%s/keep", path);
    write_file(inner, "k", 1);
    ck_assert_int_eq(fnn_model_save(m, path), FNN_E_IO);
    ck_assert_ptr_nonnull(strstr(fnn_model_errmsg(m), "cannot rename over"));
    ck_assert_int_eq(count_entries(dir, NULL, 0), 1);
    ck_assert_int_eq(count_entries(path, NULL, 0), 1);
    fnn_model_free(m);
    remove_tree(dir);
}
END_TEST

START_TEST(test_save_replaces)
{
    char dir[64], path[128], err[256];
    fnn_model *a = make_model(TINY, 1), *b = make_model("input:5,dense:2", 2), *r;
    set_forget(b, 9);
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/model.fnn", dir);

    ck_assert_int_eq(fnn_model_save(a, path), FNN_OK);
    ck_assert_int_eq(chmod(path, 0640), 0);
    ck_assert_int_eq(fnn_model_save(b, path), FNN_OK);
    ck_assert_int_eq(fnn_model_load(&r, path, err, sizeof err), FNN_OK);
    assert_same_model(b, r);
    fnn_model_free(r);

    /* The replacement keeps the old file's permissions; nothing else is left. */
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0640);
    ck_assert_int_eq(count_entries(dir, NULL, 0), 1);

    /* A relative path (no directory part) works too. */
    char cwd[4096];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_int_eq(chdir(dir), 0);
    ck_assert_int_eq(fnn_model_save(a, "model.fnn"), FNN_OK);
    ck_assert_int_eq(fnn_model_load(&r, "model.fnn", err, sizeof err), FNN_OK);
    ck_assert_int_eq(chdir(cwd), 0);
    assert_same_model(a, r);
    fnn_model_free(r);
    ck_assert_int_eq(count_entries(dir, NULL, 0), 1);

    fnn_model_free(a);
    fnn_model_free(b);
    remove_tree(dir);
}
END_TEST

START_TEST(test_save_refuses_non_finite)
{
    /* What the loaders refuse is never written. A model reaches such a state
     * through no call of the API (each checks what it changes); the white-box
     * test sets it directly. */
    char dir[64], path[128];
    static const char old[] = "previous model file contents";
    fnn_model *m = make_model(TINY, 1);
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/model.fnn", dir);
    write_file(path, old, sizeof old);
    size_t needed = 7, len;
    float keep = m->params[3];
    static const struct {
        float value;
        const char *msg;
    } bad[] = {{NAN, "parameter 3 is NaN"}, {INFINITY, "parameter 3 is infinite"},
               {-INFINITY, "parameter 3 is infinite"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        m->params[3] = bad[i].value;
        ck_assert_int_eq(fnn_model_save(m, path), FNN_E_NUMERIC);
        ck_assert_ptr_nonnull(strstr(fnn_model_errmsg(m), bad[i].msg));
        ck_assert_int_eq(fnn_model_save_buffer(m, NULL, 0, &needed), FNN_E_NUMERIC);
        ck_assert_uint_eq(needed, 0);
    }
    m->params[3] = keep;
    m->fl[0].tau[1] = NAN;
    ck_assert_int_eq(fnn_model_save_buffer(m, NULL, 0, &needed), FNN_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(fnn_model_errmsg(m), "dense layer 0, unit 1: tau is nan"));
    m->fl[0].tau[1] = -1.0f;
    ck_assert_int_eq(fnn_model_save(m, path), FNN_E_STATE);
    m->fl[0].tau[1] = INFINITY;
    /* The old file is untouched and alone; the model saves once it is whole. */
    uint8_t *b = read_file(path, &len);
    ck_assert_uint_eq(len, sizeof old);
    ck_assert(memcmp(b, old, len) == 0);
    free(b);
    ck_assert_int_eq(count_entries(dir, NULL, 0), 1);
    ck_assert_int_eq(fnn_model_save(m, path), FNN_OK);
    fnn_model_free(m);
    remove_tree(dir);
}
END_TEST

static Suite *format_suite(void)
{
    Suite *s = suite_create("format");
    TCase *tc = tcase_create("roundtrip");
    tcase_add_loop_test(tc, test_roundtrip_file, 0,
                        (int)(sizeof roundtrip_specs / sizeof roundtrip_specs[0]));
    tcase_add_test(tc, test_roundtrip_buffer);
    tcase_add_test(tc, test_documented_header);
    suite_add_tcase(s, tc);

    tc = tcase_create("corrupt");
    tcase_add_test(tc, test_bad_magic);
    tcase_add_test(tc, test_checksum);
    tcase_add_test(tc, test_truncated);
    tcase_add_test(tc, test_trailing_bytes);
    tcase_add_test(tc, test_flags_and_version);
    tcase_add_test(tc, test_unknown_sections);
    tcase_add_test(tc, test_recipe_section);
    tcase_add_test(tc, test_history_section);
    tcase_add_test(tc, test_section_set);
    tcase_add_test(tc, test_section_bounds);
    tcase_add_test(tc, test_params_count);
    tcase_add_test(tc, test_params_numeric);
    tcase_add_test(tc, test_bad_spec);
    tcase_add_test(tc, test_forget_invalid);
    suite_add_tcase(s, tc);

    tc = tcase_create("files");
    tcase_add_test(tc, test_null_args);
    tcase_add_test(tc, test_load_io_errors);
    tcase_add_test(tc, test_save_bad_parent);
    tcase_add_test(tc, test_save_name_too_long_keeps_old);
    tcase_add_test(tc, test_save_write_error_keeps_old);
    tcase_add_test(tc, test_save_over_directory);
    tcase_add_test(tc, test_save_replaces);
    tcase_add_test(tc, test_save_refuses_non_finite);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fnn_test_main(format_suite());
}
