"""The file zoo (issue 16): every file of pydicom's bundled test data goes to one running node, over
one association proposing each file's own (SOP class, transfer syntax) as its own presentation
context. Each file gets the answer docs/CONFORMANCE.md documents for it — stored (0000, the data
set on disk byte for byte as sent), the presentation context refused (SOP class or transfer syntax
not accepted), a failure status, or a client-side skip with its reason (not a file, not DICOM Part
10, no SOP class) — and the node still answers C-ECHO and stores a real instance afterwards.

The refusals must follow from the node's accepted lists (``lstv-node conformance``). A changed
answer fails the test with the whole actual table, to review and paste into docs/CONFORMANCE.md."""
from __future__ import annotations

import re
import subprocess
import warnings
from pathlib import Path

import nodeproc

DOC = Path(__file__).resolve().parents[2] / "docs" / "CONFORMANCE.md"
BEGIN, END = "<!-- zoo:begin -->", "<!-- zoo:end -->"
STORED = "stored"
REFUSED_SOP_CLASS = "refused: SOP class not accepted"
REFUSED_TRANSFER_SYNTAX = "refused: transfer syntax not accepted"
# PS3.8 9.3.3.2: the A-ASSOCIATE-AC's result of a presentation context.
ABSTRACT_SYNTAX_NOT_SUPPORTED, TRANSFER_SYNTAXES_NOT_SUPPORTED = 0x03, 0x04


def accepted_uids() -> tuple[set[str], set[str]]:
    """(SOP classes, transfer syntaxes) accepted for storage, from ``lstv-node conformance``."""
    out = subprocess.run([nodeproc.node_binary(), "conformance"], capture_output=True, text=True, timeout=30, check=True).stdout
    readme = (DOC.parents[1] / "README.md").read_text()
    assert readme[readme.index("<!-- conformance:begin -->\n") + 27:readme.index("<!-- conformance:end -->")] == out, \
        "the README's table is not `lstv-node conformance`'s output"
    sop_table, ts_table = out.split("\n\n")

    def uids(table: str) -> set[str]:
        return set(re.findall(r"`([0-9.]+)`", table))

    return uids(sop_table) - {nodeproc.VERIFICATION}, uids(ts_table)


def client_side(path: Path) -> tuple[str | None, tuple[str, str, str] | None]:
    """(the skip reason, None) for a file no C-STORE can carry, else (None, (SOP class, SOP
    instance, transfer syntax)) from its meta header."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    if not path.is_file():
        return "skipped: not a file", None
    try:
        with warnings.catch_warnings():
            # Some files are odd on purpose (e.g. implicit VR where the meta header says explicit).
            warnings.simplefilter("ignore", UserWarning)
            meta = pydicom.dcmread(path, stop_before_pixels=True).file_meta
    except (InvalidDicomError, EOFError, OSError, ValueError, KeyError, TypeError, AttributeError):
        return "skipped: not a DICOM Part 10 file", None
    sop_class, sop, ts = (str(meta.get(k, "") or "") for k in
                          ("MediaStorageSOPClassUID", "MediaStorageSOPInstanceUID", "TransferSyntaxUID"))
    if not ts:
        return "skipped: not a DICOM Part 10 file (no transfer syntax in its meta header)", None
    if not sop_class:
        return "skipped: no SOP class in its meta header", None
    if not sop:
        return "skipped: no SOP instance in its meta header", None
    return None, (sop_class, sop, ts)


def documented() -> dict[str, str]:
    text = DOC.read_text()
    rows = text[text.index(BEGIN) + len(BEGIN):text.index(END)].strip().splitlines()[2:]
    return {cells[0].strip("` "): cells[3].strip() for cells in (r.strip("|").split("|") for r in rows)}


def table(answers: dict[str, tuple[str, str, str]]) -> str:
    """The documented table's rows; the last column (why: the node's logged reason) is filled by hand."""
    lines = ["| file | SOP class | transfer syntax | answer | why |", "|---|---|---|---|---|"]
    lines += [f"| `{name}` | {sop or '-'} | {ts or '-'} | {answer} | |" for name, (sop, ts, answer) in sorted(answers.items())]
    return "\n".join(lines)


def test_every_pydicom_test_file_gets_its_documented_answer(node, lumbar, tmp_path):
    from pydicom.data import get_testdata_files
    from pynetdicom import _config
    from pynetdicom.presentation import build_context

    root = Path(get_testdata_files("CT_small.dcm")[0]).parent
    files = sorted(Path(f) for f in get_testdata_files())

    answers: dict[str, tuple[str, str, str]] = {}
    sendable: list[tuple[Path, tuple[str, str, str]]] = []
    for f in files:
        skip, meta = client_side(f)
        if skip:
            answers[str(f.relative_to(root))] = ("", "", skip)
        else:
            sendable.append((f, meta))
    pairs = sorted({(sop_class, ts) for _, (sop_class, _, ts) in sendable})
    assert len(pairs) <= 128, "one association carries at most 128 presentation contexts"

    _config.STORE_SEND_CHUNKED_DATASET = True
    ae = nodeproc._ae()
    ae.requested_contexts = [build_context(sop_class, [ts]) for sop_class, ts in pairs]

    def associate():
        assoc = ae.associate("127.0.0.1", node.port, ae_title=node.ae_title)
        assert assoc.is_established, "the node refused the zoo's association"
        return assoc

    assoc = associate()
    # A rejected context comes back without its transfer syntax: found by its ID.
    proposed = {c.context_id: (c.abstract_syntax, c.transfer_syntax[0]) for c in assoc.requestor.requested_contexts}
    refused = {proposed[c.context_id]: c.result for c in assoc.rejected_contexts}
    first_sent: dict[str, Path] = {}
    try:
        for f, (sop_class, sop, ts) in sendable:
            name = str(f.relative_to(root))
            result = refused.get((sop_class, ts))
            if result == ABSTRACT_SYNTAX_NOT_SUPPORTED:
                answer = REFUSED_SOP_CLASS
            elif result == TRANSFER_SYNTAXES_NOT_SUPPORTED:
                answer = REFUSED_TRANSFER_SYNTAX
            elif result is not None:
                answer = f"refused: presentation context result {result}"
            else:
                status = assoc.send_c_store(f)
                if "Status" not in status:
                    # The association's thread records how it ended once it has stopped.
                    nodeproc.wait_until(lambda: not assoc.is_alive(), timeout=30, what="the association to end")
                    answer = "association aborted" if assoc.is_aborted else "no response"
                    assoc = associate()
                else:
                    code = int(status.Status)
                    answer = STORED if code == nodeproc.SUCCESS else f"failure {code:04X}"
                    if code == nodeproc.SUCCESS:
                        first_sent.setdefault(sop, f)
            answers[name] = (sop_class, ts, answer)
    finally:
        if assoc.is_established:
            assoc.release()

    actual = table(answers)
    want = documented()
    assert {n: a for n, (_, _, a) in answers.items()} == want, \
        f"answers differ from {DOC.name}; the actual table:\n{BEGIN}\n{actual}\n{END}"

    # The refusals follow from the accepted lists, and every accepted pair was offered a context.
    accepted_sop_classes, accepted_syntaxes = accepted_uids()
    for name, (sop_class, ts, answer) in answers.items():
        if not sop_class:
            continue
        expected_refusal = REFUSED_SOP_CLASS if sop_class not in accepted_sop_classes else \
            REFUSED_TRANSFER_SYNTAX if ts not in accepted_syntaxes else None
        assert (answer if answer.startswith("refused") else None) == expected_refusal, (name, sop_class, ts, answer)

    # Stored means on disk, the data set bytes as sent (a re-sent instance: as first sent).
    for sop, f in first_sent.items():
        study, series, _ = nodeproc.read_uids(f)
        stored = node.instance_path(study, series, sop)
        assert nodeproc.dataset_bytes(stored) == nodeproc.dataset_bytes(f), f.name

    # The node keeps serving.
    assert nodeproc.echo(node.port) == nodeproc.SUCCESS
    real = nodeproc.dicom_files(lumbar[0].sagittal)[0]
    r = nodeproc.send_files(node.port, [real])
    assert r.acknowledged == [real], r
