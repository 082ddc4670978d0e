/* yamltree.h — a YAML document loaded with libyaml into a tree that keeps
 * each node's position, so every configuration error can point at
 * file:line:column; and its conversion into jansson values. */
#ifndef SLUICE_YAMLTREE_H
#define SLUICE_YAMLTREE_H

#include <jansson.h>
#include <stddef.h>

typedef enum ynode_type { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP } ynode_type;

typedef struct ynode ynode;
struct ynode {
    ynode_type type;
    int line, column;  /* 1-based start of the node */
    /* YNODE_SCALAR */
    char *value;
    int quoted;        /* written with quotes or as a block: always a string */
    /* YNODE_SEQ: items; YNODE_MAP: keys[i] -> items[i] */
    ynode **items;
    ynode **keys;
    size_t count;
};

typedef struct ydoc {
    char *file;
    ynode *root; /* NULL for an empty document */
} ydoc;

/* Loads a file. On a YAML syntax error returns NULL and writes
 * "file:line:col: message" into err. Anchors and aliases are resolved. */
ydoc *ydoc_load_file(const char *path, char *err, size_t errlen);
ydoc *ydoc_load_string(const char *name, const char *text, size_t len,
                       char *err, size_t errlen);
void ydoc_free(ydoc *doc);

/* Map lookup; NULL when absent or `map` is not a map. */
ynode *ynode_get(const ynode *map, const char *key);
/* Node at a JSON pointer ("/engines/0/param") below `root`, or the deepest
 * existing ancestor, so errors about a missing member point at its parent. */
const ynode *ynode_at_pointer(const ynode *root, const char *pointer);

/* YAML 1.2 core schema typing of plain scalars: null (~, null, empty),
 * true/false, integers, floats; anything quoted is a string. Returns a new
 * reference. */
json_t *ynode_to_json(const ynode *node);
/* The column of byte `offset` of scalar n's value in `text` (the source it
 * was loaded from), when the value is written there verbatim on one line
 * (plain, or quoted without escapes); otherwise n's own column. */
int ynode_column_at(const ynode *n, const char *text, size_t len, size_t offset);
/* "string", "integer", "number", "boolean", "null", "list", "mapping". */
const char *ynode_type_name(const ynode *node);

#endif
