/* exitcode.h — the exit statuses of the sluice command, in one place.
 * Documented to operators in `sluice --help` and the README. */
#ifndef SLUICE_EXITCODE_H
#define SLUICE_EXITCODE_H

#define SL_EXIT_OK 0           /* every job succeeded or was skipped on purpose */
#define SL_EXIT_JOB_FAILED 1   /* a job failed (or a long-running mode failed) */
#define SL_EXIT_USAGE 2        /* usage, configuration or event error */
#define SL_EXIT_NOT_REPORTED 3 /* the jobs succeeded, but a notification or run
                                  record could not be delivered */

#endif
