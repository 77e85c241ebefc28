#!/bin/bash
# Runs 'fnn bench --quick' on a real data set and checks its JSON: every row
# has every documented key, accuracies and attack figures are fractions,
# every method ran on every request, retraining is its own reference, and
# the --floor row is a second, different retraining.
#
# Usage: tests/check_bench.sh BUILD_DIR DATA_DIR
set -euo pipefail
fnn=$1/tools/fnn
data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$fnn" bench --quick --floor --data "$data" --json - >"$tmp/out.json" 2>"$tmp/err" || {
    cat "$tmp/err" >&2
    echo "FAIL: fnn bench --quick exited $?" >&2
    exit 1
}
"$fnn" forget --help >"$tmp/help"
methods=$(awk '/^Methods/ { on = 1; next } on && /^$/ { exit }
               on && /^  [a-z]/ { print $1 }' "$tmp/help" | tr '\n' ' ')
python3 - "$tmp/out.json" "$data" $methods <<'PYEOF'
import json, math, sys
path, data, methods = sys.argv[1], sys.argv[2], sys.argv[3:]
doc = json.load(open(path))
rows = doc["rows"]
keys = ["dataset", "arch", "request", "seed", "method", "seconds", "speedup",
        "forget_acc", "retain_acc", "heldout_acc", "test_acc", "mia", "auc", "avg_gap"]
fractions = ["forget_acc", "retain_acc", "heldout_acc", "test_acc", "mia", "auc"]
def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)
if not rows:
    fail("no rows")
seen = set()
for r in rows:
    for k in keys:
        if k not in r:
            fail("row %s lacks %s" % (r, k))
    for k in fractions:
        v = r[k]
        if not isinstance(v, (int, float)) or not 0 <= v <= 1:
            fail("%s of %s %s is %r, not a fraction" % (k, r["method"], r["request"], v))
    if r["dataset"] != data or r["arch"] != "mlp" or r["seed"] != 0:
        fail("unexpected row %s" % r)
    if not r["seconds"] >= 0:
        fail("seconds of %s: %r" % (r["method"], r["seconds"]))
    if r["method"] == "none":
        if r["speedup"] is not None:
            fail("the none row has a speed-up")
    elif not (isinstance(r["speedup"], (int, float)) and r["speedup"] > 0):
        fail("speedup of %s is %r" % (r["method"], r["speedup"]))
    if not (isinstance(r["avg_gap"], (int, float)) and 0 <= r["avg_gap"] <= 100):
        fail("avg_gap of %s is %r" % (r["method"], r["avg_gap"]))
    if r["method"] == "retrain" and (r["avg_gap"] != 0 or abs(r["speedup"] - 1) > 1e-12):
        fail("retrain is not its own reference: %s" % r)
    if r["method"] == "retrain2":
        if r.get("floor") is not True or r.get("floor_seed") != 2**32:
            fail("the floor row is not marked as one: %s" % r)
        # Another seed trains another model: it cannot be the reference.
        if not r["avg_gap"] > 0:
            fail("the floor row is retraining with the reference's seed: %s" % r)
    elif "floor" in r:
        fail("%s is marked as the floor row" % r["method"])
    seen.add((r["request"], r["method"]))
for req in ("class:3", "random:20%"):
    for m in methods + ["retrain2"]:
        if (req, m) not in seen:
            fail("no row for %s on %s" % (m, req))
# A class request forgotten exactly: the retrained model never predicts it.
for name in ("retrain", "retrain2"):
    re = [r for r in rows if r["method"] == name and r["request"] == "class:3"][0]
    if re["forget_acc"] > 0.01:
        fail("%s without class 3 still predicts it (%.4f)" % (name, re["forget_acc"]))
print("ok: %d rows, %d methods" % (len(rows), len(methods)))
PYEOF
