#!/usr/bin/env bash
# CloudTrail at organisation scale: imdswatch against a plain Python standard-library filter and `zcat | jq`, on
# the same S3-layout day, in one run; then imdswatch's peak memory at larger days.
#
# Builds a day of CloudTrail in the S3 layout (AWSLogs/<acct>/CloudTrail/<region>/2026/11/24/*.json.gz, 2-5 MB
# files) from the shared corpora (bench/cloudtrail_day.py: corpus record bodies, an organisation's mix of callers,
# three planted incidents), builds imdswatch native (falling back to ReadyToRun), warms the page cache, and prints
# seconds, MB/s, peak RSS and the ratios; then, for each further size, imdswatch's time and peak RSS only (the
# peers would take minutes there and say nothing new). Checks issue 16's bars: imdswatch >= 3x the Python filter,
# peak RSS <= 300 MB at every size, and the three planted incidents found at every size.
#
# Usage: bench/cloudtrail.sh [COMPARE_MB=250 (0: none)] [MEMORY_MB...=1024 4096]
#        BENCH_DIR=dir keeps the days and the binary between runs; CORPORA=dir (default ../shared/corpora/cloudtrail)
set -euo pipefail
cd "$(dirname "$0")/.."
compare=${1:-250}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1024 4096)
corpora=${CORPORA:-../shared/corpora/cloudtrail}
[ -d "$corpora" ] || corpora=/work/shared/corpora/cloudtrail
[ -d "$corpora" ] || { echo "no CloudTrail corpora (set CORPORA)" >&2; exit 2; }
work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
trap '[ -z "${BENCH_DIR:-}" ] && rm -rf "$work"' EXIT

# peers and tools from Debian when missing (as root): command -> package
need=()
for pair in jq:jq bc:bc /usr/bin/time:time clang:clang; do
    command -v "${pair%%:*}" >/dev/null || need+=("${pair##*:}")
done
[ -f /usr/include/zlib.h ] || need+=(zlib1g-dev) # the native build links zlib
if [ ${#need[@]} -gt 0 ] && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

build=native
if [ ! -x "$work/bin/imdswatch" ]; then
    if ! dotnet publish src/ImdsWatch.Cli -c Release -r linux-x64 -p:PublishAot=true -o "$work/bin" >"$work/publish.log" 2>&1; then
        build=ReadyToRun
        dotnet publish src/ImdsWatch.Cli -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$work/bin" >"$work/publish.log" 2>&1
    fi
fi
imdswatch="$work/bin/imdswatch"

day() { # size in MB -> folder
    local dir="$work/day-$1"
    [ -d "$dir/AWSLogs" ] || python3 bench/cloudtrail_day.py "$corpora" "$dir" "$1"
    echo "$dir"
}
# fastest of N runs (the page cache warm): "seconds peak-RSS-KB"; the command's output stays in $work/out
best() {
    local runs=$1; shift
    for _ in $(seq "$runs"); do
        /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>"$work/err" || true
        tail -n 1 "$work/time"
    done | sort -n | head -n 1
}
ratio() { echo "scale=1; $1 / $2" | bc -l; }
check() { if (( $(echo "$1" | bc -l) )); then echo "met"; else echo "NOT met"; fi; }
found() { # the three planted incidents, by their addresses
    local n=0
    for ip in 203.0.113.1 198.51.100.77 10.99.1.23; do
        grep -q "InstanceCredentialExfiltration.*\"source\":{\"ip\":\"$ip\"" "$work/out" && n=$((n + 1))
    done
    echo "$n"
}
jq_filter() { find "$1" -name '*.json.gz' -print0 | xargs -0 zcat | jq -c '.Records[] | select((.userIdentity.principalId // "") | contains(":i-")) | [(.userIdentity.principalId | split(":") | last), .sourceIPAddress]' | sort -u | wc -l; }
export -f jq_filter

if [ "$compare" != 0 ]; then # 0: the memory sizes only
    dir=$(day "$compare")
    mb=$(find "$dir" -name '*.json.gz' -print0 | xargs -0 zcat | wc -c | awk '{printf "%.0f", $1 / 1e6}')
    files=$(find "$dir" -name '*.json.gz' | wc -l)
    cat "$dir"/AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz >/dev/null # page cache
    echo "CloudTrail day: $files files, $mb MB of JSON ($(du -sm "$dir" | cut -f1) MB gzipped); imdswatch $build build; $(nproc) cores"
    read -r t_i m_i < <(best 3 "$imdswatch" scan "$dir" -f ndjson -q)
    incidents=$(found)
    read -r t_p m_p < <(best 3 python3 bench/cloudtrail_filter.py "$dir")
    read -r t_j m_j < <(best 1 bash -c "jq_filter $dir")
    printf '%-28s %8s %8s %10s\n' tool seconds MB/s "peak MB"
    printf '%-28s %8.2f %8.0f %10.0f\n' "imdswatch scan" "$t_i" "$(echo "$mb / $t_i" | bc -l)" "$(echo "$m_i / 1024" | bc -l)"
    printf '%-28s %8.2f %8.0f %10.0f\n' "python3 json filter" "$t_p" "$(echo "$mb / $t_p" | bc -l)" "$(echo "$m_p / 1024" | bc -l)"
    printf '%-28s %8.2f %8.0f %10.0f\n' "zcat | jq" "$t_j" "$(echo "$mb / $t_j" | bc -l)" "$(echo "$m_j / 1024" | bc -l)"
    echo "imdswatch vs python: $(ratio "$t_p" "$t_i")x ($(check "$t_p >= 3 * $t_i") >= 3x); vs zcat|jq: $(ratio "$t_j" "$t_i")x"
    echo "planted incidents found: $incidents of 3; peak RSS $((m_i / 1024)) MB ($(check "$m_i <= 300 * 1024") <= 300 MB)"
fi

for size in "${sizes[@]}"; do
    dir=$(day "$size")
    read -r t m < <(best 1 "$imdswatch" scan "$dir" -f ndjson -q)
    echo "$size MB day: imdswatch $t s, peak RSS $((m / 1024)) MB ($(check "$m <= 300 * 1024") <= 300 MB), planted incidents found: $(found) of 3"
done
