/* plugin_bindings.h — the rules of one configuration bound to plugin
 * instances: for each rule, its plugin (loaded through the host) and the
 * state its init() returned for the rule's options.
 *
 * Binding checks what loading a configuration cannot: that each plugin
 * exists, declares a usable options schema, accepts the rule's options
 * against it, and initialises. Every problem becomes a diagnostic at the
 * rule's plugin: or options: position.
 *
 * Ownership: the bindings own the instances and destroy them (the
 * plugin's destroy()) in plugin_bindings_free(). The host keeps a list of
 * the bindings made through it and frees any left over before it closes a
 * library, so an instance never outlives its code.
 *
 * Threading: made and freed by one thread; lookups are read-only and may
 * run on any number of job threads at once. */
#ifndef SLUICE_PLUGIN_BINDINGS_H
#define SLUICE_PLUGIN_BINDINGS_H

#include <stddef.h>

#include "config/config.h"
#include "plugin/plugin_host.h"
#include "util/diag.h"

typedef struct plugin_instance {
    const loaded_plugin *plugin;
    void *state; /* what init() returned; NULL for a plugin without init */
} plugin_instance;

typedef struct plugin_bindings plugin_bindings;

/* Binds every rule of `cfg` (borrowed: it must outlive the bindings).
 * Appends one diagnostic per problem to `diags`; rules that could not be
 * bound are left unbound. Never NULL. */
plugin_bindings *plugin_bindings_new(plugin_host *host, const config *cfg, diag_list *diags);
/* The instance for rule `r` of the bound configuration, or NULL when that
 * rule could not be bound. */
const plugin_instance *plugin_bindings_get(const plugin_bindings *b, const rule *r);
/* Destroys every instance, then frees. NULL is fine. */
void plugin_bindings_free(plugin_bindings *b);

#endif
