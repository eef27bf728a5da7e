#!/usr/bin/env bash
# Peak memory of a scan against the number of alerts it raises (issues 17 and 20: "peak ≤ 200 MB on dense logs",
# "1 M alerts hold 2.4 GB"). Writes an audit log of N curl credential fetches (one alert each: distinct pids and
# serials, 10 a second, so the log spans N/36 000 hours as a busy host's would), scans it with and without the
# prefilter, NDJSON into a pipe, and prints alerts, wall, CPU (user+sys) and peak RSS of each.
# Usage: bench/alert-memory.sh [ALERTS=1000000] [IMDSWATCH="dotnet src/ImdsWatch.Cli/bin/Release/net10.0/imdswatch.dll"]
# On a loaded machine compare CPU time, not wall; peak RSS does not depend on load.
set -euo pipefail
cd "$(dirname "$0")/.."
alerts=${1:-1000000}
cmd=${2:-dotnet src/ImdsWatch.Cli/bin/Release/net10.0/imdswatch.dll}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work/dense.log" "$alerts" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
url = "http://169.254.169.254/latest/meta-data/iam/security-credentials/app-role"
with open(path, "w") as out:
    for i in range(n):
        t, s, pid = f"{1700000000 + i / 10:.3f}", 100 + i, 10000 + i % 4000000
        out.write(f'type=SYSCALL msg=audit({t}:{s}): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=2 ppid=1000 pid={pid} auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 comm="curl" exe="/usr/bin/curl" key="imds"\n'
                  f'type=EXECVE msg=audit({t}:{s}): argc=3 a0="curl" a1="-s" a2="{url}"\n'
                  f'type=CWD msg=audit({t}:{s}): cwd="/root"\n'
                  f'type=PATH msg=audit({t}:{s}): item=0 name="/usr/bin/curl" inode=1 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0\n'
                  f'type=EOE msg=audit({t}:{s}):\n')
PY
echo "log: $(du -m "$work/dense.log" | cut -f1) MB, $alerts credential fetches; load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-16s %9s %8s %8s %10s\n' path alerts wall cpu "peak RSS"
for mode in prefilter no-prefilter; do
    extra=()
    [ "$mode" = no-prefilter ] && extra=(--no-prefilter)
    # shellcheck disable=SC2086
    /usr/bin/time -f '%e %U %S %M' -o "$work/time" $cmd scan --format ndjson --no-baseline --quiet "${extra[@]}" "$work/dense.log" | wc -l > "$work/count"
    read -r wall user sys rss < "$work/time"
    printf '%-16s %9s %7ss %7.2fs %7d MB\n' "$mode" "$(cat "$work/count")" "$wall" "$(awk "BEGIN{print $user+$sys}")" $((rss / 1024))
done
