/* plugin_symbols.c — exported names of an ELF shared object
 * (plugin_symbols.h). Every offset read from the file is bounds-checked
 * against its size before use. */
#include "autoconfig.h"
#include "plugin/plugin_symbols.h"

#include <elf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/strbuf.h"

/* The host's word size: a plugin of another one cannot be loaded anyway. */
#if UINTPTR_MAX > 0xffffffffu
#define ELF_CLASS ELFCLASS64
typedef Elf64_Ehdr elf_ehdr;
typedef Elf64_Shdr elf_shdr;
typedef Elf64_Sym elf_sym;
#define SYM_BIND ELF64_ST_BIND
#define SYM_TYPE ELF64_ST_TYPE
#define SYM_VIS ELF64_ST_VISIBILITY
#else
#define ELF_CLASS ELFCLASS32
typedef Elf32_Ehdr elf_ehdr;
typedef Elf32_Shdr elf_shdr;
typedef Elf32_Sym elf_sym;
#define SYM_BIND ELF32_ST_BIND
#define SYM_TYPE ELF32_ST_TYPE
#define SYM_VIS ELF32_ST_VISIBILITY
#endif

static int within(size_t size, uint64_t off, uint64_t len)
{
    return off <= size && len <= size - off;
}

static int runtime_name(const char *n)
{
    static const char *const names[] = {"_init", "_fini", "_edata", "_end", NULL};
    if (strncmp(n, "__", 2) == 0)
        return 1;
    for (size_t i = 0; names[i]; i++)
        if (strcmp(n, names[i]) == 0)
            return 1;
    return 0;
}

static int exported(const elf_sym *s)
{
    int bind = SYM_BIND(s->st_info), type = SYM_TYPE(s->st_info), vis = SYM_VIS(s->st_other);
    return s->st_shndx != SHN_UNDEF && (bind == STB_GLOBAL || bind == STB_WEAK ||
                                        bind == STB_GNU_UNIQUE) &&
           (vis == STV_DEFAULT || vis == STV_PROTECTED) && type != STT_SECTION &&
           type != STT_FILE;
}

static void add_name(plugin_symbols *out, const char *name)
{
    out->names = xrealloc(out->names, (out->count + 1) * sizeof *out->names);
    out->names[out->count++] = xstrdup(name);
}

/* Walks one symbol table whose names are in section `strx`. */
static int read_table(const char *path, const char *img, size_t size, const elf_shdr *tab,
                      const elf_shdr *str, plugin_symbols *out, sl_error *err)
{
    if (tab->sh_entsize != sizeof(elf_sym) || !within(size, tab->sh_offset, tab->sh_size) ||
        !within(size, str->sh_offset, str->sh_size) || str->sh_size == 0 ||
        img[str->sh_offset + str->sh_size - 1] != '\0') {
        sl_error_set(err, SL_ERR_INPUT, "%s: the dynamic symbol table is damaged", path);
        return -1;
    }
    const char *names = img + str->sh_offset;
    for (uint64_t off = 0; off + sizeof(elf_sym) <= tab->sh_size; off += sizeof(elf_sym)) {
        elf_sym s;
        memcpy(&s, img + tab->sh_offset + off, sizeof s);
        if (!exported(&s) || s.st_name >= str->sh_size)
            continue;
        const char *n = names + s.st_name;
        if (*n && !runtime_name(n))
            add_name(out, n);
    }
    return 0;
}

static int read_image(const char *path, const char *img, size_t size, plugin_symbols *out,
                      sl_error *err)
{
    elf_ehdr eh;
    if (size < sizeof eh || memcmp(img, ELFMAG, SELFMAG) != 0) {
        sl_error_set(err, SL_ERR_INPUT, "%s is not an ELF file", path);
        return -1;
    }
    memcpy(&eh, img, sizeof eh);
    if (eh.e_ident[EI_CLASS] != ELF_CLASS) {
        sl_error_set(err, SL_ERR_INPUT, "%s is built for another word size than this sluice",
                     path);
        return -1;
    }
    if (eh.e_shoff == 0 || eh.e_shentsize != sizeof(elf_shdr) ||
        !within(size, eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(elf_shdr))) {
        sl_error_set(err, SL_ERR_INPUT, "%s has no usable section headers", path);
        return -1;
    }
    for (unsigned i = 0; i < eh.e_shnum; i++) {
        elf_shdr sh, str;
        memcpy(&sh, img + eh.e_shoff + (uint64_t)i * sizeof sh, sizeof sh);
        if (sh.sh_type != SHT_DYNSYM)
            continue;
        if (sh.sh_link >= eh.e_shnum) {
            sl_error_set(err, SL_ERR_INPUT, "%s: .dynsym names no string table", path);
            return -1;
        }
        memcpy(&str, img + eh.e_shoff + (uint64_t)sh.sh_link * sizeof str, sizeof str);
        return read_table(path, img, size, &sh, &str, out, err);
    }
    sl_error_set(err, SL_ERR_INPUT, "%s has no dynamic symbol table: not a shared object", path);
    return -1;
}

int plugin_symbols_read(const char *path, plugin_symbols *out, sl_error *err)
{
    memset(out, 0, sizeof *out);
    strbuf img = STRBUF_INIT;
    int errnum = sb_read_file(&img, path);
    if (errnum) {
        sl_error_set(err, SL_ERR_INPUT, "cannot read %s: %s", path, strerror(errnum));
        sb_free(&img);
        return -1;
    }
    int rc = read_image(path, img.buf ? img.buf : "", img.len, out, err);
    sb_free(&img);
    if (rc != 0)
        plugin_symbols_free(out);
    return rc;
}

void plugin_symbols_free(plugin_symbols *s)
{
    for (size_t i = 0; i < s->count; i++)
        free(s->names[i]);
    free(s->names);
    s->names = NULL;
    s->count = 0;
}
