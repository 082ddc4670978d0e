/* test_plugin_bindings.c — binding a configuration's rules to plugin
 * instances (engine/plugin/plugin_bindings.h): options checked against the
 * plugin's schema at the offending option's line:column, init failures at
 * the options, an unusable schema reported once, a missing plugin at the
 * plugin: value. Uses the build tree's plugins/ and tests/plugins/. */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "plugin/plugin_bindings.h"
#include "plugin/plugin_host.h"
#include "util/alloc.h"
#include "util/strbuf.h"
#include "services.h"
#include "tap.h"

#include "config_fixture.h"

static char *bind_text(const char *top_builddir, const char *rules, int *bound)
{
    char *text = xasprintf("plugins: {path: ['%s/plugins', '%s/tests/plugins']}\n%s", top_builddir,
                           top_builddir, rules);
    char *path = write_file("bind.yaml", text);
    free(text);
    diag_list dl = {0};
    config *cfg = config_load(path, &dl);
    *bound = 0;
    if (cfg) {
        sl_error err = {0};
        plugin_host *host = plugin_host_new((const char *const *)cfg->plugin_paths,
                                            cfg->n_plugin_paths, &test_plugin_services, &err);
        if (host) {
            plugin_bindings *b = plugin_bindings_new(host, cfg, &dl);
            for (size_t i = 0; i < cfg->n_rules; i++)
                *bound += plugin_bindings_get(b, &cfg->rules[i]) != NULL;
            plugin_bindings_free(b);
            plugin_host_free(host);
            config_free(cfg);
        } else {
            diag_add(&dl, DIAG_ERROR, path, 0, 0, "host: %s", err.msg);
            config_free(cfg);
        }
    }
    char *s = format_diags(&dl, path);
    diag_free(&dl);
    free(path);
    return s;
}

static void test_binding(void)
{
    const char *top = getenv("top_builddir");
    char *probe = top ? xasprintf("%s/tests/plugins/cfgbad.la", top) : NULL;
    if (!probe || access(probe, R_OK) != 0) {
        ok(1, "# SKIP binding: top_builddir or the test plugins are not available");
        free(probe);
        return;
    }
    free(probe);
    int bound = 0;
    char *s = bind_text(top,
                        "rules:\n"
                        "  - name: a\n"
                        "    match: {bucket: b-in}\n"
                        "    plugin: linecount\n"
                        "    options: {mode: count, suffix: .lines}\n"
                        "    output: s3://out/{key}\n"
                        "  - name: b\n"
                        "    match: {bucket: b-in}\n"
                        "    plugin: linecount\n"
                        "    output: s3://out/{key}\n",
                        &bound);
    is_str(s, "", "linecount binds");
    is_int(bound, 2, "both rules bound");
    free(s);

    s = bind_text(top,
                  "rules:\n"
                  "  - name: a\n"
                  "    match: {bucket: b-in}\n"
                  "    plugin: nosuchplugin\n"
                  "    output: o\n"
                  "  - name: b\n"
                  "    match: {bucket: b-in}\n"
                  "    plugin: linecount\n"
                  "    options:\n"
                  "      mode: counting\n"
                  "      max_lines: '10'\n"
                  "      sufix: x\n"
                  "    output: o\n"
                  "  - name: c\n"
                  "    match: {bucket: b-in}\n"
                  "    plugin: linecount\n"
                  "    options: {suffix: a/b}\n"
                  "    output: o\n"
                  "  - name: d\n"
                  "    match: {bucket: b-in}\n"
                  "    plugin: cfgbad\n"
                  "    output: o\n"
                  "  - name: e\n"
                  "    match: {bucket: b-in}\n"
                  "    plugin: cfgbad\n"
                  "    output: o\n",
                  &bound);
    /* The host's message for a missing plugin names the search path. */
    ok(strncmp(s, "5:13: error: rules[0].plugin: cannot load plugin \"nosuchplugin\": ", 65) == 0,
       "missing plugin at the plugin: value");
    const char *rest = strchr(s, '\n');
    const char *want =
        "11:13: error: rules[1].options.mode: must be one of \"copy\" or \"count\", got "
        "\"counting\"\n"
        "12:18: error: rules[1].options.max_lines: expected integer, got string\n"
        "13:7: error: rules[1].options.sufix: unknown option \"sufix\" (did you mean "
        "\"suffix\"?)\n"
        "18:14: error: rules[2].options: plugin linecount rejected its options: suffix must "
        "not contain '/'\n"
        "22:13: error: rules[3].plugin: plugin \"cfgbad\" ("; /* its file follows */
    ok(rest && strncmp(rest + 1, want, strlen(want)) == 0,
       "schema errors at the offending option, init failure at the options");
    if (!rest || strncmp(rest + 1, want, strlen(want)) != 0)
        printf("# got: %s\n", s);
    ok(strstr(s, "declares an unusable options schema: schema at \"#\": unsupported keyword "
                 "\"patternProperties\"") != NULL,
       "unusable schema reported");
    ok(strstr(s, "rules[4]") == NULL, "an unusable schema is reported once");
    is_int(bound, 0, "nothing bound");
    free(s);
}

/* The host frees what is still bound before it closes the libraries. */
static void test_host_frees_bindings(const char *top)
{
    char *text = xasprintf("plugins: {path: ['%s/plugins']}\n"
                           "rules:\n"
                           "  - name: a\n"
                           "    match: {bucket: b}\n"
                           "    plugin: linecount\n"
                           "    output: o\n",
                           top);
    char *path = write_file("left.yaml", text);
    free(text);
    diag_list dl = {0};
    config *cfg = config_load(path, &dl);
    sl_error err = {0};
    plugin_host *host = cfg ? plugin_host_new((const char *const *)cfg->plugin_paths,
                                              cfg->n_plugin_paths, &test_plugin_services, &err)
                            : NULL;
    plugin_bindings *b = host ? plugin_bindings_new(host, cfg, &dl) : NULL;
    ok(b && plugin_bindings_get(b, &cfg->rules[0]) != NULL, "a rule bound");
    /* not freed here: the host must destroy the instance before dlclose
     * (a leak or a use after close would show under ASan/valgrind) */
    plugin_host_free(host);
    ok(1, "the host freed the binding left over");
    config_free(cfg);
    diag_free(&dl);
    free(path);
}

int main(void)
{
    char tmpl[] = "/tmp/sluice-bind-XXXXXX";
    if (!mkdtemp(tmpl)) {
        perror("mkdtemp");
        return 99;
    }
    snprintf(tmpdir, sizeof tmpdir, "%s", tmpl);
    test_binding();
    const char *top = getenv("top_builddir");
    if (top)
        test_host_frees_bindings(top);
    char *cmd = xasprintf("rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    free(cmd);
    return done_testing();
}
