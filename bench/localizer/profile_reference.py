#!/usr/bin/env python3
"""onnxruntime's own per-node profile of the bench model, to set beside the engine's
(`LSTV_ENGINE_PROFILE=1 localizer-bench ...`): which convolutions onnxruntime runs faster.

    profile_reference.py [--threads 1] [--batch 1] [--runs 40] [--out bench/out]

Prints one line per node (median microseconds over the runs, the node's op and, for a Conv, its
weight shape and kernel as onnxruntime ran it) sorted by time, and the total. onnxruntime's graph
optimiser rewrites the graph (fused Conv+Add+Relu, NCHWc reorders where it chooses them), so the
node names are onnxruntime's; the weight shape says which convolution of the network it is.
"""
from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--out", default=str(ROOT / "bench/out"))
    args = ap.parse_args()
    out = Path(args.out)

    import numpy as np
    import onnxruntime as ort
    from safetensors.numpy import load_file

    x = np.ascontiguousarray(load_file(str(out / "bench_cases.safetensors"))["input"][: args.batch])
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.enable_profiling = True
    so.profile_file_prefix = str(out / "ort_profile")
    sess = ort.InferenceSession(str(out / "bench_model.onnx"), so, providers=["CPUExecutionProvider"])
    for _ in range(3):
        sess.run(None, {"input": x})
    for _ in range(args.runs):
        sess.run(None, {"input": x})
    trace = json.loads(Path(sess.end_profiling()).read_text())

    per_node: dict[str, list[float]] = defaultdict(list)
    detail: dict[str, str] = {}
    for ev in trace:
        if ev.get("cat") != "Node" or not ev["name"].endswith("_kernel_time"):
            continue
        name = ev["name"][: -len("_kernel_time")]
        per_node[name].append(ev["dur"])
        a = ev.get("args", {})
        shapes = a.get("input_type_shape", [])
        detail[name] = f"{a.get('op_name', '?')} {json.dumps(shapes[1] if len(shapes) > 1 else shapes)}"
    rows = []
    for name, durs in per_node.items():
        tail = durs[3:] if len(durs) > args.runs else durs  # the warm-up runs are in the trace too
        rows.append((statistics.median(tail), name, detail[name]))
    rows.sort(reverse=True)
    total = sum(r[0] for r in rows)
    for us, name, d in rows:
        print(f"{us / 1000:8.3f} ms {100 * us / total:5.1f}%  {name:50s} {d}")
    print(f"total {total / 1000:.2f} ms per run of batch {args.batch} at {args.threads} thread(s)")


if __name__ == "__main__":
    main()
