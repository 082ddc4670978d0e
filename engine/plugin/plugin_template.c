/* plugin_template.c — a plugin project from the template
 * (plugin_template.h). */
#include "autoconfig.h"
#include "plugin/plugin_template.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plugin/plugin_host.h"
#include "util/alloc.h"
#include "util/fsutil.h"
#include "util/strbuf.h"

#define TEMPLATE_NAME "linecount"

char *plugin_template_dir(void)
{
    if (plugin_host_from_build_tree()) {
        char *dir = xasprintf("%s/plugins/linecount/kit", SLUICE_BUILD_TREE);
        struct stat st;
        if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
            return dir;
        free(dir);
    }
    return fsutil_installed(SLUICE_TEMPLATEDIR, SLUICE_PREFIX);
}

/* `text` with every TEMPLATE_NAME replaced by `name`. */
static void substitute(strbuf *out, const char *text, size_t len, const char *name)
{
    size_t tl = strlen(TEMPLATE_NAME);
    size_t i = 0;
    while (i < len) {
        if (len - i >= tl && memcmp(text + i, TEMPLATE_NAME, tl) == 0) {
            sb_adds(out, name);
            i += tl;
        } else {
            sb_addc(out, text[i++]);
        }
    }
}

static char *target_name(const char *file, const char *name)
{
    if (strcmp(file, "gitignore") == 0)
        return xstrdup(".gitignore");
    strbuf sb = STRBUF_INIT;
    substitute(&sb, file, strlen(file), name);
    return sb_steal(&sb);
}

static int write_file(const char *path, const strbuf *data, sl_error *err)
{
    FILE *fp = fopen(path, "wx");
    if (!fp) {
        sl_error_set(err, SL_ERR_INTERNAL, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    size_t n = data->len ? fwrite(data->buf, 1, data->len, fp) : 0;
    int bad = n != data->len || ferror(fp);
    if (fclose(fp) != 0 || bad) {
        sl_error_set(err, SL_ERR_INTERNAL, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int copy_one(const char *tdir, const char *file, const char *name, const char *out,
                    sl_error *err)
{
    char *src = xasprintf("%s/%s", tdir, file);
    char *leaf = target_name(file, name);
    char *dst = xasprintf("%s/%s", out, leaf);
    strbuf in = STRBUF_INIT, text = STRBUF_INIT;
    int rc = -1;
    int errnum = sb_read_file(&in, src);
    if (errnum)
        sl_error_set(err, SL_ERR_INTERNAL, "cannot read the template file %s: %s", src,
                     strerror(errnum));
    else {
        substitute(&text, in.buf ? in.buf : "", in.len, name);
        rc = write_file(dst, &text, err);
    }
    sb_free(&in);
    sb_free(&text);
    free(src);
    free(leaf);
    free(dst);
    return rc;
}

static int is_regular(const char *dir, const char *file)
{
    char *p = xasprintf("%s/%s", dir, file);
    struct stat st;
    int ok = stat(p, &st) == 0 && S_ISREG(st.st_mode);
    free(p);
    return ok;
}

static int copy_all(const char *tdir, const char *name, const char *out, sl_error *err)
{
    DIR *d = opendir(tdir);
    if (!d) {
        sl_error_set(err, SL_ERR_CONFIG, "no plugin template at %s: %s", tdir, strerror(errno));
        return -1;
    }
    struct dirent *de;
    int rc = 0, files = 0;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || !is_regular(tdir, de->d_name))
            continue;
        rc = copy_one(tdir, de->d_name, name, out, err);
        files++;
    }
    closedir(d);
    if (rc == 0 && files == 0) {
        sl_error_set(err, SL_ERR_CONFIG, "the plugin template %s is empty", tdir);
        rc = -1;
    }
    return rc;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    remove(path);
    return 0;
}

/* `autoreconf -fi` in `dir`, its output in dir/autoreconf.log (removed,
 * with autom4te.cache, when it succeeded). */
static int bootstrap(const char *dir, sl_error *err)
{
    char *logpath = xasprintf("%s/autoreconf.log", dir);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || chdir(dir) != 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
            _exit(126);
        execlp("autoreconf", "autoreconf", "-fi", (char *)NULL);
        _exit(127);
    }
    int status = 0;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    int ok = pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok) {
        strbuf log = STRBUF_INIT;
        sb_read_file(&log, logpath);
        const char *text = sb_str(&log);
        const char *last = strrchr(text, '\n') && log.len > 1 ? text + log.len - 1 : text;
        while (last > text && last[-1] != '\n')
            last--;
        sl_error_set(err, SL_ERR_CONFIG, "autoreconf -fi in the new project failed (%s)%s%.200s",
                     pid < 0 ? strerror(errno)
                     : WIFEXITED(status) && WEXITSTATUS(status) == 127 ? "autoreconf not found"
                     : "see its output",
                     *last ? ": " : "", last);
        sb_free(&log);
    } else {
        char *cache = xasprintf("%s/autom4te.cache", dir);
        nftw(cache, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(cache);
        remove(logpath);
    }
    free(logpath);
    return ok ? 0 : -1;
}

/* 1 when dest is absent or an empty directory: what the final rename can
 * replace. Asked first so a refusal does not wait for autoreconf; the
 * rename still decides when another writer gets there in between. */
static int dest_is_free(const char *dest)
{
    struct stat st;
    if (lstat(dest, &st) != 0)
        return errno == ENOENT;
    if (!S_ISDIR(st.st_mode))
        return 0;
    DIR *d = opendir(dest);
    if (!d)
        return 0;
    int empty = 1;
    for (struct dirent *e; empty && (e = readdir(d)) != NULL;)
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    return empty;
}

int plugin_template_write(const char *template_dir, const char *name, const char *dest,
                          int run_autoreconf, sl_error *err)
{
    if (!dest_is_free(dest)) {
        sl_error_set(err, SL_ERR_CONFIG, "cannot create %s: it exists and is not an empty directory",
                     dest);
        return -1;
    }
    /* the temporary directory is a sibling, so the rename stays on one
     * file system */
    char *tmp = xasprintf("%s.new-XXXXXX", dest);
    if (!mkdtemp(tmp)) {
        sl_error_set(err, SL_ERR_CONFIG, "cannot create %s: %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    int rc = copy_all(template_dir, name, tmp, err);
    if (rc == 0 && run_autoreconf)
        rc = bootstrap(tmp, err);
    if (rc == 0 && (chmod(tmp, 0755) != 0 || rename(tmp, dest) != 0)) {
        sl_error_set(err, SL_ERR_CONFIG, "cannot create %s: %s", dest,
                     errno == ENOTEMPTY || errno == EEXIST
                         ? "it exists and is not an empty directory"
                         : strerror(errno));
        rc = -1;
    }
    if (rc != 0)
        nftw(tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(tmp);
    return rc;
}
