#!/usr/bin/env python3
"""Table of bench/localizer results (JSON lines from localizer-bench and bench_reference.py)."""
import json
import sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
# With several rounds, keep each setting's best (lowest median): the machine is shared, and the
# best round is the one least disturbed by other jobs.
by = {}
for r in rows:
    k = (r["runtime"], r["batch"], r["threads"])
    if k not in by or r["ms_per_slice"] < by[k]["ms_per_slice"]:
        by[k] = r
eng = [r for r in rows if r["runtime"] == "engine"]
if eng:
    e = eng[0]
    print(f"engine: {e['gflop_per_slice']:.2f} GFLOP per 160x160 slice (2 x multiply-adds), OpenBLAS core {e['blas_core']}")
print()
print("| batch | threads | engine ms/slice | onnxruntime ms/slice | PyTorch ms/slice | engine/onnxruntime | engine/PyTorch | engine GFLOP/s | CPU ms/slice engine / ort / torch | engine peak RSS MB | weights file MB | RSS/weights | engine max abs diff vs PyTorch f64 |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for (rt, b, t), r in sorted(by.items(), key=lambda kv: (kv[0][2], kv[0][1])):
    if rt != "engine":
        continue
    o, p = by.get(("onnxruntime", b, t)), by.get(("torch", b, t))
    ms = r["ms_per_slice"]
    f = lambda x: f"{x['ms_per_slice']:.1f}" if x else "n/a"
    ratio = lambda x: f"{ms / x['ms_per_slice']:.2f}" if x else "n/a"
    cpu = lambda x: f"{x['cpu_ms_per_slice']:.0f}" if x and "cpu_ms_per_slice" in x else "n/a"
    print(f"| {b} | {t} | {ms:.1f} | {f(o)} | {f(p)} | {ratio(o)} | {ratio(p)} | {r['gflops']:.0f} | "
          f"{cpu(r)} / {cpu(o)} / {cpu(p)} | "
          f"{r['peak_rss_mb']:.0f} | {r['weights_file_mb']:.0f} | {r['peak_rss_mb'] / r['weights_file_mb']:.2f} | "
          f"{r['max_abs_diff_vs_pytorch']:.1e} |")
print()
for rt in ("onnxruntime", "torch"):
    rs = [r for r in rows if r["runtime"] == rt]
    if rs:
        print(f"{rt} {rs[0].get('version', '')}: peak RSS {max(r['peak_rss_mb'] for r in rs):.0f} MB; "
              f"max abs diff vs PyTorch f64 {max(r['max_abs_diff_vs_pytorch'] for r in rs):.1e}")
