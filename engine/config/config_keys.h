/* config_keys.h — every key of sluice.yaml, declared once.
 *
 * Each section of the file (the top level, storage of each type, plugins,
 * each notification target type, runs, a rule, its match) is a table of
 * keys in the manner of Fluent Bit's config maps: name, type, whether it is
 * required, its default, bounds, pattern, a one-line help, the words its
 * messages use and the typed field of config.h it fills. config.c walks
 * these tables to check a file and fill a config, in the order declared
 * here (the order of its messages); the help texts are the descriptions of
 * schemas/config.schema.json, and tests/config/test_config_keys.py holds
 * the tables, the schema and docs/configuration.md in agreement.
 *
 * The tables are constant data: any thread may read them. */
#ifndef SLUICE_CONFIG_KEYS_H
#define SLUICE_CONFIG_KEYS_H

#include <stddef.h>

#include "config/yamltree.h"

typedef enum config_key_type {
    CONFIG_STRING,  /* a non-empty string (matching `pattern`, when set) */
    CONFIG_TEXT,    /* any string, the empty one too */
    CONFIG_PATH,    /* a non-empty string, stored resolved against the
                     * configuration file's directory */
    CONFIG_PATHS,   /* a path or a list of them */
    CONFIG_ENUM,    /* one of `choices` */
    CONFIG_INT,     /* an integer from min to max */
    CONFIG_NUMBER,  /* a number above min and at most max; stored times
                     * `scale`, rounded (seconds kept as milliseconds) */
    CONFIG_BOOL,    /* stored 0 or 1; -1 when absent without a default */
    CONFIG_LIST,    /* a list: of `section` mappings, else of strings
                     * matching `pattern` */
    CONFIG_MAP,     /* a mapping: members named by `pattern`, each one of
                     * `variants` or else a string; with neither, any
                     * mapping, stored as JSON */
    CONFIG_SECTION, /* a mapping of the keys of `section`, or of the
                     * section `variants` picks; absent (optional, no
                     * default): as if empty, so its keys' defaults apply */
} config_key_type;

enum {
    CONFIG_REQUIRED = 1 << 0, /* a missing key is an error */
    CONFIG_NONEMPTY = 1 << 1, /* a list: at least one item */
    CONFIG_UNIQUE = 1 << 2,   /* a list: no item twice */
    CONFIG_KEEP_POS = 1 << 3, /* where the value is written goes to pos_offset */
};

typedef struct config_key config_key;
typedef struct config_section config_section;
typedef struct config_variants config_variants;
/* config.c's loading state, for the custom handlers. */
typedef struct config_loader config_loader;

/* Takes over checking and storing a key's value (written or default);
 * `path` names it in messages ("rules[0].match.events"), `base` is the
 * structure its section fills. */
typedef void config_key_load(config_loader *L, const config_key *k, const ynode *value,
                             const char *path, void *base);
/* Runs once a value has passed the table's checks, before it is stored;
 * returns 0 (after reporting why) to reject it. `map` holds the key. */
typedef int config_key_hook(config_loader *L, const config_key *k, const ynode *map,
                            const ynode *value, const char *path, void *base);

struct config_key {
    const char *name;
    config_key_type type;
    unsigned flags;
    const char *def;             /* the default, as YAML; NULL: none */
    const char *help;            /* one line; the schema's description */
    const char *pattern;         /* a PCRE2 pattern, anchored: of a string, of a
                                  * list's items or of a mapping's member names */
    const char *what;            /* words for messages: what a valid value is ("a
                                  * valid AWS region name"), a number's unit ("a
                                  * number of seconds"), an enum's name ("storage
                                  * type"), valid member names; at the top level,
                                  * what a missing key is */
    long long min, max;          /* CONFIG_INT, CONFIG_NUMBER */
    double scale;                /* CONFIG_NUMBER; 0 means 1 */
    const char *const *choices;  /* CONFIG_ENUM, NULL-terminated */
    const char *conflicts;       /* a key of the same section it excludes */
    const config_section *section;   /* CONFIG_SECTION; CONFIG_LIST: of its items */
    const config_variants *variants; /* CONFIG_SECTION; CONFIG_MAP: of its members */
    size_t offset, size;         /* the field it fills, in its section's base;
                                  * size 0: none */
    size_t count_offset;         /* a list of strings: its size_t count */
    size_t pos_offset;           /* CONFIG_KEEP_POS: a config_pos field */
    config_key_load *load;
    config_key_hook *hook;
};

struct config_section {
    const char *name;    /* "storage.s3", "notify.webhook", "rule", ... */
    const char *where;   /* ends "unknown key \"K\" ..."; a "%s" in it stands
                          * for the section's label (a rule's path, a target's
                          * name) */
    const char *variant; /* the discriminator's value that picks it, or NULL */
    const config_key *keys;
    size_t n_keys;
};

/* Sections told apart by the value of one key, like storage's `type`
 * (each of them declares that key, an enum of its own value). */
struct config_variants {
    const char *key;                        /* "type" */
    const char *fallback;                   /* picked when the key is absent;
                                             * NULL: the key is required */
    const config_section *const *sections;  /* NULL-terminated */
};

/* The top level of the file; every other section is reached from it. */
extern const config_section config_keys_root;

/* The key named `name` in `s`, or NULL. */
const config_key *config_keys_find(const config_section *s, const char *name);
/* The section of `v` picked by `value`, or NULL. */
const config_section *config_keys_variant(const config_variants *v, const char *value);
/* A key's default as a YAML document (the caller frees it), or NULL when
 * it has none. */
ydoc *config_keys_default(const config_key *k);
/* "string", "integer", ...: the type's name in the key dump. */
const char *config_keys_type_name(config_key_type type);

/* The custom handlers the tables name; config.c implements them. */
config_key_load config_load_plugin_paths, config_load_notify, config_load_target_list,
    config_load_rules, config_load_events, config_load_headers, config_load_expect,
    config_load_strings;
config_key_hook config_check_rule_name, config_check_regex, config_check_output,
    config_check_members_as, config_check_expect_rule, config_check_expect_by,
    config_check_expect_grace, config_check_rule_timeout, config_check_rule_max_memory;

#endif
