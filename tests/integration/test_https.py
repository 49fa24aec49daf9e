"""The web face over HTTPS (issue 14, access control): `http.tls` names a PEM certificate and key,
the port then speaks TLS 1.2+ only, the session cookie is `Secure`, and a configuration that asks for
HTTPS but cannot have it stops the node with the key named instead of serving plain HTTP.
"""
from __future__ import annotations

import socket
import ssl
import subprocess
import warnings
from pathlib import Path

import pytest
import requests

import nodeproc


def openssl(*args: str, cwd: Path) -> None:
    exe = nodeproc.require_tool("openssl")
    p = subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr


def make_ca_and_server(dir: Path, name: str = "ca") -> dict[str, Path]:
    """A private CA and a server certificate for 127.0.0.1 signed by it (RSA 2048, SHA-256)."""
    dir.mkdir(parents=True, exist_ok=True)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN=lstv test {name}",
            "-keyout", f"{name}.key", "-out", f"{name}.pem", cwd=dir)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key",
            "-out", "server.csr", cwd=dir)
    (dir / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", f"{name}.pem", "-CAkey", f"{name}.key", "-CAcreateserial",
            "-days", "2", "-sha256", "-extfile", "san.ext", "-out", "server.pem", cwd=dir)
    return {"ca": dir / f"{name}.pem", "cert": dir / "server.pem", "key": dir / "server.key"}


def test_https_serves_the_api_and_pages_with_a_secure_cookie_and_refuses_plain_http(node_factory, tmp_path):
    pki = make_ca_and_server(tmp_path / "pki")
    node = node_factory(quiet_seconds=1.0, config={"http": {"tls": {"certificate": str(pki["cert"]),
                                                                   "private_key": str(pki["key"])}}})
    assert node.http_url.startswith("https://")
    assert "scheme=https" in node.log(), "the listening line names the scheme"
    token = node.admin_token()
    assert f"dashboard https://127.0.0.1:{node.http_port}/" in node.log()

    # Verified against the private CA: health, the API with a token, 401 without.
    assert requests.get(node.http_url + "/healthz", verify=str(pki["ca"]), timeout=30).text == "ok\n"
    flags = requests.get(node.http_url + "/api/v1/flags", headers={"Authorization": f"Bearer {token}"},
                         verify=str(pki["ca"]), timeout=30)
    assert flags.status_code == 200, flags.text
    assert requests.get(node.http_url + "/api/v1/flags", verify=str(pki["ca"]), timeout=30).status_code == 401

    # Signing in over HTTPS sets a Secure, HttpOnly, SameSite=Strict session cookie.
    login = requests.post(node.http_url + "/login", data={"token": token}, verify=str(pki["ca"]),
                          allow_redirects=False, timeout=30)
    assert login.status_code == 303, login.text
    cookie = login.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie, cookie

    # A client that does not trust the CA refuses the node's certificate (it is not a public one).
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(node.http_url + "/healthz", timeout=30)
    # Plain HTTP on the HTTPS port gets no HTTP answer.
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://127.0.0.1:{node.http_port}/healthz", timeout=30)
    # TLS below 1.2 is refused by the node (BCP 195); the same client capped at 1.2 gets through.
    def handshake(maximum: ssl.TLSVersion) -> str:
        context = ssl.create_default_context(cafile=str(pki["ca"]))
        context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        context.maximum_version = maximum
        context.set_ciphers("ALL:@SECLEVEL=0")  # lets this client offer TLS 1.1 at all
        with socket.create_connection(("127.0.0.1", node.http_port), timeout=30) as raw:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                return tls.version()

    assert handshake(ssl.TLSVersion.TLSv1_2) == "TLSv1.2"
    with warnings.catch_warnings(), pytest.raises(ssl.SSLError):
        warnings.simplefilter("ignore", DeprecationWarning)  # TLSv1_1 is deprecated: that is the point
        handshake(ssl.TLSVersion.TLSv1_1)
    # Still serving after the refused handshakes.
    assert requests.get(node.http_url + "/healthz", verify=str(pki["ca"]), timeout=30).status_code == 200


def test_https_that_cannot_be_had_stops_the_node_with_the_key_named(tmp_path, database):
    pki = make_ca_and_server(tmp_path / "pki")
    other = make_ca_and_server(tmp_path / "other", name="other")
    binary = nodeproc.node_binary()

    # Only one of the two files: check-config exit 2, naming the keys.
    half = tmp_path / "half.yaml"
    half.write_text(f"http:\n  tls:\n    certificate: {pki['cert']}\n")
    p = subprocess.run([binary, "check-config", "--config", str(half)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "private_key" in p.stderr, (p.returncode, p.stderr)
    # A file that is not there: check-config exit 2, naming the key and the path.
    missing = tmp_path / "missing.yaml"
    missing.write_text(f"http:\n  tls:\n    certificate: {tmp_path}/nope.pem\n    private_key: {pki['key']}\n")
    p = subprocess.run([binary, "check-config", "--config", str(missing)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "certificate" in p.stderr and "nope.pem" in p.stderr, (p.returncode, p.stderr)

    # A key that is not the certificate's: serve refuses to start, naming http.tls; no plain HTTP.
    node = nodeproc.Node(tmp_path / "data", database.url, quiet_seconds=1.0,
                         config={"http": {"tls": {"certificate": str(pki["cert"]), "private_key": str(other["key"])}}})
    node._log_file = open(node.log_path, "ab")
    node.proc = subprocess.Popen(node.command(), stdin=subprocess.DEVNULL, stdout=node._log_file, stderr=subprocess.STDOUT)
    rc = node.wait(60)
    assert rc != 0, node.log()
    assert "http.tls" in node.log() and str(other["key"]) in node.log(), node.log()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://127.0.0.1:{node.http_port}/healthz", timeout=5)
