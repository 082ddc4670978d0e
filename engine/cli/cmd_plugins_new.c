/* cmd_plugins_new.c — `sluice plugins new`: a buildable out-of-tree plugin
 * project from the template (plugin/plugin_template.h). */
#include "autoconfig.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/alloc.h"
#include "util/fsutil.h"
#include "plugin/plugin_host.h"
#include "plugin/plugin_template.h"

static void new_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: sluice plugins new NAME [--dir DIR] [--no-autoreconf]\n"
            "\n"
            "Writes a plugin project for NAME (lower-case letters, digits and '_') into DIR\n"
            "(default ./NAME), which must not exist or be empty: NAME.c (the linecount\n"
            "plugin with NAME filled in: options schema, init, run, destroy), configure.ac\n"
            "and Makefile.am that find the installed sluice through `pkg-config\n"
            "sluice-plugin`, and a test (make check runs `sluice plugins check` and a run),\n"
            "then runs `autoreconf -fi` in it (when autoreconf is installed). Then, in DIR:\n"
            "  ./configure && make && make check && make install\n"
            "\n"
            "Options:\n"
            "  -d, --dir DIR         where to write the project (default ./NAME)\n"
            "      --no-autoreconf   do not run autoreconf (then run `autoreconf -fi` first)\n"
            "      --template DIR    the template directory (default: the installed one,\n"
            "                        $(pkgdatadir)/plugin-template)\n"
            "  -h, --help            this help\n"
            "\n"
            "Prints the project directory. Exit status: 0 written, 2 usage error or the\n"
            "project could not be written (then nothing is left behind).\n");
}

int cmd_plugins_new(int argc, char **argv, const cli_globals *g)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"template", required_argument, NULL, 'T'},
        {"no-autoreconf", no_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL, *template_dir = NULL;
    int c, autoreconf = 1;
    (void)g;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'T': template_dir = optarg; break;
        case 'A': autoreconf = 0; break;
        case 'h': new_usage(stdout); return SL_EXIT_OK;
        default: return cli_usage_error("plugins new", "unknown option");
        }
    }
    if (optind >= argc)
        return cli_usage_error("plugins new", "no NAME given");
    if (optind + 1 < argc)
        return cli_usage_error("plugins new", "unexpected argument \"%s\"", argv[optind + 1]);
    const char *name = argv[optind];
    if (!plugin_host_valid_name(name))
        return cli_usage_error("plugins new",
                               "invalid plugin name \"%s\": use lower-case letters, digits "
                               "and '_' (at most 64)",
                               name);
    if (dir && !*dir)
        return cli_usage_error("plugins new", "--dir is empty");
    char *dest = xstrdup(dir ? dir : name);
    for (size_t n = strlen(dest); n > 1 && dest[n - 1] == '/'; n--)
        dest[n - 1] = '\0';
    char *tdir = template_dir ? NULL : plugin_template_dir();
    sl_error err = {0};
    if (autoreconf && !fsutil_in_path("autoreconf")) {
        fprintf(stderr, "sluice plugins new: autoreconf is not installed (autoconf, automake, "
                        "libtool): run `autoreconf -fi` in %s before ./configure\n", dest);
        autoreconf = 0;
    }
    int rc = plugin_template_write(template_dir ? template_dir : tdir, name, dest, autoreconf,
                                   &err);
    if (rc != 0)
        fprintf(stderr, "sluice plugins new: %s\n", err.msg);
    else
        printf("%s\n", dest);
    free(tdir);
    free(dest);
    return rc == 0 ? SL_EXIT_OK : SL_EXIT_USAGE;
}
