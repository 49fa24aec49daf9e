"""Who may talk to the node, and what it does with bad input: association rejections with the right
result/source/reason, hostile UIDs that never reach the file system, garbage and truncated data
sets answered with the documented failure status, unsupported SOP classes, a full disk; and after
each, the node still answers C-ECHO."""
from __future__ import annotations

import os
import random
import subprocess
import time
from io import BytesIO
from pathlib import Path

import pytest

import nodeproc
from nodeproc import (CANNOT_UNDERSTAND, DATASET_DOES_NOT_MATCH_SOP_CLASS, MR_IMAGE_STORAGE, OUT_OF_RESOURCES,
                      SOP_CLASS_NOT_SUPPORTED, SUCCESS, ULTRASOUND_IMAGE_STORAGE)

# A-ASSOCIATE-RJ fields (PS3.8 9.3.4)
REJECTED_PERMANENT = 1
SOURCE_SERVICE_USER = 1
REASON_NONE = 1
REASON_CALLING_AE = 3
REASON_CALLED_AE = 7

EXPLICIT_LE = "1.2.840.10008.1.2.1"


# --------------------------------------------------------------------------------------------
# helpers


def real_dataset(lumbar, index: int = 10):
    """A real sagittal slice with fresh Study/Series/SOP Instance UIDs."""
    import pydicom
    from pydicom.uid import generate_uid

    ds = pydicom.dcmread(nodeproc.dicom_files(lumbar[0].sagittal)[index])
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds


def encode_body(ds) -> bytes:
    """The data set encoded explicit VR little endian (no meta header)."""
    from pydicom.filewriter import write_dataset
    from pydicom.filebase import DicomBytesIO

    buf = DicomBytesIO()
    buf.is_little_endian, buf.is_implicit_VR = True, False
    write_dataset(buf, ds)
    return buf.getvalue()


def part10(path: Path, body: bytes, sop_class: str, sop_instance: str, ts: str = EXPLICIT_LE) -> Path:
    """A Part 10 file with a valid meta header naming ``sop_class``/``sop_instance`` (these become the
    C-STORE command's Affected SOP Class/Instance UID) and ``body`` as its data set bytes, unchecked."""
    from pydicom.dataset import FileMetaDataset
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_file_meta_info

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_instance
    meta.TransferSyntaxUID = ts
    meta.ImplementationClassUID = "1.2.826.0.1.3680043.8.498.1"
    buf = DicomBytesIO()
    buf.is_little_endian, buf.is_implicit_VR = True, False
    write_file_meta_info(buf, meta, enforce_standard=True)
    path.write_bytes(b"\0" * 128 + b"DICM" + buf.getvalue() + body)
    return path


def send_one(node, path: Path, **kw) -> int | None:
    r = nodeproc.send_files(node.port, [path], **kw)
    assert path in r.statuses, f"nothing was sent: {r}"
    return r.statuses[path]


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")} if root.exists() else set()


def assert_spool_clean(node, allowed_instances: set[Path] = frozenset()):
    """No file anywhere under the data dir but the allowed instance files (and node state beside the
    spool: the hash of the web face's first-start admin token, the audit trail, the running node's
    receiver marker and spool journal in incoming/); under spool/ nothing but incoming/ (no partial file) and
    instances/<uid>/<uid>/<uid>.dcm with valid UIDs."""
    state = {node.data_dir / "http-admin-token.sha256", node.data_dir / "audit.log"}
    files = {p for p in node.data_dir.rglob("*") if p.is_file()} - state - node.receiver_files()
    assert files == set(allowed_instances), \
        f"unexpected files in the data dir: {sorted(map(str, files - set(allowed_instances)))}"
    for p in set(node.spool.rglob("*")) - node.receiver_files():
        rel = p.relative_to(node.spool).parts
        assert rel[0] in ("incoming", "instances"), f"unexpected {p}"
        assert rel[0] == "instances" or len(rel) == 1, f"{p} left in spool/incoming"
        for part in rel[1:]:
            uid = part[:-4] if part.endswith(".dcm") else part
            assert valid_uid(uid), f"spool path component {part!r} is not a valid UID ({p})"


def valid_uid(s: str) -> bool:
    parts = s.split(".")
    return 0 < len(s) <= 64 and all(p.isdigit() for p in parts)


def assert_echo(node):
    assert node.echo() == SUCCESS, f"node no longer answers C-ECHO:\n{node.log_tail()}"


# --------------------------------------------------------------------------------------------
# associations


def associate(port, called=nodeproc.NODE_AE, calling=nodeproc.SENDER_AE, contexts=(nodeproc.VERIFICATION,)):
    """An association request; returns pynetdicom's Association (established, rejected or aborted).

    pynetdicom's requestor has a race of its own: now and then (about 1 in 20 on a loaded machine)
    it reports an A-ASSOCIATE-RJ as an abort with no response primitive, although the node sent the
    RJ PDU and waited for the peer to close (checked with strace). Such an attempt is repeated
    (for up to 10 s; the test fails if no attempt gets an answer)."""
    from pynetdicom import AE

    def answered():
        ae = AE(ae_title=calling)
        ae.acse_timeout = 10
        for c in contexts:
            ae.add_requested_context(c)
        assoc = ae.associate("127.0.0.1", port, ae_title=called)
        if assoc.is_established or assoc.is_rejected or assoc.acceptor.primitive is not None:
            return assoc
        return None

    return nodeproc.wait_until(answered, 10, 0.05, f"an answer to an association request (called {called}, "
                                                   f"calling {calling}): established or A-ASSOCIATE-RJ, not a bare abort")


def assert_rejected(assoc, reason: int):
    assert assoc.is_rejected, ("association must be rejected (A-ASSOCIATE-RJ); got established="
                               f"{assoc.is_established} aborted={assoc.is_aborted} "
                               f"primitive={getattr(assoc.acceptor.primitive, 'result', None)}")
    rj = assoc.acceptor.primitive
    assert (rj.result, rj.result_source, rj.diagnostic) == (REJECTED_PERMANENT, SOURCE_SERVICE_USER, reason), \
        f"A-ASSOCIATE-RJ result/source/reason = {rj.result}/{rj.result_source}/{rj.diagnostic}, " \
        f"expected {REJECTED_PERMANENT}/{SOURCE_SERVICE_USER}/{reason}"


def test_wrong_called_ae_is_rejected(node):
    assert_rejected(associate(node.port, called="NOTLSTV"), REASON_CALLED_AE)
    p = subprocess.run([nodeproc.require_tool("echoscu"), "-aet", nodeproc.SENDER_AE, "-aec", "NOTLSTV",
                        "127.0.0.1", str(node.port)], capture_output=True, text=True, timeout=30)
    assert p.returncode != 0, "echoscu with a wrong called AE title must fail"
    assert "Called AE Title Not Recognized" in p.stdout + p.stderr, p.stdout + p.stderr
    assert_echo(node)


def test_calling_ae_outside_allow_list_is_rejected(node_factory):
    node = node_factory(config={"allowed_calling_ae_titles": ["PACS1", "PACS2"]}, start=False)
    node.start(check_echo=False)  # the tests' own calling AE is not on this list
    assert_rejected(associate(node.port, calling="INTRUDER"), REASON_CALLING_AE)
    p = subprocess.run([nodeproc.require_tool("echoscu"), "-aet", "INTRUDER", "-aec", nodeproc.NODE_AE,
                        "127.0.0.1", str(node.port)], capture_output=True, text=True, timeout=30)
    assert p.returncode != 0 and "Calling AE Title Not Recognized" in p.stdout + p.stderr, p.stdout + p.stderr
    assert node.echo(calling_ae="PACS2") == SUCCESS, "an allowed calling AE must be accepted"


def test_host_outside_allow_list_is_rejected(node_factory):
    node = node_factory(config={"allowed_hosts": ["192.0.2.17"]}, start=False)
    node.start(check_echo=False)  # our own C-ECHO from 127.0.0.1 is refused by this configuration
    assert_rejected(associate(node.port), REASON_NONE)
    p = subprocess.run([nodeproc.require_tool("echoscu"), "-aet", nodeproc.SENDER_AE, "-aec", nodeproc.NODE_AE,
                        "127.0.0.1", str(node.port)], capture_output=True, text=True, timeout=30)
    assert p.returncode != 0 and "Association Rejected" in p.stdout + p.stderr, p.stdout + p.stderr


def test_host_in_allow_list_is_accepted(node_factory):
    """allowed_hosts holds addresses; a peer on 127.0.0.1 listed as 127.0.0.1 must get in."""
    node = node_factory(config={"allowed_hosts": ["127.0.0.1"]}, start=False)
    node.start(check_echo=False)
    assoc = associate(node.port)
    accepted = assoc.is_established
    if accepted:
        assoc.release()
    assert accepted, f"peer 127.0.0.1 rejected although allowed_hosts lists 127.0.0.1:\n{node.log_tail(5)}"


def test_unsupported_sop_class_context_is_rejected(node):
    assoc = associate(node.port, contexts=(nodeproc.VERIFICATION, ULTRASOUND_IMAGE_STORAGE, MR_IMAGE_STORAGE))
    assert assoc.is_established
    try:
        rejected = {str(cx.abstract_syntax): cx.result for cx in assoc.rejected_contexts}
        accepted = {str(cx.abstract_syntax) for cx in assoc.accepted_contexts}
        assert ULTRASOUND_IMAGE_STORAGE in rejected, "Ultrasound Image Storage must not be accepted"
        assert rejected[ULTRASOUND_IMAGE_STORAGE] == 0x03, "reason: abstract syntax not supported"
        assert MR_IMAGE_STORAGE in accepted and nodeproc.VERIFICATION in accepted
    finally:
        assoc.release()


def test_command_sop_class_not_accepted_gets_0122(node, lumbar, tmp_path):
    """A C-STORE whose Affected SOP Class is not an accepted storage class, sent on the MR context."""
    from pynetdicom.dimse_primitives import C_STORE

    ds = real_dataset(lumbar)
    ds.SOPClassUID = ULTRASOUND_IMAGE_STORAGE
    assoc = associate(node.port, contexts=(MR_IMAGE_STORAGE,))
    assert assoc.is_established
    try:
        cx = assoc.accepted_contexts[0]
        req = C_STORE()
        req.MessageID = 7
        req.Priority = 2
        req.AffectedSOPClassUID = ULTRASOUND_IMAGE_STORAGE
        req.AffectedSOPInstanceUID = ds.SOPInstanceUID
        req.DataSet = BytesIO(encode_body(ds))
        status = raw_store(assoc, req, cx.context_id)
    finally:
        if assoc.is_established:
            assoc.release()
    assert status == SOP_CLASS_NOT_SUPPORTED, f"status {status!r}, expected 0x0122"
    assert_spool_clean(node)
    assert_echo(node)


def raw_store(assoc, req, context_id) -> int | None:
    """Sends a prepared C-STORE-RQ on a given context and returns the response status."""
    assoc._reactor_checkpoint.clear()
    nodeproc.wait_until(lambda: assoc._is_paused, 10, 0.0001, "pynetdicom's association reactor paused")
    try:
        assoc.dimse.send_msg(req, context_id)
        _, rsp = assoc.dimse.get_msg(block=True)
    finally:
        assoc._reactor_checkpoint.set()
    return None if rsp is None else int(rsp.Status)


# --------------------------------------------------------------------------------------------
# hostile UIDs


@pytest.mark.filterwarnings("ignore:Invalid value for VR UI")
def test_path_traversal_uids_never_reach_the_file_system(node, lumbar, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    parents = [node.data_dir.parent, node.data_dir.parent.parent]
    before = {p: set(os.listdir(p)) for p in parents}

    good = real_dataset(lumbar)
    good_file = tmp_path / "outside" / "good.dcm"
    good.save_as(good_file, enforce_file_format=True)
    assert send_one(node, good_file) == SUCCESS
    stored_good = node.instance_path(good.StudyInstanceUID, good.SeriesInstanceUID, good.SOPInstanceUID)

    cases = []
    # 1. In the command: AffectedSOPInstanceUID "../../etc" (the data set agrees, so only the
    #    command's UID can be the problem) → 0xC000, checked before anything is written.
    ds = real_dataset(lumbar)
    ds.SOPInstanceUID = "../../etc"
    cases.append(("command SOPInstanceUID", part10(outside / "c1.dcm", encode_body(ds), MR_IMAGE_STORAGE,
                                                   "../../etc"), {CANNOT_UNDERSTAND}))
    # 2. StudyInstanceUID "../../etc" in the data set → 0xA900 (invalid UID in the data set).
    ds = real_dataset(lumbar)
    ds.StudyInstanceUID = "../../etc"
    cases.append(("data set StudyInstanceUID", part10(outside / "c2.dcm", encode_body(ds), MR_IMAGE_STORAGE,
                                                      ds.SOPInstanceUID), {DATASET_DOES_NOT_MATCH_SOP_CLASS}))
    # 3. SeriesInstanceUID with a slash.
    ds = real_dataset(lumbar)
    ds.SeriesInstanceUID = "1.2/../../../x"
    cases.append(("data set SeriesInstanceUID", part10(outside / "c3.dcm", encode_body(ds), MR_IMAGE_STORAGE,
                                                       ds.SOPInstanceUID), {DATASET_DOES_NOT_MATCH_SOP_CLASS}))
    # 4. The data set's SOPInstanceUID "../../etc" while the command's is valid → 0xC000 (mismatch).
    ds = real_dataset(lumbar)
    cmd_uid = ds.SOPInstanceUID
    ds.SOPInstanceUID = "../../etc"
    cases.append(("data set SOPInstanceUID", part10(outside / "c4.dcm", encode_body(ds), MR_IMAGE_STORAGE, cmd_uid),
                  {CANNOT_UNDERSTAND, DATASET_DOES_NOT_MATCH_SOP_CLASS}))

    for what, path, expected in cases:
        status = send_one(node, path)
        assert status in expected, f"{what} '../..': status {status!r}, expected one of {[hex(e) for e in expected]}"
        assert_echo(node)

    assert_spool_clean(node, {stored_good})
    for p in parents:
        assert set(os.listdir(p)) == before[p], f"new entries in {p}: {set(os.listdir(p)) - before[p]}"
    for name in ("etc", "etc.dcm", "x", "x.dcm"):
        for base in (node.data_dir, node.spool, node.instances_dir, node.data_dir.parent):
            assert not (base / name).exists(), f"{base / name} was created"
    # The index knows only the good instance.
    assert nodeproc.run_psql(node.database_url, "select sop_instance_uid from instances").split() == [good.SOPInstanceUID]


@pytest.mark.parametrize("what,mutate,expected", [
    ("missing StudyInstanceUID", lambda ds: delattr(ds, "StudyInstanceUID"), DATASET_DOES_NOT_MATCH_SOP_CLASS),
    ("missing SeriesInstanceUID", lambda ds: delattr(ds, "SeriesInstanceUID"), DATASET_DOES_NOT_MATCH_SOP_CLASS),
    ("empty SeriesInstanceUID", lambda ds: setattr(ds, "SeriesInstanceUID", ""), DATASET_DOES_NOT_MATCH_SOP_CLASS),
    ("SOPClassUID differs from the command", lambda ds: setattr(ds, "SOPClassUID", "1.2.840.10008.5.1.4.1.1.2"),
     DATASET_DOES_NOT_MATCH_SOP_CLASS),
    ("SOPInstanceUID differs from the command", lambda ds: setattr(ds, "SOPInstanceUID", "1.2.3.4.5"),
     CANNOT_UNDERSTAND),
])
def test_dataset_uid_problems_get_documented_status(node, lumbar, tmp_path, what, mutate, expected):
    ds = real_dataset(lumbar)
    sop = ds.SOPInstanceUID
    mutate(ds)
    path = part10(tmp_path / "bad.dcm", encode_body(ds), MR_IMAGE_STORAGE, sop)
    status = send_one(node, path)
    assert status == expected, f"{what}: status {status!r}, expected {expected:#06x}"
    assert_spool_clean(node)
    assert_echo(node)


# --------------------------------------------------------------------------------------------
# garbage and truncation


def test_garbage_data_set_gets_failure_and_node_keeps_serving(node, lumbar, tmp_path):
    rnd = random.Random(20240602)
    garbage = bytes(rnd.getrandbits(8) for _ in range(4096))
    path = part10(tmp_path / "garbage.dcm", garbage, MR_IMAGE_STORAGE, "1.2.826.0.1.3680043.8.498.4242")
    status = send_one(node, path)
    assert status is not None and status >= 0xA000, f"garbage got status {status!r}: must be a failure"
    assert status == CANNOT_UNDERSTAND, f"garbage: status {status:#06x}, expected 0xC000"
    assert_spool_clean(node)
    assert_echo(node)
    # And a good instance still goes through on a new association.
    good = real_dataset(lumbar)
    good_file = tmp_path / "good.dcm"
    good.save_as(good_file, enforce_file_format=True)
    assert send_one(node, good_file) == SUCCESS


@pytest.mark.parametrize("where", ["in the header", "in the pixel data"])
def test_truncated_data_set_gets_failure(node, lumbar, tmp_path, where):
    ds = real_dataset(lumbar)
    body = encode_body(ds)
    if where == "in the header":
        cut = 400  # inside the attributes before the UIDs
    else:
        cut = len(body) - len(ds.PixelData) // 2  # half the pixel data missing
    cut -= cut % 2  # PDV fragments must be even (PS3.7 Annex F)
    path = part10(tmp_path / "truncated.dcm", body[:cut], MR_IMAGE_STORAGE, ds.SOPInstanceUID)
    status = send_one(node, path)
    assert status is not None and status >= 0xA000, f"truncated {where}: status {status!r} must be a failure"
    assert status == CANNOT_UNDERSTAND, f"truncated {where}: status {status:#06x}, expected 0xC000"
    assert_spool_clean(node)
    assert nodeproc.run_psql(node.database_url, "select count(*) from instances").strip() == "0"
    assert_echo(node)


def test_odd_length_fragment_is_answered_not_left_hanging(node, lumbar, tmp_path):
    """PS3.7 Annex F forbids odd PDV fragments; DCMTK refuses the data set. The peer must then get a
    failure status or an A-ABORT at once, not wait for its DIMSE timeout (a PACS would stall)."""
    ds = real_dataset(lumbar)
    body = encode_body(ds) + b"\0"  # odd: one byte too many
    path = part10(tmp_path / "odd.dcm", body, MR_IMAGE_STORAGE, ds.SOPInstanceUID)
    from pynetdicom import AE, _config

    _config.STORE_SEND_CHUNKED_DATASET = True
    ae = AE(ae_title=nodeproc.SENDER_AE)
    ae.dimse_timeout = 12
    ae.add_requested_context(MR_IMAGE_STORAGE, [EXPLICIT_LE])
    assoc = ae.associate("127.0.0.1", node.port, ae_title=nodeproc.NODE_AE)
    assert assoc.is_established
    t0 = time.monotonic()
    try:
        rsp = assoc.send_c_store(path)
    finally:
        elapsed = time.monotonic() - t0
        if assoc.is_established:
            assoc.release()
    status = int(rsp.Status) if "Status" in rsp else None
    assert elapsed < 8, (f"node neither answered nor aborted: the sender waited {elapsed:.1f}s (status {status!r}, "
                         f"aborted={assoc.is_aborted})")
    assert status is None or status >= 0xA000, f"odd-length data set acknowledged with {status:#06x}"
    assert_spool_clean(node)
    assert_echo(node)


# --------------------------------------------------------------------------------------------
# disk


def test_disk_nearly_full_refuses_with_a700_before_writing(node_factory, lumbar, tmp_path):
    node = node_factory(config={"minimum_free_disk_mb": 1_000_000_000})  # 1 PB: never available
    good = real_dataset(lumbar)
    path = tmp_path / "good.dcm"
    good.save_as(path, enforce_file_format=True)
    assert send_one(node, path) == OUT_OF_RESOURCES
    assert_spool_clean(node)
    assert nodeproc.run_psql(node.database_url, "select count(*) from instances").strip() == "0"
    assert_echo(node)
