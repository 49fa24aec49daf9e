"""Real DICOM peers for the results/outbox tests (issue 5): DCMTK ``storescp`` as a destination,
Orthanc as a PACS, ``storescu`` as a sender, and readers for the node's outbox and flags.

* :class:`StoreSCP`: a ``storescp`` process (``TCP_NODELAY=1``) writing every received object to its
  own directory with unique file names (``+uf``), so a duplicate delivery shows up as a second file.
  It can be started, stopped and started again on the same port and directory, with another AE title.
* :class:`Orthanc`: ``/usr/sbin/Orthanc`` on a throw-away configuration (own storage, free DICOM and
  HTTP ports on localhost, no authentication) and a tiny REST client.
* :func:`storescu`: DCMTK's ``storescu`` (``TCP_NODELAY=1``), files sent as they are.
* :func:`outbox` / :func:`flags` / :func:`wait_outbox`: ``lstv-node outbox list --json`` and
  ``flags list --json`` of a :class:`nodeproc.Node`.
* :func:`sender_passes` / :func:`wait_settled`: positive signals that the node had its chance (a
  sender pass after a point in time; nothing left to do) before a test asserts that nothing happened.
"""
from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import pytest

import nodeproc

COMPREHENSIVE_3D_SR = "1.2.840.10008.5.1.4.1.1.88.34"
ENHANCED_SR = "1.2.840.10008.5.1.4.1.1.88.22"
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
KEY_OBJECT_SELECTION = "1.2.840.10008.5.1.4.1.1.88.59"
# What one analysis produces with the default configuration (results.kind), and so delivers to
# each destination: the SR, the key image, the Key Object Selection.
RESULT_KINDS = {"sr", "key_image", "kos"}
PER_ANALYSIS = len(RESULT_KINDS)


def _env_nodelay() -> dict:
    env = dict(os.environ)
    env["TCP_NODELAY"] = "1"
    return env


# --------------------------------------------------------------------------------------------
# storescp as a destination


class PeerProcess:
    """A peer program run for a test: its process, its log file, and how it is stopped."""

    grace: float = 10  # seconds a SIGTERM gets before SIGKILL
    log_lines: int = 30

    def __init__(self, directory: Path, ae_title: str, log_path: Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.ae_title = ae_title
        self.log_path = Path(log_path)
        self.proc: subprocess.Popen | None = None
        self._log = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        nodeproc.terminate(self.proc, grace=self.grace)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int | None = None) -> str:
        return nodeproc.tail(self.log_path, lines or self.log_lines)


class StoreSCP(PeerProcess):
    """DCMTK ``storescp`` on 127.0.0.1:``port`` with AE title ``ae_title``, objects into ``directory``.

    Every received object becomes its own file (``+uf``: unique names), so counting files counts
    deliveries. :meth:`received` maps SOP Instance UID → list of files holding it.
    """

    def __init__(self, directory: Path, *, ae_title: str = "DEST", port: int | None = None,
                 log_path: Path | None = None):
        directory = Path(directory)
        super().__init__(directory, ae_title,
                         Path(log_path) if log_path else directory.parent / f"{directory.name}-storescp.log")
        self.port = port or nodeproc.free_port()

    @property
    def peer(self) -> dict:
        """The destination as the node's configuration spells it."""
        return {"ae_title": self.ae_title, "host": "127.0.0.1", "port": self.port}

    def start(self, ae_title: str | None = None, *, refuse: bool = False, sop_classes: Sequence[str] | None = None,
              tls: tuple[Path, Path, Path] | None = None, timeout: float = 20) -> "StoreSCP":
        """Starts storescp and waits until it answers (a C-ECHO, or, with ``refuse``, an A-ASSOCIATE-RJ).

        Note: storescp 3.6.7 does not check the called AE title (it accepts any), so a refusing
        destination is made with ``--refuse`` (every association rejected permanently).
        ``sop_classes``: accept only these storage SOP classes (DCMTK dictionary names, e.g.
        ``SecondaryCaptureImageStorage``; Verification is always accepted), through a
        ``-xf`` association profile: the others' presentation contexts are rejected.
        ``tls``: (private key, certificate, trusted CA) PEM files: DICOM TLS only (BCP 195 profile),
        a client certificate the CA signed required."""
        assert not self.running, "storescp already running"
        if ae_title:
            self.ae_title = ae_title
        exe = nodeproc.require_tool("storescp")
        self._log = open(self.log_path, "ab")
        cmd = [exe, "-v", "-dhl", "-aet", self.ae_title, "-od", str(self.directory), "+uf"]
        if sop_classes:
            cfg = self.directory.parent / f"{self.directory.name}-storescp.cfg"
            contexts = "\n".join(f"PresentationContext{i + 1} = {name}\\Uncompressed"
                                 for i, name in enumerate(["VerificationSOPClass", *sop_classes]))
            cfg.write_text("[[TransferSyntaxes]]\n[Uncompressed]\nTransferSyntax1 = LocalEndianExplicit\n"
                           "TransferSyntax2 = OppositeEndianExplicit\nTransferSyntax3 = LittleEndianImplicit\n\n"
                           f"[[PresentationContexts]]\n[Limited]\n{contexts}\n\n"
                           "[[Profiles]]\n[Limited]\nPresentationContexts = Limited\n")
            cmd += ["-xf", str(cfg), "Limited"]
        if tls:
            key, cert, ca = tls
            cmd += ["+tls", str(key), str(cert), "+cf", str(ca), "+px", "--require-peer-cert"]
        if refuse:
            cmd.append("--refuse")  # A-ASSOCIATE-RJ, rejected-permanent (service user, no reason given)
        self.proc = subprocess.Popen(cmd + [str(self.port)],
                                     stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
                                     env=_env_nodelay())

        def answers() -> bool:
            if self.proc.poll() is not None:
                pytest.fail(f"storescp exited with {self.proc.returncode}:\n{self.log_tail()}")
            return self._answers(refuse or tls is not None)

        nodeproc.wait_until(answers, timeout, 0.1,
                            f"storescp answering {'a connection' if refuse else 'C-ECHO'} on port {self.port}",
                            lambda: f"storescp log:\n{self.log_tail()}")
        return self

    def _answers(self, listening_only: bool) -> bool:
        """A C-ECHO succeeds; or (refusing, or TLS, which the probe does not speak) the port accepts."""
        if not listening_only:
            return nodeproc.echo(self.port, self.ae_title, "PROBE") == nodeproc.SUCCESS
        import socket
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def files(self) -> list[Path]:
        return sorted(p for p in self.directory.iterdir() if p.is_file() and not p.name.startswith("."))

    def received(self) -> dict[str, list[Path]]:
        """SOP Instance UID → the files that hold it (more than one = delivered more than once)."""
        import pydicom

        out: dict[str, list[Path]] = {}
        for f in self.files():
            ds = pydicom.dcmread(f, stop_before_pixels=True)
            out.setdefault(str(ds.SOPInstanceUID), []).append(f)
        return out

    def wait_files(self, count: int, timeout: float) -> list[Path]:
        """Waits until ``count`` files are there; returns the files (more, if more arrived).

        To assert that no more arrive, wait for the node to be idle first (:func:`wait_settled`)."""
        nodeproc.wait_until(lambda: len(self.files()) >= count, timeout, 0.05,
                            f"{count} objects at storescp {self.ae_title}:{self.port}",
                            lambda: f"files: {[p.name for p in self.files()]}\nstorescp log:\n{self.log_tail()}")
        return self.files()


# --------------------------------------------------------------------------------------------
# storescu as a sender


def storescu(port: int, files: Sequence[Path], *, called_ae: str = nodeproc.NODE_AE,
             calling_ae: str = nodeproc.SENDER_AE, timeout: float = 120,
             options: Sequence[str] = ()) -> subprocess.CompletedProcess:
    """``storescu`` (TCP_NODELAY=1) of ``files`` over one association; fails the test on an error.
    ``options`` go before the address (e.g. ``-R``: propose only the files' SOP classes, for one
    that storescu's default list lacks)."""
    exe = nodeproc.require_tool("storescu")
    p = subprocess.run([exe, "-aet", calling_ae, "-aec", called_ae, *options, "127.0.0.1", str(port), *map(str, files)],
                       capture_output=True, text=True, timeout=timeout, env=_env_nodelay())
    if p.returncode != 0:
        pytest.fail(f"storescu exited {p.returncode}: {p.stderr[-2000:]}")
    return p


# --------------------------------------------------------------------------------------------
# Orthanc


class Orthanc(PeerProcess):
    """``/usr/sbin/Orthanc`` on its own storage, DICOM port and HTTP port (127.0.0.1 only)."""

    grace = 30
    log_lines = 40

    def __init__(self, directory: Path, *, modalities: dict[str, list] | None = None, ae_title: str = "ORTHANC"):
        super().__init__(directory, ae_title, Path(directory) / "orthanc.log")
        self.dicom_port = nodeproc.free_port()
        self.http_port = nodeproc.free_port()
        self.modalities = modalities or {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def peer(self) -> dict:
        return {"ae_title": self.ae_title, "host": "127.0.0.1", "port": self.dicom_port}

    def start(self, timeout: float = 60) -> "Orthanc":
        exe = "/usr/sbin/Orthanc"
        if not os.access(exe, os.X_OK):
            pytest.fail("Orthanc not installed (/usr/sbin/Orthanc): apt-get install orthanc", pytrace=False)
        config = {
            "Name": "lstv-itest",
            "StorageDirectory": str(self.directory / "storage"),
            "IndexDirectory": str(self.directory / "index"),
            "DicomAet": self.ae_title,
            "DicomPort": self.dicom_port,
            "HttpPort": self.http_port,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "DicomModalities": self.modalities,
            "DicomAlwaysAllowStore": True,
            "DicomAlwaysAllowEcho": True,
            "Plugins": [],
            "StorageCompression": False,
            "ConcurrentJobs": 1,
            "HttpTimeout": 60,
        }
        cfg = self.directory / "orthanc.json"
        cfg.write_text(json.dumps(config, indent=2))
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([exe, str(cfg)], stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, cwd=self.directory)

        def up() -> bool:
            if self.proc.poll() is not None:
                pytest.fail(f"Orthanc exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                self.get("/system")
                return True
            except (urllib.error.URLError, ConnectionError, OSError):
                return False

        nodeproc.wait_until(up, timeout, 0.2, f"Orthanc's REST API on {self.url}",
                            lambda: f"Orthanc log:\n{self.log_tail()}")
        return self

    # REST -------------------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None,
                 timeout: float = 120) -> bytes:
        req = urllib.request.Request(self.url + path, data=body, method=method)
        if content_type:
            req.add_header("Content-Type", content_type)
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.read()

    def get(self, path: str) -> Any:
        return json.loads(self._request("GET", path))

    def get_bytes(self, path: str) -> bytes:
        return self._request("GET", path)

    def post(self, path: str, payload: Any, timeout: float = 300) -> Any:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        ctype = "application/dicom" if isinstance(payload, bytes) else "application/json"
        out = self._request("POST", path, data, ctype, timeout=timeout)
        return json.loads(out) if out.strip() else None

    def upload(self, files: Iterable[Path]) -> set[str]:
        """``POST /instances`` of each file; the Orthanc IDs of the studies they belong to."""
        studies = set()
        for f in files:
            r = self.post("/instances", Path(f).read_bytes())
            studies.add(r["ParentStudy"])
        return studies

    def series_of_study(self, study_id: str) -> list[dict]:
        return self.get(f"/studies/{study_id}/series")


# --------------------------------------------------------------------------------------------
# The node's outbox and flags


def outbox(node: nodeproc.Node) -> list[dict]:
    """``lstv-node outbox list --json``."""
    return node.cli_list("outbox", "list")


def flags(node: nodeproc.Node, *args: str) -> list[dict]:
    """``lstv-node flags list [ARGS] --json``."""
    return node.cli_list("flags", "list", *args)


def wait_outbox(node: nodeproc.Node, predicate: Callable[[list[dict]], bool], timeout: float,
                what: str = "outbox state") -> list[dict]:
    """Polls ``outbox list --json`` until ``predicate(rows)`` holds; returns the rows."""
    seen: list[list[dict]] = [[]]

    def holds() -> tuple[list[dict]] | None:
        seen[0] = outbox(node)
        return (seen[0],) if predicate(seen[0]) else None

    return nodeproc.wait_until(holds, timeout, 0.2, what,
                               lambda: f"outbox:\n{json.dumps(seen[0], indent=1)[:4000]}\n"
                                       f"node log:\n{node.log_tail(30)}")[0]


def sender_passes(node: nodeproc.Node, probe_id: int, passes: int = 2, timeout: float = 20) -> dict:
    """Positive proof that the node's outbox sender has made ``passes`` passes after this call.

    ``probe_id`` is an outbox row whose destination fails (down, or refusing): ``outbox retry``
    makes it due now with ``attempts`` 0, and a recorded attempt (``attempts`` >= 1) shows that a
    pass claimed it, in the same claim that would have picked up any other due row. Each pass runs
    after the previous one finished (one sender thread), so after two, everything the first pass
    claimed has been delivered and recorded. Returns the probe's row after the last pass."""
    pid = str(probe_id)
    row: dict = {}
    for n in range(passes):
        # The retry is refused while the probe itself is being sent ('sending'): try again.
        nodeproc.wait_until(lambda: node.cli("outbox", "retry", pid, check=False).returncode == 0, 10, 0.05,
                            f"`outbox retry {pid}` accepted (pass {n + 1} of {passes})")
        rows = wait_outbox(node, lambda rows: any(r["id"] == probe_id and r["attempts"] >= 1 for r in rows), timeout,
                           f"a sender pass that attempted probe delivery {pid} again (pass {n + 1} of {passes})")
        [row] = [r for r in rows if r["id"] == probe_id]
    return row


def wait_settled(node: nodeproc.Node, db: nodeproc.TestDatabase, timeout: float) -> list[dict]:
    """Waits until the node has nothing left to do: every series complete (or purged), every
    analysis finished, every delivery sent or dead. Returns the outbox rows.

    The outbox rows of an analysis are written in the transaction that finishes it, so once no
    analysis is pending or running and no series is receiving, no new result can appear."""
    seen: list = [None, None, None]

    def idle() -> tuple[list[dict]] | None:
        seen[0] = node.series()
        seen[1] = analyses(db)
        seen[2] = outbox(node)
        if any(s["state"] not in ("complete", "purged") for s in seen[0]):
            return None
        if any(a["state"] not in ("done", "failed") for a in seen[1]):
            return None
        if any(r["state"] not in ("sent", "dead") for r in seen[2]):
            return None
        return (seen[2],)

    return nodeproc.wait_until(idle, timeout, 0.2, "the node idle (series complete, analyses finished, "
                                                  "deliveries sent or dead)",
                               lambda: f"series: {[(s['series_instance_uid'], s['state']) for s in seen[0] or []]}\n"
                                       f"analyses: {seen[1]}\noutbox: {json.dumps(seen[2], indent=1)[:3000]}\n"
                                       f"node log:\n{node.log_tail(30)}")[0]


def assert_exactly_once(scp: StoreSCP, rows: list[dict]) -> None:
    """Every outbox row's object is at the destination in exactly one file, and nothing else is."""
    received = scp.received()
    dup = {uid: [p.name for p in ps] for uid, ps in received.items() if len(ps) != 1}
    assert not dup, f"delivered more than once: {dup}"
    assert set(received) == {r["sop_instance_uid"] for r in rows}, (sorted(received), rows)
    log = scp.log_path.read_text(errors="replace")
    assert log.count("Received Store Request") == len(rows), f"storescp saw {log.count('Received Store Request')} " \
                                                               f"C-STOREs for {len(rows)} objects"


def analyses(db: nodeproc.TestDatabase) -> list[dict]:
    """Rows of the ``analyses`` table (id, series, revision, state, attempts), in id order."""
    out = db.psql("SELECT coalesce(json_agg(json_build_object('id', id, 'series_instance_uid', series_instance_uid, "
                  "'series_revision', series_revision, 'state', state, 'attempts', attempts, 'risk', risk, "
                  "'error', error) ORDER BY id), '[]') FROM analyses")
    return json.loads(out.strip() or "[]")


def results(db: nodeproc.TestDatabase) -> list[dict]:
    """Rows of the ``results`` table, in id order."""
    out = db.psql("SELECT coalesce(json_agg(json_build_object('id', id, 'analysis_id', analysis_id, 'kind', kind, "
                  "'sop_class_uid', sop_class_uid, 'sop_instance_uid', sop_instance_uid, 'series_instance_uid', "
                  "series_instance_uid, 'path', path, 'predecessor', predecessor_sop_instance_uid) ORDER BY id), '[]') "
                  "FROM results")
    return json.loads(out.strip() or "[]")


def node_with_dead_destination(node_factory, tmp_path: Path):
    """A node with a viewer and an admin token (``token create``) whose one destination never
    listens, so its deliveries die after one attempt: (node, viewer token, admin token)."""
    viewer, viewer_record = nodeproc.create_token("reading-room", "viewer")
    admin, admin_record = nodeproc.create_token("pacs-admin", "admin")
    dest = StoreSCP(tmp_path / "dest")  # never started
    node = node_factory(quiet_seconds=1.0, config={
        "http": {"tokens": [viewer_record, admin_record]},
        "results": {"destinations": [dest.peer], "max_attempts": 1}})
    return node, viewer, admin
