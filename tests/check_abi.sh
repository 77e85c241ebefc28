#!/bin/bash
# The ABI guard (docs/ABI.md): compares libfnn.so with the stored baseline
# made by libabigail's abidw, and fails when an exported function was removed
# or its signature (the types of its parameters and result, as the public
# header defines them) changed. Added functions pass, as do changes to the
# opaque handles' private layout. Then it checks itself: a copy of the
# baseline with one signature changed, and one with a function the library
# lacks, must both fail.
#
# Usage: tests/check_abi.sh BASELINE LIBFNN_SO HEADERS_DIR
#        tests/check_abi.sh --update BASELINE LIBFNN_SO HEADERS_DIR
# --update writes BASELINE from LIBFNN_SO (tools/update-abi-baseline).
# Exit status: 0 pass, 1 ABI change, 2 usage or tool error, 77 skipped
# (abidiff or abidw not installed: Debian package abigail-tools).
set -euo pipefail

update=0
if [ "${1:-}" = "--update" ]; then
    update=1
    shift
fi
if [ "$#" -ne 3 ]; then
    echo "usage: $0 [--update] BASELINE LIBFNN_SO HEADERS_DIR" >&2
    exit 2
fi
baseline=$1
lib=$2
headers=$3
for tool in abidw abidiff; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "SKIP: $tool not found (install abigail-tools); the ABI is not checked"
        exit 77
    fi
done
[ -r "$lib" ] || { echo "$0: cannot read $lib" >&2; exit 2; }
[ -d "$headers" ] || { echo "$0: no directory $headers" >&2; exit 2; }
# Captured first: grep -q closing the pipe early would fail readelf under pipefail.
sections=$(readelf -S "$lib")
if ! grep -q '\.debug_info' <<<"$sections"; then
    echo "$0: $lib has no DWARF (the library is built with -g: lib/meson.build)" >&2
    exit 2
fi

# Public types only (those of the headers), no paths or locations of this
# machine, so the file depends on the ABI alone.
dump() {
    abidw --headers-dir "$headers" --drop-private-types --no-corpus-path \
        --no-comp-dir-path --no-show-locs --no-elf-needed --drop-undefined-syms \
        --exported-interfaces-only --type-id-style hash --out-file "$1" "$lib"
}

if [ "$update" -eq 1 ]; then
    dump "$baseline"
    echo "ok: wrote $baseline from $lib ($(grep -c '<function-decl ' "$baseline") functions)"
    exit 0
fi
[ -r "$baseline" ] || { echo "$0: cannot read $baseline" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Status 0: nothing but additions and private changes; abidiff's bit 4 is an
# ABI change, bit 8 an incompatible one, bits 1 and 2 its own errors.
compare() {
    local rc=0
    abidiff --no-added-syms --headers-dir2 "$headers" "$1" "$lib" >"$tmp/report" 2>&1 || rc=$?
    return "$rc"
}

status=0
rc=0
compare "$baseline" || rc=$?
if [ "$rc" -eq 0 ]; then
    echo "ok: the exported functions of $(basename "$lib") match $baseline" \
        "($(grep -c '<function-decl ' "$baseline") in the baseline; additions are allowed)"
elif [ $((rc & 3)) -ne 0 ]; then
    cat "$tmp/report"
    echo "$0: abidiff failed (status $rc)" >&2
    exit 2
else
    echo "FAIL: the ABI of $lib differs from $baseline:"
    cat "$tmp/report"
    echo "A released function or type changed or disappeared. docs/ABI.md says when"
    echo "the baseline may be updated (tools/update-abi-baseline) and when not."
    status=1
fi

# The guard itself: a changed signature (fnn_model_num_classes returning a
# double instead of a uint32_t) and a removed function must fail.
dbl=$(perl -ne "if (/<type-decl name='double' [^>]*id='([^']*)'/) { print \$1; exit }" "$baseline")
[ -n "$dbl" ] || { echo "$0: no double in $baseline" >&2; exit 2; }
perl -0pe "s{(<function-decl name='fnn_model_num_classes'.*?<return type-id=')[^']*(')}{\${1}$dbl\${2}}s" \
    "$baseline" >"$tmp/changed.abi"
perl -0pe "s{(    <elf-symbol name='fnn_model_clock' [^\n]*\n)}{\$1\$1}; s{(<elf-symbol name=')fnn_model_clock(')}{\${1}fnn_model_vanished\$2}; s{(<function-decl name='fnn_model_clock'.*?</function-decl>\n)}{\$1 . (\$1 =~ s/fnn_model_clock/fnn_model_vanished/gr)}se" \
    "$baseline" >"$tmp/removed.abi"
for case in changed removed; do
    if cmp -s "$baseline" "$tmp/$case.abi"; then
        echo "$0: could not make the $case baseline" >&2
        exit 2
    fi
    rc=0
    compare "$tmp/$case.abi" || rc=$?
    if [ $((rc & 12)) -eq 0 ]; then
        echo "FAIL: the guard misses a $case function (abidiff status $rc)"
        cat "$tmp/report"
        status=1
    else
        echo "ok: a $case function fails the check ($(grep -m1 'Functions changes summary' "$tmp/report"))"
    fi
done
exit "$status"
