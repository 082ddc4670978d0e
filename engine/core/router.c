#include "autoconfig.h"
#include "core/router.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/strbuf.h"

/* Enough for any sane key pattern; a catastrophic one stops here instead
 * of hanging a worker. */
#define ROUTE_MATCH_LIMIT 1000000
#define ROUTE_DEPTH_LIMIT 10000

#define DEFAULT_EVENT "ObjectCreated:Put"

static const char *strip_s3(const char *s)
{
    return strncmp(s, "s3:", 3) == 0 ? s + 3 : s;
}

int route_event_matches(const char *pattern, const char *event_name)
{
    const char *p = strip_s3(pattern), *e = strip_s3(event_name);
    if (!strcmp(p, "*"))
        return 1;
    size_t pl = strlen(p);
    if (pl >= 2 && p[pl - 1] == '*' && p[pl - 2] == ':')
        return strncmp(p, e, pl - 1) == 0;
    return strcmp(p, e) == 0;
}

static int has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

static int has_suffix(const char *s, const char *x)
{
    size_t ls = strlen(s), lx = strlen(x);
    return ls >= lx && memcmp(s + ls - lx, x, lx) == 0;
}

static void explain(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void explain(char *why, size_t whylen, const char *fmt, ...)
{
    if (!why || !whylen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

static void describe_events(strbuf *sb, const rule *r)
{
    for (size_t i = 0; i < r->n_events; i++) {
        if (i)
            sb_adds(sb, ", ");
        sb_adds(sb, r->events[i]);
    }
}

static int events_match(const rule *r, const char *event_name)
{
    for (size_t i = 0; i < r->n_events; i++)
        if (route_event_matches(r->events[i], event_name))
            return 1;
    return 0;
}

/* The values of the rule's named groups ("" for a group that did not take
 * part in the match). */
static void collect_captures(const rule *r, const char *key, pcre2_match_data *md,
                             route_match *out)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    uint32_t pairs = pcre2_get_ovector_count(md);
    out->capture_values = xcalloc(r->n_captures + 1, sizeof *out->capture_values);
    out->n_captures = r->n_captures;
    for (size_t i = 0; i < r->n_captures; i++) {
        int g = pcre2_substring_number_from_name(r->regex, (PCRE2_SPTR)r->capture_names[i]);
        if (g > 0 && (uint32_t)g < pairs && ov[2 * g] != PCRE2_UNSET)
            out->capture_values[i] = xstrndup(key + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
        else
            out->capture_values[i] = xstrdup("");
    }
}

/* 1 match, 0 no match, -1 limit hit or another matching error. */
static int regex_match(const rule *r, const char *key, route_match *out, char *why,
                       size_t whylen)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(r->regex, NULL);
    pcre2_match_context *mc = pcre2_match_context_create(NULL);
    if (!md || !mc) {
        pcre2_match_data_free(md);
        pcre2_match_context_free(mc);
        explain(why, whylen, "rule \"%s\": out of memory matching its regex", r->name);
        return -1;
    }
    pcre2_set_match_limit(mc, ROUTE_MATCH_LIMIT);
    pcre2_set_depth_limit(mc, ROUTE_DEPTH_LIMIT);
    int rc = pcre2_match(r->regex, (PCRE2_SPTR)key, strlen(key), 0, 0, md, mc);
    int result;
    if (rc >= 0) {
        if (out)
            collect_captures(r, key, md, out);
        result = 1;
    } else if (rc == PCRE2_ERROR_NOMATCH) {
        explain(why, whylen, "regex \"%s\" does not match key \"%s\"", r->regex_src, key);
        result = 0;
    } else if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
               rc == PCRE2_ERROR_HEAPLIMIT) {
        explain(why, whylen,
                "rule \"%s\": regex \"%s\" hit the PCRE2 %s limit on key \"%s\"; the pattern "
                "backtracks catastrophically, simplify it",
                r->name, r->regex_src,
                rc == PCRE2_ERROR_MATCHLIMIT ? "match" : rc == PCRE2_ERROR_DEPTHLIMIT ? "depth"
                                                                                      : "heap",
                key);
        result = -1;
    } else {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(rc, msg, sizeof msg);
        explain(why, whylen, "rule \"%s\": regex \"%s\" failed on key \"%s\": %s", r->name,
                r->regex_src, key, (const char *)msg);
        result = -1;
    }
    pcre2_match_context_free(mc);
    pcre2_match_data_free(md);
    return result;
}

int route_rule_matches(const rule *r, const char *bucket, const char *key,
                       const char *event_name, route_match *out, char *why, size_t whylen)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!event_name)
        event_name = DEFAULT_EVENT;
    if (strcmp(r->bucket, "*") != 0 && strcmp(r->bucket, bucket) != 0) {
        explain(why, whylen, "bucket is \"%s\", rule wants \"%s\"", bucket, r->bucket);
        return 0;
    }
    if (r->prefix && !has_prefix(key, r->prefix)) {
        explain(why, whylen, "prefix \"%s\" does not match key \"%s\"", r->prefix, key);
        return 0;
    }
    if (r->suffix && !has_suffix(key, r->suffix)) {
        explain(why, whylen, "suffix \"%s\" does not match key \"%s\"", r->suffix, key);
        return 0;
    }
    if (!events_match(r, event_name)) {
        strbuf sb = STRBUF_INIT;
        describe_events(&sb, r);
        explain(why, whylen, "event \"%s\" is not one of %s", event_name, sb_str(&sb));
        sb_free(&sb);
        return 0;
    }
    if (r->regex) {
        int rc = regex_match(r, key, out, why, whylen);
        if (rc != 1)
            return rc;
    }
    if (out)
        out->rule = r;
    explain(why, whylen, "matched");
    return 1;
}

static route_step *add_step(route_trace *t, const rule *r)
{
    t->steps = xrealloc(t->steps, (t->count + 1) * sizeof *t->steps);
    route_step *s = &t->steps[t->count++];
    memset(s, 0, sizeof *s);
    s->rule = r;
    return s;
}

int route_object(const config *cfg, const char *bucket, const char *key,
                 const char *event_name, route_match *out, route_trace *trace, char *err,
                 size_t errlen)
{
    route_match local;
    if (!out)
        out = &local;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < cfg->n_rules; i++) {
        const rule *r = &cfg->rules[i];
        char why[1024] = "";
        int rc = route_rule_matches(r, bucket, key, event_name, out, why, sizeof why);
        if (trace) {
            route_step *s = add_step(trace, r);
            s->matched = rc == 1;
            /* The reason is shorter than a regex error can be. */
            size_t n = strlen(why);
            if (n >= sizeof s->reason)
                n = sizeof s->reason - 1;
            memcpy(s->reason, why, n);
            s->reason[n] = '\0';
        }
        if (rc < 0) {
            if (err && errlen)
                snprintf(err, errlen, "%s", why);
            route_match_free(out);
            return -1;
        }
        if (rc == 1) {
            if (out == &local)
                route_match_free(&local);
            return 0;
        }
    }
    return 0;
}

void route_match_free(route_match *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_captures; i++)
        free(m->capture_values[i]);
    free(m->capture_values);
    memset(m, 0, sizeof *m);
}

void route_trace_free(route_trace *t)
{
    if (!t)
        return;
    free(t->steps);
    t->steps = NULL;
    t->count = 0;
}

/* ---- shadowing ---------------------------------------------------------- */

static int events_cover(const rule *a, const rule *b)
{
    for (size_t i = 0; i < b->n_events; i++) {
        int covered = 0;
        for (size_t j = 0; j < a->n_events && !covered; j++)
            covered = route_event_matches(a->events[j], b->events[i]);
        if (!covered)
            return 0;
    }
    return 1;
}

/* Conservative: 1 only when every object b matches is matched by a. */
static int rule_covers(const rule *a, const rule *b)
{
    if (strcmp(a->bucket, "*") != 0 && strcmp(a->bucket, b->bucket) != 0)
        return 0;
    if (a->prefix && a->prefix[0] && !(b->prefix && has_prefix(b->prefix, a->prefix)))
        return 0;
    if (a->suffix && a->suffix[0] && !(b->suffix && has_suffix(b->suffix, a->suffix)))
        return 0;
    if (a->regex_src && !(b->regex_src && !strcmp(a->regex_src, b->regex_src)))
        return 0;
    return events_cover(a, b);
}

void route_check_shadowing(const config *cfg, diag_list *diags)
{
    for (size_t j = 1; j < cfg->n_rules; j++) {
        const rule *b = &cfg->rules[j];
        for (size_t i = 0; i < j; i++) {
            const rule *a = &cfg->rules[i];
            if (rule_covers(a, b)) {
                diag_add(diags, DIAG_WARNING, cfg->path, b->line, b->column,
                         "rule \"%s\" can never match: rule \"%s\" (line %d) matches "
                         "everything it matches",
                         b->name, a->name, a->line);
                break;
            }
        }
    }
}
