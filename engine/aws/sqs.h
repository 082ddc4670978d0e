/* sqs.h — the SQS operations `sluice poll` needs, over the JSON protocol:
 * ReceiveMessage, DeleteMessage, ChangeMessageVisibility. */
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
int sqs_change_visibility(http_client *c, aws_credentials_provider *cr, const sqs_queue *q,
                          const char *receipt, int seconds, sl_error *err);
void sqs_messages_free(sqs_message *msgs, size_t n);
/* The messages of a ReceiveMessage answer's JSON: entries without a
 * receipt handle or body are left out. Returns 0; *msgs is NULL when *n
 * is 0 (free with sqs_messages_free). For sqs_receive and the fuzzer. */
int sqs_parse_messages(json_t *body, sqs_message **msgs, size_t *n);

#endif
