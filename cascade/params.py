"""Numbers typed in query strings and forms, read strictly."""

MAX_ID = 2**63 - 1  # the largest primary key either database can hold


def parse_id(text: object) -> int | None:
    """A primary key written in ASCII digits (`"42"`), or None for anything else (`"²"`, `"1.5"`,
    a number no row can have)."""
    value = str(text or "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > 19:
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None
