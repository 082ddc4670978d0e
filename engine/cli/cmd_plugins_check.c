/* cmd_plugins_check.c — `sluice plugins check`: a plugin file against the
 * plugin contract (intake/kitcheck.h); one line per step. */
#include "autoconfig.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "intake/kitcheck.h"

static void check_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: sluice plugins check PATH [OPTIONS]\n"
            "\n"
            "Loads the plugin file PATH (NAME.so, or a libtool NAME.la) the way the engine\n"
            "does and holds it to the plugin contract (sluice/plugin.h), one line per step:\n"
            "  exports         only sluice_plugin_descriptor is exported\n"
            "  load            the ABI version, the name (NAME), a complete descriptor\n"
            "  options schema  valid, with only the keywords sluice supports\n"
            "  options         the example options fit the schema\n"
            "  init            init() accepts them\n"
            "  empty input     a job on an empty file ends cleanly\n"
            "  input           a job on --input FILE succeeds\n"
            "  concurrent      two jobs at once on the same input (one state, two threads)\n"
            "                  end the same, byte for byte\n"
            "Every job must also keep the job's error rules: no write after the job\n"
            "failed, no SLUICE_OK after host->error(), no SLUICE_ERROR without a reason.\n"
            "\n"
            "Options:\n"
            "  -i, --input FILE      also run on FILE, which the plugin must process\n"
            "      --options JSON    the example options: a JSON object, or @FILE to read one\n"
            "                        (default: the schema's \"examples\"[0], else {})\n"
            "  -h, --help            this help\n"
            "\n"
            "Exit status: 0 the plugin keeps the contract, 1 it breaks it (each violation\n"
            "is a FAIL line), 2 usage error.\n");
}

static void print_step(void *ud, int ok, const char *step, const char *detail)
{
    (void)ud;
    printf("%-4s %-15s %s\n", ok ? "ok" : "FAIL", step, detail);
    fflush(stdout);
}

int cmd_plugins_check(int argc, char **argv, const cli_globals *g)
{
    static const struct option opts[] = {
        {"input", required_argument, NULL, 'i'},
        {"options", required_argument, NULL, 'O'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    kitcheck_opts o = {0};
    const char *options_text = NULL;
    int c;
    (void)g;
    optind = 1;
    while ((c = getopt_long(argc, argv, "i:h", opts, NULL)) != -1) {
        switch (c) {
        case 'i': o.input = optarg; break;
        case 'O': options_text = optarg; break;
        case 'h': check_usage(stdout); return SL_EXIT_OK;
        default: return cli_usage_error("plugins check", "unknown option");
        }
    }
    if (optind >= argc)
        return cli_usage_error("plugins check", "no plugin file given");
    if (optind + 1 < argc)
        return cli_usage_error("plugins check", "unexpected argument \"%s\"", argv[optind + 1]);
    o.path = argv[optind];
    json_t *options = NULL;
    if (options_text && cmd_plugins_options("plugins check", options_text, &options) != 0)
        return SL_EXIT_USAGE;
    o.options = options;
    int violations = kitcheck_run(&o, print_step, NULL);
    if (violations)
        printf("%s: %d violation%s of the plugin contract\n", o.path, violations,
               violations == 1 ? "" : "s");
    else
        printf("%s: keeps the plugin contract\n", o.path);
    json_decref(options);
    return violations ? SL_EXIT_JOB_FAILED : SL_EXIT_OK;
}
