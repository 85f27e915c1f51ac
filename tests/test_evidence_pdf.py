"""The evidence pages appended to a signed document: hashes, signers, drawn signatures, the event
log over several pages, long values that wrap. No database: the evidence is a plain dict."""

import hashlib
import io
import re
import struct
import time
import zlib

import pytest
from pypdf import PdfReader
from pypdf.generic import IndirectObject

from cascade.signing.evidence_pdf import (
    UNREADABLE_DRAWING,
    EvidenceError,
    evidence_view,
    is_png,
    render_evidence_pdf,
)

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
DOCUMENT_SHA = hashlib.sha256(b"convention OCC-0012").hexdigest()


def png(width: int = 240, height: int = 80) -> bytes:
    """An RGBA PNG of a diagonal stroke, written by hand (no imaging library needed)."""
    rows = b"".join(
        b"\x00" + b"".join(bytes([20, 40, 120, 255 if abs(x - 3 * y) < 4 else 0]) for x in range(width))
        for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def _hash(n: int) -> str:
    return hashlib.sha256(f"event {n}".encode()).hexdigest()


def evidence(events: int = 8, *, drawing: bytes | None = None) -> dict:
    return {
        "title": "Convention d'occupation temporaire — Atelier Céramique des Lilas",
        "reference": "SIG-000012",
        "organisation": "Tremplin Urbain",
        "document_sha256": DOCUMENT_SHA,
        "document_pages": 3,
        "created_at": "04/12/2026 à 10:12:03 (heure de Paris)",
        "completed_at": "05/12/2026 à 09:01:44 (heure de Paris)",
        "signers": [
            {"order": 1, "name": "Inès Barbier", "email": "ines@ceramique.example.org", "quality": "Co-présidente",
             "organisation": "Atelier Céramique des Lilas", "signed_at": "05/12/2026 à 08:55:10 (heure de Paris)",
             "typed_name": "Inès Barbier", "method": "Lien personnel et code à usage unique envoyés par e-mail",
             "ip": "2001:db8:85a3::8a2e:370:7334", "user_agent": UA,
             "drawing_png": png() if drawing is None else drawing},
            {"order": 2, "name": "Alice Martin", "email": "alice@tremplin.example.org", "quality": "Présidente",
             "organisation": "Tremplin Urbain", "signed_at": "05/12/2026 à 09:01:40 (heure de Paris)",
             "typed_name": "Alice Martin", "method": "Lien personnel et code à usage unique envoyés par e-mail",
             "ip": "192.0.2.4", "user_agent": UA, "drawing_png": None},
        ],
        "events": [
            {"seq": n, "at": "04/12/2026 à 10:12:03 (heure de Paris)", "kind": "Page de signature ouverte",
             "actor": "Inès Barbier", "ip": "192.0.2.4", "user_agent": UA, "document_sha256": DOCUMENT_SHA,
             "hash": _hash(n)}
            for n in range(1, events + 1)
        ],
        "chain_head": _hash(events),
        "ca_fingerprint": "3F:A2:" * 15 + "9C:01",
        "notice": "Ce dossier de preuve est joint au document signé électroniquement. Vérifiez le sceau, "
                  "l'empreinte SHA-256 et la chaîne des empreintes.",
    }


def _reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def _text(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in _reader(pdf).pages)


def _joined(text: str) -> str:
    """The text without any whitespace: a wrapped hash reads whole again."""
    return re.sub(r"\s+", "", text)


def _images(pdf: bytes) -> int:
    """Image XObjects drawn on the pages, looking inside form XObjects too."""
    seen: set[int] = set()

    def walk(resources) -> int:
        count = 0
        for ref in (resources or {}).get("/XObject", {}).values():
            key = ref.idnum if isinstance(ref, IndirectObject) else id(ref)
            if key in seen:
                continue
            seen.add(key)
            xobject = ref.get_object()
            if xobject.get("/Subtype") == "/Image":
                count += 1
            elif xobject.get("/Subtype") == "/Form":
                count += walk(xobject.get("/Resources"))
        return count

    return sum(walk(page.get("/Resources")) for page in _reader(pdf).pages)


def test_the_evidence_states_the_document_the_signers_and_the_chain():
    data = evidence()
    pdf = render_evidence_pdf(data)
    assert pdf.startswith(b"%PDF")
    text, whole = _text(pdf), _joined(_text(pdf))
    assert "Dossier de preuve" in text and "SIG-000012" in text and "Tremplin Urbain" in text
    for value in [DOCUMENT_SHA, data["chain_head"], data["ca_fingerprint"], *(e["hash"] for e in data["events"])]:
        assert value in whole, value
    for signer in data["signers"]:
        assert signer["name"] in text and signer["email"] in whole and signer["signed_at"] in text
    assert "2001:db8:85a3::8a2e:370:7334" in whole and _joined(UA) in whole
    assert "Page de signature ouverte" in text and "Pas de signature dessinée" in text
    assert "Vérifiez le sceau" in text
    metadata = _reader(pdf).metadata
    assert metadata.title == "Dossier de preuve SIG-000012" and "20261205" in metadata["/CreationDate"]


def test_a_drawn_signature_is_drawn():
    assert is_png(png())
    assert _images(render_evidence_pdf(evidence())) >= 1
    assert _images(render_evidence_pdf(evidence(drawing=b""))) == 0


def test_a_drawing_that_is_not_a_png_is_noted_not_fatal():
    for bad in [b"GIF89a not a png", png()[:40], b"\x89PNG\r\n\x1a\n" + b"\x00" * 40]:
        pdf = render_evidence_pdf(evidence(drawing=bad))
        assert UNREADABLE_DRAWING in _text(pdf) and _images(pdf) == 0
    # A PNG whose header is sound but whose data is damaged is caught by Typst: drawn without it.
    damaged = png()
    damaged = damaged[:41] + bytes(b ^ 0x5A for b in damaged[41:-12]) + damaged[-12:]
    assert is_png(damaged)
    assert UNREADABLE_DRAWING in _text(render_evidence_pdf(evidence(drawing=damaged)))


def test_many_events_run_over_several_pages_with_every_hash():
    data = evidence(events=120)
    pdf = render_evidence_pdf(data)
    reader = _reader(pdf)
    assert len(reader.pages) >= 4
    whole = _joined(_text(pdf))
    assert all(e["hash"] in whole for e in data["events"])
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert f"page {number}/{len(reader.pages)}" in text
        if 1 < number < len(reader.pages):
            assert "Date et heure" in text  # the table's header is repeated


def test_long_values_wrap_instead_of_running_off_the_page():
    data = evidence()
    data["signers"][0]["user_agent"] = "X" * 600
    data["events"][0]["user_agent"] = "Y" * 600
    data["signers"][0]["email"] = "tres." * 30 + "long@example.org"
    pdf = render_evidence_pdf(data)
    text = _text(pdf)
    # Wrapped, every line fits the page (~120 characters of the smallest monospace), nothing is lost.
    assert max(len(line) for line in text.splitlines()) < 130
    whole = _joined(text)
    assert "X" * 600 in whole and "Y" * 600 in whole and "tres." * 30 + "long@example.org" in whole


def test_values_are_printed_literally():
    data = evidence()
    data["signers"][0]["typed_name"] = "Inès #panic() $x$ *B* [a] @ref <l> \\ _u_"
    data["events"][0]["kind"] = "#strong[événement]"
    text = _text(render_evidence_pdf(data))
    assert "Inès #panic() $x$ *B* [a] @ref <l> \\ _u_" in text and "#strong[événement]" in text


def test_the_evidence_is_the_same_bytes_for_the_same_data():
    first = render_evidence_pdf(evidence())
    assert render_evidence_pdf(evidence()) == first
    changed = evidence()
    changed["completed_at"] = "06/12/2026 à 09:01:44 (heure de Paris)"
    assert render_evidence_pdf(changed) != first


def test_evidence_without_a_date_is_refused():
    data = evidence(events=0)
    data["created_at"] = data["completed_at"] = ""
    with pytest.raises(EvidenceError, match="created_at"):
        render_evidence_pdf(data)


def test_an_event_shows_the_document_hash_only_when_it_differs():
    data = evidence(events=2)
    data["events"][1]["document_sha256"] = "f" * 64
    view = evidence_view(data)
    assert [e["document_sha256"] for e in view["events"]] == ["", "f" * 64]
    assert "f" * 64 in _joined(_text(render_evidence_pdf(data)))


def test_an_evidence_page_renders_quickly():
    render_evidence_pdf(evidence())
    start = time.perf_counter()
    render_evidence_pdf(evidence())
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"{elapsed:.3f} s"
