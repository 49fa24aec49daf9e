"""The API's OpenAPI document (issue 14, item 2): valid OpenAPI 3, served by the node byte for byte
as docs/openapi.yaml, naming every route API.swift registers; schemathesis finds no server error
and no response that breaks the document; and a series' FHIR R4 DiagnosticReport parses with the
`fhir.resources` R4B models and keeps FHIR's rules.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pydicom
import requests
import yaml
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from openapi_spec_validator import validate

import nodeproc
import pacs

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "openapi.yaml"
WEB = ROOT / "Sources" / "Web"
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
OID = re.compile(r"^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$")


def routes_in_source() -> set[tuple[str, str]]:
    """(method, path) of every route API.swift and OpenAPIDocument.swift register."""
    found = set()
    for source in (WEB / "API.swift", WEB / "OpenAPIDocument.swift"):
        for line in source.read_text().splitlines():
            call = re.search(r"\b(api|router)\b(.*?)\.(get|post|put|patch|delete)\(\"([^\"]+)\"", line)
            if not call:
                continue
            base = ["api/v1"] if call.group(1) == "api" else []
            groups = re.findall(r'\.group\("([^"]+)"\)', call.group(2))
            found.add((call.group(3), "/" + "/".join(base + groups + [call.group(4)])))
    return found


def test_the_document_is_valid_and_names_every_route():
    document = yaml.safe_load(DOCUMENT.read_text())
    validate(document)
    documented = {(method, path) for path, item in document["paths"].items() for method in item
                  if method in ("get", "post", "put", "patch", "delete")}
    source = routes_in_source()
    assert len(source) >= 7, source
    assert source == documented


def test_served_document_and_schemathesis_find_no_failure(node_factory, lumbar, database, tmp_path):
    dest = pacs.StoreSCP(tmp_path / "dest")  # never started: deliveries die, so retry has work (200 and 409 paths)
    node = node_factory(quiet_seconds=1.0, config={"results": {"destinations": [dest.peer], "max_attempts": 1}})
    served = requests.get(f"{node.http_url}/api/v1/openapi.yaml", timeout=30)
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "application/yaml"
    assert served.content == DOCUMENT.read_bytes()
    admin = node.admin_token()

    files = nodeproc.dicom_files(lumbar[0].sagittal)
    assert len(nodeproc.send_files(node.port, files).acknowledged) == len(files)
    pacs.wait_settled(node, database, 120)

    run = subprocess.run(
        [str(Path(sys.executable).parent / "st"), "run", f"{node.http_url}/api/v1/openapi.yaml",
         "--url", node.http_url, "-H", f"Authorization: Bearer {admin}",
         "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
         "--max-examples", "20", "--workers", "2", "--seed", "14", "--no-color", "--generation-database", "none"],
        capture_output=True, text=True, timeout=180, cwd=tmp_path)
    (tmp_path / "schemathesis.txt").write_text(run.stdout + run.stderr)
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
    assert "No issues found" in run.stdout or "0 failures" in run.stdout or "passed" in run.stdout, run.stdout[-4000:]


def test_fhir_diagnostic_report(node_factory, lumbar, database):
    node = node_factory(quiet_seconds=1.0)
    admin = node.admin_token()
    headers = {"Authorization": f"Bearer {admin}"}
    files = nodeproc.dicom_files(lumbar[0].sagittal)
    assert len(nodeproc.send_files(node.port, files).acknowledged) == len(files)
    pacs.wait_settled(node, database, 120)
    uid, risk, patient, study = database.psql(
        "SELECT series_instance_uid, risk, patient_id, study_instance_uid FROM lstv_flags").strip().split("|")

    r = requests.get(f"{node.http_url}/api/v1/series/{uid}/fhir", headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/fhir+json"
    report = r.json()
    parsed = DiagnosticReport.model_validate(report)  # the R4B models: R4's DiagnosticReport and Observation
    assert parsed.status == "final"

    assert report["resourceType"] == "DiagnosticReport" and FHIR_ID.match(report["id"])
    assert report["subject"] == {"type": "Patient", "identifier": {"value": patient}}
    assert "not a diagnosis" in report["conclusion"] and risk in report["conclusion"]
    assert report["effectiveDateTime"].endswith("Z") and report["issued"] == report["effectiveDateTime"]
    assert report["imagingStudy"][0]["identifier"] == {"system": "urn:dicom:uid", "value": f"urn:oid:{study}"}
    for identifier in report.get("identifier", []) + [m["link"]["identifier"] for m in report.get("media", [])]:
        assert identifier["system"] == "urn:dicom:uid" and OID.match(identifier["value"]), identifier
    sr = database.scalar(f"SELECT r.sop_instance_uid FROM results r JOIN lstv_flags f USING (analysis_id) "
                         f"WHERE r.kind = 'sr'")
    assert report["identifier"] == [{"system": "urn:dicom:uid", "value": f"urn:oid:{sr}"}]

    # Contained resources: Observations with ids, each referenced from result (FHIR dom-3).
    contained = {o["id"]: o for o in report["contained"]}
    assert all(o["resourceType"] == "Observation" and o["status"] == "final" and FHIR_ID.match(o["id"]) for o in contained.values())
    assert {ref["reference"] for ref in report["result"]} == {f"#{i}" for i in contained}
    assert contained["risk"]["valueCodeableConcept"]["coding"][0]["code"] == risk
    assert contained["suspicion"]["valueQuantity"]["system"] == "http://unitsofmeasure.org"
    levels = [o for o in contained.values() if o["code"]["coding"][0]["code"] == "disc-level"]
    assert [o["bodySite"]["text"].split()[0] for o in levels] == ["L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1"]
    for o in levels:
        assert {c["code"]["coding"][0]["code"] for c in o["component"]} == {"peak-confidence", "entropy"}
    count = database.scalar("SELECT lumbar_count FROM lstv_flags")
    assert ("lumbar-count" in contained) == (count != "")
    if count:
        assert contained["lumbar-count"]["valueInteger"] == int(count)

    # No patient name: no FHIR name element, and the DICOM Patient's Name nowhere (unless it is the ID).
    assert '"name"' not in r.text
    name = str(pydicom.dcmread(files[0], stop_before_pixels=True).PatientName)
    if name and name != patient:
        assert name not in r.text and name not in node.log_path.read_text(errors="replace")
    for missing in ("1.2.3.4", "not-a-uid"):
        nf = requests.get(f"{node.http_url}/api/v1/series/{missing}/fhir", headers=headers, timeout=30)
        assert nf.status_code == 404 and nf.json() == {"error": f"no series {missing}", "status": 404}
    assert requests.get(f"{node.http_url}/api/v1/series/{uid}/fhir", timeout=30).status_code == 401
