/* fuzz.h — what every harness in tests/fuzz/ shares.
 *
 * Each harness defines LLVMFuzzerTestOneInput() for one parser that takes
 * outside input. Built with ./configure --enable-fuzzing (clang), it links
 * with libFuzzer; otherwise with standalone.c, which runs it once over each
 * seed file, so `make check` replays the seed corpora under whatever
 * sanitizers the build has. Harnesses must not leak, keep state between
 * calls or touch the network beyond 127.0.0.1. */
#ifndef SLUICE_FUZZ_H
#define SLUICE_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A NUL-terminated copy of the input (caller frees). */
char *fuzz_cstring(const uint8_t *data, size_t size);

/* Splits the input at the first `n - 1` NUL bytes into `n` NUL-terminated
 * strings (missing parts are ""). One allocation: free parts[0]. */
void fuzz_split(const uint8_t *data, size_t size, char **parts, size_t n);

#endif
