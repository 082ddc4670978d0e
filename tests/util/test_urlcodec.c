/* test_urlcodec.c — form-URL decoding of S3 event keys. */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "util/urlcodec.h"

static void check(const char *in, const char *want, size_t want_len, const char *name)
{
    size_t len = 12345;
    char *got = urlcodec_form_decode(in, strlen(in), &len);
    is_mem(got, len, want, want_len, "%s: \"%s\"", name, in);
    ok(got[len] == '\0', "%s: NUL-terminated", name);
    free(got);
}

#define CHECK(in, want, name) check(in, want, sizeof(want) - 1, name)

int main(void)
{
    CHECK("", "", "empty");
    CHECK("plain/key.tsv", "plain/key.tsv", "nothing to decode");
    CHECK("a+b", "a b", "plus is a space");
    CHECK("a%2Bb", "a+b", "%2B is a plus, not a space");
    CHECK("a%2bb", "a+b", "lower-case hex");
    CHECK("hit+data/2009+09/a%2Bb+caf%C3%A9.tsv", "hit data/2009 09/a+b café.tsv",
          "real S3 fixture key");
    CHECK("hit+data%2F2009+09%2Fcaf%E2%82%AC+a%2Bb.tsv", "hit data/2009 09/caf€ a+b.tsv",
          "moto fixture key (%2F)");
    CHECK("100%", "100%", "trailing % kept");
    CHECK("a%2", "a%2", "truncated escape kept");
    CHECK("%zz", "%zz", "non-hex escape kept");
    CHECK("%%41", "%A", "a % before a valid escape");
    CHECK("%2", "%2", "short escape at the end");
    CHECK("%20%20", "  ", "two escapes");
    CHECK("++", "  ", "two plus signs");
    CHECK("%2520", "%20", "decoded once only");
    CHECK("%FF%fe", "\xff\xfe", "high bytes");

    /* An embedded NUL: the length tells, the caller decides. */
    size_t len = 0;
    char *nul = urlcodec_form_decode("a%00b", 5, &len);
    is_mem(nul, len, "a\0b", 3, "%%00 decodes to a NUL byte");
    is_int((int64_t)strlen(nul), 1, "strlen stops at the NUL");
    free(nul);

    /* Only `len` bytes are read. */
    char *part = urlcodec_form_decode("ab%41cd", 4, &len);
    is_mem(part, len, "ab%4", 4, "input length respected (escape cut off)");
    free(part);

    char *noout = urlcodec_form_decode("x+y", 3, NULL);
    is_str(noout, "x y", "outlen may be NULL");
    free(noout);
    return done_testing();
}
