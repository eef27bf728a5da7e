#!/usr/bin/env bash
# Coverage-guided fuzzing of one target with AFL++ (Debian's afl++) and SharpFuzz: ImdsWatch.Core.dll is
# instrumented so that AFL++ sees which branches each input takes. Crashes land in $work/out/default/crashes.
# Usage: tests/ImdsWatch.Fuzz/afl.sh TARGET [SECONDS=600]     (targets: dotnet .../imdswatch-fuzz.dll list)
#        AFL_WORK=dir keeps the build, the seeds and AFL++'s output between runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
target=${1:?usage: afl.sh TARGET [SECONDS]}
seconds=${2:-600}
work=${AFL_WORK:-$(mktemp -d)}
mkdir -p "$work"
export PATH="$PATH:$HOME/.dotnet/tools"

if ! command -v afl-fuzz >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++ >/dev/null
fi
command -v sharpfuzz >/dev/null || dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0 >/dev/null

dotnet publish tests/ImdsWatch.Fuzz -c Release -o "$work/bin" >"$work/publish.log"
corpus=()
[ -d ../shared/corpora ] && corpus=(--corpus "$(cd ../shared/corpora && pwd)")
rm -rf "$work/in" && dotnet "$work/bin/imdswatch-fuzz.dll" seeds "$target" "$work/in" "${corpus[@]}"
# Instrumented in place (every branch reports to AFL++); from now on the library runs only under afl-fuzz.
sharpfuzz "$work/bin/ImdsWatch.Core.dll" >/dev/null

# dotnet is no AFL binary (the instrumentation is in the managed code); a .NET start takes ~100 ms, and the
# forkserver SharpFuzz runs keeps the process: -t is per input.
AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
    afl-fuzz -V "$seconds" -t 5000 -m none -i "$work/in" -o "$work/out" -- dotnet "$work/bin/imdswatch-fuzz.dll" afl "$target" \
    | tail -n 40 || true
echo "afl.sh: $(grep -E '^(execs_done|saved_crashes|saved_hangs|corpus_count|edges_found|bitmap_cvg)' "$work/out/default/fuzzer_stats" | tr -s ' ' | tr '\n' ' ')"
[ -z "${AFL_WORK:-}" ] && echo "afl.sh: output in $work"
