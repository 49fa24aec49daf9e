"""Test certificates for the DICOM TLS tests, made with the ``openssl`` command line into a folder
(``tmp_path``): nothing is committed.

:func:`make_pki` returns a :class:`PKI`: a CA that the node and the peers trust, a second CA nobody
trusts, and identities (certificate + key, RSA 2048 as BCP 195 asks) signed by them: the node, a
sender, a PACS, an intruder (the other CA), and an expired sender.
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from nodeproc import require_tool


@dataclass(frozen=True)
class Identity:
    certificate: Path
    private_key: Path

    @property
    def tls(self) -> dict:
        """As the node's configuration spells it (without the trusted CAs)."""
        return {"certificate": str(self.certificate), "private_key": str(self.private_key)}


@dataclass(frozen=True)
class PKI:
    ca: Path
    other_ca: Path
    node: Identity
    sender: Identity
    pacs: Identity
    intruder: Identity
    expired: Identity


def _openssl(*args: str) -> None:
    p = subprocess.run([require_tool("openssl"), *args], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, f"openssl {' '.join(args)} failed: {p.stderr}"


def _ca(directory: Path, name: str) -> tuple[Path, Path]:
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
             "-subj", f"/CN={name}", "-days", "2")
    return cert, key


def _identity(directory: Path, name: str, ca: tuple[Path, Path], serial: int, days: int = 2) -> Identity:
    """A certificate for ``name`` (also valid for localhost / 127.0.0.1) signed by ``ca``; ``days``
    below 0 makes one that expired before it was made."""
    cert, key, csr = directory / f"{name}.pem", directory / f"{name}.key", directory / f"{name}.csr"
    ext = directory / f"{name}.ext"
    ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={name}")
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca[0]), "-CAkey", str(ca[1]), "-set_serial", str(serial),
             "-days", str(days), "-extfile", str(ext), "-out", str(cert))
    return Identity(cert, key)


def make_pki(directory: Path) -> PKI:
    directory.mkdir(parents=True, exist_ok=True)
    ca, other = _ca(directory, "ca"), _ca(directory, "other-ca")
    return PKI(ca=ca[0], other_ca=other[0],
               node=_identity(directory, "node", ca, 1), sender=_identity(directory, "sender", ca, 2),
               pacs=_identity(directory, "pacs", ca, 3), intruder=_identity(directory, "intruder", other, 4),
               expired=_identity(directory, "expired", ca, 5, days=-1))
