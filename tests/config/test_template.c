/* test_template.c — output location templates. */
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
    char *got = template_expand(t, vars);
    is_str(got, want, "%s: %s", name, src);
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
    char *got = template_expand(t, &v);
    is_str(got, "out/acme/2009-09-27/part-0001.tsv.csv",
           "captures by name; a capture named like a built-in wins");
    free(got);
    v.n_captures = 1;
    got = template_expand(t, &v);
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
          "{stem} {date} {run_date} {run_id} {name} {client} {date})", "known list includes captures");
    fails("out/{date", NULL, 0, 4, "unterminated placeholder", "unterminated at the end");
    fails("out/{da{te}", NULL, 0, 4, "unterminated placeholder", "'{' inside a placeholder");
    fails("a{}b", NULL, 0, 1, "empty placeholder {}", "empty placeholder");
    fails("a}b", NULL, 0, 1, "unmatched '}'", "lone closing brace");
    fails("{key}}", NULL, 0, 5, "unmatched '}'", "closing brace after a placeholder");
    fails("{", NULL, 0, 0, "unterminated placeholder", "a lone '{'");
    fails("é{Key}", NULL, 0, 2, "unknown placeholder {Key}", "offsets are bytes; names are case-sensitive");
    fails("{ key }", NULL, 0, 0, "unknown placeholder { key }", "no whitespace trimming");

    /* err/err_offset may be NULL */
    ok(template_compile("{bad}", NULL, 0, NULL, 0, NULL) == NULL, "NULL err and offset");
    return done_testing();
}
