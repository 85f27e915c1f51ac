"""PDF documents drawn by Typst (DESIGN.md §6): invoices, contracts, evidence pages.

The data travels as JSON in `sys.inputs.data`, so no file is written and concurrent renders
cannot see each other's data; each template inserts strings as values, never as markup.
"""

import json
from pathlib import Path
from typing import Any

import typst

from cascade.text import printable_data


def render(template: Path, data: Any) -> bytes:
    """The PDF/A-3b that `template` draws from `data` (JSON-serialisable)."""
    return typst.compile(
        str(template),
        root=str(template.parent),
        sys_inputs={"data": json.dumps(printable_data(data))},
        pdf_standards=["a-3b"],
        # Only Typst's embedded fonts: the same PDF on every machine, whatever is installed.
        ignore_system_fonts=True,
    )
