"""DICOM TLS (BCP 195 profile, DCMTK dcmtls) with real peers: DCMTK's echoscu/storescu and pynetdicom
to the node's TLS port; the outbox to a TLS storescp; refusals (a plain connection on the TLS port, a
certificate from another CA, an expired one); and a TLS configuration that cannot be loaded stops
``check-config`` (exit 2) and ``serve`` with the key named. Certificates are made in the test."""
from __future__ import annotations

import ssl
import subprocess

import pytest

import nodeproc
import pacs
from nodeproc import NODE_AE, SENDER_AE, SUCCESS, free_port, require_tool, spool_files, wait_until
from tlscerts import PKI, Identity, make_pki


@pytest.fixture
def pki(tmp_path) -> PKI:
    return make_pki(tmp_path / "pki")


def tls_node(node_factory, pki: PKI, **config):
    tls_port = free_port()
    node = node_factory(config={"tls": {"port": tls_port, **pki.node.tls, "trusted_certificates": [str(pki.ca)],
                                        "require_peer_certificate": True}, **config})
    node.tls_port = tls_port
    return node


def tls_echo(port: int, identity: Identity | None, ca) -> int | None:
    """pynetdicom C-ECHO over TLS presenting ``identity``; the status, or None without an association."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca))
    context.check_hostname = False
    if identity is not None:
        context.load_cert_chain(str(identity.certificate), str(identity.private_key))
    return nodeproc.echo(port, tls_args=(context, None))


def dcmtk_tls(tool: str, pki: PKI, port: int, *files) -> subprocess.CompletedProcess:
    return subprocess.run([require_tool(tool), "+tls", str(pki.sender.private_key), str(pki.sender.certificate),
                           "+cf", str(pki.ca), "+px", "-aet", SENDER_AE, "-aec", NODE_AE, "-to", "20", "-ta", "20",
                           "127.0.0.1", str(port), *map(str, files)], capture_output=True, text=True, timeout=60)


def test_dcmtk_and_pynetdicom_over_tls(node_factory, pki, lumbar):
    node = tls_node(node_factory, pki)
    p = dcmtk_tls("echoscu", pki, node.tls_port)
    assert p.returncode == 0, f"echoscu +tls: {p.stderr}\n{node.log_tail()}"
    one = nodeproc.dicom_files(lumbar[0].sagittal)[0]
    p = dcmtk_tls("storescu", pki, node.tls_port, one)
    assert p.returncode == 0, f"storescu +tls: {p.stderr}\n{node.log_tail()}"
    wait_until(lambda: len(spool_files(node)) == 1, 10, what="the instance stored over TLS in the spool")
    assert tls_echo(node.tls_port, pki.sender, pki.ca) == SUCCESS, node.log_tail()
    assert node.echo() == SUCCESS, "the plain port keeps serving beside the TLS port"


def test_tls_port_refuses_plain_foreign_and_expired_peers(node_factory, pki):
    node = tls_node(node_factory, pki)
    assert nodeproc.echo(node.tls_port) is None, "a plain association on the TLS port must fail"
    assert tls_echo(node.tls_port, pki.intruder, pki.ca) is None, "a certificate from another CA must be refused"
    assert tls_echo(node.tls_port, pki.expired, pki.ca) is None, "an expired certificate must be refused"
    assert tls_echo(node.tls_port, None, pki.ca) is None, "no certificate must be refused (require_peer_certificate)"
    # Each refusal is one line in the log; a valid peer is served afterwards.
    node.wait_for_log("association request from 127.0.0.1 refused: TLS", 10, count=4)
    assert tls_echo(node.tls_port, pki.sender, pki.ca) == SUCCESS, node.log_tail()


def test_outbox_delivers_to_a_tls_destination(node_factory, pki, lumbar, tmp_path):
    scp = pacs.StoreSCP(tmp_path / "dest", ae_title="TLSDEST")
    scp.start(tls=(pki.pacs.private_key, pki.pacs.certificate, pki.ca))
    try:
        destination = {**scp.peer, "tls": {**pki.sender.tls, "trusted_certificates": [str(pki.ca)]}}
        node = node_factory(quiet_seconds=1.0, config={"results": {"destinations": [destination]}})
        files = nodeproc.dicom_files(lumbar[0].sagittal)
        r = nodeproc.send_files(node.port, files)
        assert len(r.acknowledged) == len(files), r
        rows = pacs.wait_outbox(node, lambda rows: len(rows) == pacs.PER_ANALYSIS and all(x["state"] == "sent" for x in rows),
                                120, "every result sent to the TLS destination")
        assert set(scp.received()) == {x["sop_instance_uid"] for x in rows}, scp.log_tail()
    finally:
        scp.stop()


@pytest.mark.parametrize("fault, key", [("missing certificate", "certificate"),
                                        ("key of another certificate", "private_key"),
                                        ("missing CA file", "trusted_certificates")])
def test_tls_configuration_that_cannot_load_is_refused(node_factory, pki, tmp_path, fault, key):
    tls = {"port": free_port(), **pki.node.tls, "trusted_certificates": [str(pki.ca)]}
    if fault == "missing certificate":
        tls["certificate"] = str(tmp_path / "nowhere.pem")
    elif fault == "key of another certificate":
        tls["private_key"] = str(pki.sender.private_key)
    else:
        tls["trusted_certificates"] = [str(tmp_path / "no-ca.pem")]
    node = node_factory(config={"tls": tls}, start=False)
    serve = node.command()  # writes the configuration file
    config = serve[serve.index("--config") + 1]
    p = subprocess.run([node.binary, "check-config", "--config", config], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert f"tls.{key}:" in p.stderr, p.stderr
    served = subprocess.run(serve, capture_output=True, text=True, timeout=60)
    assert served.returncode != 0 and f"tls.{key}:" in served.stderr + served.stdout, (served.returncode, served.stderr)
