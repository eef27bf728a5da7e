#!/usr/bin/env bash
# Makes the web and syslog samples with the real tools, never touching the host network:
#   samples/web/access.log  — nginx, deliberately vulnerable (/fetch?url= proxies anything), in a private network
#                             namespace whose loopback holds 169.254.169.254, with `imdswatch emulate` behind it;
#   samples/syslog/syslog   — rsyslog (its own socket, its own file) receiving `logger` lines from programs, and the
#                             kernel audit records of samples/audit-raw.log.gz relayed as audisp-syslog does.
# Needs root, nginx (nginx-light), rsyslog, curl, util-linux (logger). Cleans up by PID and name it created.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 2; }
ns="imdswatch-samples-$$"
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
    [ -f "$work/rsyslog.pid" ] && kill "$(cat "$work/rsyslog.pid")" 2>/dev/null || true
    sleep 0.5
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

dotnet build src/ImdsWatch.Cli -c Release -o "$work/bin" >/dev/null
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" addr add 169.254.169.254/32 dev lo
[ "$(ip -n "$ns" -o link | wc -l)" = 1 ] || { echo "namespace has a way out" >&2; exit 1; }

ip netns exec "$ns" "$work/bin/imdswatch" emulate --listen http://169.254.169.254:80 --quiet > "$work/emulator.out" 2>&1 &
pids+=($!)

mkdir -p "$work/nginx/logs" samples/web samples/syslog
cat > "$work/nginx/nginx.conf" <<CONF
pid $work/nginx.pid;
error_log $work/nginx/logs/error.log;
events {}
http {
    access_log $work/nginx/logs/access.log combined;
    client_body_temp_path $work/nginx/body; proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fcgi; uwsgi_temp_path $work/nginx/uwsgi; scgi_temp_path $work/nginx/scgi;
    server {
        listen 127.0.0.1:8080;
        location = / { return 200 "shop\n"; }
        # The vulnerability: fetch whatever URL the client names (server-side request forgery).
        location /fetch { proxy_pass \$arg_url; }
    }
}
CONF
ip netns exec "$ns" nginx -c "$work/nginx/nginx.conf"
for _ in $(seq 50); do ip netns exec "$ns" curl -s -o /dev/null http://127.0.0.1:8080/ && break; sleep 0.1; done
for _ in $(seq 50); do grep -q ready "$work/emulator.out" && break; sleep 0.2; done

req() { ip netns exec "$ns" curl -s -o /dev/null -A "$1" "http://127.0.0.1:8080$2" || true; }
req "Mozilla/5.0" "/"
req "python-requests/2.31" "/fetch?url=http://169.254.169.254/latest/meta-data/iam/security-credentials/"
req "python-requests/2.31" "/fetch?url=http://169.254.169.254/latest/meta-data/iam/security-credentials/imdswatch-canary-role"
req "python-requests/2.31" "/fetch?url=http%3A%2F%2F169.254.169.254%2Flatest%2Fuser-data"
req "python-requests/2.31" "/fetch?url=http://0xA9FEA9FE/latest/user-data"
req "curl/8.0" "/fetch?url=http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token"
req "Mozilla/5.0" "/"
kill "$(cat "$work/nginx.pid")"; sleep 0.3
cp "$work/nginx/logs/access.log" samples/web/access.log

cat > "$work/rsyslog.conf" <<CONF
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="$work/log.sock" CreatePath="on")
\$ActionFileDefaultTemplate RSYSLOG_TraditionalFileFormat
*.* $work/syslog
CONF
rsyslogd -n -f "$work/rsyslog.conf" -i "$work/rsyslog.pid" &
pids+=($!)
for _ in $(seq 50); do [ -S "$work/log.sock" ] && break; sleep 0.1; done
log() { logger -u "$work/log.sock" -t "$1" -- "$2"; }
log sshd "Accepted publickey for admin from 10.0.0.9 port 51000 ssh2"
log myapp "fetching credentials from http://169.254.169.254/latest/meta-data/iam/security-credentials/app-role"
log amazon-ssm-agent "INFO [CredentialRefresher] refreshed credentials from http://169.254.169.254/latest/meta-data/iam/security-credentials/"
log cloud-init "url_helper.py[DEBUG]: Read from http://169.254.169.254/latest/meta-data/instance-id (200, 19b)"
# audisp-syslog relays each kernel record as one syslog message: the credential fetch of the hex-address test.
zcat samples/audit-raw.log.gz > "$work/raw.log"
awk '/imdswatch-validate-begin.*hex-address/{on=1} on{print} /imdswatch-validate-end.*hex-address/{on=0}' "$work/raw.log" \
    | grep -E 'type=(SYSCALL|EXECVE|SOCKADDR|PROCTITLE|CWD|PATH)' > "$work/relay.txt"
while IFS= read -r record; do log audispd "$record"; done < "$work/relay.txt"
sleep 1
cp "$work/syslog" samples/syslog/syslog
echo "wrote samples/web/access.log ($(wc -l < samples/web/access.log) lines) and samples/syslog/syslog ($(wc -l < samples/syslog/syslog) lines)"
