"""`lstv-node flags export` (issue 13): the stored flags of a running node, as CSV and JSON, with
analyze's CSV columns first and the `lstv_flags` view's other columns after them; values as the
view holds them (read here straight from PostgreSQL with psql), JSON numbers as numbers, the
filters of `flags list`.

A real node (the small test model) receives the three shared sagittal series by C-STORE and
analyses them; the test then exports what it stored.
"""
from __future__ import annotations

import csv
import io
import json
import subprocess
from datetime import datetime, timedelta, timezone

import pytest

import nodeproc
import pacs
from test_analyze import CSV_APPENDED, CSV_HEADER, MODEL as SMALL_MODEL

#: analyze's CSV columns whose figure the view names differently.
VIEW_NAME = {"study_id": "study_instance_uid", "series_id": "series_instance_uid", "junction": "junction_state",
             "ladder": "ladder_status"}
INTEGER_TYPES = {"integer", "bigint", "smallint"}
NUMBER_TYPES = {"double precision", "real", "numeric"}
NULL = "\x1e"


@pytest.fixture
def analysed(node_factory, lumbar):
    """A node that has received and analysed the three sagittal series."""
    node = node_factory(quiet_seconds=1.0)
    files = [f for s in lumbar for f in nodeproc.dicom_files(s.sagittal)]
    r = nodeproc.send_files(node.port, files)
    assert len(r.acknowledged) == len(files), r
    nodeproc.wait_until(lambda: len(pacs.flags(node)) == 3, 180, 0.5, "three analysed series in lstv_flags",
                        lambda: node.log_tail())
    return node


def view(database: nodeproc.TestDatabase, where: str = "") -> tuple[dict[str, str], list[dict[str, str | None]]]:
    """The view's column types (in order) and rows, as psql prints them (libpq's text form)."""
    types = dict(line.split("|", 1) for line in database.psql(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'lstv_flags'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum").splitlines())
    p = subprocess.run(["psql", database.url, "-X", "-v", "ON_ERROR_STOP=1", "-A", "-F", "\x1f", "-P", f"null={NULL}",
                        "-P", "footer=off", "-c", f"SELECT * FROM lstv_flags {where} ORDER BY analysed_at DESC"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.rstrip("\n").split("\n")
    header = lines[0].split("\x1f")
    assert header == list(types), "psql's columns are the view's"
    rows = [{k: (None if v == NULL else v) for k, v in zip(header, ln.split("\x1f"))} for ln in lines[1:]]
    return types, rows


def export(node, *args: str) -> str:
    return node.cli("flags", "export", *args).stdout


def test_csv_export_has_analyzes_columns_first_then_the_views_and_the_stored_values(analysed, database, lumbar,
                                                                                       tmp_path):
    node = analysed
    types, rows = view(database)
    assert len(rows) == 3
    text = export(node, "--format", "csv")
    table = list(csv.reader(io.StringIO(text)))
    header, body = table[0], table[1:]
    reference = CSV_HEADER + CSV_APPENDED
    assert header[:len(reference)] == reference, "analyze's CSV columns first, in its order"
    # The same header as analyze itself writes (one definition of the columns).
    a = subprocess.run([node.binary, "analyze", "--model", str(SMALL_MODEL), "--format", "csv", str(lumbar[0].sagittal)],
                       capture_output=True, text=True, timeout=300)
    assert a.returncode == 0, a.stderr
    assert header[:len(reference)] == a.stdout.splitlines()[0].split(",")
    # Then every other view column, in the view's order; the whole result JSON is left out.
    used = {VIEW_NAME.get(c, c) for c in reference}
    assert header[len(reference):] == [c for c in types if c not in used and c != "result"]
    for extra in ("accession_number", "patient_id", "model_name", "model_sha256", "analysed_at"):
        assert extra in header
    # Rows newest first, like `flags list`; every cell is the view's text (NULL: empty).
    assert len(body) == 3
    for row, stored in zip(body, rows):
        assert len(row) == len(header)
        for name, cell in zip(header, row):
            want = stored[VIEW_NAME.get(name, name)]
            assert cell == ("" if want is None else want), f"{stored['series_instance_uid']} {name}: {cell!r} != {want!r}"
    sagittal = {nodeproc.series_uids(s.sagittal)[1] for s in lumbar}
    assert {r[1] for r in body} == sagittal
    # --output writes the same text to a file.
    out = tmp_path / "flags.csv"
    node.cli("flags", "export", "--format", "csv", "--output", str(out))
    assert out.read_text() == text


def test_json_export_is_typed_and_filters_like_flags_list(analysed, database):
    node = analysed
    types, rows = view(database)
    objects = json.loads(export(node, "--format", "json"))
    assert isinstance(objects, list) and len(objects) == 3
    stored = {r["series_instance_uid"]: r for r in rows}
    numbers = 0
    for o in objects:
        s = stored[o["series_id"]]
        assert "result" not in o
        assert list(o)[:len(CSV_HEADER)] == CSV_HEADER, "keys in the export's column order"
        for name, value in o.items():
            column = VIEW_NAME.get(name, name)
            text, kind = s[column], types[column]
            if text is None:
                assert value is None, f"{name}: NULL must be null, got {value!r}"
            elif kind in INTEGER_TYPES:
                assert type(value) is int and value == int(text), f"{name}: {value!r} vs {text!r}"
            elif kind in NUMBER_TYPES:
                assert isinstance(value, (int, float)) and not isinstance(value, bool), f"{name}: {value!r} is not a number"
                assert value == float(text), f"{name}: {value!r} != stored {text}"
                numbers += 1
            else:
                assert value == text, f"{name}: {value!r} != stored {text!r}"
    assert numbers >= 3 * 16, "the level figures and the suspicion are numbers"

    # --risk: exactly the view's rows of that risk (the three series do not all share one).
    risks = {r["risk"] for r in rows}
    assert len(risks) > 1, f"the fixture should give several risks, got {risks}"
    for risk in ("low", "medium", "high"):
        got = {o["series_id"] for o in json.loads(export(node, "--format", "json", "--risk", risk))}
        assert got == {r["series_instance_uid"] for r in view(database, f"WHERE risk = '{risk}'")[1]}, risk
    bad = node.cli("flags", "export", "--format", "json", "--risk", "severe", check=False)
    assert bad.returncode != 0 and "risk" in bad.stderr
    # --since: analyses finished at or after the time.
    future = (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert json.loads(export(node, "--format", "json", "--since", future)) == []
    assert export(node, "--format", "csv", "--since", future).strip().count("\n") == 0, "header only"
    past = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert len(json.loads(export(node, "--format", "json", "--since", past))) == 3
