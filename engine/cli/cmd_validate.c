/* cmd_validate.c — `sluice validate`: load the configuration, bind every
 * rule's plugin and report every problem (errors and warnings) at once. */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "util/diag.h"

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

int cmd_validate(int argc, char **argv, const cli_globals *g)
{
    int strict = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            validate_usage(stdout);
            return SL_EXIT_OK;
        }
        if (!strcmp(a, "--strict"))
            strict = 1;
        else
            return cli_usage_error("validate", "unexpected argument \"%s\"", a);
    }

    const char *path = cli_config_path(g);
    intake_report rep;
    intake *in = intake_open(path, INTAKE_PLUGINS | INTAKE_SHADOWING, &rep);
    size_t n_rules = in ? in->cfg->n_rules : 0;
    intake_close(in);
    diag_print(&rep.diags, stderr);
    if (rep.failed == INTAKE_FAILED_PLUGINS && rep.err.kind != SL_ERR_NONE)
        fprintf(stderr, "%s: error: cannot set up the plugin host: %s\n", path, rep.err.msg);
    size_t warnings = rep.diags.count - rep.diags.errors;
    size_t errors = rep.diags.errors + (rep.err.kind != SL_ERR_NONE);
    intake_report_free(&rep);
    if (errors > 0)
        return SL_EXIT_USAGE;
    if (strict && warnings > 0) {
        fprintf(stderr, "%s: %zu warning%s, an error with --strict\n", path, warnings,
                warnings == 1 ? "" : "s");
        return SL_EXIT_USAGE;
    }
    printf("%s: OK (%zu %s)\n", path, n_rules, n_rules == 1 ? "rule" : "rules");
    return SL_EXIT_OK;
}
