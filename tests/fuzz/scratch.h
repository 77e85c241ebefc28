/* A scratch file for fuzz targets that read files: an unlinked temporary (in
 * /dev/shm, else /tmp) opened again through /proc/self/fd (Linux), rewritten
 * for every input, so nothing is left behind. */
#ifndef FNN_FUZZ_SCRATCH_H
#define FNN_FUZZ_SCRATCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* The path of the scratch file, now holding data[0..size), or NULL. */
static inline const char *scratch_file(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        /* Memory-backed where there is /dev/shm: many times faster. */
        char shm[] = "/dev/shm/fnn-fuzz-XXXXXX", tmp[] = "/tmp/fnn-fuzz-XXXXXX";
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

#endif
