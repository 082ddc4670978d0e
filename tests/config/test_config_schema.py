#!/usr/bin/env python3
"""test_config_schema.py — schemas/config.schema.json and `sluice validate`
agree (TAP).

1. The schema is a valid draft 2020-12 schema.
2. Every example configuration (examples/*.yaml) is valid for the schema
   and for `sluice validate`.
3. Every file of tests/data/config/invalid/ (one problem each) is rejected
   by both, every file of tests/data/config/valid/ accepted by both.

Needs PyYAML and jsonschema (skipped otherwise) and, for the engine's half,
the sluice binary named by $SLUICE (those tests are skipped without it).
"""
import glob
import os
import subprocess
import sys

MIN_INVALID = 25


def tap_skip_all(reason):
    print("1..0 # SKIP %s" % reason)
    sys.exit(0)


try:
    import yaml
    import jsonschema
except ImportError as e:  # pragma: no cover - depends on the machine
    tap_skip_all("python jsonschema or yaml missing (%s)" % e)


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

    def skip(self, name, reason):
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, name, reason))

    def done(self):
        print("1..%d" % self.n)
        return 1 if self.failed else 0


def source_dir():
    top = os.environ.get("top_srcdir")
    if top:
        return top
    return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def schema_errors(validator, path):
    """The schema's complaints about a YAML file ([] when valid)."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
    except yaml.YAMLError as e:
        return ["YAML: %s" % e]
    return ["%s: %s" % ("/".join(str(p) for p in err.absolute_path) or "(root)", err.message)
            for err in validator.iter_errors(doc)]


def sluice_validate(sluice, path):
    """(exit status, stderr) of `sluice validate --config path`."""
    env = dict(os.environ)
    env.pop("SLUICE_CONFIG", None)
    proc = subprocess.run([sluice, "validate", "--config", path], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return proc.returncode, proc.stderr.decode("utf-8", "replace")


def main():
    tap = Tap()
    top = source_dir()
    with open(os.path.join(top, "schemas", "config.schema.json"), encoding="utf-8") as f:
        schema = __import__("json").load(f)
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
        tap.ok(True, "config.schema.json is a valid draft 2020-12 schema")
    except jsonschema.SchemaError as e:
        tap.ok(False, "config.schema.json is a valid draft 2020-12 schema", e)
        return tap.done()
    validator = jsonschema.Draft202012Validator(schema)

    sluice = os.environ.get("SLUICE")
    if not sluice or not os.access(sluice, os.X_OK):
        sluice = None

    def check(path, want_valid):
        rel = os.path.relpath(path, top)
        verdict = "accepts" if want_valid else "rejects"
        errs = schema_errors(validator, path)
        tap.ok((not errs) == want_valid, "schema %s %s" % (verdict, rel),
               "\n".join(errs) if errs else "the schema accepts it")
        if sluice is None:
            tap.skip("sluice validate %s %s" % (verdict, rel), "$SLUICE is not an executable")
            return
        rc, err = sluice_validate(sluice, path)
        want_rc = 0 if want_valid else 2
        tap.ok(rc == want_rc, "sluice validate %s %s" % (verdict, rel),
               "exit status %d, want %d\n%s" % (rc, want_rc, err))

    examples = sorted(glob.glob(os.path.join(top, "examples", "*.yaml")))
    tap.ok(len(examples) >= 2, "examples found (%d)" % len(examples))
    for path in examples:
        check(path, True)

    corpus = os.path.join(top, "tests", "data", "config")
    invalid = sorted(glob.glob(os.path.join(corpus, "invalid", "*.yaml")))
    valid = sorted(glob.glob(os.path.join(corpus, "valid", "*.yaml")))
    tap.ok(len(invalid) >= MIN_INVALID, "at least %d invalid configurations (%d)"
           % (MIN_INVALID, len(invalid)))
    tap.ok(len(valid) >= 5, "valid configurations found (%d)" % len(valid))
    for path in invalid:
        check(path, False)
    for path in valid:
        check(path, True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
