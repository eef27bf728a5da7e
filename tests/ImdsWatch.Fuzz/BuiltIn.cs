namespace ImdsWatch.Fuzz;

/// <summary>Hand-written seeds for the formats the repository has no sample of.</summary>
internal static class BuiltIn
{
    public static readonly string[] EcsLines =
    [
        """{"@timestamp":"2026-11-24T14:08:01Z","event":{"category":["process"],"type":["start"],"id":"e1"},"host":{"name":"vm"},"process":{"pid":500,"parent":{"pid":1},"executable":"/usr/bin/curl","name":"curl","args":["curl","http://169.254.169.254/latest/meta-data/iam/security-credentials/"],"working_directory":"/root"},"user":{"id":"0","name":"root"}}""",
        """{"@timestamp":"2026-11-24T14:08:02Z","event":{"category":["network"],"type":["connection"],"action":"connected-to","outcome":"failure"},"process":{"pid":"501","name":"python3"},"destination":{"ip":"169.254.169.254","port":80},"auditd":{"data":{"syscall":"connect"}}}""",
        """{"@timestamp":"2026-11-24T14:08:03Z","event.category":"process","event.type":"start","process.command_line":"sh -c 'curl -s http://169.254.169.254/latest/api/token -X PUT'","process.pid":502}""",
        """{"@timestamp":"2026-11-24T14:08:04Z","ecs":{"event":{"category":["process"],"type":["start"]}},"process":{"args":["wget","-qO-","http://[fd00:ec2::254]/latest/user-data"],"tty":{"char_device":{"name":"pts/0"}}}}""",
    ];

    public static readonly string[] WebLines =
    [
        """"10.0.0.5 - - [24/Nov/2026:14:08:01 +0000] "GET /fetch?url=http%3A%2F%2F169.254.169.254%2Flatest%2Fmeta-data%2Fiam%2Fsecurity-credentials%2F HTTP/1.1" 200 512 "-" "python-requests/2.31" "app.example.com"""",
        """https 2026-11-24T14:08:01.123456Z app/my-alb/50dc6c495c0c9188 10.0.0.9:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://169.254.169.254:80/latest/meta-data/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing "Root=1-58337262" "-" "-" 0 2026-11-24T14:08:01.000000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1""",
        """1732457281.123      5 10.0.0.9 TCP_MISS/200 1234 GET http://169.254.169.254/latest/meta-data/iam/security-credentials/role - HIER_DIRECT/169.254.169.254 text/plain""",
    ];

    public const string CloudTrail = """
        {"Records":[{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:i-0abc1234567890def","arn":"arn:aws:sts::111122223333:assumed-role/app-role/i-0abc1234567890def","accountId":"111122223333","accessKeyId":"ASIAEXAMPLE","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/app-role","userName":"app-role"},"ec2RoleDelivery":"1.0"}},"eventTime":"2026-11-24T14:09:00Z","eventSource":"sts.amazonaws.com","eventName":"GetCallerIdentity","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2.15.0 Python/3.11 Darwin/23.0.0","eventID":"11111111-2222-3333-4444-555555555555","eventType":"AwsApiCall","recipientAccountId":"111122223333"}]}
        """;

    public const string Config = """
        host: web-1
        min_severity: low
        agents:
          add:
            - name: acme-inventory
              executables: [/opt/acme/bin/inventory]
              scripts: []
              descendants: false
        programs:
          mention_only: [my-firewall-tool]
        indicators:
          endpoints:
            - { id: corp-proxy-imds, name: Metadata proxy, providers: [aws], addresses: ["10.0.0.254"] }
        cloudtrail:
          trusted_cidrs: [203.0.113.0/24]
          instance_addresses: { i-0abc1234567890def: [54.10.20.30] }
        """;

    /// <summary>Command lines and free text for the reference finder and the analyzer.</summary>
    public static readonly string[] Texts =
    [
        "curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "sh -c 'exec 3<>/dev/tcp/169.254.169.254/80; printf \"GET / HTTP/1.0\\r\\n\\r\\n\" >&3; cat <&3'",
        "python3 -c \"import urllib.request as u; print(u.urlopen('http://2852039166/latest/user-data').read())\"",
        "sudo -u www-data env X=1 timeout 5 wget -qO- http://decoy@169.254.169.254/latest/api/token",
        "iptables -A OUTPUT -d 169.254.169.254 -j DROP",
        "curl http://[::ffff:a9fe:a9fe]/ http://0xA9FEA9FE/ http://0251.0376.0251.0376/ http://169.254.43518/",
        "socat - TCP:metadata.google.internal:80",
        "curl -H 'Metadata-Flavor: Google' http://metadata/computeMetadata/v1/instance/service-accounts/default/token",
        "wget http://169-254-169-254.nip.io/latest/meta-data/ http://a9fea9fe.nip.io/",
        "curl http://%31%36%39.254.169.254/ http://１６９．２５４．１６９．２５４/",
    ];
}
