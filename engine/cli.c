#include "autoconfig.h"
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

const char *cli_config_path(const cli_globals *g)
{
    if (g && g->config_path)
        return g->config_path;
    const char *env = getenv("SLUICE_CONFIG");
    if (env && *env)
        return env;
    return "sluice.yaml";
}

config *cli_load_config(const cli_globals *g, plugin_host **host_out)
{
    const char *path = cli_config_path(g);
    diag_list diags = {0};
    *host_out = NULL;
    config *cfg = config_load(path, &diags);
    if (!cfg) {
        diag_print(&diags, stderr);
        diag_free(&diags);
        return NULL;
    }
    sl_error err = {0};
    plugin_host *host = plugin_host_new((const char *const *)cfg->plugin_paths,
                                        cfg->n_plugin_paths, &err);
    if (!host) {
        fprintf(stderr, "sluice: %s\n", err.msg);
        config_free(cfg);
        diag_free(&diags);
        return NULL;
    }
    if (config_bind_plugins(cfg, host, &diags) > 0) {
        diag_print(&diags, stderr);
        diag_free(&diags);
        config_free(cfg);
        plugin_host_free(host);
        return NULL;
    }
    diag_free(&diags); /* warnings are for `sluice validate` */
    *host_out = host;
    return cfg;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "sluice %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'sluice %s --help'.\n", cmd);
    return EXIT_USAGE;
}

int cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    }
    return 0;
}
