"""The safetensors header of a model file, read and rewritten with the standard library only (no
torch): the tools and the tests (which have no torch) share it."""
from __future__ import annotations

import json
from pathlib import Path


def read_metadata(path) -> dict[str, str]:
    """The file's `__metadata__` (docs/MODEL_FORMAT.md)."""
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        return json.loads(f.read(n)).get("__metadata__", {})


def canonicalise_header(path) -> None:
    """Rewrite the safetensors header with sorted keys. The safetensors writer emits the metadata
    in hash-map order, so the same weights would get a different file (and sha256, the model's
    identity in every report) on every conversion. Offsets are relative to the data section, so
    only the header changes; it is padded with spaces to 8 bytes as the format recommends."""
    raw = Path(path).read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    ordered = {}
    if "__metadata__" in header:
        ordered["__metadata__"] = dict(sorted(header.pop("__metadata__").items()))
    for k in sorted(header):
        ordered[k] = header[k]
    text = json.dumps(ordered, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    Path(path).write_bytes(len(text).to_bytes(8, "little") + text + raw[8 + n:])


def rewrite_metadata(src, dst, updates: dict[str, str], remove=()) -> None:
    """Copy a model file with some metadata keys set or removed (the tensors' bytes untouched),
    header canonicalised: a new model version that differs from `src` only in its metadata."""
    raw = Path(src).read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    meta = {k: v for k, v in header.get("__metadata__", {}).items() if k not in remove}
    header["__metadata__"] = {**meta, **updates}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = Path(str(dst) + ".tmp")
    tmp.write_bytes(len(text).to_bytes(8, "little") + text + raw[8 + n:])
    canonicalise_header(tmp)
    tmp.replace(dst)
