/* config_keys.c — the declared keys of sluice.yaml (config_keys.h). The
 * patterns are the ones schemas/config.schema.json uses, so the engine and
 * the published schema agree on what is valid. */
#include "autoconfig.h"
#include "config/config_keys.h"

#include <string.h>

#include "config/config.h"

#define RE_NAME "^[A-Za-z0-9_.-]+$"
#define RE_PLUGIN "^[a-z0-9_]+$"
#define RE_BUCKET "^(\\*|[A-Za-z0-9_-][A-Za-z0-9._-]*)$"
#define RE_EVENT                                                                    \
    "^(s3:)?(ObjectCreated:(\\*|Put|Post|Copy|CompleteMultipartUpload)|ObjectRemoved:" \
    "(\\*|Delete|DeleteMarkerCreated))$"
#define RE_SNS_ARN "^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?$"
#define RE_URL "^https?://[^\\s/?#]+([/?#]\\S*)?$"
#define RE_ENV "^[A-Za-z_][A-Za-z0-9_]*$"
#define RE_REGION "^[a-z0-9-]+$"
#define RE_HEADER "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"
#define RE_RUNS_PLACEHOLDERS "([^{}]|\\{(date|run_id|rule)\\})*"
#define RE_RUNS_LOCATION \
    "^s3://[^/{}]+/" RE_RUNS_PLACEHOLDERS "\\{run_id\\}" RE_RUNS_PLACEHOLDERS "$"

#define RE_EXPECT_BY "^(([01][0-9]|2[0-3]):[0-5][0-9]Z|:[0-5][0-9])$"
#define RE_DURATION "^[0-9]{1,6}(s|m|h|d)$"
#define RE_SIZE "^[0-9]{1,6}(K|M|G)$"

#define WHAT_REGION "a valid AWS region name"
#define WHAT_URL "an http:// or https:// URL"

/* The field a key fills, in the structure its section fills. */
#define FIELD(T, f) .offset = offsetof(T, f), .size = sizeof(((T *)0)->f)
/* A list of strings and its count. */
#define STRV(T, f, n) FIELD(T, f), .count_offset = offsetof(T, n)
#define SECTION(name, where, variant, keys) \
    {name, where, variant, keys, sizeof keys / sizeof keys[0]}

/* ---- storage ----------------------------------------------------------- */

static const config_key storage_local_keys[] = {
    {"type", CONFIG_ENUM, .def = "local", .help = "The storage backend.", .what = "storage type",
     .choices = (const char *const[]){"local", NULL}, FIELD(storage_config, type)},
    {"root", CONFIG_PATH, CONFIG_REQUIRED,
     .help = "Directory holding one folder per bucket; relative to the configuration file's "
             "directory.",
     FIELD(storage_config, root)},
};

/* Checked in this order; the messages come in it. */
static const config_key storage_s3_keys[] = {
    {"type", CONFIG_ENUM, CONFIG_REQUIRED, .help = "The storage backend.", .what = "storage type",
     .choices = (const char *const[]){"s3", NULL}, FIELD(storage_config, type)},
    {"region", CONFIG_STRING,
     .help = "AWS region; default: $AWS_REGION, $AWS_DEFAULT_REGION, the profile's, else "
             "us-east-1.",
     .pattern = RE_REGION, .what = WHAT_REGION, FIELD(storage_config, region)},
    {"endpoint", CONFIG_STRING,
     .help = "S3-compatible endpoint (MinIO, moto, ...); default: $AWS_ENDPOINT_URL_S3, "
             "$AWS_ENDPOINT_URL, the profile's endpoint_url, else AWS.",
     .pattern = RE_URL, .what = WHAT_URL, FIELD(storage_config, endpoint)},
    {"profile", CONFIG_STRING,
     .help = "AWS shared-config profile for credentials, region and endpoint_url; default: "
             "$AWS_PROFILE, else default.",
     FIELD(storage_config, profile)},
    {"ca_bundle", CONFIG_PATH,
     .help = "CA certificates (PEM) to trust; relative to the configuration file's directory.",
     FIELD(storage_config, ca_bundle)},
    {"path_style", CONFIG_BOOL,
     .help = "true: host/bucket/key addressing, false: bucket.host/key; default: false on AWS, "
             "true on a custom endpoint.",
     FIELD(storage_config, path_style)},
    {"insecure_skip_verify", CONFIG_BOOL, .def = "false",
     .help = "Do not verify TLS certificates (tests only).",
     FIELD(storage_config, insecure_skip_verify)},
    {"part_size", CONFIG_INT, .def = "8388608", .min = 5242880LL, .max = 5368709120LL,
     .help = "Multipart upload part size in bytes (5 MiB to 5 GiB).",
     FIELD(storage_config, part_size)},
    {"max_attempts", CONFIG_INT, .def = "5", .min = 1, .max = 100,
     .help = "Attempts per request, with backoff between them.",
     FIELD(storage_config, max_attempts)},
    {"parts_in_flight", CONFIG_INT, .def = "4", .min = 1, .max = 64,
     .help = "Multipart parts of one output uploaded at once.",
     FIELD(storage_config, parts_in_flight)},
    {"read_timeout", CONFIG_INT, .def = "60", .min = 1, .max = 3600,
     .help = "Seconds without bytes moving before an attempt is abandoned and retried.",
     FIELD(storage_config, read_timeout)},
    {"connect_timeout", CONFIG_INT, .def = "10", .min = 1, .max = 300,
     .help = "Seconds to connect.", FIELD(storage_config, connect_timeout)},
    {"retry_max_seconds", CONFIG_INT, .def = "120", .min = 1, .max = 86400,
     .help = "Total seconds spent retrying one request.",
     FIELD(storage_config, retry_max_seconds)},
};

static const config_section storage_local =
    SECTION("storage.local", "in storage (type local)", "local", storage_local_keys);
static const config_section storage_s3 =
    SECTION("storage.s3", "in storage (type s3)", "s3", storage_s3_keys);

static const config_variants storage_types = {
    "type", "local",
    (const config_section *const[]){&storage_local, &storage_s3, NULL},
};

/* ---- plugins ----------------------------------------------------------- */

static const config_key plugins_keys[] = {
    {"path", CONFIG_PATHS,
     .help = "Directories searched for plugins before $SLUICE_PLUGIN_PATH and the installed "
             "ones; relative to the configuration file's directory.",
     STRV(config, plugin_paths, n_plugin_paths), .load = config_load_plugin_paths},
};

static const config_section plugins = SECTION("plugins", "in plugins", NULL, plugins_keys);

/* ---- notification targets ---------------------------------------------- */

#define TARGET_TYPE(name)                                                         \
    {"type", CONFIG_ENUM, CONFIG_REQUIRED, .help = "The target type.",            \
     .what = "target type",                                                       \
     .choices = (const char *const[]){name, NULL}, FIELD(notify_target, type)}
#define TARGET_REGION                                                                   \
    {"region", CONFIG_STRING,                                                           \
     .help = "AWS region; default: $AWS_REGION, $AWS_DEFAULT_REGION, the profile's, else " \
             "us-east-1.",                                                              \
     .pattern = RE_REGION, .what = WHAT_REGION, FIELD(notify_target, region)}
#define TARGET_ENDPOINT                                                       \
    {"endpoint", CONFIG_STRING,                                               \
     .help = "Service endpoint; default: the AWS environment or profile, else AWS.", \
     .pattern = RE_URL, .what = WHAT_URL, FIELD(notify_target, endpoint)}
#define TARGET_PROFILE                                                                      \
    {"profile", CONFIG_STRING,                                                              \
     .help = "AWS profile for credentials, region and endpoint; default: $AWS_PROFILE, else " \
             "default.",                                                                    \
     FIELD(notify_target, profile)}
#define TARGET_TIMEOUT                                                                 \
    {"timeout", CONFIG_NUMBER, .def = "10", .min = 0, .max = 3600, .scale = 1000,      \
     .what = "a number of seconds", .help = "Seconds for one delivery request.",       \
     FIELD(notify_target, timeout_ms)}
#define TARGET_MAX_ATTEMPTS                                                            \
    {"max_attempts", CONFIG_INT, .def = "4", .min = 1, .max = 10,                      \
     .help = "Delivery attempts in all, with exponential backoff between them.",       \
     FIELD(notify_target, max_attempts)}

static const config_key log_keys[] = {TARGET_TYPE("log")};

static const config_key sns_keys[] = {
    TARGET_TYPE("sns"),
    {"topic_arn", CONFIG_STRING, CONFIG_REQUIRED, .help = "The SNS topic to publish to.",
     .pattern = RE_SNS_ARN, .what = "an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:TOPIC)",
     FIELD(notify_target, topic_arn)},
    TARGET_REGION,
    TARGET_ENDPOINT,
    {"subject_prefix", CONFIG_STRING, .help = "Text put before each message's subject.",
     FIELD(notify_target, subject_prefix)},
    TARGET_PROFILE,
    TARGET_TIMEOUT,
    TARGET_MAX_ATTEMPTS,
};

static const config_key eventbridge_keys[] = {
    TARGET_TYPE("eventbridge"),
    {"event_bus", CONFIG_STRING, .help = "Event bus name or ARN; default: the default bus.",
     FIELD(notify_target, event_bus)},
    TARGET_REGION,
    TARGET_ENDPOINT,
    {"source", CONFIG_STRING, .help = "The events' source; default: sluice.",
     FIELD(notify_target, source)},
    {"detail_type", CONFIG_STRING,
     .help = "The events' detail-type; default: Sluice Job State Change.",
     FIELD(notify_target, detail_type)},
    TARGET_PROFILE,
    TARGET_TIMEOUT,
    TARGET_MAX_ATTEMPTS,
};

static const config_key webhook_keys[] = {
    TARGET_TYPE("webhook"),
    {"url", CONFIG_STRING, CONFIG_REQUIRED, .help = "Where the event is POSTed as JSON.",
     .pattern = RE_URL, .what = WHAT_URL, FIELD(notify_target, url)},
    {"secret_env", CONFIG_STRING,
     .help = "Environment variable holding the HMAC signing secret; default: unsigned.",
     .pattern = RE_ENV, .what = "an environment variable name", FIELD(notify_target, secret_env)},
    TARGET_TIMEOUT,
    {"headers", CONFIG_MAP, .help = "Headers added to each request: name to value.",
     .pattern = RE_HEADER, .what = "a valid HTTP header name", .load = config_load_headers},
    TARGET_MAX_ATTEMPTS,
};

static const config_section target_log =
    SECTION("notify.log", "in notify target \"%s\" (type log)", "log", log_keys);
static const config_section target_sns =
    SECTION("notify.sns", "in notify target \"%s\" (type sns)", "sns", sns_keys);
static const config_section target_eventbridge = SECTION(
    "notify.eventbridge", "in notify target \"%s\" (type eventbridge)", "eventbridge",
    eventbridge_keys);
static const config_section target_webhook =
    SECTION("notify.webhook", "in notify target \"%s\" (type webhook)", "webhook", webhook_keys);

static const config_variants target_types = {
    "type", NULL,
    (const config_section *const[]){&target_log, &target_sns, &target_eventbridge,
                                    &target_webhook, NULL},
};

/* ---- run records ------------------------------------------------------- */

static const config_key runs_keys[] = {
    {"enabled", CONFIG_BOOL, .def = "true",
     .help = "false: no run records, and so no duplicate detection.",
     FIELD(runs_config, enabled)},
    {"dir", CONFIG_PATH,
     .help = "Directory for the records ({date}/{run_id}.json below it); relative to the "
             "configuration file's directory. Default: runs/ beside the local storage root "
             "(beside the configuration file with S3 storage).",
     FIELD(runs_config, dir)},
    {"location", CONFIG_STRING,
     .help = "Instead of dir: a storage location template for each record, written through "
             "the configured storage, e.g. s3://ops-bucket/sluice/runs/{date}/{run_id}.json. "
             "Placeholders: {date} {run_id} {rule}; {run_id} is required.",
     .pattern = RE_RUNS_LOCATION,
     .what = "an s3://BUCKET/KEY template that contains {run_id} (placeholders: {date} "
             "{run_id} {rule})",
     .conflicts = "dir", FIELD(runs_config, location)},
};

static const config_section runs = SECTION("runs", "in runs", NULL, runs_keys);

/* ---- rules ------------------------------------------------------------- */

static const config_key match_keys[] = {
    {"bucket", CONFIG_STRING, CONFIG_REQUIRED,
     .help = "Exact bucket name, or \"*\" for any bucket.", .pattern = RE_BUCKET,
     .what = "a bucket name (letters, digits, '.', '_', '-', not starting with '.') or \"*\"",
     FIELD(rule, bucket)},
    {"prefix", CONFIG_TEXT, .help = "The key starts with it.", FIELD(rule, prefix)},
    {"suffix", CONFIG_TEXT, .help = "The key ends with it.", FIELD(rule, suffix)},
    {"regex", CONFIG_TEXT,
     .help = "PCRE2 pattern matched against the key (bytes, '$' only at the very end); named "
             "groups become placeholders.",
     FIELD(rule, regex_src), .hook = config_check_regex},
    {"events", CONFIG_LIST, CONFIG_NONEMPTY, .def = "[\"ObjectCreated:*\"]",
     .help = "Event types the rule accepts (an s3: prefix is ignored).", .pattern = RE_EVENT,
     STRV(rule, events, n_events), .load = config_load_events},
};

static const config_section match = SECTION("match", "in match", NULL, match_keys);

#define TARGET_LIST(name, text, T, f, n)                                          \
    {name, CONFIG_LIST, CONFIG_UNIQUE, .help = text, .pattern = RE_NAME,          \
     STRV(T, f, n), .load = config_load_target_list}

static const config_key rule_keys[] = {
    {"name", CONFIG_STRING, CONFIG_REQUIRED,
     .help = "Unique name of the rule, shown in logs, events and `sluice route`.",
     .pattern = RE_NAME, .what = "a valid rule name (letters, digits, '_', '.' and '-')",
     FIELD(rule, name), .hook = config_check_rule_name},
    {"description", CONFIG_STRING, .help = "Free text."},
    {"match", CONFIG_SECTION, CONFIG_REQUIRED,
     .help = "Conditions on the object, all of which must hold.", .section = &match},
    {"plugin", CONFIG_STRING, CONFIG_REQUIRED | CONFIG_KEEP_POS,
     .help = "The transform plugin (NAME.la or NAME.so on the plugin path).",
     .pattern = RE_PLUGIN, .what = "a valid plugin name (a-z, 0-9 and '_')",
     FIELD(rule, plugin_name), .pos_offset = offsetof(rule, plugin_pos)},
    {"options", CONFIG_MAP, CONFIG_KEEP_POS, .def = "{}",
     .help = "Plugin options, checked against the JSON Schema the plugin declares.",
     FIELD(rule, options), .pos_offset = offsetof(rule, options_pos)},
    {"output", CONFIG_STRING, CONFIG_REQUIRED,
     .help = "Output location template, e.g. s3://bucket/{date}/{name}. Placeholders: "
             "{bucket} {key} {dir} {basename} {stem} {date} {run_date} {run_id} {name} {rsid} "
             "{feed_date} {feed_hour} {member} and the regex's named groups.",
     .hook = config_check_output},
    {"delivery", CONFIG_ENUM,
     .help = "adobe: the matching object is the manifest (or .fin marker) of an Adobe Analytics "
             "data feed delivery set; the job checks the set and reads its data files as one "
             "input. Other objects the rule matches are skipped.",
     .what = "a delivery kind", .choices = (const char *const[]){"adobe", NULL},
     FIELD(rule, delivery)},
    TARGET_LIST("on_failure",
                "Targets notified when this rule's job fails ([]: none); default: the "
                "top-level on_failure.",
                rule, on_failure, n_on_failure),
    TARGET_LIST("on_success",
                "Targets notified when this rule's job succeeds ([]: none); default: the "
                "top-level on_success.",
                rule, on_success, n_on_success),
    /* compressed and archived objects: docs/compression.md */
    {"decompress", CONFIG_ENUM, .def = "auto",
     .help = "How the object is decoded: auto (gzip, zstd, bzip2, zip, tar by their magic "
             "bytes), none, or a forced gzip, zstd or bzip2.",
     .what = "decompress mode",
     .choices = (const char *const[]){"auto", "none", "gzip", "zstd", "bzip2", NULL},
     FIELD(rule, decompress)},
    {"members", CONFIG_LIST, CONFIG_NONEMPTY,
     .help = "Glob patterns (fnmatch) choosing the members of an archive to read; needed when "
             "it holds several files.",
     .pattern = ".+", .what = "a glob pattern", STRV(rule, members, n_members),
     .load = config_load_strings},
    {"members_as", CONFIG_ENUM, .def = "stream",
     .help = "stream: the chosen members in archive order as one input; jobs: each member its "
             "own job, whose output must use {member}.",
     .what = "members_as mode", .choices = (const char *const[]){"stream", "jobs", NULL},
     FIELD(rule, members_as), .hook = config_check_members_as},
    {"max_expanded_bytes", CONFIG_INT, .def = "68719476736", .min = 1,
     .max = 9223372036854775807LL,
     .help = "Decoded bytes one object may expand to (default 64 GiB); more fails the job.",
     FIELD(rule, max_expanded_bytes)},
    {"max_ratio", CONFIG_INT, .def = "1000", .min = 1, .max = 1000000000LL,
     .help = "Decoded bytes per compressed byte an object may reach past its first MiB; more "
             "fails the job as a decompression bomb.",
     FIELD(rule, max_ratio)},
    {"compress", CONFIG_ENUM, .def = "none",
     .help = "Compress the output: none, gzip or zstd (the suffix .gz or .zst is added to "
             "{name}).",
     .what = "output compression",
     .choices = (const char *const[]){"none", "gzip", "zstd", NULL}, FIELD(rule, compress)},
    {"compress_level", CONFIG_INT, .def = "0", .min = 0, .max = 19,
     .help = "Output compression level; 0: the codec's default (gzip 1-3 as ISA-L has them, "
             "zstd 1-19).",
     FIELD(rule, compress_level)},
    /* plugin isolation: docs/plugins.md#isolation */
    {"isolation", CONFIG_ENUM,
     .help = "process: the plugin's run() in a child process, so a crash, exit or limit fails "
             "only the job; none: in the engine's process. Default: none for the plugins "
             "installed with sluice, process for any other.",
     .what = "isolation mode", .choices = (const char *const[]){"process", "none", NULL},
     FIELD(rule, isolation)},
    {"timeout", CONFIG_STRING,
     .help = "With isolation: process, how long a job's plugin may run before it is killed "
             "and the job fails: a number and s, m, h or d (10m). Default: no limit.",
     .pattern = RE_DURATION, .what = "a duration like 90s, 30m, 2h or 1d",
     FIELD(rule, timeout), .hook = config_check_rule_timeout},
    {"max_memory", CONFIG_STRING,
     .help = "With isolation: process, the address space the plugin may add to the engine's "
             "(RLIMIT_AS): a number and K, M or G (2G). Default: no limit.",
     .pattern = RE_SIZE, .what = "a size like 512M or 2G",
     FIELD(rule, max_memory), .hook = config_check_rule_max_memory},
};

static const config_section rule_section = SECTION("rule", "in %s", NULL, rule_keys);

/* ---- expected arrivals ------------------------------------------------- */

static const config_key expect_keys[] = {
    {"rule", CONFIG_STRING, CONFIG_REQUIRED,
     .help = "The rule whose arrival is expected: a SUCCEEDED run of it in each period.",
     .pattern = RE_NAME, .what = "a valid rule name (letters, digits, '_', '.' and '-')",
     FIELD(expect_config, rule), .hook = config_check_expect_rule},
    {"every", CONFIG_ENUM, CONFIG_REQUIRED, .help = "The period, in UTC: day or hour.",
     .what = "period", .choices = (const char *const[]){"day", "hour", NULL},
     FIELD(expect_config, every)},
    {"by", CONFIG_STRING, CONFIG_REQUIRED,
     .help = "When in the period the arrival is due: \"HH:MMZ\" with every: day, \":MM\" "
             "(minutes past the hour) with every: hour.",
     .pattern = RE_EXPECT_BY, .what = "a time \"HH:MMZ\" (every: day) or \":MM\" (every: hour)",
     FIELD(expect_config, by), .hook = config_check_expect_by},
    {"grace", CONFIG_STRING, .def = "0s",
     .help = "How long after `by` the arrival may still come before it is MISSING: a number "
             "and s, m, h or d (2h).",
     .pattern = RE_DURATION, .what = "a duration like 90s, 30m, 2h or 1d",
     FIELD(expect_config, grace), .hook = config_check_expect_grace},
    {"lookback", CONFIG_INT, .def = "1", .min = 1, .max = 1000,
     .help = "How many periods each check judges: the latest whose deadline has passed and "
             "the ones before it (to cover a stop longer than a period).",
     FIELD(expect_config, lookback)},
};

static const config_section expect_section = SECTION("expect", "in %s", NULL, expect_keys);

/* ---- the top level ----------------------------------------------------- */

static const config_key top_keys[] = {
    {"storage", CONFIG_SECTION, .def = "{type: local, root: ./data}",
     .help = "Where buckets live: a local directory tree or S3.", .variants = &storage_types,
     FIELD(config, storage)},
    {"plugins", CONFIG_SECTION, .help = "Where plugins are found.", .section = &plugins},
    {"notify", CONFIG_MAP, .help = "Named notification targets.", .pattern = RE_NAME,
     .what = "letters, digits, '_', '.' and '-'",
     .variants = &target_types, .load = config_load_notify},
    TARGET_LIST("on_failure",
                "Targets notified when a job fails, for rules without their own on_failure.",
                config, on_failure, n_on_failure),
    TARGET_LIST("on_success",
                "Targets notified when a job succeeds, for rules without their own on_success.",
                config, on_success, n_on_success),
    {"runs", CONFIG_SECTION,
     .help = "Run records: every job's job-state event, kept for `sluice runs` and duplicate "
             "detection.",
     .section = &runs, FIELD(config, runs)},
    {"rules", CONFIG_LIST, CONFIG_REQUIRED | CONFIG_NONEMPTY,
     .help = "Routing rules, in order: the first rule that matches an object wins.",
     .what = "the list of routing rules", .section = &rule_section, .load = config_load_rules},
    {"expect", CONFIG_LIST,
     .help = "Expected arrivals: when a rule has no SUCCEEDED run by a period's deadline, a "
             "MISSING event goes to its on_failure targets, once per period.",
     .section = &expect_section, .load = config_load_expect},
};

const config_section config_keys_root =
    SECTION("config", "at the top level", NULL, top_keys);

/* ---- queries ----------------------------------------------------------- */

const config_key *config_keys_find(const config_section *s, const char *name)
{
    for (size_t i = 0; i < s->n_keys; i++)
        if (!strcmp(s->keys[i].name, name))
            return &s->keys[i];
    return NULL;
}

const config_section *config_keys_variant(const config_variants *v, const char *value)
{
    for (size_t i = 0; v->sections[i]; i++)
        if (!strcmp(v->sections[i]->variant, value))
            return v->sections[i];
    return NULL;
}

ydoc *config_keys_default(const config_key *k)
{
    char err[256];
    return k->def ? ydoc_load_string("(default)", k->def, strlen(k->def), err, sizeof err) : NULL;
}

const char *config_keys_type_name(config_key_type type)
{
    static const char *const names[] = {
        [CONFIG_STRING] = "string", [CONFIG_TEXT] = "text",       [CONFIG_PATH] = "path",
        [CONFIG_PATHS] = "paths",   [CONFIG_ENUM] = "enum",       [CONFIG_INT] = "integer",
        [CONFIG_NUMBER] = "number", [CONFIG_BOOL] = "boolean",    [CONFIG_LIST] = "list",
        [CONFIG_MAP] = "mapping",   [CONFIG_SECTION] = "section",
    };
    return names[type];
}
