/* test_jsonschema.c — the JSON Schema subset plugin schemas may use. */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/jsonschema.h"
#include "util/strbuf.h"
#include "tap.h"

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &e);
    if (!j)
        fprintf(stderr, "bad test JSON %s: %s\n", text, e.text);
    return j;
}

/* "pointer: message; pointer: message" for every error ("" when valid). */
static char *validate(const char *schema, const char *value)
{
    json_t *s = J(schema), *v = J(value);
    jsonschema_errors errs = {0};
    size_t n = jsonschema_validate(s, v, &errs);
    strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < errs.count; i++)
        sb_addf(&sb, "%s%s: %s", i ? "; " : "", errs.items[i].pointer, errs.items[i].message);
    if (n != errs.count)
        sb_adds(&sb, " [count mismatch]");
    jsonschema_errors_free(&errs);
    json_decref(s);
    json_decref(v);
    return sb_steal(&sb);
}

#define V(schema, value, want, name)                 \
    do {                                             \
        char *got_ = validate(schema, value);        \
        is_str(got_, want, "%s", name);              \
        free(got_);                                  \
    } while (0)

static char *check(const char *schema)
{
    static char err[512];
    json_t *s = J(schema);
    int rc = jsonschema_check(s, err, sizeof err);
    json_decref(s);
    return rc == 0 ? (char *)"" : err;
}

static void test_check(void)
{
    is_str(check("{\"type\":\"object\",\"additionalProperties\":false}"), "", "linecount schema");
    is_str(check("{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"$id\":\"x\","
                 "\"title\":\"t\",\"description\":\"d\",\"$comment\":\"c\",\"type\":\"object\","
                 "\"properties\":{\"a\":{\"type\":[\"string\",\"null\"],\"default\":null,"
                 "\"examples\":[\"x\"],\"minLength\":1,\"maxLength\":3,\"pattern\":\"^a\"},"
                 "\"n\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1,"
                 "\"exclusiveMinimum\":-1,\"exclusiveMaximum\":2},"
                 "\"l\":{\"type\":\"array\",\"items\":{\"enum\":[1,2]},\"minItems\":0,"
                 "\"maxItems\":2},\"c\":{\"const\":3},"
                 "\"o\":{\"oneOf\":[{\"type\":\"string\"},true]},\"any\":{\"anyOf\":[false,{}]}},"
                 "\"required\":[\"a\"],\"additionalProperties\":{\"type\":\"string\"}}"),
           "", "every supported keyword");
    is_str(check("true"), "", "boolean schema");
    is_str(check("{\"type\":\"object\",\"patternProperties\":{}}"),
           "schema at \"#\": unsupported keyword \"patternProperties\"", "unknown keyword");
    is_str(check("{\"properties\":{\"a\":{\"$ref\":\"#/x\"}}}"),
           "schema at \"/properties/a\": unsupported keyword \"$ref\"", "unknown keyword nested");
    is_str(check("{\"type\":\"text\"}"), "schema at \"#\": unknown type \"text\"", "unknown type");
    is_str(check("{\"type\":[]}"),
           "schema at \"#\": \"type\" must be a type name or a non-empty list of them",
           "empty type list");
    is_str(check("{\"type\":[\"string\",\"string\"]}"),
           "schema at \"#\": \"type\" lists \"string\" twice", "duplicate type");
    is_str(check("{\"minItems\":-1}"),
           "schema at \"#\": \"minItems\" must be a non-negative integer", "negative minItems");
    is_str(check("{\"maximum\":\"3\"}"), "schema at \"#\": \"maximum\" must be a number",
           "string maximum");
    is_str(check("{\"pattern\":\"(\"}"),
           "schema at \"#\": invalid \"pattern\": missing closing parenthesis at offset 1",
           "bad pattern");
    is_str(check("{\"required\":[1]}"), "schema at \"#\": \"required\" must be a list of names",
           "required with a number");
    is_str(check("{\"enum\":[]}"), "schema at \"#\": \"enum\" must be a non-empty list",
           "empty enum");
    is_str(check("{\"oneOf\":[]}"),
           "schema at \"#\": \"oneOf\" must be a non-empty list of schemas", "empty oneOf");
    is_str(check("{\"anyOf\":[{\"type\":1}]}"),
           "schema at \"/anyOf/0\": \"type\" must be a type name or a non-empty list of them",
           "bad alternative");
    is_str(check("{\"items\":3}"), "schema at \"/items\": a schema must be an object or a boolean",
           "items not a schema");
    is_str(check("{\"properties\":[]}"), "schema at \"#\": \"properties\" must be an object",
           "properties not an object");
    is_str(check("{\"title\":5}"), "schema at \"#\": \"title\" must be a string", "title not a string");
    is_str(check("{\"properties\":{\"a/b\":{\"x\":1}}}"),
           "schema at \"/properties/a~1b\": unsupported keyword \"x\"", "pointer escaping");

    char small[10];
    json_t *s = J("{\"bogus\":1}");
    is_int(jsonschema_check(s, small, sizeof small), -1, "error with a small buffer");
    is_int((int64_t)strlen(small), 9, "message truncated to the buffer");
    json_decref(s);
    is_int(jsonschema_check(NULL, NULL, 0), -1, "NULL schema");
}

static const char *revenue =
    "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"attribution\":{\"enum\":[\"last\",\"first\"]},"
    "\"visit_timeout\":{\"type\":\"integer\",\"exclusiveMinimum\":0},"
    "\"include_zero\":{\"type\":\"boolean\"},"
    "\"max_bad_ratio\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1},"
    "\"columns\":{\"oneOf\":[{\"type\":\"array\",\"items\":{\"type\":\"string\",\"minLength\":1},"
    "\"minItems\":1},{\"type\":\"string\",\"minLength\":1}]},"
    "\"engines\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"name\",\"hosts\","
    "\"param\"],\"additionalProperties\":false,\"properties\":{\"name\":{\"type\":\"string\"},"
    "\"hosts\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},\"param\":{\"type\":\"string\","
    "\"pattern\":\"^[a-z]+$\"}}}}}}";

static void test_validate(void)
{
    V(revenue, "{}", "", "empty options");
    V(revenue,
      "{\"attribution\":\"first\",\"visit_timeout\":1800,\"include_zero\":false,"
      "\"max_bad_ratio\":0.5,\"columns\":[\"a\",\"b\"],"
      "\"engines\":[{\"name\":\"g\",\"hosts\":[\"google.com\"],\"param\":\"q\"}]}",
      "", "all options valid");
    V(revenue, "{\"visit_timeout\":\"30\"}", "/visit_timeout: expected integer, got string",
      "integer expected");
    V(revenue, "{\"visit_timeout\":30.0}", "", "30.0 is an integer");
    V(revenue, "{\"visit_timeout\":30.5}", "/visit_timeout: expected integer, got number",
      "30.5 is not an integer");
    V(revenue, "{\"visit_timeout\":0}", "/visit_timeout: must be > 0", "exclusiveMinimum");
    V(revenue, "{\"max_bad_ratio\":-0.5}", "/max_bad_ratio: must be >= 0", "minimum");
    V(revenue, "{\"max_bad_ratio\":2}", "/max_bad_ratio: must be <= 1", "maximum (integer value)");
    V(revenue, "{\"attribution\":\"middle\"}",
      "/attribution: must be one of \"last\" or \"first\", got \"middle\"", "enum");
    V(revenue, "{\"atribution\":\"last\"}",
      "/atribution: unknown option \"atribution\" (did you mean \"attribution\"?)",
      "unknown option with a suggestion");
    V(revenue, "{\"zzz\":1}", "/zzz: unknown option \"zzz\"", "unknown option");
    V(revenue, "{\"include_zero\":\"no\"}", "/include_zero: expected boolean, got string",
      "boolean expected");
    V(revenue, "{\"columns\":5}", "/columns: expected array or string, got integer",
      "oneOf with no fitting type");
    V(revenue, "{\"columns\":[]}", "/columns: must not be empty", "oneOf: the array form fits");
    V(revenue, "{\"columns\":\"\"}", "/columns: must not be empty", "oneOf: the string form fits");
    V(revenue, "{\"columns\":[\"a\",\"\"]}", "/columns/1: must not be empty", "item error");
    V(revenue, "{\"engines\":[{\"name\":\"g\",\"hosts\":\"x\",\"param\":\"Q\",\"extra\":1}]}",
      "/engines/0/hosts: expected array, got string; "
      "/engines/0/param: \"Q\" does not match the pattern ^[a-z]+$; "
      "/engines/0/extra: unknown option \"extra\"",
      "errors inside a list of objects");
    V(revenue, "{\"engines\":[{}]}",
      "/engines/0: missing required option \"name\"; /engines/0: missing required option "
      "\"hosts\"; /engines/0: missing required option \"param\"",
      "missing required options");
    V(revenue, "[]", ": expected object, got array", "root type");

    V("{\"type\":[\"string\",\"null\"]}", "null", "", "type list accepts");
    V("{\"type\":[\"string\",\"integer\",\"null\"]}", "true",
      ": expected string, integer or null, got boolean", "type list message");
    V("{\"const\":3}", "3.0", "", "const compares numbers by value");
    V("{\"const\":{\"a\":[1]}}", "{\"a\":[2]}", ": must be {\"a\":[1]}", "const object");
    V("{\"enum\":[[1,2],{\"k\":\"v\"}]}", "{\"k\":\"v\"}", "", "enum object");
    V("{\"minLength\":2,\"maxLength\":3}", "\"\xc3\xa9\xc3\xa9\"", "",
      "lengths count characters, not bytes");
    V("{\"minLength\":2}", "\"a\"", ": must be at least 2 characters long", "minLength");
    V("{\"maxLength\":2}", "\"abc\"", ": must be at most 2 characters long", "maxLength");
    V("{\"minItems\":2,\"maxItems\":3}", "[1]", ": must have at least 2 items", "minItems");
    V("{\"maxItems\":1}", "[1,2]", ": must have at most 1 items", "maxItems");
    V("{\"exclusiveMaximum\":1}", "1", ": must be < 1", "exclusiveMaximum");
    V("{\"pattern\":\"b\"}", "\"abc\"", "", "pattern is not anchored");
    V("{\"pattern\":\"b\"}", "3", "", "pattern ignores non-strings");
    V("{\"oneOf\":[{\"type\":\"integer\"},{\"type\":\"number\"}]}", "1",
      ": matches more than one of the allowed forms", "oneOf: more than one");
    V("{\"anyOf\":[{\"type\":\"integer\"},{\"type\":\"number\"}]}", "1", "", "anyOf: several ok");
    V("{\"anyOf\":[{\"minimum\":5},{\"maximum\":1}]}", "3",
      ": does not match any of the allowed forms", "anyOf: none fits");
    V("false", "1", ": no value is allowed here", "false schema");
    V("{\"properties\":{\"a\":false}}", "{\"a\":1}", "/a: option \"a\" is not allowed",
      "property set to false");
    V("{\"additionalProperties\":{\"type\":\"integer\"}}", "{\"a\":1,\"b\":\"x\"}",
      "/b: expected integer, got string", "additionalProperties schema");
    V("{\"properties\":{\"a~b/c\":{\"type\":\"integer\"}}}", "{\"a~b/c\":\"x\"}",
      "/a~0b~1c: expected integer, got string", "pointer escaping");

    jsonschema_errors errs = {0};
    json_t *s = J("{\"type\":\"integer\"}"), *v = J("\"x\"");
    is_int((int64_t)jsonschema_validate(s, v, &errs), 1, "returns the number of errors added");
    is_int((int64_t)jsonschema_validate(s, v, &errs), 1, "appends on a second call");
    is_int((int64_t)errs.count, 2, "both kept");
    jsonschema_errors_free(&errs);
    is_int((int64_t)errs.count, 0, "freed");
    json_decref(s);
    json_decref(v);
}

int main(void)
{
    test_check();
    test_validate();
    return done_testing();
}
