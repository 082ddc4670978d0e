#define _POSIX_C_SOURCE 200809L
/* A plugin that ends badly on purpose, for tests of process isolation
 * (tests/cli/isolation.sh): it copies its input to its output (so the job
 * has an open output, a temporary file, when it ends), counts the bytes
 * (counter "bytes_copied") and logs a line, then does what `mode` says:
 *
 *   ok        nothing more: the copy succeeds
 *   segfault  dies by SIGSEGV
 *   abort     abort() (SIGABRT)
 *   exit      exit(3), as a library that gives up might
 *   sleep     sleeps for ever (a run past the rule's timeout)
 *   alloc     allocates and touches 1 MiB blocks until malloc fails, then
 *             abort()s as an allocator wrapper would (max_memory)
 *   truncate  asks for the input mapped (input_map) and says whether it
 *             got it; when it did, truncates the file (a local path), as
 *             another process might while the job reads it, reads the
 *             mapping's last byte (a page gone: SIGBUS unless the host
 *             guards the mapping), logs the value read, writes it out and
 *             returns OK; else copies the input as ok */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sluice/plugin.h>

typedef struct state {
    const sluice_host *host;
    const char *mode; /* owned by the host */
} state;

static int init(const sluice_host *host, const sluice_value *options, void **out, char *err,
                size_t errlen)
{
    (void)err, (void)errlen;
    state *s = calloc(1, sizeof *s);
    if (!s)
        return SLUICE_ERROR;
    s->host = host;
    s->mode = host->value_string(host->value_get(options, "mode"), "ok");
    *out = s;
    return SLUICE_OK;
}

static int copy(const state *s, sluice_job *job)
{
    const sluice_host *h = s->host;
    static const size_t cap = 1 << 20;
    char *buf = malloc(cap);
    if (!buf)
        return SLUICE_ERROR;
    ssize_t n;
    int64_t total = 0;
    while ((n = h->read(job, buf, cap)) > 0) {
        if (h->write(job, buf, (size_t)n) != 0)
            break;
        total += n;
    }
    free(buf);
    h->counter_add(job, "bytes_copied", total);
    h->log(job, SLUICE_LOG_INFO, "crashy copied %lld bytes, mode %s", (long long)total,
           s->mode);
    if (n < 0)
        return SLUICE_ERROR;
    if (n == 0 && total == 0)
        h->write(job, "", 0);
    return SLUICE_OK;
}

static void allocate_until_failure(void)
{
    for (;;) {
        char *p = malloc(1 << 20);
        if (!p)
            abort();
        memset(p, 1, 1 << 20); /* touched: really the plugin's */
    }
}

static int truncate_mapped(const state *s, sluice_job *job)
{
    const sluice_host *h = s->host;
    const void *data;
    size_t len;
    if (!SLUICE_HOST_HAS(h, input_release) || h->input_map(job, &data, &len) != 1) {
        h->log(job, SLUICE_LOG_INFO, "crashy: the input is not mapped");
        return copy(s, job);
    }
    h->log(job, SLUICE_LOG_INFO, "crashy: the input is mapped (%zu bytes)", len);
    if (truncate(h->input_name(job), 0) != 0) {
        h->error(job, SLUICE_ERR_PLUGIN, "crashy: cannot truncate %s", h->input_name(job));
        return SLUICE_ERROR;
    }
    char last = ((const volatile char *)data)[len - 1]; /* its page is gone */
    h->log(job, SLUICE_LOG_INFO, "crashy: the last byte now reads %d", last);
    return h->write(job, &last, 1) == 0 ? SLUICE_OK : SLUICE_ERROR;
}

static int run(void *st, sluice_job *job)
{
    const state *s = st;
    if (strcmp(s->mode, "truncate") == 0)
        return truncate_mapped(s, job);
    if (copy(s, job) != SLUICE_OK)
        return SLUICE_ERROR;
    if (strcmp(s->mode, "segfault") == 0) {
        /* Death by SIGSEGV, as a wild pointer gives: raised with the
         * default action, because under the sanitizers (CI's ASan+UBSan
         * run) a null store is caught, reported and turned into exit 1. */
        signal(SIGSEGV, SIG_DFL);
        raise(SIGSEGV);
    } else if (strcmp(s->mode, "abort") == 0) {
        abort();
    } else if (strcmp(s->mode, "exit") == 0) {
        exit(3);
    } else if (strcmp(s->mode, "sleep") == 0) {
        for (;;)
            pause();
    } else if (strcmp(s->mode, "alloc") == 0) {
        allocate_until_failure();
    }
    return SLUICE_OK;
}

static void destroy(void *st)
{
    free(st);
}

SLUICE_PLUGIN_EXPORT const sluice_plugin sluice_plugin_descriptor = {
    .abi_version = SLUICE_PLUGIN_ABI_VERSION,
    .name = "crashy",
    .version = "0.0.1",
    .description = "test: copies its input, then crashes, aborts, exits, sleeps or allocates",
    .options_schema = "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
                      "\"mode\":{\"enum\":[\"ok\",\"segfault\",\"abort\",\"exit\",\"sleep\","
                      "\"alloc\",\"truncate\"]}}}",
    .init = init,
    .run = run,
    .destroy = destroy,
};
