#!/usr/bin/env python3
"""Batch throughput of `lstv-node analyze` against the reference Python pipeline (bench/analyze/run.sh).

    measure.py --node .build/release/lstv-node [--series 12] [--rounds 3] [--dicom DIR] [--keep]

1. Makes a folder of --series sagittal T2 series in a temporary directory: copies of the three shared
   sagittal series (FCS-IVD-11, -20, -25, in turn) with new Study, Series and SOP Instance UIDs
   (pydicom), so each copy is a series of its own. Removed at the end (nothing is committed).
2. Each round, one after the other on the same folder: `lstv-node analyze --format csv` at
   --jobs 1, at --jobs 2, at --jobs 2 doing only the reference's work (`--neighbours 0
   --no-ladder-stability --locator off`: the middle slice alone through the localizer), then the
   reference Python pipeline (reference_pipeline.py).
3. Series per minute: the node's over the whole command (process start, model load, reading the
   headers of every file, writing the CSV included); Python's over the sum of its per-series times
   (reading, preprocessing, the network, the metrics; its start-up — imports, model load and one
   warm-up pass — left out and reported apart, as is the whole process's rate). Medians over the rounds; the ratios node ÷ Python are of
   the medians of this run.

The node and Python analyse the same series with the same weights (models/lstv-localizer.safetensors);
their reference metrics are compared as a check that both did the same work.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "lstv-localizer.safetensors"
LOCATOR = ROOT / "models" / "lstv-thoracolumbar.safetensors"
STUDIES = ("FCS-IVD-11", "FCS-IVD-20", "FCS-IVD-25")
LEVELS = ("l1_l2", "l2_l3", "l3_l4", "l4_l5", "l5_s1")
METRICS = {"confidence": "peak_confidence", "entropy": "entropy", "spatial_entropy": "spatial_entropy"}

#: The node's settings, each a column of the table.
NODE_RUNS = {
    "node --jobs 1": ["--jobs", "1"],
    "node --jobs 2": ["--jobs", "2"],
    "node --jobs 2, reference work": ["--jobs", "2", "--neighbours", "0", "--no-ladder-stability", "--locator", "off"],
}
PYTHON = "python (per series)"


def dicom_root(arg: str | None) -> Path:
    path = Path(arg or os.environ.get("LSTV_TEST_DICOM_DIR") or ROOT.parent / "shared" / "data" / "lumbar" / "dicom")
    if not path.is_dir():
        sys.exit(f"bench/analyze: shared DICOM data not found at {path} (--dicom DIR)")
    return path


def make_series(root: Path, dst: Path, count: int) -> None:
    """`count` copies of the shared sagittal series, each with new study, series and instance UIDs."""
    import pydicom
    from pydicom.uid import generate_uid

    sources = [sorted((root / s / "01_T2_TSE_SAG").glob("*.dcm")) for s in STUDIES]
    for i in range(count):
        study, series = generate_uid(), generate_uid()
        folder = dst / f"series{i:03d}"
        folder.mkdir(parents=True)
        for f in sources[i % len(sources)]:
            ds = pydicom.dcmread(f)
            ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
            ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
            ds.save_as(folder / f.name, enforce_file_format=True)


def run_node(node: str, folder: Path, count: int, args: list[str]) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if k != "LSTV_NODE_CONFIG"}
    cmd = [node, "analyze", "--model", str(MODEL), "--locator", str(LOCATOR), "--format", "csv", *args, str(folder)]
    start = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    seconds = time.perf_counter() - start
    if p.returncode != 0 or f"summary: {count} series analysed" not in p.stderr:
        sys.exit(f"bench/analyze: {' '.join(cmd)} exited {p.returncode}:\n{p.stderr[-3000:]}")
    return seconds, p.stdout


def run_python(folder: Path, count: int) -> dict:
    cmd = [sys.executable, str(ROOT / "bench" / "analyze" / "reference_pipeline.py"), "--model", str(MODEL), str(folder)]
    start = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"bench/analyze: {' '.join(cmd)} exited {p.returncode}:\n{p.stderr[-3000:]}")
    out = json.loads(p.stdout)
    assert len(out["series"]) == count, f"python analysed {len(out['series'])} of {count} series"
    out["wall_seconds"] = wall
    return out


def agreement(node_csv: str, python: dict) -> float:
    """Largest |node − python| over every series' reference metrics (the node's CSV has 6 decimals)."""
    rows = {r["series_id"]: r for r in csv.DictReader(io.StringIO(node_csv))}
    worst = 0.0
    for s in python["series"]:
        row = rows[s["series_instance_uid"]]
        for level in LEVELS:
            for column, key in METRICS.items():
                worst = max(worst, abs(float(row[f"{level}_{column}"]) - s["levels"][level][key]))
    return worst


def per_minute(count: int, seconds: float) -> float:
    return 60.0 * count / seconds


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--node", required=True, help="the lstv-node executable")
    ap.add_argument("--series", type=int, default=12)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dicom", help="the shared lumbar DICOM folder (default: <repo>/../shared/data/lumbar/dicom)")
    ap.add_argument("--keep", action="store_true", help="keep the series folder (its path is printed)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "analyze"))
    args = ap.parse_args()
    root = dicom_root(args.dicom)

    work = Path(tempfile.mkdtemp(prefix="lstv-bench-analyze-"))
    try:
        folder = work / "series"
        print(f"== {args.series} series (copies with new UIDs) in {folder}", file=sys.stderr)
        make_series(root, folder, args.series)
        load_before = load()
        rates: dict[str, list[float]] = {name: [] for name in [*NODE_RUNS, PYTHON, "python (whole process)"]}
        rounds, worst, python_startup, threads = [], 0.0, [], None
        for r in range(1, args.rounds + 1):
            row = {"round": r}
            for name, extra in NODE_RUNS.items():
                seconds, out = run_node(args.node, folder, args.series, extra)
                rates[name].append(per_minute(args.series, seconds))
                row[name] = seconds
                if name == "node --jobs 1":
                    node_csv = out
                print(f"round {r}: {name}: {seconds:.2f} s, {rates[name][-1]:.1f} series/min (load {load()})", file=sys.stderr)
            py = run_python(folder, args.series)
            per_series = sum(s["seconds"] for s in py["series"])
            rates[PYTHON].append(per_minute(args.series, per_series))
            rates["python (whole process)"].append(per_minute(args.series, py["wall_seconds"]))
            python_startup.append(py["startup_seconds"])
            threads = py["threads"]
            row[PYTHON], row["python (whole process)"] = per_series, py["wall_seconds"]
            worst = max(worst, agreement(node_csv, py))
            print(f"round {r}: {PYTHON}: {per_series:.2f} s (+ {py['startup_seconds']:.2f} s start-up), "
                  f"{rates[PYTHON][-1]:.1f} series/min (load {load()})", file=sys.stderr)
            rounds.append(row)
        load_after = load()
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)

    medians = {name: statistics.median(v) for name, v in rates.items()}
    names = list(rates)
    print(f"\n{args.series} series x {args.rounds} rounds; series/min per round (higher is better)\n")
    print("| round | " + " | ".join(names) + " |")
    print("|---:|" + "---:|" * len(names))
    for i in range(args.rounds):
        print(f"| {i + 1} | " + " | ".join(f"{rates[n][i]:.1f}" for n in names) + " |")
    print("| **median** | " + " | ".join(f"**{medians[n]:.1f}**" for n in names) + " |")
    print(f"\nratio node ÷ python (median series/min, python per series, this run):")
    for name in NODE_RUNS:
        print(f"  {name}: {medians[name] / medians[PYTHON]:.2f}x")
    print(f"\npython: torch {threads} threads, start-up {statistics.median(python_startup):.2f} s (not in 'per series'); "
          f"node: analysis_threads 1 per job")
    print(f"reference metrics, node vs python: max |difference| {worst:.2g} (node CSV rounds to 6 decimals)")
    print(f"machine: {os.cpu_count()} CPUs, {cpu_model()}, "
          f"load average before {load_before}, after {load_after}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps({
        "series": args.series, "rounds": rounds, "series_per_minute": rates, "medians": medians,
        "ratios": {name: medians[name] / medians[PYTHON] for name in NODE_RUNS}, "python_threads": threads,
        "python_startup_seconds": python_startup, "max_metric_difference": worst,
        "load_before": load_before, "load_after": load_after}, indent=1))


if __name__ == "__main__":
    main()
