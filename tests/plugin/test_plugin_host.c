/* Plugin host: loading along the search path, every refusal with its
 * message, caching, listing, and init with the services it is handed. */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "plugin/plugin_host.h"
#include "util/alloc.h"
#include "util/strbuf.h"
#include "services.h"
#include "tap.h"

static char *test_plugin_dir(void)
{
    const char *b = getenv("top_builddir");
    return xasprintf("%s/tests/plugins", b && *b ? b : SLUICE_BUILD_TREE);
}

static int contains(const char *hay, const char *needle)
{
    return hay && strstr(hay, needle) != NULL;
}

static void test_loading(plugin_host *h, const char *dir)
{
    sl_error err = {0};
    const loaded_plugin *lc = plugin_host_load(h, "linecount", &err);
    ok(lc != NULL, "linecount loads from the build tree (%s)", err.msg);
    if (lc) {
        is_str(lc->desc->name, "linecount", "descriptor name");
        ok(lc->desc->abi_version == SLUICE_PLUGIN_ABI_VERSION, "ABI version 1");
        ok(json_is_object(lc->schema), "options schema parsed");
        ok(contains(lc->path, "linecount"), "path names the file: %s", lc->path);
        ok(plugin_host_load(h, "linecount", &err) == lc, "second load is cached");
    }

    sl_error e1 = {0};
    ok(plugin_host_load(h, "badabi", &e1) == NULL, "ABI mismatch refused");
    ok(contains(e1.msg, "ABI version 99") && contains(e1.msg, "version 1"),
       "mismatch message gives both versions: %s", e1.msg);
    ok(contains(e1.msg, dir) && contains(e1.msg, "badabi"), "mismatch message names the file");
    is_int(e1.kind, SL_ERR_CONFIG, "mismatch is a configuration error");

    sl_error e2 = {0};
    ok(plugin_host_load(h, "noexport", &e2) == NULL, "file without descriptor refused");
    ok(contains(e2.msg, "no symbol sluice_plugin_descriptor"), "says why: %s", e2.msg);

    sl_error e3 = {0};
    ok(plugin_host_load(h, "wrongname", &e3) == NULL, "descriptor name mismatch refused");
    ok(contains(e3.msg, "declares the name \"somethingelse\""), "says why: %s", e3.msg);

    sl_error e4 = {0};
    ok(plugin_host_load(h, "doesnotexist", &e4) == NULL, "missing plugin refused");
    ok(contains(e4.msg, "cannot load plugin \"doesnotexist\""), "names the plugin: %s", e4.msg);
    ok(contains(e4.msg, "searched: ") && contains(e4.msg, dir), "lists the search path");

    sl_error e5 = {0};
    ok(plugin_host_load(h, "../../etc/passwd", &e5) == NULL, "path-like name refused");
    ok(contains(e5.msg, "invalid plugin name"), "says why: %s", e5.msg);
}

static void test_init(plugin_host *h)
{
    sl_error err = {0};
    const loaded_plugin *f = plugin_host_load(h, "failing", &err);
    ok(f != NULL, "failing test plugin loads (%s)", err.msg);
    if (!f)
        return;
    json_t *opts = json_pack("{s:b}", "reject", 1);
    void *state = (void *)1;
    ok(plugin_host_init_instance(h, f, opts, &state, &err) == -1, "init refusal is reported");
    ok(contains(err.msg, "plugin failing rejected its options: rejected on purpose"),
       "init message passed through: %s", err.msg);
    ok(state == NULL, "no state after a refusal");
    json_decref(opts);

    sl_error err2 = {0};
    opts = json_object();
    ok(plugin_host_init_instance(h, f, opts, &state, &err2) == 0 && state != NULL, "init accepts");
    plugin_host_destroy_instance(f, state);
    json_decref(opts);
}

typedef struct seen {
    int linecount_ok, badabi_failed, count;
} seen;

static void each_cb(void *ud, const char *name, const loaded_plugin *p, const sl_error *err)
{
    seen *s = ud;
    s->count++;
    if (strcmp(name, "linecount") == 0 && p)
        s->linecount_ok = 1;
    if (strcmp(name, "badabi") == 0 && !p && err && contains(err->msg, "ABI"))
        s->badabi_failed = 1;
}

static void test_each(plugin_host *h)
{
    seen s = {0};
    plugin_host_each(h, each_cb, &s);
    ok(s.linecount_ok, "listing finds linecount");
    ok(s.badabi_failed, "listing reports badabi with its error");
    ok(s.count >= 5, "listing covers every file (%d)", s.count);
}

int main(void)
{
    char *dir = test_plugin_dir();
    const char *paths[] = {dir};
    sl_error err = {0};
    plugin_host *h = plugin_host_new(paths, 1, &test_plugin_services, &err);
    ok(h != NULL, "host created (%s)", err.msg);
    ok(h && plugin_host_services(h) == &test_plugin_services, "the host keeps the services it was handed");
    if (h) {
        ok(contains(plugin_host_search_path(h), dir), "config path comes first in search path");
        ok(strncmp(plugin_host_search_path(h), dir, strlen(dir)) == 0, "and is first");
        test_loading(h, dir);
        test_init(h);
        test_each(h);
        plugin_host_free(h);
    }
    free(dir);
    return done_testing();
}
