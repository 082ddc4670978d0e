/* config.h — the sluice configuration (sluice.yaml): storage, plugin
 * search path, notification targets and the ordered routing rules.
 * Loading validates everything that can be checked without plugins; the
 * plugin checks (exists, options against its schema, its init) are done by
 * config_bind_plugins() once a plugin host exists. */
#ifndef SLUICE_CONFIG_H
#define SLUICE_CONFIG_H

#include <jansson.h>
#include <pcre2.h>
#include <stddef.h>

#include "diag.h"
#include "template.h"
#include "yamltree.h"

struct plugin_host;
struct loaded_plugin;

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
    int line, column;          /* where the rule starts */
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
    const ynode *options_node; /* for error positions; owned by the doc */
    template *output;          /* compiled output template */
    char **on_failure;         /* target names (NULL: the top-level default) */
    size_t n_on_failure;
    char **on_success;
    size_t n_on_success;
    /* bound by config_bind_plugins() */
    const struct loaded_plugin *plugin;
    void *plugin_state;
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
/* Loads plugins through `host`, validates each rule's options against the
 * plugin's schema and runs the plugin's init. Appends diagnostics; returns
 * the number of errors. */
size_t config_bind_plugins(config *cfg, struct plugin_host *host, diag_list *diags);
/* Warnings about rules that can never match because an earlier rule
 * matches everything they match. Appends to diags. */
void config_check_shadowing(const config *cfg, diag_list *diags);
/* Releases plugin states (destroy()) and everything else. */
void config_free(config *cfg);

const rule *config_find_rule(const config *cfg, const char *name);
const notify_target *config_find_target(const config *cfg, const char *name);

#endif
