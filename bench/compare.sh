#!/usr/bin/env bash
# Whole-process throughput of imdswatch scan against ausearch, laurel and ripgrep on the same files, same run.
# Generates a sparse (<0.1 % metadata events) and a dense (~1 %) log of SIZE MB from the bundled kernel capture,
# installs the peers from Debian when missing (root), warms the page cache, and prints MB/s and ratios.
# Usage: bench/compare.sh [SIZE_MB=525]
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-525}
work=${BENCH_DIR:-$(mktemp -d)}
trap '[ -z "${BENCH_DIR:-}" ] && rm -rf "$work"' EXIT

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    missing=()
    command -v ausearch >/dev/null || missing+=(auditd)
    command -v laurel >/dev/null || missing+=(laurel)
    command -v rg >/dev/null || missing+=(ripgrep)
    if [ ${#missing[@]} -gt 0 ]; then apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; fi
fi

dotnet publish src/ImdsWatch.Cli -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$work/bin" >/dev/null
for kind in sparse dense; do
    share=$([ $kind = sparse ] && echo 0.0008 || echo 0.01)
    [ -f "$work/$kind.log" ] || python3 bench/generate.py samples/audit-enriched.log "$work/$kind.log" "$size" "$share"
done

# seconds for a command, best of 3 (warm cache)
best() { local b=999999; for _ in 1 2 3; do local s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; local e=$(date +%s.%N); b=$(echo "if ($e-$s < $b) $e-$s else $b" | bc -l); done; echo "$b"; }
laurel_run() { rm -rf "$work/laurel"; mkdir -p "$work/laurel"; printf 'directory = "%s/laurel"\nuser = "root"\n[auditlog]\nfile = "out.log"\n' "$work" > "$work/laurel.toml"; laurel -c "$work/laurel.toml" < "$1"; }

printf "%-8s %-10s %10s %10s\n" log tool seconds MB/s
for kind in sparse dense; do
    f="$work/$kind.log"; mb=$(echo "$(stat -c %s "$f") / 1000000" | bc -l)
    cat "$f" > /dev/null
    t_imds=$(best "$work/bin/imdswatch" scan "$f" --no-baseline --format ndjson -q)
    t_ausearch=$( command -v ausearch >/dev/null && best ausearch -if "$f" -k imdsx --raw || echo nan)
    t_rg=$(command -v rg >/dev/null && best rg -c 169.254.169.254 "$f" || echo nan)
    t_laurel=$(command -v laurel >/dev/null && { s=$(date +%s.%N); laurel_run "$f" >/dev/null 2>&1 || true; e=$(date +%s.%N); echo "$e - $s" | bc -l; } || echo nan)
    for pair in "imdswatch:$t_imds" "ausearch:$t_ausearch" "laurel:$t_laurel" "rg:$t_rg"; do
        tool=${pair%%:*}; t=${pair#*:}
        if [ "$t" = nan ]; then printf "%-8s %-10s %10s %10s\n" "$kind" "$tool" "-" "-"; else printf "%-8s %-10s %10.2f %10.0f\n" "$kind" "$tool" "$t" "$(echo "$mb / $t" | bc -l)"; fi
    done
    echo "$kind ratios: ausearch/imdswatch $(echo "$t_ausearch / $t_imds" | bc -l 2>/dev/null | cut -c1-5)x, laurel/imdswatch $(echo "$t_laurel / $t_imds" | bc -l 2>/dev/null | cut -c1-5)x, imdswatch/rg $(echo "$t_imds / $t_rg" | bc -l 2>/dev/null | cut -c1-5)x"
done
