/* aws_config_files.c — the INI reader for ~/.aws/config and
 * ~/.aws/credentials, and the profile lookups on top of it (see
 * aws_config_files.h for the rules and docs/credentials.md for users). */
#include "autoconfig.h"
#include "aws/aws_config_files.h"

#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <unistd.h>

#include "aws/aws_util.h"
#include "util/alloc.h"
#include "util/strbuf.h"

struct aws_config_files_entry {
    char *section;
    char *key; /* "parent.sub" for nested settings (services sections) */
    char *value;
};

/* ----------------------------------------------------------- locations */

static char *home_dir(void)
{
    const char *h = aws_util_env("HOME");
    if (h)
        return xstrdup(h);
    struct passwd pw, *res = NULL;
    char buf[4096];
    if (getpwuid_r(getuid(), &pw, buf, sizeof buf, &res) == 0 && res && res->pw_dir)
        return xstrdup(res->pw_dir);
    return xstrdup("/");
}

/* $VAR with a leading "~/" expanded, or ~/.aws/<name>. */
static char *file_path(const char *var, const char *name)
{
    const char *v = aws_util_env(var);
    if (v && !(v[0] == '~' && (v[1] == '/' || v[1] == '\0')))
        return xstrdup(v);
    char *home = home_dir();
    char *path = v ? xasprintf("%s%s", home, v + 1) : xasprintf("%s/.aws/%s", home, name);
    free(home);
    return path;
}

/* ---------------------------------------------------------- INI files */

static void ini_free(aws_config_files_ini *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i].section);
        free(f->v[i].key);
        aws_util_wipe_free(f->v[i].value);
    }
    free(f->v);
    free(f->path);
    memset(f, 0, sizeof *f);
}

static void ini_push(aws_config_files_ini *f, const char *section, char *key, const char *value)
{
    f->v = xrealloc(f->v, (f->n + 1) * sizeof *f->v);
    f->v[f->n].section = xstrdup(section);
    f->v[f->n].key = key;
    f->v[f->n].value = xstrdup(value);
    f->n++;
}

/* "[ profile   x ]" -> "profile x"; other headers trimmed. */
static char *section_name(char *inside)
{
    char *s = aws_util_trim(inside);
    if (strncmp(s, "profile", 7) == 0 && isspace((unsigned char)s[7])) {
        char *rest = s + 7;
        while (isspace((unsigned char)*rest))
            rest++;
        return xasprintf("profile %s", rest);
    }
    return xstrdup(s);
}

/* Messages name the file and line, never the line's text (it may hold a
 * key). Returns 0 or -1. */
static int ini_parse(aws_config_files_ini *f, char *text, sl_error *err)
{
    char *section = NULL, *parent = NULL;
    int parent_empty = 0, lineno = 0, rc = 0;
    for (char *line = text, *next; line && rc == 0; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        int indented = isspace((unsigned char)line[0]);
        char *s = aws_util_trim(line);
        if (*s == '\0' || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            char *close = strrchr(s, ']');
            if (!close) {
                sl_error_set(err, SL_ERR_CONFIG, "%s:%d: unterminated [section] header", f->path,
                             lineno);
                rc = -1;
                break;
            }
            *close = '\0';
            free(section);
            section = section_name(s + 1);
            ini_push(f, section, xstrdup(""), ""); /* so that empty sections exist */
            free(parent);
            parent = NULL;
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq || eq == s || !section) {
            sl_error_set(err, SL_ERR_CONFIG, "%s:%d: %s", f->path, lineno,
                         section ? "expected `key = value`" : "a setting before any [section]");
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = aws_util_trim(s), *value = aws_util_trim(eq + 1);
        if (indented && parent && parent_empty) { /* "s3 =\n  endpoint_url = ..." */
            ini_push(f, section, xasprintf("%s.%s", parent, key), value);
            continue;
        }
        free(parent);
        parent = xstrdup(key);
        parent_empty = *value == '\0';
        ini_push(f, section, xstrdup(key), value);
    }
    free(section);
    free(parent);
    return rc;
}

/* A missing file is fine (exists = 0); an unreadable or malformed one is
 * an error. Takes path over. */
static int ini_load(aws_config_files_ini *f, char *path, sl_error *err)
{
    memset(f, 0, sizeof *f);
    f->path = path;
    strbuf sb = STRBUF_INIT;
    if (aws_util_read_file(path, &sb) != 0) {
        int e = errno;
        sb_free(&sb);
        if (e == ENOENT || e == ENOTDIR)
            return 0;
        sl_error_set(err, SL_ERR_CONFIG, "cannot read %s: %s", path, strerror(e));
        return -1;
    }
    f->exists = 1;
    int rc = ini_parse(f, sb.buf, err);
    aws_util_sb_wipe_free(&sb);
    return rc;
}

static int ini_has_section(const aws_config_files_ini *f, const char *section)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->v[i].section, section) == 0)
            return 1;
    return 0;
}

/* The last setting wins, as when a section repeats. Keys match without
 * regard to case (the SDKs lower-case them); "" counts as unset. */
static const char *ini_get(const aws_config_files_ini *f, const char *section, const char *key)
{
    for (size_t i = f->n; i-- > 0;)
        if (strcmp(f->v[i].section, section) == 0 && *f->v[i].key &&
            strcasecmp(f->v[i].key, key) == 0)
            return *f->v[i].value ? f->v[i].value : NULL;
    return NULL;
}

/* ------------------------------------------------------------ profiles */

void aws_config_files_free(aws_config_files *fs)
{
    ini_free(&fs->creds);
    ini_free(&fs->config);
}

int aws_config_files_load(aws_config_files *fs, sl_error *err)
{
    memset(fs, 0, sizeof *fs);
    if (ini_load(&fs->creds, file_path("AWS_SHARED_CREDENTIALS_FILE", "credentials"), err) ||
        ini_load(&fs->config, file_path("AWS_CONFIG_FILE", "config"), err)) {
        aws_config_files_free(fs);
        return -1;
    }
    return 0;
}

int aws_config_files_load_config(aws_config_files *fs, sl_error *err)
{
    memset(fs, 0, sizeof *fs);
    return ini_load(&fs->config, file_path("AWS_CONFIG_FILE", "config"), err);
}

const char *aws_config_files_profile(const char *profile)
{
    if (profile && *profile)
        return profile;
    return aws_util_env("AWS_PROFILE") ? aws_util_env("AWS_PROFILE") : "default";
}

/* The config file's section for a profile: "[profile x]", and for the
 * default profile "[default]" too. */
static const char *config_section(const aws_config_files *fs, const char *profile, char *buf,
                                  size_t cap)
{
    snprintf(buf, cap, "profile %s", profile);
    if (strcmp(profile, "default") == 0 && !ini_has_section(&fs->config, buf))
        return "default";
    return buf;
}

const char *aws_config_files_cred_get(const aws_config_files *fs, const char *profile,
                                      const char *key)
{
    return ini_get(&fs->creds, profile, key);
}

const char *aws_config_files_conf_get(const aws_config_files *fs, const char *profile,
                                      const char *key)
{
    char buf[512];
    return ini_get(&fs->config, config_section(fs, profile, buf, sizeof buf), key);
}

const char *aws_config_files_get(const aws_config_files *fs, const char *profile,
                                 const char *key)
{
    const char *v = aws_config_files_cred_get(fs, profile, key);
    return v ? v : aws_config_files_conf_get(fs, profile, key);
}

int aws_config_files_profile_exists(const aws_config_files *fs, const char *profile)
{
    char buf[512];
    return ini_has_section(&fs->creds, profile) ||
           ini_has_section(&fs->config, config_section(fs, profile, buf, sizeof buf));
}

const char *aws_config_files_service_get(const aws_config_files *fs, const char *profile,
                                         const char *service, const char *key)
{
    const char *services = aws_config_files_conf_get(fs, profile, "services");
    if (!services)
        return NULL;
    /* [services x] with "s3 =\n  endpoint_url = ..." */
    char *section = xasprintf("services %s", services);
    char *nested = xasprintf("%s.%s", service, key);
    for (char *c = nested; *c; c++)
        *c = *c == ' ' || *c == '-' ? '_' : (char)tolower((unsigned char)*c);
    const char *found = ini_get(&fs->config, section, nested);
    free(nested);
    free(section);
    return found;
}
