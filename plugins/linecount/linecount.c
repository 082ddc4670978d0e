/*
 * linecount — the smallest useful sluice plugin, and the template for new
 * ones (see README, "Writing a plugin").
 *
 * It passes its input through unchanged (mode "copy", the default) or
 * replaces it with a one-line count (mode "count": "<lines>\n"), and
 * reports lines and bytes as run statistics. It shows every part of the
 * ABI: options with a schema, per-rule state from init(), streamed input,
 * a proposed output name, counters, logging and failing a job cleanly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/plugin.h>

#define BUF_SIZE (1 << 20)

/* Per-rule state: built once by init(), read-only while jobs run. */
typedef struct linecount_state {
    const sluice_host *host;
    int count_only;       /* mode: count */
    const char *suffix;   /* appended to the output name, or NULL */
    int64_t max_lines;    /* fail the job above this; 0 = no limit */
} linecount_state;

static const char options_schema[] =
    "{"
    "\"type\":\"object\","
    "\"additionalProperties\":false,"
    "\"properties\":{"
    "\"mode\":{\"enum\":[\"copy\",\"count\"],\"default\":\"copy\","
    "\"description\":\"copy the input, or write only its line count\"},"
    "\"suffix\":{\"type\":\"string\",\"maxLength\":64,"
    "\"description\":\"appended to the output file name, e.g. .lines\"},"
    "\"max_lines\":{\"type\":\"integer\",\"minimum\":0,"
    "\"description\":\"fail the job when the input has more lines (0: no limit)\"}"
    "},"
    "\"examples\":[{\"mode\":\"count\",\"suffix\":\".lines\"}]"
    "}";

static int linecount_init(const sluice_host *host, const sluice_value *options, void **state,
                          char *err, size_t errlen)
{
    linecount_state *s = calloc(1, sizeof *s);
    if (!s) {
        strncpy(err, "out of memory", errlen - 1);
        return SLUICE_ERROR;
    }
    s->host = host;
    const char *mode = host->value_string(host->value_get(options, "mode"), "copy");
    s->count_only = strcmp(mode, "count") == 0;
    s->suffix = host->value_string(host->value_get(options, "suffix"), NULL);
    s->max_lines = host->value_int(host->value_get(options, "max_lines"), 0);
    if (s->suffix && strchr(s->suffix, '/')) {
        strncpy(err, "suffix must not contain '/'", errlen - 1);
        free(s);
        return SLUICE_ERROR;
    }
    *state = s;
    return SLUICE_OK;
}

/* Output name: the input's base name, plus the suffix when configured. */
static void propose_name(const linecount_state *s, sluice_job *job)
{
    const char *in = s->host->input_name(job);
    const char *base = strrchr(in, '/') ? strrchr(in, '/') + 1 : in;
    size_t len = strlen(base) + (s->suffix ? strlen(s->suffix) : 0) + 1;
    char *name = malloc(len);
    if (!name)
        return; /* the host falls back to the input's base name */
    strcpy(name, base);
    if (s->suffix)
        strcat(name, s->suffix);
    s->host->set_output_name(job, name);
    free(name);
}

static int count_lines(const char *buf, size_t n, int64_t *lines)
{
    for (const char *p = buf; (p = memchr(p, '\n', n - (size_t)(p - buf))) != NULL; p++)
        (*lines)++;
    return 0;
}

static int linecount_run(void *state, sluice_job *job)
{
    const linecount_state *s = state;
    const sluice_host *h = s->host;
    char *buf = malloc(BUF_SIZE);
    if (!buf) {
        h->error(job, SLUICE_ERR_PLUGIN, "out of memory");
        return SLUICE_ERROR;
    }
    propose_name(s, job);
    int64_t lines = 0, bytes = 0;
    ssize_t n;
    int rc = SLUICE_OK;
    while ((n = h->read(job, buf, BUF_SIZE)) > 0) {
        count_lines(buf, (size_t)n, &lines);
        bytes += n;
        if (s->max_lines && lines > s->max_lines) {
            h->error(job, SLUICE_ERR_INPUT, "more than %lld lines (max_lines)",
                     (long long)s->max_lines);
            rc = SLUICE_ERROR;
            break;
        }
        if (!s->count_only && h->write(job, buf, (size_t)n) != 0) {
            rc = SLUICE_ERROR;
            break;
        }
    }
    if (n < 0)
        rc = SLUICE_ERROR; /* the host recorded the read error */
    if (rc == SLUICE_OK && s->count_only) {
        char line[32];
        int len = snprintf(line, sizeof line, "%lld\n", (long long)lines);
        rc = h->write(job, line, (size_t)len) == 0 ? SLUICE_OK : SLUICE_ERROR;
    }
    free(buf);
    h->counter_add(job, "lines", lines);
    h->counter_add(job, "bytes", bytes);
    if (rc == SLUICE_OK)
        h->log(job, SLUICE_LOG_DEBUG, "counted %lld lines", (long long)lines);
    return rc;
}

static void linecount_destroy(void *state)
{
    free(state);
}

SLUICE_PLUGIN_EXPORT const sluice_plugin sluice_plugin_descriptor = {
    .abi_version = SLUICE_PLUGIN_ABI_VERSION,
    .name = "linecount",
    .version = "1.0.0",
    .description = "Copies the input (or writes its line count) and reports lines and bytes",
    .options_schema = options_schema,
    .init = linecount_init,
    .run = linecount_run,
    .destroy = linecount_destroy,
};
