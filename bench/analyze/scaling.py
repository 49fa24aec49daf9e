#!/usr/bin/env python3
"""How `lstv-node analyze`'s cost grows (bench/analyze/scaling.sh), on the full-size reference network.

    scaling.py --node .build/release/lstv-node [--what slices batch memory] [--series 6] [--memory-series 1000]

- slices: series of 8, 16, 32 and 67 slices (the middle ones of the shared sagittal T2 series, new
  UIDs), --series of each, one network pass each (`--neighbours 0 --no-ladder-stability --locator off`):
  the node's own timers (`--profile`) per series: scan (reading every header), read (reading and
  decoding every file), the rest, and the whole series.
- batch: 67-slice series with `--neighbours N --no-ladder-stability --locator off`, N = 0, 1, 2, 4:
  the engine session's batch is 1 + 2N images; per series and per image.
- memory: --memory-series single-slice series through one `analyze` (reference work); the process's
  VmRSS sampled every 0.2 s, and its peak (ru_maxrss) at the end, also for a tenth of the
  series: flat means the peak does not grow with the series analysed.
Thread count: `analysis_threads: 1`, `--jobs 1` (one core, the quietest measurement on a shared machine).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STUDIES = ("FCS-IVD-11", "FCS-IVD-20", "FCS-IVD-25")
PROFILE = re.compile(r"^lstv-node analyze: profile: (.*)$", re.M)
REFERENCE = ["--neighbours", "0", "--no-ladder-stability", "--locator", "off"]


def make_series(root: Path, dst: Path, count: int, slices: int) -> None:
    """`count` series of the middle `slices` slices of the shared sagittal series, new UIDs."""
    import pydicom
    from pydicom.uid import generate_uid

    sources = []
    for s in STUDIES:
        files = sorted((root / s / "01_T2_TSE_SAG").glob("*.dcm"))
        start = (len(files) - slices) // 2
        sources.append([pydicom.dcmread(f) for f in files[start:start + slices]])
    for i in range(count):
        study, series = generate_uid(), generate_uid()
        folder = dst / f"series{i:04d}"
        folder.mkdir(parents=True)
        for k, ds in enumerate(sources[i % len(sources)]):
            ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
            ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
            ds.save_as(folder / f"IM{k:04d}.dcm", enforce_file_format=True)


def analyze(node: str, model: Path, folder: Path, count: int, args: list[str], config: Path,
            sample_rss: bool = False) -> dict:
    cmd = [node, "analyze", "--config", str(config), "--model", str(model), "--jobs", "1", "--format", "csv",
           "--profile", *args, str(folder)]
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    rss = []
    while True:
        # wait4 (not Popen.poll, which would reap the child and lose its rusage): its peak RSS.
        pid, status, usage = os.wait4(p.pid, os.WNOHANG if sample_rss else 0)
        if pid:
            break
        try:
            m = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{p.pid}/status").read_text())
        except OSError:
            m = None
        if m:
            rss.append((time.perf_counter() - start, int(m.group(1)) / 1024))
        time.sleep(0.2)
    stderr = p.stderr.read()
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0 or f"summary: {count} series analysed" not in stderr:
        sys.exit(f"scaling: {' '.join(cmd)} failed:\n{stderr[-3000:]}")
    profile = json.loads(PROFILE.search(stderr).group(1))
    return {"wall": wall, "profile": profile, "peak_mb": usage.ru_maxrss / 1024, "rss": rss}


def per_series(profile: dict, count: int) -> dict:
    s = profile["stages"]
    series = profile["series_seconds"][1:]  # the first pays the arena's first touch
    return {"scan_ms": s["scan"] / count * 1e3, "read_ms": s["read"] / count * 1e3,
            "network_ms": s["network"] / count * 1e3, "series_ms": statistics.mean(series) * 1e3,
            "other_ms": (sum(v for k, v in s.items() if k not in ("scan", "read", "network")) / count) * 1e3}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--node", required=True)
    ap.add_argument("--model", default=str(ROOT / "bench" / "out" / "bench_model.safetensors"))
    ap.add_argument("--what", nargs="+", default=["slices", "batch", "memory"])
    ap.add_argument("--series", type=int, default=6)
    ap.add_argument("--memory-series", type=int, default=1000)
    ap.add_argument("--dicom", default=os.environ.get("LSTV_TEST_DICOM_DIR") or str(ROOT.parent / "shared" / "data" / "lumbar" / "dicom"))
    args = ap.parse_args()
    model, dicom = Path(args.model), Path(args.dicom)
    weights_mb = model.stat().st_size / 2**20
    work = Path(tempfile.mkdtemp(prefix="lstv-bench-scaling-"))
    config = work / "config.yaml"
    config.write_text("analysis_threads: 1\n")
    out = {"load_before": os.getloadavg()}
    try:
        if "slices" in args.what:
            print("\n| slices per series | scan ms/series | read ms/series | network ms/series | rest ms/series | whole series ms (in process) | peak RSS MB |")
            print("|---:|---:|---:|---:|---:|---:|---:|")
            for n in (8, 16, 32, 67):
                folder = work / f"slices{n}"
                make_series(dicom, folder, args.series, n)
                r = analyze(args.node, model, folder, args.series, REFERENCE, config)
                p = per_series(r["profile"], args.series)
                out[f"slices{n}"] = {**p, "peak_mb": r["peak_mb"]}
                print(f"| {n} | {p['scan_ms']:.1f} | {p['read_ms']:.1f} | {p['network_ms']:.1f} | {p['other_ms']:.1f} | "
                      f"{p['series_ms']:.1f} | {r['peak_mb']:.0f} |", flush=True)
                if n != 67:
                    shutil.rmtree(folder)
        if "batch" in args.what:
            folder = work / "slices67"
            if not folder.exists():
                make_series(dicom, folder, args.series, 67)
            print("\n| neighbours | batch (images per pass) | network ms/series | network ms/image | whole series ms | peak RSS MB |")
            print("|---:|---:|---:|---:|---:|---:|")
            for nb in (0, 1, 2, 4):
                r = analyze(args.node, model, folder, args.series,
                            ["--neighbours", str(nb), "--no-ladder-stability", "--locator", "off"], config)
                p = per_series(r["profile"], args.series)
                b = 1 + 2 * nb
                out[f"batch{b}"] = {**p, "peak_mb": r["peak_mb"]}
                print(f"| {nb} | {b} | {p['network_ms']:.1f} | {p['network_ms'] / b:.1f} | {p['series_ms']:.1f} | {r['peak_mb']:.0f} |", flush=True)
        if "memory" in args.what:
            folder = work / "memory"
            folder.mkdir()
            make_series(dicom, folder, args.memory_series, 1)
            flat = []
            for count in (args.memory_series // 10, args.memory_series):
                sub = work / f"memory{count}"
                sub.mkdir()
                for d in sorted(folder.iterdir())[:count]:
                    (sub / d.name).mkdir()  # hard links: the scan does not follow linked folders
                    for f in d.iterdir():
                        os.link(f, sub / d.name / f.name)
                r = analyze(args.node, model, sub, count, REFERENCE, config, sample_rss=(count == args.memory_series))
                flat.append((count, r["peak_mb"]))
                if count == args.memory_series:
                    samples = r["rss"]
            print(f"\nweights file {weights_mb:.0f} MB; peak RSS (VmHWM) by series analysed in one process:")
            for count, peak in flat:
                print(f"  {count} series: {peak:.0f} MB ({peak / weights_mb:.2f}x the weights)")
            if samples:
                step = max(1, len(samples) // 20)
                print("VmRSS during the largest run (seconds, MB): " +
                      ", ".join(f"{t:.0f}s {m:.0f}" for t, m in samples[::step]) + f", last {samples[-1][1]:.0f}")
            out["memory"] = {"peaks": flat, "samples": samples, "weights_mb": weights_mb}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out["load_after"] = os.getloadavg()
    print(f"\nmachine: {os.cpu_count()} CPUs, load average before {' '.join(f'{v:.2f}' for v in out['load_before'])}, "
          f"after {' '.join(f'{v:.2f}' for v in out['load_after'])}")
    dst = ROOT / "bench" / "out" / "analyze"
    dst.mkdir(parents=True, exist_ok=True)
    (dst / "scaling.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
