"""The systemd unit verifies with systemd-analyze; the administrative commands behave."""
from __future__ import annotations

import json
import re
import subprocess

import nodeproc

UNIT = nodeproc.REPO_ROOT / "systemd" / "lstv-node.service"
INSTALLED_BINARY = "/usr/local/bin/lstv-node"


def unit_settings(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")) or "=" not in line:
            continue
        key, value = line.split("=", 1)
        out.setdefault(key.strip(), []).append(value.strip())
    return out


def test_systemd_unit_verifies(tmp_path):
    assert UNIT.is_file(), f"{UNIT} is missing"
    text = UNIT.read_text()
    binary = nodeproc.node_binary()
    assert INSTALLED_BINARY in text, f"the unit is expected to run {INSTALLED_BINARY}"
    copy = tmp_path / "lstv-node.service"
    copy.write_text(text.replace(INSTALLED_BINARY, binary))
    tool = nodeproc.require_tool("systemd-analyze")
    p = subprocess.run([tool, "verify", "--man=no", str(copy)], capture_output=True, text=True, timeout=120)
    output = (p.stdout + p.stderr).strip()
    assert p.returncode == 0, f"systemd-analyze verify exited {p.returncode}:\n{output}"
    # verify exits 0 on settings it ignores ("Failed to parse …, ignoring"): any line about the unit fails.
    about_unit = [l for l in output.splitlines() if copy.name in l or "lstv-node" in l]
    assert not about_unit, "systemd-analyze verify complained:\n" + "\n".join(about_unit)

    s = unit_settings(text)
    assert s.get("Type") == ["notify"], "Type=notify: the node sends READY=1 itself"
    assert s.get("Restart") == ["on-failure"]
    assert s.get("User") and s["User"][0] not in ("root", "0"), "a dedicated user"
    assert s.get("ProtectSystem") == ["strict"]
    assert s.get("NoNewPrivileges") == ["yes"]
    assert s.get("StateDirectory"), "StateDirectory= (the spool lives there)"
    assert s.get("WatchdogSec"), "WatchdogSec= (the node sends WATCHDOG=1)"
    exec_start = s.get("ExecStart", [""])[0]
    assert re.search(r"\bserve\b", exec_start), f"ExecStart must run `lstv-node serve`: {exec_start}"


def test_check_config_rejects_invalid_files(tmp_path):
    binary = nodeproc.node_binary()
    good = tmp_path / "good.yaml"
    good.write_text(json.dumps({"port": 11112, "quiet_seconds": 5, "routing": {"rules": [
        {"name": "sag-t2", "route": "localizer", "modality": ["MR"], "plane": "sagittal", "series_text": "(?i)t2"}]}}))
    p = subprocess.run([binary, "check-config", "--config", str(good)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    for name, (cfg, key) in {
        "port": ({"port": 70000}, "port"),
        "quiet": ({"quiet_seconds": 0}, "quiet_seconds"),
        "regex": ({"routing": {"rules": [{"name": "x", "route": "localizer", "series_text": "(unclosed"}]}}, "routing"),
        "yaml": ("port: [unterminated", None),
        "misspelt": ({"max_assocations": 8}, "max_assocations"),
        "type": ({"max_associations": "lots"}, "max_associations"),
        "nested": ({"results": {"max_attempts": 0}}, "results.max_attempts"),
    }.items():
        f = tmp_path / f"bad-{name}.yaml"
        f.write_text(cfg if isinstance(cfg, str) else json.dumps(cfg))
        p = subprocess.run([binary, "check-config", "--config", str(f)], capture_output=True, text=True, timeout=60)
        assert p.returncode == 2, f"check-config on an invalid {name}: exit {p.returncode}, expected 2"
        assert str(f) in p.stderr, f"check-config on an invalid {name} does not name the file: {p.stderr}"
        if key:
            assert f"{key}:" in p.stderr, f"check-config on an invalid {name} does not name {key}: {p.stderr}"

    # serve refuses to start on a misspelt key, with the same message, before it listens.
    p = subprocess.run([binary, "serve", "--config", str(tmp_path / "bad-misspelt.yaml"), "--data-dir", str(tmp_path / "d")],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and "max_assocations: unknown key; did you mean 'max_associations'?" in p.stderr, p
    assert "listening" not in p.stdout + p.stderr


def test_db_migrate_is_idempotent(database):
    binary = nodeproc.node_binary()
    for _ in range(2):
        p = subprocess.run([binary, "db", "migrate", "--database-url", database.url], capture_output=True, text=True,
                           timeout=60)
        assert p.returncode == 0, p.stderr
    assert "up to date" in p.stdout
    tables = database.psql("select tablename from pg_tables where schemaname = 'public' order by 1").split()
    assert {"instances", "series"} <= set(tables)
    p = subprocess.run([binary, "series", "list", "--json", "--database-url", database.url], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0 and json.loads(p.stdout) == []
