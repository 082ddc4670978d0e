/* test_router.c — first match wins, every condition and its explanation,
 * event patterns, named captures, the regex match limit, and the
 * shadowing warnings of route_check_shadowing(). */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "core/router.h"
#include "util/alloc.h"
#include "util/strbuf.h"
#include "tap.h"

static char path[64];

static config *load(const char *text)
{
    FILE *fp = fopen(path, "w");
    if (!fp) {
        perror(path);
        exit(99);
    }
    fputs(text, fp);
    fclose(fp);
    diag_list dl = {0};
    config *cfg = config_load(path, &dl);
    if (!cfg)
        diag_print(&dl, stdout); /* shows as TAP comments would not; fails below */
    diag_free(&dl);
    return cfg;
}

static const char *routes =
    "rules:\n"
    "  - name: hits\n"
    "    match:\n"
    "      bucket: client-inbound\n"
    "      prefix: hit-data/\n"
    "      suffix: .tsv\n"
    "      regex: '^hit-data/(?<day>\\d{4}-\\d{2}-\\d{2})/(?<opt>x/)?(?<file>[^/]+)$'\n"
    "    plugin: revenue\n"
    "    output: s3://out/{day}/{name}\n"
    "  - name: removed\n"
    "    match:\n"
    "      bucket: client-inbound\n"
    "      events: ['s3:ObjectRemoved:*']\n"
    "    plugin: linecount\n"
    "    output: s3://out/{key}\n"
    "  - name: copies\n"
    "    match:\n"
    "      bucket: client-inbound\n"
    "      events: [ObjectCreated:Copy]\n"
    "    plugin: linecount\n"
    "    output: s3://out/{key}\n"
    "  - name: any-tsv\n"
    "    match: {bucket: '*', suffix: .tsv}\n"
    "    plugin: linecount\n"
    "    output: s3://out/{key}\n";

/* The winning rule's name, "-" for none, "ERR" for an error. */
static const char *winner(const config *cfg, const char *bucket, const char *key,
                          const char *event)
{
    route_match m;
    char err[512];
    int rc = route_object(cfg, bucket, key, event, &m, NULL, err, sizeof err);
    const char *name = rc < 0 ? "ERR" : m.rule ? m.rule->name : "-";
    route_match_free(&m);
    return name;
}

static void test_first_match(const config *cfg)
{
    is_str(winner(cfg, "client-inbound", "hit-data/2024-01-02/a.tsv", NULL), "hits",
           "hit data goes to the first rule");
    is_str(winner(cfg, "client-inbound", "hit-data/2024-01-02/a.tsv", "ObjectRemoved:Delete"),
           "removed", "a removal skips the created-only rule");
    is_str(winner(cfg, "client-inbound", "other/a.tsv", "ObjectCreated:Copy"), "copies",
           "a copy");
    is_str(winner(cfg, "client-inbound", "other/a.tsv", "ObjectCreated:Put"), "any-tsv",
           "falls through to the last rule");
    is_str(winner(cfg, "elsewhere", "hit-data/2024-01-02/a.tsv", NULL), "any-tsv",
           "'*' takes any bucket");
    is_str(winner(cfg, "elsewhere", "a.csv", NULL), "-", "no rule matches");
    is_str(winner(cfg, "client-inbound", "hit-data/2024-01-02/a.tsv",
                  "s3:ObjectCreated:CompleteMultipartUpload"),
           "hits", "s3: prefix on the event is ignored");
}

static void test_trace(const config *cfg)
{
    route_match m;
    route_trace t = {0};
    char err[256] = "";
    int rc = route_object(cfg, "client-inbound", "other/x.tsv", "ObjectCreated:Put", &m, &t,
                          err, sizeof err);
    is_int(rc, 0, "route ok");
    is_str(m.rule ? m.rule->name : NULL, "any-tsv", "winner");
    is_int((int64_t)t.count, 4, "a step per rule evaluated, up to the winner");
    if (t.count == 4) {
        is_str(t.steps[0].reason, "prefix \"hit-data/\" does not match key \"other/x.tsv\"",
               "why not: prefix");
        is_str(t.steps[1].reason, "event \"ObjectCreated:Put\" is not one of ObjectRemoved:*",
               "why not: event (s3: prefix stripped)");
        is_str(t.steps[2].reason, "event \"ObjectCreated:Put\" is not one of ObjectCreated:Copy",
               "why not: event");
        is_str(t.steps[3].reason, "matched", "the winner");
        ok(!t.steps[0].matched && t.steps[3].matched, "matched flags");
        ok(t.steps[3].rule == &cfg->rules[3], "step rule");
    }
    route_trace_free(&t);
    route_match_free(&m);
    is_int((int64_t)t.count, 0, "trace freed");

    route_trace t2 = {0};
    route_object(cfg, "client-inbound", "hit-data/2024-01-02/a.tsv", NULL, &m, &t2, NULL, 0);
    is_int((int64_t)t2.count, 1, "the first rule wins: one step");
    route_trace_free(&t2);
    route_match_free(&m);

    is_int(route_object(cfg, "client-inbound", "x.tsv", NULL, NULL, NULL, NULL, 0), 0,
           "route_object without out, trace or err");
}

static const char *why_not(const rule *r, const char *bucket, const char *key, const char *ev)
{
    static char why[256];
    route_match m;
    int rc = route_rule_matches(r, bucket, key, ev, &m, why, sizeof why);
    route_match_free(&m);
    if (rc != 0)
        snprintf(why, sizeof why, "[rc %d]", rc);
    return why;
}

static void test_conditions(const config *cfg)
{
    const rule *hits = &cfg->rules[0];
    is_str(why_not(hits, "other", "hit-data/2024-01-02/a.tsv", NULL),
           "bucket is \"other\", rule wants \"client-inbound\"", "bucket condition");
    is_str(why_not(hits, "client-inbound", "hit-data/2024-01-02/a.csv", NULL),
           "suffix \".tsv\" does not match key \"hit-data/2024-01-02/a.csv\"", "suffix condition");
    is_str(why_not(hits, "client-inbound", "hit-data/2024-01-02/a.tsv", "ObjectRemoved:Delete"),
           "event \"ObjectRemoved:Delete\" is not one of ObjectCreated:*", "event condition");
    is_str(why_not(hits, "client-inbound", "hit-data/24-01-02/a.tsv", NULL),
           "regex \"^hit-data/(?<day>\\d{4}-\\d{2}-\\d{2})/(?<opt>x/)?(?<file>[^/]+)$\" does not "
           "match key \"hit-data/24-01-02/a.tsv\"",
           "regex condition");
    is_str(why_not(hits, "client-inbound", "hit-data/2024-01-02/a.tsv\n", NULL),
           "suffix \".tsv\" does not match key \"hit-data/2024-01-02/a.tsv\n\"",
           "a trailing newline is part of the key");
    /* Order: the bucket is explained even when everything else fails too. */
    is_str(why_not(hits, "x", "nothing", "ObjectRemoved:Delete"),
           "bucket is \"x\", rule wants \"client-inbound\"", "bucket is checked first");
    is_str(why_not(hits, "client-inbound", "nothing.csv", NULL),
           "prefix \"hit-data/\" does not match key \"nothing.csv\"", "then prefix");

    route_match m;
    char why[256];
    int rc = route_rule_matches(hits, "client-inbound", "hit-data/2024-01-02/a.tsv", NULL, &m,
                                why, sizeof why);
    is_int(rc, 1, "match");
    ok(m.rule == hits, "match names the rule");
    is_int((int64_t)m.n_captures, 3, "three captures");
    if (m.n_captures == 3) {
        is_str(m.capture_values[0], "2024-01-02", "capture day");
        is_str(m.capture_values[1], "", "unset optional group is empty");
        is_str(m.capture_values[2], "a.tsv", "capture file");
    }
    route_match_free(&m);
    ok(m.capture_values == NULL && m.n_captures == 0 && m.rule == NULL, "match freed");
    rc = route_rule_matches(hits, "client-inbound", "hit-data/2024-01-02/x/b.tsv", NULL, &m,
                            NULL, 0);
    is_int(rc, 1, "match without a why buffer");
    is_str(m.n_captures == 3 ? m.capture_values[1] : NULL, "x/", "optional group set");
    route_match_free(&m);
    rc = route_rule_matches(hits, "client-inbound", "hit-data/2024-01-02/a.tsv", NULL, NULL,
                            NULL, 0);
    is_int(rc, 1, "match without out or why");
    rc = route_rule_matches(&cfg->rules[3], "b", "x.tsv", NULL, &m, NULL, 0);
    ok(rc == 1 && m.n_captures == 0 && m.capture_values == NULL, "no regex: no captures");
    route_match_free(&m);
}

static void test_event_patterns(void)
{
    ok(route_event_matches("ObjectCreated:*", "ObjectCreated:Put"), "wildcard matches Put");
    ok(route_event_matches("ObjectCreated:*", "s3:ObjectCreated:Copy"), "s3: on the event");
    ok(route_event_matches("s3:ObjectCreated:*", "ObjectCreated:Post"), "s3: on the pattern");
    ok(route_event_matches("ObjectCreated:*", "ObjectCreated:*"), "wildcard covers itself");
    ok(!route_event_matches("ObjectCreated:*", "ObjectRemoved:Delete"), "other family");
    ok(!route_event_matches("ObjectCreated:*", "ObjectCreatedX"), "no colon, no match");
    ok(route_event_matches("ObjectCreated:Put", "ObjectCreated:Put"), "exact");
    ok(!route_event_matches("ObjectCreated:Put", "ObjectCreated:Post"), "exact differs");
    ok(!route_event_matches("ObjectCreated:Put", "ObjectCreated:*"), "exact does not cover *");
    ok(!route_event_matches("ObjectCreated:Put", "objectcreated:put"), "case matters");
    ok(route_event_matches("*", "ObjectRemoved:Delete"), "bare * matches anything");
}

static void test_match_limit(void)
{
    config *cfg = load("rules:\n"
                       "  - name: evil\n"
                       "    match: {bucket: b-in, regex: '^(a+)+$'}\n"
                       "    plugin: linecount\n"
                       "    output: s3://out/{key}\n");
    ok(cfg != NULL, "catastrophic pattern loads");
    if (!cfg)
        return;
    route_match m;
    char err[512] = "";
    route_trace t = {0};
    /* CPU time of this thread, not wall time: a loaded machine makes the
     * wall clock run on, not the work. Without a match limit the pattern
     * would take 2^35 steps (hours); with it, milliseconds. */
    struct timespec t0, t1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    int rc = route_object(cfg, "b-in", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", NULL, &m, &t, err,
                          sizeof err);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    is_int(rc, -1, "match limit gives -1");
    ok(secs < 30.0, "and returns quickly (%.3f s of CPU)", secs);
    is_str(err,
           "rule \"evil\": regex \"^(a+)+$\" hit the PCRE2 match limit on key "
           "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\"; the pattern backtracks catastrophically, "
           "simplify it",
           "error names the rule");
    ok(m.rule == NULL && m.capture_values == NULL, "no match on error");
    is_int((int64_t)t.count, 1, "the failing step is traced");
    ok(t.count == 1 && !t.steps[0].matched && !strncmp(t.steps[0].reason, "rule \"evil\"", 11),
       "trace carries the error");
    route_trace_free(&t);
    char why[256];
    rc = route_rule_matches(&cfg->rules[0], "b-in", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", NULL,
                            &m, why, sizeof why);
    is_int(rc, -1, "route_rule_matches also gives -1");
    rc = route_rule_matches(&cfg->rules[0], "b-in", "aaaa", NULL, &m, why, sizeof why);
    is_int(rc, 1, "short keys still match");
    route_match_free(&m);
    config_free(cfg);

    /* Keys are bytes and '$' is the very end of the key. */
    cfg = load("rules:\n"
               "  - name: exact\n"
               "    match: {bucket: b-in, regex: '^a.c$'}\n"
               "    plugin: linecount\n"
               "    output: s3://out/{key}\n");
    ok(cfg && route_rule_matches(&cfg->rules[0], "b-in", "abc", NULL, NULL, NULL, 0) == 1,
       "regex matches");
    ok(cfg && route_rule_matches(&cfg->rules[0], "b-in", "abc\n", NULL, NULL, NULL, 0) == 0,
       "'$' does not match before a final newline");
    ok(cfg && route_rule_matches(&cfg->rules[0], "b-in", "a\xff" "c", NULL, NULL, NULL, 0) == 1,
       "a byte that is not UTF-8 is one character");
    config_free(cfg);
}

/* Shadowing warnings as "line: message" lines. */
static char *shadowing(const char *rules)
{
    config *cfg = load(rules);
    if (!cfg)
        return xstrdup("[load failed]");
    diag_list dl = {0};
    route_check_shadowing(cfg, &dl);
    strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < dl.count; i++)
        sb_addf(&sb, "%s%d:%d: %s%s", i ? "\n" : "", dl.items[i].line, dl.items[i].column,
                dl.items[i].severity == DIAG_WARNING ? "" : "[error] ", dl.items[i].message);
    diag_free(&dl);
    config_free(cfg);
    return sb_steal(&sb);
}

#define RULE(name, match) \
    "  - name: " name "\n    match: " match "\n    plugin: linecount\n    output: o\n"

#define SHADOW(rules, want, name)              \
    do {                                       \
        char *got_ = shadowing("rules:\n" rules); \
        is_str(got_, want, "%s", name);        \
        free(got_);                            \
    } while (0)

static void test_shadowing(void)
{
    SHADOW(RULE("a", "{bucket: '*'}") RULE("b", "{bucket: b-in, prefix: x/}"),
           "6:5: rule \"b\" can never match: rule \"a\" (line 2) matches everything it matches",
           "catch-all first shadows everything");
    SHADOW(RULE("a", "{bucket: b-in, prefix: hit}") RULE("b", "{bucket: b-in, prefix: hit-data/}"),
           "6:5: rule \"b\" can never match: rule \"a\" (line 2) matches everything it matches",
           "shorter prefix shadows a longer one");
    SHADOW(RULE("a", "{bucket: b-in, suffix: .tsv}")
               RULE("b", "{bucket: b-in, prefix: p/, suffix: x.tsv}"),
           "6:5: rule \"b\" can never match: rule \"a\" (line 2) matches everything it matches",
           "suffix of a suffix");
    SHADOW(RULE("a", "{bucket: b-in, regex: '^a'}") RULE("b", "{bucket: b-in, regex: '^a'}"),
           "6:5: rule \"b\" can never match: rule \"a\" (line 2) matches everything it matches",
           "identical regex");
    SHADOW(RULE("a", "{bucket: b-in, events: ['ObjectCreated:*', 'ObjectRemoved:*']}")
               RULE("b", "{bucket: b-in, events: ['ObjectCreated:Put', 's3:ObjectRemoved:Delete']}"),
           "6:5: rule \"b\" can never match: rule \"a\" (line 2) matches everything it matches",
           "wildcard events cover specific ones");
    SHADOW(RULE("a", "{bucket: b-in}") RULE("b", "{bucket: b-in}") RULE("c", "{bucket: b-in}"),
           "6:5: rule \"b\" can never match: rule \"a\" (line 2) matches everything it matches\n"
           "10:5: rule \"c\" can never match: rule \"a\" (line 2) matches everything it matches",
           "one warning per shadowed rule, naming the first rule that covers it");

    SHADOW(RULE("a", "{bucket: b-in}") RULE("b", "{bucket: '*'}"), "",
           "a specific bucket does not cover '*'");
    SHADOW(RULE("a", "{bucket: b-in}") RULE("b", "{bucket: b-out}"), "", "different buckets");
    SHADOW(RULE("a", "{bucket: b-in, prefix: hit-data/}") RULE("b", "{bucket: b-in, prefix: hit}"),
           "", "longer prefix does not cover a shorter one");
    SHADOW(RULE("a", "{bucket: b-in, prefix: x/}") RULE("b", "{bucket: b-in}"), "",
           "a prefix does not cover no prefix");
    SHADOW(RULE("a", "{bucket: b-in, suffix: .tsv}") RULE("b", "{bucket: b-in, suffix: .csv}"), "",
           "different suffixes");
    SHADOW(RULE("a", "{bucket: b-in, regex: '^a'}") RULE("b", "{bucket: b-in, regex: '^ab'}"), "",
           "different regexes are not compared");
    SHADOW(RULE("a", "{bucket: b-in, regex: '^a'}") RULE("b", "{bucket: b-in}"), "",
           "a regex does not cover no regex");
    SHADOW(RULE("a", "{bucket: b-in, events: ['ObjectCreated:Put']}")
               RULE("b", "{bucket: b-in}"),
           "", "Put does not cover ObjectCreated:*");
    SHADOW(RULE("a", "{bucket: b-in}")
               RULE("b", "{bucket: b-in, events: ['ObjectCreated:*', 'ObjectRemoved:*']}"),
           "", "created-only does not cover removals");
    SHADOW(RULE("a", "{bucket: b-in, prefix: ''}") RULE("b", "{bucket: b-in, prefix: x}"),
           "6:5: rule \"b\" can never match: rule \"a\" (line 2) matches everything it matches",
           "an empty prefix is no condition");
}

int main(void)
{
    snprintf(path, sizeof path, "/tmp/sluice-router-%ld.yaml", (long)getpid());
    config *cfg = load(routes);
    ok(cfg != NULL, "routing configuration loads");
    if (cfg) {
        test_first_match(cfg);
        test_trace(cfg);
        test_conditions(cfg);
        config_free(cfg);
    }
    test_event_patterns();
    test_match_limit();
    test_shadowing();
    remove(path);
    return done_testing();
}
