#!/usr/bin/env python3
"""Builds a large audit log from a real capture: its events, serials and timestamps shifted, repeated until the
size is reached. Metadata events (an exec or connect naming or reaching a metadata address) make up the given
share of events; the rest is the capture's other kernel events. Usage: generate.py CAPTURE OUT MB SHARE"""
import gzip, re, sys

capture, out, megabytes, share = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
opener = gzip.open if capture.endswith(".gz") else open
stamp = re.compile(rb"audit\((\d+)\.(\d+):(\d+)\)")
pids = re.compile(rb"( p?pid=)(\d+)")
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
    # hex-encoded values too (PROCTITLE, EXECVE): "169.254", "metadata", "0xA9", "100.100", "[fd00"
    if any(h in text.upper() for h in (b"3136392E323534", b"6D65746164617461".upper(), b"30784139", b"3130302E313030", b"66643030")):
        return True
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
        # each pass over the capture is a different set of processes (parents and children keep their link)
        round_ = (n_hot // len(hot)) if use_hot else (i // len(cold))
        shift = (round_ * 7919) % 4_000_000
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
            line = pids.sub(lambda m: m.group(1) + b"%d" % ((int(m.group(2)) + shift) % 4_194_304 or 1), line)
            o.write(line)
            written += len(line)
print(f"{out}: {written / 1e6:.0f} MB, {n_all} events, {n_hot} metadata ({100.0 * n_hot / n_all:.2f} %)")
