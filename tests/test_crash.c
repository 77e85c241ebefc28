/* Crash safety of fnn_model_save() (docs/FORMAT.md, "Writing"): children that
 * save a 7.5 MB model, some after loading it from the very path they save to,
 * are killed with SIGKILL at many points of their save; after every kill the
 * path must hold the complete old model or the complete new one, at most the
 * killed child's temporary file may lie beside it, and the next complete save
 * leaves none. The rule for stale temporary files is also checked name by
 * name. White-box: links the library objects. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "scratch.h"
#include "testutil.h"

/* 1,863,690 parameters: a file of 7.5 MB, whose save takes some milliseconds. */
#define BIG "input:784,dense:1024,relu,dense:1024,relu,dense:10"
#define KILLS 120

/* The model's path in the scratch directory. */
static char path[128];

static void make_dir(void)
{
    make_tmpdir();
    snprintf(path, sizeof path, "%s/model.fnn", tmpdir);
}

static fnn_model *make_model(const char *spec, uint64_t seed)
{
    fnn_model *m = NULL;
    char err[256] = "";
    ck_assert_msg(fnn_model_create(&m, spec, seed, err, sizeof err) == FNN_OK, "%s", err);
    return m;
}

static float *params_of(const fnn_model *m)
{
    size_t n = fnn_model_num_params(m);
    float *p = malloc(n * sizeof *p);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(fnn_model_get_params(m, p, n), FNN_OK);
    return p;
}

/* The entries of the scratch directory other than model.fnn: their number,
 * and the first one's name in `first` (when not NULL). */
static int others(char *first, size_t first_size)
{
    DIR *d = opendir(tmpdir);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            strcmp(e->d_name, "model.fnn") == 0)
            continue;
        if (n++ == 0 && first)
            snprintf(first, first_size, "%s", e->d_name);
    }
    closedir(d);
    return n;
}

/* Whether name is a temporary of model.fnn written by process pid:
 * model.fnn.tmp.<pid>.<6 letters or digits>. */
static int is_temporary_of(const char *name, pid_t pid)
{
    char prefix[64];
    int n = snprintf(prefix, sizeof prefix, "model.fnn.tmp.%ld.", (long)pid);
    if (strncmp(name, prefix, (size_t)n) != 0 || strlen(name + n) != 6)
        return 0;
    for (const char *c = name + n; *c; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')))
            return 0;
    return 1;
}

/* Which of the candidates the file at path holds, in full: 0 or 1. */
static int which_model(float *const cand[2], size_t n)
{
    fnn_model *m = NULL;
    char err[256] = "";
    int rc = fnn_model_load(&m, path, err, sizeof err);
    ck_assert_msg(rc == FNN_OK, "the file at the path does not load: %s", err);
    ck_assert_uint_eq(fnn_model_num_params(m), n);
    float *p = params_of(m);
    int which = memcmp(p, cand[0], n * sizeof *p) == 0   ? 0
                : memcmp(p, cand[1], n * sizeof *p) == 0 ? 1
                                                         : -1;
    free(p);
    fnn_model_free(m);
    ck_assert_msg(which >= 0, "the file at the path is neither the old model nor the new");
    return which;
}

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* A child's save of models[target] to path; with reload, as a model loaded
 * from path itself, given the target's parameters. Exits 0 on success. */
static void child_save(fnn_model *const models[2], float *const params[2], int target,
                       int reload)
{
    fnn_model *m = models[target];
    if (reload) {
        size_t n = fnn_model_num_params(m);
        if (fnn_model_load(&m, path, NULL, 0) != FNN_OK ||
            fnn_model_set_params(m, params[target], n) != FNN_OK)
            _exit(2);
    }
    _exit(fnn_model_save(m, path) == FNN_OK ? 0 : 1);
}

START_TEST(kill_during_save)
{
    fnn_model *models[2] = {make_model(BIG, 1), make_model(BIG, 2)};
    float *params[2] = {params_of(models[0]), params_of(models[1])};
    const size_t n = fnn_model_num_params(models[0]);
    ck_assert(memcmp(params[0], params[1], n * sizeof(float)) != 0);

    /* How long a child takes, from fork to exit, to save and to load then
     * save, so that the kills can be spread over that (a measurement,
     * asserted on nowhere): the longest of three uninterrupted runs. */
    ck_assert_int_eq(fnn_model_save(models[0], path), FNN_OK);
    int cur = 0, killed = 0, replaced = 0;
    double took[2] = {0, 0};
    for (int r = 0; r < 6; r++) {
        double t0 = seconds();
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0)
            child_save(models, params, 1 - cur, r % 2);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        double t = seconds() - t0;
        took[r % 2] = t > took[r % 2] ? t : took[r % 2];
        cur = 1 - cur;
        ck_assert_int_eq(which_model(params, n), cur);
    }

    pid_t pids[KILLS];
    for (int k = 0; k < KILLS; k++) {
        int target = 1 - cur, reload = k % 2;
        /* Delays in [0, 1.25 x the child's run) by a low-discrepancy sequence. */
        double span = 1.25 * took[reload];
        double frac = (double)k * 0.6180339887498949;
        frac -= (double)(long)frac;
        double delay = frac * span;
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0)
            child_save(models, params, target, reload);
        pids[k] = pid;
        struct timespec ts = {(time_t)delay, (long)((delay - (double)(time_t)delay) * 1e9)};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        if (WIFSIGNALED(status))
            killed++;
        else
            ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                          "kill %d: the save failed on its own (status 0x%x)", k, status);

        /* The old model or the new one, complete; beside it at most one
         * temporary, of a killed child (the last one, or an earlier one when
         * the last was killed before it removed stale temporaries). */
        int now = which_model(params, n);
        ck_assert(now == cur || now == target);
        replaced += now != cur;
        cur = now;
        char name[300];
        int extra = others(name, sizeof name);
        ck_assert_msg(extra <= 1, "kill %d: %d files beside the model", k, extra);
        if (extra == 1) {
            int j = 0;
            while (j <= k && !is_temporary_of(name, pids[j]))
                j++;
            ck_assert_msg(j <= k, "kill %d: stray file %s", k, name);
        }

        /* Every tenth kill, a complete save: no temporary is left. */
        if (k % 10 == 9) {
            ck_assert_int_eq(fnn_model_save(models[1 - cur], path), FNN_OK);
            cur = 1 - cur;
            ck_assert_int_eq(which_model(params, n), cur);
            ck_assert_int_eq(others(NULL, 0), 0);
        }
    }
    /* Saves were interrupted (the first kill comes right after the fork). */
    ck_assert_int_gt(killed, 0);
    fprintf(stderr, "kill_during_save: %d of %d saves killed, %d replaced the file\n", killed,
            KILLS, replaced);
    free(params[0]);
    free(params[1]);
    fnn_model_free(models[0]);
    fnn_model_free(models[1]);
}
END_TEST

START_TEST(killed_after_temporary)
{
    /* A child whose write exceeds its file size limit gets SIGXFSZ and dies
     * after its temporary exists, before its rename: the temporary stays,
     * named after the child's pid, and the next save removes it. */
    fnn_model *a = make_model(BIG, 1), *b = make_model(BIG, 2);
    float *pa = params_of(a), *pb = params_of(b);
    float *cand[2] = {pa, pb};
    const size_t n = fnn_model_num_params(a);
    ck_assert_int_eq(fnn_model_save(a, path), FNN_OK);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct rlimit fsize = {4096, 4096}, core = {0, 0};
        signal(SIGXFSZ, SIG_DFL);
        if (setrlimit(RLIMIT_CORE, &core) != 0 || setrlimit(RLIMIT_FSIZE, &fsize) != 0)
            _exit(2);
        fnn_model_save(b, path);
        _exit(1);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ, "status 0x%x", status);
    char name[300];
    ck_assert_int_eq(others(name, sizeof name), 1);
    ck_assert_msg(is_temporary_of(name, pid), "temporary named %s", name);
    ck_assert_int_eq(which_model(cand, n), 0);
    ck_assert_int_eq(fnn_model_save(b, path), FNN_OK);
    ck_assert_int_eq(others(NULL, 0), 0);
    ck_assert_int_eq(which_model(cand, n), 1);
    free(pa);
    free(pb);
    fnn_model_free(a);
    fnn_model_free(b);
}
END_TEST

static void touch(const char *name)
{
    FILE *f = fopen(tpath(name), "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fclose(f), 0);
}

static int exists(const char *name)
{
    struct stat st;
    return lstat(tpath(name), &st) == 0;
}

/* A process id that no process has: a child that has exited and been reaped. */
static pid_t dead_pid(void)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(0);
    ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
    ck_assert_int_eq(kill(pid, 0), -1);
    ck_assert_int_eq(errno, ESRCH);
    return pid;
}

START_TEST(stale_temporary_rule)
{
    fnn_model *m = make_model("input:4,dense:2", 1);
    pid_t dead = dead_pid(), self = getpid();
    pid_t sleeper = fork();
    ck_assert_int_ge(sleeper, 0);
    if (sleeper == 0) {
        pause();
        _exit(0);
    }
    char removed[3][64], kept[12][64];
    snprintf(removed[0], 64, "model.fnn.tmp.%ld.a1B2c3", (long)dead);
    snprintf(removed[1], 64, "model.fnn.tmp.%ld.XXXXXX", (long)dead);
    snprintf(removed[2], 64, "model.fnn.tmp.%ld.000000", (long)dead);
    snprintf(kept[0], 64, "model.fnn.tmp.%ld.a1B2c3", (long)self);    /* this process */
    snprintf(kept[1], 64, "model.fnn.tmp.%ld.a1B2c3", (long)sleeper); /* another, alive */
    snprintf(kept[2], 64, "model.fnn.tmp.1.a1B2c3");                  /* init */
    snprintf(kept[3], 64, "model.fnn.tmp.%ld.a1B2c", (long)dead);     /* 5 characters */
    snprintf(kept[4], 64, "model.fnn.tmp.%ld.a1B2c3d", (long)dead);   /* 7 characters */
    snprintf(kept[5], 64, "model.fnn.tmp.0%ld.a1B2c3", (long)dead);   /* leading zero */
    snprintf(kept[6], 64, "model.fnn.tmp.%ld.a1-2c3", (long)dead);    /* not alphanumeric */
    snprintf(kept[7], 64, "model.fnn.tmp.a1B2c3");                    /* no pid: old style */
    snprintf(kept[8], 64, "other.fnn.tmp.%ld.a1B2c3", (long)dead);    /* another path */
    snprintf(kept[9], 64, "model.fnnx.tmp.%ld.a1B2c3", (long)dead);   /* another path */
    snprintf(kept[10], 64, "xmodel.fnn.tmp.%ld.a1B2c3", (long)dead);  /* another path */
    snprintf(kept[11], 64, "model.fnn.tmp.%ld0000000000.a1B2c3", (long)dead); /* no pid */
    for (int i = 0; i < 3; i++)
        touch(removed[i]);
    for (int i = 0; i < 12; i++)
        touch(kept[i]);

    ck_assert_int_eq(fnn_model_save(m, path), FNN_OK);
    for (int i = 0; i < 3; i++)
        ck_assert_msg(!exists(removed[i]), "%s was not removed", removed[i]);
    for (int i = 0; i < 12; i++)
        ck_assert_msg(exists(kept[i]), "%s was removed", kept[i]);
    ck_assert_int_eq(others(NULL, 0), 12);

    /* Once the sleeper has ended, its temporary goes with the next save. */
    kill(sleeper, SIGKILL);
    ck_assert_int_eq(waitpid(sleeper, NULL, 0), sleeper);
    ck_assert_int_eq(fnn_model_save(m, path), FNN_OK);
    ck_assert(!exists(kept[1]));
    ck_assert_int_eq(others(NULL, 0), 11);

    /* A relative path looks in the current directory. */
    char cwd[4096], rel[64];
    snprintf(rel, sizeof rel, "model.fnn.tmp.%ld.zzzzzz", (long)dead);
    touch(rel);
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_int_eq(chdir(tmpdir), 0);
    ck_assert_int_eq(fnn_model_save(m, "model.fnn"), FNN_OK);
    ck_assert_int_eq(chdir(cwd), 0);
    ck_assert(!exists(rel));
    fnn_model_free(m);
}
END_TEST

static Suite *crash_suite(void)
{
    Suite *s = suite_create("crash");
    TCase *tc = tcase_create("save");
    tcase_add_checked_fixture(tc, make_dir, remove_tmpdir);
    tcase_add_test(tc, kill_during_save);
    tcase_add_test(tc, killed_after_temporary);
    tcase_add_test(tc, stale_temporary_rule);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fnn_test_main(crash_suite());
}
