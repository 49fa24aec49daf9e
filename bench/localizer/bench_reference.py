#!/usr/bin/env python3
"""PyTorch CPU and onnxruntime CPU on the bench model, one JSON line per (runtime, batch, threads).

    bench_reference.py --runtime torch|onnxruntime --threads T --batch 1 8 [--seconds 5] [--out bench/out]

Same input as the engine (the first n images of bench_cases.safetensors), same timing rule: two
warm-up runs, then the median of at least 5 runs (up to --seconds). One process per runtime and
thread count, so peak RSS (ru_maxrss) is that runtime's own.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))


def cpu_seconds() -> float:
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def timed(fn, seconds: float) -> tuple[list[float], float]:
    """Sorted wall times of the timed runs, and process CPU seconds per run."""
    fn(); fn()
    times = []
    start, cpu0 = time.perf_counter(), cpu_seconds()
    while len(times) < 5 or (time.perf_counter() - start < seconds and len(times) < 200):
        a = time.perf_counter()
        fn()
        times.append(time.perf_counter() - a)
    return sorted(times), (cpu_seconds() - cpu0) / len(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runtime", choices=["torch", "onnxruntime"], required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--out", default=str(ROOT / "bench/out"))
    args = ap.parse_args()
    out = Path(args.out)

    import numpy as np
    from safetensors.numpy import load_file
    cases = load_file(str(out / "bench_cases.safetensors"))
    x_all, p_all = cases["input"], cases["probs"]

    if args.runtime == "torch":
        import torch
        torch.set_num_threads(args.threads)
        from lstv_tools.model_file import net_from_file
        net, _ = net_from_file(out / "bench_model.safetensors")
        version = torch.__version__

        def make(x):
            xt = torch.from_numpy(x)
            def run():
                with torch.inference_mode():
                    return net(xt).numpy()
            return run
    else:
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = args.threads
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(str(out / "bench_model.onnx"), so, providers=["CPUExecutionProvider"])
        version = ort.__version__

        def make(x):
            return lambda: sess.run(None, {"input": x})[0]

    for b in args.batch:
        x = np.ascontiguousarray(x_all[:b])
        run = make(x)
        times, cpu = timed(run, args.seconds)
        diff = float(np.abs(run() - p_all[:b]).max())
        med = times[len(times) // 2]
        print(json.dumps({"runtime": args.runtime, "version": version, "batch": b, "threads": args.threads,
                          "iterations": len(times), "ms_per_slice": med * 1000 / b,
                          "ms_per_batch_min": times[0] * 1000, "cpu_ms_per_slice": cpu * 1000 / b, "max_abs_diff_vs_pytorch": diff,
                          "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6},
                         sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
