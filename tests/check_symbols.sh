#!/bin/bash
# Checks that a shared library exports exactly the functions its headers
# declare with FNN_API: no undocumented symbol leaks out, and no documented
# function is missing. Data symbols must not be exported at all.
#
# Usage: tests/check_symbols.sh LIBFNN_SO HEADER...
# Prints the difference and exits 1 when the two sets differ; exits 2 on a
# usage or tool error.
set -euo pipefail

if [ "$#" -lt 2 ]; then
    echo "usage: $0 LIBFNN_SO HEADER..." >&2
    exit 2
fi
lib=$1
shift
headers=("$@")
header=${headers[*]}
for f in "$lib" "${headers[@]}"; do
    if [ ! -r "$f" ]; then
        echo "$0: cannot read $f" >&2
        exit 2
    fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Declared: comments and preprocessor lines removed, then the identifier right
# before the '(' of every declaration that starts with FNN_API.
perl -0777 -ne '
    s{/\*.*?\*/}{ }gs;
    s{//[^\n]*}{}g;
    s{^[ \t]*#(?:[^\n]*\\\n)*[^\n]*}{}mg;
    print "$1\n" while /\bFNN_API\b[^;{}()]*?\b([A-Za-z_]\w*)\s*\(/g;
' "${headers[@]}" | LC_ALL=C sort >"$tmp/declared.raw"
LC_ALL=C sort -u "$tmp/declared.raw" >"$tmp/declared"
if ! cmp -s "$tmp/declared.raw" "$tmp/declared"; then
    echo "FAIL: $header declares a function more than once:"
    LC_ALL=C uniq -d "$tmp/declared.raw" | sed 's/^/  /'
    exit 1
fi
if [ ! -s "$tmp/declared" ]; then
    echo "$0: no FNN_API declarations found in $header" >&2
    exit 2
fi

# Exported: defined dynamic symbols, version suffixes (name@@NODE) removed.
# Type A is the version node itself (FNN_0.1), which is expected.
nm -D --defined-only "$lib" >"$tmp/nm"
awk 'NF >= 3 { sub(/@.*/, "", $3); print $2, $3 }' "$tmp/nm" >"$tmp/typed"
awk '$1 ~ /^[TtWi]$/ { print $2 }' "$tmp/typed" | LC_ALL=C sort -u >"$tmp/exported"
awk '$1 !~ /^[TtWiA]$/ { print $2 " (type " $1 ")" }' "$tmp/typed" |
    LC_ALL=C sort -u >"$tmp/data"

status=0
if [ -s "$tmp/data" ]; then
    echo "FAIL: $lib exports symbols that are not functions:"
    sed 's/^/  /' "$tmp/data"
    status=1
fi
LC_ALL=C comm -23 "$tmp/exported" "$tmp/declared" >"$tmp/extra"
LC_ALL=C comm -13 "$tmp/exported" "$tmp/declared" >"$tmp/missing"
if [ -s "$tmp/extra" ]; then
    echo "FAIL: exported by $lib but not declared with FNN_API in $header:"
    sed 's/^/  /' "$tmp/extra"
    status=1
fi
if [ -s "$tmp/missing" ]; then
    echo "FAIL: declared with FNN_API in $header but not exported by $lib:"
    sed 's/^/  /' "$tmp/missing"
    status=1
fi
if [ "$status" -eq 0 ]; then
    echo "ok: $(wc -l <"$tmp/declared") functions, exported exactly as declared"
fi
exit "$status"
