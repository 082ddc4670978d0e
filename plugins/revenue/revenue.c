/* revenue.c — the `revenue` transform plugin: ABI glue around the
 * host-independent core (rev_attrib, rev_report, ...). It turns the rule's
 * options into a rev_config at init, and for each job pulls the input
 * through the core and pushes the report through the host.
 *
 * The contract and every decision it leaves open are in
 * docs/plugins/revenue.md. */
#include "autoconfig.h"

#include <sluice/plugin.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rev_attrib.h"
#include "rev_columns.h"
#include "rev_engines.h"
#include "rev_money.h"
#include "rev_report.h"

#define DEFAULT_VISIT_TIMEOUT 1800
#define DEFAULT_MAX_BAD_RATIO 0.01
#define WARN_LOG_MAX 10      /* per kind and job; the counters have the rest */
#define WARN_TEXT_MAX 120
#define LOOKUP_COLUMNS "column_headers.tsv"
#define LOOKUP_MAX ((size_t)1 << 20)
#define MAX_THREADS 64
#define DEFAULT_MAX_THREADS 8 /* past this, attribution on one thread is the limit */

typedef struct rev_state {
    const sluice_host *host;
    rev_engines engines;
    char **columns; /* NULL: none */
    size_t ncolumns;
    int attribution_first;
    rev_visitor_mode visitor;
    int escapes;
    int exclude;
    int include_zero;
    int64_t visit_timeout;
    double max_bad_ratio;
    int threads;    /* 0: the job's share of the cores (meta "cpu_share") */
} rev_state;

static const char options_schema[] =
    "{"
    "\"type\":\"object\","
    "\"description\":\"Search Keyword Performance: revenue per external search engine "
    "domain and keyword, from Adobe Analytics hit-level data\","
    "\"additionalProperties\":false,"
    "\"properties\":{"
    "\"attribution\":{\"type\":\"string\",\"enum\":[\"last\",\"first\"],\"default\":\"last\","
    "\"description\":\"which search of a visit gets the revenue: the latest one before the "
    "purchase, or the first one of the visit\"},"
    "\"visit_timeout\":{\"type\":\"integer\",\"minimum\":1,\"default\":1800,"
    "\"description\":\"seconds of inactivity (more than this) that end a visit\"},"
    "\"include_zero\":{\"type\":\"boolean\",\"default\":true,"
    "\"description\":\"report (domain, keyword) pairs whose revenue is 0\"},"
    "\"visitor\":{\"type\":\"string\",\"enum\":[\"auto\",\"visid\",\"ip\",\"ip_ua\"],"
    "\"default\":\"auto\",\"description\":\"a visitor is post_visid_high + post_visid_low "
    "(visid), its ip, or its ip and user_agent; auto: visid when the columns have both, "
    "else ip\"},"
    "\"escapes\":{\"type\":\"string\",\"enum\":[\"backslash\",\"none\"],"
    "\"default\":\"backslash\",\"description\":\"backslash escapes of Adobe data feeds "
    "(a backslash makes the next TAB, LF or backslash literal), or none (feeds with escaped "
    "characters removed)\"},"
    "\"exclude\":{\"type\":\"string\",\"enum\":[\"adobe\",\"none\"],\"default\":\"adobe\","
    "\"description\":\"adobe: rows with exclude_hit set or hit_source 5, 7, 8 or 9 are not "
    "hits (skipped, counted as excluded_rows); none: every row is a hit\"},"
    "\"columns\":{\"description\":\"column names of headerless input: a list of names, or "
    "the path of a column_headers.tsv file (relative to the working directory); wins over "
    "the column_headers.tsv of a delivery set\","
    "\"oneOf\":["
    "{\"type\":\"array\",\"minItems\":1,\"items\":{\"type\":\"string\"}},"
    "{\"type\":\"string\"}]},"
    "\"max_bad_ratio\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1,\"default\":0.01,"
    "\"description\":\"largest share of malformed data lines a successful run accepts\"},"
    "\"threads\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":64,"
    "\"description\":\"threads parsing the input, the job's own included (it also applies "
    "the parsed hits in order); "
    "default: the job's share of the cores, at most 8; the report is the same for any "
    "count\"},"
    "\"engines\":{\"type\":\"array\",\"minItems\":1,"
    "\"description\":\"replaces the default search engine table\","
    "\"items\":{\"type\":\"object\",\"additionalProperties\":false,"
    "\"required\":[\"name\",\"hosts\",\"param\"],"
    "\"properties\":{"
    "\"name\":{\"type\":\"string\",\"description\":\"engine name\"},"
    "\"hosts\":{\"type\":\"array\",\"minItems\":1,\"items\":{\"type\":\"string\"},"
    "\"description\":\"host patterns: 'bing.com' is that domain and its subdomains; "
    "'google.<tld>' also takes any 2-3 letter TLD or co.CC / com.CC\"},"
    "\"param\":{\"type\":\"string\",\"description\":\"query parameter holding the "
    "keyword, case-sensitive\"}}}}"
    "}}";

/* ---- options ------------------------------------------------------------ */

static void state_free(rev_state *st)
{
    if (!st)
        return;
    rev_engines_free(&st->engines);
    for (size_t i = 0; i < st->ncolumns; i++)
        free(st->columns[i]);
    free(st->columns);
    free(st);
}

static const char *type_name(sluice_value_type t)
{
    switch (t) {
    case SLUICE_VALUE_NULL: return "null";
    case SLUICE_VALUE_BOOL: return "a boolean";
    case SLUICE_VALUE_INT: return "an integer";
    case SLUICE_VALUE_NUMBER: return "a number";
    case SLUICE_VALUE_STRING: return "a string";
    case SLUICE_VALUE_LIST: return "a list";
    case SLUICE_VALUE_MAP: return "a mapping";
    }
    return "a value";
}

static int opt_enum(const sluice_host *h, const sluice_value *v, const char *key,
                    const char *a, const char *b, int *is_b, char *err, size_t errlen)
{
    const char *s = h->value_type(v) == SLUICE_VALUE_STRING ? h->value_string(v, NULL) : NULL;
    if (s && strcmp(s, a) == 0) {
        *is_b = 0;
        return 0;
    }
    if (s && strcmp(s, b) == 0) {
        *is_b = 1;
        return 0;
    }
    snprintf(err, errlen, "option '%s' must be \"%s\" or \"%s\"", key, a, b);
    return -1;
}

/* One of the names of a NULL-terminated list: its index in *which. */
static int opt_choice(const sluice_host *h, const sluice_value *v, const char *key,
                      const char *const *names, int *which, char *err, size_t errlen)
{
    const char *s = h->value_type(v) == SLUICE_VALUE_STRING ? h->value_string(v, NULL) : NULL;
    for (int i = 0; s && names[i]; i++) {
        if (strcmp(s, names[i]) == 0) {
            *which = i;
            return 0;
        }
    }
    size_t off = (size_t)snprintf(err, errlen, "option '%s' must be one of", key);
    for (int i = 0; names[i] && off < errlen; i++)
        off += (size_t)snprintf(err + off, errlen - off, "%s \"%s\"", i ? "," : "", names[i]);
    return -1;
}

static int opt_columns_list(rev_state *st, const sluice_host *h, const sluice_value *v,
                            char *err, size_t errlen)
{
    size_t n = h->value_len(v);
    if (n == 0) {
        snprintf(err, errlen, "option 'columns' is an empty list");
        return -1;
    }
    st->columns = calloc(n, sizeof *st->columns);
    if (!st->columns)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        const sluice_value *e = h->value_at(v, i);
        const char *s = h->value_type(e) == SLUICE_VALUE_STRING ? h->value_string(e, NULL) : NULL;
        if (!s) {
            snprintf(err, errlen, "option 'columns': item %zu is %s, not a string", i + 1,
                     type_name(h->value_type(e)));
            return -1;
        }
        if (!(st->columns[i] = strdup(s)))
            goto oom;
        st->ncolumns = i + 1;
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

/* The first line of a column_headers.tsv file, split on tabs. */
static int opt_columns_file(rev_state *st, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "option 'columns': cannot open '%s': %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, f);
    int read_failed = ferror(f);
    fclose(f);
    if (n < 0 || read_failed) {
        snprintf(err, errlen, "option 'columns': '%s' is %s", path,
                 read_failed ? "unreadable" : "empty");
        free(line);
        return -1;
    }
    int rc = rev_columns_split(line, (size_t)n, &st->columns, &st->ncolumns);
    free(line);
    if (rc != 0 && errno == ENOMEM)
        snprintf(err, errlen, "out of memory");
    else if (rc != 0)
        snprintf(err, errlen, "option 'columns': the first line of '%s' is empty", path);
    return rc;
}

static int opt_columns(rev_state *st, const sluice_host *h, const sluice_value *v, char *err,
                       size_t errlen)
{
    int rc;
    if (h->value_type(v) == SLUICE_VALUE_LIST) {
        rc = opt_columns_list(st, h, v, err, errlen);
    } else if (h->value_type(v) == SLUICE_VALUE_STRING) {
        const char *path = h->value_string(v, "");
        if (!*path) {
            snprintf(err, errlen, "option 'columns' is an empty path");
            return -1;
        }
        rc = opt_columns_file(st, path, err, errlen);
    } else {
        snprintf(err, errlen,
                 "option 'columns' must be a list of column names or the path of a "
                 "column_headers.tsv file, not %s",
                 type_name(h->value_type(v)));
        return -1;
    }
    return rc;
}

static const char *engine_string(const sluice_host *h, const sluice_value *e, const char *key)
{
    const sluice_value *v = h->value_get(e, key);
    return h->value_type(v) == SLUICE_VALUE_STRING ? h->value_string(v, NULL) : NULL;
}

static int opt_engine(rev_state *st, const sluice_host *h, const sluice_value *e, size_t idx,
                      char *err, size_t errlen)
{
    if (h->value_type(e) != SLUICE_VALUE_MAP) {
        snprintf(err, errlen, "option 'engines': item %zu must be a mapping with name, hosts "
                 "and param", idx);
        return -1;
    }
    for (size_t i = 0; i < h->value_len(e); i++) {
        const char *k = h->value_key_at(e, i);
        if (!k || (strcmp(k, "name") && strcmp(k, "hosts") && strcmp(k, "param"))) {
            snprintf(err, errlen, "option 'engines': item %zu has an unknown key '%s' "
                     "(known: name, hosts, param)", idx, k ? k : "?");
            return -1;
        }
    }
    const char *name = engine_string(h, e, "name"), *param = engine_string(h, e, "param");
    const sluice_value *hosts = h->value_get(e, "hosts");
    if (!name || !param) {
        snprintf(err, errlen, "option 'engines': item %zu needs 'name' and 'param' strings", idx);
        return -1;
    }
    if (h->value_type(hosts) != SLUICE_VALUE_LIST || h->value_len(hosts) == 0) {
        snprintf(err, errlen, "option 'engines': engine '%s' needs 'hosts', a non-empty list "
                 "of host patterns", name);
        return -1;
    }
    if (rev_engines_add(&st->engines, name, param, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < h->value_len(hosts); i++) {
        const sluice_value *p = h->value_at(hosts, i);
        if (h->value_type(p) != SLUICE_VALUE_STRING) {
            snprintf(err, errlen, "option 'engines': engine '%s': hosts must be strings", name);
            return -1;
        }
        if (rev_engines_add_host(&st->engines, h->value_string(p, ""), err, errlen) != 0)
            return -1;
    }
    return 0;
}

static int opt_engines(rev_state *st, const sluice_host *h, const sluice_value *v, char *err,
                       size_t errlen)
{
    if (h->value_type(v) != SLUICE_VALUE_LIST || h->value_len(v) == 0) {
        snprintf(err, errlen, "option 'engines' must be a non-empty list of {name, hosts, "
                 "param}, not %s", h->value_type(v) == SLUICE_VALUE_LIST
                                        ? "an empty list" : type_name(h->value_type(v)));
        return -1;
    }
    for (size_t i = 0; i < h->value_len(v); i++)
        if (opt_engine(st, h, h->value_at(v, i), i + 1, err, errlen) != 0)
            return -1;
    return 0;
}

static int opt_one(rev_state *st, const sluice_host *h, const char *key, const sluice_value *v,
                   char *err, size_t errlen)
{
    sluice_value_type t = h->value_type(v);
    if (strcmp(key, "attribution") == 0)
        return opt_enum(h, v, key, "last", "first", &st->attribution_first, err, errlen);
    if (strcmp(key, "visitor") == 0) {
        /* in the order of rev_visitor_mode */
        static const char *const modes[] = {"auto", "ip", "ip_ua", "visid", NULL};
        int m = 0;
        int rc = opt_choice(h, v, key, modes, &m, err, errlen);
        st->visitor = (rev_visitor_mode)m;
        return rc;
    }
    if (strcmp(key, "escapes") == 0) {
        int none = 0;
        int rc = opt_enum(h, v, key, "backslash", "none", &none, err, errlen);
        st->escapes = !none;
        return rc;
    }
    if (strcmp(key, "exclude") == 0) {
        int none = 0;
        int rc = opt_enum(h, v, key, "adobe", "none", &none, err, errlen);
        st->exclude = !none;
        return rc;
    }
    if (strcmp(key, "visit_timeout") == 0) {
        if (t != SLUICE_VALUE_INT || h->value_int(v, 0) < 1) {
            snprintf(err, errlen, "option 'visit_timeout' must be a positive integer (seconds)");
            return -1;
        }
        st->visit_timeout = h->value_int(v, DEFAULT_VISIT_TIMEOUT);
        return 0;
    }
    if (strcmp(key, "include_zero") == 0) {
        if (t != SLUICE_VALUE_BOOL) {
            snprintf(err, errlen, "option 'include_zero' must be a boolean, not %s", type_name(t));
            return -1;
        }
        st->include_zero = h->value_bool(v, 1);
        return 0;
    }
    if (strcmp(key, "max_bad_ratio") == 0) {
        double r = h->value_number(v, -1);
        if ((t != SLUICE_VALUE_INT && t != SLUICE_VALUE_NUMBER) || !(r >= 0 && r <= 1)) {
            snprintf(err, errlen, "option 'max_bad_ratio' must be a number from 0 to 1");
            return -1;
        }
        st->max_bad_ratio = r;
        return 0;
    }
    if (strcmp(key, "threads") == 0) {
        int64_t n = h->value_int(v, 0);
        if (t != SLUICE_VALUE_INT || n < 1 || n > MAX_THREADS) {
            snprintf(err, errlen, "option 'threads' must be an integer from 1 to %d",
                     MAX_THREADS);
            return -1;
        }
        st->threads = (int)n;
        return 0;
    }
    if (strcmp(key, "columns") == 0)
        return opt_columns(st, h, v, err, errlen);
    if (strcmp(key, "engines") == 0)
        return opt_engines(st, h, v, err, errlen);
    snprintf(err, errlen,
             "unknown option '%s' (known: attribution, visit_timeout, include_zero, visitor, "
             "escapes, exclude, columns, max_bad_ratio, engines, threads)",
             key);
    return -1;
}

static int parse_options(rev_state *st, const sluice_host *h, const sluice_value *opts,
                         char *err, size_t errlen)
{
    sluice_value_type t = h->value_type(opts);
    if (t != SLUICE_VALUE_NULL && t != SLUICE_VALUE_MAP) {
        snprintf(err, errlen, "options must be a mapping, not %s", type_name(t));
        return -1;
    }
    for (size_t i = 0; t == SLUICE_VALUE_MAP && i < h->value_len(opts); i++) {
        const char *key = h->value_key_at(opts, i);
        if (!key || opt_one(st, h, key, h->value_get(opts, key), err, errlen) != 0)
            return -1;
    }
    if (st->engines.n == 0 && rev_engines_set_default(&st->engines, err, errlen) != 0)
        return -1;
    if (st->columns) {
        rev_layout l;
        int rc = rev_layout_build(&l, (const char *const *)st->columns, NULL, st->ncolumns,
                                  st->visitor, st->exclude, "option 'columns'", err, errlen);
        rev_layout_clear(&l);
        return rc;
    }
    return 0;
}

static int host_usable(const sluice_host *h)
{
    return h && h->abi_version == SLUICE_PLUGIN_ABI_VERSION &&
           h->struct_size >= offsetof(sluice_host, error) + sizeof h->error;
}

static int rev_init(const sluice_host *host, const sluice_value *options, void **state,
                    char *err, size_t errlen)
{
    *state = NULL;
    if (!host_usable(host)) {
        snprintf(err, errlen, "revenue: the host's plugin ABI is not version %d",
                 SLUICE_PLUGIN_ABI_VERSION);
        return -1;
    }
    rev_state *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    st->host = host;
    st->include_zero = 1;
    st->escapes = 1;
    st->exclude = 1;
    st->visitor = REV_VISITOR_AUTO;
    st->visit_timeout = DEFAULT_VISIT_TIMEOUT;
    st->max_bad_ratio = DEFAULT_MAX_BAD_RATIO;
    if (parse_options(st, host, options, err, errlen) != 0) {
        state_free(st);
        return -1;
    }
    *state = st;
    return 0;
}

static void rev_destroy(void *state)
{
    state_free(state);
}

/* ---- run ---------------------------------------------------------------- */

typedef struct job_ctx {
    const sluice_host *host;
    sluice_job *job;
    uint64_t logged[3]; /* per rev_warn_kind */
} job_ctx;

static void job_warn(void *ctx, rev_warn_kind kind, uint64_t line, const char *what,
                     const char *text, size_t len)
{
    job_ctx *j = ctx;
    const char *label = kind == REV_WARN_MALFORMED ? "malformed line skipped" : "bad amount";
    uint64_t n = ++j->logged[kind == REV_WARN_MALFORMED ? 1 : 2];
    if (n > WARN_LOG_MAX) {
        if (n == WARN_LOG_MAX + 1)
            j->host->log(j->job, SLUICE_LOG_WARN, "more %ss are only counted, not logged",
                         label);
        return;
    }
    if (len > WARN_TEXT_MAX)
        len = WARN_TEXT_MAX;
    j->host->log(j->job, SLUICE_LOG_WARN, "line %llu: %s: %s%s%.*s%s", (unsigned long long)line,
                 label, what, len ? " (\"" : "", (int)len, text ? text : "", len ? "\")" : "");
}

static int is_date(const char *s)
{
    static const char shape[] = "dddd-dd-dd";
    if (!s || strlen(s) != sizeof shape - 1)
        return 0;
    for (size_t i = 0; shape[i]; i++)
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
            return 0;
    return 1;
}

static int set_output_name(const sluice_host *h, sluice_job *job)
{
    char today[16], name[64];
    const char *date = h->meta(job, "date");
    if (!is_date(date))
        date = h->meta(job, "run_date");
    if (!is_date(date)) {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(today, sizeof today, "%Y-%m-%d", &tm);
        date = today;
    }
    snprintf(name, sizeof name, "%s_SearchKeywordPerformance.tab", date);
    if (h->set_output_name(job, name) != 0) {
        h->error(job, SLUICE_ERR_PLUGIN, "the host refused the output name '%s'", name);
        return -1;
    }
    return 0;
}

static int job_write(void *ctx, const void *buf, size_t len)
{
    job_ctx *j = ctx;
    return j->host->write(j->job, buf, len);
}

static void add_counters(const sluice_host *h, sluice_job *job, const rev_stats *s)
{
    h->counter_add(job, "lines_read", (int64_t)s->lines_read);
    h->counter_add(job, "data_lines", (int64_t)s->data_lines);
    h->counter_add(job, "malformed_lines", (int64_t)s->malformed_lines);
    h->counter_add(job, "empty_lines", (int64_t)s->empty_lines);
    h->counter_add(job, "excluded_rows", (int64_t)s->excluded_rows);
    h->counter_add(job, "search_hits", (int64_t)s->search_hits);
    h->counter_add(job, "purchases", (int64_t)s->purchases);
    h->counter_add(job, "duplicate_purchases", (int64_t)s->duplicate_purchases);
    h->counter_add(job, "revenue_attributed_cents", s->revenue_attributed_cents);
    h->counter_add(job, "revenue_unattributed_cents", s->revenue_unattributed_cents);
    h->counter_add(job, "warnings", (int64_t)s->warnings);
    h->counter_add(job, "visitors_evicted", (int64_t)s->visitors_evicted);
    h->counter_add(job, "keywords", (int64_t)s->keywords);
}

static void log_summary(const sluice_host *h, sluice_job *job, const rev_stats *s)
{
    char att[32], unatt[32];
    rev_format_cents(s->revenue_attributed_cents, att);
    rev_format_cents(s->revenue_unattributed_cents, unatt);
    h->log(job, SLUICE_LOG_INFO,
           "revenue: %llu lines read (%llu data, %llu malformed, %llu empty, %llu excluded), "
           "%llu search hits, %llu purchases (%llu duplicates ignored), revenue attributed %s, "
           "unattributed %s, %llu warnings, %llu keywords, %llu visitors evicted",
           (unsigned long long)s->lines_read, (unsigned long long)s->data_lines,
           (unsigned long long)s->malformed_lines, (unsigned long long)s->empty_lines,
           (unsigned long long)s->excluded_rows, (unsigned long long)s->search_hits,
           (unsigned long long)s->purchases, (unsigned long long)s->duplicate_purchases, att,
           unatt,
           (unsigned long long)s->warnings, (unsigned long long)s->keywords,
           (unsigned long long)s->visitors_evicted);
}

static sluice_error_kind error_kind(rev_err_kind k)
{
    switch (k) {
    case REV_ERR_CONFIG: return SLUICE_ERR_CONFIG;
    case REV_ERR_INPUT: return SLUICE_ERR_INPUT;
    default: return SLUICE_ERR_PLUGIN;
    }
}

typedef struct map_release_ctx {
    const sluice_host *host;
    sluice_job *job;
} map_release_ctx;

static void map_release(void *ctx, size_t upto)
{
    map_release_ctx *m = ctx;
    m->host->input_release(m->job, upto);
}

/* The input mapped by the host (a plain local file), fed with no
 * copy: 1 when it was (an error is left in `a`), 0 when the host did not
 * map it. */
static int consume_mapped(const sluice_host *h, sluice_job *job, rev_attrib *a)
{
    const void *data;
    size_t len;
    if (!SLUICE_HOST_HAS(h, input_release) || !h->input_map || !h->input_release ||
        h->input_map(job, &data, &len) != 1)
        return 0;
    map_release_ctx m = {h, job};
    rev_attrib_feed_mapped(a, data, len, map_release, &m);
    return 1;
}

/* The input read() into the core's buffer: 0, or -1 on a storage error
 * (recorded by the host); the core's own errors are left in `a`. */
static int consume_read(const sluice_host *h, sluice_job *job, rev_attrib *a)
{
    for (;;) {
        size_t cap;
        char *space = rev_attrib_space(a, &cap);
        ssize_t got = h->read(job, space, cap);
        if (got < 0)
            return -1;
        if (got == 0 || rev_attrib_commit(a, (size_t)got) != 0)
            return 0;
    }
}

/* Pull the whole input through the core. 0, or -1 once the job has failed. */
static int consume_input(const sluice_host *h, sluice_job *job, rev_attrib *a)
{
    if (!consume_mapped(h, job, a) && consume_read(h, job, a) != 0)
        return -1;
    rev_err_kind kind;
    const char *msg;
    if (rev_attrib_finish(a) != 0 && (msg = rev_attrib_error(a, &kind)) != NULL) {
        h->error(job, error_kind(kind), "%s", msg);
        return -1;
    }
    return 0;
}

static int check_bad_ratio(const rev_state *st, sluice_job *job, const rev_stats *s)
{
    const sluice_host *h = st->host;
    if (s->malformed_lines == 0)
        return 0;
    double pct = 100.0 * (double)s->malformed_lines / (double)s->data_lines;
    if (rev_bad_ratio_exceeded(s->malformed_lines, s->data_lines, st->max_bad_ratio)) {
        h->error(job, SLUICE_ERR_INPUT,
                 "%llu of %llu data lines are malformed (%.2f%%), more than max_bad_ratio %g: "
                 "the input is probably not hit data",
                 (unsigned long long)s->malformed_lines, (unsigned long long)s->data_lines, pct,
                 st->max_bad_ratio);
        return -1;
    }
    h->log(job, SLUICE_LOG_WARN,
           "%llu of %llu data lines were malformed and skipped (%.2f%%, max_bad_ratio %g)",
           (unsigned long long)s->malformed_lines, (unsigned long long)s->data_lines, pct,
           st->max_bad_ratio);
    return 0;
}

/* The first line of the job's lookup file column_headers.tsv (a delivery
 * set's), split into *names (the caller frees them with rev_columns_free).
 * 1 when found, 0 when the job has none, -1 when it failed (recorded). */
static int lookup_columns(const sluice_host *h, sluice_job *job, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    if (!SLUICE_HOST_HAS(h, lookup_close))
        return 0;
    sluice_lookup *lk = h->lookup_open(job, LOOKUP_COLUMNS);
    if (!lk)
        return 0;
    char *buf = malloc(LOOKUP_MAX);
    size_t len = 0;
    ssize_t got = 1;
    while (buf && len < LOOKUP_MAX && !memchr(buf, '\n', len) && got > 0) {
        got = h->lookup_read(lk, buf + len, LOOKUP_MAX - len);
        len += got > 0 ? (size_t)got : 0;
    }
    h->lookup_close(lk);
    int rc = -1;
    if (!buf)
        h->error(job, SLUICE_ERR_PLUGIN, "out of memory");
    else if (got < 0)
        ; /* the host recorded the read error */
    else if (len == LOOKUP_MAX && !memchr(buf, '\n', len))
        h->error(job, SLUICE_ERR_INPUT, "lookup file " LOOKUP_COLUMNS ": its first line is "
                 "longer than %zu bytes", LOOKUP_MAX);
    else if (rev_columns_split(buf, len, names, n) != 0)
        h->error(job, errno == ENOMEM ? SLUICE_ERR_PLUGIN : SLUICE_ERR_INPUT,
                 errno == ENOMEM ? "out of memory"
                                 : "lookup file " LOOKUP_COLUMNS ": its first line is empty");
    else
        rc = 1;
    free(buf);
    return rc;
}

/* Says in the headerless error which delivery set lacks its lookup file. */
static void no_columns_hint(const sluice_host *h, sluice_job *job, char *hint, size_t len)
{
    const char *delivery = h->meta(job, "delivery"), *rsid = h->meta(job, "rsid");
    const char *date = h->meta(job, "feed_date"), *hour = h->meta(job, "feed_hour");
    hint[0] = '\0';
    if (delivery)
        snprintf(hint, len, " (the %s delivery set %s %s%s%s has no lookup archive with "
                 LOOKUP_COLUMNS "%s)", delivery, rsid ? rsid : "?", date ? date : "?",
                 hour ? " hour " : "", hour ? hour : "",
                 hour ? "; hourly feeds may ship it with the first hour only" : "");
}

static void log_layout(const rev_state *st, sluice_job *job, const rev_layout *l,
                       const char *source, size_t threads)
{
    static const char *const visitors[] = {"auto", "ip", "ip + user_agent",
                                           "post_visid_high + post_visid_low"};
    st->host->log(job, SLUICE_LOG_INFO,
                  "revenue: %zu columns (%s); visitor %s; events from %s, products from %s; "
                  "escapes %s; exclude %s; parsing on %zu thread%s",
                  l->ncols, source, visitors[l->visitor], rev_layout_name(l, REV_ROLE_EVENTS),
                  rev_layout_name(l, REV_ROLE_PRODUCTS), st->escapes ? "backslash" : "none",
                  st->exclude ? "adobe" : "none", threads, threads == 1 ? "" : "s");
}

/* The threads that parse a job's input, its own included: the option,
 * else the job's share of the cores (older hosts do not say: 1). */
static size_t job_threads(const rev_state *st, sluice_job *job)
{
    if (st->threads)
        return (size_t)st->threads;
    const char *share = st->host->meta(job, "cpu_share");
    long n = share ? strtol(share, NULL, 10) : 1;
    return n < 1 ? 1 : n > DEFAULT_MAX_THREADS ? DEFAULT_MAX_THREADS : (size_t)n;
}

static int rev_run(void *state, sluice_job *job)
{
    const rev_state *st = state;
    const sluice_host *h = st->host;
    job_ctx ctx = {h, job, {0, 0, 0}};
    char hint[256];
    rev_config cfg = {
        .engines = &st->engines,
        .visit_timeout = st->visit_timeout,
        .attribution_first = st->attribution_first,
        .visitor = st->visitor,
        .escapes = st->escapes,
        .exclude = st->exclude,
        .columns = (const char *const *)st->columns,
        .ncolumns = st->ncolumns,
        .columns_what = "option 'columns'",
        .warn = job_warn,
        .warn_ctx = &ctx,
        .threads = job_threads(st, job),
    };

    if (set_output_name(h, job) != 0)
        return SLUICE_ERROR;
    char **looked = NULL;
    size_t nlooked = 0;
    if (!st->columns) { /* the option wins over the delivery's file */
        int found = lookup_columns(h, job, &looked, &nlooked);
        if (found < 0)
            return SLUICE_ERROR;
        cfg.columns = (const char *const *)looked;
        cfg.ncolumns = nlooked;
        cfg.columns_what = "the delivery's " LOOKUP_COLUMNS;
        cfg.columns_from_input = 1;
        if (!found) {
            no_columns_hint(h, job, hint, sizeof hint);
            cfg.no_columns_hint = hint;
        }
    }
    rev_attrib *a = rev_attrib_new(&cfg);
    if (!a) {
        rev_columns_free(looked, nlooked);
        h->error(job, SLUICE_ERR_PLUGIN, "out of memory");
        return SLUICE_ERROR;
    }
    int rc = consume_input(h, job, a);
    const rev_stats *s = rev_attrib_stats(a);
    add_counters(h, job, s);
    if (rev_attrib_layout(a))
        log_layout(st, job, rev_attrib_layout(a),
                   rev_attrib_header_seen(a) ? "the input's header line" : cfg.columns_what,
                   cfg.threads);
    if (rc == 0)
        rc = check_bad_ratio(st, job, s);
    if (rc == 0) {
        size_t n;
        rev_pair **pairs = rev_attrib_pairs(a, &n);
        if (rev_report_write(pairs, n, st->include_zero, job_write, &ctx) != 0) {
            h->error(job, SLUICE_ERR_PLUGIN, "writing the report failed");
            rc = -1;
        }
    }
    if (rc == 0)
        log_summary(h, job, s);
    rev_attrib_free(a);
    rev_columns_free(looked, nlooked);
    return rc == 0 ? SLUICE_OK : SLUICE_ERROR;
}

SLUICE_PLUGIN_EXPORT const sluice_plugin sluice_plugin_descriptor = {
    .abi_version = SLUICE_PLUGIN_ABI_VERSION,
    .name = "revenue",
    .version = "1.0.0",
    .description = "Search Keyword Performance: revenue by search engine domain and keyword",
    .options_schema = options_schema,
    .init = rev_init,
    .run = rev_run,
    .destroy = rev_destroy,
};
