"""Fixtures for the integration tests (real lstv-node, real PostgreSQL, real DICOM peers).

* ``database``: a fresh database on the test cluster for this test, dropped afterwards.
* ``node_factory(**kwargs)``: a :class:`nodeproc.Node` on ``tmp_path/data`` (or ``data_dir=``) and
  ``database`` (or ``database_url=``), started unless ``start=False``; stopped at teardown, and its
  log printed when the test failed.
* ``node``: a started node with the defaults (quiet period 2 s).
* ``lumbar``: the shared lumbar studies, as :class:`Study` objects (sagittal and axial folders).

The helpers themselves live in ``nodeproc.py`` (importable from tests as ``import nodeproc``).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import nodeproc  # noqa: E402


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)


@pytest.fixture
def database():
    db = nodeproc.TestDatabase()
    try:
        yield db
    finally:
        db.drop()


@pytest.fixture
def node_factory(request, tmp_path, database):
    nodes: list[nodeproc.Node] = []

    def make(*, start: bool = True, data_dir: Path | None = None, database_url: str | None = None, **kwargs):
        n = nodeproc.Node(data_dir or tmp_path / f"data{len(nodes) or ''}", database_url or database.url, **kwargs)
        nodes.append(n)
        if start:
            n.start()
        return n

    yield make
    for n in nodes:
        n.stop()
    failed = any(getattr(request.node, f"rep_{w}", None) is not None and getattr(request.node, f"rep_{w}").failed
                 for w in ("setup", "call"))
    if failed:
        for n in nodes:
            sys.stderr.write(f"\n----- lstv-node log ({n.log_path}) -----\n{n.log_tail(80)}\n")


@pytest.fixture
def node(node_factory):
    return node_factory()


@dataclass(frozen=True)
class Study:
    name: str
    sagittal: Path  # 01_T2_TSE_SAG, 67 instances
    axial: Path  # 02_T2_AX_REFORMAT, 51 instances


SAGITTAL_COUNT = 67
AXIAL_COUNT = 51


@pytest.fixture(scope="session")
def lumbar_root() -> Path:
    return nodeproc.lumbar_dicom_dir()


@pytest.fixture(scope="session")
def lumbar(lumbar_root) -> list[Study]:
    studies = []
    for name in ("FCS-IVD-11", "FCS-IVD-20", "FCS-IVD-25"):
        d = lumbar_root / name
        studies.append(Study(name, d / "01_T2_TSE_SAG", d / "02_T2_AX_REFORMAT"))
    for s in studies:
        assert s.sagittal.is_dir() and s.axial.is_dir(), f"missing series folders in {s.sagittal.parent}"
    return studies
