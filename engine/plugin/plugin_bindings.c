/* plugin_bindings.c — rules bound to plugin instances (plugin_bindings.h). */
#include "autoconfig.h"
#include "plugin/plugin_bindings.h"

#include <stdlib.h>
#include <string.h>

#include "config/jsonschema.h"
#include "util/alloc.h"
#include "util/strbuf.h"

struct plugin_bindings {
    plugin_host *host;
    const config *cfg;
    plugin_instance *instances; /* parallel to cfg->rules; plugin NULL: unbound */
    size_t count;
};

/* "/engines/0/name" -> ".engines[0].name", using the value to tell list
 * indexes from keys. */
static char *pointer_to_path(const json_t *root, const char *pointer)
{
    strbuf sb = STRBUF_INIT;
    const json_t *cur = root;
    const char *p = pointer;
    while (*p == '/') {
        p++;
        size_t len = strcspn(p, "/");
        char *seg = xstrndup(p, len);
        /* unescape ~1 and ~0 */
        char *o = seg;
        for (char *s = seg; *s; s++) {
            if (s[0] == '~' && (s[1] == '0' || s[1] == '1')) {
                *o++ = s[1] == '0' ? '~' : '/';
                s++;
            } else {
                *o++ = *s;
            }
        }
        *o = '\0';
        if (json_is_array(cur)) {
            sb_addf(&sb, "[%s]", seg);
            cur = json_array_get(cur, strtoul(seg, NULL, 10));
        } else {
            sb_addf(&sb, ".%s", seg);
            cur = json_object_get(cur, seg);
        }
        free(seg);
        p += len;
    }
    return sb_steal(&sb);
}

static void report_schema_errors(diag_list *diags, const config *cfg, const rule *r,
                                 const jsonschema_errors *se)
{
    for (size_t i = 0; i < se->count; i++) {
        const jsonschema_error *e = &se->items[i];
        config_pos at = r->plugin_pos;
        /* unknown options are best shown at their key */
        int at_key = strncmp(e->message, "unknown option", 14) == 0;
        config_option_position(cfg, r, e->pointer, at_key, &at);
        char *sub = pointer_to_path(r->options, e->pointer);
        diag_add(diags, DIAG_ERROR, cfg->path, at.line, at.column, "rules[%zu].options%s: %s",
                 r->index, sub, e->message);
        free(sub);
    }
}

typedef struct checked_schema {
    const loaded_plugin *plugin;
    int ok;
} checked_schema;

/* jsonschema_check once per plugin; the first rule using a broken schema
 * reports it. */
static int plugin_schema_ok(checked_schema **seen, size_t *n_seen, const loaded_plugin *p,
                            diag_list *diags, const config *cfg, const rule *r)
{
    for (size_t i = 0; i < *n_seen; i++)
        if ((*seen)[i].plugin == p)
            return (*seen)[i].ok;
    char err[512] = "";
    int ok = !p->schema || jsonschema_check(p->schema, err, sizeof err) == 0;
    if (!ok)
        diag_add(diags, DIAG_ERROR, cfg->path, r->plugin_pos.line, r->plugin_pos.column,
                 "rules[%zu].plugin: plugin \"%s\" (%s) declares an unusable options schema: %s",
                 r->index, p->name, p->path, err);
    *seen = xrealloc(*seen, (*n_seen + 1) * sizeof **seen);
    (*seen)[*n_seen].plugin = p;
    (*seen)[*n_seen].ok = ok;
    ++*n_seen;
    return ok;
}

static void bind_rule(plugin_bindings *b, const rule *r, diag_list *diags,
                      checked_schema **seen, size_t *n_seen)
{
    const config *cfg = b->cfg;
    sl_error err = {0};
    const loaded_plugin *p = plugin_host_load(b->host, r->plugin_name, &err);
    if (!p) {
        diag_add(diags, DIAG_ERROR, cfg->path, r->plugin_pos.line, r->plugin_pos.column,
                 "rules[%zu].plugin: %s", r->index, err.msg);
        return;
    }
    if (!plugin_schema_ok(seen, n_seen, p, diags, cfg, r))
        return;
    if (p->schema) {
        jsonschema_errors se = {0};
        size_t n = jsonschema_validate(p->schema, r->options, &se);
        if (n)
            report_schema_errors(diags, cfg, r, &se);
        jsonschema_errors_free(&se);
        if (n)
            return;
    }
    void *state = NULL;
    if (plugin_host_init_instance(b->host, p, r->options, &state, &err) != 0) {
        int has_options = r->options_pos.line > 0;
        config_pos at = has_options ? r->options_pos : r->plugin_pos;
        diag_add(diags, DIAG_ERROR, cfg->path, at.line, at.column, "rules[%zu]%s: %s", r->index,
                 has_options ? ".options" : ".plugin", err.msg);
        return;
    }
    b->instances[r->index] = (plugin_instance){.plugin = p, .state = state};
}

plugin_bindings *plugin_bindings_new(plugin_host *host, const config *cfg, diag_list *diags)
{
    plugin_bindings *b = xcalloc(1, sizeof *b);
    b->host = host;
    b->cfg = cfg;
    b->count = cfg->n_rules;
    b->instances = xcalloc(b->count ? b->count : 1, sizeof *b->instances);
    checked_schema *seen = NULL;
    size_t n_seen = 0;
    for (size_t i = 0; i < cfg->n_rules; i++)
        bind_rule(b, &cfg->rules[i], diags, &seen, &n_seen);
    free(seen);
    plugin_host_adopt(host, b);
    return b;
}

const plugin_instance *plugin_bindings_get(const plugin_bindings *b, const rule *r)
{
    if (!b || r->index >= b->count || !b->instances[r->index].plugin)
        return NULL;
    return &b->instances[r->index];
}

void plugin_bindings_free(plugin_bindings *b)
{
    if (!b)
        return;
    plugin_host_disown(b->host, b);
    for (size_t i = 0; i < b->count; i++)
        if (b->instances[i].plugin)
            plugin_host_destroy_instance(b->instances[i].plugin, b->instances[i].state);
    free(b->instances);
    free(b);
}
