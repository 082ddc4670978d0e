#!/usr/bin/env python3
"""test_config_keys.py — the declared configuration keys
(engine/config/config_keys.c), schemas/config.schema.json and
docs/configuration.md agree (TAP).

The keys come from tests/config/config_keys_dump (in $top_builddir). For every
section (the top level, storage of each type, plugins, each target type,
runs, a rule, match) the schema has the same keys (additionalProperties
false), the same required ones and the same exclusions; for every key the
same type, bounds, pattern, enum, item and member rules, the same default
(which the schema accepts) and the key's help as its description.
The docs have a row (or, at the top level, a heading) for every key, show
every default in it (and, for a target, name the target types that take
it), and document no key the engine does not know.
"""
import json
import os
import re
import subprocess
import sys

try:
    import jsonschema
except ImportError:  # pragma: no cover - depends on the machine
    jsonschema = None


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, diag=None):
        self.n += 1
        if not cond:
            self.failed += 1
        print("%s %d - %s" % ("ok" if cond else "not ok", self.n, name))
        if not cond and diag:
            for line in str(diag).rstrip().splitlines():
                print("#   " + line)
        sys.stdout.flush()

    def done(self):
        print("1..%d" % self.n)
        return 1 if self.failed else 0


def source_dir():
    top = os.environ.get("top_srcdir")
    if top:
        return top
    return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def build_dir():
    return os.environ.get("top_builddir") or source_dir()


# ---- the schema ------------------------------------------------------------

def lookup(schema, ref):
    assert ref.startswith("#/"), ref
    node = schema
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def resolve(schema, node):
    """`node` with its $ref chain merged in; the referring node's own
    keywords (description, default) win over the referenced ones."""
    out = dict(node)
    while "$ref" in out:
        target = lookup(schema, out.pop("$ref"))
        merged = dict(target)
        merged.update(out)
        out = merged
    return out


def rejects_empty(pattern):
    return pattern is not None and re.search(pattern, "") is None


class Checker:
    def __init__(self, tap, schema, sections):
        self.tap = tap
        self.schema = schema
        self.sections = sections
        self.seen = set()

    def subschema_errors(self, prop, value):
        if jsonschema is None:
            return []
        sub = dict(prop)
        sub["$defs"] = self.schema.get("$defs", {})
        return [e.message for e in jsonschema.Draft202012Validator(sub).iter_errors(value)]

    def section(self, name, node, where):
        """Compares section `name` with the object schema `node`."""
        if name in self.seen:
            return
        self.seen.add(name)
        sec = self.sections[name]
        keys = {k["name"]: k for k in sec["keys"]}
        props = node.get("properties", {})
        problems = []
        if node.get("type") != "object":
            problems.append("schema type is %r, not object" % node.get("type"))
        if node.get("additionalProperties") is not False:
            problems.append("schema allows additional properties")
        for k in keys:
            if k not in props:
                problems.append("key %r is not in the schema" % k)
        for k in props:
            if k not in keys:
                problems.append("schema property %r is not a declared key" % k)
        want = sorted(k for k, v in keys.items() if v["required"])
        got = sorted(node.get("required", []))
        if want != got:
            problems.append("required: keys %s, schema %s" % (want, got))
        want = sorted(sorted([k["name"], k["conflicts"]]) for k in keys.values()
                      if "conflicts" in k)
        excl = node.get("not", {}).get("required")
        got = [sorted(excl)] if excl else []
        if want != got:
            problems.append("exclusive keys: keys %s, schema %s" % (want, got))
        self.tap.ok(not problems, "section %s: keys, required and exclusive keys agree with %s"
                    % (name, where), "\n".join(problems))
        for k in sec["keys"]:
            if k["name"] in props:
                self.key(name, k, props[k["name"]], "%s/properties/%s" % (where, k["name"]))

    def key(self, sname, k, raw, where):
        prop = resolve(self.schema, raw)
        problems = []
        check = getattr(self, "type_" + k["type"])
        problems += check(k, prop, where)
        if prop.get("description") != k["help"]:
            problems.append("description %r, help %r" % (prop.get("description"), k["help"]))
        if "default" in k:
            if prop.get("default", None) != k["default"] or "default" not in prop:
                problems.append("default: key %s, schema %s"
                                % (json.dumps(k["default"]), json.dumps(prop.get("default"))))
            for err in self.subschema_errors(prop, k["default"]):
                problems.append("the schema rejects the default: %s" % err)
        elif "default" in prop:
            problems.append("schema default %s, the key has none" % json.dumps(prop["default"]))
        self.tap.ok(not problems, "%s.%s (%s) agrees with the schema" % (sname, k["name"], k["type"]),
                    "\n".join(problems))

    # -- one per key type: the schema's rules for it --------------------------

    @staticmethod
    def string_rules(k, prop, nonempty):
        p = []
        if prop.get("type") != "string":
            p.append("schema type %r, not string" % prop.get("type"))
        if prop.get("pattern") != k.get("pattern"):
            p.append("pattern: key %r, schema %r" % (k.get("pattern"), prop.get("pattern")))
        empty_ok = prop.get("minLength", 0) < 1 and not rejects_empty(prop.get("pattern"))
        if nonempty and empty_ok:
            p.append("the schema accepts an empty string, the engine does not")
        if not nonempty and not empty_ok:
            p.append("the schema rejects an empty string, the engine does not")
        return p

    def type_string(self, k, prop, where):
        return self.string_rules(k, prop, True)

    def type_path(self, k, prop, where):
        return self.string_rules(k, prop, True)

    def type_text(self, k, prop, where):
        return self.string_rules(k, prop, False)

    def type_enum(self, k, prop, where):
        got = [prop["const"]] if "const" in prop else prop.get("enum")
        if got != k["choices"]:
            return ["choices: key %s, schema %s" % (k["choices"], got)]
        return []

    def type_integer(self, k, prop, where):
        p = []
        if prop.get("type") != "integer":
            p.append("schema type %r, not integer" % prop.get("type"))
        if (prop.get("minimum"), prop.get("maximum")) != (k["min"], k["max"]):
            p.append("bounds: key [%s, %s], schema [%s, %s]"
                     % (k["min"], k["max"], prop.get("minimum"), prop.get("maximum")))
        return p

    def type_number(self, k, prop, where):
        p = []
        if prop.get("type") != "number":
            p.append("schema type %r, not number" % prop.get("type"))
        if (prop.get("exclusiveMinimum"), prop.get("maximum")) != (k["min"], k["max"]) \
                or "minimum" in prop:
            p.append("bounds: key (%s, %s], schema exclusiveMinimum %s, minimum %s, maximum %s"
                     % (k["min"], k["max"], prop.get("exclusiveMinimum"), prop.get("minimum"),
                        prop.get("maximum")))
        return p

    def type_boolean(self, k, prop, where):
        return [] if prop.get("type") == "boolean" else ["schema type %r" % prop.get("type")]

    def type_paths(self, k, prop, where):
        branches = [resolve(self.schema, b) for b in prop.get("oneOf", [])]
        one = [b for b in branches if b.get("type") == "string"]
        many = [b for b in branches if b.get("type") == "array"]
        if len(branches) != 2 or len(one) != 1 or len(many) != 1:
            return ["schema is not oneOf [a string, an array]"]
        item = resolve(self.schema, many[0].get("items", {}))
        return self.string_rules(k, one[0], True) + self.string_rules(k, item, True)

    def type_list(self, k, prop, where):
        p = []
        if prop.get("type") != "array":
            return ["schema type %r, not array" % prop.get("type")]
        if (prop.get("minItems", 0) >= 1) != k["nonempty"]:
            p.append("non-empty: key %s, schema minItems %s" % (k["nonempty"], prop.get("minItems")))
        if bool(prop.get("uniqueItems")) != k["unique"]:
            p.append("unique items: key %s, schema %s" % (k["unique"], prop.get("uniqueItems")))
        items = resolve(self.schema, prop.get("items", {}))
        if "section" in k:
            self.section(k["section"], items, where + "/items")
        else:  # the engine checks the items against the pattern
            p += self.string_rules(k, items, rejects_empty(k.get("pattern")))
        return p

    def variants(self, k, branches, where):
        """The oneOf `branches` are the sections of k's variants."""
        v = k["variants"]
        by_value = {}
        for i, b in enumerate(branches):
            b = resolve(self.schema, b)
            const = b.get("properties", {}).get(v["key"], {}).get("const")
            by_value[const] = (b, "%s/oneOf/%d" % (where, i))
        if sorted(by_value, key=str) != sorted(v["sections"]):
            return ["variants: key %s, schema %s" % (sorted(v["sections"]), sorted(by_value, key=str))]
        for value, sname in v["sections"].items():
            self.section(sname, by_value[value][0], by_value[value][1])
        return []

    def type_mapping(self, k, prop, where):
        if prop.get("type") != "object":
            return ["schema type %r, not object" % prop.get("type")]
        names = prop.get("propertyNames", {})
        names = resolve(self.schema, names).get("pattern") if names else None
        if names != k.get("pattern"):
            return ["member names: key %r, schema %r" % (k.get("pattern"), names)]
        members = resolve(self.schema, prop.get("additionalProperties", {}) or {})
        if "variants" in k:
            return self.variants(k, members.get("oneOf", []), where + "/additionalProperties")
        if "pattern" in k:
            return [] if members.get("type") == "string" else ["members are not strings"]
        if "properties" in prop or prop.get("additionalProperties") is False:
            return ["the schema constrains a free-form mapping"]
        return []

    def type_section(self, k, prop, where):
        if "variants" in k:
            return self.variants(k, prop.get("oneOf", []), where)
        self.section(k["section"], prop, where)
        return []


# ---- the docs ---------------------------------------------------------------

# The part of docs/configuration.md (a "## " heading and what follows it up
# to the next one) that documents each section.
DOC_PART = {
    "storage.local": "`storage`", "storage.s3": "`storage`", "plugins": "`plugins`",
    "notify.log": "`notify`", "notify.sns": "`notify`", "notify.eventbridge": "`notify`",
    "notify.webhook": "`notify`", "runs": "`runs`", "rule": "`rules`", "match": "`rules`",
    "expect": "`expect`",
}


def doc_parts(text):
    parts, title = {}, None
    for line in text.splitlines():
        if line.startswith("## "):
            title = line[3:].strip()
            parts[title] = []
        elif title is not None:
            parts[title].append(line)
    return parts


def cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def key_rows(lines):
    """{key: [(row cells, header cells)]} of the tables whose first column
    is "key"."""
    rows, header = {}, None
    for i, line in enumerate(lines):
        if not line.startswith("|"):
            header = None
            continue
        if header is None:
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            if re.match(r"^\|[-| :]+\|$", nxt.strip()) and cells(line)[0] == "key":
                header = cells(line)
            else:
                header = []
            continue
        if not header or re.match(r"^\|[-| :]+\|$", line.strip()):
            continue
        row = cells(line)
        m = re.match(r"^`([a-z_]+)`$", row[0])
        if m:
            rows.setdefault(m.group(1), []).append((row, header))
    return rows


def check_docs(tap, text, sections):
    parts = doc_parts(text)
    top = sections["config"]["keys"]
    problems = []
    for k in top:
        heads = [t for t in parts if "`%s`" % k["name"] in t]
        if not heads:
            problems.append("no \"## \" heading names `%s`" % k["name"])
        elif "default" in k and ("`%s`" % k["default_text"]) not in "\n".join(parts[heads[0]]):
            problems.append("the part on `%s` does not show its default `%s`"
                            % (k["name"], k["default_text"]))
    tap.ok(not problems, "docs: a part for every top-level key, with its default",
           "\n".join(problems))
    known = {}
    for sname, part in sorted(DOC_PART.items()):
        rows = key_rows(parts.get(part, []))
        problems = []
        if part not in parts:
            problems.append("no \"## %s\" part" % part)
        for k in sections[sname]["keys"]:
            known.setdefault(part, set()).add(k["name"])
            found = rows.get(k["name"])
            if not found:
                problems.append("no row for `%s`" % k["name"])
                continue
            variant = sections[sname].get("variant")
            targets = [r[h.index("targets")] for r, h in found if "targets" in h and len(r) == len(h)]
            if variant and targets and not any(t == "all" or "`%s`" % variant in t for t in targets):
                problems.append("`%s`: the targets column does not name `%s`" % (k["name"], variant))
            if "default" not in k:
                continue
            want = "`%s`" % k["default_text"]
            shown = [r[h.index("default")] for r, h in found if "default" in h and len(r) == len(h)]
            if not any(want in s for s in shown):
                problems.append("`%s`: default %s not shown (the docs say %s)"
                                % (k["name"], want, " / ".join(shown) or "nothing"))
        tap.ok(not problems, "docs: every key of %s has a row in \"## %s\", defaults included"
               % (sname, part), "\n".join(problems))
    problems = []
    for part, names in sorted(known.items()):
        for key in sorted(set(key_rows(parts.get(part, []))) - names):
            problems.append("\"## %s\" documents `%s`, which is not a declared key" % (part, key))
    tap.ok(not problems, "docs: no row for a key the engine does not know", "\n".join(problems))


def main():
    dump = os.path.join(build_dir(), "tests", "config", "config_keys_dump")
    if not os.access(dump, os.X_OK):
        # under make the program is a check program: its absence is a bug
        if os.environ.get("top_builddir"):
            print("not ok 1 - %s is built\n1..1" % dump)
            return 1
        print("1..0 # SKIP %s is not built" % dump)
        return 0
    tap = Tap()
    proc = subprocess.run([dump], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    tap.ok(proc.returncode == 0, "config_keys_dump runs (every default parses)",
           proc.stderr.decode("utf-8", "replace"))
    keys = json.loads(proc.stdout.decode("utf-8"))
    top = source_dir()
    with open(os.path.join(top, "schemas", "config.schema.json"), encoding="utf-8") as f:
        schema = json.load(f)
    checker = Checker(tap, schema, keys["sections"])
    checker.section(keys["root"], schema, "#")
    missed = sorted(set(keys["sections"]) - checker.seen)
    tap.ok(not missed, "every section was compared with the schema", ", ".join(missed))
    with open(os.path.join(top, "docs", "configuration.md"), encoding="utf-8") as f:
        check_docs(tap, f.read(), keys["sections"])
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
