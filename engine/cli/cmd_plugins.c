/* cmd_plugins.c — `sluice plugins`: the plugins found along the search
 * path, with version, description and options. */
#include "autoconfig.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/job_services.h"
#include "util/diag.h"
#include "util/strbuf.h"

static void plugins_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: sluice plugins [OPTIONS]\n"
            "       sluice plugins new NAME [--dir DIR]       a new plugin project\n"
            "       sluice plugins check PATH [--input FILE]  a plugin against the contract\n"
            "       sluice plugins run PLUGIN --input FILE    one job, no configuration\n"
            "('sluice plugins new --help' and so on for each.)\n"
            "\n"
            "Lists every plugin found along the search path (plugins.path from the\n"
            "configuration when there is one, $SLUICE_PLUGIN_PATH, the build tree when\n"
            "run from it, and the installed plugin directory): name, version, file,\n"
            "description and options. A file that fails to load is listed with the reason.\n"
            "\n"
            "Options:\n"
            "      --json     print the list as JSON, with each plugin's options schema\n"
            "  -h, --help     this help\n"
            "\n"
            "Exit status: 0 all plugins loaded, 1 some plugin failed to load, 2 usage error.\n");
}

typedef struct list_state {
    int json;
    int failures;
    json_t *out;
} list_state;

static void print_option(const char *name, json_t *spec, json_t *required)
{
    json_t *type = json_object_get(spec, "type");
    char *type_text = type ? json_dumps(type, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    const char *desc = json_string_value(json_object_get(spec, "description"));
    int req = 0;
    size_t i;
    json_t *v;
    json_array_foreach(required, i, v) req |= json_is_string(v) && !strcmp(json_string_value(v), name);
    printf("    %-16s %-12s %s%s\n", name, type_text ? type_text : "any", req ? "(required) " : "",
           desc ? desc : "");
    free(type_text);
}

static void list_one(void *ud, const char *name, const loaded_plugin *p, const sl_error *err)
{
    list_state *s = ud;
    if (!p)
        s->failures++;
    if (s->json) {
        json_t *o = p ? json_pack("{s:s, s:s, s:s, s:s, s:O}", "name", name, "version",
                                  p->desc->version, "description", p->desc->description, "file",
                                  p->path, "options_schema", p->schema)
                      : json_pack("{s:s, s:s}", "name", name, "error", err->msg);
        json_array_append_new(s->out, o);
        return;
    }
    if (!p) {
        printf("%s: cannot load: %s\n\n", name, err->msg);
        return;
    }
    printf("%s %s\n  %s\n  file: %s\n", name, p->desc->version, p->desc->description, p->path);
    json_t *props = json_object_get(p->schema, "properties");
    if (!props || json_object_size(props) == 0) {
        printf("  options: none\n\n");
        return;
    }
    printf("  options:\n");
    const char *key;
    json_t *spec;
    json_object_foreach(props, key, spec) print_option(key, spec, json_object_get(p->schema, "required"));
    printf("\n");
}

int cmd_plugins_options(const char *cmd, const char *text, json_t **out)
{
    json_error_t jerr;
    const char *what = text;
    strbuf file = STRBUF_INIT;
    *out = NULL;
    if (text[0] == '@') {
        what = text + 1;
        int errnum = sb_read_file(&file, what);
        if (errnum) {
            sb_free(&file);
            return cli_usage_error(cmd, "--options %s: cannot read %s: %s", text, what,
                                   strerror(errnum));
        }
        text = sb_str(&file) ? sb_str(&file) : "";
    }
    json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    sb_free(&file);
    if (!v)
        return cli_usage_error(cmd, "--options %s: not JSON: %s (line %d, column %d)",
                               what == text ? "JSON" : what, jerr.text, jerr.line,
                               jerr.column);
    if (!json_is_object(v)) {
        json_decref(v);
        return cli_usage_error(cmd, "--options: the options are a JSON object ({...})");
    }
    *out = v;
    return 0;
}

static int plugins_subcommand(int argc, char **argv, const cli_globals *g)
{
    if (argc < 2)
        return -1;
    if (strcmp(argv[1], "new") == 0)
        return cmd_plugins_new(argc - 1, argv + 1, g);
    if (strcmp(argv[1], "check") == 0)
        return cmd_plugins_check(argc - 1, argv + 1, g);
    if (strcmp(argv[1], "run") == 0)
        return cmd_plugins_run(argc - 1, argv + 1, g);
    return -1;
}

int cmd_plugins(int argc, char **argv, const cli_globals *g)
{
    int sub = plugins_subcommand(argc, argv, g);
    if (sub >= 0)
        return sub;
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'J'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    list_state s = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'J': s.json = 1; break;
        case 'h': plugins_usage(stdout); return SL_EXIT_OK;
        default: return cli_usage_error("plugins", "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error("plugins", "unexpected argument \"%s\"", argv[optind]);

    /* The configuration only contributes plugins.path; without one, list
     * what the other search directories hold. */
    diag_list diags = {0};
    config *cfg = NULL;
    const char *path = cli_config_path(g);
    FILE *probe = fopen(path, "r");
    if (probe) {
        fclose(probe);
        cfg = config_load(path, &diags);
        if (!cfg) {
            diag_print(&diags, stderr);
            diag_free(&diags);
            return SL_EXIT_USAGE;
        }
    }
    diag_free(&diags);
    sl_error err = {0};
    plugin_host *host = plugin_host_new(cfg ? (const char *const *)cfg->plugin_paths : NULL,
                                        cfg ? cfg->n_plugin_paths : 0, job_services_table(),
                                        &err);
    if (!host) {
        fprintf(stderr, "sluice plugins: %s\n", err.msg);
        config_free(cfg);
        return SL_EXIT_USAGE;
    }
    s.out = json_array();
    if (!s.json)
        printf("search path: %s\n\n", plugin_host_search_path(host));
    plugin_host_each(host, list_one, &s);
    if (s.json) {
        json_dumpf(s.out, stdout, JSON_INDENT(2));
        printf("\n");
    }
    json_decref(s.out);
    config_free(cfg);
    plugin_host_free(host);
    return s.failures ? SL_EXIT_JOB_FAILED : SL_EXIT_OK;
}
