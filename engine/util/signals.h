/* signals.h — the engine's one way to stop on a signal.
 *
 * signals_start() blocks SIGTERM, SIGINT and SIGHUP in the calling thread
 * (so in every thread created after it: call it first, before any pool or
 * server exists), ignores SIGPIPE and SIGXFSZ, and starts one thread that takes those
 * signals with sigwait(). Nothing runs in a signal handler. What a
 * long-running mode sees:
 *   - signals_stopping(): 1 once SIGTERM or SIGINT came;
 *   - signals_wait(): sleep until a stop, or a timeout;
 *   - signals_fd(): a descriptor that turns readable at every signal, for
 *     loops built on poll(2) (read it empty with signals_fd_drain());
 *   - signals_hangups(): how many SIGHUPs came (a "rescan" request);
 *   - an optional hook, run on the signal thread at each signal.
 *
 * Signals are process-wide, so this state is too: one per process.
 * Thread-safe. */
#ifndef SLUICE_SIGNALS_H
#define SLUICE_SIGNALS_H

/* Ignores SIGPIPE and SIGXFSZ for the whole process: a write to a closed
 * socket or past RLIMIT_FSIZE then fails with EPIPE or EFBIG, which fails
 * that job (and names the file), instead of killing the engine with every
 * other job in it. main() calls it first; signals_start() too. */
void signals_ignore_write_faults(void);

/* Called on the signal thread for each signal taken. */
typedef void (*signals_hook)(int sig, void *ud);

/* Returns 0, or -1 when the thread or the descriptor could not be made
 * (errno set). Idempotent: a second call only replaces the hook. */
int signals_start(signals_hook hook, void *ud);
/* 1 once SIGTERM or SIGINT arrived (or signals_request_stop was called). */
int signals_stopping(void);
/* Acts as if SIGTERM had arrived (tests, fatal errors in one thread that
 * must stop the others). */
void signals_request_stop(void);
/* Sleeps until a stop or for timeout_ms (< 0: no timeout). Returns 1 when
 * stopping. */
int signals_wait(long timeout_ms);
/* The descriptor (eventfd) that is readable after any signal, -1 before
 * signals_start(). */
int signals_fd(void);
void signals_fd_drain(void);
/* SIGHUPs taken so far. */
unsigned signals_hangups(void);
/* The name of the last stop signal, "SIGTERM" or "SIGINT" (or "stop"). */
const char *signals_stop_name(void);

#endif
