/* template.h — output location templates such as
 *   "s3://client-outbound/{date}/{name}"
 * Placeholders: {bucket} {key} {dir} {basename} {stem} {date} {run_date}
 * {run_id} {name}, {rsid} {feed_date} {feed_hour} (delivery sets),
 * {member} (the archive member of a `members_as: jobs` job), plus the
 * named captures of the rule's regex. "{{" and "}}" are literal braces. */
#ifndef SLUICE_TEMPLATE_H
#define SLUICE_TEMPLATE_H

#include <stddef.h>

#include "util/error.h"

typedef struct template template;

/* Values for expansion; NULL fields expand to "". Captures are parallel
 * arrays of names and values. */
typedef struct template_vars {
    const char *bucket, *key, *date, *run_date, *run_id, *name;
    const char *rsid, *feed_date, *feed_hour; /* a delivery set's, else NULL */
    const char *member; /* a member's job: its path in the archive, else NULL */
    const char *const *capture_names;
    const char *const *capture_values;
    size_t n_captures;
} template_vars;

/* Compile `src`. `capture_names` (may be NULL) are the extra names allowed.
 * On error returns NULL, writes a message to err and the 0-based byte
 * offset of the problem in *err_offset (e.g. "unknown placeholder {nmae}"). */
template *template_compile(const char *src, const char *const *capture_names,
                           size_t n_captures, char *err, size_t errlen,
                           size_t *err_offset);
/* Expand into a new string (caller frees). {dir} is the key up to its last
 * '/' (without it; "" when none), {basename} the part after, {stem} the
 * basename without its last extension.
 *
 * Every value substituted for a placeholder is checked with
 * template_check_value() first: object keys, bucket names and regex
 * captures come from whoever can put an object or send an event, and a
 * value must not steer the location out of where the template points.
 * A refused value: NULL, with err (SL_ERR_INPUT) naming the template,
 * the placeholder and the value. */
char *template_expand(const template *t, const template_vars *vars, sl_error *err);
/* A value for {placeholder} is a relative path of one or more segments
 * ("a/b/c.csv" is fine): refused when it starts with '/', has a "." or
 * ".." segment, or holds a control character (bytes 0x01-0x1f, 0x7f;
 * NUL cannot be inside a C string, and event fields with one are refused
 * when events are parsed). 0, or -1 with err set (SL_ERR_INPUT) naming
 * `placeholder` (without braces) and the value, escaped. Thread-safe. */
int template_check_value(const char *placeholder, const char *value, sl_error *err);
/* True when the template uses {name} (the plugin's proposed file name). */
int template_uses(const template *t, const char *placeholder);
const char *template_source(const template *t);
void template_free(template *t);

#endif
