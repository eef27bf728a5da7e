#!/usr/bin/env python3
"""Builds a large audit log from a real capture: its events, serials and timestamps shifted, repeated until the
size is reached. Metadata events (an exec or connect naming or reaching a metadata address) make up the given
share of events; the rest is the capture's other kernel events. Usage: generate.py CAPTURE OUT MB SHARE"""
import gzip, re, sys

capture, out, megabytes, share = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
opener = gzip.open if capture.endswith(".gz") else open
stamp = re.compile(rb"audit\((\d+)\.(\d+):(\d+)\)")
events, order = {}, []
with opener(capture, "rb") as f:
    for line in f:
        m = stamp.search(line)
        if not m:
            continue
        serial = int(m.group(3))
        if serial not in events:
            events[serial] = []
            order.append(serial)
        events[serial].append(line if line.endswith(b"\n") else line + b"\n")

def is_metadata(lines):
    text = b"".join(lines)
    return (b"A9FEA9FE" in text or b"169.254" in text or b"0xA9FEA9FE" in text or b"2852039166" in text
            or b"metadata" in text.lower() or b"FD000EC2" in text or b"100.100.100.200" in text)

hot = [events[s] for s in order if is_metadata(events[s]) and b"imdswatch-validate-begin" not in b"".join(events[s]) and b"imdswatch-validate-end" not in b"".join(events[s])]
cold = [events[s] for s in order if not is_metadata(events[s]) and b"type=DAEMON" not in events[s][0]]
target = int(megabytes * 1e6)
serial, t, written, n_hot, n_all = 10_000_000, 1_790_000_000.0, 0, 0, 0
every = max(1, round(1 / share)) if share > 0 else 0
with open(out, "wb") as o:
    i = 0
    while written < target:
        use_hot = every and n_all % every == 0
        ev = hot[n_hot % len(hot)] if use_hot else cold[i % len(cold)]
        if use_hot:
            n_hot += 1
        else:
            i += 1
        n_all += 1
        serial += 1
        t += 0.001
        sec, ms = int(t), int((t - int(t)) * 1000)
        for line in ev:
            line = stamp.sub(b"audit(%d.%03d:%d)" % (sec, ms, serial), line, count=1)
            o.write(line)
            written += len(line)
print(f"{out}: {written / 1e6:.0f} MB, {n_all} events, {n_hot} metadata ({100.0 * n_hot / n_all:.2f} %)")
