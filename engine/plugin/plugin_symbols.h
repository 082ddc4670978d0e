/* plugin_symbols.h — the names a plugin file exports, read from its ELF
 * dynamic symbol table (.dynsym) with <elf.h>: the defined symbols of
 * global or weak binding and default or protected visibility. A plugin
 * exports only sluice_plugin_descriptor (`sluice plugins check`).
 *
 * Left out: the names the linker and the C runtime put in every shared
 * object (_init, _fini, _edata, _end, __bss_start) and names starting
 * with "__" (reserved to the implementation: sanitizer and compiler
 * helpers).
 *
 * Reads the file only (no loading); no shared state, so any thread may
 * call it. */
#ifndef SLUICE_PLUGIN_SYMBOLS_H
#define SLUICE_PLUGIN_SYMBOLS_H

#include <stddef.h>

#include "util/error.h"

typedef struct plugin_symbols {
    char **names; /* owned, in table order */
    size_t count;
} plugin_symbols;

/* Fills `out` (free it with plugin_symbols_free). Returns 0, or -1 with
 * err naming the file and what is wrong (not ELF, another word size, no
 * section headers, a table that runs past the end of the file). */
int plugin_symbols_read(const char *path, plugin_symbols *out, sl_error *err);
void plugin_symbols_free(plugin_symbols *s);

#endif
