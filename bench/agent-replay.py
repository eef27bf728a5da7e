#!/usr/bin/env python3
"""Replay audit records into `imdswatch agent` (and optionally laurel) on stdin at a fixed rate.

    nice -n 19 bench/agent-replay.py --records samples/audit-enriched.log --rates 1000 5000 20000 --seconds 60 \
        [--laurel /usr/sbin/laurel]

Each record's msg=audit(EPOCH:SERIAL) is rewritten to the time it is sent (serials kept increasing), so the
alert's @timestamp is the send time; a webhook receiver on 127.0.0.1 stamps arrivals, giving record->sink
latency. CPU % and peak RSS (VmHWM) are read from /proc for the process under test. Prints one table row per
rate and program. Everything runs on 127.0.0.1; the temporary directory is removed at the end.
"""
import argparse, calendar, http.server, json, multiprocessing, os, re, shutil, subprocess, sys, tempfile, time

AUDIT = re.compile(rb"msg=audit\((\d+)\.(\d+):(\d+)\)")
PID = re.compile(rb"( p?pid=)(\d+)")


class Receiver(http.server.BaseHTTPRequestHandler):
    """Runs in its own process (the sender's loop would starve it of the GIL); appends each latency to a file."""
    protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver
    out = None

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        now = time.time()
        try:
            # a batch: a JSON array (the default), NDJSON, or one object
            doc = json.loads(body) if body.lstrip()[:1] == b"[" else [json.loads(l) for l in body.splitlines() if l.strip()]
            with open(Receiver.out, "a") as f:
                f.write("".join(f"{now - stamp(a)}\n" for a in doc))
            with open(Receiver.out + ".requests", "a") as f:
                f.write("1\n")
        except (ValueError, KeyError):
            pass
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def latency(line):
    return stamp(json.loads(line))


def stamp(alert):
    ts = alert["@timestamp"]
    return calendar.timegm(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S")) + int(ts[20:23]) / 1000


def tail(path, out):
    """The file sink's receiver: stamps each alert line as it appears (no network, no receiver in the way)."""
    while not os.path.exists(path):
        time.sleep(0.005)
    with open(path) as f:
        buffer = ""
        while True:
            chunk = f.read()
            if not chunk:
                time.sleep(0.005)
                continue
            now = time.time()
            buffer += chunk
            *lines, buffer = buffer.split("\n")
            with open(out, "a") as o:
                for line in lines:
                    if line.strip():
                        o.write(f"{now - latency(line)}\n")


def serve(out, port_queue):
    # The receiver is not what is measured: back to normal priority (the bench itself runs under nice 19).
    try:
        os.setpriority(os.PRIO_PROCESS, 0, 0)
    except PermissionError:
        pass
    Receiver.out = out
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    port_queue.put(server.server_port)
    server.serve_forever()


def arrivals(out):
    try:
        with open(out) as f:
            return sorted(float(l) for l in f if l.strip())
    except FileNotFoundError:
        return []


def cpu_and_rss(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                rss = int(line.split()[1]) // 1024
    return ticks / os.sysconf("SC_CLK_TCK"), rss


def requests(out):
    try:
        with open(out + ".requests") as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


def replay(cmd, lines, rate, seconds, env=None):
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    time.sleep(2)  # start-up is not measured
    cpu0, _ = cpu_and_rss(proc.pid)
    start = time.time()
    serial = 10_000_000
    sent = 0
    batch = max(1, rate // 100)
    i = 0
    while time.time() - start < seconds:
        now = time.time()
        chunk = []
        last = None
        for _ in range(batch):
            line = lines[i % len(lines)]
            i += 1
            m = AUDIT.search(line)
            if m and m.group(3) != last:
                serial += 1
                last = m.group(3)
            rep = i // len(lines)
            # each pass of the sample as other processes: the same pid over and over would be one long-lived image
            line = PID.sub(lambda p: p.group(1) + b"%d" % (int(p.group(2)) + 10_000 * (rep % 400)), line)
            m = AUDIT.search(line)
            if m:
                line = line[:m.start()] + b"msg=audit(%d.%03d:%d)" % (int(now), int(now * 1000) % 1000, serial) + line[m.end():]
            chunk.append(line)
        proc.stdin.write(b"".join(chunk))
        proc.stdin.flush()
        sent += len(chunk)
        target = start + sent / rate
        delay = target - time.time()
        if delay > 0:
            time.sleep(delay)
    cpu1, rss = cpu_and_rss(proc.pid)
    elapsed = time.time() - start
    proc.stdin.close()
    proc.wait(timeout=30)
    return sent / elapsed, 100 * (cpu1 - cpu0) / elapsed, rss, cpu1 - cpu0, elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", required=True)
    ap.add_argument("--rates", type=int, nargs="+", default=[1000, 5000, 20000])
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--imdswatch", default="src/ImdsWatch.Cli/bin/Release/net10.0/imdswatch.dll")
    ap.add_argument("--sink", choices=["webhook", "file"], default="webhook",
                    help="webhook: POSTs batches to a receiver on 127.0.0.1; file: the NDJSON file sink, tailed")
    ap.add_argument("--laurel", help="path of laurel, fed the same stream (needs a config: see --laurel-config)")
    args = ap.parse_args()
    lines = [l if l.endswith(b"\n") else l + b"\n" for l in open(args.records, "rb") if l.strip()]
    tmp = tempfile.mkdtemp(prefix="imdswatch-bench-")
    out = f"{tmp}/arrivals"
    ports = multiprocessing.Queue()
    receiver = multiprocessing.Process(target=serve, args=(out, ports), daemon=True)
    receiver.start()
    port = ports.get(timeout=30)
    try:
        print(f"load average at start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs); {args.seconds} s per rate")
        print("| program | rate asked | rate sent | CPU % | CPU s (user+sys) / wall s | peak RSS MB | alerts | requests | p50 ms | p99 ms |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for rate in args.rates:
            for stale in (out, out + ".requests"):
                if os.path.exists(stale):
                    os.remove(stale)
            sink = f"webhook=http://127.0.0.1:{port}/alerts"
            tailer = None
            if args.sink == "file":
                sink = f"file={tmp}/alerts-{rate}.ndjson"
                tailer = multiprocessing.Process(target=tail, args=(f"{tmp}/alerts-{rate}.ndjson", out), daemon=True)
                tailer.start()
            cmd = ["dotnet", args.imdswatch, "agent", "--input", "stdin", "--state", f"{tmp}/none.db", "--state-dir", f"{tmp}/spool-{rate}",
                   "--window", "1s", "--sink", sink]
            got, cpu, rss, cpus, wall = replay(cmd, lines, rate, args.seconds)
            if tailer is not None:
                time.sleep(1)
                tailer.terminate()
            time.sleep(3)  # what the agent delivered while draining at EOF
            lat = arrivals(out)
            p = lambda q: f"{1000 * lat[min(len(lat) - 1, int(q * len(lat)))]:.0f}" if lat else "-"
            reqs = requests(out) if args.sink == "webhook" else "-"
            print(f"| imdswatch agent ({args.sink}) | {rate} | {got:.0f} | {cpu:.0f} | {cpus:.1f} / {wall:.0f} | {rss} | {len(lat)} | {reqs} | {p(0.5)} | {p(0.99)} |", flush=True)
            if args.laurel:
                conf = f"{tmp}/laurel.toml"
                with open(conf, "w") as f:
                    f.write(f'directory = "{tmp}/laurel-{rate}"\nuser = "root"\n[auditlog]\nfile = "audit.log"\nsize = 100000000\ngenerations = 2\n')
                os.makedirs(f"{tmp}/laurel-{rate}", exist_ok=True)
                got, cpu, rss, cpus, wall = replay([args.laurel, "-c", conf], lines, rate, args.seconds)
                print(f"| laurel | {rate} | {got:.0f} | {cpu:.0f} | {cpus:.1f} / {wall:.0f} | {rss} | - | - | - | - |", flush=True)
    finally:
        receiver.terminate()
        receiver.join()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
