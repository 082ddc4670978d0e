/* test_config.c — loading sluice.yaml: a full valid configuration, the
 * defaults, relative paths, every class of error at its exact
 * line:column. (Binding plugins to rules is the plugin layer's:
 * tests/plugin/test_plugin_bindings.c.) */
#include "autoconfig.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "util/alloc.h"
#include "util/strbuf.h"
#include "tap.h"

#include "config_fixture.h"

/* Loads `text` as c.yaml; returns the diagnostics, *out the config. */
static char *load_text(const char *text, config **out)
{
    char *path = write_file("c.yaml", text);
    diag_list dl = {0};
    config *cfg = config_load(path, &dl);
    if (cfg && dl.errors)
        diag_add(&dl, DIAG_ERROR, path, 0, 0, "[config returned despite errors]");
    if (!cfg && !dl.errors)
        diag_add(&dl, DIAG_ERROR, path, 0, 0, "[NULL without an error]");
    char *s = format_diags(&dl, path);
    diag_free(&dl);
    if (out)
        *out = cfg;
    else
        config_free(cfg);
    free(path);
    return s;
}

#define E(text, want, name)                   \
    do {                                      \
        char *got_ = load_text(text, NULL);   \
        is_str(got_, want, "%s", name);       \
        free(got_);                           \
    } while (0)

/* Template messages end with a list of the known placeholders (the
 * template module's wording); compare up to it. */
#define E_TEMPLATE(text, want, name)                     \
    do {                                                 \
        char *got_ = load_text(text, NULL);              \
        char *cut_ = strstr(got_, " (known:");           \
        if (cut_)                                        \
            *cut_ = '\0';                                \
        is_str(got_, want, "%s", name);                  \
        free(got_);                                      \
    } while (0)

/* A minimal valid rule to append after top-level snippets. */
#define RULE                                  \
    "rules:\n"                                \
    "  - name: r\n"                           \
    "    match: {bucket: b-in}\n"             \
    "    plugin: linecount\n"                 \
    "    output: s3://out/{key}\n"

static void test_full(void)
{
    config *cfg = NULL;
    char *d = load_text(
        "storage:\n"
        "  type: local\n"
        "  root: ./store/../data2\n"
        "plugins:\n"
        "  path: [./plugins, /opt/sluice/plugins]\n"
        "notify:\n"
        "  ops-email:\n"
        "    type: sns\n"
        "    topic_arn: arn:aws:sns:us-east-1:123456789012:ops\n"
        "    region: us-east-1\n"
        "    endpoint: http://localhost:5000\n"
        "    subject_prefix: '[sluice]'\n"
        "  ops-bus: {type: eventbridge, event_bus: default, source: sluice, detail_type: Job}\n"
        "  ops-hook:\n"
        "    type: webhook\n"
        "    url: https://hooks.example.com/x?y=1\n"
        "    secret_env: HOOK_SECRET\n"
        "    timeout: 2.5\n"
        "    headers: {X-Team: data}\n"
        "  audit: {type: log}\n"
        "on_failure: [ops-email, ops-hook]\n"
        "on_success: [audit]\n"
        "rules:\n"
        "  - name: revenue\n"
        "    description: Search keyword revenue\n"
        "    match:\n"
        "      bucket: client-inbound\n"
        "      prefix: hit-data/\n"
        "      suffix: .tsv\n"
        "      regex: '^hit-data/(?<day>\\d{4}-\\d{2}-\\d{2})/(?<part>[^/]+)'\n"
        "      events: [\"s3:ObjectCreated:*\", ObjectCreated:Put]\n"
        "    plugin: revenue\n"
        "    options:\n"
        "      attribution: last\n"
        "      visit_timeout: 1800\n"
        "      engines: [{name: g, hosts: [google.com]}]\n"
        "    output: \"s3://client-outbound/{day}/{part}-{name}\"\n"
        "    on_failure: [ops-bus]\n"
        "    on_success: []\n"
        "  - name: other.files_2\n"
        "    match: {bucket: '*'}\n"
        "    plugin: linecount\n"
        "    output: s3://out/{date}/{key}\n",
        &cfg);
    is_str(d, "", "full configuration has no diagnostics");
    free(d);
    ok(cfg != NULL, "full configuration loads");
    if (!cfg)
        return;
    char *want = xasprintf("%s/c.yaml", tmpdir);
    is_str(cfg->path, want, "path kept as given");
    free(want);
    is_str(cfg->dir, tmpdir, "dir is the config's directory");
    is_str(cfg->storage.type, "local", "storage type");
    want = xasprintf("%s/data2", tmpdir);
    is_str(cfg->storage.root, want, "storage root resolved and normalised");
    free(want);
    is_int((int64_t)cfg->n_plugin_paths, 2, "two plugin paths");
    want = xasprintf("%s/plugins", tmpdir);
    is_str(cfg->plugin_paths[0], want, "relative plugin path resolved");
    free(want);
    is_str(cfg->plugin_paths[1], "/opt/sluice/plugins", "absolute plugin path kept");
    ok(cfg->plugin_paths[2] == NULL, "plugin paths NULL-terminated");

    is_int((int64_t)cfg->n_targets, 4, "four targets");
    const notify_target *t = config_find_target(cfg, "ops-email");
    ok(t != NULL, "find target ops-email");
    if (t) {
        is_str(t->type, "sns", "target type");
        is_str(t->topic_arn, "arn:aws:sns:us-east-1:123456789012:ops", "target topic_arn");
        is_str(t->region, "us-east-1", "target region");
        is_str(t->endpoint, "http://localhost:5000", "target endpoint");
        is_str(t->subject_prefix, "[sluice]", "target subject_prefix");
        ok(t->profile == NULL, "target profile absent");
        is_int(t->timeout_ms, 10000, "default timeout 10 s");
        is_int(t->max_attempts, 4, "default max_attempts 4");
        is_int(t->line, 7, "target line");
        is_int(t->column, 3, "target column");
    }
    t = config_find_target(cfg, "ops-hook");
    ok(t && t->timeout_ms == 2500, "webhook timeout 2.5 s");
    if (t) {
        is_str(t->url, "https://hooks.example.com/x?y=1", "webhook url");
        is_str(t->secret_env, "HOOK_SECRET", "webhook secret_env");
        is_int((int64_t)t->n_headers, 1, "one webhook header");
        if (t->n_headers == 1) {
            is_str(t->headers[0].name, "X-Team", "header name");
            is_str(t->headers[0].value, "data", "header value");
        }
    }
    t = config_find_target(cfg, "ops-bus");
    ok(t && !strcmp(t->event_bus, "default") && !strcmp(t->source, "sluice") &&
           !strcmp(t->detail_type, "Job"),
       "eventbridge keys");
    t = config_find_target(cfg, "audit");
    ok(t && !strcmp(t->type, "log") && t->url == NULL && t->topic_arn == NULL, "log target");
    ok(config_find_target(cfg, "nope") == NULL, "unknown target not found");
    is_int((int64_t)cfg->n_on_failure, 2, "default on_failure");
    is_str(cfg->on_failure[1], "ops-hook", "default on_failure order");
    is_int((int64_t)cfg->n_on_success, 1, "default on_success");

    is_int((int64_t)cfg->n_rules, 2, "two rules");
    const rule *r = config_find_rule(cfg, "revenue");
    ok(r == &cfg->rules[0], "find rule revenue");
    is_int(r->line, 24, "rule line");
    is_int(r->column, 5, "rule column");
    is_str(r->bucket, "client-inbound", "bucket");
    is_str(r->prefix, "hit-data/", "prefix");
    is_str(r->suffix, ".tsv", "suffix");
    is_str(r->regex_src, "^hit-data/(?<day>\\d{4}-\\d{2}-\\d{2})/(?<part>[^/]+)", "regex source");
    ok(r->regex != NULL, "regex compiled");
    is_int((int64_t)r->n_captures, 2, "two named captures");
    is_str(r->capture_names[0], "day", "captures in group order (1)");
    is_str(r->capture_names[1], "part", "captures in group order (2)");
    is_int((int64_t)r->n_events, 2, "two events");
    is_str(r->events[0], "ObjectCreated:*", "s3: prefix stripped");
    is_str(r->events[1], "ObjectCreated:Put", "event kept");
    is_str(r->plugin_name, "revenue", "plugin name");
    char *opts = json_dumps(r->options, JSON_COMPACT);
    is_str(opts,
           "{\"attribution\":\"last\",\"visit_timeout\":1800,\"engines\":[{\"name\":\"g\","
           "\"hosts\":[\"google.com\"]}]}",
           "options as JSON");
    free(opts);
    ok(r->options_pos.line == 34, "options position kept");
    ok(r->plugin_pos.line > 0 && r->index == 0, "plugin position and index kept");
    is_str(template_source(r->output), "s3://client-outbound/{day}/{part}-{name}", "output");
    is_int((int64_t)r->n_on_failure, 1, "rule on_failure");
    is_str(r->on_failure[0], "ops-bus", "rule on_failure name");
    ok(r->on_success != NULL && r->n_on_success == 0, "explicit empty on_success");

    r = &cfg->rules[1];
    is_str(r->name, "other.files_2", "second rule name");
    is_str(r->bucket, "*", "any bucket");
    ok(r->prefix == NULL && r->suffix == NULL && r->regex == NULL, "no optional conditions");
    ok(r->on_failure == NULL && r->on_success == NULL, "no lists: the defaults apply");
    opts = json_dumps(r->options, JSON_COMPACT);
    is_str(opts, "{}", "absent options are {}");
    free(opts);
    ok(r->options_pos.line == 0, "no options position");
    ok(config_find_rule(cfg, "nope") == NULL, "unknown rule not found");
    config_free(cfg);
}

static void test_defaults_and_paths(void)
{
    config *cfg = NULL;
    char *d = load_text(RULE, &cfg);
    is_str(d, "", "minimal configuration");
    free(d);
    if (!cfg)
        return;
    is_str(cfg->storage.type, "local", "default storage type");
    char *want = xasprintf("%s/data", tmpdir);
    is_str(cfg->storage.root, want, "default root is ./data beside the config");
    free(want);
    ok(cfg->runs.enabled == 1 && cfg->runs.dir == NULL && cfg->runs.location == NULL,
       "default runs: enabled, no dir, no location");
    is_int((int64_t)cfg->n_plugin_paths, 0, "no plugin paths");
    is_int((int64_t)cfg->n_targets, 0, "no targets");
    ok(cfg->on_failure == NULL && cfg->n_on_failure == 0, "no default on_failure");
    is_int((int64_t)cfg->rules[0].n_events, 1, "one default event");
    is_str(cfg->rules[0].events[0], "ObjectCreated:*", "default event ObjectCreated:*");
    is_int((int64_t)cfg->rules[0].n_captures, 0, "no captures");
    config_free(cfg);

    /* A configuration in a subdirectory, loaded through a relative path. */
    char *sub = xasprintf("%s/sub", tmpdir);
    mkdir(sub, 0755);
    char *path = write_file("sub/s.yaml", "storage: {root: ../shared//x/.}\n"
                                          "plugins: {path: plug}\n" RULE);
    char cwd[PATH_MAX];
    ok(getcwd(cwd, sizeof cwd) != NULL, "getcwd");
    ok(chdir(tmpdir) == 0, "chdir to the temporary directory");
    diag_list dl = {0};
    cfg = config_load("sub/s.yaml", &dl);
    is_int((int64_t)dl.count, 0, "relative config loads");
    if (cfg) {
        is_str(cfg->path, "sub/s.yaml", "path as given");
        is_str(cfg->dir, sub, "dir made absolute");
        want = xasprintf("%s/shared/x", tmpdir);
        is_str(cfg->storage.root, want, "root relative to the config's directory");
        free(want);
        want = xasprintf("%s/plug", sub);
        is_int((int64_t)cfg->n_plugin_paths, 1, "a single string plugin path");
        is_str(cfg->plugin_paths[0], want, "plugin path relative to the config's directory");
        free(want);
    }
    config_free(cfg);
    diag_free(&dl);
    ok(chdir(cwd) == 0, "chdir back");
    free(path);
    free(sub);

    cfg = NULL;
    d = load_text("storage: {type: local, root: /abs/data}\n" RULE, &cfg);
    is_str(cfg ? cfg->storage.root : NULL, "/abs/data", "absolute root kept");
    free(d);
    config_free(cfg);

    d = load_text("storage:\n  type: s3\n  region: eu-west-1\n  endpoint: http://127.0.0.1:9000\n"
                  "  path_style: true\n  profile: dev\n  ca_bundle: certs/ca.pem\n"
                  "  insecure_skip_verify: false\n  part_size: 8388608\n  max_attempts: 5\n" RULE,
                  &cfg);
    is_str(d, "", "s3 storage with every key");
    free(d);
    if (cfg) {
        is_str(cfg->storage.type, "s3", "s3 type");
        ok(cfg->storage.root == NULL, "s3 has no root");
        want = xasprintf("%s/certs/ca.pem", tmpdir);
        is_str(cfg->storage.ca_bundle, want, "ca_bundle resolved");
        free(want);
        is_str(cfg->storage.region, "eu-west-1", "s3 region");
        is_str(cfg->storage.endpoint, "http://127.0.0.1:9000", "s3 endpoint");
        is_str(cfg->storage.profile, "dev", "s3 profile");
        is_int(cfg->storage.path_style, 1, "s3 path_style");
        is_int(cfg->storage.insecure_skip_verify, 0, "s3 insecure_skip_verify");
        ok(cfg->storage.part_size == 8388608, "s3 part_size");
        is_int(cfg->storage.max_attempts, 5, "s3 max_attempts");
        is_int(cfg->storage.parts_in_flight, 4, "default parts_in_flight");
        is_int(cfg->storage.read_timeout, 60, "default read_timeout");
        is_int(cfg->storage.connect_timeout, 10, "default connect_timeout");
        is_int(cfg->storage.retry_max_seconds, 120, "default retry_max_seconds");
    }
    config_free(cfg);

    /* Every default of the declared keys (engine/config/config_keys.c). */
    d = load_text("storage: {type: s3}\n"
                  "runs: {enabled: false, location: 's3://ops/runs/{date}/{run_id}.json'}\n"
                  "notify: {h: {type: webhook, url: 'http://h'}, s: {type: sns, topic_arn: "
                  "'arn:aws:sns:us-east-1:123456789012:t', timeout: 0.25, max_attempts: 10}}\n" RULE,
                  &cfg);
    is_str(d, "", "s3 storage, runs and targets with their defaults");
    free(d);
    if (cfg) {
        const storage_config *st = &cfg->storage;
        is_str(st->type, "s3", "type s3");
        ok(!st->root && !st->region && !st->endpoint && !st->profile && !st->ca_bundle,
           "absent s3 strings are NULL (the AWS chain decides)");
        is_int(st->path_style, -1, "path_style absent: the endpoint's default (-1)");
        is_int(st->insecure_skip_verify, 0, "insecure_skip_verify defaults to false");
        ok(st->part_size == 8388608, "part_size defaults to 8 MiB");
        ok(st->max_attempts == 5 && st->parts_in_flight == 4 && st->read_timeout == 60 &&
               st->connect_timeout == 10 && st->retry_max_seconds == 120,
           "s3 number defaults: 5 attempts, 4 parts, 60 s, 10 s, 120 s");
        is_int(cfg->runs.enabled, 0, "runs.enabled false");
        ok(cfg->runs.dir == NULL, "no runs.dir with a location");
        is_str(cfg->runs.location, "s3://ops/runs/{date}/{run_id}.json", "runs.location kept");
        const notify_target *h = config_find_target(cfg, "h");
        ok(h && h->timeout_ms == 10000 && h->max_attempts == 4, "target defaults: 10 s, 4 attempts");
        ok(h && h->headers == NULL && h->n_headers == 0 && h->secret_env == NULL,
           "webhook without headers or secret");
        const notify_target *sns = config_find_target(cfg, "s");
        ok(sns && sns->timeout_ms == 250 && sns->max_attempts == 10,
           "timeout in seconds kept as milliseconds");
    }
    config_free(cfg);

    /* Below half a millisecond the timeout used to round to 0 ms, which
     * the HTTP client reads as no timeout at all. */
    d = load_text("notify: {h: {type: webhook, url: 'http://h', timeout: 0.0001}}\n" RULE, &cfg);
    is_str(d, "", "a tiny timeout is valid");
    free(d);
    const notify_target *tiny = cfg ? config_find_target(cfg, "h") : NULL;
    is_int(tiny ? tiny->timeout_ms : -1, 1, "a timeout above 0 is never stored as 0 ms (none)");
    config_free(cfg);

    d = load_text("runs: {dir: ./records/../r}\n" RULE, &cfg);
    is_str(d, "", "runs.dir");
    free(d);
    want = xasprintf("%s/r", tmpdir);
    is_str(cfg ? cfg->runs.dir : NULL, want, "runs.dir resolved against the config's directory");
    ok(cfg && cfg->runs.enabled == 1, "runs.enabled defaults to true");
    free(want);
    config_free(cfg);
}

static void test_file_errors(void)
{
    diag_list dl = {0};
    ok(config_load("/nonexistent/dir/sluice.yaml", &dl) == NULL, "missing file");
    char *s = format_diags(&dl, "/nonexistent/dir/sluice.yaml");
    is_str(s, "0:0: error: cannot read the configuration: No such file or directory",
           "missing file diagnostic");
    free(s);
    diag_free(&dl);

    E("", "1:1: error: the configuration is empty (it needs at least a \"rules:\" list)",
      "empty file");
    E("- a\n- b\n", "1:1: error: expected a mapping at the top level, got a list",
      "top level is a list");
    E("rules: [\n", "2:1: error: did not find expected node content (while parsing a flow node at line 2, column 1)",
      "YAML syntax error");
    E("rules: 1\nrules: 2\n", "2:1: error: duplicate key \"rules\" (first defined at line 1)",
      "duplicate key");
}

static void test_top_level_errors(void)
{
    E("storage: {type: local, root: x}\n",
      "1:1: error: missing required key \"rules\" (the list of routing rules)", "no rules");
    E("rulez: []\n" RULE,
      "1:1: error: unknown key \"rulez\" at the top level (did you mean \"rules\"?)",
      "unknown top-level key with a suggestion");
    E("version: 2\n" RULE, "1:1: error: unknown key \"version\" at the top level",
      "unknown top-level key without a suggestion");
    E("rules: {}\n", "1:8: error: rules: expected a list, got a mapping", "rules not a list");
    E("rules: []\n", "1:8: error: rules: must not be empty (at least one rule is needed)",
      "rules empty");
    E("rules:\n  - just a string\n", "2:5: error: rules[0]: expected a mapping, got a string",
      "rule not a mapping");

    E("storage: [local]\n" RULE, "1:10: error: storage: expected a mapping, got a list",
      "storage not a mapping");
    E("storage: {type: local, rot: x}\n" RULE,
      "1:24: error: unknown key \"rot\" in storage (type local) (did you mean \"root\"?)\n"
      "1:10: error: storage: missing required key \"root\"",
      "unknown storage key and missing root");
    E("storage: {type: gcs}\n" RULE,
      "1:17: error: storage.type: unknown storage type \"gcs\" (expected local or s3)",
      "unknown storage type");
    E("storage: {type: local, root: 5}\n" RULE,
      "1:30: error: storage.root: expected a string, got an integer", "root not a string");
    E("storage: {type: local, root: ''}\n" RULE, "1:30: error: storage.root: must not be empty",
      "empty root");
    E("storage: {type: s3, root: x, part_size: 1024, max_attempts: 0, path_style: 'yes',\n"
      "  endpoint: ftp://x}\n" RULE,
      "1:21: error: unknown key \"root\" in storage (type s3)\n"
      "2:13: error: storage.endpoint: \"ftp://x\" is not an http:// or https:// URL\n"
      "1:76: error: storage.path_style: expected a boolean, got a string\n"
      "1:41: error: storage.part_size: must be between 5242880 and 5368709120\n"
      "1:61: error: storage.max_attempts: must be between 1 and 100",
      "s3 storage errors");

    E("storage: {type: s3, read_timeout: 0, connect_timeout: 1.5, retry_max_seconds: 86401, "
      "parts_in_flight: 65, insecure_skip_verify: 1, region: EU, profile: '', ca_bundle: []}\n" RULE,
      "1:140: error: storage.region: \"EU\" is not a valid AWS region name\n"
      "1:153: error: storage.profile: must not be empty\n"
      "1:168: error: storage.ca_bundle: expected a string, got a list\n"
      "1:129: error: storage.insecure_skip_verify: expected a boolean, got an integer\n"
      "1:103: error: storage.parts_in_flight: must be between 1 and 64\n"
      "1:35: error: storage.read_timeout: must be between 1 and 3600\n"
      "1:55: error: storage.connect_timeout: expected an integer, got a number\n"
      "1:79: error: storage.retry_max_seconds: must be between 1 and 86400",
      "more s3 storage errors, in the declared order of the keys");
    E("storage: {type: 5}\nplugins: ~\nnotify: {t: {type: ''}}\n" RULE,
      "1:17: error: storage.type: expected a string, got an integer\n"
      "2:10: error: plugins: expected a mapping, got null\n"
      "3:20: error: notify.t.type: must not be empty",
      "type keys of the wrong type, a null section");
    E("runs: {enabled: 'yes', dir: '', location: x}\n" RULE,
      "1:17: error: runs.enabled: expected a boolean, got a string\n"
      "1:29: error: runs.dir: must not be empty\n"
      "1:43: error: runs.location: \"x\" is not an s3://BUCKET/KEY template that contains "
      "{run_id} (placeholders: {date} {run_id} {rule})",
      "runs errors");
    E("runs: {dir: a, location: 's3://b/x', extra: 1}\n" RULE,
      "1:38: error: unknown key \"extra\" in runs\n"
      "1:26: error: runs: give either \"dir\" or \"location\", not both",
      "runs: dir and location exclude each other (the location is then not checked)");

    E("plugins: {path: [a, 3, '']}\n" RULE,
      "1:21: error: plugins.path[1]: expected a string, got an integer\n"
      "1:24: error: plugins.path[2]: must not be empty",
      "plugin path items");
    E("plugins: {path: {a: b}, paths: x}\n" RULE,
      "1:25: error: unknown key \"paths\" in plugins (did you mean \"path\"?)\n"
      "1:17: error: plugins.path: expected a string or a list, got a mapping",
      "plugins errors");
}

static void test_notify_errors(void)
{
    E("notify:\n"
      "  bad name: {type: log}\n"
      "  t1: {type: smtp}\n"
      "  t2: {type: snss}\n"
      "  t3: log\n"
      "  t4: {region: x}\n" RULE,
      "2:3: error: notify.bad name: invalid target name \"bad name\" (use letters, digits, '_', "
      "'.' and '-')\n"
      "3:14: error: notify.t1.type: unknown target type \"smtp\" (expected log, sns, eventbridge "
      "or webhook)\n"
      "4:14: error: notify.t2.type: unknown target type \"snss\" (expected log, sns, eventbridge "
      "or webhook) (did you mean \"sns\"?)\n"
      "5:7: error: notify.t3: expected a mapping, got a string\n"
      "6:7: error: notify.t4: missing required key \"type\"",
      "target names and types");
    E("notify:\n"
      "  s: {type: sns, topic_arn: 'arn:aws:sqs:us-east-1:123456789012:q', subjct: x}\n"
      "  s2: {type: sns}\n"
      "  w: {type: webhook, url: 'hooks.example.com', secret_env: 'A-B', timeout: 0,\n"
      "      headers: {'Bad Header': v, X-Ok: 1}}\n"
      "  w2: {type: webhook, url: 'http://x', timeout: soon}\n"
      "  e: {type: eventbridge, event_bus: [x], topic_arn: y}\n"
      "  l: {type: log, level: info}\n" RULE,
      "2:69: error: unknown key \"subjct\" in notify target \"s\" (type sns)\n"
      "2:29: error: notify.s.topic_arn: \"arn:aws:sqs:us-east-1:123456789012:q\" is not an SNS "
      "topic ARN (arn:aws:sns:REGION:ACCOUNT:TOPIC)\n"
      "3:7: error: notify.s2: missing required key \"topic_arn\"\n"
      "4:27: error: notify.w.url: \"hooks.example.com\" is not an http:// or https:// URL\n"
      "4:60: error: notify.w.secret_env: \"A-B\" is not an environment variable name\n"
      "4:76: error: notify.w.timeout: must be a number of seconds above 0 and at most 3600\n"
      "5:17: error: notify.w.headers.Bad Header: \"Bad Header\" is not a valid HTTP header name\n"
      "5:40: error: notify.w.headers.X-Ok: expected a string, got an integer\n"
      "6:49: error: notify.w2.timeout: expected a number, got a string\n"
      "7:42: error: unknown key \"topic_arn\" in notify target \"e\" (type eventbridge)\n"
      "7:37: error: notify.e.event_bus: expected a string, got a list\n"
      "8:18: error: unknown key \"level\" in notify target \"l\" (type log)",
      "target parameters");
    E("notify: [a]\n" RULE, "1:9: error: notify: expected a mapping, got a list",
      "notify not a mapping");
    E("notify: {ops: {type: log}, bad: {type: nope}}\n"
      "on_failure: [opz, ops, ops, 3, bad]\n"
      "on_success: ops\n" RULE,
      "1:40: error: notify.bad.type: unknown target type \"nope\" (expected log, sns, "
      "eventbridge or webhook)\n"
      "2:14: error: on_failure[0]: unknown notify target \"opz\" (did you mean \"ops\"?)\n"
      "2:24: error: on_failure[2]: target \"ops\" is listed twice\n"
      "2:29: error: on_failure[3]: expected a string, got an integer\n"
      "3:13: error: on_success: expected a list, got a string",
      "target lists (an invalid declared target is reported once)");
}

static void test_rule_errors(void)
{
    E("rules:\n"
      "  - name: a\n"
      "    match: {bucket: b-in}\n"
      "    plugin: linecount\n"
      "    output: x\n"
      "    outptu: y\n"
      "    on_failure: [nope]\n",
      "6:5: error: unknown key \"outptu\" in rules[0] (did you mean \"output\"?)\n"
      "7:18: error: rules[0].on_failure[0]: unknown notify target \"nope\"",
      "unknown rule key, unknown target");
    E("rules:\n"
      "  - description: 5\n",
      "2:5: error: rules[0]: missing required key \"name\"\n"
      "2:18: error: rules[0].description: expected a string, got an integer\n"
      "2:5: error: rules[0]: missing required key \"match\"\n"
      "2:5: error: rules[0]: missing required key \"plugin\"\n"
      "2:5: error: rules[0]: missing required key \"output\"",
      "missing required rule keys");
    E("rules:\n"
      "  - {name: 'a b', match: {bucket: ../x}, plugin: Rev-enue, output: o, options: [1]}\n"
      "  - {name: dup, match: {bucket: b-in}, plugin: p, output: o}\n"
      "  - {name: dup, match: {bucket: b-in}, plugin: p, output: o}\n"
      "  - {name: 7, match: {bucket: b-in}, plugin: p, output: o}\n",
      "2:12: error: rules[0].name: \"a b\" is not a valid rule name (letters, digits, '_', '.' "
      "and '-')\n"
      "2:35: error: rules[0].match.bucket: \"../x\" is not a bucket name (letters, digits, '.', "
      "'_', '-', not starting with '.') or \"*\"\n"
      "2:50: error: rules[0].plugin: \"Rev-enue\" is not a valid plugin name (a-z, 0-9 and '_')\n"
      "2:80: error: rules[0].options: expected a mapping, got a list\n"
      "4:12: error: rules[2].name: duplicate rule name \"dup\" (first used at line 3)\n"
      "5:12: error: rules[3].name: expected a string, got an integer",
      "bad names, duplicates");
    E("rules:\n"
      "  - name: a\n"
      "    match: {bucket: b}\n"
      "    plugin: linecount\n"
      "    output: o\n"
      "expect:\n"
      "  - {rule: nope, every: day, by: \"12:00Z\"}\n"
      "  - {rule: a, every: week, by: \"1:00Z\"}\n"
      "  - {rule: a, every: hour, by: \"11:00Z\"}\n"
      "  - {rule: a, every: day, by: \"13:00Z\", grace: 2 h, lookback: 0}\n"
      "  - {rule: a, every: day, by: \"14:00Z\"}\n",
      "7:12: error: expect[0].rule: no rule is named \"nope\"\n"
      "8:22: error: expect[1].every: unknown period \"week\" (expected day or hour)\n"
      "8:32: error: expect[1].by: \"1:00Z\" is not a time \"HH:MMZ\" (every: day) or \":MM\" "
      "(every: hour)\n"
      "9:32: error: expect[2].by: \"11:00Z\" does not go with every: hour (write \":MM\", minutes "
      "past the hour)\n"
      "10:48: error: expect[3].grace: \"2 h\" is not a duration like 90s, 30m, 2h or 1d\n"
      "10:63: error: expect[3].lookback: must be between 1 and 1000\n"
      "11:5: error: expect[4]: rule \"a\" is already expected every day (line 10)",
      "expect: unknown rule, period, by, grace, lookback, a rule expected twice");
    E("rules:\n"
      "  - name: a\n"
      "    match:\n"
      "      bucket: [b-in]\n"
      "      prefx: hit-data/\n"
      "      suffix: 5\n"
      "      events: [ObjectCreated:put, 's3:ObjectRemoved:*', Created, 1]\n"
      "    plugin: linecount\n"
      "    output: o\n"
      "  - name: b\n"
      "    match: {events: []}\n"
      "    plugin: linecount\n"
      "    output: o\n"
      "  - name: c\n"
      "    match: s3://x\n"
      "    plugin: linecount\n"
      "    output: o\n",
      "5:7: error: unknown key \"prefx\" in match (did you mean \"prefix\"?)\n"
      "4:15: error: rules[0].match.bucket: expected a string, got a list\n"
      "6:15: error: rules[0].match.suffix: expected a string, got an integer\n"
      "7:16: error: rules[0].match.events[0]: unknown event type \"ObjectCreated:put\" (expected "
      "ObjectCreated:* or ObjectRemoved:*, or one of their kinds such as ObjectCreated:Put) "
      "(did you mean \"ObjectCreated:Put\"?)\n"
      "7:57: error: rules[0].match.events[2]: unknown event type \"Created\" (expected "
      "ObjectCreated:* or ObjectRemoved:*, or one of their kinds such as ObjectCreated:Put)\n"
      "7:66: error: rules[0].match.events[3]: expected a string, got an integer\n"
      "11:12: error: rules[1].match: missing required key \"bucket\"\n"
      "11:21: error: rules[1].match.events: must not be empty (omit it for the default "
      "ObjectCreated:*)\n"
      "15:12: error: rules[2].match: expected a mapping, got a string",
      "match errors");
}

static void test_regex_and_template_errors(void)
{
    E("rules:\n"
      "  - name: a\n"
      "    match: {bucket: b-in, regex: '^(?<day>\\d+'}\n"
      "    plugin: linecount\n"
      "    output: s3://out/{day}\n",
      "3:46: error: rules[0].match.regex: invalid regex: missing closing parenthesis at offset 11",
      "bad regex at the column of the problem (quoted)");
    E("rules:\n"
      "  - name: a\n"
      "    match:\n"
      "      bucket: b-in\n"
      "      regex: ^x[z\n"
      "    plugin: linecount\n"
      "    output: s3://out/{nmae}\n",
      "5:18: error: rules[0].match.regex: invalid regex: missing terminating ] for character "
      "class at offset 4",
      "bad regex (plain), the template is not checked without its captures");
    E("rules:\n"
      "  - name: a\n"
      "    match: {bucket: b-in, regex: '^(?<date>x)/(?<key>y)'}\n"
      "    plugin: linecount\n"
      "    output: s3://out/{date}\n",
      "3:39: error: rules[0].match.regex: the named group \"date\" collides with the built-in "
      "placeholder {date}; rename the group\n"
      "3:50: error: rules[0].match.regex: the named group \"key\" collides with the built-in "
      "placeholder {key}; rename the group",
      "capture names colliding with built-ins");
    E_TEMPLATE("rules:\n"
      "  - name: a\n"
      "    match: {bucket: b-in, regex: '(?<day>x)'}\n"
      "    plugin: linecount\n"
      "    output: s3://out/{day}/{nmae}\n",
      "5:28: error: rules[0].output: unknown placeholder {nmae}",
      "unknown placeholder, plain scalar");
    E_TEMPLATE("rules:\n"
      "  - name: a\n"
      "    match: {bucket: b-in}\n"
      "    plugin: linecount\n"
      "    output: \"s3://\xc3\xa9/{day}\"\n",
      "5:21: error: rules[0].output: unknown placeholder {day}",
      "unknown placeholder, double-quoted, columns count characters");
    E_TEMPLATE("rules:\n"
      "  - name: a\n"
      "    match: {bucket: b-in}\n"
      "    plugin: linecount\n"
      "    output: \"s3://\\x41/{day}\"\n",
      "5:13: error: rules[0].output: unknown placeholder {day}",
      "escapes: the error is at the start of the string");
    E_TEMPLATE("rules:\n"
      "  - name: a\n"
      "    match: {bucket: b-in}\n"
      "    plugin: linecount\n"
      "    output: |\n"
      "      s3://x/{day}\n",
      "5:13: error: rules[0].output: unknown placeholder {day}",
      "block scalar: the error is at the indicator");
    E("rules:\n"
      "  - name: a\n"
      "    match: {bucket: b-in}\n"
      "    plugin: linecount\n"
      "    output: ['x']\n",
      "5:13: error: rules[0].output: expected a string, got a list", "output not a string");
    E("rules:\n"
      "  - name: split\n"
      "    match: {bucket: b-in}\n"
      "    plugin: linecount\n"
      "    output: s3://out/{name}\n"
      "    members_as: jobs\n",
      "5:13: error: rules[0].output: rule \"split\" has members_as: jobs (each archive member "
      "its own job and output), so its output must use {member}: without it every member "
      "would write the same location",
      "members_as: jobs without {member} in the output");
    E("rules:\n"
      "  - name: split\n"
      "    match: {bucket: b-in}\n"
      "    plugin: linecount\n"
      "    members_as: jobs\n"
      "    output: s3://out/{date}/{member}.lines\n",
      "", "members_as: jobs with {member} in the output");
    E("rules:\n"
      "  - name: set\n"
      "    match: {bucket: b-in}\n"
      "    plugin: linecount\n"
      "    delivery: adobe\n"
      "    members_as: jobs\n"
      "    output: s3://out/{member}\n",
      "6:17: error: rules[0].members_as: rule \"set\" is a delivery rule (delivery:), whose "
      "job reads the set's data files as one input: members_as: jobs does not apply to it",
      "members_as: jobs on a delivery rule");
}

static void test_errors_collected(void)
{
    E("rulez: 1\n"
      "rules:\n"
      "  - name: a\n"
      "    match: {bucket: b-in, prefx: p}\n"
      "    plugin: linecount\n"
      "    output: o\n"
      "  - name: b\n"
      "    match: {bucket: a/b}\n"
      "    plugin: linecount\n"
      "    output: o\n",
      "1:1: error: unknown key \"rulez\" at the top level (did you mean \"rules\"?)\n"
      "4:27: error: unknown key \"prefx\" in match (did you mean \"prefix\"?)\n"
      "8:21: error: rules[1].match.bucket: \"a/b\" is not a bucket name (letters, digits, '.', "
      "'_', '-', not starting with '.') or \"*\"",
      "all errors are collected, in document order");
}

static void test_diag_print(void)
{
    diag_list dl = {0};
    diag_add(&dl, DIAG_ERROR, "a.yaml", 3, 7, "bad %s", "thing");
    diag_add(&dl, DIAG_WARNING, "a.yaml", 4, 1, "odd");
    diag_add(&dl, DIAG_ERROR, "a.yaml", 0, 0, "cannot read");
    diag_add(&dl, DIAG_ERROR, NULL, 2, 0, "no file");
    is_int((int64_t)dl.count, 4, "four diagnostics");
    is_int((int64_t)dl.errors, 3, "three errors");
    char *path = xasprintf("%s/diag.txt", tmpdir);
    FILE *fp = fopen(path, "w+");
    diag_print(&dl, fp);
    rewind(fp);
    char buf[512] = "";
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    is_str(buf,
           "a.yaml:3:7: error: bad thing\n"
           "a.yaml:4:1: warning: odd\n"
           "a.yaml: error: cannot read\n"
           ":2: error: no file\n",
           "diag_print format");
    diag_free(&dl);
    ok(dl.count == 0 && dl.errors == 0 && dl.items == NULL, "diag_free resets the list");
    diag_free(&dl);
    free(path);
}

static void cleanup(const char *dir)
{
    char *cmd = xasprintf("rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    free(cmd);
}

int main(void)
{
    char tmpl[] = "/tmp/sluice-config-XXXXXX";
    if (!mkdtemp(tmpl)) {
        perror("mkdtemp");
        return 99;
    }
    /* The loader resolves symlinks nowhere, so compare against the same
     * spelling it will see. */
    snprintf(tmpdir, sizeof tmpdir, "%s", tmpl);
    test_full();
    test_defaults_and_paths();
    test_file_errors();
    test_top_level_errors();
    test_notify_errors();
    test_rule_errors();
    test_regex_and_template_errors();
    test_errors_collected();
    test_diag_print();
    cleanup(tmpdir);
    return done_testing();
}
