/* jsonschema.h — validation of plugin options against the JSON Schema a
 * plugin declares. Supported keywords (the subset plugin schemas may use;
 * unknown keywords are an error at plugin load, never silently ignored):
 *   type (string or list), enum, const, properties, required,
 *   additionalProperties (bool or schema), items (schema), minItems,
 *   maxItems, minimum, maximum, exclusiveMinimum, exclusiveMaximum,
 *   minLength, maxLength, pattern (PCRE2), oneOf, anyOf, description,
 *   title, default, examples, $schema, $id, $comment. */
#ifndef SLUICE_JSONSCHEMA_H
#define SLUICE_JSONSCHEMA_H

#include <jansson.h>
#include <stddef.h>

typedef struct jsonschema_error {
    char *pointer; /* JSON pointer of the offending value, "" for the root */
    char *message; /* "expected integer, got string", "unknown option \"foo\"" */
} jsonschema_error;

typedef struct jsonschema_errors {
    jsonschema_error *items;
    size_t count, cap;
} jsonschema_errors;

/* Checks that `schema` only uses supported keywords and is well formed.
 * Returns 0, or -1 with a message in err. */
int jsonschema_check(const json_t *schema, char *err, size_t errlen);
/* Validates; returns the number of errors appended to `out`. */
size_t jsonschema_validate(const json_t *schema, const json_t *value, jsonschema_errors *out);
void jsonschema_errors_free(jsonschema_errors *errs);

#endif
