#!/usr/bin/env python3
"""The reference Python pipeline over a folder of series, timed per series: what `lstv-node analyze`
is compared with (bench/analyze/measure.py runs it; one process per round).

    reference_pipeline.py --model models/lstv-localizer.safetensors DIR

Per series (each sub-folder of DIR): read the files with pydicom (rescale applied), order them along
the slice normal, min-max the whole volume to 8 bits, resize the middle slice to 160x160 with cv2
INTER_LINEAR, normalise, run the network in PyTorch on the CPU (inference mode, torch's own thread
count) and compute the reference metrics. The steps are tools/lstv_tools/reference.py, the code the
node's Analysis module is tested against, and the network is tools/lstv_tools/net.py's `Net` with
the model file's weights. Prints one JSON object: the start-up seconds (imports, model load, one
untimed warm-up pass over the first series), each series' seconds and metrics, the whole run's
seconds.
"""
from __future__ import annotations

import time

T0 = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("dir")
    args = ap.parse_args()

    import torch
    from lstv_tools import reference
    from lstv_tools.model_file import net_from_file

    net, meta = net_from_file(args.model)
    norm, shape, classes = json.loads(meta["normalization"]), json.loads(meta["input"]), json.loads(meta["classes"])
    assert shape["height"] == shape["width"] == reference.SIZE, shape

    def analyse(folder: Path) -> dict:
        volume, datasets = reference.load_volume(str(folder))
        middle = reference.middle_slice(reference.min_max_uint8(volume))
        x = reference.network_input(middle, norm["mean"], norm["std"], norm["scale"], shape["channels"])
        with torch.inference_mode():
            probs = net(torch.from_numpy(x)[None]).numpy()[0]
        return {"series_instance_uid": str(datasets[0].SeriesInstanceUID),
                "levels": {name.lower().replace("/", "_"): {k: m[k] for k in ("peak_confidence", "entropy", "spatial_entropy")}
                           for name, m in reference.metrics(probs, classes).items()}}

    folders = sorted(p for p in Path(args.dir).iterdir() if p.is_dir())
    # Warm-up on the first series, counted as start-up: the steady per-series cost is what is compared
    # (torch's first forward and pydicom's first pixel decode set themselves up).
    analyse(folders[0])
    startup = time.perf_counter() - T0

    series = []
    for folder in folders:
        start = time.perf_counter()
        s = analyse(folder)
        s["seconds"] = time.perf_counter() - start
        series.append(s)
    print(json.dumps({"startup_seconds": startup, "threads": torch.get_num_threads(), "torch": torch.__version__,
                      "series": series, "total_seconds": time.perf_counter() - T0}))


if __name__ == "__main__":
    main()
