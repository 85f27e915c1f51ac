"""Text that every document format accepts (no Django imports).

PDF (Typst), XML (Factur-X, SEPA) and XLSX refuse most control characters; a name pasted
from another program may carry some. They become spaces, except line breaks where allowed.
"""

import re
from typing import Any

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_AND_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str, *, multiline: bool = True) -> str:
    """`text` without control characters (each becomes a space); tabs and line breaks are kept when
    `multiline`, else they become spaces too."""
    return (_CONTROL if multiline else _CONTROL_AND_BREAKS).sub(" ", text)


def printable_data(value: Any) -> Any:
    """The same JSON-like value with every string made printable (line breaks kept)."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {key: printable_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [printable_data(item) for item in value]
    return value
