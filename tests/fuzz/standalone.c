/* standalone.c — runs a fuzz harness without libFuzzer: once over every
 * file named on the command line (directories are walked one level), so
 * the seed corpora are regression tests in every build. Prints TAP. */
#include "autoconfig.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static int run_file(const char *path, int *n)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        printf("not ok %d - %s: cannot open\n", ++*n, path);
        return 1;
    }
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len, fp)) > 0) {
        len += got;
        if (len == cap) {
            unsigned char *bigger = realloc(buf, cap *= 2);
            if (!bigger)
                free(buf);
            buf = bigger;
        }
    }
    fclose(fp);
    if (!buf)
        abort();
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    printf("ok %d - %s\n", ++*n, path);
    return 0;
}

static int run_dir(const char *dir, int *n)
{
    struct dirent **names;
    int count = scandir(dir, &names, NULL, alphasort), failed = 0;
    for (int i = 0; i < count; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        if (names[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode))
            failed += run_file(path, n);
        free(names[i]);
    }
    free(names);
    return failed;
}

int main(int argc, char **argv)
{
    int n = 0, failed = 0;
    LLVMFuzzerInitialize(&argc, &argv);
    LLVMFuzzerTestOneInput((const unsigned char *)"", 0);
    printf("ok %d - the empty input\n", ++n);
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
            failed += run_dir(argv[i], &n);
        else
            failed += run_file(argv[i], &n);
    }
    printf("1..%d\n", n);
    return failed ? 1 : 0;
}
