"""DICOMweb read side (issue 14): QIDO-RS finds the received study and the node's own SR and key
image series in it, WADO-RS returns each Part 10 file exactly as stored (multipart/related), and
/rendered shows the key image as a PNG; all behind a bearer token (401 without), 404 for unknown
UIDs, 406 for a media type the node does not send.
"""
from __future__ import annotations

import email.parser
import email.policy
import io

import cv2
import numpy as np
import pydicom
import pytest
import requests
from dicomweb_client.api import DICOMwebClient

import nodeproc
import pacs

COMPREHENSIVE_3D_SR = "1.2.840.10008.5.1.4.1.1.88.34"
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
STUDY, SERIES, SOP, SOP_CLASS, MODALITY = "0020000D", "0020000E", "00080018", "00080016", "00080060"
SERIES_INSTANCES, STUDY_INSTANCES = "00201209", "00201208"


def value(item: dict, tag: str):
    return item[tag]["Value"][0]


def parts(response: requests.Response) -> list[bytes]:
    """The parts of a multipart/related response, parsed by the standard library's MIME parser."""
    head = f"Content-Type: {response.headers['Content-Type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + response.content)
    assert message.is_multipart()
    return [p.get_payload(decode=True) for p in message.iter_parts()]


@pytest.fixture
def analysed(node_factory, lumbar, database):
    """A node that received and analysed one sagittal series: (node, token, files, study, series)."""
    node = node_factory(quiet_seconds=1.0)
    files = nodeproc.dicom_files(lumbar[0].sagittal)
    assert len(nodeproc.send_files(node.port, files).acknowledged) == len(files)
    pacs.wait_settled(node, database, 120)
    study, series = nodeproc.series_uids(lumbar[0].sagittal)
    return node, node.admin_token(), files, study, series


def test_search_finds_the_study_its_series_and_the_nodes_results(analysed, database):
    node, token, files, study, series = analysed
    client = DICOMwebClient(url=f"{node.http_url}/dicomweb", headers={"Authorization": f"Bearer {token}"})
    results = {r["kind"]: r for r in pacs.results(database)}
    assert set(results) == pacs.RESULT_KINDS

    studies = client.search_for_studies()
    assert [value(s, STUDY) for s in studies] == [study]
    assert value(studies[0], STUDY_INSTANCES) == len(files) + pacs.PER_ANALYSIS

    found = {value(s, SERIES): s for s in client.search_for_series(study)}
    assert set(found) == {series} | {r["series_instance_uid"] for r in results.values()}
    assert value(found[series], MODALITY) == "MR" and value(found[series], SERIES_INSTANCES) == len(files)
    assert value(found[results["sr"]["series_instance_uid"]], MODALITY) == "SR"
    assert all(value(s, STUDY) == study for s in found.values())

    instances = client.search_for_instances(study, series)
    sent = {pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID for f in files}
    assert {value(i, SOP) for i in instances} == sent
    sr = client.search_for_instances(study, results["sr"]["series_instance_uid"])
    assert [(value(i, SOP), value(i, SOP_CLASS)) for i in sr] == [(results["sr"]["sop_instance_uid"], COMPREHENSIVE_3D_SR)]

    # Matching keys, paging, and a search that matches nothing (200 with []).
    assert [value(s, SERIES) for s in client.search_for_series(search_filters={"Modality": "MR"})] == [series]
    assert len(client.search_for_instances(study, series, limit=2, offset=1)) == 2
    assert client.search_for_studies(search_filters={"PatientID": "nobody-has-this-id"}) == []
    r = requests.get(f"{node.http_url}/dicomweb/studies", params={"StudyInstanceUID": "1.2.3.999"},
                     headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert r.status_code == 200 and r.json() == [] and r.headers["Content-Type"] == "application/dicom+json"
    bad = requests.get(f"{node.http_url}/dicomweb/studies", params={"PatientName": "DOE*"},
                       headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert bad.status_code == 400, bad.text


def test_retrieve_returns_the_files_as_stored_and_renders_the_key_image(analysed, database):
    node, token, files, study, series = analysed
    auth = {"Authorization": f"Bearer {token}"}
    client = DICOMwebClient(url=f"{node.http_url}/dicomweb", headers=auth)
    results = {r["kind"]: r for r in pacs.results(database)}

    # An original MR instance: the data set the PACS sent, byte for byte; the file as stored.
    sent = pydicom.dcmread(files[0])
    got = client.retrieve_instance(study, series, sent.SOPInstanceUID)
    assert (got.SOPInstanceUID, got.SeriesInstanceUID, got.StudyInstanceUID) == (sent.SOPInstanceUID, series, study)
    url = f"{node.http_url}/dicomweb/studies/{study}/series/{series}/instances/{sent.SOPInstanceUID}"
    r = requests.get(url, headers={**auth, "Accept": 'multipart/related; type="application/dicom"'}, timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("multipart/related")
    [body] = parts(r)
    stored = node.instance_path(study, series, sent.SOPInstanceUID)
    assert body == stored.read_bytes()
    assert nodeproc.dataset_bytes(stored) == nodeproc.dataset_bytes(files[0])

    # The whole series, and the node's SR and key image.
    assert len(client.retrieve_series(study, series)) == len(files)
    sr = client.retrieve_instance(study, results["sr"]["series_instance_uid"], results["sr"]["sop_instance_uid"])
    assert sr.SOPClassUID == COMPREHENSIVE_3D_SR and sr.StudyInstanceUID == study
    key = results["key_image"]
    key_url = f"{node.http_url}/dicomweb/studies/{study}/series/{key['series_instance_uid']}/instances/{key['sop_instance_uid']}"
    [key_bytes] = parts(requests.get(key_url, headers=auth, timeout=30))
    with open(key["path"], "rb") as f:
        assert key_bytes == f.read()
    key_ds = pydicom.dcmread(io.BytesIO(key_bytes))
    assert key_ds.SOPClassUID == SECONDARY_CAPTURE

    # /rendered: a PNG OpenCV decodes, the stored size, not blank, in colour.
    png = requests.get(key_url + "/rendered", headers={**auth, "Accept": "image/png"}, timeout=30)
    assert png.status_code == 200 and png.headers["Content-Type"] == "image/png"
    image = cv2.imdecode(np.frombuffer(png.content, np.uint8), cv2.IMREAD_UNCHANGED)
    assert image.shape == (key_ds.Rows, key_ds.Columns, 3)
    assert image.std() > 5
    assert np.abs(image[..., 0].astype(int) - image[..., 2].astype(int)).max() > 0, "the key image's colour overlay"
    np.testing.assert_array_equal(image[..., ::-1], key_ds.pixel_array)
    # A monochrome MR slice renders too (grey), an SR cannot (400).
    mr = requests.get(url + "/rendered", headers=auth, timeout=30)
    assert mr.status_code == 200
    assert cv2.imdecode(np.frombuffer(mr.content, np.uint8), cv2.IMREAD_UNCHANGED).shape == (sent.Rows, sent.Columns, 3)
    sr_url = f"{node.http_url}/dicomweb/studies/{study}/series/{results['sr']['series_instance_uid']}/instances/{results['sr']['sop_instance_uid']}"
    assert requests.get(sr_url + "/rendered", headers=auth, timeout=30).status_code == 400


def test_reads_need_a_token_and_answer_404_406_400(analysed):
    node, token, files, study, series = analysed
    auth = {"Authorization": f"Bearer {token}"}
    base = f"{node.http_url}/dicomweb"
    for path in ("/studies", f"/studies/{study}/series", f"/studies/{study}", f"/studies/{study}/series/{series}"):
        assert requests.get(base + path, timeout=30).status_code == 401, path
        assert requests.get(base + path, headers={"Authorization": "Bearer lstv_wrong"}, timeout=30).status_code == 401, path
    sop = pydicom.dcmread(files[0], stop_before_pixels=True).SOPInstanceUID
    assert requests.get(f"{base}/studies/1.2.3.4", headers=auth, timeout=30).status_code == 404
    assert requests.get(f"{base}/studies/{study}/series/1.2.3.4", headers=auth, timeout=30).status_code == 404
    assert requests.get(f"{base}/studies/{study}/series/{series}/instances/1.2.3.4", headers=auth, timeout=30).status_code == 404
    assert requests.get(f"{base}/studies/{study}/series/{series}/instances/1.2.3.4/rendered", headers=auth,
                        timeout=30).status_code == 404
    assert requests.get(f"{base}/studies/not..a-uid", headers=auth, timeout=30).status_code == 400
    instance = f"{base}/studies/{study}/series/{series}/instances/{sop}"
    assert requests.get(instance, headers={**auth, "Accept": "application/pdf"}, timeout=30).status_code == 406
    assert requests.get(instance, headers={**auth, "Accept": 'multipart/related; type="image/jpeg"'}, timeout=30).status_code == 406
    assert requests.get(instance + "/rendered", headers={**auth, "Accept": "image/jpeg"}, timeout=30).status_code == 406
    assert requests.get(f"{base}/studies", headers={**auth, "Accept": "application/dicom+xml"}, timeout=30).status_code == 406
    assert requests.get(f"{base}/studies", params={"limit": "0"}, headers=auth, timeout=30).status_code == 400
