"""Association negotiation off the listener thread, bounds per host, malformed requests answered.

The listener only accepts TCP connections; each connection's A-ASSOCIATE-RQ is read on its own
thread. So a connection that sends nothing (a port scan, a load balancer's health check) delays no
other sender; a host over ``max_associations_per_peer`` gets A-ASSOCIATE-RJ (transient, local limit
exceeded); and every malformed request gets an A-ABORT or A-ASSOCIATE-RJ PDU back (PS3.8 9.3) while
the node keeps serving.
"""
from __future__ import annotations

import socket
import struct
import subprocess
import time

import pytest

from nodeproc import NODE_AE, SENDER_AE, SUCCESS, VERIFICATION, _ae, echo, require_tool

IMPLICIT_VR_LE = "1.2.840.10008.1.2"
APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"

# PDU types (PS3.8 9.3.1).
A_ASSOCIATE_RQ = 0x01
A_ASSOCIATE_RJ = 0x03
P_DATA_TF = 0x04
A_RELEASE_RQ = 0x05
A_ABORT = 0x07
ANSWERS = {A_ASSOCIATE_RJ: "A-ASSOCIATE-RJ", A_ABORT: "A-ABORT"}

# A-ASSOCIATE-RJ fields (PS3.8 9.3.4): rejected-transient, service-provider (presentation), local-limit-exceeded.
REJECTED_TRANSIENT = 0x02
SOURCE_PROVIDER_PRESENTATION = 0x03
LOCAL_LIMIT_EXCEEDED = 0x02

ACSE_TIMEOUT = 20  # the node's, in the idle-connection test
PROMPT = 5  # a C-ECHO beside an idle connection must finish well inside the ACSE timeout


def item(kind: int, body: bytes) -> bytes:
    return struct.pack(">BBH", kind, 0, len(body)) + body


def association_rq(called: str = NODE_AE, calling: str = SENDER_AE, *, version: int = 1,
                   context: str = APPLICATION_CONTEXT) -> bytes:
    """An A-ASSOCIATE-RQ PDU proposing Verification (PS3.8 9.3.2)."""
    presentation = item(0x20, bytes([1, 0, 0, 0]) + item(0x30, VERIFICATION.encode()) + item(0x40, IMPLICIT_VR_LE.encode()))
    user = item(0x50, item(0x51, struct.pack(">I", 16384)) + item(0x52, b"1.2.826.0.1.3680043.9.7433.1"))
    body = (struct.pack(">HH", version, 0) + called.encode().ljust(16) + calling.encode().ljust(16) + bytes(32)
            + item(0x10, context.encode()) + presentation + user)
    return struct.pack(">BBI", A_ASSOCIATE_RQ, 0, len(body)) + body


def pdu(kind: int, body: bytes) -> bytes:
    return struct.pack(">BBI", kind, 0, len(body)) + body


def answer_to(port: int, data: bytes, *, half_close: bool, timeout: float) -> bytes:
    """Sends ``data`` on a fresh connection and returns what the node sent back (until it closed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        received = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(4096)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            received += chunk
        return received


def timed_echo_pynetdicom(port: int) -> tuple[int | None, float]:
    started = time.monotonic()
    status = echo(port)
    return status, time.monotonic() - started


def timed_echoscu(port: int) -> tuple[int, float]:
    started = time.monotonic()
    p = subprocess.run([require_tool("echoscu"), "-aet", SENDER_AE, "-aec", NODE_AE, "-to", "30", "-ta", "30",
                        "127.0.0.1", str(port)], capture_output=True, text=True, timeout=60)
    return p.returncode, time.monotonic() - started


def test_idle_connection_does_not_delay_other_senders(node_factory):
    node = node_factory(config={"acse_timeout_seconds": ACSE_TIMEOUT})
    idle = [socket.create_connection(("127.0.0.1", node.port)) for _ in range(3)]
    try:
        status, seconds = timed_echo_pynetdicom(node.port)
        assert status == SUCCESS, node.log_tail()
        assert seconds < PROMPT, f"pynetdicom C-ECHO took {seconds:.1f}s beside idle connections (ACSE timeout {ACSE_TIMEOUT}s)"
        rc, seconds = timed_echoscu(node.port)
        assert rc == 0, node.log_tail()
        assert seconds < PROMPT, f"echoscu took {seconds:.1f}s beside idle connections (ACSE timeout {ACSE_TIMEOUT}s)"
        # The idle connections are still open: the echoes did not wait for them to be dropped.
        for s in idle:
            s.setblocking(False)
            with pytest.raises(BlockingIOError):
                s.recv(1)
    finally:
        for s in idle:
            s.close()


def test_host_over_its_bound_gets_transient_reject(node_factory):
    per_peer = 2
    node = node_factory(config={"max_associations_per_peer": per_peer})
    held = []
    try:
        for _ in range(per_peer):
            ae = _ae()
            ae.add_requested_context(VERIFICATION)
            assoc = ae.associate("127.0.0.1", node.port, ae_title=NODE_AE)
            assert assoc.is_established, node.log_tail()
            held.append(assoc)

        from pynetdicom import evt

        received = []
        ae = _ae()
        ae.add_requested_context(VERIFICATION)
        assoc = ae.associate("127.0.0.1", node.port, ae_title=NODE_AE,
                             evt_handlers=[(evt.EVT_ACSE_RECV, lambda event: received.append(event.primitive))])
        assert assoc.is_rejected, f"association {per_peer + 1} from one host must be rejected\n{node.log_tail()}"
        rj = received[-1]
        assert (rj.result, rj.result_source, rj.diagnostic) == (REJECTED_TRANSIENT, SOURCE_PROVIDER_PRESENTATION,
                                                               LOCAL_LIMIT_EXCEEDED)
        node.wait_for_log("max_associations_per_peer", 10)
    finally:
        for a in held:
            a.release()
    # Once the host's associations are released, it is served again.
    assert echo(node.port) == SUCCESS, node.log_tail()


def test_malformed_association_requests_are_answered(node_factory):
    acse = 3  # the truncated request held open is answered when the ACSE time has passed
    node = node_factory(config={"acse_timeout_seconds": acse})
    rq = association_rq()
    cases = {
        # wrong PDU type for a first PDU
        "P-DATA-TF first": (pdu(P_DATA_TF, bytes(12)), True),
        "A-RELEASE-RQ first": (pdu(A_RELEASE_RQ, bytes(4)), True),
        "unknown PDU type 0x09": (pdu(0x09, bytes(8)), True),
        # bad lengths
        "A-ASSOCIATE-RQ of length 0": (pdu(A_ASSOCIATE_RQ, b""), True),
        "item longer than the PDU": (pdu(A_ASSOCIATE_RQ, rq[6:74] + struct.pack(">BBH", 0x10, 0, 0x4000) + b"1.2"), True),
        "PDU length 2 GiB": (struct.pack(">BBI", A_ASSOCIATE_RQ, 0, 0x7FFFFFF0) + rq[6:], True),
        # truncated: the peer stops half-way, closing its side or holding the connection open
        "truncated, then half-closed": (rq[: len(rq) // 2], True),
        "truncated, then silent": (rq[: len(rq) // 2], False),
        # garbage
        "HTTP request": (b"GET / HTTP/1.1\r\nHost: dicom\r\n\r\n", True),
        "TLS client hello on the plain port": (bytes.fromhex("160301002e0100002a0303") + bytes(40), True),
        # well-formed but unacceptable
        "protocol version 2 only": (association_rq(version=2), True),
        "unknown application context": (association_rq(context="1.2.3.4"), True),
        "unknown item instead of the presentation context": (rq.replace(b"\x20\x00\x00\x2e", b"\x74\x00\x00\x2e"), True),
    }
    wrong = {}
    for name, (data, half_close) in cases.items():
        reply = answer_to(node.port, data, half_close=half_close, timeout=acse + 10)
        if not reply or reply[0] not in ANSWERS:
            wrong[name] = reply[:16].hex() or "nothing"
    assert not wrong, f"requests not answered with A-ASSOCIATE-RJ or A-ABORT: {wrong}\n{node.log_tail()}"
    # One log line per attempt, naming the peer and what it was answered.
    log = node.wait_for_log("association request from 127.0.0.1", 10, count=len(cases))
    assert log.count("association request from 127.0.0.1") == len(cases), node.log_tail(len(cases) + 10)
    assert echo(node.port) == SUCCESS, f"node no longer answers C-ECHO:\n{node.log_tail()}"
