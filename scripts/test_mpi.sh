#!/usr/bin/env bash
# test_mpi.sh — the sweep and the MPI transport as a user runs them (make
# test-mpi; .ci/run calls it after make test).
#
#   scripts/test_mpi.sh [BUILD_DIR]
#
# 1. the pool_mpi CUnit suite under mpirun -np 3 (MPI ranks against local
#    workers, bit for bit, and tiles programmed as pool jobs on the ranks);
# 2. the 2x2 sweep of configs/sweep-rwire.ini over configs/sweep-short.ini
#    serially (1 local worker), on 2 local workers and under mpirun -np 3:
#    the three sweep.csv and sweep.json files are identical;
# 3. the same sweep under mpirun -np 3 with one serving rank SIGKILLed once
#    the first job has finished: mpirun ends, the finished jobs stay, and
#    --resume under mpirun runs only the rest and ends with the same table;
# 4. a short training with the spice engine (configs/spice-small.ini, 48
#    images) in one process with one pool worker and under mpirun -np 3
#    (its tiles on 2 ranks): the same metrics (wall times left out), levels
#    and conductance histogram.
# Runs in a temporary directory it removes; kills only the rank it started.
# Prints "N passed, N failed"; exit status = failures.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
BIN=$BUILD/siamspice
RUNNER=$BUILD/tests/run_tests
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPIRUN=(mpirun --oversubscribe -np 3)
# one BLAS thread per rank: 3 ranks share 2 cores
export OPENBLAS_NUM_THREADS=1
pass=0
fail=0
ok() { echo "test-mpi: ok: $*"; pass=$((pass + 1)); }
bad() { echo "test-mpi: FAILED: $*"; fail=$((fail + 1)); }

if ! command -v mpirun >/dev/null || ! "$BIN" --version | grep -q 'mpi ('; then
    echo "test-mpi: FAILED: no mpirun or a build without MPI ($("$BIN" --version | tail -1)); run scripts/bootstrap.sh and rebuild"
    echo "0 passed, 1 failed"
    exit 1
fi
tmp=$(mktemp -d /tmp/siamspice-test-mpi.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# 1
if "${MPIRUN[@]}" "$RUNNER" pool_mpi >"$tmp/pool_mpi.log" 2>&1 && grep -q '^4 passed, 0 failed' "$tmp/pool_mpi.log"; then
    ok "pool_mpi suite on 3 ranks"
else
    bad "pool_mpi suite on 3 ranks"; tail -30 "$tmp/pool_mpi.log"
fi

# 2
# sweep OUT_DIR WORKERS LAUNCHER...: the 2x2 sweep into OUT_DIR
sweep() {
    local out=$1 workers=$2
    shift 2
    "$@" sweep --config configs/sweep-short.ini --grid configs/sweep-rwire.ini --out "$out" --workers "$workers" -q
}
sweep "$tmp/serial" 1 "$BIN" >"$tmp/serial.log" 2>&1 || { bad "serial sweep"; cat "$tmp/serial.log"; }
sweep "$tmp/local" 2 "$BIN" >"$tmp/local.log" 2>&1 || { bad "local sweep"; cat "$tmp/local.log"; }
sweep "$tmp/mpi" 2 "${MPIRUN[@]}" "$BIN" >"$tmp/mpi.log" 2>&1 || { bad "mpi sweep"; cat "$tmp/mpi.log"; }
if [ -s "$tmp/serial/sweep.csv" ] && [ "$(grep -c ',ok,' "$tmp/serial/sweep.csv")" = 4 ]; then
    ok "serial sweep: 4 jobs ok"
else
    bad "serial sweep table"; cat "$tmp/serial/sweep.csv" 2>/dev/null
fi
for t in local mpi; do
    if cmp -s "$tmp/serial/sweep.csv" "$tmp/$t/sweep.csv" && cmp -s "$tmp/serial/sweep.json" "$tmp/$t/sweep.json"; then
        ok "$t sweep table equals the serial one"
    else
        bad "$t sweep table differs from the serial one"; diff "$tmp/serial/sweep.csv" "$tmp/$t/sweep.csv"
    fi
done
grep -q 'mpi transport with 2 workers' "$tmp/mpi.log" && ok "mpirun -np 3: 2 serving ranks" || bad "mpi transport not used: $(head -3 "$tmp/mpi.log")"

# 3
# every process below pid (the background sweep's shell, mpirun, its ranks)
descendants() {
    local c
    for c in $(pgrep -P "$1"); do
        echo "$c"
        descendants "$c"
    done
}
sweep "$tmp/killed" 2 "${MPIRUN[@]}" "$BIN" >"$tmp/killed.log" 2>&1 &
mpirun_pid=$!
victim=""
for _ in $(seq 1 600); do
    if ls "$tmp"/killed/*/sweep_status >/dev/null 2>&1; then
        for c in $(descendants "$mpirun_pid"); do
            r=$(tr '\0' '\n' <"/proc/$c/environ" 2>/dev/null | sed -n 's/^OMPI_COMM_WORLD_RANK=//p')
            if [ "$r" = 1 ] || [ "$r" = 2 ]; then victim=$c; break; fi
        done
        break
    fi
    sleep 0.2
done
if [ -n "$victim" ]; then
    kill -9 "$victim"
    ok "killed rank pid $victim after the first job finished"
else
    bad "no serving rank found to kill"
fi
wait "$mpirun_pid"
st=$?
done_before=$(grep -l '^ok' "$tmp"/killed/*/sweep_status 2>/dev/null | wc -l)
if [ "$st" -ne 0 ] && [ "$done_before" -ge 1 ] && [ "$done_before" -lt 4 ] && [ ! -e "$tmp/killed/sweep.csv" ]; then
    ok "the killed sweep stopped (status $st) with $done_before of 4 jobs kept"
else
    bad "killed sweep: status $st, $done_before jobs ok, sweep.csv $( [ -e "$tmp/killed/sweep.csv" ] && echo present || echo absent)"
fi
"${MPIRUN[@]}" "$BIN" sweep --resume "$tmp/killed" -q >"$tmp/resume.log" 2>&1 || { bad "resume"; cat "$tmp/resume.log"; }
if grep -q "4 jobs ($((4 - done_before)) to run)" "$tmp/resume.log"; then
    ok "resume ran only the $((4 - done_before)) missing jobs"
else
    bad "resume did not run only the missing jobs: $(head -3 "$tmp/resume.log")"
fi
if cmp -s "$tmp/serial/sweep.csv" "$tmp/killed/sweep.csv"; then
    ok "killed and resumed sweep table equals the uninterrupted one"
else
    bad "resumed table differs"; diff "$tmp/serial/sweep.csv" "$tmp/killed/sweep.csv"
fi

# 4
# metrics.csv without its wall-time columns (time_*)
untimed() {
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) keep[i] = ($i !~ /^time_/) }
             { s = ""; for (i = 1; i <= NF; i++) if (keep[i]) s = s $i ","; print s }' "$1"
}
spice=(train --config configs/spice-small.ini --set data.train_limit=48 --set data.test_limit=24
       --set run.epochs=1 -q)
"$BIN" "${spice[@]}" --set engine.workers=1 --out "$tmp/spice1" >"$tmp/spice1.log" 2>&1 || { bad "spice train, 1 worker"; cat "$tmp/spice1.log"; }
"${MPIRUN[@]}" "$BIN" "${spice[@]}" -v --out "$tmp/spicempi" >"$tmp/spicempi.log" 2>&1 || { bad "spice train under mpirun"; tail "$tmp/spicempi.log"; }
grep -q 'pool: transport = mpi, workers = 2' "$tmp/spicempi.log" && ok "spice engine tiles on 2 ranks" || bad "spice engine not on the ranks: $(grep pool "$tmp/spicempi.log")"
if [ -s "$tmp/spice1/metrics.csv" ] && [ "$(untimed "$tmp/spice1/metrics.csv")" = "$(untimed "$tmp/spicempi/metrics.csv")" ] &&
   cmp -s "$tmp/spice1/levels.csv" "$tmp/spicempi/levels.csv" &&
   cmp -s "$tmp/spice1/conductance_hist.csv" "$tmp/spicempi/conductance_hist.csv"; then
    ok "spice training on ranks equals one process"
else
    bad "spice training on ranks differs from one process"; diff <(untimed "$tmp/spice1/metrics.csv") <(untimed "$tmp/spicempi/metrics.csv")
fi

echo "$pass passed, $fail failed"
exit "$fail"
