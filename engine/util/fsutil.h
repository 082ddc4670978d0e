/* fsutil.h — file-system helpers shared by the engine. */
#ifndef SLUICE_FSUTIL_H
#define SLUICE_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* mkdir -p: creates `dir` and its missing parents with `mode`. A component
 * that already exists as a directory is fine even when mkdir answers
 * EROFS/EACCES for it. Returns 0, or an errno value with the component
 * that failed copied into failed (failedlen bytes; may be NULL). */
int fsutil_mkdirs(const char *dir, mode_t mode, char *failed, size_t failedlen);

/* Where an installed file or directory is for this process. `path` was
 * compiled in below `prefix` ($(prefix)): it is returned when it exists;
 * otherwise, when the running binary sits in a bin/ directory, the same
 * place below that directory's parent is returned if it exists, so that a
 * staged or moved install (make install DESTDIR=...) finds its own files.
 * Else `path` itself. Caller frees. */
char *fsutil_installed(const char *path, const char *prefix);

/* 1 when an executable `name` is in one of $PATH's directories. */
int fsutil_in_path(const char *name);

#endif
