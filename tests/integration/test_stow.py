"""STOW-RS (issue 14): a study uploaded by dicomweb-client with a viewer token is stored durably,
analysed like a received one, and listed by /api/v1/flags; refusals name the instance and the
DIMSE status C-STORE would have answered (FailureReason), with 202 for a partial store.
"""
from __future__ import annotations

import io
import re
import subprocess
import uuid

import pydicom
import requests
from dicomweb_client.api import DICOMwebClient

import nodeproc
import pacs

REFERENCED, FAILED, REASON, INSTANCE = "00081199", "00081198", "00081197", "00081155"


def viewer_token() -> tuple[str, dict]:
    p = subprocess.run([nodeproc.node_binary(), "token", "create", "--name", "uploader", "--role", "viewer"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    secret = re.search(r"token \(shown once; give it to \S+\): (\S+)", p.stdout).group(1)
    line = re.search(r"\{name: (\S+), role: (\w+), sha256: ([0-9a-f]{64})\}", p.stdout)
    return secret, {"name": line.group(1), "role": line.group(2), "sha256": line.group(3)}


def multipart(parts: list[bytes], boundary: str = "lstvtestboundary") -> tuple[bytes, str]:
    body = b"".join(b"--" + boundary.encode() + b"\r\nContent-Type: application/dicom\r\n\r\n" + p + b"\r\n" for p in parts)
    return body + b"--" + boundary.encode() + b"--\r\n", f'multipart/related; type="application/dicom"; boundary={boundary}'


def test_study_uploaded_with_dicomweb_client_is_stored_analysed_and_listed(node_factory, lumbar, database):
    token, record = viewer_token()
    node = node_factory(quiet_seconds=1.0, config={"http": {"tokens": [record]}})
    files = nodeproc.dicom_files(lumbar[0].sagittal)
    client = DICOMwebClient(url=f"{node.http_url}/dicomweb", headers={"Authorization": f"Bearer {token}"})
    response = client.store_instances([pydicom.dcmread(f) for f in files])
    stored = {item.ReferencedSOPInstanceUID for item in response.ReferencedSOPSequence}
    assert len(stored) == len(files)
    assert "FailedSOPSequence" not in response
    # Durable: every acknowledged instance is a file in the spool, byte for byte what was sent.
    study, series = nodeproc.series_uids(lumbar[0].sagittal)
    for f in files:
        sop = pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID
        assert sop in stored
        assert node.instance_path(study, series, sop).is_file()

    pacs.wait_settled(node, database, 120)
    flags = requests.get(f"{node.http_url}/api/v1/flags", headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
    assert [f["series_instance_uid"] for f in flags["items"]] == [series]
    assert "upload refused" not in node.log_path.read_text()


def test_refusals_name_the_instance_and_the_status(node_factory, lumbar):
    node = node_factory()
    token = node.admin_token()
    headers = {"Authorization": f"Bearer {token}"}
    good = nodeproc.dicom_files(lumbar[1].sagittal)[0].read_bytes()
    pdf = pydicom.dcmread(io.BytesIO(good))
    pdf.SOPClassUID = pdf.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.104.1"  # Encapsulated PDF: not taken
    pdf.SOPInstanceUID = pdf.file_meta.MediaStorageSOPInstanceUID = "2.25." + str(uuid.uuid4().int)
    buffer = io.BytesIO()
    pdf.save_as(buffer)
    body, content_type = multipart([good, b"this is not DICOM", buffer.getvalue()])
    r = requests.post(f"{node.http_url}/dicomweb/studies", data=body, headers={**headers, "Content-Type": content_type}, timeout=60)
    assert r.status_code == 202, r.text
    assert r.headers["Content-Type"] == "application/dicom+json"
    out = r.json()
    assert len(out[REFERENCED]["Value"]) == 1
    reasons = sorted(item[REASON]["Value"][0] for item in out[FAILED]["Value"])
    assert reasons == sorted([0xC000, 0x0122]), reasons
    refused_pdf = next(i for i in out[FAILED]["Value"] if i[REASON]["Value"][0] == 0x0122)
    assert refused_pdf[INSTANCE]["Value"] == [pdf.SOPInstanceUID]
    assert not node.partial_files(), "refused parts leave nothing behind"

    # Nothing stored at all: 409.
    body, content_type = multipart([b"garbage"])
    r = requests.post(f"{node.http_url}/dicomweb/studies", data=body, headers={**headers, "Content-Type": content_type}, timeout=60)
    assert r.status_code == 409, r.text
    # No token: 401; not multipart: 415.
    assert requests.post(f"{node.http_url}/dicomweb/studies", data=body, headers={"Content-Type": content_type}, timeout=60).status_code == 401
    assert requests.post(f"{node.http_url}/dicomweb/studies", data=b"x", headers={**headers, "Content-Type": "application/dicom"},
                         timeout=60).status_code == 415


def test_low_disk_refuses_uploads_with_503(node_factory, lumbar):
    node = node_factory(config={"minimum_free_disk_mb": 1_000_000_000})
    body, content_type = multipart([nodeproc.dicom_files(lumbar[0].sagittal)[0].read_bytes()])
    r = requests.post(f"{node.http_url}/dicomweb/studies", data=body,
                      headers={"Authorization": f"Bearer {node.admin_token()}", "Content-Type": content_type}, timeout=60)
    assert r.status_code == 503 and r.headers.get("Retry-After") == "300", r.text
    assert not list(node.instances_dir.rglob("*.dcm"))
