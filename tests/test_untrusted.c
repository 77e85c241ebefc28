/* Untrusted files (docs/SECURITY.md): loaders do work and take memory in
 * proportion to what a file plausibly holds, not to what it expands to or
 * claims, whatever kind of file it is (regular, sparse, gzip bomb, pipe,
 * device); messages never carry a file's control bytes; the data-set
 * directory loader reports the file it really tried.
 *
 * The expensive inputs run in a child process whose address space may grow by
 * at most 100 MiB (except under a sanitizer or valgrind, whose own mappings an
 * address-space limit would break): a loader that read a gzip bomb or a 4 GiB
 * sparse file into memory fails there with another status than the one
 * asserted. White-box: links the library objects. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#ifdef HAVE_VALGRIND_VALGRIND_H
#include <valgrind/valgrind.h>
#endif

#include "internal.h"
#include "scratch.h"
#include "testutil.h"

#define TINY "input:4,dense:3,relu,dense:2" /* 28 bytes, 23 parameters */
#define GIB4 ((uint64_t)1 << 32)
#define MIB ((size_t)1 << 20)

/* ---- environment -------------------------------------------------------------- */

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

/* Whether an address-space limit can be imposed on this process. */
static int can_limit_memory(void)
{
#ifdef RUNNING_ON_VALGRIND
    if (RUNNING_ON_VALGRIND)
        return 0;
#endif
    return !SANITIZED;
}

static const char *write_bytes(const char *name, const void *data, size_t len)
{
    const char *path = tpath(name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

/* ---- loads in a child with an address-space limit ---------------------------------- */

typedef int (*load_fn)(const void *arg, char *err, size_t err_size);

/* The process's address-space size, from /proc/self/statm. */
static size_t address_space(void)
{
    unsigned long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%lu", &pages) != 1)
        pages = 0;
    if (f)
        fclose(f);
    return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}

/* Runs fn in a child whose address space may grow by at most 100 MiB (where
 * a limit can be imposed); returns fn's status and leaves its message in
 * err. The child must exit normally. */
static int run_bounded(load_fn fn, const void *arg, char *err, size_t err_size)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char msg[FNN__ERRMSG_SIZE] = "";
        int rc;
        close(fds[0]);
        if (can_limit_memory()) {
            size_t now = address_space();
            struct rlimit lim = {.rlim_cur = now + 100 * MIB, .rlim_max = now + 100 * MIB};
            if (now == 0 || setrlimit(RLIMIT_AS, &lim) != 0)
                _exit(3);
        }
        rc = fn(arg, msg, sizeof msg);
        if (write(fds[1], &rc, sizeof rc) != (ssize_t)sizeof rc ||
            write(fds[1], msg, sizeof msg) != (ssize_t)sizeof msg)
            _exit(4);
        _exit(0);
    }
    close(fds[1]);
    int rc = 1;
    char msg[FNN__ERRMSG_SIZE] = "";
    ssize_t a = read(fds[0], &rc, sizeof rc), b = read(fds[0], msg, sizeof msg);
    close(fds[0]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "the bounded child did not exit normally (status 0x%x)", status);
    ck_assert_int_eq(a, (ssize_t)sizeof rc);
    ck_assert_int_eq(b, (ssize_t)sizeof msg);
    msg[sizeof msg - 1] = '\0';
    snprintf(err, err_size, "%s", msg);
    return rc;
}

/* ---- FIFOs fed by a child ----------------------------------------------------------- */

/* Makes a FIFO and a child that writes data into it, then zeros without end
 * when `endless`, until the reader goes away. Returns the child's pid. */
static pid_t feed_fifo(const char *path, const void *data, size_t len, int endless)
{
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        static const uint8_t zeros[65536];
        signal(SIGPIPE, SIG_DFL);
        int fd = open(path, O_WRONLY);
        if (fd < 0)
            _exit(1);
        const uint8_t *p = data;
        while (len > 0) {
            ssize_t w = write(fd, p, len);
            if (w <= 0)
                _exit(0);
            p += w;
            len -= (size_t)w;
        }
        while (endless)
            if (write(fd, zeros, sizeof zeros) <= 0)
                _exit(0);
        _exit(0);
    }
    return pid;
}

/* Stops a feeder (which may still wait for a reader) and removes its FIFO. */
static void end_feed(pid_t pid, const char *path)
{
    kill(pid, SIGKILL);
    ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
    ck_assert_int_eq(unlink(path), 0);
}

/* ---- IDX files ---------------------------------------------------------------------- */

static size_t idx_header(uint8_t *buf, unsigned ndims, const uint32_t *dims)
{
    size_t n = 0;
    buf[n++] = 0;
    buf[n++] = 0;
    buf[n++] = 0x08;
    buf[n++] = (uint8_t)ndims;
    for (unsigned i = 0; i < ndims; i++) {
        buf[n++] = (uint8_t)(dims[i] >> 24);
        buf[n++] = (uint8_t)(dims[i] >> 16);
        buf[n++] = (uint8_t)(dims[i] >> 8);
        buf[n++] = (uint8_t)dims[i];
    }
    return n;
}

/* Writes a valid gzip file whose content is head[0..head_len) followed by
 * zero_mib MiB of zeros. Made cheaply: a MiB of zeros deflated between two
 * full flushes is a self-contained run of blocks, written zero_mib times. */
static const char *write_bomb(const char *name, const uint8_t *head, size_t head_len,
                              size_t zero_mib)
{
    static const uint8_t gz_header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    static uint8_t zeros[1 << 20];
    uint8_t *out = malloc(1 << 16);
    ck_assert_ptr_nonnull(out);
    const char *path = tpath(name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(gz_header, 1, sizeof gz_header, f), sizeof gz_header);

    z_stream zs;
    memset(&zs, 0, sizeof zs);
    ck_assert_int_eq(deflateInit2(&zs, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
    const struct {
        const uint8_t *p;
        size_t n;
        int flush;
    } parts[3] = {{head, head_len, Z_FULL_FLUSH}, {zeros, sizeof zeros, Z_FULL_FLUSH},
                  {zeros, 0, Z_FINISH}};
    for (int k = 0; k < 3; k++) {
        zs.next_in = (Bytef *)(uintptr_t)parts[k].p;
        zs.avail_in = (uInt)parts[k].n;
        zs.next_out = out;
        zs.avail_out = 1 << 16;
        int z = deflate(&zs, parts[k].flush);
        ck_assert_int_eq(z, k == 2 ? Z_STREAM_END : Z_OK);
        ck_assert_uint_eq(zs.avail_in, 0);
        size_t n = (1u << 16) - zs.avail_out;
        for (size_t i = 0; i < (k == 1 ? zero_mib : 1); i++)
            ck_assert_uint_eq(fwrite(out, 1, n, f), n);
    }
    deflateEnd(&zs);

    uLong crc = crc32(0L, head, (uInt)head_len), crc_mib = crc32(0L, zeros, sizeof zeros);
    for (size_t i = 0; i < zero_mib; i++)
        crc = crc32_combine(crc, crc_mib, sizeof zeros);
    uint64_t total = head_len + (uint64_t)zero_mib * sizeof zeros;
    uint8_t trailer[8];
    for (int i = 0; i < 4; i++) {
        trailer[i] = (uint8_t)(crc >> (8 * i));
        trailer[4 + i] = (uint8_t)(total >> (8 * i));
    }
    ck_assert_uint_eq(fwrite(trailer, 1, 8, f), 8);
    ck_assert_int_eq(fclose(f), 0);
    free(out);
    return path;
}

typedef struct pair_arg {
    const char *images, *labels;
} pair_arg;

static int load_pair(const void *arg, char *err, size_t err_size)
{
    const pair_arg *p = arg;
    fnn_dataset *ds = (fnn_dataset *)&ds;
    int rc = fnn_dataset_load_idx(&ds, p->images, p->labels, 10, err, err_size);
    if ((rc == FNN_OK) != (ds != NULL))
        return 999; /* the handle must be set exactly on success */
    fnn_dataset_free(ds);
    return rc;
}

/* 60000 labels, as in MNIST's training half. */
static const char *write_labels(const char *name)
{
    static uint8_t lbl[8 + 60000];
    const uint32_t dims[1] = {60000};
    size_t n = idx_header(lbl, 1, dims);
    for (size_t i = 0; i < 60000; i++)
        lbl[n + i] = (uint8_t)(i % 10);
    return write_bytes(name, lbl, sizeof lbl);
}

START_TEST(idx_gzip_bomb)
{
    /* MNIST's header (47 MB of pixels declared), then 4 GiB of zeros in a
     * 4 MB gzip file. Reading stops one byte after the declared pixels. */
    uint8_t head[16];
    const uint32_t dims[3] = {60000, 28, 28};
    idx_header(head, 3, dims);
    pair_arg p = {write_bomb("bomb.gz", head, sizeof head, 4096), write_labels("labels")};
    struct stat st;
    ck_assert_int_eq(stat(p.images, &st), 0);
    ck_assert_int_lt(st.st_size, 5 * (off_t)MIB);
    char err[256], want[256];
    ck_assert_int_eq(run_bounded(load_pair, &p, err, sizeof err), FNN_E_FORMAT);
    snprintf(want, sizeof want,
             "%s: trailing bytes after the 47040000 data bytes the header declares", p.images);
    ck_assert_str_eq(err, want);

    /* The same bomb as labels, after valid images. */
    const uint32_t ldims[1] = {60000}, idims[3] = {60000, 1, 1};
    uint8_t lhead[8], *img = calloc(1, 16 + 60000);
    ck_assert_ptr_nonnull(img);
    idx_header(lhead, 1, ldims);
    idx_header(img, 3, idims);
    pair_arg q = {write_bytes("images", img, 16 + 60000),
                  write_bomb("lbomb.gz", lhead, sizeof lhead, 4096)};
    free(img);
    ck_assert_int_eq(run_bounded(load_pair, &q, err, sizeof err), FNN_E_FORMAT);
    snprintf(want, sizeof want,
             "%s: trailing bytes after the 60000 data bytes the header declares", q.labels);
    ck_assert_str_eq(err, want);

    /* A bomb whose header itself declares more than the 16 GiB cap. */
    const uint32_t huge[3] = {UINT32_MAX, 65536, 65536};
    idx_header(head, 3, huge);
    pair_arg r = {write_bomb("huge.gz", head, sizeof head, 64), p.labels};
    ck_assert_int_eq(run_bounded(load_pair, &r, err, sizeof err), FNN_E_FORMAT);
    snprintf(want, sizeof want,
             "%s: header declares 18446744069414584320 data bytes, over the limit of "
             "17179869184 bytes for a file",
             r.images);
    ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(idx_gzip_exact_and_short)
{
    /* The bomb's construction is a valid gzip file: with a header that
     * declares all of it, it loads. */
    uint8_t head[16];
    const uint32_t dims[3] = {1, 1024, 1024}, ldims[1] = {1};
    idx_header(head, 3, dims);
    uint8_t lbl[9];
    idx_header(lbl, 1, ldims);
    lbl[8] = 7;
    pair_arg p = {write_bomb("one.gz", head, sizeof head, 1), write_bytes("lbl", lbl, 9)};
    char err[256] = "", want[256];
    ck_assert_msg(run_bounded(load_pair, &p, err, sizeof err) == FNN_OK, "%s", err);
    /* Two MiB declared, one present. */
    const uint32_t two[3] = {2, 1024, 1024}, ltwo[1] = {2};
    idx_header(head, 3, two);
    uint8_t lbl2[10] = {0};
    idx_header(lbl2, 1, ltwo);
    pair_arg q = {write_bomb("short.gz", head, sizeof head, 1), write_bytes("lbl2", lbl2, 10)};
    ck_assert_int_eq(run_bounded(load_pair, &q, err, sizeof err), FNN_E_TRUNCATED);
    snprintf(want, sizeof want, "%s: truncated: header declares 2097152 data bytes, 1048576 "
             "present", q.images);
    ck_assert_str_eq(err, want);
}
END_TEST

/* Three 2 x 3 images and their labels, raw. */
static const uint8_t PIX[18] = {0, 255, 128, 1, 2, 3, 10, 20, 30, 40, 50, 60,
                                255, 254, 253, 0, 127, 129};
static const uint8_t LBL[3] = {0, 9, 3};

static size_t small_images(uint8_t *buf)
{
    const uint32_t dims[3] = {3, 2, 3};
    size_t n = idx_header(buf, 3, dims);
    memcpy(buf + n, PIX, sizeof PIX);
    return n + sizeof PIX;
}

static size_t small_labels(uint8_t *buf)
{
    const uint32_t dims[1] = {3};
    size_t n = idx_header(buf, 1, dims);
    memcpy(buf + n, LBL, sizeof LBL);
    return n + sizeof LBL;
}

/* gzip of data into a malloc'ed buffer. */
static uint8_t *gzip(const void *data, size_t len, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    ck_assert_int_eq(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
                     Z_OK);
    size_t cap = deflateBound(&zs, (uLong)len) + 32;
    uint8_t *out = malloc(cap);
    ck_assert_ptr_nonnull(out);
    zs.next_in = (Bytef *)(uintptr_t)data;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
    *out_len = cap - zs.avail_out;
    deflateEnd(&zs);
    return out;
}

START_TEST(idx_pipes)
{
    uint8_t img[64], lbl[16];
    size_t il = small_images(img), ll = small_labels(lbl);
    const char *lp = write_bytes("lbl", lbl, ll), *fifo = tpath("fifo");
    pair_arg p = {fifo, lp};
    char err[256], want[256];
    fnn_dataset *ds = NULL;

    /* Through a pipe, raw and gzip, the same data set as from a file. */
    pid_t pid = feed_fifo(fifo, img, il, 0);
    ck_assert_msg(fnn_dataset_load_idx(&ds, fifo, lp, 10, err, sizeof err) == FNN_OK, "%s",
                  err);
    end_feed(pid, fifo);
    float x[18];
    int32_t y[3];
    ck_assert_int_eq(fnn_dataset_features(ds, x, 18), FNN_OK);
    ck_assert_int_eq(fnn_dataset_labels(ds, y, 3), FNN_OK);
    for (int k = 0; k < 18; k++)
        ck_assert_float_eq(x[k], (float)PIX[k] * (1.0f / 255.0f));
    ck_assert_int_eq(y[1], 9);
    fnn_dataset_free(ds);
    size_t glen;
    uint8_t *g = gzip(img, il, &glen);
    pid = feed_fifo(fifo, g, glen, 0);
    ck_assert_msg(fnn_dataset_load_idx(&ds, fifo, lp, 10, err, sizeof err) == FNN_OK, "%s",
                  err);
    end_feed(pid, fifo);
    fnn_dataset_free(ds);
    free(g);

    /* One byte short, and then endless bytes after the data. */
    pid = feed_fifo(fifo, img, il - 1, 0);
    ck_assert_int_eq(run_bounded(load_pair, &p, err, sizeof err), FNN_E_TRUNCATED);
    end_feed(pid, fifo);
    snprintf(want, sizeof want, "%s: truncated: header declares 18 data bytes, 17 present",
             fifo);
    ck_assert_str_eq(err, want);
    pid = feed_fifo(fifo, img, il, 1);
    ck_assert_int_eq(run_bounded(load_pair, &p, err, sizeof err), FNN_E_FORMAT);
    end_feed(pid, fifo);
    snprintf(want, sizeof want,
             "%s: trailing bytes after the 18 data bytes the header declares", fifo);
    ck_assert_str_eq(err, want);

    /* A header that promises 47 MB, then a pipe that never ends. */
    uint8_t head[16];
    const uint32_t dims[3] = {60000, 28, 28};
    idx_header(head, 3, dims);
    pair_arg q = {fifo, write_labels("labels")};
    pid = feed_fifo(fifo, head, sizeof head, 1);
    ck_assert_int_eq(run_bounded(load_pair, &q, err, sizeof err), FNN_E_FORMAT);
    end_feed(pid, fifo);
    ck_assert_ptr_nonnull(strstr(err, "trailing bytes after the 47040000 data bytes"));
}
END_TEST

START_TEST(idx_devices)
{
    uint8_t lbl[16];
    const char *lp = write_bytes("lbl", lbl, small_labels(lbl));
    pair_arg p = {"/dev/zero", lp};
    char err[256];
    ck_assert_int_eq(run_bounded(load_pair, &p, err, sizeof err), FNN_E_FORMAT);
    ck_assert_str_eq(err, "/dev/zero: element type 0x00 is not supported (only 0x08, "
                          "unsigned byte)");
    p.images = "/dev/null";
    ck_assert_int_eq(run_bounded(load_pair, &p, err, sizeof err), FNN_E_TRUNCATED);
    ck_assert_str_eq(err, "/dev/null: truncated: 0 bytes, an IDX header needs at least 4");
    /* Labels from /dev/zero: their header is bad before any image data is read. */
    uint8_t img[64];
    pair_arg q = {write_bytes("img", img, small_images(img)), "/dev/zero"};
    ck_assert_int_eq(run_bounded(load_pair, &q, err, sizeof err), FNN_E_FORMAT);
    ck_assert_str_eq(err, "/dev/zero: element type 0x00 is not supported (only 0x08, "
                          "unsigned byte)");
}
END_TEST

START_TEST(idx_headers_before_data)
{
    /* A count mismatch is found from the two headers alone: the image file
     * claims far more data than it holds, and that is not what is reported. */
    uint8_t img[16], lbl[16];
    const uint32_t dims[3] = {60000, 28, 28};
    size_t il = idx_header(img, 3, dims), ll = small_labels(lbl);
    const char *ip = write_bytes("img", img, il), *lp = write_bytes("lbl", lbl, ll);
    char err[256], want[256];
    fnn_dataset *ds = NULL;
    ck_assert_int_eq(fnn_dataset_load_idx(&ds, ip, lp, 10, err, sizeof err), FNN_E_SHAPE);
    snprintf(want, sizeof want, "image count 60000 (%s) differs from label count 3 (%s)", ip,
             lp);
    ck_assert_str_eq(err, want);
    /* Labels given as images: the dimensions are refused before the data. */
    ck_assert_int_eq(fnn_dataset_load_idx(&ds, lp, ip, 10, err, sizeof err), FNN_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "1 dimensions, images need 3"));
    ck_assert_ptr_null(ds);
}
END_TEST

/* ---- model files ----------------------------------------------------------------------- */

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

#define TAG(s) ((uint32_t)(uint8_t)(s)[0] | (uint32_t)(uint8_t)(s)[1] << 8 |                  \
                (uint32_t)(uint8_t)(s)[2] << 16 | (uint32_t)(uint8_t)(s)[3] << 24)

/* The 32-byte header of docs/FORMAT.md. */
static void put_header(uint8_t *b, uint32_t nsec, uint64_t total)
{
    memcpy(b, "\x89" "FNN\r\n\x1a\n", 8);
    put32(b + 8, 1);
    put32(b + 12, 0);
    put32(b + 16, 0);
    put32(b + 20, nsec);
    put64(b + 24, total);
}

/* A section header at b; returns the bytes it takes. */
static size_t put_section(uint8_t *b, const char *tag, uint32_t flags, uint64_t len)
{
    put32(b, TAG(tag));
    put32(b + 4, flags);
    put64(b + 8, len);
    return 16;
}

/* A 4 GiB (or `total`-byte) sparse file whose first bytes are front[0..n)
 * and whose bytes at tail_off are tail[0..tail_n). */
static const char *write_sparse(const char *name, const uint8_t *front, size_t n,
                                uint64_t total, uint64_t tail_off, const uint8_t *tail,
                                size_t tail_n)
{
    const char *path = tpath(name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, (off_t)total), 0);
    ck_assert_int_eq(pwrite(fd, front, n, 0), (ssize_t)n);
    if (tail_n)
        ck_assert_int_eq(pwrite(fd, tail, tail_n, (off_t)tail_off), (ssize_t)tail_n);
    ck_assert_int_eq(close(fd), 0);
    return path;
}

static int load_model_path(const void *arg, char *err, size_t err_size)
{
    fnn_model *m = (fnn_model *)&m;
    int rc = fnn_model_load(&m, arg, err, err_size);
    if ((rc == FNN_OK) != (m != NULL))
        return 999;
    fnn_model_free(m);
    return rc;
}

START_TEST(model_sparse_4gib)
{
    uint8_t b[512], tail[64];
    size_t n;
    char err[256];
    const char *path;
    const uint64_t end = GIB4 - 4; /* where the trailer starts */

    /* A valid header and nothing else: three empty sections, then 4 GiB. */
    memset(b, 0, sizeof b);
    put_header(b, 3, GIB4);
    path = write_sparse("zeros.fnn", b, 32, GIB4, 0, NULL, 0);
    ck_assert_int_eq(run_bounded(load_model_path, path, err, sizeof err), FNN_E_FORMAT);
    ck_assert_str_eq(err, "4294967212 bytes after the last of 3 sections");
    ck_assert_int_eq(unlink(path), 0);

    /* A tiny SPEC and a PARAMS section that fills the 4 GiB, consistently. */
    memset(b, 0, sizeof b);
    put_header(b, 2, GIB4);
    n = 32 + put_section(b + 32, "SPEC", 1, 28);
    memcpy(b + n, TINY, 28);
    n += 28;
    n += put_section(b + n, "PARM", 1, end - n - 16);
    put64(b + n, (end - n - 8) / 4);
    path = write_sparse("params.fnn", b, n + 8, GIB4, 0, NULL, 0);
    ck_assert_int_eq(run_bounded(load_model_path, path, err, sizeof err), FNN_E_FORMAT);
    ck_assert_str_eq(err, "section PARAMS: declares 1073741798 floats, model spec needs 23");

    /* The same with PARAMS first and SPEC in the last bytes. */
    memset(b, 0, sizeof b);
    put_header(b, 2, GIB4);
    n = 32 + put_section(b + 32, "PARM", 1, end - 44 - 48);
    put64(b + n, (end - 44 - 48 - 8) / 4);
    memset(tail, 0, sizeof tail);
    put_section(tail, "SPEC", 1, 28);
    memcpy(tail + 16, TINY, 28);
    path = write_sparse("params-first.fnn", b, n + 8, GIB4, end - 44, tail, 44);
    ck_assert_int_eq(run_bounded(load_model_path, path, err, sizeof err), FNN_E_FORMAT);
    ck_assert_str_eq(err, "section PARAMS: declares 1073741798 floats, model spec needs 23");

    /* SPEC and PARAMS right, then an unknown optional section, or FORGET,
     * of nearly 4 GiB. */
    for (int k = 0; k < 2; k++) {
        memset(b, 0, sizeof b);
        put_header(b, 3, GIB4);
        n = 32 + put_section(b + 32, "SPEC", 1, 28);
        memcpy(b + n, TINY, 28);
        n += 28;
        n += put_section(b + n, "PARM", 1, 8 + 4 * 23);
        put64(b + n, 23);
        n += 8 + 4 * 23;
        n += put_section(b + n, k == 0 ? "XTRA" : "FRGT", 0, end - n - 16);
        path = write_sparse("optional.fnn", b, n, GIB4, 0, NULL, 0);
        ck_assert_int_eq(run_bounded(load_model_path, path, err, sizeof err), FNN_E_FORMAT);
        ck_assert_str_eq(err, k == 0 ? "unknown optional sections hold 4294967084 bytes, over "
                                       "the cap of 16777616 (16 MiB plus 4 times the PARAMS "
                                       "section)"
                                     : "section FORGET: 4294967084 bytes, more than the 40 of "
                                       "the model's forgetting state");
    }

    /* 268 million empty sections that tile the file exactly. */
    const uint64_t nsec = (uint64_t)(1u << 28) - 3, total = 32 + 16 * nsec + 4;
    ck_assert_uint_le(total, GIB4);
    memset(b, 0, sizeof b);
    put_header(b, (uint32_t)nsec, total);
    path = write_sparse("sections.fnn", b, 32, total, 0, NULL, 0);
    ck_assert_int_eq(run_bounded(load_model_path, path, err, sizeof err), FNN_E_FORMAT);
    ck_assert_str_eq(err, "the header declares 268435453 sections, over the cap of 256");
}
END_TEST

/* The file image of a new TINY model (484 bytes, docs/FORMAT.md's example). */
static uint8_t *tiny_file(size_t *len)
{
    fnn_model *m = NULL;
    ck_assert_int_eq(fnn_model_create(&m, TINY, 1, NULL, 0), FNN_OK);
    uint8_t *b = NULL;
    ck_assert_int_eq(fnn__model_serialize(m, &b, len), FNN_OK);
    fnn_model_free(m);
    return b;
}

START_TEST(model_pipes_and_devices)
{
    char err[256];
    const char *fifo = tpath("model.fifo");
    size_t len;
    uint8_t *b = tiny_file(&len);
    fnn_model *m = NULL, *ref = NULL;
    pid_t pid;

    ck_assert_int_eq(run_bounded(load_model_path, "/dev/zero", err, sizeof err), FNN_E_FORMAT);
    ck_assert_str_eq(err, "bad magic: not a libfnn model file");
    ck_assert_int_eq(run_bounded(load_model_path, "/dev/null", err, sizeof err),
                     FNN_E_TRUNCATED);
    ck_assert_str_eq(err, "truncated: 0 bytes, a model file has at least 36");

    /* A model through a pipe loads as from a file. */
    ck_assert_int_eq(fnn_model_load_buffer(&ref, b, len, err, sizeof err), FNN_OK);
    pid = feed_fifo(fifo, b, len, 0);
    ck_assert_msg(fnn_model_load(&m, fifo, err, sizeof err) == FNN_OK, "%s", err);
    end_feed(pid, fifo);
    float pa[23], pb[23];
    ck_assert_int_eq(fnn_model_get_params(ref, pa, 23), FNN_OK);
    ck_assert_int_eq(fnn_model_get_params(m, pb, 23), FNN_OK);
    ck_assert(memcmp(pa, pb, sizeof pa) == 0);
    fnn_model_free(m);
    fnn_model_free(ref);

    /* Cut short; or followed by bytes without end. */
    pid = feed_fifo(fifo, b, len - 1, 0);
    ck_assert_int_eq(fnn_model_load(&m, fifo, err, sizeof err), FNN_E_TRUNCATED);
    end_feed(pid, fifo);
    ck_assert_str_eq(err, "truncated: header declares 484 bytes, 483 present");
    pid = feed_fifo(fifo, b, len, 1);
    ck_assert_int_eq(run_bounded(load_model_path, fifo, err, sizeof err), FNN_E_FORMAT);
    end_feed(pid, fifo);
    ck_assert_str_eq(err, "bytes after the declared 484-byte file");

    /* A 4 GiB header, then zeros without end: the section table gives up. */
    uint8_t h[32];
    put_header(h, 3, GIB4);
    pid = feed_fifo(fifo, h, sizeof h, 1);
    ck_assert_int_eq(run_bounded(load_model_path, fifo, err, sizeof err), FNN_E_FORMAT);
    end_feed(pid, fifo);
    ck_assert_str_eq(err, "4294967212 bytes after the last of 3 sections");

    /* SPEC first, then a PARAMS header declaring 4 GiB: refused before its
     * payload is read. */
    uint8_t s[256];
    memset(s, 0, sizeof s);
    size_t n = 32 + put_section(s + 32, "SPEC", 1, 28);
    memcpy(s + n, TINY, 28);
    n += 28;
    n += put_section(s + n, "PARM", 1, GIB4 - 4 - n - 16);
    put64(s + n, (GIB4 - 4 - n - 8) / 4);
    put_header(s, 2, GIB4);
    pid = feed_fifo(fifo, s, n + 8, 1);
    ck_assert_int_eq(run_bounded(load_model_path, fifo, err, sizeof err), FNN_E_FORMAT);
    end_feed(pid, fifo);
    ck_assert_str_eq(err, "section PARAMS: declares 1073741798 floats, model spec needs 23");

    /* A header over the cap. */
    put_header(h, 3, GIB4 + 1);
    pid = feed_fifo(fifo, h, sizeof h, 1);
    ck_assert_int_eq(run_bounded(load_model_path, fifo, err, sizeof err), FNN_E_FORMAT);
    end_feed(pid, fifo);
    ck_assert_str_eq(err,
                     "header declares 4294967297 bytes, over the 4 GiB cap of model files");
    free(b);
}
END_TEST

/* Recomputes the trailing CRC of a model image. */
static void recrc(uint8_t *b, size_t len)
{
    put32(b + len - 4, (uint32_t)crc32(0L, b, (uInt)(len - 4)));
}

START_TEST(model_file_matches_buffer)
{
    /* Whatever the file loader checks before reading a file whole, it
     * reports as the buffer loader does for the same bytes once their
     * checksum is right. Offsets as in docs/FORMAT.md's worked example. */
    size_t len;
    uint8_t *b = tiny_file(&len);
    ck_assert_uint_eq(len, 484);
    struct {
        size_t off[2];
        uint32_t value[2];
        int want;
    } edits[] = {
        {{8}, {2}, FNN_E_VERSION},                   /* version */
        {{12}, {1}, FNN_E_VERSION},                  /* required flags */
        {{16}, {0xffffffffu}, FNN_OK},               /* optional flags */
        {{20}, {5}, FNN_E_TRUNCATED},                /* section count */
        {{20}, {3}, FNN_E_FORMAT},                   /* section count */
        {{40}, {600}, FNN_E_TRUNCATED},              /* SPEC length */
        {{48}, {0x75706e49}, FNN_E_SPEC},            /* "Inpu" for "inpu" */
        {{92}, {24}, FNN_E_TRUNCATED},               /* PARAMS count */
        {{92}, {22}, FNN_E_FORMAT},                  /* PARAMS count */
        {{100}, {0x7fc00000}, FNN_E_NUMERIC},        /* a parameter NaN */
        {{192, 196}, {TAG("FRGX"), 1}, FNN_E_VERSION}, /* an unknown required section */
        {{212}, {4}, FNN_E_FORMAT},                  /* FORGET units of layer 0 */
        {{220}, {0x7fc00000}, FNN_E_NUMERIC},        /* a tau NaN */
    };
    char ferr[256], berr[256];
    for (size_t k = 0; k < sizeof edits / sizeof edits[0]; k++) {
        uint8_t *c = malloc(len);
        ck_assert_ptr_nonnull(c);
        memcpy(c, b, len);
        for (int i = 0; i < 2 && edits[k].off[i]; i++)
            put32(c + edits[k].off[i], edits[k].value[i]);
        recrc(c, len);
        const char *path = write_bytes("edit.fnn", c, len);
        fnn_model *m = NULL;
        int rf = fnn_model_load(&m, path, ferr, sizeof ferr);
        fnn_model_free(m);
        int rb = fnn_model_load_buffer(&m, c, len, berr, sizeof berr);
        fnn_model_free(m);
        ck_assert_msg(rf == edits[k].want && rb == edits[k].want,
                      "edit %zu: file %d '%s', buffer %d '%s'", k, rf, ferr, rb, berr);
        ck_assert_str_eq(ferr, berr);
        free(c);
    }

    /* With a wrong checksum, a file whose structure is bad is refused for
     * its structure, without being read whole; a buffer for its checksum. */
    memcpy(b + 48, "Inpu", 4);
    const char *path = write_bytes("bad.fnn", b, len);
    fnn_model *m = NULL;
    ck_assert_int_eq(fnn_model_load(&m, path, ferr, sizeof ferr), FNN_E_SPEC);
    ck_assert_int_eq(fnn_model_load_buffer(&m, b, len, berr, sizeof berr), FNN_E_CHECKSUM);
    ck_assert_ptr_nonnull(strstr(ferr, "section SPEC: spec must start with input:"));
    /* A damaged parameter is only seen by the checksum, both ways. */
    memcpy(b + 48, "inpu", 4);
    b[120] ^= 0x40;
    path = write_bytes("bad.fnn", b, len);
    ck_assert_int_eq(fnn_model_load(&m, path, ferr, sizeof ferr), FNN_E_CHECKSUM);
    ck_assert_int_eq(fnn_model_load_buffer(&m, b, len, berr, sizeof berr), FNN_E_CHECKSUM);
    ck_assert_str_eq(ferr, berr);
    free(b);
}
END_TEST

START_TEST(model_unknown_cap_inclusive)
{
    /* Unknown optional sections may hold exactly 16 MiB plus four times the
     * PARAMS payload; one byte more is refused, from a file and a buffer. */
    const size_t cap = (16 << 20) + 4 * 100;
    size_t len0;
    uint8_t *base = tiny_file(&len0);
    for (size_t extra = 0; extra < 2; extra++) {
        size_t xlen = cap + extra, len = len0 + 16 + xlen + (4 - xlen % 4) % 4;
        uint8_t *b = calloc(1, len);
        ck_assert_ptr_nonnull(b);
        memcpy(b, base, len0 - 4);
        put32(b + 20, (uint32_t)b[20] + 1); /* one section more */
        put64(b + 24, len);
        put_section(b + len0 - 4, "XTRA", 0, xlen);
        recrc(b, len);
        char err[256];
        fnn_model *m = NULL;
        int want = extra ? FNN_E_FORMAT : FNN_OK;
        ck_assert_int_eq(fnn_model_load_buffer(&m, b, len, err, sizeof err), want);
        fnn_model_free(m);
        const char *path = write_bytes("xtra.fnn", b, len);
        ck_assert_int_eq(fnn_model_load(&m, path, err, sizeof err), want);
        fnn_model_free(m);
        if (extra)
            ck_assert_str_eq(err, "unknown optional sections hold 16777617 bytes, over the "
                                  "cap of 16777616 (16 MiB plus 4 times the PARAMS section)");
        free(b);
    }
    free(base);
}
END_TEST

/* ---- messages ------------------------------------------------------------------------- */

START_TEST(escape_helper)
{
    char out[64];
    ck_assert_uint_eq(fnn__escape(out, sizeof out, "plain text: 1,2"), 15);
    ck_assert_str_eq(out, "plain text: 1,2");
    fnn__escape(out, sizeof out, "a\x1b[31mb\\c\x7f\xff\t\n");
    ck_assert_str_eq(out, "a\\x1b[31mb\\\\c\\x7f\\xff\\x09\\x0a");
    /* Never half an escape: "ab" fits in 3 bytes, "\x1b" needs 5. */
    ck_assert_uint_eq(fnn__escape(out, 3, "ab\x1b"), 2);
    ck_assert_str_eq(out, "ab");
    ck_assert_uint_eq(fnn__escape(out, 4, "\x1b"), 0);
    ck_assert_str_eq(out, "");
    ck_assert_uint_eq(fnn__escape(out, 5, "\x1b"), 4);
    ck_assert_str_eq(out, "\\x1b");
    ck_assert_uint_eq(fnn__escape(out, 2, "\\"), 0);
    ck_assert_uint_eq(fnn__escape(out, 3, "\\"), 2);
    out[0] = 'x';
    ck_assert_uint_eq(fnn__escape(out, 0, "abc"), 0);
    ck_assert_int_eq(out[0], 'x');
    ck_assert_uint_eq(fnn__escape(NULL, 10, "abc"), 0);
}
END_TEST

/* Every byte of s is printable ASCII. */
static int printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return 0;
    return 1;
}

START_TEST(spec_message_escaped)
{
    /* A SPEC that would clear the screen and set the terminal title. */
    static const char evil[] = "input:4,dense:3,\x1b[2J\x1b]0;owned\x07\xc2\x9b,dense:2";
    const size_t slen = sizeof evil - 1, padded = slen + (4 - slen % 4) % 4;
    size_t len = 32 + 16 + padded + 16 + 8 + 4 * 23 + 4;
    uint8_t *b = calloc(1, len);
    ck_assert_ptr_nonnull(b);
    put_header(b, 2, len);
    size_t n = 32 + put_section(b + 32, "SPEC", 1, slen);
    memcpy(b + n, evil, slen);
    n += padded;
    n += put_section(b + n, "PARM", 1, 8 + 4 * 23);
    put64(b + n, 23);
    recrc(b, len);
    const char *want = "section SPEC: layer 2: cannot parse '\\x1b[2J\\x1b]0;owned\\x07\\xc2"
                       "\\x9b' (dense:N, conv2d:F:K, maxpool:K, relu, dropout:P, flatten)";
    char err[512];
    fnn_model *m = NULL;
    ck_assert_int_eq(fnn_model_load_buffer(&m, b, len, err, sizeof err), FNN_E_SPEC);
    ck_assert_str_eq(err, want);
    const char *path = write_bytes("evil.fnn", b, len);
    ck_assert_int_eq(fnn_model_load(&m, path, err, sizeof err), FNN_E_SPEC);
    ck_assert_str_eq(err, want);
    /* Cut to any buffer size, the message stays printable. */
    for (size_t size = 1; size < 200; size++) {
        ck_assert_int_eq(fnn_model_load(&m, path, err, size), FNN_E_SPEC);
        ck_assert(printable(err));
    }
    free(b);
}
END_TEST

/* ---- the directory loader -------------------------------------------------------------- */

START_TEST(load_dir_empty_string)
{
    fnn_dataset *ds = (fnn_dataset *)&ds;
    char err[256];
    ck_assert_int_eq(fnn_dataset_load_dir(&ds, "", FNN_SPLIT_TRAIN, err, sizeof err),
                     FNN_E_INVALID);
    ck_assert_ptr_null(ds);
    ck_assert_str_eq(err, "load_dir: dir is the empty string (use \".\" for the current "
                          "directory)");
}
END_TEST

START_TEST(load_dir_reports_gz_errno)
{
    /* The .gz exists but cannot be opened (a symbolic link loop, which root
     * meets too): its own errno is reported, not the raw file's absence. */
    char err[256], want[512];
    fnn_dataset *ds = NULL;
    const char *gz = tpath("train-images-idx3-ubyte.gz");
    ck_assert_int_eq(symlink("train-images-idx3-ubyte.gz", gz), 0);
    ck_assert_int_eq(fnn_dataset_load_dir(&ds, tmpdir, FNN_SPLIT_TRAIN, err, sizeof err),
                     FNN_E_IO);
    snprintf(want, sizeof want, "%s: cannot open: %s", gz, strerror(ELOOP));
    ck_assert_str_eq(err, want);
    ck_assert_ptr_null(ds);
    ck_assert_int_eq(unlink(gz), 0);

    /* Without privileges, an unreadable .gz gives EACCES. */
    if (geteuid() != 0) {
        write_bytes("train-images-idx3-ubyte.gz", "x", 1);
        ck_assert_int_eq(chmod(gz, 0), 0);
        ck_assert_int_eq(fnn_dataset_load_dir(&ds, tmpdir, FNN_SPLIT_TRAIN, err, sizeof err),
                         FNN_E_IO);
        snprintf(want, sizeof want, "%s: cannot open: %s", gz, strerror(EACCES));
        ck_assert_str_eq(err, want);
    }
}
END_TEST

static Suite *untrusted_suite(void)
{
    Suite *s = suite_create("untrusted");
    struct {
        const char *name;
        const TTest *tests[8];
    } groups[] = {
        {"idx", {idx_gzip_bomb, idx_gzip_exact_and_short, idx_pipes, idx_devices,
                 idx_headers_before_data}},
        {"model", {model_sparse_4gib, model_pipes_and_devices, model_file_matches_buffer,
                   model_unknown_cap_inclusive}},
        {"messages", {escape_helper, spec_message_escaped}},
        {"load_dir", {load_dir_empty_string, load_dir_reports_gz_errno}},
    };
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        TCase *tc = tcase_create(groups[g].name);
        tcase_add_checked_fixture(tc, make_tmpdir, remove_tmpdir);
        for (size_t t = 0; t < 8 && groups[g].tests[t]; t++)
            tcase_add_test(tc, groups[g].tests[t]);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void)
{
    return fnn_test_main(untrusted_suite());
}
