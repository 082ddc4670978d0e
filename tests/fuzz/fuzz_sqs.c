/* fuzz_sqs.c — the JSON of SQS ReceiveMessage answers (jansson), then each
 * message body through event intake, as the poller does.
 * Reaches: sqs_parse_messages, event_parse. */
#include "autoconfig.h"

#include <jansson.h>
#include <string.h>

#include "aws/sqs.h"
#include "core/event.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = json_loadb((const char *)data, size, 0, NULL);
    if (!doc)
        return 0;
    sqs_message *msgs;
    size_t n;
    if (sqs_parse_messages(doc, &msgs, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            event_batch batch;
            sl_error err = {0};
            if (event_parse(msgs[i].body, strlen(msgs[i].body), &batch, &err) == 0)
                event_batch_free(&batch);
        }
        sqs_messages_free(msgs, n);
    }
    json_decref(doc);
    return 0;
}
