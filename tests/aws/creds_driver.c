/* creds_driver.c — runs the credential chain for creds_servers.sh.
 *
 *   creds_driver [-n GETS] [-i] [-p PROFILE] [-t TIMEOUT_MS]
 *
 * For each get prints "source=S key=AKID token=yes|no expires_in=N|never
 * secret_len=L" — never the secret or the token themselves; on failure
 * "error: MESSAGE" on stderr and exit status 1. -i invalidates before
 * every get but the first. Finally prints "elapsed_ms=N". */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aws/aws_credentials.h"

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
    int gets = 1, invalidate = 0, opt;
    aws_credentials_options o = {0};
    while ((opt = getopt(argc, argv, "n:ip:t:")) != -1) {
        switch (opt) {
        case 'n': gets = atoi(optarg); break;
        case 'i': invalidate = 1; break;
        case 'p': o.profile = optarg; break;
        case 't': o.timeout_ms = atol(optarg); break;
        default:
            fprintf(stderr, "usage: creds_driver [-n GETS] [-i] [-p PROFILE] [-t TIMEOUT_MS]\n");
            return 2;
        }
    }
    aws_credentials_provider *p = aws_credentials_provider_new(&o);
    long long start = now_ms();
    int status = 0;
    for (int i = 0; i < gets && status == 0; i++) {
        if (invalidate && i > 0)
            aws_credentials_invalidate(p);
        aws_credentials c;
        sl_error err = {0};
        if (aws_credentials_get(p, &c, &err) != 0) {
            fprintf(stderr, "error: %s\n", err.msg);
            status = 1;
            continue;
        }
        printf("source=%s key=%s token=%s expires_in=", c.source, c.access_key_id,
               c.session_token ? "yes" : "no");
        if (c.expiration)
            printf("%lld", c.expiration - (long long)time(NULL));
        else
            printf("never");
        printf(" secret_len=%zu\n", strlen(c.secret_access_key));
        aws_credentials_clear(&c);
    }
    printf("elapsed_ms=%lld\n", now_ms() - start);
    aws_credentials_provider_free(p);
    return status;
}
