/* adhoc.c — a one-rule intake made in memory (adhoc.h). */
#include "autoconfig.h"
#include "intake/adhoc.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugin/plugin_host.h"
#include "util/alloc.h"

int adhoc_is_path(const char *plugin)
{
    size_t n = strlen(plugin);
    return strchr(plugin, '/') ||
           (n > 3 && (!strcmp(plugin + n - 3, ".so") || !strcmp(plugin + n - 3, ".la")));
}

/* The plugin name a path or name stands for. */
static char *plugin_name(const char *plugin)
{
    return adhoc_is_path(plugin) ? plugin_host_file_name(plugin) : xstrdup(plugin);
}

/* A JSON value is also a YAML flow value when written on one line with
 * ", " and ": " separators (jansson's default) and ASCII only. */
static char *yaml_value(const json_t *v)
{
    return json_dumps(v, JSON_ENCODE_ANY | JSON_ENSURE_ASCII | JSON_SORT_KEYS);
}

/* The one rule: the input file is handed over as it is (decompress: none),
 * so the plugin's reads are the only reads `plugins check` sees. The plugin
 * runs in this process (isolation: none), so `plugins check` sees what a
 * child process would hide: run() writing to the state its jobs share. */
static char *config_text(const char *name, const json_t *options)
{
    json_t *jname = json_string(name);
    char *n = yaml_value(jname), *o = yaml_value(options);
    char *text = xasprintf("runs: {enabled: false}\n"
                           "on_failure: []\n"
                           "on_success: []\n"
                           "rules:\n"
                           "  - name: adhoc\n"
                           "    match: {bucket: \"*\"}\n"
                           "    plugin: %s\n"
                           "    decompress: none\n"
                           "    isolation: none\n"
                           "    options: %s\n"
                           "    output: \"out/{run_id}/{name}\"\n",
                           n, o);
    free(n);
    free(o);
    json_decref(jname);
    return text;
}

static char *make_workdir(void)
{
    const char *tmp = getenv("TMPDIR");
    char *dir = xasprintf("%s/sluice-adhoc-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        free(dir);
        return NULL;
    }
    return dir;
}

int adhoc_open(adhoc *a, const char *plugin, const json_t *options, strbuf *why)
{
    memset(a, 0, sizeof *a);
    a->workdir = make_workdir();
    if (!a->workdir) {
        sb_addf(why, "cannot create a working directory in $TMPDIR or /tmp");
        return -1;
    }
    a->name = plugin_name(plugin);
    char *text = config_text(a->name, options);
    intake_report r;
    a->in = intake_open_text("(plugin options)", a->workdir, text,
                             adhoc_is_path(plugin) ? plugin : NULL, INTAKE_JOBS, &r);
    free(text);
    if (!a->in)
        intake_report_summary(&r, why);
    intake_report_free(&r);
    return a->in ? 0 : -1;
}

job_spec adhoc_spec(const adhoc *a, const char *input, const char *output)
{
    job_spec s = intake_spec(a->in);
    s.input = (location){.kind = LOC_FILE, .path = (char *)input};
    s.rule_name = "adhoc";
    s.output_override = output;
    return s;
}

char *adhoc_path(const adhoc *a, const char *leaf)
{
    return xasprintf("%s/%s", a->workdir, leaf);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    remove(path);
    return 0;
}

void adhoc_close(adhoc *a)
{
    intake_close(a->in);
    if (a->workdir)
        nftw(a->workdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(a->workdir);
    free(a->name);
    memset(a, 0, sizeof *a);
}
