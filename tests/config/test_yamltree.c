/* test_yamltree.c — YAML loading with positions, core-schema typing,
 * aliases, merge keys, errors and JSON pointers. */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "config/yamltree.h"

static ydoc *load(const char *text, char *err, size_t errlen)
{
    return ydoc_load_string("t.yaml", text, strlen(text), err, errlen);
}

/* The error a document gives ("" when it loads). */
static const char *load_error(const char *text)
{
    static char err[512];
    ydoc *d = load(text, err, sizeof err);
    if (d) {
        ydoc_free(d);
        return "";
    }
    return err;
}

/* Compact JSON of the whole document (caller frees). */
static char *to_json(const char *text)
{
    char err[512];
    ydoc *d = load(text, err, sizeof err);
    if (!d)
        return strdup(err);
    json_t *j = ynode_to_json(d->root);
    char *s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
    json_decref(j);
    ydoc_free(d);
    return s;
}

static void test_positions(void)
{
    char err[512] = "x";
    ydoc *d = load("# comment\n"
                   "a: 1\n"
                   "b:\n"
                   "  - x\n"
                   "  - 'y'\n"
                   "c: {k: \"v\"}\n",
                   err, sizeof err);
    ok(d != NULL, "simple document loads");
    if (!d)
        return;
    is_str(err, "", "no error message on success");
    is_str(d->file, "t.yaml", "document keeps its name");
    const ynode *root = d->root;
    is_int(root->type, YNODE_MAP, "root is a mapping");
    is_int(root->line, 2, "root starts at line 2");
    is_int(root->column, 1, "root starts at column 1");
    is_int((int64_t)root->count, 3, "three members");
    is_str(root->keys[1]->value, "b", "keys in document order");
    is_int(root->keys[1]->line, 3, "key b at line 3");

    const ynode *a = ynode_get(root, "a");
    is_int(a->line, 2, "a's value at line 2");
    is_int(a->column, 4, "a's value at column 4");
    is_int(a->quoted, 0, "plain scalar is not quoted");

    const ynode *b = ynode_get(root, "b");
    is_int(b->type, YNODE_SEQ, "b is a list");
    is_int(b->line, 4, "b's list starts at line 4");
    is_int(b->column, 3, "b's list starts at column 3");
    is_int(b->items[1]->line, 5, "second item at line 5");
    is_int(b->items[1]->column, 5, "second item at column 5");
    is_int(b->items[1]->quoted, 1, "single-quoted scalar is quoted");
    is_str(b->items[1]->value, "y", "quotes are not part of the value");

    const ynode *c = ynode_get(root, "c");
    is_int(c->column, 4, "flow mapping at column 4");
    is_int(ynode_get(c, "k")->column, 8, "flow value at column 8");
    ok(ynode_get(root, "nope") == NULL, "absent key gives NULL");
    ok(ynode_get(b, "x") == NULL, "ynode_get on a list gives NULL");
    ok(ynode_get(NULL, "x") == NULL, "ynode_get on NULL gives NULL");
    ydoc_free(d);
}

static void test_typing(void)
{
    char *s = to_json("n: [~, null, Null, NULL, \"\", true, False, TRUE, 12, -3, +5, 0o17, 0x1F,"
                      " 1.5, .5, 1., 1e3, -.inf, .nan, yes, \"12\", '1.5', !!str 12, 1.2.3,"
                      " 99999999999999999999, 0x, 1_000, on]\n"
                      "e:\n");
    is_str(s,
           "{\"n\":[null,null,null,null,\"\",true,false,true,12,-3,5,15,31,1.5,0.5,1.0,1000.0,"
           "\"-.inf\",\".nan\",\"yes\",\"12\",\"1.5\",\"12\",\"1.2.3\",1e20,\"0x\",\"1_000\","
           "\"on\"],\"e\":null}",
           "YAML 1.2 core schema typing");
    free(s);

    char err[512];
    ydoc *d = load("s: abc\ni: 7\nf: 2.5\nb: false\nz: ~\nq: '7'\nl: []\nm: {}\n", err, sizeof err);
    const ynode *r = d->root;
    is_str(ynode_type_name(ynode_get(r, "s")), "string", "type name string");
    is_str(ynode_type_name(ynode_get(r, "i")), "integer", "type name integer");
    is_str(ynode_type_name(ynode_get(r, "f")), "number", "type name number");
    is_str(ynode_type_name(ynode_get(r, "b")), "boolean", "type name boolean");
    is_str(ynode_type_name(ynode_get(r, "z")), "null", "type name null");
    is_str(ynode_type_name(ynode_get(r, "q")), "string", "quoted number is a string");
    is_str(ynode_type_name(ynode_get(r, "l")), "list", "type name list");
    is_str(ynode_type_name(ynode_get(r, "m")), "mapping", "type name mapping");
    is_str(ynode_type_name(NULL), "null", "type name of NULL");
    json_t *j = ynode_to_json(NULL);
    ok(json_is_null(j), "NULL node converts to null");
    json_decref(j);
    ydoc_free(d);

    s = to_json("block: |\n  line1\n  line2\nfolded: >\n  a\n  b\n");
    is_str(s, "{\"block\":\"line1\\nline2\\n\",\"folded\":\"a b\\n\"}", "block scalars");
    free(s);
}

static void test_aliases_and_merges(void)
{
    char *s = to_json("x: &a {k: v, n: [1, 2]}\ny: *a\n");
    is_str(s, "{\"x\":{\"k\":\"v\",\"n\":[1,2]},\"y\":{\"k\":\"v\",\"n\":[1,2]}}",
           "an alias copies its anchor");
    free(s);

    char err[512];
    ydoc *d = load("x: &a\n  k: v\ny: *a\n", err, sizeof err);
    const ynode *y = ynode_get(d->root, "y");
    is_int(y->line, 3, "an alias node is placed where the alias is (line)");
    is_int(y->column, 4, "an alias node is placed where the alias is (column)");
    is_int(ynode_get(y, "k")->line, 2, "its contents stay where they were written");
    ydoc_free(d);

    s = to_json("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n");
    is_str(s, "{\"base\":{\"x\":1,\"y\":2},\"d\":{\"y\":3,\"x\":1}}",
           "merge key: explicit members win");
    free(s);
    s = to_json("a: &a {x: 1}\nb: &b {x: 2, y: 2}\nd: {<<: [*a, *b]}\n");
    is_str(s, "{\"a\":{\"x\":1},\"b\":{\"x\":2,\"y\":2},\"d\":{\"x\":1,\"y\":2}}",
           "merge key list: earlier mappings win");
    free(s);
    is_str(load_error("a: &a [1]\nd: {<<: *a}\n"),
           "t.yaml:2:9: a merge key (<<) needs a mapping or a list of mappings",
           "merging a list is an error");
    s = to_json("d: {'<<': 1}\n");
    is_str(s, "{\"d\":{\"<<\":1}}", "a quoted << is an ordinary key");
    free(s);

    is_str(load_error("y: *b\n"),
           "t.yaml:1:4: alias *b refers to an undefined anchor (or to a node containing it)",
           "undefined alias");
    is_str(load_error("a: &x [*x]\n"),
           "t.yaml:1:8: alias *x refers to an undefined anchor (or to a node containing it)",
           "recursive alias");
    is_str(load_error("a: &a [1,1,1,1,1,1,1,1,1,1]\n"
                      "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                      "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                      "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                      "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
                      "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
                      "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"),
           "t.yaml:5:29: document too large (more than 100000 nodes after expanding aliases)",
           "alias bomb is stopped");
}

static void test_errors(void)
{
    is_str(load_error("a: [1, 2\n"),
           "t.yaml:2:1: did not find expected ',' or ']' (while parsing a flow sequence at "
           "line 1, column 4)",
           "unclosed flow sequence");
    is_str(load_error("a: b: c\n"), "t.yaml:1:5: mapping values are not allowed in this context",
           "mapping value in a plain scalar");
    is_str(load_error("a:\n\tb: 1\n"),
           "t.yaml:2:1: found character that cannot start any token (while scanning for the "
           "next token at line 2, column 1)",
           "tab indentation");
    is_str(load_error("a: 1\nb: 2\na: 3\n"), "t.yaml:3:1: duplicate key \"a\" (first defined at line 1)",
           "duplicate key");
    is_str(load_error("m:\n  k: 1\n  k: 2\n"),
           "t.yaml:3:3: duplicate key \"k\" (first defined at line 2)", "nested duplicate key");
    is_str(load_error("a: 1\n---\nb: 2\n"),
           "t.yaml:2:1: only one YAML document is allowed (found a second one)",
           "second document");
    is_str(load_error("k: !!int 5\n"),
           "t.yaml:1:4: unsupported YAML tag \"!!int\" (only !!str is supported)",
           "unsupported standard tag");
    is_str(load_error("k: !foo 5\n"),
           "t.yaml:1:4: unsupported YAML tag \"!foo\" (only !!str is supported)",
           "unsupported local tag");
    is_str(load_error("? [a]\n: 1\n"), "t.yaml:1:3: mapping keys must be scalars",
           "non-scalar key");
    is_str(load_error("a: \"x\xff\"\n"), "t.yaml:1:6: invalid leading UTF-8 octet (byte 0xFF)",
           "invalid UTF-8");
    is_str(load_error("a: \"x\\0y\"\n"), "t.yaml:1:4: NUL characters are not allowed in strings",
           "NUL in a string");

    char err[512];
    ok(ydoc_load_file("/nonexistent/sluice.yaml", err, sizeof err) == NULL,
       "missing file gives NULL");
    is_str(err, "/nonexistent/sluice.yaml: No such file or directory", "missing file message");

    /* Small buffers are never overrun. */
    char small[8];
    ok(ydoc_load_string("t.yaml", "a: [", 4, small, sizeof small) == NULL, "error with a small buffer");
    is_int((int64_t)strlen(small), 7, "message truncated to the buffer");
}

static void test_empty(void)
{
    const char *empties[] = {"", "# only a comment\n", "---\n", "--- # c\n...\n"};
    for (size_t i = 0; i < sizeof empties / sizeof *empties; i++) {
        char err[512];
        ydoc *d = load(empties[i], err, sizeof err);
        ok(d != NULL && d->root == NULL, "empty document %zu has no root", i);
        ydoc_free(d);
    }
    char err[512];
    ydoc *d = load("''\n", err, sizeof err);
    ok(d && d->root && d->root->type == YNODE_SCALAR, "a quoted empty string is a document");
    ydoc_free(d);
}

static void test_pointer(void)
{
    char err[512];
    ydoc *d = load("a:\n  b: [x, {c: 1}]\n  'd/e': 2\n  'f~g': 3\n", err, sizeof err);
    const ynode *root = d->root;
    const ynode *b = ynode_get(ynode_get(root, "a"), "b");
    ok(ynode_at_pointer(root, "") == root, "empty pointer is the root");
    ok(ynode_at_pointer(root, NULL) == root, "NULL pointer is the root");
    ok(ynode_at_pointer(root, "/a/b") == b, "/a/b");
    ok(ynode_at_pointer(root, "/a/b/0") == b->items[0], "/a/b/0");
    is_str(ynode_at_pointer(root, "/a/b/1/c")->value, "1", "/a/b/1/c");
    ok(ynode_at_pointer(root, "/a/b/2") == b, "index out of range gives the list");
    ok(ynode_at_pointer(root, "/a/b/01") == b, "leading zero is not an index");
    ok(ynode_at_pointer(root, "/a/b/-") == b, "'-' is not an index");
    ok(ynode_at_pointer(root, "/a/zz/q") == ynode_get(root, "a"), "missing member gives parent");
    is_str(ynode_at_pointer(root, "/a/d~1e")->value, "2", "~1 decodes to /");
    is_str(ynode_at_pointer(root, "/a/f~0g")->value, "3", "~0 decodes to ~");
    ok(ynode_at_pointer(root, "/a/b/0/x") == b->items[0], "below a scalar gives the scalar");
    ok(ynode_at_pointer(NULL, "/a") == NULL, "NULL root gives NULL");
    ydoc_free(d);
}

static void test_file(void)
{
    char path[] = "/tmp/sluice-yamltree-XXXXXX";
    int fd = mkstemp(path);
    ok(fd >= 0, "temporary file");
    if (fd < 0)
        return;
    FILE *fp = fdopen(fd, "w");
    fputs("k: v\nlist:\n  - 1\n", fp);
    fclose(fp);
    char err[512];
    ydoc *d = ydoc_load_file(path, err, sizeof err);
    ok(d != NULL, "file loads");
    if (d) {
        is_str(d->file, path, "document named after the file");
        is_int(ynode_get(d->root, "list")->items[0]->line, 3, "positions from a file");
    }
    ydoc_free(d);
    remove(path);
}

int main(void)
{
    test_positions();
    test_typing();
    test_aliases_and_merges();
    test_errors();
    test_empty();
    test_pointer();
    test_file();
    return done_testing();
}
