/* config.h — the sluice configuration (sluice.yaml): storage, plugin
 * search path, notification targets and the ordered routing rules.
 * Loading validates everything that can be checked without plugins; the
 * plugin checks (exists, options against its schema, its init) are the
 * plugin layer's (plugin/plugin_bindings.h).
 *
 * A loaded config is plain, immutable data: any number of threads may read
 * it. It owns everything it points to; config_free() releases it. */
#ifndef SLUICE_CONFIG_H
#define SLUICE_CONFIG_H

#include <jansson.h>
#include <pcre2.h>
#include <stddef.h>

#include "config/template.h"
#include "config/yamltree.h"
#include "util/diag.h"

/* A place in the configuration file, 1-based; line 0: unknown. */
typedef struct config_pos {
    int line, column;
} config_pos;

/* Every value below is filled: a key the file leaves out holds its
 * declared default (config_keys.c); paths are resolved against the
 * configuration file's directory. */

typedef struct storage_config {
    char *type;                /* "local" or "s3" */
    char *root;                /* local: directory holding one folder per bucket */
    /* type s3; NULL strings: found by the AWS chain (environment, profile) */
    char *region;
    char *endpoint;
    char *profile;
    char *ca_bundle;
    int path_style;            /* -1: the endpoint's default, else 0 or 1 */
    int insecure_skip_verify;
    long long part_size;       /* bytes */
    int max_attempts;
    int parts_in_flight;
    int read_timeout;          /* seconds */
    int connect_timeout;       /* seconds */
    int retry_max_seconds;
} storage_config;

/* One header a webhook target adds to its requests. */
typedef struct config_header {
    char *name, *value;
} config_header;

typedef struct notify_target {
    char *name;
    char *type;                /* "log", "sns", "eventbridge", "webhook" */
    int line, column;
    /* sns, eventbridge; NULL strings: found by the AWS chain */
    char *region;
    char *endpoint;
    char *profile;
    /* every remote type */
    long timeout_ms;           /* per request */
    int max_attempts;          /* deliveries in all */
    /* sns */
    char *topic_arn;
    char *subject_prefix;      /* NULL: none */
    /* eventbridge; NULL: the default bus, source and detail-type */
    char *event_bus;
    char *source;
    char *detail_type;
    /* webhook */
    char *url;
    char *secret_env;          /* NULL: unsigned */
    config_header *headers;
    size_t n_headers;
} notify_target;

/* runs: where run records go (core/runstore.h). */
typedef struct runs_config {
    int enabled;
    char *dir;                 /* NULL: runs/ beside the local storage root */
    char *location;            /* s3://BUCKET/KEY-TEMPLATE, or NULL */
} runs_config;

typedef struct rule {
    char *name;
    size_t index;              /* its place in config.rules */
    int line, column;          /* where the rule starts */
    config_pos plugin_pos;     /* of its plugin: value */
    config_pos options_pos;    /* of its options: value; line 0 when absent */
    /* match */
    char *bucket;              /* exact name, or "*" for any */
    char *prefix;              /* NULL: any */
    char *suffix;              /* NULL: any */
    char *regex_src;           /* NULL: none */
    pcre2_code *regex;         /* compiled, with named captures */
    char **capture_names;      /* the regex's named groups */
    size_t n_captures;
    char **events;             /* patterns like "ObjectCreated:*" (no "s3:") */
    size_t n_events;
    /* action */
    char *plugin_name;
    json_t *options;           /* `options:` as JSON (empty object if absent) */
    template *output;          /* compiled output template */
    char *delivery;            /* "adobe": the object is a delivery set's
                                  manifest (core/delivery.h); NULL: none */
    char **on_failure;         /* target names (NULL: the top-level default) */
    size_t n_on_failure;
    char **on_success;
    size_t n_on_success;
    /* compressed and archived objects (docs/compression.md) */
    char *decompress;          /* "auto", "none", "gzip", "zstd", "bzip2" */
    char **members;            /* archive member patterns; NULL: none given */
    size_t n_members;
    char *members_as;          /* "stream" or "jobs" */
    long long max_expanded_bytes;
    long long max_ratio;
    char *compress;            /* the output's: "none", "gzip", "zstd" */
    int compress_level;        /* 0: the codec's default */
    /* plugin isolation (core/job_isolate.h) */
    char *isolation;           /* "process", "none"; NULL: by the plugin's origin */
    char *timeout;             /* a duration as written ("10m"); NULL: none */
    char *max_memory;          /* a size as written ("2G"); NULL: none */
    long long timeout_ms;      /* derived: 0 when none */
    long long max_memory_bytes; /* derived: 0 when none */
} rule;

/* expect: one expected arrival (intake/expect.h, docs/expect.md). */
typedef struct expect_config {
    char *rule;                /* a rule of `rules` */
    char *every;               /* "day" or "hour" (UTC) */
    char *by;                  /* "HH:MMZ" (day) or ":MM" (hour) */
    char *grace;               /* a duration as written: "2h" */
    int lookback;              /* past periods each check judges */
    int line, column;          /* where the item starts */
    /* derived from the above */
    int period_s;              /* 86400 or 3600 */
    int by_s;                  /* seconds from the period's start to `by` */
    long long grace_s;
} expect_config;

typedef struct config {
    char *path;                /* the file loaded */
    char *dir;                 /* its directory, for relative paths */
    ydoc *doc;                 /* kept for positions */
    storage_config storage;
    char **plugin_paths;       /* plugins.path, in order */
    size_t n_plugin_paths;
    notify_target *targets;
    size_t n_targets;
    runs_config runs;
    char **on_failure;         /* defaults for rules */
    size_t n_on_failure;
    char **on_success;
    size_t n_on_success;
    rule *rules;
    size_t n_rules;
    expect_config *expects;    /* expect: in file order */
    size_t n_expects;
} config;

/* Loads and checks a configuration file. Every problem found is appended to
 * `diags` (as file:line:column); returns NULL when there is any error. */
config *config_load(const char *path, diag_list *diags);
/* The same for a configuration made in memory (`sluice plugins run`):
 * `name` stands for the file in messages, relative paths resolve against
 * `dir` (absolute). */
config *config_load_text(const char *name, const char *dir, const char *text,
                         diag_list *diags);
void config_free(config *cfg);
/* Where the option at `pointer` (a JSON pointer into r->options) is
 * written, for messages: with at_key, the key of a mapping member (an
 * unknown option is best shown at its name), else the value, or the
 * deepest part that exists. Returns 0 and *pos, or -1 (pos untouched)
 * when the rule has no options: mapping. */
int config_option_position(const config *cfg, const rule *r, const char *pointer, int at_key,
                           config_pos *pos);

const rule *config_find_rule(const config *cfg, const char *name);
const notify_target *config_find_target(const config *cfg, const char *name);

#endif
