/* fuzz_config.c — the YAML configuration: the YAML tree (libyaml, anchors
 * and aliases resolved), the schema check and the typed config with its
 * rules, templates and regexes.
 * Reaches: ydoc_load_string, config_load. */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "config/yamltree.h"
#include "fuzz.h"
#include "util/diag.h"

static char config_path[256];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char dir[] = "/tmp/sluice-fuzz-config.XXXXXX";
    if (!mkdtemp(dir))
        abort();
    snprintf(config_path, sizeof config_path, "%s/sluice.yaml", dir);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    ydoc *doc = ydoc_load_string("fuzz.yaml", (const char *)data, size, err, sizeof err);
    ydoc_free(doc);

    FILE *fp = fopen(config_path, "wb");
    if (!fp)
        abort();
    fwrite(data, 1, size, fp);
    fclose(fp);
    diag_list diags;
    memset(&diags, 0, sizeof diags);
    config *cfg = config_load(config_path, &diags);
    config_free(cfg);
    diag_free(&diags);
    return 0;
}
