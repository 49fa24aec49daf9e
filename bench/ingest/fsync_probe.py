#!/usr/bin/env python3
"""How fast this disk makes ~512 KB instances durable, the way lstv-node's spool does it, and
with cheaper orderings, for 1 writer and for THREADS writers in parallel (ext4 batches the
journal commits of concurrent fsyncs).

  spool     : write incoming/<i>.part, fsync(file), link into final/, unlink temp, fsync(final dir)
              (what Spool.commit does: two journal commits per instance)
  linkfirst : write, link, unlink, fsync(file), fsync(dir) (one journal commit carries data, inode
              and directory entries; the second fsync finds nothing left to commit)
  fdatasync : write, fdatasync(file) only (what Orthanc's SyncStorageArea does; no directory sync)
  nosync    : write, link, unlink (what storescp does: page cache only)

usage: fsync_probe.py DIR [FILES] [THREADS]
"""
import os, statistics, sys, tempfile, threading, time

PAYLOAD = os.urandom(525_426)

def one(mode, base, i, lat):
    tmp = f"{base}/incoming/{i}.part"; final = f"{base}/final/{i}.dcm"
    a = time.perf_counter()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    os.write(fd, PAYLOAD)
    if mode == "spool":
        os.fsync(fd); os.close(fd)
        os.link(tmp, final); os.unlink(tmp)
        dfd = os.open(f"{base}/final", os.O_RDONLY | os.O_DIRECTORY); os.fsync(dfd); os.close(dfd)
    elif mode == "linkfirst":
        os.link(tmp, final); os.unlink(tmp)
        os.fsync(fd); os.close(fd)
        dfd = os.open(f"{base}/final", os.O_RDONLY | os.O_DIRECTORY); os.fsync(dfd); os.close(dfd)
    elif mode == "fdatasync":
        os.fdatasync(fd); os.close(fd)
        os.link(tmp, final); os.unlink(tmp)
    else:
        os.close(fd); os.link(tmp, final); os.unlink(tmp)
    lat.append(time.perf_counter() - a)

def main():
    where = sys.argv[1] if len(sys.argv) > 1 else "."
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    for mode in ("spool", "linkfirst", "fdatasync", "nosync"):
        for nt in (1, threads):
            os.sync()
            with tempfile.TemporaryDirectory(dir=where) as base:
                os.makedirs(f"{base}/incoming"); os.makedirs(f"{base}/final")
                lat = []; per = n // nt
                def work(k):
                    for j in range(per): one(mode, base, k * per + j, lat)
                start = time.perf_counter()
                ths = [threading.Thread(target=work, args=(k,)) for k in range(nt)]
                [x.start() for x in ths]; [x.join() for x in ths]
                wall = time.perf_counter() - start
                lat.sort()
                print(f"{mode:<10} writers={nt}: {per * nt / wall:7.0f} files/s   latency ms: median "
                      f"{statistics.median(lat) * 1e3:6.2f}  p90 {lat[int(len(lat) * 0.9)] * 1e3:6.2f}")
    os.sync()

main()
