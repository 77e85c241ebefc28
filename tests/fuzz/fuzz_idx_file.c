/* Fuzz target for the IDX file reader: the input is one file, raw or gzip.
 *
 * It is read twice: whole, by fnn__read_file() and fnn__idx_parse() on the
 * content in memory, and as a loader reads it, header first, by
 * fnn__idx_open() and fnn__idx_read_data(), which stop one byte after the
 * declared data. Both must accept the same files and give the same header
 * and data; a failure must leave no data and say why. Broken invariants
 * abort, so the fuzzer reports them.
 *
 * The file is an unlinked temporary (in /dev/shm, else /tmp) opened again
 * through /proc/self/fd (Linux), so nothing is left behind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* More than any input the fuzzer makes, and a gzip file may inflate to. */
#define CAP ((size_t)64 << 20)

/* The path of a scratch file holding the input, or NULL. */
static const char *scratch(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        /* Memory-backed where there is /dev/shm: many times faster. */
        char shm[] = "/dev/shm/fnn-fuzz-idx-XXXXXX", tmp[] = "/tmp/fnn-fuzz-idx-XXXXXX";
        char *name = shm;
        if ((fd = mkstemp(name)) < 0 && (fd = mkstemp(name = tmp)) < 0)
            return NULL;
        unlink(name);
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        return NULL;
    return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = scratch(data, size);
    if (!path)
        return 0;
    char err[FNN__ERRMSG_SIZE];

    /* Whole. */
    uint8_t *buf = NULL;
    size_t len = 0;
    fnn__idx whole = {0};
    int rc_whole = fnn__read_file(path, CAP, &buf, &len, err, sizeof err);
    if (rc_whole == FNN_OK)
        rc_whole = fnn__idx_parse(buf, len, &whole, err, sizeof err);
    free(buf);

    /* Header first. */
    fnn__idx_reader *r = NULL;
    fnn__idx hdr = {0};
    err[0] = '\0';
    int rc = fnn__idx_open(path, CAP, &r, &hdr, err, sizeof err);
    if ((rc == FNN_OK) != (r != NULL))
        abort();
    if (rc == FNN_OK) {
        if (hdr.data || hdr.count == 0)
            abort();
        rc = fnn__idx_read_data(r, &hdr, err, sizeof err);
    }
    fnn__idx_close(r);
    if (rc != FNN_OK && (hdr.data || err[0] == '\0'))
        abort();

    if ((rc == FNN_OK) != (rc_whole == FNN_OK))
        abort();
    if (rc == FNN_OK &&
        (hdr.ndims != whole.ndims || hdr.count != whole.count || hdr.type != whole.type ||
         memcmp(hdr.dims, whole.dims, sizeof hdr.dims) != 0 ||
         memcmp(hdr.data, whole.data, hdr.count) != 0))
        abort();
    free(hdr.data);
    free(whole.data);
    return 0;
}
