#!/usr/bin/env bash
# Work per record is linear in its size (issue 20): time and peak RSS of `imdswatch scan` on the hostile records
# that were quadratic — an exec whose 128 KB argument repeats 169.254.169.254/ (and four of them), a 128 KB and an
# 857 KB syslog line doing the same — beside a plain log of the same size for scale.
# Usage: bench/hostile.sh [IMDSWATCH="dotnet src/ImdsWatch.Cli/bin/Release/net10.0/imdswatch.dll"]
set -euo pipefail
cd "$(dirname "$0")/.."
cmd=${1:-dotnet src/ImdsWatch.Cli/bin/Release/net10.0/imdswatch.dll}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work" <<'PY'
import sys
d = sys.argv[1]
unit = "169.254.169.254/"
def execs(n, size):
    out = []
    for i in range(n):
        s, t = 10 + i, "1700000000.000"
        arg = (unit * (size // len(unit))).encode().hex().upper()
        out += [f'type=SYSCALL msg=audit({t}:{s}): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=1 ppid=1 pid={500+i} auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 comm="curl" exe="/usr/bin/curl" key="imds"',
                f'type=EXECVE msg=audit({t}:{s}): argc=2 a0="curl" a1={arg}', f'type=EOE msg=audit({t}:{s}):']
    return "\n".join(out) + "\n"
open(f"{d}/exec-128k.log", "w").write(execs(1, 128 * 1024))
open(f"{d}/exec-4x128k.log", "w").write(execs(4, 128 * 1024))
for name, size in (("syslog-128k.log", 128 * 1024), ("syslog-857k.log", 857 * 1024)):
    open(f"{d}/{name}", "w").write("Nov 24 14:08:01 vm sshd: Accepted\nNov 24 14:08:02 vm app: " + unit * (size // len(unit)) + "\n")
open(f"{d}/plain-128k.log", "w").write("".join(f"Nov 24 14:08:01 vm app: request {i} served\n" for i in range(128 * 1024 // 40)))
PY
printf '%-20s %8s %10s\n' input seconds "peak RSS"
for f in plain-128k exec-128k exec-4x128k syslog-128k syslog-857k; do
    /usr/bin/time -f "%e %M" -o "$work/time" $cmd scan --quiet --format ndjson --no-baseline "$work/$f.log" >/dev/null
    read -r s kb <"$work/time"
    printf '%-20s %8s %7s MB\n' "$f" "$s" "$((kb / 1024))"
done
