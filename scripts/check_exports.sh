#!/usr/bin/env bash
# check_exports.sh — checks what libsiamspice.so exports.
#
#   scripts/check_exports.sh LIBSO HEADER...
#
# LIBSO is the built shared library, HEADER... the installed public headers.
# The library is compiled with -fvisibility=hidden and exports what the
# headers mark SSP_API (harness/core/ssp_export.h), versioned by
# scripts/libsiamspice.map. Rules, each failure printed as "LIBSO: what":
#   1. every exported symbol is ssp_-prefixed and none is a command's
#      ssp_cmd_* (the command line is not in the library);
#   2. every exported symbol is declared SSP_API in one of the headers
#      (an internal helper that kept default visibility is caught here);
#   3. every SSP_API name is exported (a marked prototype with no
#      definition in the library, or a definition left static);
#   4. the SONAME is libsiamspice.so.<N>, and every symbol carries a version.
# It changes nothing. Exit status: 0 clean, 1 a rule is broken.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 LIBSO HEADER..." >&2; exit 2; }
so=$1; shift
bad=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# name@@VERSION for each defined dynamic symbol, the version node itself left out
nm -D --defined-only "$so" | awk '$2 != "A" { print $3 }' > "$tmp/versioned"
sed 's/@.*//' "$tmp/versioned" | sort -u > "$tmp/exported"
grep -h '^SSP_API' "$@" | sed 's/(.*//' | awk '{ print $NF }' | tr -d '*' | sort -u > "$tmp/declared"

while read -r s; do
    case $s in
    ssp_cmd_*) echo "$so: exports $s, a command's function"; bad=1 ;;
    ssp_*) ;;
    *) echo "$so: exports $s, not ssp_-prefixed"; bad=1 ;;
    esac
done < "$tmp/exported"
comm -23 "$tmp/exported" "$tmp/declared" | sed "s|^|$so: exports |; s|\$|, not declared SSP_API in a public header|"
comm -13 "$tmp/exported" "$tmp/declared" | sed "s|^|$so: does not export |; s|\$|, declared SSP_API|"
[ -z "$(comm -3 "$tmp/exported" "$tmp/declared")" ] || bad=1
grep -v '@' "$tmp/versioned" | sed "s|^|$so: unversioned symbol |" | grep . && bad=1
soname=$(readelf -d "$so" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
case $soname in
libsiamspice.so.[0-9]*) ;;
*) echo "$so: SONAME '$soname', not libsiamspice.so.<N>"; bad=1 ;;
esac
[ $bad -eq 0 ] && echo "  EXPORTS $(wc -l < "$tmp/exported") ssp_ functions and data, SONAME $soname"
exit $bad
