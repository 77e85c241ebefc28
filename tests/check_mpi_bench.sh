#!/bin/bash
# Runs 'fnn-mpi bench --quick' under mpirun -np 2 on Fashion-MNIST and checks
# its JSON: every figure present and finite where it must be, and the costs
# that are counted exactly (FLOPs) in their expected order: serving a
# single-sample request by exact slice retraining of one shard costs less
# than retraining the single model on the whole pool.
#
# Usage: tests/check_mpi_bench.sh BUILDDIR MPIRUN DATA_DIR
set -euo pipefail

if [ "$#" -ne 3 ]; then
    echo "usage: $0 BUILDDIR MPIRUN DATA_DIR" >&2
    exit 2
fi
tool=$1/tools/fnn-mpi
mpirun=$2
data=$3
export OPENBLAS_NUM_THREADS=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/scratch"

"$mpirun" --oversubscribe -x OPENBLAS_NUM_THREADS -np 2 "$tool" bench --quick \
    --data "$data/fashion-mnist" --scratch "$tmp/scratch" --json "$tmp/bench.json" >"$tmp/out" 2>"$tmp/err" || {
    cat "$tmp/out" "$tmp/err"
    echo "FAIL: fnn-mpi bench --quick exited non-zero"
    exit 1
}
cat "$tmp/out"
python3 - "$tmp/bench.json" <<'PY'
import json, math, sys
b = json.load(open(sys.argv[1]))
assert b["ranks"] == 2 and b["shards"] == 8, b
(d,) = b["datasets"]
for k in ("single_test_acc", "sharded_test_acc", "exact_test_acc", "fnn_test_acc",
          "retrain_test_acc", "deleted_acc_exact", "deleted_acc_fnn"):
    assert 0 <= d[k] <= 1, (k, d[k])
assert d["single_train_flops"] > 0 and d["sharded_train_flops"] > 0
assert len(d["requests"]) == 3, d["requests"]
for r in d["requests"]:
    for k in ("exact_seconds", "exact_flops", "fnn_seconds", "fnn_flops", "retrain_flops"):
        assert r[k] is not None and r[k] > 0, (k, r)
    assert 1 <= r["shards"] <= min(r["samples"], 8), r
    if r["samples"] == 1:
        assert r["shards"] == 1, r
        assert r["exact_flops"] < r["retrain_flops"], r
assert [m["ranks"] for m in d["cost_model"]] == [1, 2, 4, 8]
t = [m["train_wall"] for m in d["cost_model"]]
assert all(a >= b for a, b in zip(t, t[1:])), t
print("ok: bench JSON checked")
PY
# The scratch model is removed.
[ -z "$(ls "$tmp/scratch")" ] || {
    ls "$tmp/scratch"
    echo "FAIL: the bench left files in its scratch directory"
    exit 1
}
