/* cmd_plugins_run.c — `sluice plugins run`: one job of one plugin on one
 * file, without a configuration file (intake/adhoc.h), for a plugin
 * author's edit-run loop. */
#include "autoconfig.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "intake/adhoc.h"
#include "util/strbuf.h"

static void run_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: sluice plugins run PLUGIN --input FILE [OPTIONS]\n"
            "\n"
            "Runs one job of PLUGIN on FILE without a configuration file. PLUGIN is a plugin\n"
            "file (NAME.so, or a libtool NAME.la; a path with '/' or one of those endings)\n"
            "or a NAME looked up along the plugin search path. The job takes the path of\n"
            "`sluice process`: the options are checked against the plugin's schema, init()\n"
            "runs, and the output is published only when the job succeeds.\n"
            "\n"
            "Options:\n"
            "  -i, --input FILE      the input file (required)\n"
            "      --options JSON    the plugin's options: a JSON object, or @FILE to read\n"
            "                        one from FILE (default {})\n"
            "  -o, --output FILE     write the output to FILE (default: standard output)\n"
            "  -h, --help            this help\n"
            "\n"
            "Exit status: 0 the job succeeded, 1 it failed, 2 usage error, or the plugin\n"
            "could not be loaded or refused its options.\n");
}

/* Copies the published output to stdout. */
static int print_output(const char *path)
{
    strbuf sb = STRBUF_INIT;
    int errnum = sb_read_file(&sb, path);
    if (errnum) {
        fprintf(stderr, "sluice plugins run: cannot read the output %s: %s\n", path,
                strerror(errnum));
        return -1;
    }
    int ok = sb.len == 0 || fwrite(sb.buf, 1, sb.len, stdout) == sb.len;
    sb_free(&sb);
    return ok && fflush(stdout) == 0 ? 0 : -1;
}

static int run_job(adhoc *a, const char *input, const char *output)
{
    job_spec spec = adhoc_spec(a, input, output);
    job_result res;
    runner_totals totals = {0};
    runner_job(a->in->runner, &spec, &res, &totals);
    int rc = runner_exit_code(&totals);
    if (res.state == JOB_SUCCEEDED && !output && print_output(res.output) != 0)
        rc = SL_EXIT_JOB_FAILED;
    job_result_free(&res);
    return rc;
}

int cmd_plugins_run(int argc, char **argv, const cli_globals *g)
{
    static const struct option opts[] = {
        {"input", required_argument, NULL, 'i'},
        {"options", required_argument, NULL, 'O'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *input = NULL, *output = NULL, *options_text = "{}";
    int c;
    (void)g;
    optind = 1;
    while ((c = getopt_long(argc, argv, "i:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'i': input = optarg; break;
        case 'O': options_text = optarg; break;
        case 'o': output = optarg; break;
        case 'h': run_usage(stdout); return SL_EXIT_OK;
        default: return cli_usage_error("plugins run", "unknown option");
        }
    }
    if (optind >= argc)
        return cli_usage_error("plugins run", "no PLUGIN given");
    if (optind + 1 < argc)
        return cli_usage_error("plugins run", "unexpected argument \"%s\"", argv[optind + 1]);
    if (!input)
        return cli_usage_error("plugins run", "--input FILE is required");
    if (output && !*output)
        return cli_usage_error("plugins run", "--output is empty");
    json_t *options = NULL;
    if (cmd_plugins_options("plugins run", options_text, &options) != 0)
        return SL_EXIT_USAGE;
    adhoc a;
    strbuf why = STRBUF_INIT;
    int rc = SL_EXIT_USAGE;
    if (adhoc_open(&a, argv[optind], options, &why) != 0)
        fprintf(stderr, "sluice plugins run: %s\n", sb_str(&why));
    else
        rc = run_job(&a, input, output);
    adhoc_close(&a);
    sb_free(&why);
    json_decref(options);
    return rc;
}
