#define _POSIX_C_SOURCE 200809L
/* A slow plugin, for tests of heartbeats, timeouts and clean stops: it
 * copies its input after a delay.
 *
 * Options:
 *   seconds       the delay (default 3)
 *   release_file  instead of a delay, wait until this path exists (looked
 *                 at every 10 ms; at most `max_wait` seconds, default 600,
 *                 then the job fails): the test decides when the job may
 *                 go on, so it is "in the middle of a job" for as long as
 *                 it needs, however slow the machine
 *   started_file  append "started INPUT\n" to this file when the job starts:
 *                 the test's signal that the job is running (one line per
 *                 job, so it can also count running jobs)
 *   write_first   write this many bytes ("sleepy\n" over and over) before
 *                 waiting, then the input: a job killed while it waits
 *                 leaves a temporary file, or an open multipart upload once
 *                 past the part size (the janitor's tests); started_file is
 *                 written after them */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sluice/plugin.h>

typedef struct state {
    const sluice_host *host;
    int64_t seconds, max_wait, write_first;
    const char *release_file, *started_file; /* owned by the host */
} state;

static int init(const sluice_host *host, const sluice_value *options, void **out, char *err,
                size_t errlen)
{
    (void)err, (void)errlen;
    state *s = calloc(1, sizeof *s);
    if (!s)
        return SLUICE_ERROR;
    s->host = host;
    s->seconds = host->value_int(host->value_get(options, "seconds"), 3);
    s->max_wait = host->value_int(host->value_get(options, "max_wait"), 600);
    s->write_first = host->value_int(host->value_get(options, "write_first"), 0);
    s->release_file = host->value_string(host->value_get(options, "release_file"), NULL);
    s->started_file = host->value_string(host->value_get(options, "started_file"), NULL);
    *out = s;
    return SLUICE_OK;
}

static void nap(time_t sec, long nsec)
{
    struct timespec ts = {sec, nsec};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static int announce(const state *s, sluice_job *job)
{
    char line[4200];
    int n = snprintf(line, sizeof line, "started %s\n", s->host->input_name(job));
    int fd = open(s->started_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || n < 0 || write(fd, line, (size_t)n) != (ssize_t)n) {
        if (fd >= 0)
            close(fd);
        s->host->error(job, SLUICE_ERR_PLUGIN, "cannot append to %s", s->started_file);
        return -1;
    }
    close(fd);
    return 0;
}

static int write_filler(const state *s, sluice_job *job)
{
    static const char line[] = "sleepy\n";
    char buf[7 * 1024];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = line[i % 7];
    for (int64_t left = s->write_first; left > 0;) {
        size_t n = left < (int64_t)sizeof buf ? (size_t)left : sizeof buf;
        if (s->host->write(job, buf, n) != 0)
            return -1;
        left -= (int64_t)n;
    }
    return 0;
}

static int run(void *st, sluice_job *job)
{
    const state *s = st;
    char buf[4096];
    ssize_t n;
    if (s->write_first && write_filler(s, job) != 0)
        return SLUICE_ERROR;
    if (s->started_file && announce(s, job) != 0)
        return SLUICE_ERROR;
    if (s->release_file) {
        for (int64_t i = 0; access(s->release_file, F_OK) != 0; i++) {
            if (i >= s->max_wait * 100) {
                s->host->error(job, SLUICE_ERR_PLUGIN, "%s did not appear within %lld s",
                               s->release_file, (long long)s->max_wait);
                return SLUICE_ERROR;
            }
            nap(0, 10 * 1000000L);
        }
    } else {
        nap((time_t)s->seconds, 0);
    }
    while ((n = s->host->read(job, buf, sizeof buf)) > 0)
        if (s->host->write(job, buf, (size_t)n) != 0)
            return SLUICE_ERROR;
    return n < 0 ? SLUICE_ERROR : SLUICE_OK;
}

static void destroy(void *st)
{
    free(st);
}

SLUICE_PLUGIN_EXPORT const sluice_plugin sluice_plugin_descriptor = {
    .abi_version = SLUICE_PLUGIN_ABI_VERSION,
    .name = "sleepy",
    .version = "0.0.1",
    .description = "test: copies its input after sleeping, or once released",
    .options_schema = "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
                      "\"seconds\":{\"type\":\"integer\",\"minimum\":0},"
                      "\"max_wait\":{\"type\":\"integer\",\"minimum\":1},"
                      "\"write_first\":{\"type\":\"integer\",\"minimum\":0},"
                      "\"release_file\":{\"type\":\"string\",\"minLength\":1},"
                      "\"started_file\":{\"type\":\"string\",\"minLength\":1}}}",
    .init = init,
    .run = run,
    .destroy = destroy,
};
