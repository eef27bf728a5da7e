#!/usr/bin/env bash
# Builds and runs every test. As root on Debian it first installs what the live end-to-end test needs
# (auditd, netcat-openbsd, ...); without root that test is skipped and says why.
set -euo pipefail
cd "$(dirname "$0")"

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    missing=()
    for pair in auditd:auditctl iproute2:ip netcat-openbsd:nc curl:curl wget:wget perl:perl python3:python3 util-linux:setpriv mount:mount coreutils:timeout rsyslog:rsyslogd; do
        command -v "${pair#*:}" >/dev/null 2>&1 || missing+=("${pair%%:*}")
    done
    [ -x /usr/bin/python3 ] || missing+=(python3)
    # The packaging tests: the native build (clang, the static SQLite), the Debian package (file, lintian, adduser).
    for pair in clang:clang file:file lintian:lintian adduser:adduser; do
        command -v "${pair#*:}" >/dev/null 2>&1 || missing+=("${pair%%:*}")
    done
    [ -f /usr/include/sqlite3.h ] || missing+=(libsqlite3-dev)
    # The HTML report is checked in a real browser (headless).
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "test.sh: installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test ImdsWatch.slnx -c Release --nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# The code is formatted as `dotnet format` leaves it (.editorconfig); a change it would make fails the run.
if ! dotnet format ImdsWatch.slnx --verify-no-changes --no-restore; then
    echo "test.sh: dotnet format would change the files above; run 'dotnet format ImdsWatch.slnx' and commit" >&2
    [ "$status" != 0 ] || status=3
fi
set -e

# One plain closing line for any runner that reads it: "N passed, N failed, N skipped".
summary=$(grep -E '(Passed|Failed)! +- +Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+' "$log" | tail -n 1 || true)
if [ -n "$summary" ]; then
    failed=$(sed -E 's/.*Failed: +([0-9]+).*/\1/' <<<"$summary")
    passed=$(sed -E 's/.*Passed: +([0-9]+).*/\1/' <<<"$summary")
    skipped=$(sed -E 's/.*Skipped: +([0-9]+).*/\1/' <<<"$summary")
    echo "${passed} passed, ${failed} failed, ${skipped} skipped"
fi
exit "$status"
