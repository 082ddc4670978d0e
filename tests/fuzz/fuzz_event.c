/* fuzz_event.c — event intake's parser (engine/core/event.c): every
 * accepted shape (S3 notification, EventBridge, SNS and SQS envelopes, the
 * Lambda SQS batch) and the ISO time reader.
 * Reaches: event_parse, event_parse_time. */
#include "autoconfig.h"

#include <stdlib.h>
#include <time.h>

#include "core/event.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    event_batch batch;
    sl_error err = {0};
    if (event_parse((const char *)data, size, &batch, &err) == 0)
        event_batch_free(&batch);
    if (size < 64) {
        char *s = fuzz_cstring(data, size);
        time_t t;
        event_parse_time(s, &t);
        free(s);
    }
    return 0;
}
