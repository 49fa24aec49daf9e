"""The audit trail (issue 15, item 6): DICOM audit messages (PS3.15 A.5, IHE ATNA) in a file of their
own and to a syslog collector, for what a hospital must be able to trace: the node's start and stop,
its configuration, who sent which study, where the results went, refused associations, sign-ins.
The operational log stays free of patient data; the audit trail is where the patient ID appears.
"""
from __future__ import annotations

import re
import socket
import stat
import threading
import xml.etree.ElementTree as ET

import pydicom
import requests

import nodeproc
import pacs

RECORD = re.compile(r"^<85>1 (\S+) (\S+) lstv-node (\d+) IHE\+RFC-3881 - \ufeff(<AuditMessage>.*</AuditMessage>)$")


class SyslogCollector:
    """A UDP syslog collector (RFC 5426) on a free loopback port: one record per datagram."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.records: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                data, _ = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            self.records.append(data.decode("utf-8"))

    def close(self):
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


def messages(lines: list[str]) -> list[ET.Element]:
    out = []
    for line in lines:
        m = RECORD.match(line)
        assert m, f"not an RFC 5424 audit record: {line[:200]}"
        out.append(ET.fromstring(m.group(4)))
    return out


def event(m: ET.Element) -> tuple[str, list[str]]:
    ident = m.find("EventIdentification")
    return ident.find("EventID").get("csd-code"), [t.get("csd-code") for t in ident.findall("EventTypeCode")]


def of(ms, code, types=None):
    return [m for m in ms if event(m)[0] == code and (types is None or event(m)[1] == types)]


def test_the_audit_trail_tells_who_sent_what_where_it_went_and_who_was_refused(node_factory, lumbar, tmp_path, database):
    collector = SyslogCollector()
    scp = pacs.StoreSCP(tmp_path / "dest").start()
    try:
        node = node_factory(quiet_seconds=1.0, config={"audit": {"syslog": f"127.0.0.1:{collector.port}"},
                                                       "results": {"destinations": [scp.peer]}})
        files = nodeproc.dicom_files(lumbar[0].sagittal)
        assert len(nodeproc.send_files(node.port, files).acknowledged) == len(files)
        assert nodeproc.echo(node.port, called_ae="NOTTHENODE") is None, "a wrong called AE title is refused"
        rows = pacs.wait_settled(node, database, 120)
        assert rows and all(r["state"] == "sent" for r in rows), rows
        token = node.admin_token()
        bad = requests.post(node.http_url + "/login", data={"token": "lstv_not_a_token"}, allow_redirects=False, timeout=30)
        assert bad.status_code == 401
        good = requests.post(node.http_url + "/login", data={"token": token}, allow_redirects=False, timeout=30)
        assert good.status_code == 303
        assert node.terminate() == 0
    finally:
        scp.stop()
        collector.close()

    path = node.data_dir / "audit.log"
    assert stat.S_IMODE(path.stat().st_mode) & 0o037 == 0, "the audit trail holds patient IDs: no access for others"
    lines = path.read_text(encoding="utf-8").splitlines()
    ms = messages(lines)
    assert sorted(collector.records) == sorted(lines), "the collector got every record the file has"

    source = pydicom.dcmread(files[0], stop_before_pixels=True)
    study, patient, sop_class = str(source.StudyInstanceUID), str(source.PatientID), str(source.SOPClassUID)

    # The node's start (first) and stop (last), with the OS user who launched it.
    assert event(ms[0]) == ("110100", ["110120"]) and event(ms[-1]) == ("110100", ["110121"])
    # The configuration it runs with.
    [config] = of(ms, "110113", ["110131"])
    assert "configuration loaded" in config.find("EventIdentification/EventOutcomeDescription").text

    # Received: one message for the study (C), from ITEST at its host to the node, every instance
    # counted under its SOP class, the patient named.
    received = [m for m in of(ms, "110104") if m.find("EventIdentification").get("EventActionCode") == "C"]
    assert len(received) == 1, [ET.tostring(m) for m in received]
    r = received[0]
    participants = r.findall("ActiveParticipant")
    assert [p.get("UserID") for p in participants] == [nodeproc.SENDER_AE, nodeproc.NODE_AE]
    assert participants[0].get("NetworkAccessPointID") == "127.0.0.1"
    assert [p.find("RoleIDCode").get("csd-code") for p in participants] == ["110153", "110152"]
    objects = {o.find("ParticipantObjectIDTypeCode").get("csd-code"): o for o in r.findall("ParticipantObjectIdentification")}
    assert objects["110180"].get("ParticipantObjectID") == study
    assert [(c.get("UID"), int(c.get("NumberOfInstances"))) for c in objects["110180"].iter("SOPClass")] == [(sop_class, len(files))]
    assert objects["2"].get("ParticipantObjectID") == patient

    # Sent: the results to DEST (R), the node as source, the SR, key image and key objects counted.
    sent = [m for m in of(ms, "110104") if m.find("EventIdentification").get("EventActionCode") == "R"]
    assert sent and all(m.find("EventIdentification").get("EventOutcomeIndicator") == "0" for m in sent)
    assert {p.get("UserID") for m in sent for p in m.findall("ActiveParticipant")} == {nodeproc.NODE_AE, scp.ae_title}
    counted = sum(int(c.get("NumberOfInstances")) for m in sent for c in m.iter("SOPClass"))
    assert counted == len(rows) == pacs.PER_ANALYSIS
    assert {o.get("ParticipantObjectID") for m in sent for o in m.findall("ParticipantObjectIdentification")} == {study, patient}

    # The refused association: a security alert (node authentication), minor failure, naming the peer.
    [refused] = of(ms, "110113", ["110126"])
    assert refused.find("EventIdentification").get("EventOutcomeIndicator") == "4"
    assert "NOTTHENODE" in refused.find("EventIdentification/EventOutcomeDescription").text

    # Sign-ins: the refused token, then the admin by its name (never the token itself).
    logins = of(ms, "110114", ["110122"])
    assert [m.find("EventIdentification").get("EventOutcomeIndicator") for m in logins] == ["4", "0"]
    assert token not in path.read_text()

    # The operational log says what happened without the patient.
    assert patient not in node.log(), "the operational log names the patient"
