/* Replays inputs through LLVMFuzzerTestOneInput(), so a fuzz target runs as a
 * plain regression test where libFuzzer is absent.
 *
 * Usage: fuzz_<name> PATH...  Each PATH is a file, or a directory whose
 * regular files run in name order. Prints "ran N inputs"; exits 1 when an
 * argument or file cannot be read (after running the rest), 2 without
 * arguments. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Runs the target on one file; 0 on success, -1 (message on stderr) if it
 * cannot be read. The input sits in a buffer of exactly its size, so a
 * sanitizer sees any read past its end. */
static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot open: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        uint8_t *p = realloc(buf, cap *= 2);
        if (!p) {
            free(buf);
            buf = NULL;
        } else {
            buf = p;
        }
    }
    int bad = !buf || ferror(f);
    int e = errno;
    fclose(f);
    if (bad) {
        fprintf(stderr, "%s: cannot read: %s\n", path, buf ? strerror(e) : "out of memory");
        free(buf);
        return -1;
    }
    uint8_t *exact = malloc(n ? n : 1);
    if (!exact) {
        fprintf(stderr, "%s: out of memory\n", path);
        free(buf);
        return -1;
    }
    memcpy(exact, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every regular file of dir in name order; counts runs in *ran. */
static int run_dir(const char *dir, size_t *ran)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "%s: cannot open: %s\n", dir, strerror(errno));
        return -1;
    }
    char **paths = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t size = strlen(dir) + strlen(e->d_name) + 2;
        char *path = malloc(size);
        if (!path) {
            rc = -1;
            break;
        }
        snprintf(path, size, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(path);
            continue;
        }
        if (n == cap) {
            char **p = realloc(paths, (cap = cap ? 2 * cap : 64) * sizeof *p);
            if (!p) {
                free(path);
                rc = -1;
                break;
            }
            paths = p;
        }
        paths[n++] = path;
    }
    closedir(d);
    if (rc != 0)
        fprintf(stderr, "%s: out of memory\n", dir);
    if (n)
        qsort(paths, n, sizeof *paths, by_name);
    for (size_t i = 0; i < n; i++) {
        if (run_file(paths[i]) == 0)
            ++*ran;
        else
            rc = -1;
        free(paths[i]);
    }
    free(paths);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE_OR_DIRECTORY...\n", argv[0]);
        return 2;
    }
    size_t ran = 0;
    int failed = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
            failed = 1;
        } else if (S_ISDIR(st.st_mode)) {
            failed |= run_dir(argv[i], &ran) != 0;
        } else if (run_file(argv[i]) == 0) {
            ran++;
        } else {
            failed = 1;
        }
    }
    printf("ran %zu inputs\n", ran);
    return failed;
}
