#!/usr/bin/env bash
# check_layout.sh — checks the layering of siamspice's source tree.
#
#   scripts/check_layout.sh [BUILD_DIR]
#
# The rooms, lowest first (a room may include the public headers of the rooms
# of a lower rank, and of its own room; rooms of equal rank are siblings and
# include neither the other):
#
#   0 harness/core   1 plugin   2 devicemodels   3 netlists
#   4 harness/xbar, harness/program   5 harness/io   6 harness/train
#   7 harness/report   8 harness/cli (the command line)
#
# Rules checked, each failure printed as "file: what":
#   1. every quoted #include names a header that exists in exactly one room
#      (or in tests/, for tests);
#   2. no include points to a room of higher rank or to a sibling;
#   3. an internal header (a name without the ssp_ prefix) is included only
#      from its own folder (tests of that room included: tests/<room>/), and
#      never from a public ssp_*.h header;
#   4. the include graph has no cycle;
#   5. with BUILD_DIR, the library's object files call each other one way:
#      no two files (nor longer cycles) define symbols the other calls.
# It changes nothing. Exit status: 0 clean, 1 a rule is broken.
set -euo pipefail
cd "$(dirname "$0")/.."

ROOMS="harness/core:0 plugin:1 devicemodels:2 netlists:3 harness/xbar:4 harness/program:4
harness/io:5 harness/train:6 harness/report:7 harness/cli:8"
BUILD=${1:-}

awk_prog='
function room_of(path,   r) {
    for (r in rank) if (index(path, r "/") == 1 && path !~ ("^" r "/.*/")) return r
    return ""
}
function test_room(path,   t) {
    # tests/<name>/file.c -> the library room whose last component is <name>
    if (path !~ /^tests\/[^\/]+\//) return ""
    t = path; sub(/^tests\//, "", t); sub(/\/.*/, "", t)
    for (r in rank) { n = split(r, p, "/"); if (p[n] == t) return r }
    return ""
}
BEGIN {
    n = split(rooms, a, /[ \n]+/)
    for (i = 1; i <= n; i++) if (a[i] != "") { split(a[i], kv, ":"); rank[kv[1]] = kv[2] + 0 }
    bad = 0
}
FNR == 1 { nf++ }
# first pass: the list of headers (one path a line)
nf == 1 {
    h = $0; base = h; sub(/.*\//, "", base)
    if (base in home && home[base] != h) { printf "%s: header name also in %s\n", h, home[base]; bad = 1 }
    home[base] = h
    next
}
# second pass: "file<TAB>included name"
{
    split($0, f, "\t"); file = f[1]; inc = f[2]
    if (!(inc in home)) {
        if (file ~ /^tests\// && inc == "suites.h") next   # generated into the build tree
        printf "%s: includes \"%s\", found in no room\n", file, inc; bad = 1; next
    }
    hdr = home[inc]
    edge[file] = edge[file] " " hdr
    from = room_of(file); to = room_of(hdr)
    if (hdr ~ /^tests\//) {
        if (file !~ /^(tests|bench)\//) { printf "%s: includes the test header %s\n", file, hdr; bad = 1 }
        next
    }
    if (inc !~ /^ssp_/) {                       # internal header
        own = (from == to) || (file ~ /^tests\// && test_room(file) == to)
        if (!own) { printf "%s: includes %s, internal to %s/\n", file, hdr, to; bad = 1 }
        fb = file; sub(/.*\//, "", fb)
        if (fb ~ /^ssp_.*\.h$/) { printf "%s: public header includes the internal %s\n", file, hdr; bad = 1 }
    }
    if (file ~ /^tests\// || from == "" || to == "") next
    if (rank[to] > rank[from]) { printf "%s: includes %s of the higher room %s/\n", file, hdr, to; bad = 1 }
    else if (rank[to] == rank[from] && to != from) { printf "%s: includes %s of the sibling room %s/\n", file, hdr, to; bad = 1 }
}
function visit(v,   k, m, w, ws) {
    state[v] = 1
    m = split(edge[v], ws, " ")
    for (k = 1; k <= m; k++) {
        w = ws[k]
        if (state[w] == 1) { printf "include cycle: %s -> %s\n", v, w; bad = 1 }
        else if (state[w] == 0) visit(w)
    }
    state[v] = 2
}
END {
    for (v in edge) if (state[v] == 0) visit(v)
    exit bad
}'

headers=$(mktemp) incs=$(mktemp)
trap 'rm -f "$headers" "$incs"' EXIT
find harness plugin devicemodels netlists tests -name '*.h' | sort > "$headers"
for f in $(find harness plugin devicemodels netlists tests bench -name '*.[ch]' | sort); do
    sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" |
        while read -r inc; do printf '%s\t%s\n' "$f" "${inc##*/}"; done
done > "$incs"
status=0
awk -v rooms="$ROOMS" "$awk_prog" "$headers" "$incs" || status=1

# Rule 5: calls between the library's object files form no cycle.
if [ -n "$BUILD" ]; then
    objs=$(for r in $(printf '%s\n' $ROOMS | sed 's/:.*//' | grep -v harness/cli); do
               ls "$BUILD/$r"/*.o 2>/dev/null || true; done | grep -v '/worker_main\.o$' || true)
    if [ -z "$objs" ]; then
        echo "check_layout: no object files under $BUILD" >&2
        exit 1
    fi
    for o in $objs; do
        nm "$o" | awk -v o="${o#"$BUILD"/}" 'NF == 3 && $2 ~ /^[TDRB]$/ {print "D", o, $3} $1 == "U" {print "U", o, $2}'
    done | awk '
        $1 == "D" { def[$3] = $2; next }
        { use[NR] = $2 " " $3 }
        END {
            for (k in use) {
                split(use[k], u, " ")
                if ((u[2] in def) && def[u[2]] != u[1]) {
                    e = u[1] " " def[u[2]]
                    if (!(e in seen)) { seen[e] = 1; adj[u[1]] = adj[u[1]] " " def[u[2]] }
                }
            }
            for (v in adj) if (st[v] == 0) dfs(v)
            exit bad
        }
        function dfs(v,   k, m, ws, w) {
            st[v] = 1
            m = split(adj[v], ws, " ")
            for (k = 1; k <= m; k++) {
                w = ws[k]
                if (st[w] == 1) { printf "call cycle: %s -> %s (each calls the other, directly or through others)\n", v, w; bad = 1 }
                else if (st[w] == 0) dfs(w)
            }
            st[v] = 2
        }' || status=1
fi
[ "$status" -eq 0 ] && echo "layout: ok (rooms, internal headers, no include or call cycle)"
exit "$status"
