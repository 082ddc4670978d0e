#include "autoconfig.h"
#include "util/fsutil.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/strbuf.h"

int fsutil_mkdirs(const char *dir, mode_t mode, char *failed, size_t failedlen)
{
    char *buf = xstrdup(dir);
    int rc = 0;
    for (char *p = buf + 1; rc == 0; p++) {
        char c = *p;
        if (c != '/' && c != '\0')
            continue;
        *p = '\0';
        struct stat sb;
        if (mkdir(buf, mode) != 0 && errno != EEXIST &&
            !(stat(buf, &sb) == 0 && S_ISDIR(sb.st_mode))) {
            rc = errno ? errno : EIO;
            if (failed && failedlen)
                snprintf(failed, failedlen, "%s", buf);
        }
        *p = c;
        if (c == '\0')
            break;
    }
    free(buf);
    return rc;
}

static int fsutil_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

char *fsutil_installed(const char *path, const char *prefix)
{
    size_t pl = strlen(prefix);
    char exe[PATH_MAX];
    ssize_t n;
    if (fsutil_exists(path) || strncmp(path, prefix, pl) != 0 || path[pl] != '/' ||
        (n = readlink("/proc/self/exe", exe, sizeof exe - 1)) <= 0)
        return xstrdup(path);
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash || slash - exe < 4 || strncmp(slash - 4, "/bin", 4) != 0)
        return xstrdup(path);
    slash[-4] = '\0';
    char *moved = xasprintf("%s%s", exe, path + pl);
    if (fsutil_exists(moved))
        return moved;
    free(moved);
    return xstrdup(path);
}

int fsutil_in_path(const char *name)
{
    const char *path = getenv("PATH");
    if (!path || !*name || strchr(name, '/'))
        return 0;
    for (const char *p = path;; p++) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char *file = xasprintf("%.*s/%s", (int)len, len ? p : ".", name);
        int found = access(file, X_OK) == 0;
        free(file);
        if (found)
            return 1;
        if (!end)
            return 0;
        p = end;
    }
}
