#include "autoconfig.h"
#include "plugin/plugin_host.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <ltdl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin/plugin_bindings.h"
#include "plugin/plugin_values.h"
#include "util/alloc.h"
#include "util/fsutil.h"
#include "util/strbuf.h"

typedef struct plugin_entry {
    loaded_plugin pub;
    lt_dlhandle handle;
} plugin_entry;

struct plugin_host {
    char *search_path;   /* colon-separated, as given to libltdl */
    char **dirs;         /* the same, split */
    size_t n_dirs;
    plugin_entry **plugins;
    size_t n_plugins;
    pthread_mutex_t lock; /* loading may race with `process --jobs` */
    const sluice_host *services;
    struct plugin_bindings **bindings; /* alive, made through this host */
    size_t n_bindings;
};

static void add_dir(plugin_host *h, const char *dir)
{
    if (!dir || !*dir)
        return;
    for (size_t i = 0; i < h->n_dirs; i++)
        if (strcmp(h->dirs[i], dir) == 0)
            return;
    h->dirs = xrealloc(h->dirs, (h->n_dirs + 1) * sizeof *h->dirs);
    h->dirs[h->n_dirs++] = xstrdup(dir);
}

static void add_path_list(plugin_host *h, const char *list)
{
    if (!list)
        return;
    const char *p = list;
    while (*p) {
        const char *colon = strchr(p, ':');
        size_t n = colon ? (size_t)(colon - p) : strlen(p);
        if (n > 0) {
            char *dir = xstrndup(p, n);
            add_dir(h, dir);
            free(dir);
        }
        p += n;
        if (*p == ':')
            p++;
    }
}

/* True when this process is the sluice binary of a build tree, so that an
 * uninstalled ./sluice finds the plugins built beside it — but an installed
 * sluice never picks up a stale build tree. */
static int running_from_build_tree(void)
{
    char exe[PATH_MAX], tree[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return 0;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    if (!realpath(SLUICE_BUILD_TREE, tree))
        return 0;
    size_t tl = strlen(tree);
    /* the binary itself, or a test program somewhere below the tree */
    return strncmp(exe, tree, tl) == 0 && (exe[tl] == '\0' || exe[tl] == '/');
}

plugin_host *plugin_host_new(const char *const *config_paths, size_t n,
                             const sluice_host *services, sl_error *err)
{
    if (lt_dlinit() != 0) {
        sl_error_set(err, SL_ERR_INTERNAL, "cannot initialise libltdl: %s", lt_dlerror());
        return NULL;
    }
    plugin_host *h = xcalloc(1, sizeof *h);
    h->services = services;
    pthread_mutex_init(&h->lock, NULL);
    for (size_t i = 0; i < n; i++)
        add_dir(h, config_paths[i]);
    add_path_list(h, getenv("SLUICE_PLUGIN_PATH"));
    if (running_from_build_tree())
        add_dir(h, SLUICE_BUILD_TREE "/plugins");
    char *installed = fsutil_installed(SLUICE_PLUGINDIR, SLUICE_PREFIX);
    add_dir(h, installed);
    free(installed);

    strbuf sp = STRBUF_INIT;
    for (size_t i = 0; i < h->n_dirs; i++) {
        if (i)
            sb_addc(&sp, ':');
        sb_adds(&sp, h->dirs[i]);
    }
    h->search_path = sb_steal(&sp);
    if (lt_dlsetsearchpath(h->search_path) != 0) {
        sl_error_set(err, SL_ERR_INTERNAL, "cannot set the plugin search path: %s", lt_dlerror());
        plugin_host_free(h);
        return NULL;
    }
    return h;
}

const char *plugin_host_search_path(const plugin_host *h)
{
    return h->search_path;
}

/* Plugin names become file names: keep them to a safe alphabet so a rule
 * can never name a path. */
int plugin_host_valid_name(const char *name)
{
    if (!*name || strlen(name) > 64)
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    return 1;
}

static const char *handle_file(lt_dlhandle hd)
{
    const lt_dlinfo *info = lt_dlgetinfo(hd);
    return info && info->filename ? info->filename : "(unknown file)";
}

/* Checks what the descriptor promises before anything else is read from it. */
static int check_descriptor(const sluice_plugin *d, const char *name, const char *file,
                            sl_error *err)
{
    if (d->abi_version != SLUICE_PLUGIN_ABI_VERSION) {
        sl_error_set(err, SL_ERR_CONFIG,
                     "plugin %s (%s): built for plugin ABI version %u, this sluice speaks "
                     "version %d; rebuild it against this release's sluice/plugin.h",
                     name, file, (unsigned)d->abi_version, SLUICE_PLUGIN_ABI_VERSION);
        return -1;
    }
    if (!d->name || strcmp(d->name, name) != 0) {
        sl_error_set(err, SL_ERR_CONFIG, "plugin file %s declares the name \"%s\", not \"%s\"",
                     file, d->name ? d->name : "(null)", name);
        return -1;
    }
    if (!d->version || !d->description || !d->options_schema || !d->run) {
        sl_error_set(err, SL_ERR_CONFIG,
                     "plugin %s (%s): descriptor incomplete (version, description, "
                     "options_schema and run are required)",
                     name, file);
        return -1;
    }
    return 0;
}

static plugin_entry *find_loaded(plugin_host *h, const char *name)
{
    for (size_t i = 0; i < h->n_plugins; i++)
        if (strcmp(h->plugins[i]->pub.name, name) == 0)
            return h->plugins[i];
    return NULL;
}

static plugin_entry *checked_entry(lt_dlhandle hd, const char *name, sl_error *err);
static int is_bundled(const char *file);

static plugin_entry *load_plugin(plugin_host *h, const char *name, sl_error *err)
{
    lt_dlhandle hd = lt_dlopenext(name);
    if (!hd) {
        const char *why = lt_dlerror();
        sl_error_set(err, SL_ERR_CONFIG, "cannot load plugin \"%s\": %s (searched: %s)", name,
                     why ? why : "unknown libltdl error", h->search_path);
        return NULL;
    }
    return checked_entry(hd, name, err);
}

/* Reads and checks the descriptor of an open library; closes it on
 * failure. */
static plugin_entry *checked_entry(lt_dlhandle hd, const char *name, sl_error *err)
{
    const char *file = handle_file(hd);
    const sluice_plugin *d = lt_dlsym(hd, SLUICE_PLUGIN_SYMBOL);
    if (!d) {
        sl_error_set(err, SL_ERR_CONFIG,
                     "plugin file %s has no symbol %s: not a sluice plugin", file,
                     SLUICE_PLUGIN_SYMBOL);
        lt_dlclose(hd);
        return NULL;
    }
    if (check_descriptor(d, name, file, err) != 0) {
        lt_dlclose(hd);
        return NULL;
    }
    json_error_t jerr;
    json_t *schema = json_loads(d->options_schema, JSON_REJECT_DUPLICATES, &jerr);
    if (!schema || !json_is_object(schema)) {
        sl_error_set(err, SL_ERR_CONFIG,
                     "plugin %s (%s): options_schema is not a JSON object: %s", name, file,
                     schema ? "wrong type" : jerr.text);
        json_decref(schema);
        lt_dlclose(hd);
        return NULL;
    }
    plugin_entry *e = xcalloc(1, sizeof *e);
    e->handle = hd;
    e->pub.desc = d;
    e->pub.name = xstrdup(name);
    e->pub.path = xstrdup(file);
    e->pub.bundled = is_bundled(file);
    e->pub.schema = schema;
    return e;
}

/* Whether `file` lies below directory `dir`, both resolved (symlinks and
 * "..": a path cannot talk its way into the bundled directory). */
static int lies_below(const char *file, const char *dir)
{
    char f[PATH_MAX], d[PATH_MAX];
    if (!realpath(file, f) || !realpath(dir, d))
        return 0;
    size_t n = strlen(d);
    return strncmp(f, d, n) == 0 && f[n] == '/';
}

/* The plugins built and installed with this sluice (plugin_host.h). */
static int is_bundled(const char *file)
{
    char *installed = fsutil_installed(SLUICE_PLUGINDIR, SLUICE_PREFIX);
    int yes = lies_below(file, installed) ||
              (running_from_build_tree() && lies_below(file, SLUICE_BUILD_TREE "/plugins"));
    free(installed);
    return yes;
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls > lx && strcmp(s + ls - lx, suffix) == 0;
}

char *plugin_host_file_name(const char *path)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    size_t n = strlen(base);
    if (has_suffix(base, ".so") || has_suffix(base, ".la"))
        n -= 3;
    return xstrndup(base, n);
}

const loaded_plugin *plugin_host_load_file(plugin_host *h, const char *path, sl_error *err)
{
    char *name = plugin_host_file_name(path);
    char abs[PATH_MAX];
    plugin_entry *e = NULL;
    if (!plugin_host_valid_name(name)) {
        sl_error_set(err, SL_ERR_CONFIG,
                     "%s: a plugin file is named NAME.so or NAME.la, NAME of lower-case "
                     "letters, digits and '_'",
                     path);
        goto out;
    }
    pthread_mutex_lock(&h->lock);
    if (find_loaded(h, name)) {
        sl_error_set(err, SL_ERR_CONFIG, "%s: a plugin named \"%s\" is already loaded", path,
                     name);
    } else if (!realpath(path, abs)) {
        sl_error_set(err, SL_ERR_CONFIG, "cannot load plugin file %s: %s", path,
                     strerror(errno));
    } else {
        /* absolute: a bare "x.so" would be looked up along the search path */
        lt_dlhandle hd = lt_dlopen(abs);
        if (!hd) {
            const char *why = lt_dlerror();
            sl_error_set(err, SL_ERR_CONFIG, "cannot load plugin file %s: %s", path,
                         why ? why : "unknown libltdl error");
        } else if ((e = checked_entry(hd, name, err)) != NULL) {
            h->plugins = xrealloc(h->plugins, (h->n_plugins + 1) * sizeof *h->plugins);
            h->plugins[h->n_plugins++] = e;
        }
    }
    pthread_mutex_unlock(&h->lock);
out:
    free(name);
    return e ? &e->pub : NULL;
}

int plugin_host_from_build_tree(void)
{
    return running_from_build_tree();
}

const loaded_plugin *plugin_host_load(plugin_host *h, const char *name, sl_error *err)
{
    if (!plugin_host_valid_name(name)) {
        sl_error_set(err, SL_ERR_CONFIG,
                     "invalid plugin name \"%s\": use lower-case letters, digits and '_'",
                     name);
        return NULL;
    }
    pthread_mutex_lock(&h->lock);
    plugin_entry *e = find_loaded(h, name);
    if (!e) {
        e = load_plugin(h, name, err);
        if (e) {
            h->plugins = xrealloc(h->plugins, (h->n_plugins + 1) * sizeof *h->plugins);
            h->plugins[h->n_plugins++] = e;
        }
    }
    pthread_mutex_unlock(&h->lock);
    return e ? &e->pub : NULL;
}


/* Plugin names found in one directory: "x.la" and "x.so" both name x. */
static void scan_dir(const char *dir, char ***names, size_t *n)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *ext = has_suffix(de->d_name, ".la") ? ".la"
                          : has_suffix(de->d_name, ".so") ? ".so"
                                                          : NULL;
        if (!ext)
            continue;
        char *name = xstrndup(de->d_name, strlen(de->d_name) - 3);
        int dup = !plugin_host_valid_name(name);
        for (size_t i = 0; i < *n && !dup; i++)
            dup = strcmp((*names)[i], name) == 0;
        if (dup) {
            free(name);
            continue;
        }
        *names = xrealloc(*names, (*n + 1) * sizeof **names);
        (*names)[(*n)++] = name;
    }
    closedir(d);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void plugin_host_each(plugin_host *h, plugin_host_each_fn fn, void *ud)
{
    char **names = NULL;
    size_t n = 0;
    for (size_t i = 0; i < h->n_dirs; i++)
        scan_dir(h->dirs[i], &names, &n);
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        sl_error err = {0};
        const loaded_plugin *p = plugin_host_load(h, names[i], &err);
        fn(ud, names[i], p, p ? NULL : &err);
        free(names[i]);
    }
    free(names);
}

int plugin_host_init_instance(plugin_host *h, const loaded_plugin *p, json_t *options,
                              void **state, sl_error *err)
{
    char msg[512] = "";
    *state = NULL;
    if (!p->desc->init)
        return 0;
    if (p->desc->init(h->services, plugin_values_from_json(options), state, msg, sizeof msg) !=
        SLUICE_OK) {
        sl_error_set(err, SL_ERR_CONFIG, "plugin %s rejected its options: %s", p->name,
                     msg[0] ? msg : "(no reason given)");
        *state = NULL;
        return -1;
    }
    return 0;
}

void plugin_host_destroy_instance(const loaded_plugin *p, void *state)
{
    if (p && p->desc->destroy)
        p->desc->destroy(state);
}

const sluice_host *plugin_host_services(const plugin_host *h)
{
    return h->services;
}

void plugin_host_adopt(plugin_host *h, struct plugin_bindings *b)
{
    h->bindings = xrealloc(h->bindings, (h->n_bindings + 1) * sizeof *h->bindings);
    h->bindings[h->n_bindings++] = b;
}

void plugin_host_disown(plugin_host *h, struct plugin_bindings *b)
{
    for (size_t i = 0; i < h->n_bindings; i++) {
        if (h->bindings[i] == b) {
            h->bindings[i] = h->bindings[--h->n_bindings];
            return;
        }
    }
}

void plugin_host_free(plugin_host *h)
{
    if (!h)
        return;
    /* instances first: their destroy() is code in the libraries below */
    while (h->n_bindings > 0)
        plugin_bindings_free(h->bindings[h->n_bindings - 1]);
    free(h->bindings);
    for (size_t i = 0; i < h->n_plugins; i++) {
        plugin_entry *e = h->plugins[i];
        json_decref(e->pub.schema);
        free(e->pub.name);
        free(e->pub.path);
        lt_dlclose(e->handle);
        free(e);
    }
    free(h->plugins);
    for (size_t i = 0; i < h->n_dirs; i++)
        free(h->dirs[i]);
    free(h->dirs);
    free(h->search_path);
    pthread_mutex_destroy(&h->lock);
    free(h);
    lt_dlexit();
}
