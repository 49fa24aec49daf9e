"""`lstv-node calibrate` (issue 13): labels joined to results, the training subjects refused, AUCs
equal to scikit-learn's on the same numbers, reproducible cross-validation, and a calibration file
the node then runs with (`--config`, and `include:`).

The statistics tests feed a results CSV (the format `analyze --format csv` writes) whose suspicion
values come from a seeded generator: they test the arithmetic, which must agree with an independent
implementation on any numbers. The join, the refusal and the thresholds in use are tested on the
real analysed studies.
"""
from __future__ import annotations

import csv
import json
import os
import random
import subprocess
from pathlib import Path

import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

import nodeproc

LEVELS = ["l1_l2", "l2_l3", "l3_l4", "l4_l5", "l5_s1"]
HEADER = (["study_id", "series_id"] + [f"{l}_{m}" for l in LEVELS for m in ("confidence", "entropy", "spatial_entropy")]
          + ["risk", "lstv_suspicion", "suspicion_scale", "lumbar_count", "lumbar_count_probability", "junction", "ladder",
             "suspicion_reasons"])


def node(*args, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "LSTV_NODE_CONFIG"}
    return subprocess.run([nodeproc.node_binary(), *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env)


def explain(p: subprocess.CompletedProcess) -> str:
    return f"exit {p.returncode}\n--- stdout ---\n{p.stdout[-3000:]}\n--- stderr ---\n{p.stderr[-3000:]}"


def write_cohort(directory: Path, n: int = 80, seed: int = 7, ties: bool = True) -> tuple[Path, Path, list[float], list[int]]:
    """A results CSV and a labels CSV; suspicion higher on average for the positives, with ties."""
    rng = random.Random(seed)
    scores, labels, rows = [], [], []
    for i in range(n):
        y = 1 if rng.random() < 0.3 else 0
        s = rng.gauss(3.0 if y else 1.6, 1.1)
        if ties:
            s = round(s, 1)  # many equal scores: the tie handling must agree too
        scores.append(s)
        labels.append(y)
        rows.append([f"1.2.826.9.{i}", f"1.2.826.9.{i}.1"] + [f"{rng.random():.6f}" for _ in range(15)]
                    + ["low", f"{s:.6f}", "normal_sd", "5", "", "typical", "consistent", ""])
    results, label_file = directory / "results.csv", directory / "labels.csv"
    with results.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        w.writerows(rows)
    with label_file.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["series_instance_uid", "lstv", "castellvi"])
        for i, y in enumerate(labels):
            w.writerow([f"1.2.826.9.{i}.1", y, "IIa" if y else ""])
    return results, label_file, scores, labels


def calibrate_json(results: Path, labels: Path, out: Path, *extra) -> dict:
    p = node("calibrate", "--results", results, "--labels", labels, "--output", out, "--format", "json", *extra)
    assert p.returncode == 0, explain(p)
    return json.loads(p.stdout)


def test_aucs_equal_scikit_learn(tmp_path):
    results, labels, scores, y = write_cohort(tmp_path)
    got = calibrate_json(results, labels, tmp_path / "cal.yaml")
    assert got["n_pos"] == sum(y) and got["n_neg"] == len(y) - sum(y)
    assert abs(got["auc"] - roc_auc_score(y, scores)) < 1e-6
    assert abs(got["pr_auc"] - average_precision_score(y, scores)) < 1e-6
    lo, hi = got["auc_ci"]
    assert lo < got["auc"] < hi
    # The reference per-level figures: scikit-learn on the same CSV columns.
    with results.open() as f:
        table = list(csv.DictReader(f))
    for level in LEVELS:
        entropy = [float(r[f"{level}_entropy"]) for r in table]
        assert abs(got["level_aucs"][f"{level}_entropy"] - roc_auc_score(y, entropy)) < 1e-6
        confidence = [-float(r[f"{level}_confidence"]) for r in table]
        assert abs(got["level_aucs"][f"{level}_confidence (low)"] - roc_auc_score(y, confidence)) < 1e-6


def test_cross_validation_is_reproducible_and_seeded(tmp_path):
    results, labels, _, _ = write_cohort(tmp_path, seed=11)
    a = calibrate_json(results, labels, tmp_path / "a.yaml")
    b = calibrate_json(results, labels, tmp_path / "b.yaml")
    for key in ("auc_ci", "pr_auc_ci", "table", "cv", "thresholds"):
        assert a[key] == b[key], key
    c = calibrate_json(results, labels, tmp_path / "c.yaml", "--seed", "99")
    assert c["cv"]["choice"] != a["cv"]["choice"] or c["auc_ci"] != a["auc_ci"], "the seed changes the folds and the bootstrap"
    # Every fold holds its share of both classes (stratified).
    for fold in a["cv"]["choice"]:
        assert fold["positives"] >= a["n_pos"] // 5 and fold["negatives"] >= a["n_neg"] // 5
    assert a["thresholds"]["medium"] <= a["thresholds"]["high"]
    assert a["strategy"]["name"] == "max_f1"


def test_sensitivity_target_strategy(tmp_path):
    results, labels, _, _ = write_cohort(tmp_path, seed=5)
    got = calibrate_json(results, labels, tmp_path / "cal.yaml", "--strategy", "sens_target", "--sens-target", "0.9")
    high = got["thresholds"]["high"]
    row = next(r for r in got["table"] if r["threshold"] == high)
    assert row["sensitivity"]["mean"] >= 0.9
    # No threshold that also reaches 0.9 has a higher mean PPV.
    reaching = [r for r in got["table"] if r["sensitivity"] and r["sensitivity"]["mean"] >= 0.9 and r["ppv"]]
    assert row["ppv"]["mean"] >= max(r["ppv"]["mean"] for r in reaching) - 1e-12


def test_join_reports_what_did_not_join(tmp_path):
    results, labels, _, _ = write_cohort(tmp_path)
    with labels.open("a") as f:
        f.write("9.9.9.9,1,\n")
    p = node("calibrate", "--results", results, "--labels", labels, "--output", tmp_path / "cal.yaml")
    assert p.returncode == 0, explain(p)
    assert "1 label(s) match no analysed series: 9.9.9.9" in p.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("series_instance_uid,lstv\n1.2.826.9.0.1,yes\n")
    p = node("calibrate", "--results", results, "--labels", bad, "--output", tmp_path / "cal.yaml")
    assert p.returncode != 0 and "lstv must be 0 or 1" in p.stderr, explain(p)


def analyze_json(lumbar, names: list[str], out: Path) -> Path:
    folders = [s.sagittal for s in lumbar if s.name in names]
    p = node("analyze", "--format", "json", "--output", out, *folders)
    assert p.returncode == 0, explain(p)
    return out


def test_training_subjects_are_refused(tmp_path, lumbar):
    """FCS-IVD-11 is a training subject of the bundled model (its file lists the hashed IDs); FCS-IVD-25 is not."""
    results = analyze_json(lumbar, ["FCS-IVD-11", "FCS-IVD-25"], tmp_path / "results.json")
    cases = json.loads(results.read_text())
    assert {c["patient_id"] for c in cases} == {"FCS-IVD-11", "FCS-IVD-25"}
    labels = tmp_path / "labels.csv"
    labels.write_text("study_instance_uid,lstv\n" + "".join(f"{c['study_instance_uid']},0\n" for c in cases))
    p = node("calibrate", "--results", results, "--labels", labels, "--output", tmp_path / "cal.yaml")
    assert p.returncode != 0, explain(p)
    assert "1 case(s) are of subjects the model was trained on" in p.stderr, explain(p)
    assert not (tmp_path / "cal.yaml").exists()
    # Allowed, the refusal is gone; two cases are then too few for 5 folds, which it says.
    p = node("calibrate", "--results", results, "--labels", labels, "--output", tmp_path / "cal.yaml", "--allow-training-cases")
    assert p.returncode != 0 and "training case(s) kept" in p.stderr and "5-fold cross-validation needs" in p.stderr, explain(p)


def test_node_runs_with_the_thresholds_it_wrote(tmp_path, lumbar):
    results, labels, _, _ = write_cohort(tmp_path)
    got = calibrate_json(results, labels, tmp_path / "calibration.yaml")
    want = got["thresholds"]
    # Directly as the configuration, and included by a site's configuration.
    site = tmp_path / "site.yaml"
    site.write_text("ae_title: SITE01\ninclude: [calibration.yaml]\n")
    for config in (tmp_path / "calibration.yaml", site):
        p = node("analyze", "--config", config, "--format", "json", lumbar[2].sagittal)
        assert p.returncode == 0, explain(p)
        (case,) = json.loads(p.stdout)
        assert case["risk_thresholds"] == {"high": want["high"], "medium": want["medium"]}
        assert case["risk_threshold_origin"] == "configuration"
        s, high, medium = case["lstv_suspicion"], want["high"], want["medium"]
        assert case["risk"] == ("high" if s > high else "medium" if s >= medium else "low")
    p = node("check-config", "--config", site)
    assert p.returncode == 0, explain(p)
    assert f"high: {want['high']}" in p.stdout and "ROC AUC" in p.stdout and "ae_title: SITE01" in p.stdout
