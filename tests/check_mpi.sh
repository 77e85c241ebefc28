#!/bin/bash
# Checks fnn-mpi under mpirun on a tiny data set of its own (200 train and
# 100 test 4x4 images of three classes):
# - a sharded model trained at 1 and at 2 ranks with the same seed is the same
#   set of files, and predicts the same probabilities, bit for bit, at 1 and
#   2 ranks;
# - a forget request served at 2 ranks changes the files of the shards that
#   hold its samples only, records the samples as forgotten there, and gives
#   the model that 1 rank gives;
# - a rank killed while a forget request is being saved leaves a manifest whose
#   every file is intact, and the model either as it was or with the request;
# - a failure on one rank is reported on every rank.
#
# Usage: tests/check_mpi.sh BUILDDIR MPIRUN
# Needs python3 to write the IDX files. Exits 1 on the first failed check.
set -euo pipefail

if [ "$#" -ne 2 ]; then
    echo "usage: $0 BUILDDIR MPIRUN" >&2
    exit 2
fi
tool=$1/tools/fnn-mpi
mpirun=$2
[ -x "$tool" ] || {
    echo "$0: $tool is not an executable" >&2
    exit 2
}
# Results are bit-exact for a given OpenBLAS thread count; two ranks share the
# machine's cores.
export OPENBLAS_NUM_THREADS=1
# Open MPI refuses to run as root without these (CI runs as root).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
run_mpi=("$mpirun" --oversubscribe -x OPENBLAS_NUM_THREADS)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
data=$tmp/data
mkdir "$data"

fail() {
    echo "FAIL: $*"
    exit 1
}

status=0
# mpi NP ARGS...: runs fnn-mpi ARGS at NP ranks, output in $tmp/out, $tmp/err.
mpi() {
    local np=$1
    shift
    status=0
    "${run_mpi[@]}" -np "$np" "$tool" "$@" >"$tmp/out" 2>"$tmp/err" || status=$?
}

show() {
    echo "--- stdout"
    cat "$tmp/out"
    echo "--- stderr"
    cat "$tmp/err"
}

expect() {
    local want=$1
    shift
    mpi "$@"
    if [ "$status" -ne "$want" ]; then
        show
        fail "fnn-mpi at $1 rank(s): $* exited $status, expected $want"
    fi
}

# files MANIFEST: the shard files beside a manifest, one name a line.
files() {
    (cd "$(dirname "$1")" && ls | grep -E "^$(basename "$1")\.[0-9]+\.[0-9]+\.[0-9a-f]{16}$" |
        sed "s/^$(basename "$1")\.//" | sort)
}

python3 "$(dirname "${BASH_SOURCE[0]}")/tiny_idx.py" "$data"

arch=input:4x4x1,dense:16,relu,dense:10
train=(train --data "$data" --arch "$arch" --shards 4 --slices 2 --seed 3 --epochs 5
    --lr 0.05 --batch 16)

# ---- the same model at 1 and 2 ranks ------------------------------------------------

mkdir "$tmp/one" "$tmp/two"
expect 0 1 "${train[@]}" --out "$tmp/one/m.fnns"
grep -q "^total: trained in" "$tmp/out" || { show; fail "no totals at 1 rank"; }
expect 0 2 "${train[@]}" --out "$tmp/two/m.fnns"
grep -q "^rank 1 (shards 1 3): trained in" "$tmp/out" || { show; fail "no line of rank 1"; }
grep -q "^total: trained in .* over 2 rank(s)" "$tmp/out" || { show; fail "no totals"; }
cmp "$tmp/one/m.fnns" "$tmp/two/m.fnns" || fail "the manifests at 1 and 2 ranks differ"
[ "$(files "$tmp/one/m.fnns")" = "$(files "$tmp/two/m.fnns")" ] ||
    fail "the shard files at 1 and 2 ranks differ"
[ "$(files "$tmp/two/m.fnns" | wc -l)" -eq 8 ] || fail "expected 4 shards x 2 stage files"
expect 0 1 eval --model "$tmp/two/m.fnns" --data "$data" --proba "$tmp/p1"
acc1=$(sed -n 's/^test accuracy \([0-9.]*\)%.*/\1/p' "$tmp/out")
expect 0 2 eval --model "$tmp/two/m.fnns" --data "$data" --proba "$tmp/p2"
acc2=$(sed -n 's/^test accuracy \([0-9.]*\)%.*/\1/p' "$tmp/out")
[ -n "$acc1" ] && [ "$acc1" = "$acc2" ] || fail "accuracy '$acc1' at 1 rank, '$acc2' at 2"
awk -v a="$acc1" 'BEGIN { exit !(a >= 90) }' || fail "test accuracy $acc1% below 90%"
[ "$(stat -c %s "$tmp/p1")" -eq $((100 * 10 * 4)) ] || fail "--proba wrote the wrong size"
cmp "$tmp/p1" "$tmp/p2" || fail "the probabilities at 1 and 2 ranks differ"
echo "ok: same files and probabilities at 1 and 2 ranks (test accuracy $acc1%)"

# ---- forget: only the affected shards change ----------------------------------------------

printf '5\n17 # two samples\n' >"$tmp/idx"
cp "$tmp/two/m.fnns"* "$tmp/one/" # the 1-rank copy starts from the same files
expect 0 2 forget --model "$tmp/two/m.fnns" --data "$data" --forget-indices "$tmp/idx" \
    --out "$tmp/two/f.fnns"
grep -q "^total: forgot in" "$tmp/out" || { show; fail "no totals of the forget request"; }
grep -q "^forgot 2 sample(s) with retrain" "$tmp/out" || { show; fail "no summary"; }
expect 0 1 forget --model "$tmp/one/m.fnns" --data "$data" --forget-indices "$tmp/idx" \
    --out "$tmp/one/f.fnns"
cmp "$tmp/one/f.fnns" "$tmp/two/f.fnns" || fail "the forgotten manifests at 1 and 2 ranks differ"
expect 0 2 eval --model "$tmp/two/f.fnns" --data "$data"
cp "$tmp/out" "$tmp/eval"
total=$(awk '/^shard/ { s += $5 } END { print s }' "$tmp/eval")
[ "$total" -eq 2 ] || { cat "$tmp/eval"; fail "$total samples recorded as forgotten, not 2"; }
before=$(files "$tmp/two/m.fnns")
after=$(files "$tmp/two/f.fnns")
for k in 0 1 2 3; do
    forgotten=$(awk -v k="shard $k:" 'index($0, k) == 1 { print $5 }' "$tmp/eval")
    b=$(printf '%s\n' "$before" | grep "^$k\.")
    a=$(printf '%s\n' "$after" | grep "^$k\.")
    if [ "$forgotten" -eq 0 ]; then
        [ "$a" = "$b" ] || fail "shard $k holds none of the samples, yet its files changed"
        for f in $b; do
            cmp "$tmp/two/m.fnns.$f" "$tmp/two/f.fnns.$f" || fail "shard $k: $f differs"
        done
    else
        [ "$(printf '%s\n' "$a" | grep -c '\.1\.')" -eq 1 ] || fail "shard $k: no constituent"
        [ "$(printf '%s\n' "$a" | grep '\.1\.')" != "$(printf '%s\n' "$b" | grep '\.1\.')" ] ||
            fail "shard $k forgot $forgotten sample(s), yet its constituent is the same file"
    fi
done
echo "ok: a forget request changes the affected shards only, the same at 1 and 2 ranks"

# Forgetting a sample twice fails on the rank that owns it, and every rank says so.
expect 1 2 forget --model "$tmp/two/f.fnns" --data "$data" --forget-indices "$tmp/idx"
[ "$(grep -c "was forgotten before" "$tmp/err")" -eq 2 ] || { show; fail "not on every rank"; }
grep -q "^fnn-mpi: rank 0 of 2: forgetting: rank [01]: " "$tmp/err" || { show; fail "rank 0"; }
grep -q "^fnn-mpi: rank 1 of 2: forgetting: rank [01]: " "$tmp/err" || { show; fail "rank 1"; }
cmp "$tmp/one/f.fnns" "$tmp/two/f.fnns" || fail "a failed request changed the manifest"
echo "ok: a failure on one rank is reported on every rank and saves nothing"

# ---- a rank killed while the model is saved ----------------------------------------------------

# Large layers make the shard files large, so that a save takes a while.
big=input:4x4x1,dense:1024,relu,dense:1024,relu,dense:10
mkdir "$tmp/kill"
m=$tmp/kill/m.fnns
expect 0 2 train --data "$data" --arch "$big" --shards 4 --slices 2 --seed 1 --epochs 1 \
    --batch 50 --out "$m"
cp "$m" "$tmp/kill/orig"
outcomes=""
# How long after the save's first file rank 1 dies, per round.
delays=(0 0.05 0.3 3)
for round in 1 2 3 4; do
    old=$(files "$m" | wc -l)
    seq $((10 * round)) $((10 * round + 5)) >"$tmp/idx"
    "${run_mpi[@]}" -np 2 "$tool" forget --model "$m" --data "$data" \
        --forget-indices "$tmp/idx" >"$tmp/out" 2>"$tmp/err" &
    job=$!
    # Waits for the first new file of the save, then kills rank 1 (or the
    # job, when the save ends first).
    killed=0
    for _ in $(seq 1 3000); do
        if [ "$(ls "$tmp/kill" | wc -l)" -gt $((old + 2)) ] || ! kill -0 "$job" 2>/dev/null; then
            break
        fi
        sleep 0.01
    done
    sleep "${delays[round - 1]}"
    for pid in $(pgrep -P "$job" || true); do
        if grep -qa "OMPI_COMM_WORLD_RANK=1" "/proc/$pid/environ" 2>/dev/null; then
            kill -9 "$pid" 2>/dev/null && killed=1
        fi
    done
    wait "$job" || true
    # Whatever happened, the manifest loads with every file it names intact.
    expect 0 1 eval --model "$m" --data "$data"
    n=$(awk '/^shard/ { s += $5 } END { print s }' "$tmp/out")
    expected=$((6 * round))
    case $n in
    $((expected - 6))) outcome=old ;;
    "$expected") outcome=new ;;
    *)
        cat "$tmp/out"
        fail "round $round: $n samples forgotten, neither old nor new"
        ;;
    esac
    outcomes+="$outcome "
    # A killed request is made again, so that the rounds stay in step.
    if [ "$outcome" = old ]; then
        expect 0 2 forget --model "$m" --data "$data" --forget-indices "$tmp/idx"
    fi
    # The next whole save removed what the killed one left: the directory
    # holds the manifest's files and nothing else of it.
    [ "$(files "$m" | wc -l)" -eq 8 ] || { ls "$tmp/kill"; fail "round $round: stray files"; }
    if ls "$tmp/kill" | grep -q '\.tmp\.'; then
        ls "$tmp/kill"
        fail "round $round: a temporary was left behind"
    fi
    echo "round $round: rank 1 killed: $killed; the set was $outcome"
done
echo "ok: rank killed mid-save: every round left a whole set ($outcomes)"
