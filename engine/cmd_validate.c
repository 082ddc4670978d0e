/* cmd_validate.c — `sluice validate`: load the configuration, bind every
 * rule's plugin and report every problem (errors and warnings) at once. */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "diag.h"

static void validate_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: sluice validate [--strict]\n"
            "\n"
            "Checks the configuration (--config, $SLUICE_CONFIG or ./sluice.yaml): its\n"
            "syntax, every key and value, the notification targets, each rule's regex and\n"
            "output template, that each rule's plugin loads, accepts its options and\n"
            "initialises, and that no rule is hidden behind an earlier one.\n"
            "Problems are printed to stderr as file:line:column: severity: message.\n"
            "\n"
            "Options:\n"
            "  --strict     treat warnings (such as a rule that can never match) as errors\n"
            "  -h, --help   this help\n"
            "\n"
            "Exit status: 0 the configuration is valid, 2 it is not (or a usage error).\n");
}

/* Everything after loading: plugins, then the rule order. */
static void check_loaded(config *cfg, diag_list *diags)
{
    sl_error err = {0};
    plugin_host *host = plugin_host_new((const char *const *)cfg->plugin_paths,
                                        cfg->n_plugin_paths, &err);
    if (!host) {
        diag_add(diags, DIAG_ERROR, cfg->path, 0, 0, "cannot set up the plugin host: %s",
                 err.msg);
        return;
    }
    config_bind_plugins(cfg, host, diags);
    config_check_shadowing(cfg, diags);
    /* Plugin states are destroyed by config_free, while the host still
     * holds their code. */
    config_free(cfg);
    plugin_host_free(host);
}

int cmd_validate(int argc, char **argv, const cli_globals *g)
{
    int strict = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            validate_usage(stdout);
            return EXIT_OK;
        }
        if (!strcmp(a, "--strict"))
            strict = 1;
        else
            return cli_usage_error("validate", "unexpected argument \"%s\"", a);
    }

    const char *path = cli_config_path(g);
    diag_list diags = {0};
    config *cfg = config_load(path, &diags);
    size_t n_rules = 0;
    if (cfg) {
        n_rules = cfg->n_rules;
        check_loaded(cfg, &diags);
    }
    diag_print(&diags, stderr);
    size_t warnings = diags.count - diags.errors;
    size_t errors = diags.errors;
    diag_free(&diags);
    if (errors > 0)
        return EXIT_USAGE;
    if (strict && warnings > 0) {
        fprintf(stderr, "%s: %zu warning%s, an error with --strict\n", path, warnings,
                warnings == 1 ? "" : "s");
        return EXIT_USAGE;
    }
    printf("%s: OK (%zu %s)\n", path, n_rules, n_rules == 1 ? "rule" : "rules");
    return EXIT_OK;
}
