/* sqs.h — the SQS operations `sluice poll` needs, over the JSON protocol:
 * ReceiveMessage, DeleteMessage, ChangeMessageVisibility and its batch
 * form. Each call blocks its thread; concurrent calls need their own
 * http_client. */
#ifndef SLUICE_SQS_H
#define SLUICE_SQS_H

#include <stddef.h>

#include "aws/aws_json.h"

typedef struct sqs_queue {
    char *url;       /* the queue URL */
    char *endpoint;  /* scheme://host[:port] of the queue URL */
    char *region;
    aws_endpoint ep;
} sqs_queue;

typedef struct sqs_message {
    char *id;
    char *receipt;   /* ReceiptHandle */
    char *body;
    int receive_count; /* ApproximateReceiveCount, 0 when absent */
} sqs_message;

/* Region: `region` if given, else AWS_REGION / AWS_DEFAULT_REGION / the
 * profile, else the one in an AWS queue host, else us-east-1. */
int sqs_queue_init(sqs_queue *q, const char *queue_url, const char *region, sl_error *err);
void sqs_queue_free(sqs_queue *q);

/* Long-polls. Returns 0 with *n messages (maybe 0), or -1 with err; sets
 * *retryable for failures worth retrying after a pause. */
int sqs_receive(http_client *c, aws_credentials_provider *cr, const sqs_queue *q, int max,
                int wait_s, int visibility_s, int (*should_abort)(void *), void *ud,
                sqs_message **msgs, size_t *n, int *retryable, sl_error *err);
int sqs_delete(http_client *c, aws_credentials_provider *cr, const sqs_queue *q,
               const char *receipt, sl_error *err);
/* The most receipts one ChangeMessageVisibilityBatch call takes. */
#define SQS_BATCH_MAX 10
/* Sets the visibility of n (1..SQS_BATCH_MAX) receipts in one call.
 * changed[i] is 1 when entry i was changed, 0 when not (worth trying
 * again), -1 when SQS refused it for good (a sender fault: the receipt is
 * no longer valid, the message deleted or received again). Returns the
 * number of entries not changed (0: all were), err naming the first
 * failure; or -1 with err when the call itself failed (changed[] all 0). */
int sqs_change_visibility_batch(http_client *c, aws_credentials_provider *cr,
                                const sqs_queue *q, char *const *receipts, size_t n,
                                int seconds, int *changed, sl_error *err);
void sqs_messages_free(sqs_message *msgs, size_t n);
/* The messages of a ReceiveMessage answer's JSON: entries without a
 * receipt handle or body are left out. Returns 0; *msgs is NULL when *n
 * is 0 (free with sqs_messages_free). For sqs_receive and the fuzzer. */
int sqs_parse_messages(json_t *body, sqs_message **msgs, size_t *n);

#endif
