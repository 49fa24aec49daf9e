"""Durability: kill -9 in the middle of a transfer loses nothing acknowledged and duplicates nothing;
SIGTERM during a transfer finishes the association in flight, refuses new ones and exits 0."""
from __future__ import annotations

import threading
import time

import nodeproc
from conftest import SAGITTAL_COUNT
from nodeproc import SUCCESS, StoreResult


def start_sender(node, files, pause=0.0, **kw):
    result = StoreResult()
    t = threading.Thread(target=nodeproc.send_files, args=(node.port, files),
                         kwargs=dict(result=result, pause=pause, **kw), daemon=True)
    t.start()
    return t, result


def indexed_sops(node, series_uid: str) -> list[str]:
    out = nodeproc.run_psql(node.database_url,
                            f"select sop_instance_uid from instances where series_instance_uid = '{series_uid}'")
    return out.split()


def series_files(node, study: str, series: str) -> list[str]:
    d = node.instances_dir / study / series
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def assert_consistent(node, study: str, series: str, expected: int | None = None):
    """Index and spool agree: one row per file, one file per SOP instance, no duplicates."""
    sops = indexed_sops(node, series)
    files = series_files(node, study, series)
    assert len(sops) == len(set(sops)), "duplicate SOP instances in the index"
    assert sorted(f"{s}.dcm" for s in sops) == files, \
        f"index ({len(sops)} rows) and spool ({len(files)} files) disagree"
    paths = nodeproc.run_psql(node.database_url, "select count(*), count(distinct path) from instances "
                                                 f"where series_instance_uid = '{series}'").strip()
    assert paths == f"{len(sops)}|{len(sops)}"
    listing = node.series_by_uid()[series]
    assert listing["instances"] == len(sops), f"series list says {listing['instances']}, index holds {len(sops)}"
    if expected is not None:
        assert len(sops) == expected
    return sops


def test_kill9_mid_transfer_loses_nothing_acknowledged(node_factory, lumbar):
    node = node_factory()
    files = nodeproc.dicom_files(lumbar[0].sagittal)
    study, series = nodeproc.series_uids(lumbar[0].sagittal)
    sop_of = {f: nodeproc.read_uids(f)[2] for f in files}

    thread, result = start_sender(node, files, pause=0.02)
    nodeproc.wait_until(lambda: len(result.acknowledged) >= 30, 60, 0.002, "30 acknowledged instances")
    node.kill()
    thread.join(60)
    assert not thread.is_alive(), "sender did not notice the node's death"
    acked = {sop_of[f] for f in result.acknowledged}
    assert 30 <= len(acked) < len(files), f"the kill must land mid-transfer ({len(acked)} acknowledged)"
    # The files the node acknowledged are on disk even before any restart.
    on_disk = set(f[:-4] for f in series_files(node, study, series))
    assert acked <= on_disk, f"acknowledged but not in the spool: {sorted(acked - on_disk)[:5]}"

    node.start()
    listing = node.wait_complete([series], timeout=30)
    sops = set(assert_consistent(node, study, series))
    assert acked <= sops, f"acknowledged instances missing from the index after restart: {sorted(acked - sops)[:5]}"
    assert len(sops) <= len(acked) + 1, "at most the one instance in flight may exist unacknowledged"
    assert listing[series]["route"] == "localizer"
    assert not node.partial_files(), "partial receptions left in spool/incoming after restart"

    # The PACS re-sends the whole series: every instance acknowledged, nothing stored twice.
    again = nodeproc.send_files(node.port, files)
    assert len(again.acknowledged) == len(files), again
    node.wait_complete([series], {series: SAGITTAL_COUNT}, timeout=30)
    assert_consistent(node, study, series, expected=SAGITTAL_COUNT)
    assert len(nodeproc.spool_files(node)) == SAGITTAL_COUNT


def test_kill9_before_indexing_is_reconciled_at_restart(node_factory, lumbar, database):
    """Acknowledged instances whose index rows were never written (a kill -9 right after the
    acknowledgement) are indexed from the spool at the next start."""
    node = node_factory(quiet_seconds=1.0)
    files = nodeproc.dicom_files(lumbar[1].sagittal)
    study, series = nodeproc.series_uids(lumbar[1].sagittal)
    r = nodeproc.send_files(node.port, files)
    assert len(r.acknowledged) == len(files), r
    node.kill()
    # Simulate the index lagging behind the spool at the moment of the kill: drop the rows.
    database.psql(f"delete from instances where series_instance_uid = '{series}'; "
                  f"delete from series where series_instance_uid = '{series}'")
    node.start()
    node.wait_complete([series], {series: SAGITTAL_COUNT}, timeout=30)
    assert_consistent(node, study, series, expected=SAGITTAL_COUNT)


def test_kill9_during_the_move_replays_the_journal(node_factory, lumbar):
    """Acknowledged instances are durable in the spool journal before the spool layout is: with
    the mover held (LSTV_SPOOL_HOLD_JOURNAL, so nothing is retired), a kill -9 leaves every record
    live. What a power cut may do to a layout never synced is done by hand (files gone, files
    empty); the restart replays the journal, byte for byte, and indexes everything once."""
    node = node_factory(env={"LSTV_SPOOL_HOLD_JOURNAL": "1"})
    files = nodeproc.dicom_files(lumbar[0].axial)
    study, series = nodeproc.series_uids(lumbar[0].axial)
    r = nodeproc.send_files(node.port, files)
    assert len(r.acknowledged) == len(files), r
    stored = {p.name: p.read_bytes() for p in (node.instances_dir / study / series).iterdir()}
    assert len(stored) == len(files)
    journals = list(node.incoming_dir.glob("*.journal"))
    assert len(journals) == 1, journals
    node.kill()

    names = sorted(stored)
    for name in names[0::2]:
        (node.instances_dir / study / series / name).unlink()
    for name in names[1::2]:
        (node.instances_dir / study / series / name).write_bytes(b"")
    node.env = {}
    node.start()
    node.wait_for_log("receivers gone; their journals replayed", 30, "the journal replay at start")
    assert f"replayed={len(files)}" in node.log(current_run=True), node.log_tail()
    node.wait_complete([series], {series: len(files)}, timeout=30)
    assert_consistent(node, study, series, expected=len(files))
    for name, data in stored.items():
        assert (node.instances_dir / study / series / name).read_bytes() == data, f"{name} differs after replay"
    assert not journals[0].exists(), "the dead receiver's journal was not removed after its replay"
    assert not node.partial_files()

    # Retired records are not replayed again: a clean stop retires everything and leaves no journal.
    assert node.terminate() == 0
    assert not list(node.incoming_dir.glob("*.journal")), "a clean stop left a journal"


def test_sigterm_during_transfer_finishes_in_flight_and_exits_0(node_factory, lumbar):
    grace = 20
    node = node_factory(config={"shutdown_grace_seconds": grace})
    files = nodeproc.dicom_files(lumbar[2].sagittal)
    study, series = nodeproc.series_uids(lumbar[2].sagittal)
    sop_of = {f: nodeproc.read_uids(f)[2] for f in files}

    # ~3 s of transfer at this pace: SIGTERM lands early in it.
    thread, result = start_sender(node, files, pause=0.03)
    nodeproc.wait_until(lambda: len(result.acknowledged) >= 10, 60, 0.002, "10 acknowledged instances")
    t0 = time.monotonic()
    node.proc.send_signal(15)
    # While the association in flight finishes, no new association is accepted: once the node says
    # it is stopping, and while the sender is still in the middle of its transfer.
    node.wait_for_log('msg="stopping: no new associations', 10, "the node's stopping message after SIGTERM")
    in_flight = thread.is_alive()
    refused = new_association_refused(node.port)
    rc = node.wait(grace + 10)
    elapsed = time.monotonic() - t0
    thread.join(30)
    assert rc == 0, f"exit status {rc} after SIGTERM"
    assert elapsed < grace, f"took {elapsed:.1f}s to exit (grace {grace}s)"
    assert in_flight, f"the transfer had ended before the new association was tried: {result}"
    assert refused, "a new association was accepted after SIGTERM"
    assert "msg=stopped" in node.log(current_run=True)
    acked = {sop_of[f] for f in result.acknowledged}
    assert len(acked) > 10, "the association in flight was not allowed to continue"
    assert len(acked) == len(files), f"association in flight cut short: {result}"
    assert not list(node.incoming_dir.iterdir()), "partial files in spool/incoming after a clean stop"

    node.start()
    assert not node.partial_files(), "partial files in spool/incoming after restart"
    node.wait_complete([series], timeout=30)
    sops = set(assert_consistent(node, study, series))
    assert acked <= sops, f"acknowledged but not indexed after restart: {sorted(acked - sops)[:5]}"


def new_association_refused(port: int) -> bool:
    from pynetdicom import AE

    ae = AE(ae_title=nodeproc.SENDER_AE)
    ae.acse_timeout = 3
    ae.network_timeout = 3
    ae.add_requested_context(nodeproc.VERIFICATION)
    assoc = ae.associate("127.0.0.1", port, ae_title=nodeproc.NODE_AE)
    if assoc.is_established:
        assoc.release()
        return False
    return True


def test_sigterm_with_a_stalled_peer_exits_after_the_grace_period(node_factory, lumbar):
    """A peer that keeps its association open and idle cannot hold the node past the grace period."""
    from pynetdicom import AE

    grace = 2
    node = node_factory(config={"shutdown_grace_seconds": grace})
    ae = AE(ae_title=nodeproc.SENDER_AE)
    ae.add_requested_context(nodeproc.VERIFICATION)
    assoc = ae.associate("127.0.0.1", node.port, ae_title=nodeproc.NODE_AE)
    assert assoc.is_established
    try:
        assert int(assoc.send_c_echo().Status) == SUCCESS
        t0 = time.monotonic()
        node.proc.send_signal(15)
        rc = node.wait(grace + 15)
        elapsed = time.monotonic() - t0
    finally:
        if assoc.is_established:
            assoc.abort()
    assert rc == 0, f"exit status {rc}"
    assert grace - 0.5 <= elapsed <= grace + 7, f"exited after {elapsed:.1f}s with grace {grace}s"
