#!/bin/bash
# Checks the installed library as a user gets it: installs a build into a
# temporary DESTDIR, then checks the files, the SONAME, the pkg-config file,
# builds docs/example.c against the installed headers and library with
# pkg-config alone (once linked to libfnn.so, once to libfnn.a with
# `pkg-config --static`), runs both, and runs the installed fnn CLI on its
# model. Then the installed tree is moved to a temporary prefix of its own,
# where `fnn version` must run and `import fnn` must work with
# /usr/bin/python3, neither with LD_LIBRARY_PATH: what is installed finds
# the library relative to itself.
#
# Usage: tests/check_install.sh BUILDDIR [EXAMPLE_C]
# EXAMPLE_C defaults to docs/example.c beside this script. CC (default cc),
# MESON (default meson) and PYTHON (default /usr/bin/python3) may be set in
# the environment.
set -euo pipefail

if [ "$#" -lt 1 ] || [ "$#" -gt 2 ]; then
    echo "usage: $0 BUILDDIR [EXAMPLE_C]" >&2
    exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
builddir=$(cd "$1" && pwd)
example=${2:-$here/../docs/example.c}
[ -r "$example" ] || {
    echo "$0: cannot read $example" >&2
    exit 2
}
meson=${MESON:-meson}
cc=${CC:-cc}
python=${PYTHON:-/usr/bin/python3}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

fail() {
    echo "FAIL: $*"
    exit 1
}

# Runs a command with its output kept in $tmp/out; shows it on failure. The
# command never sees an LD_LIBRARY_PATH unless given one (env VAR=... cmd).
run() {
    if ! env -u LD_LIBRARY_PATH "$@" >"$tmp/out" 2>&1; then
        cat "$tmp/out"
        fail "$*"
    fi
}

run "$meson" install -C "$builddir" --destdir "$root" --no-rebuild

# Exactly one of each installed file.
find_one() {
    local what=$1 found
    shift
    found=$(find "$root" "$@")
    [ -n "$found" ] || fail "nothing installed matches: $what"
    [ "$(printf '%s\n' "$found" | wc -l)" -eq 1 ] || fail "more than one $what: $found"
    printf '%s\n' "$found"
}
pc=$(find_one "fnn.pc" -path '*/pkgconfig/fnn.pc' -type f)
header=$(find_one "fnn/fnn.h" -path '*/include/fnn/fnn.h' -type f)
find_one "fnn/fnn_version.h" -path '*/include/fnn/fnn_version.h' -type f >/dev/null
cli=$(find_one "bin/fnn" -path '*/bin/fnn' -type f)
real=$(find_one "libfnn.so.0.*" -name 'libfnn.so.0.*' -type f)
static=$(find_one "libfnn.a" -name 'libfnn.a' -type f)
libdir=$(dirname "$real")
[ "$(dirname "$static")" = "$libdir" ] || fail "libfnn.a is not beside $real"
[ -L "$libdir/libfnn.so.0" ] || fail "$libdir/libfnn.so.0 is not a symlink"
[ -L "$libdir/libfnn.so" ] || fail "$libdir/libfnn.so is not a symlink"
[ "$(readlink -f "$libdir/libfnn.so")" = "$(readlink -f "$real")" ] ||
    fail "libfnn.so does not lead to $real"
soname=$(readelf -d "$real" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
[ "$soname" = "libfnn.so.0" ] || fail "SONAME is '$soname', expected libfnn.so.0"
echo "ok: installed $(basename "$real") (SONAME $soname), libfnn.a, headers, fnn.pc, bin/fnn"

# The prefix: what the DESTDIR holds above bin/.
prefix_dir=$(dirname "$(dirname "$cli")")
prefix=${prefix_dir#"$root"}

# pkg-config sees the DESTDIR through its sysroot; system directories are kept
# in the flags so that a --prefix=/usr build is found there too.
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_SYSROOT_DIR=$root
export PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1
version=$(pkg-config --modversion fnn) || fail "pkg-config does not find fnn"
cflags=$(pkg-config --cflags fnn)
libs=$(pkg-config --libs fnn)
case " $cflags " in
*" -I$(dirname "$(dirname "$header")") "*) ;;
*) fail "pkg-config --cflags fnn ($cflags) does not point at the installed headers" ;;
esac
case " $libs " in
*" -L$libdir "*) ;;
*) fail "pkg-config --libs fnn ($libs) does not point at $libdir" ;;
esac
grep -q '^URL:' "$pc" && fail "fnn.pc has a URL field; the project publishes none"
grep -q '^Requires.private:.*openblas' "$pc" || fail "fnn.pc lacks Requires.private: $(cat "$pc")"
grep -q '^Libs.private:.*-lm' "$pc" || fail "fnn.pc lacks Libs.private: $(cat "$pc")"

# Only the installed files: the example is compiled outside the source tree.
cp "$example" "$tmp/example.c"
# shellcheck disable=SC2086 # the flags are words
run "$cc" -std=c11 -Wall -Wextra -Werror "$tmp/example.c" $cflags $libs -o "$tmp/example"
# Captured first: grep -q closing the pipe early would fail ldd under pipefail.
deps=$(LD_LIBRARY_PATH=$libdir ldd "$tmp/example")
case "$deps" in
*"libfnn.so.0 => $libdir/libfnn.so.0"*) ;;
*) fail "the example does not load the installed libfnn: $(printf '%s\n' "$deps" | grep libfnn)" ;;
esac
echo "ok: example built with pkg-config (fnn $version)"

(cd "$tmp" && run LD_LIBRARY_PATH="$libdir" ./example "$tmp/example.fnn")
cat "$tmp/out"
acc=$(sed -n 's/^test accuracy \([0-9.]*\)%, mean loss [0-9.]*$/\1/p' "$tmp/out")
[ -n "$acc" ] || fail "the example printed no 'test accuracy' line"
grep -qx "reloaded from $tmp/example.fnn: test accuracy $acc%" "$tmp/out" ||
    fail "the example printed no matching 'reloaded' line"
awk -v a="$acc" 'BEGIN { exit !(a >= 90) }' ||
    fail "the example's test accuracy $acc% is below 90%"
echo "ok: example trained, saved and reloaded a model (test accuracy $acc%)"

# The same example linked to libfnn.a: `pkg-config --static` must name every
# library libfnn.a needs (Libs.private, Requires.private); the program then
# needs no libfnn.so at all.
libs_static=$(pkg-config --static --libs fnn)
libs_static=" $libs_static "
libs_static=${libs_static/ -lfnn / -Wl,-Bstatic -lfnn -Wl,-Bdynamic }
# shellcheck disable=SC2086 # the flags are words
run "$cc" -std=c11 -Wall -Wextra -Werror "$tmp/example.c" $cflags $libs_static \
    -o "$tmp/example-static"
deps=$(ldd "$tmp/example-static")
case "$deps" in
*libfnn*) fail "the static example still loads libfnn: $(printf '%s\n' "$deps" | grep libfnn)" ;;
esac
(cd "$tmp" && run ./example-static "$tmp/example-static.fnn")
grep -qx "test accuracy $acc%, mean loss [0-9.]*" "$tmp/out" ||
    fail "the static example printed '$(head -n 1 "$tmp/out")', expected test accuracy $acc%"
echo "ok: example linked to libfnn.a with pkg-config --static (test accuracy $acc%)"

# The installed CLI runs against the installed library and reads the model,
# without LD_LIBRARY_PATH.
dynamic=$(readelf -d "$cli")
grep -q 'R.*PATH.*\$ORIGIN' <<<"$dynamic" ||
    fail "bin/fnn has no \$ORIGIN run path: $(grep -i path <<<"$dynamic")"
run "$cli" version
grep -qx "fnn $version (libfnn $version)" "$tmp/out" ||
    fail "fnn version printed '$(cat "$tmp/out")', expected fnn $version (libfnn $version)"
run "$cli" info --model "$tmp/example.fnn"
# 4 inputs -> 8 -> 2: (4 * 8 + 8) + (8 * 2 + 2) = 58 parameters.
grep -qx 'parameters  58' "$tmp/out" || fail "fnn info: $(cat "$tmp/out")"
grep -qx 'classes     2' "$tmp/out" || fail "fnn info: $(cat "$tmp/out")"
echo "ok: installed fnn $version reads the example's model"

# A temporary prefix of its own: the installed tree moved away from where it
# was configured to be ($prefix), so nothing can be found by that path.
moved=$tmp/prefix
mv "$prefix_dir" "$moved"
cli=$moved/bin/fnn
moved_lib=$moved${libdir#"$prefix_dir"}
run "$cli" version
grep -qx "fnn $version (libfnn $version)" "$tmp/out" ||
    fail "fnn version from $moved printed '$(cat "$tmp/out")'"
deps=$(env -u LD_LIBRARY_PATH ldd "$cli")
loaded=$(printf '%s\n' "$deps" | sed -n 's/^[[:space:]]*libfnn\.so\.0 => \([^ ]*\) .*/\1/p')
[ -n "$loaded" ] && [ "$(readlink -f "$loaded")" = "$(readlink -f "$moved_lib/libfnn.so.0")" ] ||
    fail "$cli does not load $moved_lib/libfnn.so.0: $(printf '%s\n' "$deps" | grep libfnn)"
echo "ok: fnn version runs from the prefix $moved without LD_LIBRARY_PATH"

init=$(find "$moved" -path '*/fnn/__init__.py' -type f)
if [ -z "$init" ]; then
    echo "skip: no Python package installed (configured with -Dpython=false?)"
elif ! "$python" -c 'import numpy' 2>/dev/null; then
    echo "skip: $python has no NumPy (apt-get install python3-numpy)"
else
    pydir=$(dirname "$(dirname "$init")")
    (cd "$tmp" && run env -u FNN_LIBRARY PKG_CONFIG_PATH= PYTHONPATH="$pydir" \
        PYTHONDONTWRITEBYTECODE=1 "$python" -c '
import sys
import numpy as np
import fnn
print(fnn.library_path)
print(fnn.library_version())
x = np.arange(64, dtype=np.uint8).reshape(16, 4)
y = (np.arange(16) % 2).astype(np.int32)
ds = fnn.Dataset.from_arrays(x, y, 2)
m = fnn.Model("input:4,dense:2", seed=1)
m.train(ds, epochs=2)
print(len(m.predict(x)), ds.borrowed)
')
    got_lib=$(sed -n 1p "$tmp/out")
    case "$got_lib" in
    "$moved_lib"/libfnn.so.0) ;;
    *) fail "import fnn loaded '$got_lib', not $moved_lib/libfnn.so.0" ;;
    esac
    [ "$(sed -n 2p "$tmp/out")" = "$version" ] || fail "import fnn: $(cat "$tmp/out")"
    [ "$(sed -n 3p "$tmp/out")" = "16 True" ] || fail "import fnn: $(cat "$tmp/out")"
    echo "ok: import fnn with $python from $pydir loads $got_lib"
fi
echo "ok: install check passed"
