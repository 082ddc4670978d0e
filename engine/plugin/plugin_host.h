/* plugin_host.h — finds, loads and checks transform plugins (libltdl), and
 * owns their lifetimes. See include/sluice/plugin.h for the ABI.
 *
 * Search path, in order: the config's plugins.path, $SLUICE_PLUGIN_PATH
 * (colon-separated), the build tree's plugins/ when sluice runs from its
 * build tree, and the installed $(pkglibdir)/plugins.
 *
 * The services a plugin gets (the sluice_host table of sluice/plugin.h) are
 * the caller's: the job layer builds them, and whoever makes the host hands
 * them in, so this layer never calls upwards.
 *
 * Threading: plugin_host_load() may be called from several threads; the
 * rest belongs to the thread that made the host. */
#ifndef SLUICE_PLUGIN_HOST_H
#define SLUICE_PLUGIN_HOST_H

#include <jansson.h>
#include <stddef.h>

#include "util/error.h"

#include "sluice/plugin.h"

typedef struct plugin_host plugin_host;

typedef struct loaded_plugin {
    const sluice_plugin *desc;
    char *name;
    char *path;      /* file it was loaded from */
    int bundled;     /* built with sluice: the file lies in the installed
                      * $(pkglibdir)/plugins, or in the build tree's plugins/
                      * when sluice runs from its build tree. Such plugins
                      * run in the engine's process by default; any other
                      * in a child (core/job_isolate.h) */
    json_t *schema;  /* parsed options_schema */
} loaded_plugin;

/* `config_paths` may be NULL/0. Relative config paths must already be
 * resolved by the caller. `services` (borrowed, must outlive the host) is
 * the table every plugin's init() and run() receive. Returns NULL with err
 * set when libltdl fails. */
plugin_host *plugin_host_new(const char *const *config_paths, size_t n,
                             const sluice_host *services, sl_error *err);
/* Loads `name` once and caches it. On failure returns NULL and err says
 * why: the lt_dlerror() text and the search path tried, or the ABI
 * mismatch naming the file. */
const loaded_plugin *plugin_host_load(plugin_host *h, const char *name, sl_error *err);
/* Loads exactly the file at `path` (NAME.so, or a libtool NAME.la), with
 * the checks plugin_host_load() makes; NAME is its name, so a rule naming
 * NAME binds this file. Fails when a plugin of that name is loaded already.
 * `sluice plugins check` and `run` on a path. */
const loaded_plugin *plugin_host_load_file(plugin_host *h, const char *path, sl_error *err);
/* A valid plugin name: 1 to 64 of [a-z0-9_] (names become file names). */
int plugin_host_valid_name(const char *name);
/* The plugin name a file stands for: "dir/x.so" and "dir/x.la" name x.
 * Caller frees. */
char *plugin_host_file_name(const char *path);
/* True when this process runs from sluice's build tree (which the search
 * path then includes). */
int plugin_host_from_build_tree(void);
/* The search path as one colon-separated string (owned by the host). */
const char *plugin_host_search_path(const plugin_host *h);
/* Calls fn for each plugin file found along the search path (first one of
 * each name wins), loading each; a file that fails to load is reported
 * through fn with plugin NULL and err set. */
typedef void (*plugin_host_each_fn)(void *ud, const char *name, const loaded_plugin *p,
                                    const sl_error *err);
void plugin_host_each(plugin_host *h, plugin_host_each_fn fn, void *ud);
/* Runs the plugin's init with `options` (a JSON object already validated
 * against its schema) and the host's services. Returns 0 and *state, or -1
 * with err set. */
int plugin_host_init_instance(plugin_host *h, const loaded_plugin *p, json_t *options,
                              void **state, sl_error *err);
/* The plugin's destroy(state), when it has one. */
void plugin_host_destroy_instance(const loaded_plugin *p, void *state);
/* The services table handed in at creation. */
const sluice_host *plugin_host_services(const plugin_host *h);
/* Frees the bindings still made through this host (plugin_bindings.h),
 * then closes every library. */
void plugin_host_free(plugin_host *h);

/* For plugin_bindings.c: the host keeps the bindings made through it, so
 * that none outlives the code of its instances. */
struct plugin_bindings;
void plugin_host_adopt(plugin_host *h, struct plugin_bindings *b);
void plugin_host_disown(plugin_host *h, struct plugin_bindings *b);

#endif
