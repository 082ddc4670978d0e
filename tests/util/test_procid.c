/* test_procid.c — process tags and the verdict on a writer: alive, gone
 * (ended, a zombie, a pid reused, an earlier boot) or on another host. */
#include "autoconfig.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "util/procid.h"

static void test_tags(void)
{
    const procid *me = procid_self();
    char tag[PROCID_TAG_MAX];
    procid_format(me, tag);
    ok(me->pid == (long)getpid(), "self: our pid");
    ok(strchr(tag, '@') && !strcmp(strchr(tag, '@') + 1, me->host), "tag ends with @HOST: %s",
       tag);
    procid back;
    is_int(procid_parse(tag, &back), 0, "our tag parses");
    ok(back.pid == me->pid && back.start == me->start && !strcmp(back.boot, me->boot) &&
           !strcmp(back.host, me->host),
       "and gives our identity back");
#ifdef __linux__
    ok(me->start > 0 && strlen(me->boot) == 8, "Linux: start time and boot id known");
#endif
    is_int(procid_parse("42-0-0@h", &back), 0, "unknown start and boot");
    ok(back.pid == 42 && back.start == 0 && back.boot[0] == '\0', "  read as unknown");
    is_int(procid_parse("42-7-3f2a9c1d@etl-1.example", &back), 0, "a full tag");
    is_str(back.boot, "3f2a9c1d", "  boot id kept");
    static const char *const bad[] = {
        "", "42", "42-0-0", "42-0-0@", "0-0-0@h", "x-0-0@h", "42-0-abc@h", "42-0-0@h/x",
        "42-0-0@h@i", "-1-0-0@h", "42--0@h", "42-0-3f2a9c1d9@h",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        procid p;
        is_int(procid_parse(bad[i], &p), -1, "not a tag: \"%s\"", bad[i]);
    }
}

static procid_verdict judge(const procid *w, char *why)
{
    return procid_judge(w, why, 256);
}

static void test_judging(void)
{
    const procid *me = procid_self();
    char why[256];
    is_int(judge(me, why), PROCID_ALIVE, "this process is alive: %s", why);

    procid other = *me;
    snprintf(other.host, sizeof other.host, "%s", strcmp(me->host, "elsewhere") ? "elsewhere"
                                                                              : "elsewhere2");
    is_int(judge(&other, why), PROCID_FOREIGN, "another host cannot be judged: %s", why);

    pid_t child = fork();
    if (child == 0)
        _exit(0);
    procid dead = *me;
    dead.pid = (long)child;
    dead.start = 0;
    /* not reaped yet: a zombie is gone too */
    for (int i = 0; i < 500 && judge(&dead, why) != PROCID_GONE; i++)
        usleep(10000);
    is_int(judge(&dead, why), PROCID_GONE, "an exited child (a zombie): %s", why);
    waitpid(child, NULL, 0);
    is_int(judge(&dead, why), PROCID_GONE, "reaped: %s", why);
    ok(strstr(why, "has ended") != NULL, "  the reason says it ended");

    if (me->start) {
        procid reused = *me;
        reused.start = me->start + 1;
        is_int(judge(&reused, why), PROCID_GONE, "our pid with another start time: %s", why);
        ok(strstr(why, "started later") != NULL, "  the reason says the pid was reused");
    } else {
        tap_skip("no start times here");
    }
    if (me->boot[0]) {
        procid earlier = *me;
        snprintf(earlier.boot, sizeof earlier.boot, "%s", strcmp(me->boot, "00000000") ? "00000000"
                                                                                     : "11111111");
        is_int(judge(&earlier, why), PROCID_GONE, "an earlier boot: %s", why);
    } else {
        tap_skip("no boot id here");
    }
}

/* A host name of one's own (a Lambda log stream): only before the first
 * procid_self(), so tried in a child that has not asked yet. */
static void test_own_host(void)
{
    pid_t child = fork();
    if (child == 0) {
        const char *stream = "2026/11/20/[$LATEST]0123456789abcdef0123456789abcdef";
        const char *want = "2026_11_20___LATEST_0123456789abcdef0123456789abcdef";
        int ok = procid_use_host(stream) == 0 && !strcmp(procid_self()->host, want) &&
                 procid_use_host("later") == -1;
        _exit(ok ? 0 : 1);
    }
    int status = -1;
    waitpid(child, &status, 0);
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
       "a host of one's own before the first use, cleaned; refused after it");
}

int main(void)
{
    test_own_host();
    test_tags();
    test_judging();
    return done_testing();
}
