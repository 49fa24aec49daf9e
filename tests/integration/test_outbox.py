"""The durable outbox (issue 5) against a real destination (DCMTK storescp): a destination down for
a while gets everything exactly once when it returns; kill -9 between analysis and sending delivers
once after the restart; a permanent refusal is dead at once and `outbox retry` revives it; a
transient failure that outlasts max_attempts ends dead."""
from __future__ import annotations

import time

import nodeproc
import pacs

FAST_RETRY = {"initial_backoff_seconds": 0.5, "max_backoff_seconds": 2}


def send_sagittal(node, lumbar) -> str:
    files = nodeproc.dicom_files(lumbar[0].sagittal)
    r = nodeproc.send_files(node.port, files)
    assert len(r.acknowledged) == len(files), r
    return nodeproc.series_uids(lumbar[0].sagittal)[1]


def by_id(rows: list[dict]) -> dict[int, dict]:
    return {r["id"]: r for r in rows}


def to(rows: list[dict], scp: pacs.StoreSCP) -> list[dict]:
    """The rows of deliveries to ``scp``."""
    return [r for r in rows if r["destination"] == f"{scp.ae_title}@127.0.0.1:{scp.port}"]


def test_destination_down_for_a_while_then_delivered_exactly_once(node_factory, lumbar, tmp_path):
    scp = pacs.StoreSCP(tmp_path / "dest")  # configured, not running yet
    # Never started: its deliveries keep failing, a probe for the sender's passes (pacs.sender_passes).
    probe = pacs.StoreSCP(tmp_path / "probe", ae_title="PROBE")
    try:
        node = node_factory(quiet_seconds=1.0, config={"results": {"destinations": [scp.peer, probe.peer],
                                                                   **FAST_RETRY}})
        send_sagittal(node, lumbar)
        # Analysis done, deliveries failing: pending, at least one attempt, the reason recorded.
        everything = pacs.wait_outbox(node, lambda rows: len(rows) == 2 * pacs.PER_ANALYSIS and all(
            r["state"] == "pending" and r["attempts"] >= 2 and r["last_error"] for r in to(rows, scp)), 60,
            "every delivery to DEST pending with >= 2 failed attempts")
        rows = to(everything, scp)
        assert len(rows) == pacs.PER_ANALYSIS and {r["kind"] for r in rows} == pacs.RESULT_KINDS, everything
        assert len(to(everything, probe)) == pacs.PER_ANALYSIS, everything
        assert not scp.files()

        scp.start()
        started = time.monotonic()
        scp.wait_files(pacs.PER_ANALYSIS, 10)
        # Backoff is capped at 2 s, so both arrive within a few seconds of the destination's return.
        assert time.monotonic() - started < 8, "delivery took longer than the backoff cap (2 s) allows"
        sent = to(pacs.wait_outbox(node, lambda rows: all(r["state"] == "sent" for r in to(rows, scp)), 10,
                                   "both sent"), scp)
        # A stray retry of a delivered object would be claimed by the sender's next pass: two passes
        # after the deliveries were recorded, nothing about them has changed.
        pacs.sender_passes(node, to(everything, probe)[0]["id"])
        final = to(pacs.outbox(node), scp)
        assert final == sent, "outbox changed after delivery"
        before = by_id(rows)
        for r in final:
            assert r["last_status"] == "0x0000" and r["last_error"] is None and r["sent_at"], r
            # attempts counts the failures seen while pending plus the successful one
            assert r["attempts"] >= before[r["id"]]["attempts"] + 1, (before[r["id"]], r)
        pacs.assert_exactly_once(scp, final)
    finally:
        scp.stop()


def test_kill9_between_analysis_and_sending_delivered_once_after_restart(node_factory, lumbar, tmp_path, database):
    scp = pacs.StoreSCP(tmp_path / "dest")
    probe = pacs.StoreSCP(tmp_path / "probe", ae_title="PROBE")  # never started (see the test above)
    try:
        node = node_factory(quiet_seconds=1.0, config={"results": {"destinations": [scp.peer, probe.peer],
                                                                   **FAST_RETRY}})
        series = send_sagittal(node, lumbar)
        everything = pacs.wait_outbox(node, lambda rows: len(rows) == 2 * pacs.PER_ANALYSIS and all(
            r["state"] == "pending" and r["attempts"] >= 1 for r in rows), 60, "every delivery pending")
        pending = to(everything, scp)
        assert len(pending) == pacs.PER_ANALYSIS, everything
        node.kill()
        assert database.scalar("SELECT count(*) FROM outbox WHERE state <> 'sent'") == str(2 * pacs.PER_ANALYSIS)

        scp.start()
        node.start()
        scp.wait_files(pacs.PER_ANALYSIS, 30)
        sent = to(pacs.wait_outbox(node, lambda rows: len(to(rows, scp)) == pacs.PER_ANALYSIS and all(
            r["state"] == "sent" for r in to(rows, scp)), 15, "all sent after the restart"), scp)
        # Two sender passes after the deliveries were recorded: no stray second delivery.
        pacs.sender_passes(node, to(everything, probe)[0]["id"])
        assert to(pacs.outbox(node), scp) == sent
        assert {r["sop_instance_uid"] for r in sent} == {r["sop_instance_uid"] for r in pending}
        pacs.assert_exactly_once(scp, sent)
        # The restart resumed the delivery; it did not analyse again nor produce new objects.
        an = pacs.analyses(database)
        assert [(a["series_instance_uid"], a["state"], a["attempts"]) for a in an] == [(series, "done", 1)], an
        assert len(pacs.results(database)) == pacs.PER_ANALYSIS
        assert node.log(current_run=True).count('msg="series analysed"') == 0
    finally:
        scp.stop()


def test_refused_is_dead_at_once_retry_revives_it_and_transient_failures_end_dead(node_factory, lumbar, tmp_path):
    refusing = pacs.StoreSCP(tmp_path / "refusing", ae_title="REFUSER")
    down = pacs.StoreSCP(tmp_path / "down", ae_title="DOWN")  # never started: connection refused
    try:
        refusing.start(refuse=True)
        node = node_factory(quiet_seconds=1.0, config={"results": {
            "destinations": [refusing.peer, down.peer], "max_attempts": 2,
            "initial_backoff_seconds": 0.5, "max_backoff_seconds": 1}})
        send_sagittal(node, lumbar)
        rows = pacs.wait_outbox(node, lambda rows: len(rows) == 2 * pacs.PER_ANALYSIS and all(
            r["state"] == "dead" for r in rows), 60, "every delivery dead")
        refused = [r for r in rows if r["destination"].startswith("REFUSER@")]
        transient = [r for r in rows if r["destination"].startswith("DOWN@")]
        assert len(refused) == pacs.PER_ANALYSIS and len(transient) == pacs.PER_ANALYSIS, rows
        for r in refused:
            # Dead at once: one attempt, the rejection as the reason.
            assert r["attempts"] == 1, r
            assert "reject" in (r["last_error"] or "").lower(), r
        for r in transient:
            assert r["attempts"] == 2, r
            assert r["last_error"], r
        assert not refusing.files()

        # A dead delivery stays dead: nothing more is attempted. Proof that the sender looked: the
        # first refused delivery, retried while the destination still refuses, is dead again at once
        # (twice), and the other three did not move.
        probe = pacs.sender_passes(node, refused[0]["id"])
        assert probe["state"] == "dead" and probe["attempts"] == 1, probe
        assert "reject" in (probe["last_error"] or "").lower(), probe
        now = by_id(pacs.outbox(node))
        assert [now[r["id"]] for r in rows if r["id"] != probe["id"]] == [r for r in rows if r["id"] != probe["id"]], \
            "a dead delivery was attempted again"
        assert not refusing.files()

        # The destination is fixed; `outbox retry ID` revives each refused delivery.
        refusing.stop()
        refusing.start()
        for r in refused:
            p = node.cli("outbox", "retry", str(r["id"]))
            assert str(r["id"]) in p.stdout
            now = by_id(pacs.outbox(node))[r["id"]]
            assert now["state"] in ("pending", "sending", "sent"), now
            if now["state"] == "pending":
                assert now["attempts"] == 0, now
        refusing.wait_files(pacs.PER_ANALYSIS, 15)
        after = pacs.wait_outbox(node, lambda rows: all(by_id(rows)[r["id"]]["state"] == "sent" for r in refused), 15,
                                 "retried deliveries sent")
        for r in refused:
            assert by_id(after)[r["id"]]["attempts"] == 1 and by_id(after)[r["id"]]["last_status"] == "0x0000"
        for r in transient:
            assert by_id(after)[r["id"]] == r, "an untouched dead delivery changed"
        # Two sender passes after the retried deliveries were recorded (a transient delivery,
        # retried while its destination is still down, as the probe): no stray second delivery.
        pacs.sender_passes(node, transient[0]["id"])
        now = by_id(pacs.outbox(node))
        assert [now[r["id"]] for r in refused] == [by_id(after)[r["id"]] for r in refused], \
            "a delivered object was attempted again"
        received = refusing.received()
        assert set(received) == {r["sop_instance_uid"] for r in refused}
        assert all(len(v) == 1 for v in received.values()), received

        # A delivered object is not re-sent by `outbox retry`.
        p = node.cli("outbox", "retry", str(refused[0]["id"]), check=False)
        assert p.returncode != 0, "outbox retry accepted a delivery that was already sent"
        assert by_id(pacs.outbox(node))[refused[0]["id"]]["state"] == "sent"
    finally:
        refusing.stop()
        down.stop()


def test_destination_without_the_sr_sop_class_still_gets_the_key_image(node_factory, lumbar, tmp_path):
    """A PACS that does not accept Comprehensive 3D SR (many older ones accept only Basic/Enhanced/
    Comprehensive SR) rejects that presentation context but accepts Secondary Capture.

    Expected: the key image is delivered; the SR and the Key Object Selection, refused for good (SOP
    class not supported, the association-level twin of 0122), are dead at once with the reason, for
    `outbox retry` after the PACS or `results.sr_document` is changed. Retrying them with backoff
    cannot help, and they must not hold back the key image that travels in the same association."""
    scp = pacs.StoreSCP(tmp_path / "dest", ae_title="OLDPACS")
    try:
        scp.start(sop_classes=["SecondaryCaptureImageStorage"])
        node = node_factory(quiet_seconds=1.0, config={"results": {
            "destinations": [scp.peer], "max_attempts": 3, "initial_backoff_seconds": 0.5,
            "max_backoff_seconds": 1}})
        send_sagittal(node, lumbar)
        rows = pacs.wait_outbox(node, lambda rows: len(rows) == pacs.PER_ANALYSIS and all(
            r["state"] in ("sent", "dead") for r in rows), 60, "every delivery settled (sent or dead)")
        kinds = {r["kind"]: r for r in rows}
        assert kinds["key_image"]["state"] == "sent", \
            f"the key image was not delivered because the SR's SOP class was refused: {kinds['key_image']}"
        assert [p.name.split(".")[0] for p in scp.files()] == ["SC"]
        sr = kinds["sr"]
        assert sr["state"] == "dead" and sr["attempts"] == 1, f"SOP class not accepted must be dead at once: {sr}"
        assert "1.2.840.10008.5.1.4.1.1.88.34" in (sr["last_error"] or ""), sr
        kos = kinds["kos"]
        assert kos["state"] == "dead" and kos["attempts"] == 1, kos
        assert pacs.KEY_OBJECT_SELECTION in (kos["last_error"] or ""), kos
    finally:
        scp.stop()
