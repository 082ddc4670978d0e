/* test_watch.c — engine/watch.c on a real directory tree: what a scan
 * reports (regular files only, hidden names and the excluded tree left
 * out, no symlink followed), what events report (closed, moved in, files
 * in new directories), paths after a directory is renamed, the root going
 * away, and the open-for-writing check through /proc. */
#include "autoconfig.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/strbuf.h"
#include "tap.h"
#include "intake/watch_tree.h"

/* Reports collected as sorted "ORIGIN rel" lines. */
typedef struct reports {
    char **lines;
    size_t n;
} reports;

static void collect(void *ud, const char *rel, watch_tree_origin origin)
{
    reports *r = ud;
    static const char *const names[] = {"closed", "moved", "found"};
    r->lines = xrealloc(r->lines, (r->n + 1) * sizeof *r->lines);
    r->lines[r->n++] = xasprintf("%s %s", names[origin], rel);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The reports so far, sorted, one per line; then forgets them. */
static char *take(reports *r)
{
    if (r->n)
        qsort(r->lines, r->n, sizeof *r->lines, cmp_str);
    strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < r->n; i++) {
        sb_addf(&sb, "%s%s", i ? "\n" : "", r->lines[i]);
        free(r->lines[i]);
    }
    free(r->lines);
    r->lines = NULL;
    r->n = 0;
    return sb.len ? sb_steal(&sb) : (sb_free(&sb), xstrdup(""));
}

static void write_file(const char *dir, const char *rel, const char *text)
{
    char *path = xasprintf("%s/%s", dir, rel);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    free(path);
}

static void make_dir(const char *dir, const char *rel)
{
    char *path = xasprintf("%s/%s", dir, rel);
    mkdir(path, 0777);
    free(path);
}

static void is_reports(reports *r, const char *want, const char *name)
{
    char *got = take(r);
    is_str(got, want, "%s", name);
    free(got);
}

static int process(watch_tree *wt, reports *r)
{
    sl_error err = {0};
    int rc = watch_tree_process(wt, collect, r, &err);
    if (rc != 0)
        printf("# %s\n", err.msg);
    return rc;
}

static void test_scan_and_events(const char *base)
{
    char *root = xasprintf("%s/root", base);
    char *sent = xasprintf("%s/root/.sent", base);
    mkdir(root, 0777);
    make_dir(root, "a");
    make_dir(root, "a/b");
    make_dir(root, ".hidden");
    make_dir(root, ".sent");
    write_file(root, "top.txt", "t");
    write_file(root, "a/b/f1", "1");
    write_file(root, ".hidden/h", "h");
    write_file(root, ".sent/done", "d");
    write_file(root, ".part", "p");
    char *target = xasprintf("%s/root/top.txt", base);
    char *link = xasprintf("%s/root/link.txt", base);
    char *dirlink = xasprintf("%s/root/dirlink", base);
    char *fifo = xasprintf("%s/root/fifo", base);
    ok(symlink(target, link) == 0, "symlink to a file");
    ok(symlink(base, dirlink) == 0, "symlink to a directory");
    ok(mkfifo(fifo, 0600) == 0, "a fifo");

    reports r = {0};
    sl_error err = {0};
    watch_tree_opts opts = {.include_hidden = 0, .exclude_dir = sent};
    watch_tree *wt = watch_tree_new(root, &opts, &err);
    ok(wt != NULL, "watch_tree_new");
    is_int(watch_tree_rescan(wt, collect, &r, &err), 2, "scan: two files");
    is_reports(&r, "found a/b/f1\nfound top.txt",
               "scan: regular files only; hidden, excluded, links and fifos left out");
    is_int((long long)watch_tree_dirs(wt), 3, "three directories watched");
    ok(watch_tree_fd(wt) >= 0, "an inotify descriptor");

    write_file(root, "a/new.txt", "n");
    write_file(root, ".tmp", "x");
    char *staged = xasprintf("%s/staged.csv", base);
    char *moved = xasprintf("%s/moved.csv", root);
    write_file(base, "staged.csv", "s");
    ok(rename(staged, moved) == 0, "rename into the tree");
    is_int(process(wt, &r), 0, "events processed");
    is_reports(&r, "closed a/new.txt\nmoved moved.csv",
               "a closed file and one moved in; the hidden one ignored");

    /* a new directory with a file written before its watch exists */
    make_dir(root, "c");
    make_dir(root, "c/d");
    write_file(root, "c/d/early", "e");
    is_int(process(wt, &r), 0, "events processed");
    is_reports(&r, "found c/d/early", "new directories are scanned once watched");
    write_file(root, "c/d/late", "l");
    is_int(process(wt, &r), 0, "events processed");
    is_reports(&r, "closed c/d/late", "and watched from then on");
    is_int((long long)watch_tree_dirs(wt), 5, "five directories watched");

    /* a directory renamed inside the tree: a rescan, with the new paths */
    char *from = xasprintf("%s/a", root), *to = xasprintf("%s/z", root);
    ok(rename(from, to) == 0, "rename a directory");
    is_int(process(wt, &r), 0, "events processed");
    is_reports(&r,
               "found c/d/early\nfound c/d/late\nfound moved.csv\nfound top.txt\n"
               "found z/b/f1\nfound z/new.txt",
               "rescan after a directory moved");
    write_file(root, "z/b/after", "a");
    is_int(process(wt, &r), 0, "events processed");
    is_reports(&r, "closed z/b/after", "events carry the new path");

    /* writing to the excluded tree reports nothing */
    write_file(root, ".sent/more", "m");
    is_int(process(wt, &r), 0, "events processed");
    is_reports(&r, "", "the excluded tree is not watched");
    watch_tree_free(wt);

    /* hidden names included on request; the excluded tree still is not */
    opts.include_hidden = 1;
    wt = watch_tree_new(root, &opts, &err);
    watch_tree_rescan(wt, collect, &r, &err);
    char *got = take(&r);
    ok(strstr(got, "found .hidden/h\n") && strstr(got, "found .part\n") &&
           strstr(got, "found .tmp\n") && !strstr(got, "done") && !strstr(got, "more"),
       "--include-hidden: hidden names, not the excluded tree");
    free(got);
    watch_tree_free(wt);

    free(from);
    free(to);
    free(staged);
    free(moved);
    free(target);
    free(link);
    free(dirlink);
    free(fifo);
    free(sent);
    free(root);
}

static void test_root_gone(const char *base)
{
    char *root = xasprintf("%s/gone", base);
    mkdir(root, 0777);
    reports r = {0};
    sl_error err = {0};
    watch_tree *wt = watch_tree_new(root, NULL, &err);
    is_int(watch_tree_rescan(wt, collect, &r, &err), 0, "empty tree");
    ok(rmdir(root) == 0, "remove the root");
    is_int(watch_tree_process(wt, collect, &r, &err), -1, "watching stops");
    ok(strstr(err.msg, "the watched directory was deleted") != NULL ||
           strstr(err.msg, "the watched directory is gone") != NULL,
       "and says why (%s)", err.msg);
    watch_tree_free(wt);
    free(take(&r));

    sl_error_reset(&err);
    ok(watch_tree_new(root, NULL, &err) == NULL, "a missing root is refused");
    char *want = xasprintf("%s: No such file or directory", root);
    is_str(err.msg, want, "with the reason");
    free(want);
    free(root);
}

static void test_open_for_writing(const char *base)
{
    char *path = xasprintf("%s/open.txt", base);
    write_file(base, "open.txt", "x");
    is_int(watch_tree_open_for_writing(path), 0, "closed: not open for writing");
    int fd = open(path, O_WRONLY | O_APPEND);
    is_int(watch_tree_open_for_writing(path), 1, "open O_WRONLY: open for writing");
    close(fd);
    fd = open(path, O_RDWR);
    is_int(watch_tree_open_for_writing(path), 1, "open O_RDWR: open for writing");
    close(fd);
    fd = open(path, O_RDONLY);
    is_int(watch_tree_open_for_writing(path), 0, "open read-only: not for writing");
    close(fd);

    /* the same file under another name (a hard link) is the same inode */
    char *alias = xasprintf("%s/alias.txt", base);
    ok(link(path, alias) == 0, "hard link");
    fd = open(alias, O_WRONLY);
    is_int(watch_tree_open_for_writing(path), 1, "written through another name");
    close(fd);

    /* a child process holding it: `up` says it is open, `down` lets go */
    int up[2], down[2];
    ok(pipe(up) == 0 && pipe(down) == 0, "pipes");
    pid_t pid = fork();
    if (pid == 0) {
        int wfd = open(path, O_WRONLY);
        char c = 'r';
        if (wfd < 0 || write(up[1], &c, 1) != 1 || read(down[0], &c, 1) < 0)
            _exit(1);
        close(wfd);
        _exit(0);
    }
    char c;
    ok(read(up[0], &c, 1) == 1, "child has it open");
    is_int(watch_tree_open_for_writing(path), 1, "another process writing: open for writing");
    ok(write(down[1], "x", 1) == 1, "release the child");
    int status = -1;
    waitpid(pid, &status, 0);
    is_int(status, 0, "child exited cleanly");
    close(up[0]);
    close(up[1]);
    close(down[0]);
    close(down[1]);
    is_int(watch_tree_open_for_writing(path), 0, "child gone: not open");

    char *missing = xasprintf("%s/missing", base);
    is_int(watch_tree_open_for_writing(missing), 0, "a missing file is not open");
    free(missing);
    unlink(alias);
    free(alias);
    free(path);
}

int main(void)
{
    char tmpl[] = "/tmp/sluice-test-watch.XXXXXX";
    char *base = mkdtemp(tmpl);
    if (!base) {
        printf("1..0 # SKIP cannot create a temporary directory\n");
        return 0;
    }
    test_scan_and_events(base);
    test_root_gone(base);
    test_open_for_writing(base);
    char *cmd = xasprintf("rm -rf '%s'", base);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", base);
    free(cmd);
    return done_testing();
}
