/* A scratch directory for the Check programs that write files: make_tmpdir()
 * and remove_tmpdir() as a checked fixture (each test gets a new directory),
 * tpath() for the path of a file in it. */
#ifndef FNN_TEST_SCRATCH_H
#define FNN_TEST_SCRATCH_H

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[64];

static inline void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/fnn-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

/* Removes the directory with the files in it (there are no subdirectories). */
static inline void remove_tmpdir(void)
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
static inline const char *tpath(const char *name)
{
    static char ring[4][1024];
    static int next;
    char *p = ring[next++ % 4];
    snprintf(p, sizeof ring[0], "%s/%s", tmpdir, name);
    return p;
}

#endif
