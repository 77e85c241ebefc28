/* Fuzz target for the IDX file reader: the input is one file, raw or gzip.
 *
 * It is read twice: whole, by fnn__read_file() and fnn__idx_parse() on the
 * content in memory, and as a loader reads it, header first, by
 * fnn__idx_open() and fnn__idx_read_data(), which stop one byte after the
 * declared data. Both must accept the same files and give the same header
 * and data; a failure must leave no data and say why. Broken invariants
 * abort, so the fuzzer reports them.
 *
 * The file is scratch.h's scratch file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "scratch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* More than any input the fuzzer makes, and a gzip file may inflate to. */
#define CAP ((size_t)64 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = scratch_file(data, size);
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
