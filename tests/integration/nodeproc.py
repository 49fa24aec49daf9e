"""Helpers for integration tests that run a real lstv-node against a real PostgreSQL.

Everything a test needs to drive the node as a black box:

* :func:`require_env` / :func:`node_binary` / :func:`lumbar_dicom_dir`: the environment the suite
  runs in (``scripts/test.sh`` exports ``LSTV_NODE_BIN`` and ``LSTV_TEST_DATABASE_URL``). A missing
  piece FAILS the test with a message saying what to do; a real-component test is never skipped.
* :class:`TestDatabase`: a throw-away database on the test cluster (one per test).
* :class:`Node`: one ``lstv-node serve`` process (start, wait until listening, SIGTERM, SIGKILL,
  restart on the same data dir and database, ``series list --json``, polling helpers).
* :func:`free_port`, :func:`wait_until`, :func:`send_files` (pynetdicom C-STORE of files, raw bytes),
  :func:`echo`, :func:`spool_files`, :func:`send_marker_series`.

The fixtures in ``conftest.py`` wrap these (``database``, ``node_factory``, ``node``, ``lumbar``).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence
from urllib.parse import urlsplit, urlunsplit

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

#: The small localizer model the tests run the node with (the analysis tests' fixture): ingestion
#: tests do not care what the model says, and a small one keeps analysis cheap on CI's 2 cores.
#: ``LSTV_TEST_MODEL`` overrides it; a test may pass ``config={"model": ...}`` itself.
TEST_MODEL = Path(__file__).resolve().parent / "fixtures" / "analyze" / "reference_small.safetensors"

#: The AE title the node answers to in the tests (the product default).
NODE_AE = "LSTVNODE"
#: The calling AE title the tests' senders use.
SENDER_AE = "ITEST"

VERIFICATION = "1.2.840.10008.1.1"
MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
ULTRASOUND_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.6.1"

# DIMSE statuses (PS3.4 / PS3.7) the node documents.
SUCCESS = 0x0000
SOP_CLASS_NOT_SUPPORTED = 0x0122
OUT_OF_RESOURCES = 0xA700
DATASET_DOES_NOT_MATCH_SOP_CLASS = 0xA900
CANNOT_UNDERSTAND = 0xC000


# --------------------------------------------------------------------------------------------
# Environment


def require_env(name: str, hint: str = "run the suite with scripts/test.sh (make test)") -> str:
    """The value of an environment variable the suite needs, or a test failure (never a skip)."""
    value = os.environ.get(name, "")
    if not value:
        pytest.fail(f"{name} is not set: {hint}", pytrace=False)
    return value


def node_binary() -> str:
    """The lstv-node executable under test (``LSTV_NODE_BIN``)."""
    path = require_env("LSTV_NODE_BIN", "build with `swift build` and export LSTV_NODE_BIN=$PWD/.build/debug/lstv-node "
                                        "(scripts/test.sh does both)")
    if not os.access(path, os.X_OK):
        pytest.fail(f"LSTV_NODE_BIN={path} is not an executable file", pytrace=False)
    return path


def lumbar_dicom_dir() -> Path:
    """The shared lumbar MRI studies: ``<repo>/../shared/data/lumbar/dicom`` (or ``LSTV_TEST_DICOM_DIR``)."""
    override = os.environ.get("LSTV_TEST_DICOM_DIR")
    path = Path(override) if override else REPO_ROOT.parent / "shared" / "data" / "lumbar" / "dicom"
    if not path.is_dir():
        pytest.fail(f"shared DICOM data not found at {path} (the repository is expected to be cloned with shared/ "
                    "beside it; or set LSTV_TEST_DICOM_DIR)", pytrace=False)
    return path


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        pytest.fail(f"{name} not found on PATH (scripts/bootstrap.sh --test installs it)", pytrace=False)
    return path


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate: Callable[[], Any], timeout: float, interval: float = 0.1, what: str = "condition",
               details: Callable[[], str] | None = None) -> Any:
    """Polls ``predicate`` until it returns something truthy; returns it, or fails after ``timeout`` s.

    The one polling helper of the suite. ``what`` names the condition in the failure message;
    ``details`` (called only on a timeout) adds what helps to see why (a listing, a log tail). A
    predicate may itself fail the test at once when waiting longer cannot help (a process exited)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() > deadline:
            extra = f"\n{details()}" if details else ""
            pytest.fail(f"timed out after {timeout:g}s waiting for {what} (last value: {last!r}){extra}")
        time.sleep(interval)


# --------------------------------------------------------------------------------------------
# PostgreSQL


class TestDatabase:
    """A database created on the test cluster (``LSTV_TEST_DATABASE_URL``) and dropped by :meth:`drop`."""

    __test__ = False  # not a pytest test class

    def __init__(self, name: str | None = None):
        self.admin_url = require_env("LSTV_TEST_DATABASE_URL",
                                     "start a cluster: export LSTV_TEST_DATABASE_URL=$(LSTV_PG_FAST=1 scripts/pg.sh "
                                     "start /tmp/itest-pg) (scripts/test.sh does this)")
        require_tool("psql")
        self.name = name or f"t_{uuid.uuid4().hex[:12]}"
        parts = urlsplit(self.admin_url)
        self.url = urlunsplit((parts.scheme, parts.netloc, "/" + self.name, parts.query, parts.fragment))
        run_psql(self.admin_url, f'CREATE DATABASE "{self.name}"')

    def psql(self, sql: str) -> str:
        """Runs SQL in this database; returns psql's unaligned, tuples-only output."""
        return run_psql(self.url, sql)

    def scalar(self, sql: str) -> str:
        return self.psql(sql).strip()

    def drop(self) -> None:
        run_psql(self.admin_url, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)', check=False)


def run_psql(url: str, sql: str, check: bool = True) -> str:
    p = subprocess.run(["psql", url, "-X", "-v", "ON_ERROR_STOP=1", "-Atc", sql], capture_output=True, text=True,
                       timeout=60)
    if check and p.returncode != 0:
        pytest.fail(f"psql failed ({p.returncode}) for {sql!r}: {p.stderr.strip()}")
    return p.stdout


# --------------------------------------------------------------------------------------------
# The node


class Node:
    """One ``lstv-node serve`` process on its own data dir, database and port.

    ``config`` (a dict) is written as the YAML file passed with ``--config`` (JSON is YAML), with
    ``model`` defaulting to :data:`TEST_MODEL`; the port, data dir, database URL, AE title and
    quiet period are passed as flags; the web face listens on 127.0.0.1:``http_port`` (a free port
    unless given; 0 turns it off) and :attr:`http_url` reaches it. stdout and stderr (logfmt)
    goes to ``log_path``; :meth:`log` reads it. The object can be started again after a stop or a
    kill: same data dir, same database, same port.
    """

    def __init__(self, data_dir: Path, database_url: str, *, port: int | None = None, ae_title: str = NODE_AE,
                 quiet_seconds: float = 2.0, config: dict | None = None, log_path: Path | None = None,
                 http_port: int | None = None, env: dict[str, str] | None = None):
        self.binary = node_binary()
        self.env = dict(env or {})  # added to the process environment (a test's debug hooks)
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url
        self.port = port or free_port()
        self.ae_title = ae_title
        self.quiet_seconds = quiet_seconds
        self.http_port = free_port() if http_port is None else http_port
        self.config = dict(config or {})
        self.config.setdefault("http", {}).setdefault("host", "127.0.0.1")
        if "model" not in self.config:
            model = os.environ.get("LSTV_TEST_MODEL") or (str(TEST_MODEL) if TEST_MODEL.is_file() else None)
            if model:
                self.config["model"] = model
        self.log_path = Path(log_path) if log_path else self.data_dir.parent / f"{self.data_dir.name}-node.log"
        self.proc: subprocess.Popen | None = None
        self._log_file = None
        self._log_offset = 0  # where the current run's output starts in the log

    # paths -----------------------------------------------------------------------------------
    @property
    def spool(self) -> Path:
        return self.data_dir / "spool"

    @property
    def instances_dir(self) -> Path:
        return self.spool / "instances"

    @property
    def incoming_dir(self) -> Path:
        return self.spool / "incoming"

    def partial_files(self) -> list[str]:
        """Names of the partial receptions in spool/incoming (``*.part``; beside them, each running
        node's receiver marker ``*.receiver``)."""
        return sorted(p.name for p in self.incoming_dir.glob("*.part"))

    def receiver_files(self) -> set[Path]:
        """The running receivers' own files in incoming/: each one's flock'd marker and, beside
        it, its spool journal (`<token>.journal`, where instances are made durable)."""
        markers = set(self.incoming_dir.glob("*.receiver"))
        journals = {m.with_suffix(".journal") for m in markers}
        return markers | {j for j in journals if j.exists()}

    @property
    def http_url(self) -> str:
        scheme = "https" if self.config.get("http", {}).get("tls") else "http"
        return f"{scheme}://127.0.0.1:{self.http_port}"

    def admin_token(self) -> str:
        """The admin token the node printed on its first start (tests configure no tokens)."""
        found = re.search(r"admin token \(shown once, keep it\): (\S+)", self.log_path.read_text(errors="replace"))
        assert found, f"no admin token in the node's output:\n{self.log_tail()}"
        return found.group(1)

    def instance_path(self, study: str, series: str, sop: str) -> Path:
        return self.instances_dir / study / series / f"{sop}.dcm"

    # lifecycle -------------------------------------------------------------------------------
    def command(self) -> list[str]:
        cmd = [self.binary, "serve", "--data-dir", str(self.data_dir), "--database-url", self.database_url,
               "--port", str(self.port), "--ae-title", self.ae_title, "--quiet-seconds", str(self.quiet_seconds),
               "--http-port", str(self.http_port)]
        if self.config:
            cfg = self.data_dir.parent / f"{self.data_dir.name}-config.yaml"
            cfg.write_text(json.dumps(self.config, indent=2))
            cmd += ["--config", str(cfg)]
        return cmd

    def start(self, timeout: float = 60, check_echo: bool = True) -> "Node":
        """Starts the process and waits for ``msg=listening`` and (unless ``check_echo`` is False, for
        configurations that refuse the tests' own peer) a successful C-ECHO."""
        assert not self.running, "node already running"
        self._log_file = open(self.log_path, "ab")
        self._log_offset = self._log_file.tell()
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=self._log_file,
                                     stderr=subprocess.STDOUT, env={**os.environ, **self.env})
        self.wait_for_log("msg=listening", timeout, "msg=listening (lstv-node started)")
        if check_echo and echo(self.port, self.ae_title) != SUCCESS:
            pytest.fail(f"lstv-node logged msg=listening but C-ECHO failed:\n{self.log_tail()}")
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM and wait; returns the exit code (fails the test if it does not exit in time)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def kill(self) -> None:
        """SIGKILL (kill -9): no chance to clean up."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._close_log()

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"lstv-node did not exit within {timeout}s:\n{self.log_tail()}")
        self._close_log()
        return rc

    def stop(self) -> None:
        """Teardown: SIGTERM, then SIGKILL if it hangs. Never fails."""
        terminate(self.proc, grace=45)
        self._close_log()

    def restart(self, timeout: float = 60) -> "Node":
        if self.running:
            self.stop()
        return self.start(timeout)

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    # observation ------------------------------------------------------------------------------
    def log(self, current_run: bool = False) -> str:
        if not self.log_path.exists():
            return ""
        data = self.log_path.read_bytes()
        if current_run:
            data = data[self._log_offset:]
        return data.decode("utf-8", "replace")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def wait_for_log(self, text: str, timeout: float, what: str | None = None, count: int = 1) -> str:
        """Waits until the current run's log holds ``text`` (``count`` times); returns that log.

        Fails at once when the process exits first (unless the text is already there)."""
        def logged() -> str | None:
            log = self.log(current_run=True)
            if log.count(text) >= count:
                return log
            if self.proc is not None and self.proc.poll() is not None:
                pytest.fail(f"lstv-node exited with {self.proc.returncode} before logging {text!r}:\n{self.log_tail()}")
            return None

        return wait_until(logged, timeout, 0.05, what or f"{text!r} in the node log",
                          lambda: f"node log:\n{self.log_tail()}")

    def cli(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        """Runs ``lstv-node ARGS --database-url URL`` (an admin command against this node's database)."""
        p = subprocess.run([self.binary, *args, "--database-url", self.database_url], capture_output=True, text=True,
                           timeout=timeout)
        if check and p.returncode != 0:
            pytest.fail(f"lstv-node {' '.join(args)} exited {p.returncode}: {p.stderr.strip()}")
        return p

    def cli_list(self, *args: str) -> list[dict]:
        """``lstv-node ARGS --json`` of a listing command (series, outbox, flags): its JSON array."""
        out = self.cli(*args, "--json").stdout
        what = " ".join(a for a in args if not a.startswith("-"))
        try:
            data = json.loads(out)
        except json.JSONDecodeError as e:
            pytest.fail(f"{what} --json printed invalid JSON ({e}): {out[:500]!r}")
        assert isinstance(data, list), f"{what} --json must print an array, got {type(data).__name__}"
        return data

    def series(self) -> list[dict]:
        """``lstv-node series list --json``."""
        return self.cli_list("series", "list")

    def series_by_uid(self) -> dict[str, dict]:
        return {s["series_instance_uid"]: s for s in self.series()}

    def wait_for_series(self, predicate: Callable[[dict[str, dict]], bool], timeout: float = 30,
                        what: str = "series state") -> dict[str, dict]:
        """Polls ``series list`` until ``predicate(series_by_uid)`` holds; returns that listing."""
        seen: list[dict[str, dict]] = [{}]

        def holds() -> tuple[dict[str, dict]] | None:
            seen[0] = self.series_by_uid()
            return (seen[0],) if predicate(seen[0]) else None

        return wait_until(holds, timeout, 0.2, what,
                          lambda: f"series list:\n{json.dumps(list(seen[0].values()), indent=1)[:4000]}\n"
                                  f"node log:\n{self.log_tail()}")[0]

    def wait_complete(self, series_uids: Iterable[str], counts: dict[str, int] | None = None,
                      timeout: float = 30) -> dict[str, dict]:
        """Waits until every listed series is ``complete`` (with the given instance counts, if any)."""
        uids = list(series_uids)

        def done(listing: dict[str, dict]) -> bool:
            for uid in uids:
                s = listing.get(uid)
                if s is None or s["state"] != "complete":
                    return False
                if counts and uid in counts and s["instances"] != counts[uid]:
                    return False
            return True

        return self.wait_for_series(done, timeout, f"series {uids} complete")

    def echo(self, calling_ae: str = SENDER_AE) -> int | None:
        return echo(self.port, self.ae_title, calling_ae)


def spool_files(node: Node) -> list[Path]:
    """Every committed instance file in the node's spool."""
    return sorted(node.instances_dir.rglob("*.dcm")) if node.instances_dir.exists() else []


# --------------------------------------------------------------------------------------------
# DICOM senders (pynetdicom)


def _ae(calling_ae: str = SENDER_AE):
    from pynetdicom import AE

    ae = AE(ae_title=calling_ae)
    ae.acse_timeout = 15
    ae.dimse_timeout = 15
    ae.network_timeout = 30
    return ae


def echo(port: int, called_ae: str = NODE_AE, calling_ae: str = SENDER_AE, tls_args=None) -> int | None:
    """C-ECHO (over TLS with ``tls_args``: pynetdicom's (ssl.SSLContext, server hostname)); the status,
    or None when no association could be established."""
    ae = _ae(calling_ae)
    ae.add_requested_context(VERIFICATION)
    assoc = ae.associate("127.0.0.1", port, ae_title=called_ae, tls_args=tls_args)
    if not assoc.is_established:
        return None
    try:
        status = assoc.send_c_echo()
        return int(status.Status) if "Status" in status else None
    finally:
        assoc.release()


def file_meta_of(path: Path):
    """(SOP class, SOP instance, transfer syntax) from a Part 10 file's meta header."""
    from pynetdicom.dsutils import split_dataset

    meta, _ = split_dataset(Path(path))
    return str(meta.MediaStorageSOPClassUID), str(meta.MediaStorageSOPInstanceUID), str(meta.TransferSyntaxUID)


def dataset_bytes(path: Path) -> bytes:
    """The encoded data set of a Part 10 file: everything after the File Meta Information."""
    from pynetdicom.dsutils import split_dataset

    _, offset = split_dataset(Path(path))
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read()


class StoreResult:
    """What a sender saw: one entry per file, the status or None (no response / association gone).

    Safe to read from another thread while :func:`send_files` fills it (e.g. to kill the node after
    the 30th acknowledgement)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._statuses: dict[Path, int | None] = {}
        self.errors: list[str] = []
        # Files re-sent after the sender saw no response within its DIMSE timeout (see send_files).
        self.resent: list[str] = []

    def record(self, path: Path, status: int | None) -> None:
        with self._lock:
            self._statuses[Path(path)] = status

    @property
    def statuses(self) -> dict[Path, int | None]:
        with self._lock:
            return dict(self._statuses)

    @property
    def acknowledged(self) -> list[Path]:
        return [p for p, s in self.statuses.items() if s == SUCCESS]

    def __repr__(self) -> str:
        bad = {str(p): s for p, s in self.statuses.items() if s != SUCCESS}
        return f"StoreResult({len(self.acknowledged)} ok, failures={bad}, errors={self.errors})"


def terminate(proc: subprocess.Popen | None, grace: float) -> None:
    """SIGTERM a peer process, SIGKILL it if it has not exited after ``grace`` seconds."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)


def tail(path: Path, lines: int) -> str:
    """The last lines of a log file ("" if it does not exist)."""
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def send_files(port: int, files: Sequence[Path], *, called_ae: str = NODE_AE, calling_ae: str = SENDER_AE,
               transfer_syntaxes: Sequence[str] | None = None, result: StoreResult | None = None,
               pause: float = 0.0, stop: Callable[[], bool] | None = None) -> StoreResult:
    """Sends Part 10 files with C-STORE over one association, the data set bytes exactly as in the file.

    pynetdicom's chunked mode is used: the command's SOP class/instance come from the meta header and
    the bytes after the meta header go on the wire unchanged (no decoding, so garbage can be sent).
    Presentation contexts: one per SOP class found, proposing ``transfer_syntaxes`` (default: each
    file's own transfer syntax). ``result`` is filled as responses arrive, so another thread can
    watch progress; a broken association ends the loop with the remaining files absent from it.
    """
    from pynetdicom import _config

    _config.STORE_SEND_CHUNKED_DATASET = True
    result = result if result is not None else StoreResult()
    ae = _ae(calling_ae)
    contexts: dict[str, set[str]] = {}
    for f in files:
        sop_class, _, ts = file_meta_of(f)
        contexts.setdefault(sop_class, set()).update(transfer_syntaxes or [ts])
    for sop_class, ts in contexts.items():
        ae.add_requested_context(sop_class, sorted(ts))
    assoc = ae.associate("127.0.0.1", port, ae_title=called_ae)
    if not assoc.is_established:
        result.errors.append("association not established")
        return result
    retried: set[Path] = set()
    try:
        pending = list(files)
        while pending:
            f = pending[0]
            if stop and stop():
                break
            started = time.monotonic()
            try:
                status = assoc.send_c_store(Path(f))
            except Exception as e:  # association died under us (kill -9) or no context
                result.errors.append(f"{f.name}: {type(e).__name__}: {e}")
                result.record(f, None)
                break
            code = int(status.Status) if "Status" in status else None
            timed_out = code is None and time.monotonic() - started >= ae.dimse_timeout - 1
            if timed_out and f not in retried and not (stop and stop()):
                # pynetdicom's chunked sender occasionally waits out its DIMSE timeout for a
                # response the node did send (the node's log shows the instance stored and the
                # association back at the next command). A real SCU re-sends on a new association;
                # the node acknowledges the duplicate. Recorded, and done once per file.
                retried.add(f)
                result.resent.append(f.name)
                print(f"send_files: no response for {f.name} within the DIMSE timeout; re-sent on a new association")
                assoc = ae.associate("127.0.0.1", port, ae_title=called_ae)
                if not assoc.is_established:
                    result.record(f, None)
                    break
                continue
            result.record(f, code)
            pending.pop(0)
            if code is None and not assoc.is_established:
                break
            if pause:
                time.sleep(pause)  # paces the sender (shapes the input); asserts nothing
    finally:
        if assoc.is_established:
            assoc.release()
    return result


def dicom_files(directory: Path) -> list[Path]:
    """The ``*.dcm`` files of a series folder, in name order."""
    files = sorted(Path(directory).glob("*.dcm"))
    assert files, f"no .dcm files in {directory}"
    return files


def read_uids(path: Path) -> tuple[str, str, str]:
    """(StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID) of a file's data set."""
    import pydicom

    ds = pydicom.dcmread(path, stop_before_pixels=True)
    return str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID)


def send_marker_series(node: Node, template: Path, directory: Path) -> str:
    """Sends a new one-instance series to ``node`` and returns its Series Instance UID.

    The instance is ``template`` with a fresh Series and SOP Instance UID, written under
    ``directory``. Use an axial image: the series routes to ``ignored`` (no analysis, no results).

    A positive signal that the node has had its chance with everything sent before: the assembler
    completes quiet series in order of their last instance, all in one transaction per tick, and
    counts received but not yet indexed instances as activity. So once this series (sent after the
    others) is complete, every instance received before it is indexed, and every series it touched
    has been completed again (with its analysis job, for the localizer) in that tick or an earlier
    one. Wait for it with :meth:`Node.wait_complete`; an ignored series is then purged after
    ``ignored_retention_hours``, which makes it a marker for the retention sweep too."""
    import pydicom
    from pydicom.uid import generate_uid

    ds = pydicom.dcmread(template)
    ds.SeriesInstanceUID = generate_uid()
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"marker-{ds.SeriesInstanceUID}.dcm"
    ds.save_as(path, enforce_file_format=True)
    r = send_files(node.port, [path])
    assert r.acknowledged == [path], f"marker series not acknowledged: {r}"
    return str(ds.SeriesInstanceUID)


def series_uids(directory: Path) -> tuple[str, str]:
    """(StudyInstanceUID, SeriesInstanceUID) of a series folder (all its files must agree)."""
    uids = {read_uids(f)[:2] for f in dicom_files(directory)}
    assert len(uids) == 1, f"{directory} holds more than one series: {uids}"
    return uids.pop()


def create_token(name: str, role: str) -> tuple[str, dict]:
    """``lstv-node token create``: the token (shown once) and its ``http.tokens`` record."""
    p = subprocess.run([node_binary(), "token", "create", "--name", name, "--role", role],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    secret = re.search(r"token \(shown once; give it to \S+\): (\S+)", p.stdout).group(1)
    line = re.search(r"\{name: (\S+), role: (\w+), sha256: ([0-9a-f]{64})\}", p.stdout)
    return secret, {"name": line.group(1), "role": line.group(2), "sha256": line.group(3)}
