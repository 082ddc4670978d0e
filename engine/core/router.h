/* router.h — choose the rule for an object: the first rule whose match
 * holds wins. */
#ifndef SLUICE_ROUTER_H
#define SLUICE_ROUTER_H

#include <stddef.h>

#include "config/config.h"
#include "util/diag.h"

typedef struct route_match {
    const rule *rule;       /* NULL: no rule matched */
    char **capture_values;  /* parallel to rule->capture_names */
    size_t n_captures;
} route_match;

/* Why one rule did or did not match, for `sluice route`. */
typedef struct route_step {
    const rule *rule;
    int matched;
    char reason[256];       /* "bucket is \"x\", rule wants \"y\"" */
} route_step;

typedef struct route_trace {
    route_step *steps;
    size_t count;
} route_trace;

/* Routes (bucket, key, event_name). event_name NULL means
 * "ObjectCreated:Put" (a direct process run). `trace` may be NULL.
 * Returns 0 (out->rule may be NULL), or -1 when a regex hit its match
 * limit — reported in err as a configuration problem of that rule. */
int route_object(const config *cfg, const char *bucket, const char *key,
                 const char *event_name, route_match *out, route_trace *trace,
                 char *err, size_t errlen);
/* Match one rule; same conventions. Returns 1 match, 0 no match, -1 error. */
int route_rule_matches(const rule *r, const char *bucket, const char *key,
                       const char *event_name, route_match *out,
                       char *why, size_t whylen);
/* "ObjectCreated:*" matches "ObjectCreated:Put"; a leading "s3:" is
 * ignored on both sides. */
int route_event_matches(const char *pattern, const char *event_name);
void route_match_free(route_match *m);
/* Warnings about rules that can never match because an earlier rule
 * matches everything they match (for `sluice validate`). Appends to
 * diags. */
void route_check_shadowing(const config *cfg, diag_list *diags);
void route_trace_free(route_trace *t);

#endif
