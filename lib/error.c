/* Status codes, messages, escaping and checked size arithmetic. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"

FNN_API const char *fnn_strerror(int status)
{
    switch (status) {
    case FNN_OK: return "success";
    case FNN_E_NULL: return "a required handle or pointer was NULL";
    case FNN_E_INVALID: return "invalid argument";
    case FNN_E_NOMEM: return "out of memory or size overflow";
    case FNN_E_IO: return "input/output error";
    case FNN_E_FORMAT: return "bad or inconsistent file format";
    case FNN_E_TRUNCATED: return "file or buffer is truncated";
    case FNN_E_CHECKSUM: return "checksum mismatch";
    case FNN_E_VERSION: return "unsupported format version or feature";
    case FNN_E_SHAPE: return "shape or length mismatch";
    case FNN_E_RANGE: return "index or label out of range";
    case FNN_E_SPEC: return "invalid model specification";
    case FNN_E_NUMERIC: return "NaN or infinite value";
    case FNN_E_CANCELLED: return "cancelled by callback";
    case FNN_E_STATE: return "operation not valid in the current state";
    case FNN_E_DUPLICATE: return "duplicate index";
    case FNN_E_EMPTY: return "empty data set or request";
    default: return "unknown status code";
    }
}

int fnn__vfail(char *buf, size_t size, int code, const char *fmt, va_list ap)
{
    if (buf && size > 0) {
        int w = vsnprintf(buf, size, fmt, ap);
        if (w < 0)
            buf[0] = '\0';
    }
    return code;
}

int fnn__fail(char *buf, size_t size, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fnn__vfail(buf, size, code, fmt, ap);
    va_end(ap);
    return code;
}

size_t fnn__escape(char *dst, size_t size, const char *src)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    if (!dst || size == 0)
        return 0;
    for (const unsigned char *p = (const unsigned char *)src; *p; p++) {
        char e[4];
        size_t k = 0;
        if (*p == '\\') {
            e[k++] = '\\';
            e[k++] = '\\';
        } else if (*p < 0x20 || *p > 0x7e) {
            e[k++] = '\\';
            e[k++] = 'x';
            e[k++] = hex[*p >> 4];
            e[k++] = hex[*p & 15];
        } else {
            e[k++] = (char)*p;
        }
        if (size - n <= k)
            break; /* an escape is never cut in half */
        memcpy(dst + n, e, k);
        n += k;
    }
    dst[n] = '\0';
    return n;
}

int fnn__mul(size_t a, size_t b, size_t *r)
{
    if (a != 0 && b > SIZE_MAX / a)
        return -1;
    *r = a * b;
    return 0;
}

int fnn__add(size_t a, size_t b, size_t *r)
{
    if (b > SIZE_MAX - a)
        return -1;
    *r = a + b;
    return 0;
}

double fnn__now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
