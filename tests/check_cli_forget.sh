#!/bin/bash
# Checks 'fnn forget' end to end on a tiny data set of its own: 200 train and
# 100 test 4x4 images of three classes that a small network tells apart
# exactly. Trains a model with 'fnn train', then checks the exit status and
# output of 'fnn forget' for a class, an index file and a seeded random
# request, the option mapping, and the usage and request errors.
#
# Usage: tests/check_cli_forget.sh BUILDDIR
# Needs python3 to write the IDX files. Exits 1 on the first failed check.
set -euo pipefail

if [ "$#" -ne 1 ]; then
    echo "usage: $0 BUILDDIR" >&2
    exit 2
fi
fnn=$1/tools/fnn
# Results are bit-exact for a given OpenBLAS thread count.
export OPENBLAS_NUM_THREADS=1
if [ ! -x "$fnn" ]; then
    echo "$0: $fnn is not an executable" >&2
    exit 2
fi
# Byte-identical results need a fixed OpenBLAS thread count.
export OPENBLAS_NUM_THREADS=1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
data=$tmp/data
mkdir "$data"

fail() {
    echo "FAIL: $*"
    exit 1
}

# Runs fnn with stdout in $tmp/out and stderr in $tmp/err; sets $status.
status=0
run_fnn() {
    status=0
    "$fnn" "$@" >"$tmp/out" 2>"$tmp/err" || status=$?
}

show() {
    echo "--- stdout"
    cat "$tmp/out"
    echo "--- stderr"
    cat "$tmp/err"
}

# expect STATUS ARGS...: runs fnn ARGS and checks its exit status.
expect() {
    local want=$1
    shift
    run_fnn "$@"
    if [ "$status" -ne "$want" ]; then
        show
        fail "fnn $* exited $status, expected $want"
    fi
}

# has FILE TEXT: FILE (out or err) holds the line TEXT exactly.
has() {
    if ! grep -qxF -- "$2" "$tmp/$1"; then
        show
        fail "std$1 lacks the line: $2"
    fi
}

# has_part FILE TEXT: some line of FILE (out or err) contains TEXT.
has_part() {
    if ! grep -qF -- "$2" "$tmp/$1"; then
        show
        fail "std$1 lacks: $2"
    fi
}

# accuracy ROW COLUMN: a figure of the before/after table (COLUMN 2 is before,
# 3 after) of the last run, without its '%'.
accuracy() {
    awk -v row="$1" -v which="$2" '
        $1 == "accuracy" && $2 == "before" { table = 1; next }
        table && index($0, row) == 1 {
            v = which == "before" ? $(NF - 1) : $NF; sub(/%$/, "", v); print v; exit }' \
        "$tmp/out"
}

# check_that EXPR: an awk expression over the variables passed with -v.
check_that() {
    local expr=$1
    shift
    if ! awk "$@" "BEGIN { exit !($expr) }"; then
        show
        fail "not true: $expr ($*)"
    fi
}

# ---- the data set -------------------------------------------------------------

# Class c lights one region of the image (c 0: top left, 1: top right,
# 2: bottom half); the rest is dark noise. Labels cycle 0, 1, 2.
python3 "$(dirname "${BASH_SOURCE[0]}")/tiny_idx.py" "$data"

# The directory loader gives every data set 10 classes, so the output layer
# has 10 units; only 3 of them are used.
model=$tmp/model.fnn
expect 0 train --data "$data" --arch input:4x4x1,dense:16,relu,dense:10 --epochs 30 \
    --lr 0.01 --optimizer adam --out "$model"
expect 0 eval --model "$model" --data "$data"
has_part out "accuracy 100.00%  "

base=(forget --model "$model" --data "$data")

# ---- a model whose outputs overflow --------------------------------------------

# Every weight and bias FLT_MAX (finite, so the file loads): its outputs are
# not finite, and nothing may report a figure for it or save it unlearned.
python3 - "$model" "$tmp/overflow.fnn" <<'EOF'
import struct, sys, zlib
b = bytearray(open(sys.argv[1], "rb").read())
pos, sections = 32, struct.unpack_from("<I", b, 20)[0]
for _ in range(sections):
    tag, _flags, length = struct.unpack_from("<4sIQ", b, pos)
    if tag == b"PARM":
        count = struct.unpack_from("<Q", b, pos + 16)[0]
        struct.pack_into("<%dI" % count, b, pos + 24, *([0x7F7FFFFF] * count))
    pos += 16 + length + (-length % 4)
struct.pack_into("<I", b, len(b) - 4, zlib.crc32(bytes(b[:-4])))
open(sys.argv[2], "wb").write(b)
EOF
expect 0 info --model "$tmp/overflow.fnn"
expect 1 eval --model "$tmp/overflow.fnn" --data "$data"
has_part err "the model's outputs are not finite"
[ ! -s "$tmp/out" ] || fail "eval of an overflowing model printed figures"
expect 1 forget --model "$tmp/overflow.fnn" --data "$data" --forget-class 1 \
    --out "$tmp/never.fnn"
has_part err "the model's outputs are not finite"
[ ! -e "$tmp/never.fnn" ] || fail "forget saved an overflowing model"

# ---- --forget-class -------------------------------------------------------------

# Repair on the whole retain set, 5 epochs a step, and a budget that pays for
# it: enough for 133 samples.
out=$tmp/class.fnn
expect 0 "${base[@]}" --forget-class 1 --repair-samples 133 --repair-epochs 5 --budget 1 \
    --out "$out"
has out "method fnn, policy contrast (automatic)"
has out "forget set: 67 samples (class 1)   retain set: 133 samples"
has out "phase  kind     turn  t   epochs  seconds  forget*  retain*  test*"
has out "* on fixed monitoring samples of at most 2000 samples per set (--eval-samples)"
has out "accuracy                         before   after"
has_part out "forget (all 67)   "
has_part out "retain (sample of 133 of 133)   "
has_part out "test (all 100)   "
# A class request also shows the other classes of the test split, untouched.
check_that 'b >= 99 && a >= 99' -v b="$(accuracy 'test, other classes' before)" \
    -v a="$(accuracy 'test, other classes' after)"
has_part out "target 0.00% (reached: yes), final t "
has out "saved $out"
[ -s "$out" ] || fail "$out was not written"
check_that 'b >= 99 && a < 10' -v b="$(accuracy forget before)" -v a="$(accuracy forget after)"
check_that 'a >= 99' -v a="$(accuracy retain after)"
# A third of the test set is class 1, now forgotten.
check_that 'a >= 60 && a <= 70' -v a="$(accuracy 'test (all' after)"
# One decay phase per round, the last at the final t; the phases' epochs add
# up to the run's.
awk '
    $2 == "decay" { phases++; t = $4; epochs += $5 }
    /^target / { final = $0; sub(/.*final t /, "", final); sub(/,.*/, "", final)
                 total = $0; sub(/ epochs?,.*/, "", total); sub(/.*, /, "", total) }
    END { exit !(phases > 0 && final == t && total == epochs) }' \
    "$tmp/out" || {
    show
    fail "phase lines do not match the summary"
}
# The saved model is the one the report describes.
after=$(accuracy 'test (all' after)
expect 0 eval --model "$out" --data "$data"
has_part out "accuracy $after%  "

# Options reach the library: with the output layer alone decaying, t = 1, 2,
# 3 and no repair, random samples do not fall to a target of 0% and the run
# stops at t 3 after 3 phases of 0 epochs. The model is saved, the run warns
# and exits 3.
expect 3 "${base[@]}" --forget-random 20 --target 0 --decay-output 2 --t-start 1 --t-step 1 \
    --max-t 3 --repair-epochs 0 --out "$tmp/t3.fnn"
has_part out "(reached: no), final t 3, 0 epochs, "
has_part err "fnn: warning: the forget-set accuracy ("
has_part err "did not reach its target (0.00%) by t = 3; the model was saved, exit status 3"
[ -s "$tmp/t3.fnn" ] || fail "a run that missed its target did not save"
check_that 'n == 3' -v n="$(grep -c '^[0-9].* decay ' "$tmp/out")"

# The paper procedure: learn and unlearn phases per turn, no target line.
expect 0 "${base[@]}" --forget-class 0 --method fnn-paper --turns 2 --unlearn-epochs 1 \
    --policy topk --topk 4 --out "$tmp/paper.fnn"
has out "method fnn-paper, policy topk"
check_that 'n == 2' -v n="$(grep -c '^[0-9]* *learn ' "$tmp/out")"
check_that 'n == 2' -v n="$(grep -c '^[0-9]* *unlearn ' "$tmp/out")"
has_part out "final t 1, 4 epochs, "
if grep -q '^target' "$tmp/out"; then
    show
    fail "the paper procedure printed a target"
fi

# ---- --forget-indices -----------------------------------------------------------

list=$tmp/indices.txt
printf '# samples to forget\n0 1 2\n\t10  11 # two more\n\n199\r\n5#no space before\n' >"$list"
out=$tmp/indices.fnn
expect 0 "${base[@]}" --forget-indices "$list" --out "$out"
has out "forget set: 7 samples (indices from $list)   retain set: 193 samples"
# The automatic target of an index request is the test accuracy before.
has_part out "target $(accuracy 'test (all' before)% (reached: "
[ -s "$out" ] || fail "$out was not written"

# ---- --forget-random ------------------------------------------------------------

expect 0 "${base[@]}" --forget-random 20 --seed 7 --out "$tmp/r1.fnn"
has out "forget set: 20 samples (random, seed 7)   retain set: 180 samples"
expect 0 "${base[@]}" --forget-random 20 --seed 7 --out "$tmp/r2.fnn"
cmp -s "$tmp/r1.fnn" "$tmp/r2.fnn" || fail "two runs with --seed 7 saved different models"
expect 0 "${base[@]}" --forget-random 20 --seed 8 --out "$tmp/r3.fnn"
has out "forget set: 20 samples (random, seed 8)   retain set: 180 samples"
! cmp -s "$tmp/r1.fnn" "$tmp/r3.fnn" || fail "--seed 7 and --seed 8 saved the same model"
# --target is a fraction; this data set's random samples keep 100% accuracy,
# so the run ends at --max-t without reaching 50%.
expect 3 "${base[@]}" --forget-random 20 --target 0.5 --out "$tmp/r4.fnn"
has_part out "target 50.00% (reached: "
has out "forget set: 20 samples (random, seed 0)   retain set: 180 samples"

# ---- usage errors: exit 2, nothing written ----------------------------------------

never=$tmp/never.fnn
expect 2 "${base[@]}" --out "$never"
has err "fnn: forget: one of --forget-class, --forget-random or --forget-indices is required"
has err "Try 'fnn forget --help'."
expect 2 "${base[@]}" --forget-class 1 --forget-random 5 --out "$never"
has err "fnn: forget: --forget-class and --forget-random exclude each other"
expect 2 "${base[@]}" --forget-random 5 --forget-indices "$list" --out "$never"
has err "fnn: forget: --forget-random and --forget-indices exclude each other"
expect 2 "${base[@]}" --forget-class 1 --policy bogus --out "$never"
has err "fnn: forget: --policy: policy must be fixed, ordered, rank, topk, random or contrast, or -1 (automatic), got 'bogus'"
expect 2 "${base[@]}" --forget-class 1 --method bogus --out "$never"
has err "fnn: forget: --method: method must be fnn, fnn-paper, retrain, finetune, neggrad, newton or none, got 'bogus'"
expect 2 "${base[@]}" --forget-class 1 --procedure paper --out "$never"
has err "fnn: forget: unknown option '--procedure'"
expect 2 "${base[@]}" --forget-class 1 --target 1.5 --out "$never"
has err "fnn: forget: --target: target must be a number in [0, 1], or -1 (automatic), got 1.5"
expect 2 "${base[@]}" --forget-class 1 --decay-output 3 --out "$never"
has err "fnn: forget: --decay-output: decay-output must be an integer in 0..2, or -1 (automatic), got 3"
expect 2 "${base[@]}" --forget-class 1 --lr 0 --out "$never"
has err "fnn: forget: --lr: lr must be a number in (0, 1000000), got 0"
expect 2 "${base[@]}" --forget-class 1 --tau 5 --out "$never"
has err "fnn: forget: --tau applies to --policy fixed only"
expect 2 "${base[@]}" --forget-class 1 --topk 5 --policy ordered --out "$never"
has err "fnn: forget: --topk applies to --policy topk or random only"
expect 2 "${base[@]}" --forget-class 1 --turns 3 --out "$never"
has err "fnn: forget: --turns applies to --method fnn-paper only"
expect 2 "${base[@]}" --forget-class 1 --method fnn-paper --max-t 3 --out "$never"
has err "fnn: forget: --max-t applies to --method fnn only"
expect 2 "${base[@]}" --forget-class 1 --method retrain --policy rank --out "$never"
has err "fnn: forget: --policy applies to --method fnn and fnn-paper only"
expect 2 "${base[@]}" --forget-class 1
has err "fnn: forget: option '--out' is required"
[ ! -e "$never" ] || fail "a usage error wrote $never"

# ---- request errors: exit 1 with the reason, nothing written ----------------------

# bad_indices CONTENT MESSAGE: an index file holding CONTENT (printf %b
# escapes) makes fnn forget fail with "fnn: --forget-indices FILE: MESSAGE".
bad=$tmp/bad.txt
bad_indices() {
    printf '%b' "$1" >"$bad"
    expect 1 "${base[@]}" --forget-indices "$bad" --out "$never"
    has err "fnn: --forget-indices $bad: $2"
}
bad_indices '1 2\n# fine so far\n3 4x 5\n' \
    "line 3: '4x' is not a decimal index (bad or inconsistent file format)"
bad_indices '7\n-1\n' "line 2: '-1' is not a decimal index (bad or inconsistent file format)"
bad_indices '8 +9\n' "line 1: '+9' is not a decimal index (bad or inconsistent file format)"
bad_indices '0x10\n' "line 1: '0x10' is not a decimal index (bad or inconsistent file format)"
bad_indices '1\n\n\n4294967296\n' \
    "line 4: 4294967296 is larger than 4294967295 (bad or inconsistent file format)"
bad_indices '2 123456789012345678901234567890\n' \
    "line 1: 123456789012345678901234... is larger than 4294967295 (bad or inconsistent file format)"
bad_indices '# nothing\n\n' "no indices in the text (empty data set or request)"
bad_indices '3 200 4\n' "request_from_indices: index 200 at position 1 is >= size 200 (index or label out of range)"
bad_indices '3 4 3\n' "request_from_indices: index 3 appears at positions 0 and 2 (duplicate index)"
expect 1 "${base[@]}" --forget-indices "$tmp/missing.txt" --out "$never"
has err "fnn: --forget-indices $tmp/missing.txt: No such file or directory (input/output error)"
expect 1 "${base[@]}" --forget-class 12 --out "$never"
has err "fnn: --forget-class 12: request_from_class: label 12 is outside [0, 10) (index or label out of range)"
expect 1 "${base[@]}" --forget-class 5 --out "$never"
has err "fnn: --forget-class 5: request_from_class: none of the 200 samples has label 5 (empty data set or request)"
expect 1 "${base[@]}" --forget-random 200 --out "$never"
has err "fnn: --forget-random 200: request_random: count 200 is not below the size 200; nothing would be retained (index or label out of range)"
[ ! -e "$never" ] || fail "a failed request wrote $never"

# The help lists every option with the library's defaults.
expect 0 forget --help
for option in model data out forget-class forget-random forget-indices method policy \
    tau topk max-t target repair-epochs repair-samples budget t-start t-step rank-samples \
    monitor-samples turns learn-epochs unlearn-epochs \
    batch lr lr-gamma fold decay-output seed neggrad-alpha newton-l2 eval-samples; do
    has_part out "  --$option "
done
has out "  --max-t X           largest forgetting clock t: an integer in 1..1000000 [32]"
expect 0 --help
has out "  forget    make a saved model forget part of its training data"

# ---- every method -------------------------------------------------------------

# Each method of the library's table runs through --method and saves a model
# that evaluates; exact retraining forgets the class completely.
"$fnn" forget --help >"$tmp/help"
methods=$(awk '/^Methods/ { on = 1; next } on && /^$/ { exit }
               on && /^  [a-z]/ { print $1 }' "$tmp/help")
[ "$(echo "$methods" | wc -l)" -eq 7 ] || fail "expected 7 methods in the help, got: $methods"
for method in $methods; do
    out=$tmp/m-$method.fnn
    # 200 samples: fnn's default share of the training cannot pay for a repair.
    budget=()
    [ "$method" != fnn ] || budget=(--budget 1)
    expect 0 "${base[@]}" --forget-class 2 --method "$method" "${budget[@]}" --out "$out"
    has_part out "method $method"
    [ -s "$out" ] || fail "--method $method did not save"
    expect 0 eval --model "$out" --data "$data"
done
expect 0 "${base[@]}" --forget-class 2 --method retrain --out "$tmp/re.fnn"
check_that 'a == 0' -v a="$(accuracy forget after)"
# The inner training options reach the method: one epoch of fine-tuning on
# the retain set.
expect 0 "${base[@]}" --forget-class 2 --method finetune --epochs 1 --lr 0.001 \
    --out "$tmp/ft.fnn"
has_part out "1 epoch, "
# A model without a recipe cannot be retrained unless the recipe is given.
expect 0 train --data "$data" --arch input:4x4x1,dense:16,relu,dense:10 --epochs 5 \
    --out "$tmp/plain.fnn"
expect 0 info --model "$tmp/plain.fnn"
has_part out "recipe      1 training call on 200 samples, init seed 0"

# ---- one recipe: fnn train and a C program following the header -----------------

# 300 28x28 images of 10 classes, so that the mlp preset applies.
big=$tmp/big
mkdir -p "$big"
python3 - "$big" <<'EOF'
import os, random, struct, sys
rng = random.Random(2)
for prefix, n in (("train", 300), ("t10k", 50)):
    labels = [i % 10 for i in range(n)]
    pixels = bytearray()
    for y in labels:
        for r in range(28):
            for c in range(28):
                lit = r // 7 == y % 4 and c // 7 == y // 4
                pixels.append(rng.randint(150, 255) if lit else rng.randint(0, 90))
    with open(os.path.join(sys.argv[1], prefix + "-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">IIII", 0x00000803, n, 28, 28) + pixels)
    with open(os.path.join(sys.argv[1], prefix + "-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 0x00000801, n) + bytes(labels))
EOF
expect 0 train --data "$big" --arch mlp --epochs 2 --seed 5 --out "$tmp/cli.fnn"
"$1/tests/train_like_cli" "$big" mlp 2 5 "$tmp/lib.fnn" || fail "train_like_cli failed"
cmp -s "$tmp/cli.fnn" "$tmp/lib.fnn" ||
    fail "fnn train and a program following fnn.h saved different models"
# The recorded recipe is the preset's, normalisation included.
expect 0 info --model "$tmp/cli.fnn"
has_part out "--optimizer sgd --lr 0.05"
has_part out "--seed 5 --shuffle 1 --normalize 1"
# Retraining with it, on all but one class, runs.
expect 0 forget --model "$tmp/cli.fnn" --data "$big" --forget-class 3 --method retrain \
    --out "$tmp/cli-re.fnn"

# ---- fnn bench on the small data set, with LiRA and U-LiRA -----------------------

# The architecture is a specification: the library's default recipe, with
# the training options given.
expect 0 bench --data "$data" --arch input:4x4x1,dense:16,relu,dense:10 --epochs 30 \
    --lr 0.01 --holdout 40 --request class:1 --request random:20 --shadows 4 --threads 2 \
    --json "$tmp/bench.json" --csv "$tmp/bench.csv"
has_part out "(30 epochs), request class:1: forget 50, retain 110; MIA against 17 held-out"
has_part out "LiRA AUC"
python3 - "$tmp/bench.json" <<'EOF'
import json, sys
rows = json.load(open(sys.argv[1]))["rows"]
assert len(rows) == 14, len(rows)
for r in rows:
    for k in ("lira_auc", "ulira_auc"):
        assert r[k] is not None and 0 <= r[k] <= 1, (k, r)
assert all(r["avg_gap"] == 0 for r in rows if r["method"] == "retrain")
EOF
check_that 'n == 15' -v n="$(wc -l <"$tmp/bench.csv")"
expect 2 bench --data "$data" --request class:x
has err "fnn: bench: --request: expected class:C, random:N or random:P%, got 'class:x'"
expect 2 bench --data "$data" --methods fnn,bogus
has_part err "'bogus' is not a method"
expect 2 bench --quick --full
has err "fnn: bench: --quick and --full exclude each other"
expect 2 bench --data "$data" --lr -1
has err "fnn: bench: --lr: lr must be a number in (0, 1000000), got -1"

# ---- held-out samples: fnn train --holdout, fnn forget, fnn audit ----------------

held=$tmp/held.fnn
expect 0 train --data "$data" --arch input:4x4x1,dense:16,relu,dense:10 --epochs 30 \
    --lr 0.01 --holdout 50 --seed 3 --out "$held"
has_part out "150 train (50 of 200 held out by seed 3)"
expect 0 info --model "$held"
has_part out "recipe      1 training call on 150 samples, init seed 3"
has out "history     no deletions recorded"
# fnn forget finds the held-out samples again: they are the holdout.
expect 0 forget --model "$held" --data "$data" --forget-class 1 --repair-epochs 5 \
    --out "$tmp/held-f.fnn"
has out "holdout: the 50 samples of the train split the model was trained without"
has_part out "held-out (all 50) "
has_part out "loss attack, forget vs held-out "
check_that 'n == 150 - f' -v n="$(sed -n 's/.*retain set: \([0-9]*\) samples.*/\1/p' "$tmp/out")" \
    -v f="$(sed -n 's/^forget set: \([0-9]*\) samples.*/\1/p' "$tmp/out")"
expect 0 forget --model "$held" --data "$data" --forget-class 1 --method retrain \
    --out "$tmp/held-r.fnn"
# The deletion history records the run.
expect 0 info --model "$tmp/held-f.fnn"
has_part out "deletion 1  fnn: class 1, "
has_part out "            sha256 of the indices "
# Indices are positions in the train split; a held-out one was never trained on.
printf '0 1 2 3 4 5 6 7 8 9\n' >"$tmp/ten.txt"
expect 1 forget --model "$held" --data "$data" --forget-indices "$tmp/ten.txt" --out "$never"
has_part err "is one of the model's held-out samples: it was never trained on"
# The audit: the history matches, the reference gives the Avg. Gap, the
# shadow attacks run, the report is JSON.
expect 0 audit --model "$tmp/held-f.fnn" --data "$data" --forget-class 1 \
    --reference "$tmp/held-r.fnn" --shadows 4 --threads 2 --report "$tmp/audit.json"
has out "deletion history: matches record 1 (method fnn)"
has_part out "Avg. Gap to the reference: "
has_part out "shadow attacks: 4 shadows on halves of 200 samples; U-LiRA's shadows unlearned"
python3 - "$tmp/audit.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["request"]["kind"] == "class" and r["request"]["history_record"] == 1, r["request"]
assert r["request"]["method"] == "fnn" and len(r["request"]["sha256"]) == 64
assert r["nonmembers"]["source"] == "held-out"
for side in ("audited", "reference"):
    for k in ("forget_acc", "retain_acc", "heldout_acc", "test_acc", "mia", "auc",
              "tpr_1", "tpr_01", "lira_auc"):
        assert 0 <= r[side][k] <= 1, (side, k, r[side][k])
assert 0 <= r["audited"]["ulira_auc"] <= 1
assert r["avg_gap"] >= 0 and len(r["history"]) == 1
assert r["history"][0]["sha256"] == r["request"]["sha256"]
EOF
# A request the history does not hold, and a model with no held-out samples.
expect 0 audit --model "$tmp/held-f.fnn" --data "$data" --forget-class 2 --shadows 0
has out "deletion history: no record matches this request"
has out "shadow attacks: off (--shadows 0)"
expect 0 audit --model "$model" --data "$data" --forget-class 1 --shadows 2
has_part out "non-members: 33 samples of the test split, of the class"
has out "shadow attacks: left out: the model has no held-out samples"
expect 2 audit --model "$held" --data "$data"
has_part err "one of --forget-class, --forget-random or --forget-indices is required"

# ---- the option domains are the library's -------------------------------------

"$1/tests/print_keys" >"$tmp/keys" || fail "print_keys failed"
while IFS=$'\t' read -r set name domain; do
    if [ "$set" = train ]; then
        expect 0 train --help
    else
        expect 0 forget --help
    fi
    # The help line may wrap: compare with the lines joined.
    tr '\n' ' ' <"$tmp/out" | tr -s ' ' >"$tmp/joined"
    grep -qF -- "--$name " "$tmp/joined" || fail "help lacks --$name"
    grep -qF -- "$(echo "$domain" | tr -s ' ')" "$tmp/joined" ||
        fail "help of --$name lacks the library's domain '$domain'"
done <"$tmp/keys"
# An out-of-range value is a usage error that states the library's domain.
expect 2 train --data "$data" --arch mlp --epochs 1000001 --out "$never"
has err "fnn: train: --epochs: epochs must be an integer in 1..1000000, got 1000001"
expect 2 "${base[@]}" --forget-class 1 --max-t 0 --out "$never"
has err "fnn: forget: --max-t: max-t must be an integer in 1..1000000, got 0"

echo "ok: fnn forget"
