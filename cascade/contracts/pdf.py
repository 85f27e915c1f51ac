"""Contracts and amendments as PDF/A-3b, drawn by Typst from the blocks of `rendering.render_blocks`.

The blocks (see `markup.py`) are checked and reduced to the fields the layout reads, then passed
to `typst/contract.typ` as JSON through `sys.inputs`: no file is written, concurrent calls
cannot see each other's data, and no string is ever read as Typst markup. The document date is
set from `date`, so the same blocks always give the same bytes.
"""

from datetime import date as Date
from pathlib import Path
from typing import Any

import typst

from cascade import typst_pdf

from .markup import Block

TEMPLATE = Path(__file__).parent / "typst" / "contract.typ"
ALIGNMENTS = ("left", "right", "center")


def render_contract_pdf(blocks: list[Block], *, title: str, reference: str, organisation: str, date: Date,
                        banner: str | None = None) -> bytes:
    """The A4 PDF of `blocks`; every page's footer names `title` and `reference` and counts pages.

    `banner` (e.g. "PROJET — document non signé") is printed in a frame on the first page and in
    the header of every page.
    """
    data = {
        "title": str(title),
        "reference": str(reference),
        "organisation": str(organisation),
        "date": [date.year, date.month, date.day],
        "banner": str(banner) if banner else None,
        "blocks": [clean for block in blocks if (clean := _checked(block)) is not None],
    }
    try:
        return typst_pdf.render(TEMPLATE, data)
    except typst.TypstError as error:
        # Typst refuses what PDF/A cannot hold (a string over 32 767 characters, say).
        raise LayoutError(f"le document ne peut pas être mis en page ({getattr(error, 'message', error)})") from None


class LayoutError(ValueError):
    """Typst cannot lay the document out; the message, in French, says why."""


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _runs(runs: Any) -> list[dict[str, Any]]:
    return [{"text": _text(r.get("text")), "bold": bool(r.get("bold")), "italic": bool(r.get("italic"))}
            for r in runs or [] if _text(r.get("text"))]


def _row(cells: Any, width: int) -> list[str]:
    row = [_text(c) for c in cells or []][:width]
    return row + [""] * (width - len(row))


def _table(block: Block) -> Block:
    columns = [_text(c) for c in block.get("columns") or []]
    if not columns:
        raise ValueError("a table block needs its columns")
    width = len(columns)
    align = [a if a in ALIGNMENTS else "left" for a in _row(block.get("align"), width)]
    footer = block.get("footer")
    return {"type": "table", "columns": columns, "align": align,
            "rows": [_row(row, width) for row in block.get("rows") or []],
            "footer": _row(footer, width) if footer else None, "note": _text(block.get("note")) or None}


def _checked(block: Block) -> Block | None:
    """The block as the layout reads it; None for one that shows nothing."""
    kind = block.get("type")
    if kind == "title":
        return {"type": "title", "text": _text(block.get("text"))} if _text(block.get("text")) else None
    if kind in ("heading", "paragraph"):
        runs = _runs(block.get("runs"))
        if not runs:
            return None
        level = 2 if kind == "heading" and block.get("level") == 2 else 1
        return {"type": kind, "runs": runs, **({"level": level} if kind == "heading" else {})}
    if kind == "list":
        items = [runs for item in block.get("items") or [] if (runs := _runs(item))]
        return {"type": "list", "items": items} if items else None
    if kind == "table":
        return _table(block)
    if kind == "signatures":
        signers = [{key: _text(s.get(key)) for key in ("party", "organisation", "name", "quality")}
                   for s in block.get("signers") or []]
        return {"type": "signatures", "signers": signers, "mention": _text(block.get("mention"))} if signers else None
    if kind == "pagebreak":
        return {"type": "pagebreak"}
    raise ValueError(f"unknown block type {kind!r}")
