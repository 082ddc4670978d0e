/* job_decode.h — what a rule says about compressed inputs and outputs, in
 * the shapes storage/decode.h and storage/encode.h take (docs/compression.md).
 *
 * Everything here reads the rule only: any thread may call it. */
#ifndef SLUICE_JOB_DECODE_H
#define SLUICE_JOB_DECODE_H

#include "config/config.h"
#include "storage/decode.h"
#include "storage/encode.h"

/* The rule's decompress, members and limits; `name` names the object in
 * messages. `o` borrows from the rule and `name`. */
void job_decode_options(const rule *r, const char *name, decode_options *o);
/* Does the rule read an archive's members as jobs of their own
 * (`members_as: jobs`)? */
int job_decode_member_jobs(const rule *r);
/* The rule's output compression (ENCODE_NONE without one). */
encode_codec job_decode_output_codec(const rule *r);
/* `name` without a compression or archive suffix (.gz .zst .bz2 .zip .tar
 * .tgz and .tar.*): the default output name of a decoded input. The
 * caller frees it. */
char *job_decode_plain_name(const char *name);
/* A Content-Type for an output name by its extension: .tsv/.tab, .csv,
 * .json, .jsonl/.ndjson, .txt; else application/octet-stream. */
const char *job_decode_content_type(const char *name);

#endif
