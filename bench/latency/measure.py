#!/usr/bin/env python3
"""Result latency: from the last instance of a sagittal series acknowledged by lstv-node to the SR
accepted by a destination (DCMTK storescp).

One lstv-node (release build) on a private PostgreSQL, storescp as the fixed destination. Each
run sends a copy of FCS-IVD-11's sagittal T2 series with fresh Study/Series/SOP Instance UIDs (an
unchanged re-send would rightly produce nothing) with storescu (TCP_NODELAY=1) and measures
  t_ack  : wall clock when storescu returns (every instance acknowledged, association released)
  t_file : first poll (every 2 ms) that sees the SR file at storescp
  t_sent : the node's `msg=delivered` log line for the SR (logged once storescp answered 0000)
  analysis seconds: the node's `msg="series analysed" seconds=…`
Latency = t_sent - t_ack (t_file - t_ack is printed too). Goal: quiet period + at most 1 s.

Usage (run.sh does this): measure.py --node BIN --database-url URL --model FILE --series DIR
                                      --work DIR [--runs 5] [--quiet 10]
Prints a table and a JSON summary line (median over the warm runs, i.e. all but the first).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"{what} not listening on {port} after {timeout}s")


def copy_series(src: Path, dst: Path, run: int) -> list[Path]:
    import pydicom
    from pydicom.uid import generate_uid

    dst.mkdir(parents=True, exist_ok=True)
    study, series = generate_uid(), generate_uid()
    out = []
    for f in sorted(src.glob("*.dcm")):
        ds = pydicom.dcmread(f)
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.AccessionNumber = f"BENCH{run:03d}"
        p = dst / f.name
        ds.save_as(p, enforce_file_format=True)
        out.append(p)
    return out


TS = re.compile(r"^ts=(\S+) ")


def log_time(line: str) -> float:
    ts = TS.match(line).group(1).replace("Z", "+00:00")
    return datetime.fromisoformat(ts).timestamp()


def peak_rss(pid: int) -> float | None:
    """The process's peak resident set (VmHWM) in MB, read before it stops."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--node", required=True)
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--series", required=True, type=Path)
    ap.add_argument("--work", required=True, type=Path)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--quiet", type=float, default=10.0)
    ap.add_argument("--locator", default="bundled", help="thoracolumbar_locator: bundled, off or a file")
    a = ap.parse_args()

    work = a.work
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, TCP_NODELAY="1")
    dest_dir = work / "storescp"
    dest_dir.mkdir(exist_ok=True)
    dest_port, node_port = free_port(), free_port()

    copies = [copy_series(a.series, work / f"series{i}", i) for i in range(a.runs)]

    scp_log = open(work / "storescp.log", "wb")
    scp = subprocess.Popen(["storescp", "-aet", "BENCHDEST", "-od", str(dest_dir), "-dhl", str(dest_port)],
                           stdout=scp_log, stderr=subprocess.STDOUT, env=env)
    config = work / "node.yaml"
    config.write_text(json.dumps({"model": a.model, "thoracolumbar_locator": a.locator, "results": {
        "send_to_sender": False, "destinations": [{"ae_title": "BENCHDEST", "host": "127.0.0.1", "port": dest_port}]}}))
    node_log_path = work / "node.log"
    node_log = open(node_log_path, "wb")
    node = subprocess.Popen([a.node, "serve", "--config", str(config), "--data-dir", str(work / "data"),
                             "--database-url", a.database_url, "--port", str(node_port),
                             "--quiet-seconds", str(a.quiet)], stdout=node_log, stderr=subprocess.STDOUT, env=env)
    rows = []
    try:
        wait_port(dest_port, 20, scp, "storescp")
        deadline = time.monotonic() + 120
        while "msg=listening" not in node_log_path.read_text(errors="replace"):
            if node.poll() is not None or time.monotonic() > deadline:
                sys.exit("lstv-node did not start:\n" + node_log_path.read_text(errors="replace")[-3000:])
            time.sleep(0.05)
        for i, files in enumerate(copies):
            before = set(dest_dir.iterdir())
            log_offset = node_log_path.stat().st_size
            t_start = time.time()
            p = subprocess.run(["storescu", "-aet", "BENCHSRC", "-aec", "LSTVNODE", "127.0.0.1", str(node_port),
                                *map(str, files)], capture_output=True, text=True, env=env, timeout=300)
            t_ack = time.time()
            if p.returncode != 0:
                sys.exit(f"storescu failed: {p.stderr[-2000:]}")
            t_file = None
            deadline = time.monotonic() + a.quiet + 120
            while time.monotonic() < deadline:
                new = [f for f in dest_dir.iterdir() if f not in before and f.name.startswith("SR")]
                if new:
                    t_file = time.time()
                    break
                time.sleep(0.002)
            if t_file is None:
                sys.exit("no SR at the destination:\n" + node_log_path.read_text(errors="replace")[-3000:])
            sr_uid = new[0].name.split(".", 1)[1]  # storescp names files <modality>.<SOP Instance UID>
            # The delivered line for the SR (and the key image) follows right after; wait for both.
            analysed = delivered = None
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with open(node_log_path, "rb") as f:
                    f.seek(log_offset)
                    lines = f.read().decode(errors="replace").splitlines()
                analysed = [l for l in lines if 'msg="series analysed"' in l]
                delivered = [l for l in lines if "msg=delivered" in l]
                if analysed and len(delivered) >= 2:
                    break
                time.sleep(0.05)
            seconds = float(re.search(r"seconds=([0-9.]+)", analysed[0]).group(1))
            complete = [l for l in lines if 'msg="series complete"' in l]
            # The SR and the key image go in one association, in no guaranteed order: pick the SR's line.
            sr_lines = [l for l in delivered if f"sop_instance_uid={sr_uid} " in l + " "]
            other = [l for l in delivered if l not in sr_lines]
            if len(sr_lines) != 1 or not other:
                sys.exit(f"cannot find the SR's delivered line ({sr_uid}):\n" + "\n".join(delivered))
            t_sent = log_time(sr_lines[0])
            row = {"run": i + 1, "send_s": t_ack - t_start, "quiet_s": a.quiet, "analysis_s": seconds,
                   "complete_after_ack_s": log_time(complete[0]) - t_ack if complete else None,
                   "latency_s": t_sent - t_ack, "latency_file_s": t_file - t_ack,
                   "key_image_s": log_time(other[0]) - t_ack}
            row["over_quiet_s"] = row["latency_s"] - a.quiet
            rows.append(row)
            print(f"run {i + 1}: send {row['send_s']:.2f} s, series complete +{row['complete_after_ack_s']:.3f} s, "
                  f"analysis {seconds:.2f} s, SR accepted +{row['latency_s']:.3f} s (file seen +{row['latency_file_s']:.3f} s), "
                  f"key image +{row['key_image_s']:.3f} s, over quiet {row['over_quiet_s']:.3f} s", flush=True)
    finally:
        peak_rss_mb = peak_rss(node.pid)
        node.send_signal(signal.SIGTERM)
        try:
            node.wait(timeout=20)
        except subprocess.TimeoutExpired:
            node.kill()
        scp.send_signal(signal.SIGTERM)
        scp.wait(timeout=10)

    warm = rows[1:] or rows
    med = lambda k: statistics.median(r[k] for r in warm)  # noqa: E731
    summary = {"runs": len(rows), "warm_runs": len(warm), "quiet_s": a.quiet, "model": a.model,
               "median_analysis_s": med("analysis_s"), "median_latency_s": med("latency_s"),
               "median_over_quiet_s": med("over_quiet_s"), "max_over_quiet_s": max(r["over_quiet_s"] for r in warm),
               "median_complete_after_ack_s": med("complete_after_ack_s"),
               "first_run_over_quiet_s": rows[0]["over_quiet_s"], "first_run_analysis_s": rows[0]["analysis_s"],
               "locator": a.locator, "node_peak_rss_mb": peak_rss_mb}
    print()
    print("| run | quiet period s | series complete after ack s | analysis s | SR accepted after ack s | latency − quiet s |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['run']}{' (cold)' if r['run'] == 1 else ''} | {r['quiet_s']:g} | {r['complete_after_ack_s']:.3f} | "
              f"{r['analysis_s']:.2f} | {r['latency_s']:.3f} | {r['over_quiet_s']:.3f} |")
    print(f"| median (runs 2–{len(rows)}) | {a.quiet:g} | {summary['median_complete_after_ack_s']:.3f} | "
          f"{summary['median_analysis_s']:.2f} | {summary['median_latency_s']:.3f} | {summary['median_over_quiet_s']:.3f} |")
    print(f"node peak resident memory (VmHWM): {peak_rss_mb:.0f} MB; thoracolumbar_locator: {a.locator}")
    print("SUMMARY " + json.dumps(summary))
    (work / "summary.json").write_text(json.dumps({"summary": summary, "runs": rows}, indent=1))


if __name__ == "__main__":
    main()
