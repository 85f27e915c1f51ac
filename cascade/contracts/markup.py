"""The light markup of contract templates, parsed into blocks the PDF and the HTML preview lay out.

Pure: text in, JSON-friendly dicts out; no Django. Rules, line by line (leading and trailing
spaces do not count):

    # Titre                   the document's title                  {"type": "title", "text"}
    ## Article 1 — Objet      a heading of level 1                  {"type": "heading", "level": 1, "runs"}
    ### Sous-titre           a heading of level 2 (so are #### to ######)
    - un élément              a bullet list item; indented lines under it continue it, and blank
                              lines between items do not end the list   {"type": "list", "items": [runs…]}
    ::ressources              a directive alone on its line: the block `directives["ressources"]`
                              (tables, signatures); ::saut-de-page is a page break {"type": "pagebreak"}
    anything else             a paragraph: consecutive lines join with a space, a blank line ends it
                                                                    {"type": "paragraph", "runs"}

Inside a title, a heading, an item or a paragraph: `**gras**` and `*italique*` (a delimiter
opens before a non-space and closes after one; an unmatched one is printed). A line ending
with a backslash `\\` forces a line break: the break is a "\\n" inside a run's text. A backslash
before an ASCII punctuation character prints that character (`\\*` is a star, `\\\\` a
backslash); before anything else it is printed as is.

Runs are `{"text": str, "bold": bool, "italic": bool}`. `escape(value)` makes a value read
literally: the template renderer applies it to every value of the context, so an occupant named
"*Atelier* #2" or "- Collectif" is printed as named.
"""

import re
import string
from collections.abc import Iterator, Mapping
from typing import Any

Block = dict[str, Any]
Run = dict[str, Any]

PAGE_BREAK = "saut-de-page"
PUNCTUATION = frozenset(string.punctuation)
# Characters that start a block when they open a line; escaped there only.
LINE_START_MARKS = frozenset("#-:")

_HEADING = re.compile(r"(#{1,6})[ \t]+(.*)")
_ITEM = re.compile(r"-[ \t]+(.*)")
_DIRECTIVE = re.compile(r"::([\w-]+)[ \t]*", re.UNICODE)


def escape(value: str) -> str:
    """`value` written so that `parse` prints it as is, whatever it contains."""
    out = []
    for line in value.split("\n"):
        body = line.replace("\\", "\\\\").replace("*", "\\*")
        stripped = body.lstrip()
        if stripped[:1] in LINE_START_MARKS:
            indent = len(body) - len(stripped)
            body = body[:indent] + "\\" + stripped
        out.append(body)
    return "\n".join(out)


def directive_lines(text: str) -> list[tuple[int, str]]:
    """(line number from 1, name) of every directive line of `text`."""
    found = []
    for number, line in enumerate(text.split("\n"), start=1):
        match = _DIRECTIVE.fullmatch(line.strip())
        if match:
            found.append((number, match.group(1)))
    return found


def unknown_directive_block(name: str) -> Block:
    return paragraph([run(f"[Directive inconnue : « ::{name} »]", italic=True)])


def parse(text: str, directives: Mapping[str, Block]) -> list[Block]:
    """The blocks of `text`; a directive names a block of `directives` (or saut-de-page)."""
    blocks: list[Block] = []
    lines = _lines(text)
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if not line:
            i += 1
            continue
        if _starts_block(line):
            if _ITEM.fullmatch(line):
                items, i = _list_items(lines, i)
                blocks.append({"type": "list", "items": [inline(item) for item in items]})
                continue
            blocks.append(_single_line_block(line, directives))
            i += 1
            continue
        paragraph_lines = []
        while i < len(lines) and lines[i].strip() and not _starts_block(lines[i].strip()):
            paragraph_lines.append(lines[i].strip())
            i += 1
        runs = inline("\n".join(paragraph_lines))
        if runs:
            blocks.append(paragraph(runs))
    return blocks


def paragraph(runs: list[Run]) -> Block:
    return {"type": "paragraph", "runs": runs}


def run(text: str, *, bold: bool = False, italic: bool = False) -> Run:
    return {"text": text, "bold": bold, "italic": italic}


def plain_text(runs: list[Run]) -> str:
    return "".join(r["text"] for r in runs)


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _starts_block(line: str) -> bool:
    return bool(_HEADING.fullmatch(line) or _ITEM.fullmatch(line) or _DIRECTIVE.fullmatch(line))


def _single_line_block(line: str, directives: Mapping[str, Block]) -> Block:
    heading = _HEADING.fullmatch(line)
    if heading:
        marks, content = heading.groups()
        runs = inline(content)
        if len(marks) == 1:
            return {"type": "title", "text": plain_text(runs)}
        return {"type": "heading", "level": 1 if len(marks) == 2 else 2, "runs": runs}
    name = _DIRECTIVE.fullmatch(line).group(1)
    if name == PAGE_BREAK:
        return {"type": "pagebreak"}
    if name in directives:
        return dict(directives[name])
    return unknown_directive_block(name)


def _list_items(lines: list[str], i: int) -> tuple[list[str], int]:
    """The items of the list starting at line `i`, and the index of the line after it."""
    items: list[str] = []
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        item = _ITEM.fullmatch(stripped)
        if item:
            items.append(item.group(1))
        elif stripped and items and line[:1] in (" ", "\t") and not _starts_block(stripped):
            items[-1] += "\n" + stripped
        elif not stripped and _next_is_item(lines, i):
            pass
        else:
            break
        i += 1
    return items, i


def _next_is_item(lines: list[str], i: int) -> bool:
    for line in lines[i:]:
        if line.strip():
            return bool(_ITEM.fullmatch(line.strip()))
    return False


# ---------------------------------------------------------------- inline


def inline(text: str) -> list[Run]:
    """The runs of `text`, whose lines (already stripped) are joined by "\\n"."""
    tokens = list(_tokens(text))
    bold, italic = _pairs(tokens, "**"), _pairs(tokens, "*")
    runs: list[Run] = []
    is_bold = is_italic = False
    for index, (kind, value) in enumerate(tokens):
        if index in bold:
            is_bold = not is_bold
            continue
        if index in italic:
            is_italic = not is_italic
            continue
        if kind in ("space", "break") and (not runs or runs[-1]["text"].endswith(("\n", " "))):
            if kind == "space" or not runs:
                continue
            runs[-1]["text"] = runs[-1]["text"].rstrip(" ")
        _append(runs, value, is_bold, is_italic)
    for r in runs[-1:]:
        r["text"] = r["text"].rstrip(" ")
    return [r for r in runs if r["text"]]


def _tokens(text: str) -> Iterator[tuple[str, str]]:
    """("text" | "space" | "break" | "*" | "**", value); delimiters carry their literal text."""
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "\\" and i + 1 < n and text[i + 1] == "\n":
            yield "break", "\n"
            i += 2
        elif char == "\\" and i + 1 < n and text[i + 1] in PUNCTUATION:
            yield "text", text[i + 1]
            i += 2
        elif char == "\\" and i + 1 == n:
            i += 1  # a break asked for at the very end: nothing follows to break from
        elif char == "*":
            width = 2 if text.startswith("**", i) else 1
            yield "*" * width, "*" * width
            i += width
        elif char in " \t\n":
            while i < n and text[i] in " \t\n":
                i += 1
            yield "space", " "
        else:
            start = i
            i += 1
            while i < n and text[i] not in "\\* \t\n":
                i += 1
            yield "text", text[start:i]


def _pairs(tokens: list[tuple[str, str]], delimiter: str) -> set[int]:
    """Indexes of the `delimiter` tokens that open or close an emphasis; the others are text."""
    paired: set[int] = set()
    opened: int | None = None
    for index, (kind, _value) in enumerate(tokens):
        if kind != delimiter:
            continue
        before = tokens[index - 1][0] if index > 0 else "space"
        after = tokens[index + 1][0] if index + 1 < len(tokens) else "space"
        if opened is not None and before not in ("space", "break") and index > opened + 1:
            paired.update((opened, index))
            opened = None
        elif after not in ("space", "break"):
            opened = index
    return paired


def _append(runs: list[Run], text: str, bold: bool, italic: bool) -> None:
    if runs and runs[-1]["bold"] == bold and runs[-1]["italic"] == italic:
        runs[-1]["text"] += text
    else:
        runs.append(run(text, bold=bold, italic=italic))
