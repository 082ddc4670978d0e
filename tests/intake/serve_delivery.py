#!/usr/bin/env python3
"""tests/intake/serve_delivery.py — an Adobe delivery set through `sluice
serve`, as run, process, poll and lambda have it (tests/core/delivery.sh,
tests/intake/poll_delivery.sh, tests/intake/lambda_delivery.sh).

The fixture's delivery (tests/data/adobe-feed, a copy of the shared
contract's) is put in local storage; `sluice serve` listens on 127.0.0.1
(port 0, read from its log) and gets S3 "ObjectCreated" events over HTTP:
  1. a data file's event: accepted (202), and once the spool is drained the
     job was skipped as no manifest, and no report exists;
  2. the manifest's event: the set runs and the report is exactly
     expected_SearchKeywordPerformance.tab;
  3. the same manifest again: skipped as a duplicate of that run; one
     SUCCEEDED run of the set in the records, the report unchanged.
Nothing waits a fixed time: each wait polls /metrics, the log or a file
(serve.py's helpers). TAP on stdout.
"""
import glob
import json
import os
import shutil
import signal
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serve as S  # noqa: E402  (TAP helpers and the Serve process wrapper)

ok, is_, like, wait_for, metric = S.ok, S.is_, S.like, S.wait_for, S.metric
FEED = os.path.join(S.TOP_SRCDIR, "tests", "data", "adobe-feed")
STEM = "shopzilla_2009-09-27"
MANIFEST = "adobe/%s.txt" % STEM
DATA_FILE = "adobe/02-%s.tsv.gz" % STEM
TOKEN = "delivery-t0ken"
RULE = "adobe-daily"


def make_workspace(tmp):
    feeds = os.path.join(tmp, "root", "feeds", "adobe")
    os.makedirs(feeds)
    for name in os.listdir(FEED):
        if not name.startswith("expected_"):
            shutil.copy(os.path.join(FEED, name), feeds)
    config = os.path.join(tmp, "sluice.yaml")
    with open(config, "w") as f:
        f.write("""storage:
  type: local
  root: root
plugins:
  path: [%(builddir)s/tests/plugins, %(builddir)s/plugins]
notify:
  audit: {type: log}
on_failure: [audit]
rules:
  - name: %(rule)s
    match: {bucket: feeds, prefix: adobe/}
    delivery: adobe
    plugin: revenue
    output: "s3://reports/{rsid}/{feed_date}.tab"
""" % {"builddir": S.TOP_BUILDDIR, "rule": RULE})
    return config


def jobs(server, outcome):
    return metric(server.metrics(), 'sluice_jobs_total{rule="%s",outcome="%s"}' % (RULE, outcome))


def records(tmp, key):
    """(state, skip_reason, duplicate_of, run_id) of every run record of
    s3://feeds/KEY, in no particular order (run ids of one second do not
    sort by time)."""
    out = []
    for path in glob.glob(os.path.join(tmp, "runs", "[0-9]*", "*.json")):
        with open(path) as f:
            d = json.load(f)["detail"]
        if d["input"]["location"] == "s3://feeds/" + key:
            out.append((d["state"], d.get("skip_reason"), d.get("duplicate_of"), d["run_id"]))
    return out


def post(server, key, name):
    status, body, _ = server.post_json(S.s3_event(key, bucket="feeds"),
                                       {"Authorization": "Bearer " + TOKEN})
    is_(status, 202, "%s: 202 Accepted" % name)
    ok(isinstance(body, dict) and body.get("accepted") == 1, "%s: one job accepted" % name, body)


def test_set(tmp, server):
    report = os.path.join(tmp, "root", "reports", "shopzilla", "2009-09-27.tab")
    with open(os.path.join(FEED, "expected_SearchKeywordPerformance.tab")) as f:
        expected = f.read()

    # a data file of the set: never processed on its own
    post(server, DATA_FILE, "a data file's event")
    ok(wait_for(lambda: jobs(server, "skipped") == 1 and S.drained(server)),
       "the data file's job was decided and the spool drained")
    recs = records(tmp, DATA_FILE)
    ok(len(recs) == 1 and recs[0][0] == "SKIPPED" and "this is no manifest" in (recs[0][1] or ""),
       "... it was skipped: no manifest, the set runs when the manifest arrives", recs)
    ok(not os.path.exists(report), "... and no report was written")
    ok(not jobs(server, "succeeded"), "... nothing succeeded")

    # the manifest: the set runs
    post(server, MANIFEST, "the manifest's event")
    ok(wait_for(lambda: jobs(server, "succeeded") == 1 and S.drained(server)),
       "the manifest's job succeeded", server.logtext())
    is_(S.read(report), expected, "the report is exactly expected_SearchKeywordPerformance.tab")
    recs = records(tmp, MANIFEST)
    ok(len(recs) == 1 and recs[0][0] == "SUCCEEDED", "one SUCCEEDED run of the set", recs)
    first = recs[0][3] if recs else None

    # the same manifest again: a duplicate of that run
    post(server, MANIFEST, "the manifest's event again")
    ok(wait_for(lambda: jobs(server, "skipped") == 2 and S.drained(server)),
       "the re-sent manifest's job was decided")
    recs = records(tmp, MANIFEST)
    is_(sorted(r[0] for r in recs), ["SKIPPED", "SUCCEEDED"], "... skipped: still one SUCCEEDED run")
    dup = [r for r in recs if r[0] == "SKIPPED"]
    ok(len(dup) == 1 and dup[0][2] == first and "duplicate" in (dup[0][1] or ""),
       "... as a duplicate of the first run", recs)
    is_(jobs(server, "succeeded"), 1.0, "... the set ran once")
    is_(S.read(report), expected, "... the report is unchanged")
    ok(not jobs(server, "failed"), "no job failed")


def main():
    if not os.access(S.SLUICE, os.X_OK):
        print("1..0 # SKIP no sluice binary at %s" % S.SLUICE)
        return 0
    tmp = tempfile.mkdtemp(prefix="sluice-serve-delivery-")
    server = None
    try:
        config = make_workspace(tmp)
        server = S.Serve(tmp, "serve", config,
                         ["--workers", "2", "--auth-token-env", "SLUICE_TEST_TOKEN"],
                         {"SLUICE_TEST_TOKEN": TOKEN})
        if ok(server.ready, "sluice serve starts and answers /healthz", server.logtext()):
            test_set(tmp, server)
            server.signal(signal.SIGTERM)
            is_(server.wait(), 0, "SIGTERM: exit 0")
    finally:
        if server:
            server.kill()
    return S.done_testing(tmp)


if __name__ == "__main__":
    sys.exit(main())
