#!/usr/bin/env python3
"""Per-instance phases of lstv-node's C-STORE path from `strace -f -tt -T` (profile.sh node).

Phases (medians and sums over all instances of the association thread):
  wait   : C-STORE-RSP sent -> first byte of the next data set written to the .part file
           (sender reads its next file, sends command + first PDU, DIMSE command parsing)
  recv   : first -> last write to the .part file (receiving ~512 KB from the socket)
  pre    : last write -> fsync(file) begins (close, callback into Swift)
  fsyncF : fsync of the file
  parse  : fsync(file) returns -> mkdir (InstanceHeader.read re-opens and parses the file)
  link   : mkdir/link/unlink
  fsyncD : fsync of the series directory
  resp   : fsync(dir) returns -> C-STORE-RSP written (indexer enqueue, logging)
"""
import re, statistics, sys
from datetime import datetime

rx = re.compile(r"^(\d+)\s+(\d\d:\d\d:\d\d\.\d+)\s+(\w+)\((\d*)(.*)<(\d+\.\d+)>$")
events = {}
for line in open(sys.argv[1]):
    m = rx.match(line.strip())
    if not m: continue
    tid, ts, name, fd, rest, dur = m.groups()
    t = datetime.strptime(ts, "%H:%M:%S.%f").timestamp()
    events.setdefault(tid, []).append((t, name, fd, float(dur), rest))
phases = {k: [] for k in ("wait", "recv", "pre", "fsyncF", "parse", "link", "fsyncD", "resp", "total")}
for tid, ev in events.items():
    # state machine per instance
    i = 0; last_resp = None
    while i < len(ev):
        t, name, fd, dur, rest = ev[i]
        if name != "fsync":
            i += 1; continue
        # file fsync: preceded by writes to the same fd
        j = i - 1
        while j >= 0 and ev[j][1] == "write" and ev[j][2] == fd: j -= 1
        if j == i - 1 or i + 4 >= len(ev): i += 1; continue
        first_w, last_w = ev[j + 1], ev[i - 1]
        # after: mkdir*, link, unlink, fsync(dir), write(response)
        k = i + 1
        while k < len(ev) and ev[k][1] in ("mkdir",): k += 1
        first_meta = ev[k] if k < len(ev) else None
        while k < len(ev) and ev[k][1] != "fsync": k += 1
        if k + 1 >= len(ev): break
        fd_dir = ev[k]; resp = ev[k + 1]
        if resp[1] != "write": i = k; continue
        mk = ev[i + 1]
        prev_resp = None
        # the response write of the previous instance: the last non-file write before first_w
        for q in range(j, -1, -1):
            if ev[q][1] == "write" and ev[q][2] != fd: prev_resp = ev[q]; break
            if ev[q][1] == "fsync": break
        if prev_resp: phases["wait"].append(first_w[0] - prev_resp[0])
        phases["recv"].append(last_w[0] + last_w[3] - first_w[0])
        phases["pre"].append(t - (last_w[0] + last_w[3]))
        phases["fsyncF"].append(dur)
        phases["parse"].append(mk[0] - (t + dur))
        phases["link"].append(fd_dir[0] - mk[0])
        phases["fsyncD"].append(fd_dir[3])
        phases["resp"].append(resp[0] - (fd_dir[0] + fd_dir[3]))
        if prev_resp: phases["total"].append(resp[0] - prev_resp[0])
        i = k + 1
n = len(phases["fsyncF"])
print(f"{n} instances; ms per instance (median / mean), and share of the summed total")
tot = sum(phases["total"])
for k, v in phases.items():
    if not v: continue
    print(f"  {k:<7} median {statistics.median(v)*1e3:7.3f}  mean {statistics.mean(v)*1e3:7.3f}  sum {sum(v):6.2f} s"
          + ("" if k == "total" else f"  ({100*sum(v)/tot:4.1f}%)"))
