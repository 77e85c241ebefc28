/* Untrusted IDX files: the loader does work and takes memory in proportion
 * to the size a file's header declares, not to what the file expands to,
 * whatever kind of file it is (regular, gzip bomb, pipe, device).
 *
 * The expensive inputs run in a child process whose address space may grow by
 * at most 100 MiB (except under a sanitizer or valgrind, whose own mappings an
 * address-space limit would break): a loader that read a gzip bomb or an
 * endless pipe into memory fails there with another status than the one
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
#include "testutil.h"

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

static char tmpdir[64];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/fnn-test-untrusted-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    DIR *d = opendir(tmpdir);
    if (!d)
        return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(tmpdir);
}

/* Path of a file in the scratch directory; four calls may be live at once. */
static const char *tpath(const char *name)
{
    static char ring[4][512];
    static int next;
    char *p = ring[next++ % 4];
    snprintf(p, sizeof ring[0], "%s/%s", tmpdir, name);
    return p;
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

static Suite *untrusted_suite(void)
{
    Suite *s = suite_create("untrusted");
    struct {
        const char *name;
        const TTest *tests[8];
    } groups[] = {
        {"idx", {idx_gzip_bomb, idx_gzip_exact_and_short, idx_pipes, idx_devices,
                 idx_headers_before_data}},
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
