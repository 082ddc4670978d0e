#include "autoconfig.h"
#include "util/fsutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

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
