namespace ImdsWatch.Cli.Validation;

/// <summary>Helper files the built-in tests use, written to the scratch directory ($WORK).</summary>
internal static class TestFiles
{
    public static IReadOnlyDictionary<string, string> All { get; } = new Dictionary<string, string>
    {
        ["sock.py"] = """
            import socket
            s = socket.create_connection(("169.254.169.254", 80), timeout=3)
            s.sendall(b"GET /latest/meta-data/iam/security-credentials/ HTTP/1.0\r\nHost: x\r\n\r\n")
            print(s.recv(4096).decode(errors="replace"))
            """,
        ["fetch.pl"] = """
            use IO::Socket::INET;
            my $s = IO::Socket::INET->new(PeerAddr => "169.254.169.254", PeerPort => 80, Proto => "tcp", Timeout => 3) or die "connect: $!";
            print $s "GET /latest/meta-data/iam/security-credentials/ HTTP/1.0\r\n\r\n";
            print while <$s>;
            """,
        ["curlrc"] = """
            url = "http://169.254.169.254/latest/meta-data/iam/security-credentials/imdswatch-canary-role"
            """,
        ["app.py"] = """
            # A deliberately vulnerable web app: fetches whatever URL it is given (server-side request forgery).
            import http.server, urllib.parse, urllib.request
            class H(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                    try:
                        body = urllib.request.urlopen(q["url"][0], timeout=3).read()
                        self.send_response(200)
                    except Exception as e:
                        body = str(e).encode()
                        self.send_response(502)
                    self.end_headers()
                    self.wfile.write(body)
                def log_message(self, *a):
                    pass
            http.server.HTTPServer(("127.0.0.1", 8080), H).serve_forever()
            """,
        ["probe.py"] = """
            import socket, sys
            try:
                socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close()
            except OSError:
                sys.exit(1)
            """,
        ["client.py"] = """
            # The attacker's request, as it would arrive from outside: the target URL travels encoded in the query.
            import sys, urllib.parse, urllib.request
            q = urllib.parse.urlencode({"url": sys.argv[1]})
            print(urllib.request.urlopen("http://127.0.0.1:8080/fetch?" + q, timeout=5).read().decode(errors="replace"))
            """,
        ["agent-binary.sh"] = """
            # Runs in a private mount namespace: /opt is a fresh tmpfs, so nothing on the host changes.
            set -e
            mount -t tmpfs tmpfs /opt
            mkdir -p /opt/aws/amazon-cloudwatch-agent/bin
            cp "$(command -v curl)" /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent
            chown root:root /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent
            cd /
            exec /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent -s -K "$WORK/curlrc"
            """,
        ["agent-script.sh"] = """
            # Runs in a private mount namespace: the dist-packages folder is a fresh tmpfs for this test only.
            set -e
            d=/usr/lib/python3/dist-packages
            [ -d "$d" ] || { echo "$d is missing (Debian package python3)" >&2; exit 1; }
            mount -t tmpfs tmpfs "$d"
            mkdir -p "$d/cloudinit"
            cp "$WORK/sock.py" "$d/cloudinit/imds_fetch.py"
            cd /
            exec python3 "$d/cloudinit/imds_fetch.py"
            """,
    };
}
