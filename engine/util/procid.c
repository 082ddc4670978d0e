/* procid.c — process identities and whether their owner lives (procid.h). */
#include "autoconfig.h"
#include "util/procid.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static procid self;
static pthread_once_t self_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t host_lock = PTHREAD_MUTEX_INITIALIZER;
static char host_name[PROCID_HOST_MAX]; /* procid_use_host's, or "" */
static int self_made;                   /* procid_self() has run */

/* Host names go into file names and tags: nothing that could split them. */
static void clean_host(const char *in, char out[PROCID_HOST_MAX])
{
    size_t j = 0;
    for (size_t i = 0; in[i] && j + 1 < PROCID_HOST_MAX; i++) {
        unsigned char c = (unsigned char)in[i];
        out[j++] = isalnum(c) || c == '.' || c == '-' || c == '_' ? (char)c : '_';
    }
    out[j] = '\0';
    if (j == 0)
        snprintf(out, PROCID_HOST_MAX, "unknown");
}

/* The start time (field 22) and state (field 3) of /proc/PID/stat. The
 * command name (field 2) may hold spaces and parentheses, so the fields
 * are counted from its last ')'. Returns 0, or -1 when it cannot be read. */
static int proc_stat(long pid, unsigned long long *start, char *state)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ')
        return -1;
    p += 2;
    *state = *p;
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (!p)
            return -1;
        p++;
    }
    char *end;
    errno = 0;
    *start = strtoull(p, &end, 10);
    return errno || end == p ? -1 : 0;
}

static void read_boot(char boot[9])
{
    boot[0] = '\0';
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
    if (!f)
        return;
    char buf[64] = "";
    if (fgets(buf, sizeof buf, f) && strspn(buf, "0123456789abcdef") >= 8)
        snprintf(boot, 9, "%.8s", buf);
    fclose(f);
}

static void init_self(void)
{
    char host[256] = "";
    pthread_mutex_lock(&host_lock);
    self_made = 1;
    if (host_name[0])
        snprintf(host, sizeof host, "%s", host_name);
    pthread_mutex_unlock(&host_lock);
    if (!host[0])
        gethostname(host, sizeof host - 1);
    clean_host(host, self.host);
    self.pid = (long)getpid();
    char state;
    if (proc_stat(self.pid, &self.start, &state) != 0)
        self.start = 0;
    read_boot(self.boot);
}

int procid_use_host(const char *name)
{
    size_t len = strlen(name);
    const char *tail = len >= PROCID_HOST_MAX ? name + len - (PROCID_HOST_MAX - 1) : name;
    pthread_mutex_lock(&host_lock);
    int rc = self_made ? -1 : 0;
    if (rc == 0)
        clean_host(tail, host_name);
    pthread_mutex_unlock(&host_lock);
    return rc;
}

const procid *procid_self(void)
{
    pthread_once(&self_once, init_self);
    return &self;
}

char *procid_format(const procid *p, char out[PROCID_TAG_MAX])
{
    snprintf(out, PROCID_TAG_MAX, "%ld-%llu-%s@%s", p->pid, p->start, p->boot[0] ? p->boot : "0",
             p->host);
    return out;
}

/* A run of digits (base 10 or 16) ending at `stop`; advances *s past it. */
static int take_number(const char **s, int base, char stop, unsigned long long *out)
{
    const char *p = *s;
    if (!(base == 16 ? isxdigit((unsigned char)*p) : isdigit((unsigned char)*p)))
        return -1;
    char *end;
    errno = 0;
    *out = strtoull(p, &end, base);
    if (errno || *end != stop || end - p > 20)
        return -1;
    *s = end + 1;
    return 0;
}

int procid_parse(const char *tag, procid *out)
{
    memset(out, 0, sizeof *out);
    const char *p = tag;
    unsigned long long pid, boot;
    const char *boot_at;
    if (take_number(&p, 10, '-', &pid) != 0 || pid == 0 || pid > LONG_MAX ||
        take_number(&p, 10, '-', &out->start) != 0)
        return -1;
    boot_at = p;
    if (take_number(&p, 16, '@', &boot) != 0)
        return -1;
    size_t boot_len = (size_t)(p - 1 - boot_at);
    if (!(boot_len == 8 || (boot_len == 1 && boot == 0)))
        return -1;
    if (boot_len == 8)
        memcpy(out->boot, boot_at, 8);
    size_t host_len = strlen(p);
    if (host_len == 0 || host_len >= PROCID_HOST_MAX)
        return -1;
    char clean[PROCID_HOST_MAX];
    clean_host(p, clean);
    if (strcmp(clean, p) != 0)
        return -1;
    memcpy(out->host, p, host_len + 1);
    out->pid = (long)pid;
    return 0;
}

static procid_verdict verdict(procid_verdict v, char *why, size_t whylen, const char *fmt,
                              const procid *w, const char *extra)
{
    if (why && whylen)
        snprintf(why, whylen, fmt, w->pid, w->host, extra);
    return v;
}

procid_verdict procid_judge(const procid *w, char *why, size_t whylen)
{
    const procid *me = procid_self();
    if (strcmp(w->host, me->host) != 0)
        return verdict(PROCID_FOREIGN, why, whylen, "process %ld runs on %s, not on this host%s",
                       w, "");
    if (w->boot[0] && me->boot[0] && strcmp(w->boot, me->boot) != 0)
        return verdict(PROCID_GONE, why, whylen, "process %ld on %s belonged to an earlier "
                                                 "boot%s", w, " (the host restarted since)");
    if (kill((pid_t)w->pid, 0) != 0 && errno == ESRCH)
        return verdict(PROCID_GONE, why, whylen, "process %ld on %s has ended%s", w, "");
    unsigned long long start;
    char state;
    if (proc_stat(w->pid, &start, &state) == 0) {
        if (state == 'Z' || state == 'X')
            return verdict(PROCID_GONE, why, whylen, "process %ld on %s has ended%s", w,
                           " (a zombie)");
        if (w->start && start != w->start)
            return verdict(PROCID_GONE, why, whylen,
                           "process %ld on %s has ended%s", w,
                           " (its pid now belongs to a process started later)");
    }
    return verdict(PROCID_ALIVE, why, whylen, "process %ld on %s is running%s", w, "");
}
