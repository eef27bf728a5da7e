#!/usr/bin/env bash
# Packs the dotnet tool, one package per runtime (.NET 10 RID-specific tools):
#   ImdsWatch.Tool               the package `dotnet tool install ImdsWatch.Tool` asks for; it only names the others
#   ImdsWatch.Tool.linux-x64     native AOT (one file, SQLite linked in)
#   ImdsWatch.Tool.linux-arm64   native AOT when the arm64 cross toolchain is here (packaging/build-arm64.sh
#                                --setup installs it), otherwise self-contained ReadyToRun
#   ImdsWatch.Tool.<rid>         osx-arm64, osx-x64, win-x64, win-arm64, linux-musl-x64, linux-musl-arm64:
#                                framework-dependent ReadyToRun (native AOT cannot be built for them from here)
#   ImdsWatch.Tool.any           framework-dependent, JIT only, for every other platform with the .NET 10 runtime
#
#   packaging/pack-tool.sh [--out DIR] [--skip-arm64]
#   dotnet tool install -g --add-source DIR ImdsWatch.Tool
#
# Native AOT and ReadyToRun cannot be packed by one `dotnet pack` (each runtime is compiled on its own), hence a
# call per runtime.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
out="$repo/artifacts/nupkg"
arm64=1
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out=$2; shift 2 ;;
        --skip-arm64) arm64=0; shift ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "pack-tool.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
mkdir -p "$out"
project="$repo/src/ImdsWatch.Cli/ImdsWatch.Cli.csproj"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

pack() {
    echo "pack-tool.sh: $*"
    if ! dotnet pack "$project" -c Release -o "$out" "$@" >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        return 1
    fi
}

pack -p:PublishAot=true
pack -r linux-x64 -p:PublishAot=true
if [ "$arm64" = 1 ]; then
    if "$here/build-arm64.sh" --check >/dev/null 2>&1; then
        pack -r linux-arm64 -p:PublishAot=true
    else
        echo "pack-tool.sh: no arm64 cross toolchain ($("$here/build-arm64.sh" --check 2>&1 | tail -n 1)); linux-arm64 is ReadyToRun"
        pack -r linux-arm64 -p:PublishAot=false -p:SelfContained=true -p:PublishReadyToRun=true
    fi
fi
# The ReadyToRun runtimes, as the project lists them (it makes -r <rid> framework-dependent ReadyToRun).
r2r=$(dotnet msbuild "$project" -getProperty:ReadyToRunToolRuntimeIdentifiers)
for rid in ${r2r//;/ }; do
    pack -r "$rid"
done
pack -r any
ls -1 "$out"/ImdsWatch.Tool*.nupkg
