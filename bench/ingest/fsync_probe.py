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
  journal   : write, link, unlink, then the same bytes pwrite'd into a preallocated, already
              written (recycled) journal file and one fdatasync of it: no size or block allocation
              change, so no file-system journal commit, only data blocks and a cache flush
              (what lstv-node's spool journal does on the response path)
  journalgc : journal, with group commit: a writer whose record was covered by another writer's
              fdatasync started after its write does not flush again

usage: fsync_probe.py DIR [FILES] [THREADS] [BYTES] [MODES]
"""
import os, statistics, sys, tempfile, threading, time

PAYLOAD = os.urandom(int(sys.argv[4]) if len(sys.argv) > 4 else 525_426)
JOURNAL_BYTES = 64 << 20

class Journal:
    """A recycled ring: preallocated by writing it once, so later writes overwrite written blocks."""
    def __init__(self, base):
        self.fd = os.open(f"{base}/journal", os.O_RDWR | os.O_CREAT, 0o640)
        chunk = b"\0" * (1 << 20)
        for _ in range(JOURNAL_BYTES >> 20): os.write(self.fd, chunk)
        os.fsync(self.fd)
        self.lock = threading.Condition(); self.pos = 0; self.written = 0; self.synced = 0; self.syncing = False

    def append(self, data, group):
        with self.lock:
            size = (len(data) + 4095) & ~4095
            if self.pos + size > JOURNAL_BYTES: self.pos = 0
            at = self.pos; self.pos += size; self.written += 1; seq = self.written
        os.pwrite(self.fd, data, at)
        if not group:
            os.fdatasync(self.fd); return
        with self.lock:
            while self.synced < seq:
                if self.syncing: self.lock.wait(); continue
                self.syncing = True; upto = self.written
                self.lock.release()
                try: os.fdatasync(self.fd)
                finally: self.lock.acquire()
                self.syncing = False; self.synced = max(self.synced, upto); self.lock.notify_all()

def one(mode, base, i, lat, journal=None):
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
    elif mode.startswith("journal"):
        os.close(fd); os.link(tmp, final); os.unlink(tmp)
        journal.append(PAYLOAD, mode == "journalgc")
    else:
        os.close(fd); os.link(tmp, final); os.unlink(tmp)
    lat.append(time.perf_counter() - a)

def main():
    where = sys.argv[1] if len(sys.argv) > 1 else "."
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    modes = sys.argv[5].split(",") if len(sys.argv) > 5 else ["spool", "linkfirst", "fdatasync", "journal", "journalgc", "nosync"]
    for mode in modes:
        for nt in (1, threads):
            os.sync()
            with tempfile.TemporaryDirectory(dir=where) as base:
                os.makedirs(f"{base}/incoming"); os.makedirs(f"{base}/final")
                lat = []; per = n // nt
                journal = Journal(base) if mode.startswith("journal") else None
                def work(k):
                    for j in range(per): one(mode, base, k * per + j, lat, journal)
                start = time.perf_counter()
                ths = [threading.Thread(target=work, args=(k,)) for k in range(nt)]
                [x.start() for x in ths]; [x.join() for x in ths]
                wall = time.perf_counter() - start
                lat.sort()
                print(f"{mode:<10} writers={nt}: {per * nt / wall:7.0f} files/s   latency ms: median "
                      f"{statistics.median(lat) * 1e3:6.2f}  p90 {lat[int(len(lat) * 0.9)] * 1e3:6.2f}")
    os.sync()

main()
