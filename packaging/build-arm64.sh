#!/usr/bin/env bash
# The linux-arm64 native build (Graviton, Ampere, Cobalt), cross-compiled on an x64 Debian machine with Debian's
# own cross toolchain: clang --target=aarch64-linux-gnu, the arm64 C library and GCC runtime from
# crossbuild-essential-arm64, and the arm64 static SQLite from libsqlite3-dev:arm64 (multiarch).
#
#   packaging/build-arm64.sh --setup        install that toolchain (root; adds the arm64 architecture to dpkg)
#   packaging/build-arm64.sh --check        say whether it is here (exit 0) or what is missing (exit 1)
#   packaging/build-arm64.sh [--out DIR] [--deb]
#                                           publish DIR/imdswatch (aarch64 ELF), run it under qemu-aarch64 when
#                                           installed, and with --deb build the arm64 Debian package beside it
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
out="$repo/artifacts/linux-arm64"
deb=0
sqlite=/usr/lib/aarch64-linux-gnu/libsqlite3.a
sysroot=/usr/aarch64-linux-gnu

check() {
    local missing=()
    command -v clang >/dev/null || missing+=("clang (apt-get install clang)")
    command -v llvm-objcopy >/dev/null || missing+=("llvm-objcopy (apt-get install llvm)")
    command -v aarch64-linux-gnu-ld.bfd >/dev/null || missing+=("aarch64-linux-gnu-ld.bfd (apt-get install crossbuild-essential-arm64)")
    [ -f "$sysroot/lib/libc.so.6" ] || missing+=("the arm64 C library in $sysroot (apt-get install libc6-dev-arm64-cross)")
    [ -f "$sqlite" ] || missing+=("$sqlite (dpkg --add-architecture arm64 && apt-get update && apt-get install libsqlite3-dev:arm64)")
    if [ ${#missing[@]} -gt 0 ]; then
        printf 'build-arm64.sh: missing %s\n' "${missing[@]}" >&2
        return 1
    fi
    echo "build-arm64.sh: the arm64 cross toolchain is here"
}

case "${1:-}" in
    --check) check; exit $? ;;
    --setup)
        [ "$(id -u)" = 0 ] || { echo "build-arm64.sh: --setup needs root" >&2; exit 2; }
        dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            clang lld llvm crossbuild-essential-arm64 libsqlite3-dev:arm64 qemu-user-static >/dev/null
        check; exit $? ;;
esac
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out=$2; shift 2 ;;
        --deb) deb=1; shift ;;
        -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "build-arm64.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
check >/dev/null || { check; exit 1; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "build-arm64.sh: publishing linux-arm64 native AOT to $out"
if ! dotnet publish "$repo/src/ImdsWatch.Cli" -c Release -r linux-arm64 -p:PublishAot=true -o "$out" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    exit 1
fi
file -b "$out/imdswatch" | grep -q 'ELF 64-bit LSB pie executable, ARM aarch64' \
    || { echo "build-arm64.sh: not an aarch64 PIE: $(file -b "$out/imdswatch")" >&2; exit 1; }
readelf -d "$out/imdswatch" | grep NEEDED
# Under Debian 12's qemu-user (7.2) the .NET runtime spins at start-up (no system call after its signal set-up),
# so this is a bounded try that reports, never a gate.
if command -v qemu-aarch64-static >/dev/null || command -v qemu-aarch64 >/dev/null; then
    qemu=$(command -v qemu-aarch64-static || command -v qemu-aarch64)
    if QEMU_LD_PREFIX=$sysroot timeout 120 "$qemu" "$out/imdswatch" --version; then
        QEMU_LD_PREFIX=$sysroot timeout 600 "$qemu" "$out/imdswatch" scan "$repo/samples" --format ndjson --quiet | wc -l | sed 's/$/ alert(s) on the samples under qemu/'
    else
        echo "build-arm64.sh: $qemu could not run it (exit $?); run it on an arm64 host"
    fi
fi
if [ "$deb" = 1 ]; then
    "$here/build-deb.sh" --arch arm64 --binary "$out/imdswatch" --out "$(dirname "$out")"
fi
