/* Reading files (raw or gzip) and parsing IDX images from memory.
 *
 * IDX (LeCun's MNIST format) is big-endian: two zero bytes, an element type
 * byte, a dimension count, then one 32-bit size per dimension and the
 * elements. Only unsigned bytes (type 0x08) are accepted. Every length is
 * checked against the bytes that remain before anything is allocated, and the
 * file must end exactly where its header says. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ZLIB_CONST /* next_in is const: zlib never writes the input */
#include <zlib.h>

#include "internal.h"

#define IDX_TYPE_U8 0x08u
#define IDX_MAX_NDIMS 4u
#define READ_CHUNK ((size_t)1 << 16)
/* Deflate expands at most 1032:1; a larger claim in a gzip trailer is a lie. */
#define DEFLATE_MAX_RATIO 1032u

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

int fnn__idx_parse(const uint8_t *buf, size_t len, fnn__idx *out, char *err,
                   size_t err_size)
{
    if (!out)
        return fnn__fail(err, err_size, FNN_E_NULL, "idx: output is NULL");
    memset(out, 0, sizeof *out);
    if (!buf)
        return fnn__fail(err, err_size, FNN_E_NULL, "idx: buffer is NULL");
    if (len < 4)
        return fnn__fail(err, err_size, FNN_E_TRUNCATED,
                         "truncated: %zu bytes, an IDX header needs at least 4", len);
    if (buf[0] != 0 || buf[1] != 0)
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         "bad magic: starts with %02x %02x, IDX starts with 00 00",
                         buf[0], buf[1]);
    if (buf[2] != IDX_TYPE_U8)
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         "element type 0x%02x is not supported (only 0x08, unsigned byte)",
                         buf[2]);
    unsigned ndims = buf[3];
    if (ndims < 1 || ndims > IDX_MAX_NDIMS)
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         "%u dimensions are not supported (1..%u)", ndims, IDX_MAX_NDIMS);
    size_t header = 4 + 4 * (size_t)ndims;
    if (len < header)
        return fnn__fail(err, err_size, FNN_E_TRUNCATED,
                         "truncated: header of %u dimensions needs %zu bytes, %zu present",
                         ndims, header, len);

    fnn__idx idx = { .type = buf[2], .ndims = (uint8_t)ndims, .count = 1 };
    for (unsigned i = 0; i < ndims; i++) {
        uint32_t d = be32(buf + 4 + 4 * i);
        size_t limit = i == 0 ? FNN__MAX_SAMPLES : FNN__MAX_DIM;
        if (d == 0)
            return fnn__fail(err, err_size, FNN_E_FORMAT, "dimension %u is 0", i);
        if (d > limit)
            return fnn__fail(err, err_size, FNN_E_FORMAT,
                             "dimension %u is %lu, more than the limit %zu", i,
                             (unsigned long)d, limit);
        if (fnn__mul(idx.count, d, &idx.count) != 0)
            return fnn__fail(err, err_size, FNN_E_FORMAT,
                             "dimensions declare more elements than fit in memory");
        idx.dims[i] = d;
    }

    size_t present = len - header;
    if (present < idx.count)
        return fnn__fail(err, err_size, FNN_E_TRUNCATED,
                         "truncated: header declares %zu data bytes, %zu present",
                         idx.count, present);
    if (present > idx.count)
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         "%zu trailing byte%s after the %zu data bytes the header declares",
                         present - idx.count, present - idx.count == 1 ? "" : "s", idx.count);
    idx.data = malloc(idx.count);
    if (!idx.data)
        return fnn__fail(err, err_size, FNN_E_NOMEM,
                         "cannot allocate %zu data bytes", idx.count);
    memcpy(idx.data, buf + header, idx.count);
    *out = idx;
    return FNN_OK;
}

/* Grows *buf to at least need (<= limit) bytes: doubling, at most limit. */
static int grow(uint8_t **buf, size_t *cap, size_t need, size_t limit)
{
    size_t c = *cap > limit / 2 ? limit : *cap * 2;
    if (c < need)
        c = need;
    if (c > limit)
        c = limit;
    uint8_t *p = realloc(*buf, c);
    if (!p)
        return -1;
    *buf = p;
    *cap = c;
    return 0;
}

static int too_large(const char *path, size_t max_bytes, char *err, size_t err_size)
{
    return fnn__fail(err, err_size, FNN_E_FORMAT,
                     "%s: file is larger than the limit of %zu bytes", path, max_bytes);
}

/* Reads the rest of f. A gzip file may be somewhat larger than its contents
 * (stored blocks, header fields), so this allows max_bytes plus 1/64 plus
 * 64 KiB; fnn__read_file() holds raw files to max_bytes itself. */
static int read_all(FILE *f, const char *path, size_t max_bytes, uint8_t **buf,
                    size_t *len, char *err, size_t err_size)
{
    /* One byte past the cap tells "exactly at the cap" from "more". */
    size_t limit;
    if (fnn__add(max_bytes, max_bytes / 64 + READ_CHUNK + 1, &limit) != 0)
        limit = SIZE_MAX;
    size_t cap = 0, n = 0, first = READ_CHUNK;
    uint8_t *p = NULL;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        (uintmax_t)st.st_size < limit)
        first = (size_t)st.st_size + 1; /* room to see EOF without a realloc */
    for (;;) {
        if (n == cap) {
            if (cap == limit) {
                free(p);
                return too_large(path, max_bytes, err, err_size);
            }
            if (grow(&p, &cap, n ? n + 1 : first, limit) != 0) {
                free(p);
                return fnn__fail(err, err_size, FNN_E_NOMEM,
                                 "%s: cannot allocate %zu bytes", path, n ? n + 1 : first);
            }
        }
        n += fread(p + n, 1, cap - n, f);
        if (n < cap)
            break; /* end of file or error */
    }
    if (ferror(f)) {
        int e = errno;
        free(p);
        return fnn__fail(err, err_size, FNN_E_IO, "%s: cannot read: %s", path,
                         strerror(e));
    }
    *buf = p;
    *len = n;
    return FNN_OK;
}

/* Inflates a gzip file image. Concatenated members are accepted and joined
 * (RFC 1952 defines a gzip file as a series of members, and gzip -d joins
 * them); any other bytes after a member are FNN_E_FORMAT. A stream that ends
 * early is FNN_E_TRUNCATED; output beyond max_bytes is FNN_E_FORMAT. */
static int gunzip(const uint8_t *in, size_t in_len, const char *path, size_t max_bytes,
                  uint8_t **buf, size_t *len, char *err, size_t err_size)
{
    size_t limit = max_bytes < SIZE_MAX ? max_bytes + 1 : SIZE_MAX;
    /* Start from the size the trailer claims (mod 2^32), if it is plausible. */
    size_t hint = READ_CHUNK;
    if (in_len >= 18) {
        size_t isize = le32(in + in_len - 4);
        if (isize > hint && isize / DEFLATE_MAX_RATIO <= in_len)
            hint = isize + 1;
    }
    if (hint > limit)
        hint = limit;

    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
        return fnn__fail(err, err_size, FNN_E_NOMEM, "%s: cannot initialise zlib", path);
    uint8_t *out = NULL;
    size_t cap = 0, n = 0, in_pos = 0;
    int rc = FNN_OK;
    if (grow(&out, &cap, hint, limit) != 0) {
        rc = fnn__fail(err, err_size, FNN_E_NOMEM, "%s: cannot allocate %zu bytes",
                       path, hint);
        goto done;
    }
    for (;;) {
        if (zs.avail_in == 0 && in_pos < in_len) {
            size_t chunk = in_len - in_pos < UINT_MAX ? in_len - in_pos : UINT_MAX;
            zs.next_in = in + in_pos;
            zs.avail_in = (uInt)chunk;
            in_pos += chunk;
        }
        if (n == cap) { /* n <= max_bytes < limit, so cap can grow */
            if (grow(&out, &cap, n + 1, limit) != 0) {
                rc = fnn__fail(err, err_size, FNN_E_NOMEM,
                               "%s: cannot allocate %zu bytes", path, n + 1);
                goto done;
            }
        }
        size_t room = cap - n < UINT_MAX ? cap - n : UINT_MAX;
        zs.next_out = out + n;
        zs.avail_out = (uInt)room;
        int z = inflate(&zs, Z_NO_FLUSH);
        n += room - zs.avail_out;
        if (n > max_bytes) {
            rc = fnn__fail(err, err_size, FNN_E_FORMAT,
                           "%s: decompressed data exceeds the limit of %zu bytes", path,
                           max_bytes);
            goto done;
        }
        if (z == Z_STREAM_END) {
            size_t used = in_pos - zs.avail_in;
            if (used == in_len)
                break;
            if (in_len - used >= 2 && in[used] == 0x1f && in[used + 1] == 0x8b) {
                inflateReset(&zs);
                continue;
            }
            rc = fnn__fail(err, err_size, FNN_E_FORMAT,
                           "%s: %zu trailing byte%s after the gzip data", path,
                           in_len - used, in_len - used == 1 ? "" : "s");
            goto done;
        }
        if (z == Z_OK)
            continue;
        if (z == Z_BUF_ERROR && zs.avail_in == 0 && in_pos == in_len) {
            rc = fnn__fail(err, err_size, FNN_E_TRUNCATED,
                           "%s: truncated: gzip stream ends after %zu compressed bytes "
                           "(%zu decompressed)",
                           path, in_len, n);
            goto done;
        }
        if (z == Z_BUF_ERROR)
            continue; /* output was full; the next round grows it */
        if (z == Z_MEM_ERROR)
            rc = fnn__fail(err, err_size, FNN_E_NOMEM, "%s: zlib is out of memory", path);
        else
            rc = fnn__fail(err, err_size, FNN_E_FORMAT, "%s: corrupt gzip data: %s", path,
                           zs.msg ? zs.msg : "unknown zlib error");
        goto done;
    }
done:
    inflateEnd(&zs);
    if (rc != FNN_OK) {
        free(out);
        return rc;
    }
    *buf = out;
    *len = n;
    return FNN_OK;
}

int fnn__read_file(const char *path, size_t max_bytes, uint8_t **buf, size_t *len,
                   char *err, size_t err_size)
{
    if (!path || !buf || !len)
        return fnn__fail(err, err_size, FNN_E_NULL, "read_file: a required argument is NULL");
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return fnn__fail(err, err_size, FNN_E_IO, "%s: cannot open: %s", path,
                         strerror(errno));
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    int rc = read_all(f, path, max_bytes, &raw, &raw_len, err, err_size);
    fclose(f); /* read-only: nothing to flush, nothing to lose */
    if (rc != FNN_OK)
        return rc;
    if (raw_len >= 2 && raw[0] == 0x1f && raw[1] == 0x8b) {
        rc = gunzip(raw, raw_len, path, max_bytes, buf, len, err, err_size);
        free(raw);
        return rc;
    }
    if (raw_len > max_bytes) {
        free(raw);
        return too_large(path, max_bytes, err, err_size);
    }
    *buf = raw;
    *len = raw_len;
    return FNN_OK;
}
