/* lambda.h — `sluice lambda`: the AWS Lambda custom-runtime loop.
 *
 * Init (once per sandbox): the intake context. A failure is reported on
 * the init-error path (errorType Sluice.ConfigError, Sluice.PluginError or
 * Sluice.StorageError) and the loop ends; Lambda then reports the function
 * as failed to initialise. Then, for ever: next invocation -> its event ->
 * the intake path -> a JSON summary as the response, or an invocation
 * error when the event is not one sluice understands (Sluice.InvalidEvent)
 * or a job failed (Sluice.JobFailed). See docs/lambda.md.
 *
 * Stopping (util/signals.h, started here): at once while waiting for an
 * invocation, else after the current invocation's result is posted. */
#ifndef SLUICE_LAMBDA_H
#define SLUICE_LAMBDA_H

typedef struct lambda_options {
    const char *config_path;
    const char *runtime_api; /* host:port of the Runtime API ($AWS_LAMBDA_RUNTIME_API) */
    int workers;             /* jobs of one invocation at once */
} lambda_options;

/* Runs the loop. Returns SL_EXIT_OK after a stop signal, SL_EXIT_USAGE
 * when init failed, SL_EXIT_JOB_FAILED when the Runtime API failed. */
int lambda_run(const lambda_options *o);

#endif
