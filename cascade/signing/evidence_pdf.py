"""The evidence pages ("dossier de preuve") appended to a signed document, as PDF/A-3b drawn by Typst.

`render_evidence_pdf(evidence)` takes the plain dict built by `sealing.evidence`:

    title, reference ("SIG-000012"), organisation, document_sha256, document_pages (int),
    created_at, completed_at ("04/12/2026 à 10:12:03 (heure de Paris)"),
    signers: [{order, name, email, quality, organisation, signed_at, typed_name, method, ip,
               user_agent, drawing_png (PNG bytes or None)}],
    events:  [{seq, at, kind (French label), actor, ip, user_agent, document_sha256, hash}],
    chain_head, ca_fingerprint, notice

Typst's `sys.inputs` are strings only, so a drawn signature travels inside the JSON as the array
of its bytes, which the template turns back into bytes for `image` (no file is written). Bytes
that are not a PNG are not drawn; a note says so rather than the seal failing for a picture.
The PDF's date is the day the signature completed, so the same evidence gives the same bytes.
"""

import logging
import re
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import typst

from cascade import typst_pdf

TEMPLATE = Path(__file__).parent / "typst" / "evidence.typ"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Beyond this, a "drawing" is not one drawn on a signing pad: keep the JSON reasonable.
MAX_DRAWING_BYTES = 2_000_000
NO_DRAWING = "Pas de signature dessinée"
UNREADABLE_DRAWING = "Signature dessinée illisible : non reproduite"

logger = logging.getLogger(__name__)


def render_evidence_pdf(evidence: Mapping[str, Any]) -> bytes:
    """The PDF/A-3b of the evidence pages described by `evidence` (see the module doc)."""
    view = evidence_view(evidence)
    try:
        return _compile(view)
    except typst.TypstError as error:
        # A PNG can pass the checks below and still be damaged; the evidence must be drawn anyway.
        if "decode image" not in str(getattr(error, "message", error)) or not any(
                s["drawing"] for s in view["signers"]):
            raise
        logger.warning("Evidence %s: a drawn signature could not be decoded; drawn without it", view["reference"])
        for signer in view["signers"]:
            if signer["drawing"] is not None:
                signer["drawing"], signer["drawing_note"] = None, UNREADABLE_DRAWING
        return _compile(view)


def _compile(view: dict[str, Any]) -> bytes:
    return typst_pdf.render(TEMPLATE, view)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class EvidenceError(ValueError):
    """The evidence cannot be drawn as given; the message names the field."""


def _day(*moments: str) -> list[int]:
    """[year, month, day] of the first "dd/mm/yyyy…" among `moments`: the PDF's date, which PDF/A
    requires and which must not be the time of drawing (the same evidence gives the same bytes)."""
    for moment in moments:
        match = re.match(r"\s*(\d{2})/(\d{2})/(\d{4})", moment)
        if match:
            day, month, year = (int(g) for g in match.groups())
            return [year, month, day]
    raise EvidenceError("completed_at, created_at: neither is a date like '04/12/2026 à 10:12:03'")


def is_png(data: bytes) -> bool:
    """A PNG with a sane header: signature, then an IHDR chunk of a non-empty, bounded image."""
    if len(data) < 33 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return False
    width, height = struct.unpack(">II", data[16:24])
    return 0 < width <= 10_000 and 0 < height <= 10_000


def _signer(signer: Mapping[str, Any]) -> dict[str, Any]:
    png = signer.get("drawing_png")
    drawing = bytes(png) if png else None
    note = NO_DRAWING
    if drawing is not None and (len(drawing) > MAX_DRAWING_BYTES or not is_png(drawing)):
        drawing, note = None, UNREADABLE_DRAWING
    view = {key: _text(signer.get(key)) for key in (
        "order", "name", "email", "quality", "organisation", "signed_at", "typed_name", "method", "ip", "user_agent")}
    return {**view, "drawing": list(drawing) if drawing else None, "drawing_note": note}


def _event(event: Mapping[str, Any], document_sha256: str) -> dict[str, str]:
    view = {key: _text(event.get(key)) for key in ("seq", "at", "kind", "actor", "ip", "user_agent", "hash")}
    # The document's fingerprint is printed once at the top; an event shows it only when it differs.
    sha = _text(event.get("document_sha256"))
    return {**view, "document_sha256": sha if sha and sha != document_sha256 else ""}


def evidence_view(evidence: Mapping[str, Any]) -> dict[str, Any]:
    """The strings (and drawings) the template lays out."""
    document_sha256 = _text(evidence.get("document_sha256"))
    created_at, completed_at = _text(evidence.get("created_at")), _text(evidence.get("completed_at"))
    return {
        "title": _text(evidence.get("title")),
        "reference": _text(evidence.get("reference")),
        "organisation": _text(evidence.get("organisation")),
        "date": _day(completed_at, created_at, *(_text(e.get("at")) for e in evidence.get("events") or [])),
        "document_sha256": document_sha256,
        "document_pages": _text(evidence.get("document_pages")),
        "created_at": created_at,
        "completed_at": completed_at,
        "signers": [_signer(s) for s in evidence.get("signers") or []],
        "events": [_event(e, document_sha256) for e in evidence.get("events") or []],
        "chain_head": _text(evidence.get("chain_head")),
        "ca_fingerprint": _text(evidence.get("ca_fingerprint")),
        "notice": _text(evidence.get("notice")),
    }
