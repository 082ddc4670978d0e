/* test_template.c — output location templates; the placeholder-value check
 * (issue 12, finding 1: a key like "p/../../../../tmp/x/PWNED" must not
 * lead an output out of the location its template names). */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "config/template.h"

static const template_vars base_vars = {
    .bucket = "client-inbound",
    .key = "hit-data/2026-11-20/part-0001.tsv.gz",
    .date = "2026-11-20",
    .run_date = "2026-11-21",
    .run_id = "r-42",
    .name = "2026-11-20_SearchKeywordPerformance.tab",
};

/* Compiles src (no captures) and expands it with vars. */
static void expands(const char *src, const template_vars *vars, const char *want, const char *name)
{
    char err[256] = "";
    size_t off = 999;
    template *t = template_compile(src, NULL, 0, err, sizeof err, &off);
    if (!ok(t != NULL, "%s: compiles", name)) {
        diag_note(err);
        return;
    }
    sl_error e = {0};
    char *got = template_expand(t, vars, &e);
    is_str(got, want, "%s: %s", name, src);
    if (!got)
        diag_note(e.msg);
    free(got);
    is_str(template_source(t), src, "%s: source kept", name);
    template_free(t);
}

static void key_parts(const char *key, const char *dir, const char *base, const char *stem)
{
    template_vars v = {.key = key};
    char label[128];
    snprintf(label, sizeof label, "key \"%s\"", key);
    expands("{dir}", &v, dir, label);
    expands("{basename}", &v, base, label);
    expands("{stem}", &v, stem, label);
}

static void fails(const char *src, const char *const *caps, size_t n, size_t want_off,
                  const char *want_msg_prefix, const char *name)
{
    char err[512] = "";
    size_t off = 999;
    template *t = template_compile(src, caps, n, err, sizeof err, &off);
    ok(t == NULL, "%s: refused", name);
    is_int((int64_t)off, (int64_t)want_off, "%s: offset", name);
    ok(strncmp(err, want_msg_prefix, strlen(want_msg_prefix)) == 0, "%s: message \"%s\"", name,
       err);
    template_free(t);
}

/* Expanding src with vars is refused, the message naming {placeholder}
 * and showing the value as `shown`. */
static void refused(const char *src, const template_vars *vars, const char *placeholder,
                    const char *shown, const char *why, const char *name)
{
    const char *caps[] = {"path"};
    char cerr[256] = "";
    size_t off;
    template *t = template_compile(src, caps, 1, cerr, sizeof cerr, &off);
    if (!ok(t != NULL, "%s: compiles", name))
        return;
    sl_error e = {0};
    char *got = template_expand(t, vars, &e);
    ok(got == NULL, "%s: refused (got \"%s\")", name, got ? got : "");
    is_int(e.kind, SL_ERR_INPUT, "%s: an input error", name);
    char want[256];
    snprintf(want, sizeof want, "placeholder {%s} has the value %s, refused because %s",
             placeholder, shown, why);
    ok(strstr(e.msg, want) != NULL, "%s: message names the placeholder and value: %s", name,
       e.msg);
    ok(strstr(e.msg, src) != NULL, "%s: message names the template", name);
    ok(!strchr(e.msg, '\n'), "%s: the message is one line", name);
    free(got);
    template_free(t);
}

/* Finding 1: every placeholder's value is checked as a path. */
static void placeholder_safety(void)
{
    static const char *dotdot = "it has a \"..\" segment";
    static const char *dot = "it has a \".\" segment";
    static const char *abs_ = "it is an absolute path";
    static const char *ctl = "it holds a control character";
    template_vars v = base_vars;

    v.key = "p/../../../../tmp/x/PWNED";
    refused("/srv/out/{key}.lines", &v, "key", "\"p/../../../../tmp/x/PWNED\"", dotdot,
            "{key} climbing out (the reported exploit)");
    refused("s3://out/{key}", &v, "key", "\"p/../../../../tmp/x/PWNED\"", dotdot,
            "{key} into an S3 output too");
    v.key = "/etc/cron.d/x";
    refused("/srv/out/{key}", &v, "key", "\"/etc/cron.d/x\"", abs_, "{key} absolute");
    v.key = "a/./b";
    refused("/srv/out/{key}", &v, "key", "\"a/./b\"", dot, "{key} with a . segment");
    v.key = "a/b\nINFO forged";
    refused("/srv/out/{key}", &v, "key", "\"a/b\\nINFO forged\"", ctl, "{key} with a newline");
    v.key = "a\x7f";
    refused("/srv/out/{key}", &v, "key", "\"a\\x7f\"", ctl, "{key} with DEL");
    v.key = "a\x01" "b";
    refused("/srv/out/{key}", &v, "key", "\"a\\x01b\"", ctl, "{key} with \\x01");
    v.key = "../x.csv";
    refused("/srv/out/{dir}/y", &v, "dir", "\"..\"", dotdot, "{dir}");
    v.key = "a/..";
    refused("/srv/out/{basename}", &v, "basename", "\"..\"", dotdot, "{basename}");
    v.key = "a/...";
    refused("/srv/out/{stem}.csv", &v, "stem", "\"..\"", dotdot, "{stem}");
    v.key = "a/\tb.csv";
    refused("/srv/out/{stem}.csv", &v, "stem", "\"\\tb\"", ctl, "{stem} with a tab");
    v = base_vars;
    v.bucket = "..";
    refused("/srv/out/{bucket}/x", &v, "bucket", "\"..\"", dotdot, "{bucket}");
    v = base_vars;
    v.name = "../x";
    refused("/srv/out/{name}", &v, "name", "\"../x\"", dotdot, "{name}");
    v = base_vars;
    v.date = "../../x";
    refused("/srv/out/{date}", &v, "date", "\"../../x\"", dotdot, "{date}");
    v = base_vars;
    v.run_date = "/x";
    refused("/srv/out/{run_date}", &v, "run_date", "\"/x\"", abs_, "{run_date}");
    v = base_vars;
    v.run_id = "..";
    refused("/srv/out/{run_id}", &v, "run_id", "\"..\"", dotdot, "{run_id}");
    /* an archive member's path comes from whoever made the archive */
    v = base_vars;
    v.member = "../../etc/cron.d/x";
    refused("/srv/out/{member}.csv", &v, "member", "\"../../etc/cron.d/x\"", dotdot,
            "{member} climbing out");
    v.member = "/etc/x";
    refused("s3://o/{member}", &v, "member", "\"/etc/x\"", abs_, "{member} absolute");
    v.member = "d/\x1b]0;x";
    refused("s3://o/{member}", &v, "member", "\"d/\\x1b]0;x\"", ctl,
            "{member} with an escape sequence");
    const char *names[] = {"path"};
    const char *values[] = {"x/../../etc"};
    v = base_vars;
    v.capture_names = names;
    v.capture_values = values;
    v.n_captures = 1;
    refused("/srv/out/{path}.csv", &v, "path", "\"x/../../etc\"", dotdot, "a regex capture");
    values[0] = "\"quoted\"/\x1b[31m";
    refused("/srv/out/{path}", &v, "path", "\"\\\"quoted\\\"/\\x1b[31m\"", ctl,
            "a capture with an escape sequence is shown escaped");

    /* a long value is cut in the message, which says how long it was */
    char longkey[600];
    memset(longkey, 'k', sizeof longkey);
    memcpy(longkey + 500, "/../x", 6);
    v = base_vars;
    v.key = longkey;
    template *t = template_compile("/srv/{key}", NULL, 0, NULL, 0, NULL);
    sl_error e = {0};
    char *got = template_expand(t, &v, &e);
    ok(!got && strstr(e.msg, "... (505 bytes)"), "a long value is cut: %.60s...", e.msg);
    free(got);
    template_free(t);

    /* what stays allowed: relative multi-segment keys, dots inside names */
    v = base_vars;
    v.key = "a/b/c.csv";
    expands("/srv/out/{key}", &v, "/srv/out/a/b/c.csv", "a multi-segment key");
    v.key = "..a/b..c/...";
    expands("/srv/out/{key}", &v, "/srv/out/..a/b..c/...", "dots that are not . or ..");
    v.key = ".hidden/x";
    expands("/srv/out/{key}", &v, "/srv/out/.hidden/x", "a dot-file directory");
    v.key = "a//b";
    expands("s3://o/{key}", &v, "s3://o/a//b", "an empty segment (S3 allows it)");
    v.key = "hit data/café ü.tsv";
    expands("s3://o/{key}", &v, "s3://o/hit data/café ü.tsv", "spaces and UTF-8");
    v = base_vars;
    v.member = "2026/11/20/hit_data.tsv";
    expands("s3://o/{date}/{member}.jsonl", &v,
            "s3://o/2026-11-20/2026/11/20/hit_data.tsv.jsonl", "{member}: a member's path");
    v.member = NULL;
    expands("s3://o/{member}", &v, "s3://o/", "{member} of no member's job: empty");
    /* the template's own text is the configuration's and is not checked */
    v = base_vars;
    expands("../out/{date}", &v, "../out/2026-11-20", "literal .. in the template itself");

    /* template_check_value alone, as the run records use it */
    e = (sl_error){0};
    is_int(template_check_value("rule", "daily", &e), 0, "check_value: a plain name");
    is_int(template_check_value("rule", NULL, &e), 0, "check_value: NULL is empty");
    is_int(template_check_value("rule", "../x", &e), -1, "check_value: ..");
    ok(strstr(e.msg, "placeholder {rule} has the value \"../x\"") != NULL,
       "check_value: message %s", e.msg);
}

int main(void)
{
    /* every built-in */
    expands("s3://client-outbound/{date}/{name}", &base_vars,
            "s3://client-outbound/2026-11-20/2026-11-20_SearchKeywordPerformance.tab",
            "the README example");
    expands("{bucket}|{key}|{dir}|{basename}|{stem}|{date}|{run_date}|{run_id}|{name}",
            &base_vars,
            "client-inbound|hit-data/2026-11-20/part-0001.tsv.gz|hit-data/2026-11-20|"
            "part-0001.tsv.gz|part-0001.tsv|2026-11-20|2026-11-21|r-42|"
            "2026-11-20_SearchKeywordPerformance.tab",
            "all built-ins");
    expands("", &base_vars, "", "empty template");
    expands("no placeholders", &base_vars, "no placeholders", "literal only");
    expands("{{literal}} {{{bucket}}}", &base_vars, "{literal} {client-inbound}",
            "escaped braces");
    expands("}}{{", &base_vars, "}{", "escaped braces alone");
    expands("{key}{key}", &base_vars,
            "hit-data/2026-11-20/part-0001.tsv.gzhit-data/2026-11-20/part-0001.tsv.gz",
            "adjacent placeholders");

    template_vars none = {0};
    expands("a/{bucket}/{key}/{dir}/{basename}/{stem}/{name}/b", &none, "a///////b",
            "NULL values expand to nothing");
    expands("x{date}", NULL, "x", "NULL vars");

    /* {dir} {basename} {stem} */
    key_parts("a/b/c.txt", "a/b", "c.txt", "c");
    key_parts("c.txt", "", "c.txt", "c");
    key_parts("a/b.tar.gz", "a", "b.tar.gz", "b.tar");
    key_parts("dir/.profile", "dir", ".profile", ".profile");
    key_parts(".profile", "", ".profile", ".profile");
    key_parts("dir/.config.yaml", "dir", ".config.yaml", ".config");
    key_parts("dir/noext", "dir", "noext", "noext");
    key_parts("dir/trailing.", "dir", "trailing.", "trailing");
    key_parts("dir.d/file", "dir.d", "file", "file");
    key_parts("dir/", "dir", "", "");
    key_parts("hit data/2009 09/a+b café.tsv", "hit data/2009 09", "a+b café.tsv", "a+b café");

    /* captures */
    const char *caps[] = {"client", "date"};
    char err[512];
    size_t off;
    template *t = template_compile("out/{client}/{date}/{stem}.csv", caps, 2, err, sizeof err,
                                   &off);
    ok(t != NULL, "captures compile");
    const char *names[] = {"date", "client"};
    const char *values[] = {"2009-09-27", "acme"};
    template_vars v = base_vars;
    v.capture_names = names;
    v.capture_values = values;
    v.n_captures = 2;
    sl_error e = {0};
    char *got = template_expand(t, &v, &e);
    is_str(got, "out/acme/2009-09-27/part-0001.tsv.csv",
           "captures by name; a capture named like a built-in wins");
    free(got);
    v.n_captures = 1;
    got = template_expand(t, &v, &e);
    is_str(got, "out//2009-09-27/part-0001.tsv.csv", "a missing capture value expands to nothing");
    free(got);
    ok(template_uses(t, "client"), "uses {client}");
    ok(template_uses(t, "{date}"), "uses {date} (braces accepted)");
    ok(template_uses(t, "stem"), "uses {stem}");
    ok(!template_uses(t, "name"), "does not use {name}");
    ok(!template_uses(t, "bucket"), "does not use {bucket}");
    template_free(t);

    t = template_compile("{{name}}", NULL, 0, err, sizeof err, &off);
    ok(!template_uses(t, "name"), "an escaped {{name}} is not a use");
    template_free(t);
    t = template_compile("s3://b/{date}/{name}", NULL, 0, err, sizeof err, &off);
    ok(template_uses(t, "name"), "uses {name}");
    template_free(t);

    /* errors, with byte offsets */
    fails("s3://b/{nmae}", NULL, 0, 7, "unknown placeholder {nmae} (known: {bucket}",
          "unknown placeholder");
    fails("{client}", NULL, 0, 0, "unknown placeholder {client}", "capture not declared");
    fails("{x}", caps, 2, 0, "unknown placeholder {x} (known: {bucket} {key} {dir} {basename} "
          "{stem} {date} {run_date} {run_id} {name} {rsid} {feed_date} {feed_hour} {member} "
          "{client} {date})",
          "known list includes captures");
    fails("out/{date", NULL, 0, 4, "unterminated placeholder", "unterminated at the end");
    fails("out/{da{te}", NULL, 0, 4, "unterminated placeholder", "'{' inside a placeholder");
    fails("a{}b", NULL, 0, 1, "empty placeholder {}", "empty placeholder");
    fails("a}b", NULL, 0, 1, "unmatched '}'", "lone closing brace");
    fails("{key}}", NULL, 0, 5, "unmatched '}'", "closing brace after a placeholder");
    fails("{", NULL, 0, 0, "unterminated placeholder", "a lone '{'");
    fails("é{Key}", NULL, 0, 2, "unknown placeholder {Key}", "offsets are bytes; names are case-sensitive");
    fails("{ key }", NULL, 0, 0, "unknown placeholder { key }", "no whitespace trimming");

    placeholder_safety();

    /* err/err_offset may be NULL */
    ok(template_compile("{bad}", NULL, 0, NULL, 0, NULL) == NULL, "NULL err and offset");
    return done_testing();
}
