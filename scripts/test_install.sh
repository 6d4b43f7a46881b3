#!/usr/bin/env bash
# test_install.sh — the installed tree works on its own.
#
#   scripts/test_install.sh [BUILD_DIR]
#
# Installs with `make install DESTDIR=TMP/stage PREFIX=/usr/local`, moves
# the staged PREFIX to another folder (TMP/root: the tree must be
# relocatable, and nothing may lean on /usr/local), then hides the source
# and build trees behind empty file systems in a private mount namespace
# (unshare -m, as root; unshare -rm otherwise) and from there runs:
#   siamspice train on an installed config (by name) with a few images,
#   siamspice device --params vteam32.ini (by name),
#   siamspice bench --list and the installed devices benchmark,
#   the examples compiled with pkg-config against the installed headers and
#   libsiamspice.so.0, checked by scripts/test_examples.sh (copied first);
# and checks the tree: SONAME link, only public headers, the man pages.
# MNIST is copied into TMP/data first (the source tree's data/ is hidden).
# Each failure is printed as "test_install: what"; exit status 0 all
# passed, 1 one failed. Takes about a minute on a shared 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
build=$(cd "${1:-build}" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/siamspice-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
case $tmp in "$src"/*|"$build"/*) echo "test_install: TMPDIR must lie outside the source tree"; exit 1 ;; esac

${MAKE:-make} --no-print-directory -s install DESTDIR="$tmp/stage" PREFIX=/usr/local BUILD="$build" > "$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; echo "test_install: make install failed"; exit 1; }
cp -a "$tmp/stage/usr/local" "$tmp/root"
rm -rf "$tmp/stage"
mkdir -p "$tmp/data" "$tmp/examples"
cp -rL data/mnist "$tmp/data/"
cp examples/*.c scripts/test_examples.sh "$tmp/examples/"

cat > "$tmp/inner.sh" <<'INNER'
set -uo pipefail
tmp=$1 src=$2 build=$3
R=$tmp/root
fail=0
bad() { echo "test_install: $*"; fail=1; }
export PATH=$R/bin:/usr/bin:/bin
unset LD_LIBRARY_PATH SSP_WORKER SSP_BENCH_DIR SSP_DATADIR SSP_BENCH_PARAMS SSP_BENCH_CONFIGS SSP_BENCH_DATA
cd "$tmp"
[ -e "$src/Makefile" ] && bad "the source tree is still visible"

# the tree
[ "$(readlink "$R/lib/libsiamspice.so")" = libsiamspice.so.0 ] || bad "lib/libsiamspice.so does not link to libsiamspice.so.0"
soname=$(readelf -d "$R/lib/libsiamspice.so.0" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
[ "$soname" = libsiamspice.so.0 ] || bad "SONAME '$soname'"
[ -f "$R/include/siamspice/siamspice.h" ] || bad "no umbrella header include/siamspice/siamspice.h"
for h in "$R"/include/siamspice/*.h; do
    case ${h##*/} in siamspice.h) ;; ssp_cmd*) bad "command header installed: ${h##*/}" ;; ssp_*) ;;
    *) bad "internal header installed: ${h##*/}" ;; esac
done
for m in man1/siamspice.1 man3/siamspice.3; do [ -f "$R/share/man/$m" ] || bad "no man page share/man/$m"; done
[ -f "$R/share/siamspice/configs/default.ini" ] || bad "no share/siamspice/configs/default.ini"

# train: an installed config by name, a few images, one epoch
if siamspice train --config default.ini --set data.dir="$tmp/data" --set run.epochs=1 --set data.train_limit=64 \
       --set data.test_limit=64 --set run.baselines= --out "$tmp/run" -q > "$tmp/train.log" 2>&1; then
    [ -s "$tmp/run/report.txt" ] && [ -s "$tmp/run/metrics.csv" ] || bad "train wrote no report.txt / metrics.csv"
    grep -q "device $R/bin/../share/siamspice/params/vteam32.ini" "$tmp/train.log" ||
        bad "train did not use the installed params: $(head -1 "$tmp/train.log")"
    echo "  INSTALL train: $(grep 'epoch 1' "$tmp/train.log" | cut -c1-80)"
else
    cat "$tmp/train.log"; bad "train from the installed tree failed"
fi

# device: a parameter file by name
if siamspice device --params vteam32.ini --pulses 2 > "$tmp/device.log" 2>&1; then
    grep -q "^# from $R/bin/../share/siamspice/params/vteam32.ini" "$tmp/device.log" || bad "device read another vteam32.ini"
    echo "  INSTALL device: $(sed -n 2p "$tmp/device.log")"
else
    cat "$tmp/device.log"; bad "device --params vteam32.ini failed"
fi

# bench: the installed list, and one short benchmark (params handed over)
listed=$(siamspice bench --list | sort | tr '\n' ' ')
inst=$(cd "$R/libexec/siamspice/bench" && ls | sed 's/^bench_//' | sort | tr '\n' ' ')
[ -n "$listed" ] && [ "$listed" = "$inst" ] || bad "bench --list '$listed', installed '$inst'"
if siamspice bench devices > "$tmp/bench.log" 2>&1; then
    echo "  INSTALL bench: $(cut -c1-80 "$tmp/bench.log")"
else
    cat "$tmp/bench.log"; bad "bench devices failed"
fi

# the examples, compiled with pkg-config against the installed tree
pc="pkg-config --define-variable=prefix=$R"
export PKG_CONFIG_PATH=$R/lib/pkgconfig
mkdir -p "$tmp/examples/bin"
for c in "$tmp"/examples/*.c; do
    n=$(basename "$c" .c)
    # shellcheck disable=SC2046
    cc -std=c11 -Wall -Wextra -Werror -o "$tmp/examples/bin/$n" "$c" $($pc --cflags --libs siamspice) \
        -Wl,-rpath,"$R/lib" || { bad "example $n does not compile against the installed headers"; continue; }
    ldd "$tmp/examples/bin/$n" > "$tmp/ldd.log"; grep -q "libsiamspice.so.0 => $R/lib/libsiamspice.so.0" "$tmp/ldd.log" ||
        { cat "$tmp/ldd.log"; bad "example $n does not load the installed libsiamspice.so.0"; }
done
# the worker pool finds the installed siamspice-worker (beside the library)
cat > "$tmp/pool.c" <<'C'
#define _DEFAULT_SOURCE /* readlink, usleep */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <siamspice.h>
/* Start a pool of one worker and print the program the worker runs (once
 * it has exec'd: /proc/PID/exe shows this program until then). */
int main(void)
{
    ssp_ctx *ctx = NULL;
    ssp_pool *p = NULL;
    char link[64], self[4096] = "", exe[4096] = "";
    ssize_t n = -1;
    if (ssp_ctx_create(&ctx) || ssp_pool_create(&p, ctx, 1, NULL)) {
        fprintf(stderr, "pool: %s\n", ssp_ctx_errmsg(ctx));
        return 1;
    }
    if (readlink("/proc/self/exe", self, sizeof self - 1) < 0) return 1;
    snprintf(link, sizeof link, "/proc/%ld/exe", (long)ssp_pool_worker_pid(p, 0));
    for (int i = 0; i < 100 && (n <= 0 || !strcmp(exe, self)); i++, usleep(50000)) {
        n = readlink(link, exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = '\0';
    }
    puts(exe);
    ssp_pool_destroy(&p);
    ssp_ctx_destroy(&ctx);
    return n > 0 ? 0 : 1;
}
C
if cc -std=c11 -o "$tmp/pool" "$tmp/pool.c" $($pc --cflags --libs siamspice) -Wl,-rpath,"$R/lib" &&
   "$tmp/pool" > "$tmp/pool.log" 2>&1; then
    [ "$(cat "$tmp/pool.log")" = "$R/libexec/siamspice/siamspice-worker" ] ||
        bad "the pool started $(cat "$tmp/pool.log"), not the installed worker"
    echo "  INSTALL pool: worker $(cat "$tmp/pool.log")"
else
    cat "$tmp/pool.log" 2>/dev/null; bad "a worker pool from the installed library failed"
fi

bash "$tmp/examples/test_examples.sh" unused "$tmp/examples/bin" "$R/share/siamspice/configs" \
    "$R/share/siamspice/params" "$tmp/data" || bad "an example failed against the installed tree"
exit $fail
INNER

hide="mount -t tmpfs -o size=1m none '$src'"
case $build in "$src"/*) ;; *) hide="$hide && mount -t tmpfs -o size=1m none '$build'" ;; esac
if [ "$(id -u)" = 0 ]; then ns="unshare -m --propagation private"; else ns="unshare -rm --propagation private"; fi
$ns true 2>/dev/null || { echo "test_install: cannot make a mount namespace ($ns) to hide the build tree"; exit 1; }
$ns sh -c "$hide && exec bash '$tmp/inner.sh' '$tmp' '$src' '$build'"
