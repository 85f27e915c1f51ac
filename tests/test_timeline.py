"""SVG occupancy timeline: well-formed, one line per space, vacancy visible, text escaped."""

import xml.etree.ElementTree as ET
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cascade.places.timeline import TimelineBar, TimelineRow, render_timeline_svg

NS = {"svg": "http://www.w3.org/2000/svg"}
START, END = date(2025, 1, 1), date(2025, 4, 1)


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def _with_class(root: ET.Element, css: str) -> list[ET.Element]:
    return [e for e in root.iter() if css in e.get("class", "").split()]


def _title(element: ET.Element) -> str:
    title = element.find("svg:title", NS)
    assert title is not None
    return title.text or ""


def _rows() -> list[TimelineRow]:
    return [
        TimelineRow(
            "B-101",
            "25 m² · bureau",
            bars=[
                TimelineBar(date(2025, 1, 1), date(2025, 1, 10), "Atelier Lune", "/occupancies/1/"),
                TimelineBar(date(2025, 1, 20), date(2025, 6, 1), "Compagnie des Ombres", None),
            ],
        ),
        TimelineRow("B-102", "12 m²", valid_from=date(2025, 2, 1)),
        TimelineRow("B-103", "", valid_until=date(2025, 3, 1)),
    ]


def test_svg_is_xml_with_one_line_per_space_and_accessible_name():
    root = _parse(render_timeline_svg(_rows(), START, END))

    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("role") == "img"
    assert root.get("aria-label") == "Frise d’occupation du 01/01/2025 au 31/03/2025"
    assert len(_with_class(root, "tl-row")) == 3


def test_width_is_proportional_to_days():
    narrow = _parse(render_timeline_svg(_rows(), START, END, day_px=2))
    wide = _parse(render_timeline_svg(_rows(), START, END, day_px=4))

    assert float(wide.get("width")) - float(narrow.get("width")) == 90 * 2


def test_a_gap_between_occupancies_is_a_vacant_band():
    root = _parse(render_timeline_svg(_rows(), START, END, day_px=3))
    first_row = _with_class(root, "tl-row")[0]

    [vacant] = _with_class(first_row, "tl-vacant")

    assert _title(vacant) == "Vacant du 10/01/2025 au 19/01/2025 (10 jours)"
    assert float(vacant.get("width")) == 10 * 3
    first_month = _with_class(root, "tl-month")[0]
    assert float(vacant.get("x")) - float(first_month.get("x")) == 9 * 3  # starts on 10 Jan


def test_occupied_bar_shows_occupant_and_inclusive_dates():
    root = _parse(render_timeline_svg(_rows(), START, END))
    first_row = _with_class(root, "tl-row")[0]

    titles = [_title(g) for g in _with_class(first_row, "tl-occupancy")]

    assert titles == [
        "Atelier Lune — du 01/01/2025 au 09/01/2025",
        # The bar runs past the window; its tooltip keeps the real dates.
        "Compagnie des Ombres — du 20/01/2025 au 31/05/2025",
    ]
    assert len(_with_class(first_row, "tl-occupied")) == 2


def test_outside_validity_is_greyed_not_vacant():
    root = _parse(render_timeline_svg(_rows(), START, END))
    _, not_yet, gone = _with_class(root, "tl-row")

    assert [_title(e) for e in _with_class(not_yet, "tl-invalid")] == [
        "Hors période de validité du 01/01/2025 au 31/01/2025"
    ]
    assert [_title(e) for e in _with_class(not_yet, "tl-vacant")] == [
        "Vacant du 01/02/2025 au 31/03/2025 (59 jours)"
    ]
    assert [_title(e) for e in _with_class(gone, "tl-invalid")] == [
        "Hors période de validité du 01/03/2025 au 31/03/2025"
    ]
    assert [_title(e) for e in _with_class(gone, "tl-vacant")] == [
        "Vacant du 01/01/2025 au 28/02/2025 (59 jours)"
    ]


def test_bar_with_href_is_a_link_and_javascript_is_not():
    rows = [
        TimelineRow(
            "A",
            "",
            bars=[
                TimelineBar(date(2025, 1, 1), date(2025, 2, 1), "x", "/o/1/?tab=docs&page=2"),
                TimelineBar(date(2025, 2, 1), date(2025, 3, 1), "y", "javascript:alert(1)"),
            ],
        )
    ]

    root = _parse(render_timeline_svg(rows, START, END))

    links = root.findall(".//svg:a", NS)
    assert [a.get("href") for a in links] == ["/o/1/?tab=docs&page=2"]
    assert len(_with_class(links[0], "tl-occupied")) == 1


def test_labels_are_escaped():
    rows = [
        TimelineRow(
            'Bureau <b>"1"</b> & co',
            "<script>",
            bars=[TimelineBar(START, date(2025, 1, 5), "</title><x>", "/o/?a=1&b='2'")],
        )
    ]

    svg = render_timeline_svg(rows, START, END)
    root = _parse(svg)

    assert "<b>" not in svg and "<script>" not in svg and "<x>" not in svg
    label = _with_class(root, "tl-label")[0]
    assert _title(label) == 'Bureau <b>"1"</b> & co — <script>'
    assert root.find(".//svg:a", NS).get("href") == "/o/?a=1&b='2'"
    assert _title(_with_class(root, "tl-occupancy")[0]).startswith("</title><x> — du 01/01/2025")


def test_today_line_only_inside_the_window():
    inside = _parse(render_timeline_svg(_rows(), START, END, today=date(2025, 2, 14)))
    outside = _parse(render_timeline_svg(_rows(), START, END, today=date(2025, 4, 1)))

    [line] = _with_class(inside, "tl-today")
    assert _title(line) == "Aujourd’hui, 14/02/2025"
    assert _with_class(outside, "tl-today") == []


def test_month_labels_in_french_and_english():
    fr = _parse(render_timeline_svg([], START, END))
    en = _parse(render_timeline_svg([], START, END, lang="en-gb"))

    assert [t.text for t in _with_class(fr, "tl-month-label")] == [
        "janv. 2025",
        "févr. 2025",
        "mars 2025",
    ]
    assert [t.text for t in _with_class(en, "tl-month-label")] == [
        "Jan 2025",
        "Feb 2025",
        "Mar 2025",
    ]
    assert en.get("aria-label") == "Occupancy timeline from 01/01/2025 to 31/03/2025"


def test_overlapping_bars_get_their_own_lane():
    rows = [
        TimelineRow(
            "A",
            "",
            bars=[
                TimelineBar(date(2025, 1, 1), date(2025, 2, 1), "x", None),
                TimelineBar(date(2025, 1, 15), date(2025, 3, 1), "y", None),
            ],
        )
    ]

    root = _parse(render_timeline_svg(rows, START, END))

    ys = {float(bar.get("y")) for bar in _with_class(root, "tl-occupied")}
    assert len(ys) == 2


def test_empty_window_is_refused():
    with pytest.raises(ValueError):
        render_timeline_svg([], END, START)


@given(st.text(), st.text(), st.text(), st.none() | st.text())
def test_any_text_gives_well_formed_svg(label, sublabel, occupant, href):
    rows = [TimelineRow(label, sublabel, bars=[TimelineBar(START, END, occupant, href)])]

    root = _parse(render_timeline_svg(rows, START, END, today=START))

    assert len(_with_class(root, "tl-row")) == 1
