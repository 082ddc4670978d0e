/* config_keys_dump.c — prints every declared configuration key
 * (engine/config/config_keys.c) as JSON, for tests/config/test_config_keys.py
 * to hold against schemas/config.schema.json and docs/configuration.md:
 *
 *   {"root": "config",
 *    "sections": {"NAME": {"where": ..., "variant": ..., "keys": [KEY...]}}}
 *
 * where each KEY has its name, type, required, help and, when set,
 * default (as JSON, and its YAML text), pattern, what, min, max, scale,
 * choices, conflicts, nonempty, unique, section (a section's name) and
 * variants ({key, fallback, sections: {value: section name}}).
 * Exit status 1 when a default does not parse. */
#include "autoconfig.h"

#include <jansson.h>
#include <stdio.h>

#include "config/config_keys.h"

static int bad_defaults;

static void add_section(json_t *all, const config_section *s);

static json_t *variants_json(json_t *all, const config_variants *v)
{
    json_t *names = json_object();
    for (size_t i = 0; v->sections[i]; i++) {
        json_object_set_new(names, v->sections[i]->variant, json_string(v->sections[i]->name));
        add_section(all, v->sections[i]);
    }
    return json_pack("{s:s, s:s?, s:o}", "key", v->key, "fallback", v->fallback, "sections",
                     names);
}

static void add_default(json_t *o, const config_key *k)
{
    if (!k->def)
        return;
    ydoc *doc = config_keys_default(k);
    if (!doc || !doc->root) {
        fprintf(stderr, "%s: the default \"%s\" does not parse\n", k->name, k->def);
        bad_defaults = 1;
    } else {
        json_object_set_new(o, "default", ynode_to_json(doc->root));
        json_object_set_new(o, "default_text", json_string(k->def));
    }
    ydoc_free(doc);
}

static json_t *key_json(json_t *all, const config_key *k)
{
    json_t *o = json_pack("{s:s, s:s, s:b, s:b, s:b, s:s}", "name", k->name, "type",
                          config_keys_type_name(k->type), "required",
                          (k->flags & CONFIG_REQUIRED) != 0, "nonempty",
                          (k->flags & CONFIG_NONEMPTY) != 0, "unique",
                          (k->flags & CONFIG_UNIQUE) != 0, "help", k->help ? k->help : "");
    add_default(o, k);
    if (k->pattern)
        json_object_set_new(o, "pattern", json_string(k->pattern));
    if (k->what)
        json_object_set_new(o, "what", json_string(k->what));
    if (k->type == CONFIG_INT || k->type == CONFIG_NUMBER) {
        json_object_set_new(o, "min", json_integer(k->min));
        json_object_set_new(o, "max", json_integer(k->max));
    }
    if (k->type == CONFIG_NUMBER)
        json_object_set_new(o, "scale", json_real(k->scale ? k->scale : 1));
    if (k->choices) {
        json_t *c = json_array();
        for (size_t i = 0; k->choices[i]; i++)
            json_array_append_new(c, json_string(k->choices[i]));
        json_object_set_new(o, "choices", c);
    }
    if (k->conflicts)
        json_object_set_new(o, "conflicts", json_string(k->conflicts));
    if (k->section) {
        json_object_set_new(o, "section", json_string(k->section->name));
        add_section(all, k->section);
    }
    if (k->variants)
        json_object_set_new(o, "variants", variants_json(all, k->variants));
    return o;
}

static void add_section(json_t *all, const config_section *s)
{
    if (json_object_get(all, s->name))
        return;
    json_t *keys = json_array();
    json_object_set_new(all, s->name,
                        json_pack("{s:s, s:s?, s:o}", "where", s->where, "variant", s->variant,
                                  "keys", keys));
    for (size_t i = 0; i < s->n_keys; i++)
        json_array_append_new(keys, key_json(all, &s->keys[i]));
}

int main(void)
{
    json_t *all = json_object();
    add_section(all, &config_keys_root);
    json_t *out = json_pack("{s:s, s:o}", "root", config_keys_root.name, "sections", all);
    json_dumpf(out, stdout, JSON_INDENT(1));
    putchar('\n');
    json_decref(out);
    return bad_defaults;
}
