/* config.h — the sluice configuration (sluice.yaml): storage, plugin
 * search path, notification targets and the ordered routing rules.
 * Loading validates everything that can be checked without plugins; the
 * plugin checks (exists, options against its schema, its init) are the
 * plugin layer's (plugin/plugin_binding.h).
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

typedef struct storage_config {
    char *type;   /* "local" (default) */
    char *root;   /* local: directory holding one folder per bucket;
                     relative paths are relative to the config file */
    json_t *raw;  /* the whole `storage:` mapping, for backends */
} storage_config;

typedef struct notify_target {
    char *name;
    char *type;   /* "log", "sns", "eventbridge", "webhook" */
    json_t *params; /* the target's mapping, validated per type */
    int line, column;
} notify_target;

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
    char **on_failure;         /* target names (NULL: the top-level default) */
    size_t n_on_failure;
    char **on_success;
    size_t n_on_success;
} rule;

typedef struct config {
    char *path;                /* the file loaded */
    char *dir;                 /* its directory, for relative paths */
    ydoc *doc;                 /* kept for positions */
    storage_config storage;
    char **plugin_paths;       /* plugins.path, in order */
    size_t n_plugin_paths;
    notify_target *targets;
    size_t n_targets;
    char **on_failure;         /* defaults for rules */
    size_t n_on_failure;
    char **on_success;
    size_t n_on_success;
    rule *rules;
    size_t n_rules;
} config;

/* Loads and checks a configuration file. Every problem found is appended to
 * `diags` (as file:line:column); returns NULL when there is any error. */
config *config_load(const char *path, diag_list *diags);
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
