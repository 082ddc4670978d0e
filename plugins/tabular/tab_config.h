/* tab_config.h — the tabular plugin's per-rule configuration, built once
 * from the rule's `options:` by init() and read-only afterwards (jobs of
 * the rule share it across threads). */
#ifndef TAB_CONFIG_H
#define TAB_CONFIG_H

#include <pcre2.h>

#include <sluice/plugin.h>

#include "tab_read.h"
#include "tab_value.h"
#include "tab_write.h"

typedef enum tab_policy { TAB_BAD_FAIL, TAB_BAD_SKIP, TAB_BAD_REJECT } tab_policy;

typedef struct tab_column_cfg {
    char *name;        /* in the output */
    char *from;        /* in the input (header name or JSON path) */
    tab_coltype type;  /* type.format points at `format` */
    char *format;
} tab_column_cfg;

typedef struct tab_config {
    const sluice_host *host;
    tab_read_opts read;       /* read.want: the JSONL columns to pick */
    tab_write_opts write;
    const char *ext;          /* of the proposed output name */
    tab_column_cfg *cols;     /* NULL: every input column as a string */
    size_t ncols;
    char *where_column;       /* NULL: no row filter */
    pcre2_code *where_re;
    tab_policy policy;
    char **want;              /* JSONL: the paths read */
    size_t nwant;
} tab_config;

extern const char tab_config_schema[];

/* Builds the configuration; -1 with a message naming the option. */
int tab_config_load(const sluice_host *h, const sluice_value *opts, tab_config *c, char *err,
                    size_t errlen);
void tab_config_free(tab_config *c);

#endif
