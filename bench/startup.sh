#!/usr/bin/env bash
# Start-up cost of imdswatch builds: each scans an empty audit log RUNS times, alternated; prints the median wall time,
# CPU time (user+sys) and page faults per start. A native build's start is most of a scan of a small log, and of
# every `run` the timer starts.
#
#   bench/startup.sh BINARY [BINARY…]        e.g. bench/startup.sh /tmp/old/imdswatch /tmp/new/imdswatch
#   RUNS=20 bench/startup.sh …
set -euo pipefail
runs=${RUNS:-20}
[ $# -ge 1 ] || { echo "usage: bench/startup.sh BINARY [BINARY…]" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
: >"$work/empty.log"
for ((r = 0; r < runs; r++)); do
    for b in "$@"; do
        /usr/bin/time -f "%e %U %S %R" -o "$work/t" "$b" scan "$work/empty.log" --format ndjson >/dev/null 2>&1 || true
        echo "$b $(cat "$work/t")" >>"$work/all"
    done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-50s %10s %10s %12s\n' build "wall ms" "CPU ms" "page faults"
for b in "$@"; do
    m=$(grep -cF "$b " "$work/all")
    half=$(( (m + 1) / 2 ))
    median() { grep -F "$b " "$work/all" | awk "{print $1}" | sort -n | sed -n "${half}p"; }
    printf '%-50s %10.0f %10.0f %12d\n' "$b" "$(median '$2*1000')" "$(median '($3+$4)*1000')" "$(median '$5')"
done
