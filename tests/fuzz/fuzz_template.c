/* fuzz_template.c — output templates and locations: compiling a template
 * with regex-capture names, expanding it with hostile values, and parsing
 * the locations they produce.
 * Input: template NUL key NUL capture-a NUL capture-b.
 * Reaches: template_compile, template_expand, location_parse. */
#include "autoconfig.h"

#include <stdlib.h>

#include "config/location.h"
#include "config/template.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *part[4];
    fuzz_split(data, size, part, 4);
    static const char *const names[] = {"a", "b"};
    char err[256];
    size_t at;
    template *t = template_compile(part[0], names, 2, err, sizeof err, &at);
    if (t) {
        const char *values[] = {part[2], part[3]};
        template_vars v = {.bucket = "bucket", .key = part[1], .date = "2026-12-06",
                           .run_date = "2026-12-06", .run_id = "run", .name = part[3],
                           .capture_names = names, .capture_values = values, .n_captures = 2};
        sl_error xerr = {0};
        char *out = template_expand(t, &v, &xerr); /* NULL: a value refused */
        if (out) {
            location loc;
            sl_error e = {0};
            if (location_parse(out, &loc, &e) == 0) {
                char *again = location_format(&loc);
                free(again);
                location_free(&loc);
            }
        }
        free(out);
        template_uses(t, "name");
        template_free(t);
    }
    location loc;
    sl_error e = {0};
    if (location_parse(part[0], &loc, &e) == 0)
        location_free(&loc);
    free(part[0]);
    return 0;
}
