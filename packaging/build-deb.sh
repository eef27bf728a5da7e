#!/usr/bin/env bash
# Builds the Debian package of imdswatch with dpkg-deb (no debhelper, no source package): one native binary with
# SQLite linked in, its configuration and audit files as conffiles, hardened systemd units (not enabled), a system
# user and a private state folder created by postinst.
#
#   packaging/build-deb.sh [--arch amd64|arm64] [--binary FILE] [--out DIR] [--no-lintian]
#
# Without --binary it publishes the native build itself (needs clang and libsqlite3-dev; for arm64 the cross
# toolchain, see packaging/build-arm64.sh). The version is Directory.Build.props' <Version>, the one place it is
# set. lintian runs when installed and fails the build on any warning not overridden in debian/lintian-overrides.
set -euo pipefail
# The package's modes are the script's, not the caller's: a caller with umask 077 made 0600 docs (lintian).
umask 022

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
arch=amd64
binary=
out="$repo/artifacts"
lint=1
while [ $# -gt 0 ]; do
    case "$1" in
        --arch) arch=$2; shift 2 ;;
        --binary) binary=$(realpath "$2"); shift 2 ;;
        --out) out=$2; shift 2 ;;
        --no-lintian) lint=0; shift ;;
        -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "build-deb.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
case "$arch" in
    amd64) rid=linux-x64; machine='x86-64' ;;
    arm64) rid=linux-arm64; machine='aarch64' ;;
    *) echo "build-deb.sh: --arch must be amd64 or arm64" >&2; exit 2 ;;
esac

version=$(sed -n 's:.*<Version>\([^<]*\)</Version>.*:\1:p' "$repo/Directory.Build.props" | head -n 1)
[ -n "$version" ] || { echo "build-deb.sh: no <Version> in Directory.Build.props" >&2; exit 2; }
# Debian revision 1 of that upstream version; a packaging-only fix would raise it.
debversion="$version-${DEB_REVISION:-1}"
# Reproducible: every date in the package is the last commit's (or SOURCE_DATE_EPOCH's).
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || date +%s)}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ -z "$binary" ]; then
    echo "build-deb.sh: publishing the native $rid build"
    dotnet publish "$repo/src/ImdsWatch.Cli" -c Release -r "$rid" -p:PublishAot=true -o "$work/publish" >"$work/publish.log" 2>&1 \
        || { tail -n 30 "$work/publish.log" >&2; exit 1; }
    binary="$work/publish/imdswatch"
fi

# One file: nothing beside it but the C library (libc, libm, the dynamic loader).
file -b "$binary" | grep -q "ELF 64-bit.*$machine" \
    || { echo "build-deb.sh: $binary is not an $machine ELF: $(file -b "$binary")" >&2; exit 1; }
needed=$(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
for lib in $needed; do
    case "$lib" in
        libc.so.6|libm.so.6|ld-linux-*.so.*) ;;
        *) echo "build-deb.sh: $binary needs $lib; the package binary may need the C library only" >&2; exit 1 ;;
    esac
done
glibc=$(readelf -V -W "$binary" | grep -o 'Name: GLIBC_[0-9.]*' | sed 's/Name: GLIBC_//' | sort -V | tail -n 1)

root="$work/root"
doc="$root/usr/share/doc/imdswatch"
install -d -m 0755 "$root/DEBIAN" "$root/usr/sbin" "$root/etc/imdswatch" "$root/etc/audit/rules.d" \
    "$root/etc/audit/plugins.d" "$root/lib/systemd/system" "$doc" "$root/usr/share/man/man8" \
    "$root/usr/share/lintian/overrides"
install -m 0755 "$binary" "$root/usr/sbin/imdswatch"
install -m 0644 "$here/etc/config.yaml" "$root/etc/imdswatch/config.yaml"
install -m 0640 "$here/etc/agent.yaml" "$root/etc/imdswatch/agent.yaml"
install -m 0640 "$here/audit/50-imdswatch.rules" "$root/etc/audit/rules.d/50-imdswatch.rules"
install -m 0640 "$here/audit/imdswatch.conf" "$root/etc/audit/plugins.d/imdswatch.conf"
install -m 0644 "$here/imdswatch.service" "$here/imdswatch-once.service" "$here/imdswatch-once.timer" "$root/lib/systemd/system/"
sed "s/@VERSION@/$version/" "$here/imdswatch.8" | gzip -9n >"$root/usr/share/man/man8/imdswatch.8.gz"
install -m 0644 "$here/debian/copyright" "$doc/copyright"
gzip -9n <"$repo/CHANGELOG.md" >"$doc/changelog.gz"
maintainer=$(sed -n 's/^Maintainer: //p' "$here/debian/control.in")
printf '%s\n\n  * %s\n\n -- %s  %s\n' "imdswatch ($debversion) unstable; urgency=medium" \
    "Package of imdswatch $version; the upstream changes are in changelog.gz." \
    "$maintainer" "$(date -R -u -d "@$SOURCE_DATE_EPOCH")" | gzip -9n >"$doc/changelog.Debian.gz"
install -m 0644 "$here/debian/lintian-overrides" "$root/usr/share/lintian/overrides/imdswatch"
install -m 0755 "$here/debian/postinst" "$here/debian/prerm" "$here/debian/postrm" "$root/DEBIAN/"
install -m 0644 "$here/debian/conffiles" "$root/DEBIAN/conffiles"

(cd "$root" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z \
    | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$debversion/" -e "s/@ARCH@/$arch/" -e "s/@INSTALLED_SIZE@/$size/" \
    -e "s/@DEPENDS@/libc6 (>= $glibc), adduser/" "$here/debian/control.in" >"$root/DEBIAN/control"
find "$root" -exec touch --no-dereference --date="@$SOURCE_DATE_EPOCH" {} +

mkdir -p "$out"
deb="$out/imdswatch_${debversion}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "build-deb.sh: $deb ($(du -h "$deb" | cut -f1))"

if [ "$lint" = 1 ] && command -v lintian >/dev/null; then
    lintian --fail-on warning --info "$deb" 2> >(grep -v "running with root privileges" >&2)
fi
