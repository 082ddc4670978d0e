/* job_members.c — `members_as: jobs`: each chosen member of an archive runs
 * as a job of its own, with its own run id, plugin run, output, record and
 * notification, so that one bad member fails only its own job (job.h,
 * job_internal.h).
 *
 * One pass over the archive. libarchive reads an archive sequentially and
 * a member is readable only until the next header is read, so members run
 * one after another on the job's thread: each is streamed into its job
 * (decompressed ahead on a thread of its own, storage/decode.h), never
 * held whole in memory. Running members at once would mean buffering them
 * (or reading the archive once per member); a rule that needs that speed
 * splits its archive upstream. */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "core/job_decode.h"
#include "core/job_internal.h"
#include "storage/decode.h"
#include "util/alloc.h"
#include "util/clock.h"

/* A new part of the archive's result (valid until the next call). */
static job_result *new_part(job_result *archive)
{
    archive->parts = xrealloc(archive->parts, (archive->n_parts + 1) * sizeof *archive->parts);
    return &archive->parts[archive->n_parts++];
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

/* A part's job: its own run id; the archive's rule, plugin, regex
 * captures and etag; `member` (NULL: the archive's own failure). */
static void start_part(sluice_job *job, const sluice_job *archive, const char *member)
{
    const job_result *ar = archive->res;
    job_result *res = new_part(archive->res);
    job_start(job, archive->spec, res);
    job->rule = archive->rule;
    job->plugin = archive->plugin;
    job->match = archive->match; /* borrowed: cleared in end_part */
    res->rule = dup_or_null(ar->rule);
    res->plugin = dup_or_null(ar->plugin);
    res->plugin_version = dup_or_null(ar->plugin_version);
    free(res->etag);
    res->etag = dup_or_null(ar->etag);
    job->log.rule = res->rule;
    if (member) {
        job->member = xstrdup(member);
        res->member = xstrdup(member);
        job->log.member = res->member;
    }
}

static void end_part(sluice_job *job)
{
    const job_spec *spec = job->spec;
    job->match = (route_match){0}; /* the archive's, freed with it */
    job_finish(job);
    if (spec->part_done)
        spec->part_done(spec->part_ctx, job->res);
}

/* One member's job: `reader` (taken) is its content; a refused member
 * (`refused` says why) fails without running the plugin. */
static void run_member(const sluice_job *archive, const char *path, storage_reader *reader,
                       const sl_error *refused)
{
    sluice_job job;
    start_part(&job, archive, path);
    job.reader = reader;
    job.decoded = 1;
    if (refused)
        sl_error_set(&job.error, refused->kind, "%s", refused->msg);
    else
        job_process(&job);
    end_part(&job);
}

/* The archive cannot go on after `last` (the last member handed out, NULL
 * before any): before any part ran this is the archive job's own failure,
 * after, a FAILED part of its own, so that it is recorded and notified. */
static void archive_broke(sluice_job *archive, const char *last, const sl_error *why)
{
    if (!archive->res->n_parts) {
        sl_error_set(&archive->error, why->kind, "%s", why->msg);
        return;
    }
    sluice_job job;
    start_part(&job, archive, NULL);
    sl_error_set(&job.error, why->kind, "%s; the archive ends there: members after \"%s\" "
                 "were not processed", why->msg, last ? last : "?");
    end_part(&job);
}

/* A Lambda invocation's deadline ends the archive between members: the
 * members left get one failure between them, not one each. */
static int past_deadline(const sluice_job *archive, sl_error *why)
{
    long long deadline = archive->spec->deadline_ms;
    if (!deadline || clock_now_ms() < deadline)
        return 0;
    sl_error_set(why, SL_ERR_TIMEOUT, "cut off: the invocation's deadline came");
    return 1;
}

/* Every chosen member in archive order (only spec->member when set). */
static void run_each(sluice_job *job, decode_archive *a)
{
    char *last = NULL;
    for (;;) {
        sl_error why = {0};
        const char *path;
        storage_reader *member;
        int rc = past_deadline(job, &why) ? -1
                                          : decode_archive_next_isolated(a, &path, &member, &why);
        if (rc == 0)
            break;
        if (rc < 0) {
            archive_broke(job, last, &why);
            break;
        }
        if (job->spec->member && strcmp(path, job->spec->member) != 0) {
            storage_reader_close(member); /* passed over unread */
            continue;
        }
        free(last);
        last = xstrdup(path);
        run_member(job, path, member, rc == DECODE_MEMBER_REFUSED ? &why : NULL);
    }
    free(last);
}

/* --output names one location for every member's job unless it is a
 * directory or uses {member}: the members would overwrite each other. */
static int refuse_override(sluice_job *job)
{
    const job_spec *spec = job->spec;
    if (!spec->output_override || job_override_is_directory(spec))
        return 0;
    char msg[256] = "";
    size_t off = 0;
    template *t = template_compile(spec->output_override,
                                   (const char *const *)job->rule->capture_names,
                                   job->rule->n_captures, msg, sizeof msg, &off);
    int uses = t && template_uses(t, "member");
    template_free(t);
    if (!t)
        sl_error_set(&job->error, SL_ERR_CONFIG, "--output %s: %s", spec->output_override, msg);
    else if (!uses)
        sl_error_set(&job->error, SL_ERR_CONFIG,
                     "--output %s: rule \"%s\" runs each archive member as its own job "
                     "(members_as: jobs), so the output must use {member} or be a directory",
                     spec->output_override, job->rule->name);
    return !t || !uses;
}

void job_members_run(sluice_job *job)
{
    if (refuse_override(job))
        return;
    storage_reader *raw = NULL;
    if (job_open_raw(job, &raw) != 0)
        return;
    decode_options o;
    job_decode_options(job->rule, job->res->input, &o);
    decode_archive *a = NULL;
    if (decode_archive_open(raw, &o, &a, &job->error) != 0)
        return;
    job_adopt_storage_etag(job);
    run_each(job, a);
    if (!job->res->n_parts && job->error.kind == SL_ERR_NONE) {
        if (job->spec->member)
            sl_error_set(&job->error, SL_ERR_INPUT, "%s: the archive has no member \"%s\"",
                         job->res->input, job->spec->member);
        else
            decode_archive_none_chosen(a, &job->error);
    }
    decode_archive_close(a);
}
