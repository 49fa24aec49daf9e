#!/usr/bin/env python3
"""One network pass through `lstv-node analyze` against onnxruntime's inference alone (bench/analyze/single_pass.sh).

    single_pass.py --node .build/release/lstv-node [--small 8] [--large 40] [--rounds 3] [--threads 1 2]

The full-size reference network (tools/make_bench_model.py: resnet50d + U-Net, random weights) as
safetensors for the node and as ONNX for onnxruntime, the same weights.

1. Series: --large single-slice sagittal T2 series in a temporary directory, each one file: the middle
   slice of one of the shared series (FCS-IVD-11, -20, -25 `01_T2_TSE_SAG`, in turn) with new Study,
   Series and SOP Instance UIDs (pydicom). The first --small of them are also linked into a second folder.
2. Each round, for each thread count T, one after the other: `lstv-node analyze --model <bench model>
   --locator off --neighbours 0 --no-ladder-stability --jobs 1 --profile` with `analysis_threads: T`
   on the small folder and on the large one, then onnxruntime (CPUExecutionProvider, intra_op T,
   inter_op 1, all graph optimisations) running the network on the same series' inputs, one at a
   time, preprocessed as the node does (tools/lstv_tools/reference.py: min-max to 8 bits, cv2
   resize, normalisation).
3. The node's cost of one more series, two ways:
   - slope: (wall(large) − wall(small)) / (large − small), whole processes, so everything a series
     costs is in it (reading its header in the scan, reading and decoding its file, preprocessing,
     the pass, the metrics, the report row) and nothing that is paid once (start-up, model load);
   - in process: the node's own timer over each series' analysis (`--profile`: read to result), the
     mean over the large folder's series but the first (its pass plans and touches the arena).
   onnxruntime: the mean of `session.run` over the large folder's inputs, after two warm-up runs.
   Medians over the rounds; the ratio node ÷ onnxruntime of the medians, this run.
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
sys.path.insert(0, str(ROOT / "tools"))
STUDIES = ("FCS-IVD-11", "FCS-IVD-20", "FCS-IVD-25")


def make_series(root: Path, dst: Path, count: int) -> list[Path]:
    """`count` single-slice series: the middle slice of a shared sagittal series, new UIDs."""
    import pydicom
    from pydicom.uid import generate_uid

    middles = []
    for s in STUDIES:
        files = sorted((root / s / "01_T2_TSE_SAG").glob("*.dcm"))
        middles.append(files[len(files) // 2])
    out = []
    for i in range(count):
        ds = pydicom.dcmread(middles[i % len(middles)])
        ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        path = dst / f"series{i:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        out.append(path)
    return out


def network_inputs(files: list[Path], meta: dict):
    """The node's network input for each single-slice series (the reference's steps)."""
    import numpy as np
    from lstv_tools import reference

    norm = meta["normalization"]
    xs = []
    for f in files:
        volume, _ = reference.load_volume([str(f)])
        middle = reference.middle_slice(reference.min_max_uint8(volume))
        x = reference.network_input(middle, norm["mean"], norm["std"], norm["scale"], meta["input"]["channels"])
        xs.append(np.ascontiguousarray(x[None].astype(np.float32)))
    return xs


def model_metadata(path: Path) -> dict:
    """The model file's metadata (docs/MODEL_FORMAT.md), its JSON values decoded."""
    with open(path, "rb") as f:
        size = int.from_bytes(f.read(8), "little")
        raw = json.loads(f.read(size))["__metadata__"]
    return {k: json.loads(raw[k]) for k in ("input", "normalization")}


STAGE_LINE = re.compile(r"^lstv-node analyze: profile: (.*)$", re.M)


def run_node(node: str, model: Path, folder: Path, count: int, threads: int, config: Path) -> dict:
    config.write_text(f"analysis_threads: {threads}\n")
    cmd = [node, "analyze", "--config", str(config), "--model", str(model), "--locator", "off", "--neighbours", "0",
           "--no-ladder-stability", "--jobs", "1", "--format", "csv", "--profile", str(folder)]
    start = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    if p.returncode != 0 or f"summary: {count} series analysed" not in p.stderr:
        sys.exit(f"single_pass: {' '.join(cmd)} exited {p.returncode}:\n{p.stderr[-3000:]}")
    m = STAGE_LINE.search(p.stderr)
    if not m:
        sys.exit(f"single_pass: no profile line from {' '.join(cmd)}:\n{p.stderr[-3000:]}")
    return {"wall": wall, "profile": json.loads(m.group(1))}


def run_onnxruntime(onnx: Path, xs, threads: int) -> float:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(str(onnx), so, providers=["CPUExecutionProvider"])
    sess.run(None, {"input": xs[0]}); sess.run(None, {"input": xs[1 % len(xs)]})
    total = 0.0
    for x in xs:
        a = time.perf_counter()
        sess.run(None, {"input": x})
        total += time.perf_counter() - a
    del sess
    return total / len(xs)


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--node", required=True)
    ap.add_argument("--model-dir", default=str(ROOT / "bench" / "out"), help="where make_bench_model.py wrote the model")
    ap.add_argument("--small", type=int, default=8)
    ap.add_argument("--large", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--dicom", default=os.environ.get("LSTV_TEST_DICOM_DIR") or str(ROOT.parent / "shared" / "data" / "lumbar" / "dicom"))
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "analyze"))
    args = ap.parse_args()
    assert 0 < args.small < args.large
    model, onnx = Path(args.model_dir) / "bench_model.safetensors", Path(args.model_dir) / "bench_model.onnx"
    meta = model_metadata(model)

    work = Path(tempfile.mkdtemp(prefix="lstv-bench-single-"))
    try:
        large, small = work / "large", work / "small"
        large.mkdir(); small.mkdir()
        files = make_series(Path(args.dicom), large, args.large)
        for f in files[:args.small]:
            os.link(f, small / f.name)
        xs = network_inputs(files, meta)
        load_before = load()
        runs: dict[int, list[dict]] = {t: [] for t in args.threads}
        for r in range(1, args.rounds + 1):
            for t in args.threads:
                a = run_node(args.node, model, small, args.small, t, work / "config.yaml")
                b = run_node(args.node, model, large, args.large, t, work / "config.yaml")
                ort_s = run_onnxruntime(onnx, xs, t)
                per = b["profile"]["series_seconds"][1:]
                row = {"slope": (b["wall"] - a["wall"]) / (args.large - args.small),
                       "in_process": sum(per) / len(per), "onnxruntime": ort_s,
                       "wall_small": a["wall"], "wall_large": b["wall"], "stages": b["profile"]["stages"]}
                runs[t].append(row)
                print(f"round {r} threads {t}: node slope {row['slope'] * 1e3:.1f} ms, in process {row['in_process'] * 1e3:.1f} ms, "
                      f"onnxruntime {ort_s * 1e3:.1f} ms (load {load()})", file=sys.stderr)
        load_after = load()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"\n{args.small} and {args.large} single-slice series, {args.rounds} rounds; ms per series (medians over rounds)\n")
    print("| threads | node, slope | node, in process | onnxruntime inference | slope ÷ ort | in process ÷ ort |")
    print("|---:|---:|---:|---:|---:|---:|")
    summary = {}
    for t, rows in runs.items():
        med = {k: statistics.median(row[k] for row in rows) for k in ("slope", "in_process", "onnxruntime")}
        summary[t] = med
        print(f"| {t} | {med['slope'] * 1e3:.1f} | {med['in_process'] * 1e3:.1f} | {med['onnxruntime'] * 1e3:.1f} | "
              f"**{med['slope'] / med['onnxruntime']:.2f}x** | {med['in_process'] / med['onnxruntime']:.2f}x |")
    print("\nthe node's stages, ms per series (median over rounds, large folder):")
    for t, rows in runs.items():
        names = rows[0]["stages"].keys()
        print(f"  threads {t}: " + ", ".join(
            f"{n} {statistics.median(row['stages'][n] for row in rows) / args.large * 1e3:.2f}" for n in names))
    print(f"machine: {os.cpu_count()} CPUs, load average before {load_before}, after {load_after}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "single_pass.json").write_text(json.dumps({"small": args.small, "large": args.large, "runs": runs,
                                                      "medians": summary, "load_before": load_before,
                                                      "load_after": load_after}, indent=1))


if __name__ == "__main__":
    main()
