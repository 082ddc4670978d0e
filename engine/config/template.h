/* template.h — output location templates such as
 *   "s3://client-outbound/{date}/{name}"
 * Placeholders: {bucket} {key} {dir} {basename} {stem} {date} {run_date}
 * {run_id} {name}, {rsid} {feed_date} {feed_hour} (delivery sets), plus the named captures of the rule's regex. "{{" and
 * "}}" are literal braces. */
#ifndef SLUICE_TEMPLATE_H
#define SLUICE_TEMPLATE_H

#include <stddef.h>

typedef struct template template;

/* Values for expansion; NULL fields expand to "". Captures are parallel
 * arrays of names and values. */
typedef struct template_vars {
    const char *bucket, *key, *date, *run_date, *run_id, *name;
    const char *rsid, *feed_date, *feed_hour; /* a delivery set's, else NULL */
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
 * basename without its last extension. */
char *template_expand(const template *t, const template_vars *vars);
/* True when the template uses {name} (the plugin's proposed file name). */
int template_uses(const template *t, const char *placeholder);
const char *template_source(const template *t);
void template_free(template *t);

#endif
