"""Two nodes, one database (issue 15 item 8): two ``serve`` processes on one PostgreSQL database and
one data dir (so one spool), as behind a TCP load balancer, with the same AE title.

A series arriving half at each node is assembled once, analysed once and each result delivered
once. kill -9 of a node while receiving, analysing or sending loses nothing and duplicates nothing:
the live node takes the dead one's work over (claims whose owner's PostgreSQL session ended, a
receiver whose spool marker is no longer locked) without waiting for its restart, and the restart
changes nothing. A node starting up never removes the partial reception of a transfer the other
node has in flight."""
from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
from pathlib import Path

import pytest

import nodeproc
import pacs
from conftest import SAGITTAL_COUNT
from nodeproc import SUCCESS, StoreResult

ANALYSED = 'msg="series analysed"'


def two_nodes(node_factory, tmp_path: Path, config: dict, quiet_seconds: float = 2.0) -> list[nodeproc.Node]:
    """Nodes "a" and "b" on one data dir and one database, each with its own port and log."""
    shared = tmp_path / "shared"
    return [node_factory(data_dir=shared, log_path=tmp_path / f"node-{name}.log", quiet_seconds=quiet_seconds,
                         config=config) for name in "ab"]


def send_in_background(node: nodeproc.Node, files: list[Path], pause: float = 0.0) -> tuple[threading.Thread, StoreResult]:
    result = StoreResult()
    t = threading.Thread(target=nodeproc.send_files, args=(node.port, files), kwargs=dict(result=result, pause=pause),
                         daemon=True)
    t.start()
    return t, result


def series_state(db: nodeproc.TestDatabase) -> list[str]:
    """(series, instances indexed, distinct paths, revision, state) of every series."""
    return db.psql("SELECT s.series_instance_uid, count(i.*), count(DISTINCT i.path), s.revision, s.state FROM series s "
                   "LEFT JOIN instances i USING (series_instance_uid) GROUP BY 1, 4, 5").split()


def assert_one_of_everything(nodes: list[nodeproc.Node], db: nodeproc.TestDatabase, scp: pacs.StoreSCP, study: str,
                             series: str, attempts: int = 1) -> list[dict]:
    """One series with every instance indexed and on disk once, one analysis, its results once at
    the destination (watched through ``nodes[0]``, the live one); returns the outbox rows."""
    rows = pacs.wait_settled(nodes[0], db, 120)
    assert series_state(db) == [f"{series}|{SAGITTAL_COUNT}|{SAGITTAL_COUNT}|0|complete"]
    on_disk = sorted(p.name for p in (nodes[0].instances_dir / study / series).iterdir())
    assert len(on_disk) == SAGITTAL_COUNT, on_disk
    an = pacs.analyses(db)
    assert [(a["series_instance_uid"], a["state"], a["attempts"]) for a in an] == [(series, "done", attempts)], an
    results = pacs.results(db)
    assert sorted(r["kind"] for r in results) == sorted(pacs.RESULT_KINDS), results
    assert len(rows) == pacs.PER_ANALYSIS and all(r["state"] == "sent" for r in rows), rows
    scp.wait_files(pacs.PER_ANALYSIS, 30)
    pacs.assert_exactly_once(scp, rows)
    return rows


def test_series_half_at_each_node_is_assembled_analysed_and_delivered_once(node_factory, lumbar, tmp_path, database):
    scp = pacs.StoreSCP(tmp_path / "dest")
    try:
        scp.start()
        nodes = two_nodes(node_factory, tmp_path, {"results": {"destinations": [scp.peer]}})
        files = nodeproc.dicom_files(lumbar[0].sagittal)
        study, series = nodeproc.series_uids(lumbar[0].sagittal)
        senders = [send_in_background(n, files[i::2]) for i, n in enumerate(nodes)]
        for t, result in senders:
            t.join(120)
            assert not t.is_alive()
        assert [len(r.acknowledged) for _, r in senders] == [len(files[0::2]), len(files[1::2])], senders
        assert_one_of_everything(nodes, database, scp, study, series)
        assert sum(n.log().count(ANALYSED) for n in nodes) == 1
    finally:
        scp.stop()


class HeldLock:
    """A psql session holding a table lock until released: a node's transaction that needs the
    table waits in the database, where a test can find it and kill its node."""

    def __init__(self, url: str, sql: str):
        self.proc = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.proc.stdin.write(f"BEGIN;\n{sql};\n\\echo locked\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline().strip() == "locked"

    def release(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.write("COMMIT;\n")
            self.proc.stdin.close()
            self.proc.wait(30)


class HeldDestination:
    """A TCP relay in front of a destination that accepts connections but forwards nothing until
    released: a node delivering to it stays in the middle of its association (outbox rows
    ``sending``), with nothing yet at the destination."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.accepted = 0
        self.released = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def peer(self, ae_title: str) -> dict:
        return {"ae_title": ae_title, "host": "127.0.0.1", "port": self.port}

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._relay, args=(conn,), daemon=True).start()

    def _relay(self, conn: socket.socket) -> None:
        self.released.wait()
        with conn, socket.create_connection(("127.0.0.1", self.target_port)) as out:
            def pump(a: socket.socket, b: socket.socket) -> None:
                with contextlib.suppress(OSError):
                    while data := a.recv(65536):
                        b.sendall(data)
                with contextlib.suppress(OSError):
                    b.shutdown(socket.SHUT_WR)
            back = threading.Thread(target=pump, args=(out, conn), daemon=True)
            back.start()
            pump(conn, out)
            back.join(60)

    def close(self) -> None:
        self.released.set()
        self.server.close()


def holder(nodes: list[nodeproc.Node], message: str) -> int:
    """The index of the one node whose current run logged ``message``."""
    which = [i for i, n in enumerate(nodes) if n.running and message in n.log(current_run=True)]
    assert len(which) == 1, f"{message} logged by nodes {which}"
    return which[0]


@pytest.mark.parametrize("phase", ["receiving", "analysing", "sending"])
def test_kill9_of_a_node_in_each_phase_loses_nothing_and_duplicates_nothing(phase, node_factory, lumbar, tmp_path,
                                                                             database):
    scp = pacs.StoreSCP(tmp_path / "dest")
    relay = HeldDestination(scp.port) if phase == "sending" else None
    lock: HeldLock | None = None
    try:
        scp.start()
        dest = relay.peer(scp.ae_title) if relay else scp.peer
        nodes = two_nodes(node_factory, tmp_path, {"results": {"destinations": [dest], "initial_backoff_seconds": 0.5,
                                                               "max_backoff_seconds": 2}})
        files = nodeproc.dicom_files(lumbar[0].sagittal)
        study, series = nodeproc.series_uids(lumbar[0].sagittal)
        sop_of = {f: nodeproc.read_uids(f)[2] for f in files}
        halves = [files[0::2], files[1::2]]

        if phase == "receiving":
            senders = [send_in_background(n, h, pause=0.02) for n, h in zip(nodes, halves)]
            nodeproc.wait_until(lambda: len(senders[0][1].acknowledged) >= 10, 60, 0.002, "node a mid-transfer")
            nodes[0].kill()
            victim = 0
            for t, _ in senders:
                t.join(120)
            acked = set(senders[0][1].acknowledged) | set(senders[1][1].acknowledged)
            assert len(senders[0][1].acknowledged) < len(halves[0]), "the kill must land mid-transfer"
            # As a load balancer would: the PACS sends what was not acknowledged again, to the live node.
            again = nodeproc.send_files(nodes[1].port, [f for f in files if f not in acked])
            assert len(again.acknowledged) == len(files) - len(acked), again
        else:
            if phase == "analysing":
                # The node that claims the analysis waits for this lock in its finishing transaction.
                lock = HeldLock(database.url, "LOCK TABLE analysis_flags IN SHARE ROW EXCLUSIVE MODE")
            senders = [send_in_background(n, h) for n, h in zip(nodes, halves)]
            for t, r in senders:
                t.join(120)
            assert sum(len(r.acknowledged) for _, r in senders) == len(files), senders
            if phase == "analysing":
                nodeproc.wait_until(lambda: database.scalar(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
                ) == "1", 120, 0.1, "the analysis waiting to record its result")
                assert [a["state"] for a in pacs.analyses(database)] == ["running"]
                victim = holder(nodes, 'msg="analysis started"')
            else:
                nodeproc.wait_until(lambda: relay.accepted == 1, 120, 0.05, "a node connected to the held destination")
                assert database.scalar("SELECT string_agg(DISTINCT state, ',') FROM outbox") == "sending"
                victim = holder(nodes, 'msg=delivering ')
            nodes[victim].kill()

        survivor = nodes[1 - victim]
        # The live node takes the work over while the victim is down.
        if phase == "analysing":
            nodeproc.wait_until(lambda: 'msg="analysis started"' in survivor.log(current_run=True), 30, 0.1,
                                "the live node running the dead node's analysis")
            lock.release()
        elif phase == "sending":
            nodeproc.wait_until(lambda: relay.accepted == 2, 30, 0.05, "the live node delivering the dead node's objects")
            relay.released.set()
        rows = assert_one_of_everything([survivor, nodes[victim]], database, scp, study, series,
                                        attempts=2 if phase == "analysing" else 1)
        assert sum(n.log().count(ANALYSED) for n in nodes) == 1
        assert not survivor.partial_files(), "the dead node's partial receptions are left"

        # The restart finds nothing to redo.
        nodes[victim].start()
        assert pacs.outbox(nodes[victim]) == rows
        assert series_state(database) == [f"{series}|{SAGITTAL_COUNT}|{SAGITTAL_COUNT}|0|complete"]
        assert sum(n.log().count(ANALYSED) for n in nodes) == 1
        acknowledged = {sop_of[f] for _, r in senders for f in r.acknowledged}
        indexed = set(database.psql("SELECT sop_instance_uid FROM instances").split())
        assert acknowledged <= indexed
    finally:
        if lock:
            lock.release()
        if relay:
            relay.close()
        scp.stop()


@contextlib.contextmanager
def stalled_c_store():
    """pynetdicom stops in the middle of the next C-STORE's data set (after its first data
    fragment) until ``go`` is set: the receiving node holds a partial file for as long as wanted."""
    from pynetdicom import dimse_messages

    original = dimse_messages.C_STORE_RQ.encode_msg
    stalled, go = threading.Event(), threading.Event()

    def encode(self, context_id, max_pdu_length):
        for n, pdata in enumerate(original(self, context_id, max_pdu_length)):
            yield pdata
            if n == 1 and not stalled.is_set():  # fragment 0 is the command set
                stalled.set()
                go.wait(120)

    dimse_messages.C_STORE_RQ.encode_msg = encode
    try:
        yield stalled, go
    finally:
        go.set()
        dimse_messages.C_STORE_RQ.encode_msg = original


def test_a_node_starting_keeps_the_other_nodes_transfer_in_flight_and_removes_a_dead_ones(node_factory, lumbar,
                                                                                         tmp_path, database):
    a, b = two_nodes(node_factory, tmp_path, {})
    files = nodeproc.dicom_files(lumbar[0].sagittal)
    study, series = nodeproc.series_uids(lumbar[0].sagittal)
    b.terminate()
    with stalled_c_store() as (stalled, go):
        sender, result = send_in_background(a, files)
        assert stalled.wait(60), "the C-STORE did not start"
        nodeproc.wait_until(lambda: a.partial_files(), 30, 0.01, "node a's partial file")
        in_flight = a.partial_files()
        b.start()  # reconciles the shared spool before it listens
        assert a.partial_files() == in_flight, "node b removed node a's transfer in flight"
        go.set()
        sender.join(120)
    assert len(result.acknowledged) == len(files) and all(s == SUCCESS for s in result.statuses.values()), result
    a.wait_complete([series], {series: SAGITTAL_COUNT}, timeout=60)
    assert series_state(database)[0].startswith(f"{series}|{SAGITTAL_COUNT}|{SAGITTAL_COUNT}|")
    assert len(list((a.instances_dir / study / series).iterdir())) == SAGITTAL_COUNT
    assert not a.partial_files()

    # The same moment with node a killed instead: its partial file has no writer, and the live node
    # removes it (at its next check, without a restart of either).
    with stalled_c_store() as (stalled, go):
        sender, result = send_in_background(a, files[:1])
        assert stalled.wait(60)
        nodeproc.wait_until(lambda: a.partial_files(), 30, 0.01, "node a's partial file")
        a.kill()
    sender.join(60)
    nodeproc.wait_until(lambda: not b.partial_files(), 30, 0.1, "node b removing the dead node's partial file")
    assert 'msg="receivers gone; their unacknowledged partial receptions removed"' in b.log(current_run=True)
