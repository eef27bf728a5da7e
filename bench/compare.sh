#!/usr/bin/env bash
# Whole-process throughput of `imdswatch scan` against ausearch and ripgrep on the same files, in one run.
# Generates a sparse (<0.1 % metadata events) and a dense (~1 %) log of SIZE MB from the bundled kernel capture
# (events repeated with serials, timestamps and pids shifted), installs the peers and the native toolchain from
# Debian when missing (as root), builds imdswatch native (falling back to ReadyToRun), warms the page cache, and
# prints every path of issue 17 (native, framework-dependent JIT and ReadyToRun builds, full parser, gzip, dense,
# many files) with wall and user+sys CPU seconds, MB/s and peak RSS, ausearch on the same input (the gzip and the
# rotated files through a pipe), and whether each target is met (ratios of wall and of CPU time: on a shared,
# loaded machine CPU time is the steadier of the two).
# Usage: bench/compare.sh [SIZE_MB=525]   (BENCH_DIR=dir keeps logs and binaries; NO_BUILD=1;
#        RUNS=n; BEFORE=an older native binary, BEFORE_FD=its imdswatch.dll, measured in the same run)
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-525}
work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
trap '[ -z "${BENCH_DIR:-}" ] && rm -rf "$work"' EXIT

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    missing=()
    command -v ausearch >/dev/null || missing+=(auditd)
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
if [ -n "${NO_BUILD:-}" ] && [ -x "$work/bin/imdswatch" ] && [ -f "$work/fd/imdswatch.dll" ] && [ -f "$work/r2r/imdswatch.dll" ]; then
    : # NO_BUILD=1: measure the binaries BENCH_DIR already holds
elif ! dotnet publish src/ImdsWatch.Cli -c Release -r linux-x64 -p:PublishAot=true -o "$work/bin" >"$work/publish.log" 2>&1; then
    build=ReadyToRun
    dotnet publish src/ImdsWatch.Cli -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$work/bin" >"$work/publish.log" 2>&1
fi
for kind in sparse dense; do
    share=$([ $kind = sparse ] && echo 0.0008 || echo 0.01)
    [ -f "$work/$kind.log" ] || python3 bench/generate.py samples/audit-enriched.log "$work/$kind.log" "$size" "$share"
done

# framework-dependent builds: JIT only, what `dotnet run` and the `.any` dotnet tool package give; and ReadyToRun,
# what the macOS, Windows and musl tool packages give (packaging/pack-tool.sh), built here for linux-x64
[ -n "${NO_BUILD:-}" ] && [ -f "$work/fd/imdswatch.dll" ] || dotnet publish src/ImdsWatch.Cli -c Release --self-contained false -o "$work/fd" >"$work/publish-fd.log" 2>&1
[ -n "${NO_BUILD:-}" ] && [ -f "$work/r2r/imdswatch.dll" ] || dotnet publish src/ImdsWatch.Cli -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$work/r2r" >"$work/publish-r2r.log" 2>&1
native="$work/bin/imdswatch"; fd="dotnet $work/fd/imdswatch.dll"; r2r="dotnet $work/r2r/imdswatch.dll"
before=${BEFORE:-} # BEFORE=path/to/an/older/imdswatch adds its rows to the same run

# gzip of the sparse log, and the sparse log cut into auditd's 8 MB rotated files
[ -f "$work/sparse.log.gz" ] || gzip -1 -c "$work/sparse.log" > "$work/sparse.log.gz"
if [ ! -d "$work/rotated" ]; then
    mkdir -p "$work/rotated"
    split -C 8M -d -a 3 "$work/sparse.log" "$work/rotated/part."
    # named as auditd rotates: audit.log the newest (the log's end), audit.log.1 before it, ... the highest the oldest
    parts=("$work"/rotated/part.*); n=${#parts[@]}
    for i in "${!parts[@]}"; do
        age=$((n - 1 - i))
        mv "${parts[$i]}" "$work/rotated/audit.log$([ $age -gt 0 ] && echo ".$age")"
    done
fi

# logrotate's way: the same set with all but audit.log and audit.log.1 gzipped (compress, delaycompress)
if [ ! -d "$work/rotated-gz" ]; then
    cp -r "$work/rotated" "$work/rotated-gz"
    find "$work/rotated-gz" -name 'audit.log.*' ! -name audit.log.1 -exec gzip -1 {} +
fi

# best of N runs (warm cache): wall seconds, user+sys CPU seconds, and the peak RSS (KB) of the best run
best() {
    local n=$1; shift
    local b=999999 cpu=0 rss=0
    for _ in $(seq "$n"); do
        /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" >/dev/null 2>&1 || true
        read -r t u s m < <(tail -n 1 "$work/time") # a failing command (ausearch: no match) adds a line before
        if (( $(echo "$t < $b" | bc -l) )); then b=$t; cpu=$(echo "$u + $s" | bc -l); rss=$m; fi
    done
    echo "$b $cpu $rss"
}
mb() { echo "$(du -cbL "$@" | tail -n 1 | cut -f1) / 1000000" | bc -l; }
row() { # label input-MB command...
    local label=$1 size=$2; shift 2
    read -r t c m < <(best "$runs" "$@")
    printf "%-50s %7.2f %7.2f %7.0f %6.0f MB\n" "$label" "$t" "$c" "$(echo "$size / $t" | bc -l)" "$(echo "$m / 1024" | bc -l)"
    T[$label]=$t; C[$label]=$c; M[$label]=$m
}
declare -A T C M
runs=${RUNS:-3}
scan=(scan --no-baseline --format ndjson -q)
s_mb=$(mb "$work/sparse.log"); d_mb=$(mb "$work/dense.log")
echo "imdswatch native build: $build ($(nproc) cores); logs of $size MB; load: $(uptime | sed 's/.*load average: //')"
printf "%-50s %7s %7s %7s %9s\n" path wall CPU MB/s "peak RSS"
cat "$work/sparse.log" "$work/dense.log" > /dev/null
row "sparse, native" "$s_mb" $native "${scan[@]}" "$work/sparse.log"
row "sparse, framework-dependent (dotnet tool)" "$s_mb" $fd "${scan[@]}" "$work/sparse.log"
row "sparse, framework-dependent ReadyToRun" "$s_mb" $r2r "${scan[@]}" "$work/sparse.log"
row "full parser (--no-prefilter), native" "$s_mb" $native "${scan[@]}" --no-prefilter "$work/sparse.log"
row "full parser (--no-prefilter), framework-dep." "$s_mb" $fd "${scan[@]}" --no-prefilter "$work/sparse.log"
row "sparse .gz, native" "$s_mb" $native "${scan[@]}" "$work/sparse.log.gz"
row "zcat alone" "$s_mb" zcat "$work/sparse.log.gz"
row "dense, native" "$d_mb" $native "${scan[@]}" "$work/dense.log"
many_label="many files ($(ls "$work/rotated" | wc -l) x 8 MB), native"
row "$many_label" "$s_mb" $native "${scan[@]}" "$work/rotated"
row "many files, logrotate .gz, native" "$s_mb" $native "${scan[@]}" "$work/rotated-gz"
row "zcat alone, logrotate .gz" "$s_mb" bash -c "zcat '$work'/rotated-gz/*.gz"
if [ -n "$before" ]; then
    row "before: sparse, native" "$s_mb" "$before" "${scan[@]}" "$work/sparse.log"
    row "before: full parser, native" "$s_mb" "$before" "${scan[@]}" --no-prefilter "$work/sparse.log"
    row "before: dense, native" "$d_mb" "$before" "${scan[@]}" "$work/dense.log"
    row "before: many files, native" "$s_mb" "$before" "${scan[@]}" "$work/rotated"
    row "before: sparse .gz, native" "$s_mb" "$before" "${scan[@]}" "$work/sparse.log.gz"
    row "before: many files, logrotate .gz, native" "$s_mb" "$before" "${scan[@]}" "$work/rotated-gz"
fi
if [ -n "${BEFORE_FD:-}" ]; then # BEFORE_FD=path/to/an/older/imdswatch.dll
    row "before: sparse, framework-dependent" "$s_mb" dotnet "$BEFORE_FD" "${scan[@]}" "$work/sparse.log"
    row "before: full parser, framework-dependent" "$s_mb" dotnet "$BEFORE_FD" "${scan[@]}" --no-prefilter "$work/sparse.log"
fi
if command -v ausearch >/dev/null; then
    row "ausearch -k --raw, sparse" "$s_mb" ausearch -if "$work/sparse.log" -k imdsx --raw
    row "ausearch -k --raw, dense" "$d_mb" ausearch -if "$work/dense.log" -k imdsx --raw
    # ausearch reads one file: the gzip and the rotated set reach it through a pipe, oldest file first
    row "ausearch -k --raw, sparse .gz (zcat |)" "$s_mb" bash -c "zcat '$work/sparse.log.gz' | ausearch -if /dev/stdin -k imdsx --raw"
    row "ausearch -k --raw, many files (cat |)" "$s_mb" bash -c "cd '$work/rotated' && cat \$(ls | sort -t. -k3,3rn) | ausearch -if /dev/stdin -k imdsx --raw"
fi
if command -v rg >/dev/null; then row "rg -c, sparse" "$s_mb" rg -c 169.254.169.254 "$work/sparse.log"; fi

echo
echo "targets (issue 17):"
ratio() { echo "scale=1; $1 / $2" | bc -l; }
check() { if (( $(echo "$1" | bc -l) )); then echo "met"; else echo "NOT met"; fi; }
full=${T["full parser (--no-prefilter), native"]}
printf "  full parser >= 500 MB/s: %5.0f MB/s  %s\n" "$(echo "$s_mb / $full" | bc -l)" "$(check "$s_mb / $full >= 500")"
for fdl in "sparse, framework-dependent (dotnet tool)" "sparse, framework-dependent ReadyToRun"; do
    w=$(ratio "${T[$fdl]}" "${T["sparse, native"]}"); c=$(ratio "${C[$fdl]}" "${C["sparse, native"]}")
    printf "  %s within 1.5x native: %sx wall %s, %sx CPU %s\n" "${fdl#sparse, }" "$w" "$(check "$w <= 1.5")" "$c" "$(check "$c <= 1.5")"
done
gz=$(ratio "${T["sparse .gz, native"]}" "${T["zcat alone"]}")
printf "  .gz at the speed of decompression: %sx zcat's time  %s\n" "$gz" "$(check "$gz <= 1.2")"
if [ -n "${T["ausearch -k --raw, dense"]:-}" ]; then
    a=$(ratio "${T["ausearch -k --raw, sparse"]}" "${T["full parser (--no-prefilter), native"]}")
    printf "  full parser >= 4x ausearch (sparse): %sx  %s\n" "$a" "$(check "$a >= 4")"
    a=$(ratio "${T["ausearch -k --raw, sparse"]}" "${T["sparse, framework-dependent (dotnet tool)"]}")
    printf "  framework-dependent >= 5x ausearch (sparse): %sx  %s\n" "$a" "$(check "$a >= 5")"
    a=$(ratio "${T["ausearch -k --raw, dense"]}" "${T["dense, native"]}")
    printf "  dense at least as fast as ausearch: %sx  %s\n" "$a" "$(check "$a >= 1")"
fi
printf "  dense peak RSS <= 200 MB: %.0f MB  %s\n" "$(echo "${M["dense, native"]} / 1024" | bc -l)" "$(check "${M["dense, native"]} <= 204800")"
many=$(ratio "${T[$many_label]}" "${T["sparse, native"]}"); manyc=$(ratio "${C[$many_label]}" "${C["sparse, native"]}")
printf "  many files as fast as one: %sx the time, %sx the CPU  %s\n" "$many" "$manyc" "$(check "$many <= 1.2")"
manygz=$(ratio "${T["many files, logrotate .gz, native"]}" "${T["zcat alone, logrotate .gz"]}")
printf "  rotated .gz at the speed of decompression: %sx zcat's time  %s\n" "$manygz" "$(check "$manygz <= 1.2")"
