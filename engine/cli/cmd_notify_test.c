/* cmd_notify_test.c — `sluice notify-test TARGET...`: send a sample
 * failure event, so an operator can check the wiring (topic, bus, URL,
 * credentials, subscriptions) before the first real failure. */
#include "autoconfig.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "intake/runner.h"
#include "notify/notifier.h"
#include "notify/notify.h"
#include "util/diag.h"

static void notify_test_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: sluice notify-test [OPTIONS] TARGET...\n"
            "       sluice notify-test --all\n"
            "\n"
            "Sends a sample FAILED job-state event (rule \"sluice-notify-test\", a made-up\n"
            "input) to each named notification target, exactly as a real failure would be\n"
            "sent — same message, signature, retries — and says whether it was delivered.\n"
            "\n"
            "Options:\n"
            "  -a, --all     every target declared under notify:\n"
            "  -p, --print   also print the event sent (JSON) on stdout\n"
            "  -h, --help    this help\n"
            "\n"
            "Exit status: 0 every test notification was delivered, 2 usage or configuration\n"
            "error (such as an unknown target), 3 a delivery failed (the reason is printed\n"
            "and the event is in the log).\n");
}

static int send_one(notifier *nf, const notify_target *t, json_t *event)
{
    char id[256], why[1200];
    const char *run_id =
        json_string_value(json_object_get(json_object_get(event, "detail"), "run_id"));
    log_ctx ctx = {.run_id = run_id, .rule = "sluice-notify-test"};
    if (notifier_send(nf, t, event, &ctx, id, sizeof id, why, sizeof why) == 0) {
        printf("%s (%s): delivered (%s)\n", t->name, t->type, id);
        return 0;
    }
    printf("%s (%s): NOT delivered: %s\n", t->name, t->type, why);
    return -1;
}

int cmd_notify_test(int argc, char **argv, const cli_globals *g)
{
    static const struct option opts[] = {
        {"all", no_argument, NULL, 'a'},
        {"print", no_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int all = 0, print = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "aph", opts, NULL)) != -1) {
        switch (c) {
        case 'a': all = 1; break;
        case 'p': print = 1; break;
        case 'h': notify_test_usage(stdout); return SL_EXIT_OK;
        default: return cli_usage_error("notify-test", "unknown option");
        }
    }
    if (!all && optind >= argc)
        return cli_usage_error("notify-test", "name a TARGET (or --all)");
    if (all && optind < argc)
        return cli_usage_error("notify-test", "give TARGETs or --all, not both");

    intake *in = cli_open(g, "notify-test", 0);
    if (!in)
        return SL_EXIT_USAGE;
    const config *cfg = in->cfg;
    for (int i = optind; i < argc; i++) {
        if (!config_find_target(cfg, argv[i])) {
            fprintf(stderr, "sluice notify-test: no notification target \"%s\" in %s\n",
                    argv[i], cfg->path);
            intake_close(in);
            return SL_EXIT_USAGE;
        }
    }
    if (all && cfg->n_targets == 0) {
        fprintf(stderr, "sluice notify-test: %s declares no notification targets\n", cfg->path);
        intake_close(in);
        return SL_EXIT_USAGE;
    }

    job_result res;
    notify_sample_result(&res);
    json_t *event = notify_job_event(&res);
    if (print) {
        char *s = json_dumps(event, JSON_INDENT(2));
        printf("%s\n", s);
        free(s);
    }
    notifier *nf = notifier_new(cfg);
    int failed = 0;
    size_t n = all ? cfg->n_targets : (size_t)(argc - optind);
    for (size_t i = 0; i < n; i++) {
        const notify_target *t = all ? &cfg->targets[i] : config_find_target(cfg, argv[optind + i]);
        failed += send_one(nf, t, event) != 0;
    }
    notifier_free(nf);
    json_decref(event);
    job_result_free(&res);
    intake_close(in);
    return failed ? SL_EXIT_NOT_REPORTED : SL_EXIT_OK;
}
