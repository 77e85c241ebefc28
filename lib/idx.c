/* Reading IDX files (raw or gzip) and parsing IDX images from memory.
 *
 * IDX (LeCun's MNIST format) is big-endian: two zero bytes, an element type
 * byte, a dimension count, then one 32-bit size per dimension and the
 * elements. Only unsigned bytes (type 0x08) are accepted. Every length is
 * checked against the bytes that remain before anything is allocated, and the
 * file must end exactly where its header says.
 *
 * Files are read in order as a stream of content bytes: the file's own bytes,
 * or what its gzip members inflate to. The IDX reader takes the header first
 * (inflating no more than that), checks the size it declares against the cap,
 * then reads the declared data and one byte more, and stops there: a gzip bomb,
 * a pipe or /dev/zero costs at most the size its header declares. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZLIB_CONST /* next_in is const: zlib never writes the input */
#include <zlib.h>

#include "internal.h"

#define IDX_TYPE_U8 0x08u
#define IDX_MAX_NDIMS 4u
#define IDX_MAX_HEADER (4 + 4 * IDX_MAX_NDIMS)
#define READ_CHUNK ((size_t)1 << 16)
/* A destination buffer of unknown final size starts this large and doubles. */
#define FIRST_ALLOC ((size_t)1 << 16)

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- the header --------------------------------------------------------------- */

/* Checks the IDX header at the start of buf[0..len) and fills *idx (data
 * NULL) and *header_len. When len is shorter than the header, the header is
 * truncated: FNN_E_TRUNCATED once the bytes present are consistent. */
static int parse_header(const uint8_t *buf, size_t len, fnn__idx *idx, size_t *header_len,
                        char *err, size_t err_size)
{
    memset(idx, 0, sizeof *idx);
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

    fnn__idx h = { .type = buf[2], .ndims = (uint8_t)ndims, .count = 1 };
    for (unsigned i = 0; i < ndims; i++) {
        uint32_t d = be32(buf + 4 + 4 * i);
        size_t limit = i == 0 ? FNN__MAX_SAMPLES : FNN__MAX_DIM;
        if (d == 0)
            return fnn__fail(err, err_size, FNN_E_FORMAT, "dimension %u is 0", i);
        if (d > limit)
            return fnn__fail(err, err_size, FNN_E_FORMAT,
                             "dimension %u is %lu, more than the limit %zu", i,
                             (unsigned long)d, limit);
        if (fnn__mul(h.count, d, &h.count) != 0)
            return fnn__fail(err, err_size, FNN_E_FORMAT,
                             "dimensions declare more elements than fit in memory");
        h.dims[i] = d;
    }
    *idx = h;
    *header_len = header;
    return FNN_OK;
}

static int truncated_data(size_t count, size_t present, char *err, size_t err_size)
{
    return fnn__fail(err, err_size, FNN_E_TRUNCATED,
                     "truncated: header declares %zu data bytes, %zu present", count, present);
}

static int trailing_data(size_t count, size_t extra, char *err, size_t err_size)
{
    return fnn__fail(err, err_size, FNN_E_FORMAT,
                     "%zu trailing byte%s after the %zu data bytes the header declares",
                     extra, extra == 1 ? "" : "s", count);
}

int fnn__idx_parse(const uint8_t *buf, size_t len, fnn__idx *out, char *err,
                   size_t err_size)
{
    if (!out)
        return fnn__fail(err, err_size, FNN_E_NULL, "idx: output is NULL");
    memset(out, 0, sizeof *out);
    if (!buf)
        return fnn__fail(err, err_size, FNN_E_NULL, "idx: buffer is NULL");
    fnn__idx idx;
    size_t header;
    int rc = parse_header(buf, len, &idx, &header, err, err_size);
    if (rc != FNN_OK)
        return rc;
    size_t present = len - header;
    if (present < idx.count)
        return truncated_data(idx.count, present, err, err_size);
    if (present > idx.count)
        return trailing_data(idx.count, present - idx.count, err, err_size);
    idx.data = malloc(idx.count);
    if (!idx.data)
        return fnn__fail(err, err_size, FNN_E_NOMEM,
                         "cannot allocate %zu data bytes", idx.count);
    memcpy(idx.data, buf + header, idx.count);
    *out = idx;
    return FNN_OK;
}

/* ---- content streams ------------------------------------------------------------- */

/* A file's content, read in order: its bytes, or, when it starts with the gzip
 * magic, what its members inflate to. Concatenated members are joined (RFC
 * 1952 defines a gzip file as a series of members, and gzip -d joins them);
 * any other bytes after a member are FNN_E_FORMAT. A gzip stream that ends
 * early is FNN_E_TRUNCATED. */
typedef struct idx_stream {
    const char *path;
    int fd;
    int regular;
    uint64_t file_size;        /* regular files: st_size when opened */
    int gz;
    int zinit;                 /* zs needs inflateEnd() */
    int in_eof;                /* read() has returned 0 */
    int done;                  /* the content has ended */
    size_t in_pos, in_len;     /* in[in_pos..in_len) is read but not yet used */
    uint64_t in_total;         /* bytes read from the file */
    uint64_t in_limit;         /* gzip: compressed bytes allowed */
    uint64_t out_total;        /* content bytes produced */
    z_stream zs;
    uint8_t in[READ_CHUNK];
} idx_stream;

struct fnn__idx_reader {
    idx_stream s;
    size_t header_len;
};

static int read_error(const idx_stream *s, int e, char *err, size_t err_size)
{
    return fnn__fail(err, err_size, FNN_E_IO, "%s: cannot read: %s", s->path, strerror(e));
}

/* Moves the unused input to the front of in[] and reads more behind it. */
static int fill(idx_stream *s, char *err, size_t err_size)
{
    if (s->in_pos > 0) {
        memmove(s->in, s->in + s->in_pos, s->in_len - s->in_pos);
        s->in_len -= s->in_pos;
        s->in_pos = 0;
    }
    if (s->in_eof || s->in_len == sizeof s->in)
        return FNN_OK;
    if (s->gz && s->in_total > s->in_limit)
        return fnn__fail(err, err_size, FNN_E_FORMAT,
                         "%s: the gzip data goes on past %llu bytes, more than the content "
                         "it may hold can take",
                         s->path, (unsigned long long)s->in_limit);
    ssize_t r;
    do
        r = read(s->fd, s->in + s->in_len, sizeof s->in - s->in_len);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return read_error(s, errno, err, err_size);
    if (r == 0)
        s->in_eof = 1;
    s->in_len += (size_t)r;
    s->in_total += (uint64_t)r;
    return FNN_OK;
}

/* Opens path and looks at its first two bytes. content_limit is the most
 * content the caller will ask for; a gzip file may hold somewhat more
 * compressed bytes than that (stored blocks, header fields): 1/64 plus
 * 64 KiB. */
static int stream_open(idx_stream *s, const char *path, uint64_t content_limit, char *err,
                       size_t err_size)
{
    memset(s, 0, offsetof(idx_stream, in));
    s->path = path;
    do
        s->fd = open(path, O_RDONLY | O_CLOEXEC);
    while (s->fd < 0 && errno == EINTR);
    if (s->fd < 0)
        return fnn__fail(err, err_size, FNN_E_IO, "%s: cannot open: %s", path,
                         strerror(errno));
    struct stat st;
    if (fstat(s->fd, &st) == 0 && S_ISREG(st.st_mode)) {
        s->regular = 1;
        s->file_size = (uint64_t)st.st_size;
    }
    int rc = FNN_OK;
    while (rc == FNN_OK && s->in_len < 2 && !s->in_eof)
        rc = fill(s, err, err_size);
    if (rc != FNN_OK)
        return rc;
    if (s->in_len >= 2 && s->in[0] == 0x1f && s->in[1] == 0x8b) {
        s->gz = 1;
        s->in_limit = content_limit + content_limit / 64 + READ_CHUNK;
        if (s->in_limit < content_limit)
            s->in_limit = UINT64_MAX;
        if (inflateInit2(&s->zs, 16 + MAX_WBITS) != Z_OK)
            return fnn__fail(err, err_size, FNN_E_NOMEM, "%s: cannot initialise zlib", path);
        s->zinit = 1;
    }
    return FNN_OK;
}

static void stream_close(idx_stream *s)
{
    if (s->zinit)
        inflateEnd(&s->zs);
    if (s->fd >= 0)
        (void)close(s->fd); /* read-only: nothing to flush, nothing to lose */
    s->zinit = 0;
    s->fd = -1;
}

/* Up to n raw content bytes into dst; *k of them (0 when only input was read). */
static int raw_some(idx_stream *s, uint8_t *dst, size_t n, size_t *k, char *err,
                    size_t err_size)
{
    *k = 0;
    if (s->in_pos < s->in_len) {
        *k = s->in_len - s->in_pos < n ? s->in_len - s->in_pos : n;
        memcpy(dst, s->in + s->in_pos, *k);
        s->in_pos += *k;
    } else if (s->in_eof) {
        s->done = 1;
    } else if (n >= sizeof s->in) {
        ssize_t r;
        do
            r = read(s->fd, dst, n < ((size_t)1 << 30) ? n : ((size_t)1 << 30));
        while (r < 0 && errno == EINTR);
        if (r < 0)
            return read_error(s, errno, err, err_size);
        if (r == 0)
            s->in_eof = s->done = 1;
        *k = (size_t)r;
        s->in_total += (uint64_t)r;
    } else {
        return fill(s, err, err_size);
    }
    s->out_total += *k;
    return FNN_OK;
}

/* One inflate() call into dst[0..n): *k content bytes. At the end of a
 * member, starts the next one or ends the content. */
static int inflate_some(idx_stream *s, uint8_t *dst, size_t n, size_t *k, char *err,
                        size_t err_size)
{
    int rc;
    *k = 0;
    if (s->in_pos == s->in_len && !s->in_eof && (rc = fill(s, err, err_size)) != FNN_OK)
        return rc;
    size_t avail = s->in_len - s->in_pos;
    uInt room = n < UINT_MAX ? (uInt)n : UINT_MAX;
    s->zs.next_in = s->in + s->in_pos;
    s->zs.avail_in = (uInt)avail;
    s->zs.next_out = dst;
    s->zs.avail_out = room;
    int z = inflate(&s->zs, Z_NO_FLUSH);
    *k = room - s->zs.avail_out;
    s->out_total += *k;
    s->in_pos += avail - s->zs.avail_in;
    switch (z) {
    case Z_OK:
        return FNN_OK;
    case Z_STREAM_END:
        /* Another member, or the end of the file, or junk. */
        while (s->in_len - s->in_pos < 2 && !s->in_eof)
            if ((rc = fill(s, err, err_size)) != FNN_OK)
                return rc;
        avail = s->in_len - s->in_pos;
        if (avail == 0) {
            s->done = 1;
            return FNN_OK;
        }
        if (avail >= 2 && s->in[s->in_pos] == 0x1f && s->in[s->in_pos + 1] == 0x8b) {
            inflateReset(&s->zs);
            return FNN_OK;
        }
        if (s->regular) {
            uint64_t rest = s->file_size > s->in_total ? s->file_size - s->in_total : 0;
            return fnn__fail(err, err_size, FNN_E_FORMAT,
                             "%s: %llu trailing byte%s after the gzip data", s->path,
                             (unsigned long long)(avail + rest), avail + rest == 1 ? "" : "s");
        }
        return fnn__fail(err, err_size, FNN_E_FORMAT, "%s: trailing bytes after the gzip data",
                         s->path);
    case Z_BUF_ERROR:
        if (s->in_pos == s->in_len && s->in_eof)
            return fnn__fail(err, err_size, FNN_E_TRUNCATED,
                             "%s: truncated: gzip stream ends after %llu compressed bytes "
                             "(%llu decompressed)",
                             s->path, (unsigned long long)s->in_total,
                             (unsigned long long)s->out_total);
        return FNN_OK; /* needs more input: the next call reads it */
    case Z_MEM_ERROR:
        return fnn__fail(err, err_size, FNN_E_NOMEM, "%s: zlib is out of memory", s->path);
    default:
        return fnn__fail(err, err_size, FNN_E_FORMAT, "%s: corrupt gzip data: %s", s->path,
                         s->zs.msg ? s->zs.msg : "unknown zlib error");
    }
}

/* Reads up to n content bytes into dst; *got < n only where the content ends. */
static int stream_read(idx_stream *s, uint8_t *dst, size_t n, size_t *got, char *err,
                       size_t err_size)
{
    size_t have = 0, k;
    int rc = FNN_OK;
    while (rc == FNN_OK && have < n && !s->done) {
        rc = s->gz ? inflate_some(s, dst + have, n - have, &k, err, err_size)
                   : raw_some(s, dst + have, n - have, &k, err, err_size);
        have += k;
    }
    *got = have;
    return rc;
}

/* Reads content into *buf (capacity *cap, *len bytes in it) until it holds
 * want bytes or the content ends. The buffer grows as content arrives,
 * doubling from first, never past want: memory follows what the file really
 * holds, up to what the caller allows. */
static int stream_read_alloc(idx_stream *s, size_t first, size_t want, uint8_t **buf,
                             size_t *cap, size_t *len, char *err, size_t err_size)
{
    while (*len < want && !s->done) {
        if (*len == *cap) {
            size_t c = !*cap ? (first < want ? first : want)
                             : *cap > want / 2 ? want : *cap * 2;
            uint8_t *p = realloc(*buf, c ? c : 1);
            if (!p)
                return fnn__fail(err, err_size, FNN_E_NOMEM, "%s: cannot allocate %zu bytes",
                                 s->path, c);
            *buf = p;
            *cap = c;
        }
        size_t got;
        int rc = stream_read(s, *buf + *len, *cap - *len, &got, err, err_size);
        *len += got;
        if (rc != FNN_OK)
            return rc;
    }
    return FNN_OK;
}

/* ---- whole files ------------------------------------------------------------------ */

int fnn__read_file(const char *path, size_t max_bytes, uint8_t **buf, size_t *len,
                   char *err, size_t err_size)
{
    if (!path || !buf || !len)
        return fnn__fail(err, err_size, FNN_E_NULL, "read_file: a required argument is NULL");
    *buf = NULL;
    *len = 0;
    /* One byte past the cap tells "exactly at the cap" from "more". */
    size_t want = max_bytes < SIZE_MAX ? max_bytes + 1 : SIZE_MAX;
    idx_stream *s = malloc(sizeof *s);
    if (!s)
        return fnn__fail(err, err_size, FNN_E_NOMEM, "%s: cannot allocate a reader", path);
    uint8_t *p = NULL;
    size_t cap = 0, n = 0;
    int rc = stream_open(s, path, want, err, err_size);
    if (rc == FNN_OK) {
        size_t first = FIRST_ALLOC;
        if (!s->gz && s->regular && s->file_size < want)
            first = (size_t)s->file_size + 1; /* room to see the end without a realloc */
        rc = stream_read_alloc(s, first, want, &p, &cap, &n, err, err_size);
    }
    if (rc == FNN_OK && n > max_bytes)
        rc = fnn__fail(err, err_size, FNN_E_FORMAT,
                       s->gz ? "%s: decompressed data exceeds the limit of %zu bytes"
                             : "%s: file is larger than the limit of %zu bytes",
                       path, max_bytes);
    if (rc == FNN_OK && !p && !(p = malloc(1)))
        rc = fnn__fail(err, err_size, FNN_E_NOMEM, "%s: cannot allocate 1 byte", path);
    stream_close(s);
    free(s);
    if (rc != FNN_OK) {
        free(p);
        return rc;
    }
    *buf = p;
    *len = n;
    return FNN_OK;
}

/* ---- IDX files: the header, then the data ------------------------------------------ */

int fnn__idx_open(const char *path, size_t max_bytes, fnn__idx_reader **out, fnn__idx *hdr,
                  char *err, size_t err_size)
{
    if (!path || !out || !hdr)
        return fnn__fail(err, err_size, FNN_E_NULL, "idx_open: a required argument is NULL");
    *out = NULL;
    memset(hdr, 0, sizeof *hdr);
    fnn__idx_reader *r = malloc(sizeof *r);
    if (!r)
        return fnn__fail(err, err_size, FNN_E_NOMEM, "%s: cannot allocate a reader", path);
    /* Until the header is known, no more than the header is inflated. */
    int rc = stream_open(&r->s, path, IDX_MAX_HEADER, err, err_size);
    uint8_t head[IDX_MAX_HEADER];
    size_t got = 0, more = 0;
    if (rc == FNN_OK)
        rc = stream_read(&r->s, head, 4, &got, err, err_size);
    if (rc == FNN_OK && got == 4 && head[3] >= 1 && head[3] <= IDX_MAX_NDIMS)
        rc = stream_read(&r->s, head + 4, 4 * (size_t)head[3], &more, err, err_size);
    char msg[FNN__ERRMSG_SIZE];
    if (rc == FNN_OK && (rc = parse_header(head, got + more, hdr, &r->header_len, msg,
                                           sizeof msg)) != FNN_OK)
        fnn__fail(err, err_size, rc, "%s: %s", path, msg);
    size_t total;
    if (rc == FNN_OK &&
        (fnn__add(r->header_len, hdr->count, &total) != 0 || total > max_bytes))
        rc = fnn__fail(err, err_size, FNN_E_FORMAT,
                       "%s: header declares %zu data bytes, over the limit of %zu bytes "
                       "for a file",
                       path, hdr->count, max_bytes);
    if (rc != FNN_OK) {
        stream_close(&r->s);
        free(r);
        memset(hdr, 0, sizeof *hdr);
        return rc;
    }
    /* The data and one byte more, plus the gzip slack for that much. */
    uint64_t limit = (uint64_t)total + 1;
    r->s.in_limit = limit + limit / 64 + READ_CHUNK;
    *out = r;
    return FNN_OK;
}

int fnn__idx_read_data(fnn__idx_reader *r, fnn__idx *hdr, char *err, size_t err_size)
{
    if (!r || !hdr)
        return fnn__fail(err, err_size, FNN_E_NULL, "idx_read_data: an argument is NULL");
    idx_stream *s = &r->s;
    const size_t count = hdr->count;
    char msg[FNN__ERRMSG_SIZE];
    size_t first = FIRST_ALLOC;
    if (!s->gz && s->regular) {
        /* A regular raw file tells its size: decide before reading. */
        uint64_t present = s->file_size > r->header_len ? s->file_size - r->header_len : 0;
        if (present < count) {
            truncated_data(count, (size_t)present, msg, sizeof msg);
            return fnn__fail(err, err_size, FNN_E_TRUNCATED, "%s: %s", s->path, msg);
        }
        if (present > count) {
            trailing_data(count, (size_t)(present - count), msg, sizeof msg);
            return fnn__fail(err, err_size, FNN_E_FORMAT, "%s: %s", s->path, msg);
        }
        first = count;
    }
    uint8_t *data = NULL, extra;
    size_t cap = 0, n = 0, more = 0;
    int rc = stream_read_alloc(s, first, count, &data, &cap, &n, err, err_size);
    if (rc == FNN_OK && n == count)
        rc = stream_read(s, &extra, 1, &more, err, err_size); /* must be the end */
    if (rc == FNN_OK && n < count) {
        truncated_data(count, n, msg, sizeof msg);
        rc = fnn__fail(err, err_size, FNN_E_TRUNCATED, "%s: %s", s->path, msg);
    } else if (rc == FNN_OK && more > 0) {
        rc = fnn__fail(err, err_size, FNN_E_FORMAT,
                       "%s: trailing bytes after the %zu data bytes the header declares",
                       s->path, count);
    }
    if (rc != FNN_OK) {
        free(data);
        return rc;
    }
    hdr->data = data;
    return FNN_OK;
}

void fnn__idx_close(fnn__idx_reader *r)
{
    if (!r)
        return;
    stream_close(&r->s);
    free(r);
}
