#!/usr/bin/env bash
# Whole-process throughput of `imdswatch scan` against ausearch, laurel and ripgrep on the same files, in one run.
# Generates a sparse (<0.1 % metadata events) and a dense (~1 %) log of SIZE MB from the bundled kernel capture
# (events repeated with serials, timestamps and pids shifted), installs the peers and the native toolchain from
# Debian when missing (as root), builds imdswatch native (falling back to ReadyToRun), warms the page cache, and
# prints seconds, MB/s, peak RSS, the ratios and whether each target of issue 6 is met.
# Usage: bench/compare.sh [SIZE_MB=525]      (BENCH_DIR=dir keeps the logs and binaries between runs)
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-525}
work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
trap '[ -z "${BENCH_DIR:-}" ] && rm -rf "$work"' EXIT

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    missing=()
    command -v ausearch >/dev/null || missing+=(auditd)
    command -v laurel >/dev/null || missing+=(laurel)
    command -v rg >/dev/null || missing+=(ripgrep)
    command -v bc >/dev/null || missing+=(bc)
    [ -x /usr/bin/time ] || missing+=(time)
    command -v clang >/dev/null || missing+=(clang)
    [ -f /usr/include/zlib.h ] || missing+=(zlib1g-dev)
    if [ ${#missing[@]} -gt 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
fi

build=native
if ! dotnet publish src/ImdsWatch.Cli -c Release -r linux-x64 -p:PublishAot=true -o "$work/bin" >"$work/publish.log" 2>&1; then
    build=ReadyToRun
    dotnet publish src/ImdsWatch.Cli -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$work/bin" >"$work/publish.log" 2>&1
fi
for kind in sparse dense; do
    share=$([ $kind = sparse ] && echo 0.0008 || echo 0.01)
    [ -f "$work/$kind.log" ] || python3 bench/generate.py samples/audit-enriched.log "$work/$kind.log" "$size" "$share"
done

# best wall-clock seconds of N runs (warm cache), and the peak RSS (KB) of the best run
best() {
    local n=$1; shift
    local b=999999 rss=0
    for _ in $(seq "$n"); do
        /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>&1 || true
        read -r t m < <(tail -n 1 "$work/time") # a failing command (ausearch: no match) adds a line before
        if (( $(echo "$t < $b" | bc -l) )); then b=$t; rss=$m; fi
    done
    echo "$b $rss"
}
laurel_run() {
    rm -rf "$work/laurel"; mkdir -p "$work/laurel"
    printf 'directory = "%s/laurel"\nuser = "root"\n[auditlog]\nfile = "out.log"\n' "$work" > "$work/laurel.toml"
    laurel -c "$work/laurel.toml" < "$1"
}
# laurel writes as much as it reads: drop its output and wait for the disk, so that writing it back does not slow
# the runs that follow (it had made the dense imdswatch runs up to 20 % slower).
settle() { rm -rf "$work/laurel"; sync; }
ratio() { echo "scale=1; $1 / $2" | bc -l; }
check() { if (( $(echo "$1" | bc -l) )); then echo "met"; else echo "NOT met"; fi; }

echo "imdswatch build: $build ($(nproc) cores); logs of $size MB"
printf "%-7s %-22s %9s %9s %10s\n" log tool seconds MB/s "peak RSS"
declare -A T
for kind in sparse dense; do
    f="$work/$kind.log"; mb=$(echo "$(stat -c %s "$f") / 1000000" | bc -l)
    settle
    cat "$f" > /dev/null
    read -r t_imds m_imds < <(best 5 "$work/bin/imdswatch" scan "$f" --no-baseline --format ndjson -q)
    read -r t_full m_full < <(best 1 "$work/bin/imdswatch" scan "$f" --no-baseline --format ndjson -q --no-prefilter)
    read -r t_aus m_aus < <(command -v ausearch >/dev/null && best 3 ausearch -if "$f" -k imdsx --raw || echo "nan 0")
    read -r t_rg m_rg < <(command -v rg >/dev/null && best 5 rg -c 169.254.169.254 "$f" || echo "nan 0")
    read -r t_lau m_lau < <(command -v laurel >/dev/null && best 1 bash -c "$(declare -f laurel_run); work=$work laurel_run $f" || echo "nan 0")
    settle
    for row in "imdswatch:$t_imds:$m_imds" "imdswatch --no-prefilter:$t_full:$m_full" "ausearch -k --raw:$t_aus:$m_aus" \
               "laurel:$t_lau:$m_lau" "rg -c:$t_rg:$m_rg"; do
        IFS=: read -r tool t m <<< "$row"
        if [ "$t" = nan ]; then printf "%-7s %-22s %9s %9s %10s\n" "$kind" "$tool" - - -
        else printf "%-7s %-22s %9.2f %9.0f %7.0f MB\n" "$kind" "$tool" "$t" "$(echo "$mb / $t" | bc -l)" "$(echo "$m / 1024" | bc -l)"; fi
    done
    T[${kind}_imds]=$t_imds T[${kind}_aus]=$t_aus T[${kind}_lau]=$t_lau T[${kind}_rg]=$t_rg T[${kind}_mb]=$mb T[${kind}_rss]=$m_imds
done

echo
echo "targets (issue 6):"
s_mbs=$(echo "${T[sparse_mb]} / ${T[sparse_imds]}" | bc -l); d_mbs=$(echo "${T[dense_mb]} / ${T[dense_imds]}" | bc -l)
printf "  sparse >= 2000 MB/s: %6.0f MB/s  %s\n" "$s_mbs" "$(check "$s_mbs >= 2000")"
printf "  dense  >=  500 MB/s: %6.0f MB/s  %s\n" "$d_mbs" "$(check "$d_mbs >= 500")"
for kind in sparse dense; do
    want_aus=$([ $kind = sparse ] && echo 10 || echo 2)
    a=$(ratio "${T[${kind}_aus]}" "${T[${kind}_imds]}"); l=$(ratio "${T[${kind}_lau]}" "${T[${kind}_imds]}"); r=$(ratio "${T[${kind}_imds]}" "${T[${kind}_rg]}")
    printf "  %-6s ausearch/imdswatch %5sx (>= %sx) %s; laurel/imdswatch %5sx (>= 50x) %s; imdswatch/rg %4sx (<= 5x) %s\n" "$kind" \
        "$a" "$want_aus" "$(check "$a >= $want_aus")" "$l" "$(check "$l >= 50")" "$r" "$(check "$r <= 5")"
done
rss=$(( (T[sparse_rss] > T[dense_rss] ? T[sparse_rss] : T[dense_rss]) / 1024 ))
printf "  peak RSS <= 200 MB: %d MB  %s\n" "$rss" "$(check "$rss <= 200")"
