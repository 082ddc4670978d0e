/* jsonutil.h — small jansson helpers shared by the engine. */
#ifndef SLUICE_JSONUTIL_H
#define SLUICE_JSONUTIL_H

#include <jansson.h>

/* A JSON string for any C string: jansson refuses invalid UTF-8, and
 * object keys or messages may hold raw bytes, so such bytes are written as
 * \xNN instead of losing the value. New reference. */
json_t *jsonutil_text(const char *s);

#endif
