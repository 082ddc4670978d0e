/* fuzz_xml.c — the XML AWS answers with (libxml2 behind aws_xml): S3
 * ListObjectsV2 pages, S3 error documents, CreateMultipartUpload answers,
 * and STS credentials/error answers.
 * Input: one status byte ('2' for a 200, else an error status) then the body.
 * Reaches: s3_xml_list, s3_xml_error, s3_xml_upload_id, aws_xml_find_text,
 * aws_creds_sts_answer. */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "aws/aws_creds_source.h"
#include "aws/aws_xml.h"
#include "fuzz.h"
#include "storage/s3_client.h"

static void sts(const uint8_t *data, size_t size)
{
    http_response resp;
    memset(&resp, 0, sizeof resp);
    resp.status = size && data[0] == '2' ? 200 : 403;
    if (size > 1)
        sb_add(&resp.body, data + 1, size - 1);
    aws_credentials out;
    memset(&out, 0, sizeof out);
    sl_error err = {0};
    if (aws_creds_sts_answer(&resp, "fuzz", "sts", &out, &err) == 0)
        aws_credentials_clear(&out);
    sb_free(&resp.body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *xml = (const char *)data;
    s3_list_page page;
    sl_error err = {0};
    if (s3_xml_list(xml, size, &page, &err) == 0)
        s3_list_page_free(&page);
    char *code = NULL, *message = NULL;
    s3_xml_error(xml, size, &code, &message);
    free(code);
    free(message);
    free(s3_xml_upload_id(xml, size));
    free(aws_xml_find_text(xml, size, "Key"));
    sts(data, size);
    return 0;
}
