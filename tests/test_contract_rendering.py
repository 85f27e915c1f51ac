"""Contract templates: the markup parser, the locked-down template engine, the default templates,
the PDF and the HTML preview. No database: templates are rendered against plain dicts."""

import copy
import io
import re
import time
from datetime import date

import pytest
from django.template.loader import render_to_string
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from cascade.contracts import markup, rendering, variables
from cascade.contracts.pdf import render_contract_pdf
from cascade.contracts.rendering import TemplateError, check_template, render_blocks, render_text
from cascade.contracts.variables import SAMPLE_CONTEXT

DAY = date(2026, 12, 4)


def _text(pdf: bytes) -> str:
    """The PDF's text, one space for any run of spaces; a line broken after a hyphen is joined back
    (the layout does not hyphenate, so such a hyphen is the text's own: "L145-5-1")."""
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"[\s\u00a0\u202f]+", " ", re.sub(r"-\n", "-", text))


def _pages(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def _pdf(template: str, context: dict, **options) -> bytes:
    document = context["document"]
    return render_contract_pdf(render_blocks(template, context), title=document["titre"],
                               reference=document["reference"], organisation="Tremplin Urbain", date=DAY, **options)


def _flat(text: str) -> str:
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


def _paragraph_texts(blocks: list[dict]) -> list[str]:
    return [markup.plain_text(b["runs"]) for b in blocks if b["type"] == "paragraph"]


# The markup ------------------------------------------------------------------------------------


def test_markup_blocks_and_inline_styles():
    text = ("# Convention\n## Article 1 — Objet\n### Détail\nUne **phrase** en *deux*\nlignes.\n\n"
            "- un\n  suite du premier\n\n- deux\n::ressources\n::saut-de-page\n::inconnue\n")
    table = {"type": "table", "columns": ["A"], "align": ["left"], "rows": [], "footer": None, "note": None}
    blocks = markup.parse(text, {"ressources": table})
    assert [b["type"] for b in blocks] == ["title", "heading", "heading", "paragraph", "list", "table", "pagebreak",
                                           "paragraph"]
    assert blocks[0] == {"type": "title", "text": "Convention"}
    assert (blocks[1]["level"], blocks[2]["level"]) == (1, 2)
    assert blocks[3]["runs"] == [markup.run("Une "), markup.run("phrase", bold=True), markup.run(" en "),
                                 markup.run("deux", italic=True), markup.run(" lignes.")]
    # Blank lines between items do not end a list; an indented line continues its item.
    assert [markup.plain_text(item) for item in blocks[4]["items"]] == ["un suite du premier", "deux"]
    assert blocks[5] == table
    assert markup.plain_text(blocks[7]["runs"]) == "[Directive inconnue : « ::inconnue »]"


def test_a_line_ending_with_a_backslash_breaks_the_line():
    blocks = markup.parse("12 rue des Arts\\\n93500 Pantin\nFrance", {})
    assert _paragraph_texts(blocks) == ["12 rue des Arts\n93500 Pantin France"]
    # An escaped backslash at the end of a line is printed, and breaks nothing.
    assert _paragraph_texts(markup.parse("C:\\\\\nsuite", {})) == ["C:\\ suite"]


def test_unmatched_or_spaced_stars_are_printed():
    assert _paragraph_texts(markup.parse("5 * 3 = 15 et *a", {})) == ["5 * 3 = 15 et *a"]
    runs = markup.parse("***les deux*** fin", {})[0]["runs"]
    assert runs[0] == markup.run("les deux", bold=True, italic=True)


@given(st.text())
def test_parsing_never_raises(text):
    for block in markup.parse(text, {"ressources": {"type": "table"}}):
        assert block["type"] in ("title", "heading", "paragraph", "list", "table", "pagebreak")


# Letters, digits, marks, punctuation and symbols; spaces and line breaks are added separately,
# other whitespace (no-break spaces…) is kept inside words and tested with the values below.
VISIBLE = st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"))


@given(st.lists(st.text(VISIBLE, min_size=1), min_size=1).map(" ".join),
       st.lists(st.sampled_from([" ", "\n", "  "]), min_size=1))
def test_an_escaped_value_is_printed_exactly_as_written(words, separators):
    # Whatever it holds (# - :: * \ at any place), a value reads as itself: words kept, spaces and
    # line breaks becoming single spaces, blank lines separating paragraphs.
    value = "".join(w + separators[i % len(separators)] for i, w in enumerate(words.split(" ")))
    blocks = markup.parse(markup.escape(value), {})
    assert all(b["type"] == "paragraph" for b in blocks)
    assert all(not r["bold"] and not r["italic"] for b in blocks for r in b["runs"])
    assert " ".join(_paragraph_texts(blocks)) == " ".join(value.split())


@given(st.lists(st.text(st.characters(whitelist_categories=("L", "N")), min_size=1), min_size=1),
       st.lists(st.sampled_from([" ", "\n", ", ", ". "]), min_size=1))
def test_plain_text_is_kept_word_for_word(words, separators):
    text = "".join(w + separators[i % len(separators)] for i, w in enumerate(words))
    assert " ".join(_paragraph_texts(markup.parse(text, {}))) == " ".join(text.split())


# The template engine ---------------------------------------------------------------------------


def test_variables_are_documented_and_the_sample_has_every_one_of_them():
    def paths(value, prefix=""):
        if isinstance(value, dict):
            for key, item in value.items():
                yield from paths(item, f"{prefix}.{key}" if prefix else key)
        elif isinstance(value, list):
            yield prefix
            for item in value[:1]:
                yield from paths(item, prefix + "[]")
        else:
            yield prefix

    documented = {name for name, _description in variables.VARIABLES}
    assert set(paths(SAMPLE_CONTEXT)) <= documented
    leaves = {name for name in documented if not any(other.startswith(name + ".") or other.startswith(name + "[]")
                                                     for other in documented)}
    assert leaves <= set(paths(SAMPLE_CONTEXT))
    assert all(description for _name, description in variables.VARIABLES)


def test_a_template_fills_in_variables_conditions_and_loops():
    template = ("# {{ document.titre }}\n"
                "Occupant : **{{ occupant.nom }}**,\n"
                "{% if occupant.siret %}\n"
                "SIRET {{ occupant.siret }},\n"
                "{% endif %}\n"
                "domicilié {{ occupant.adresse|en_ligne }}.\n\n"
                "{% for r in ressources %}\n"
                "- {{ r.reference }} ({{ forloop.counter }}/{{ ressources|length }})\n"
                "{% endfor %}\n"
                "{{ lieu.adresse|lignes }}\n")
    assert check_template(template) == []
    blocks = render_blocks(template, SAMPLE_CONTEXT)
    # Lines of tags alone leave no blank line: the paragraph is not split by its condition.
    assert markup.plain_text(blocks[1]["runs"]) == (
        "Occupant : Atelier Céramique des Lilas, SIRET 901 234 567 00011, domicilié 4 allée des Potiers, "
        "93260 Les Lilas.")
    assert [markup.plain_text(item) for item in blocks[2]["items"]] == ["MC-B12 (1/3)", "MC-B14 (2/3)",
                                                                        "MC-CAS-07 (3/3)"]
    assert markup.plain_text(blocks[3]["runs"]) == "47 quai de l'Aisne\n93500 Pantin"


def test_names_bound_by_for_and_with_are_known_inside_only():
    template = ("{% for c in montants.composantes %}{{ c.libelle }} {{ forloop.counter }}{% endfor %}\n"
                "{% with o=occupant %}{{ o.nom }} {{ o.nmo }}{% endwith %}\n"
                "{{ c.libelle }} {{ ressources.0.reference }} {{ occupant.nom|default:lieu.nom }}\n")
    assert check_template(template) == ["Ligne 2 : variable inconnue « o.nmo »",
                                        "Ligne 3 : variable inconnue « c.libelle »"]


TEMPLATE_BITS = st.sampled_from(["{{ ", " }}", "{% ", " %}", "if ", "elif ", "else", "endif", "for ", "endfor",
                                 " in ", "with ", "=", "endwith", "occupant.nom", "ressources", "r", "r.type", "|",
                                 "upper", ":", '"', "::ressources", "::x", "# ", "- ", "*", "\\", "{#", "#}", "\n",
                                 " ", "x"])


@given(st.lists(TEMPLATE_BITS, max_size=40).map("".join))
def test_any_text_is_either_rendered_or_refused_with_its_problems(text):
    problems = check_template(text)
    try:
        blocks = render_blocks(text, SAMPLE_CONTEXT)
    except TemplateError as error:
        assert problems and str(error)
    else:
        assert isinstance(blocks, list)


def test_text_from_a_browser_with_crlf_line_ends_renders_the_same():
    template = "# Titre\r\n{% if occupant.nom %}\r\nBonjour {{ occupant.nom }}\r\n{% endif %}\r\n"
    assert render_blocks(template, SAMPLE_CONTEXT) == render_blocks(template.replace("\r\n", "\n"), SAMPLE_CONTEXT)
    assert check_template(template) == []


def test_unknown_variables_and_directives_are_reported_with_their_line():
    template = ("# Titre\n\n{{ occupant.nom }}\n{% for r in ressources %}{{ r.reference }} {{ r.surfce }}"
                "{% endfor %}\n{% if occupant.est_particulier %}x{% elif occupant.nmo %}\ny{% endif %}\n"
                "::ressources\n::tableau\n")
    assert check_template(template) == [
        "Ligne 4 : variable inconnue « r.surfce »",
        "Ligne 5 : variable inconnue « occupant.nmo »",
        "Ligne 8 : directive inconnue « ::tableau » (possibles : ::modifications, ::montants, ::ressources, "
        "::saut-de-page, ::signatures)",
    ]


@pytest.mark.parametrize("template, problem", [
    ("a\nb\n{% if occupant.nom %}\nsans fin\n", "Ligne 3 : la balise « {% if %} » n'est pas fermée"),
    ("a\n{% endif %}\n", "Ligne 2 : balise « {% endif %} » inconnue"),
    ("a\n\n\n{{ document.date|date:'Y' }}", "Ligne 4 : filtre inconnu « |date »"),
    ("{{ occupant. nom }}", "Ligne 1 : expression illisible"),
    ("\n{{ occupant.__class__ }}", "Ligne 2 : un nom ne peut pas commencer par « _ »"),
])
def test_a_syntax_error_is_reported_with_its_line(template, problem):
    problems = check_template(template)
    assert len(problems) == 1 and problems[0].startswith(problem), problems
    with pytest.raises(TemplateError, match=re.escape(problem)):
        render_text(template, SAMPLE_CONTEXT)


@pytest.mark.parametrize("tag", ["{% debug %}", "{% load i18n %}", "{% include 'base.html' %}",
                                 "{% extends 'base.html' %}", "{% url 'home' %}", "{% now 'Y' %}",
                                 "{% csrf_token %}"])
def test_tags_that_reach_outside_the_context_do_not_exist(tag):
    problems = check_template(f"Texte\n{tag}\n")
    assert len(problems) == 1 and problems[0].startswith("Ligne 2 : balise"), problems


def test_a_template_cannot_reach_anything_outside_its_context():
    context = copy.deepcopy(SAMPLE_CONTEXT)
    called = []

    class Model:
        def delete(self):
            called.append("delete")

        def __str__(self):
            return "objet"

    context["lieu"]["nom"] = Model()
    template = ("[{{ settings.SECRET_KEY }}][{{ request.user }}][{{ occupant.clear }}][{{ ressources.pop }}]"
                "[{{ lieu.nom.delete }}][{{ lieu.nom }}]")
    assert render_text(template, context) == "[][][][][][objet]"
    # Nothing was called or changed: the context is a frozen copy, made of plain values only.
    assert called == [] and context["occupant"] == SAMPLE_CONTEXT["occupant"]
    assert len(context["ressources"]) == len(SAMPLE_CONTEXT["ressources"])
    problems = check_template(template)
    assert "Ligne 1 : variable inconnue « settings.SECRET_KEY »" in problems
    assert "Ligne 1 : variable inconnue « occupant.clear »" in problems


def test_values_are_never_read_as_markup():
    context = copy.deepcopy(SAMPLE_CONTEXT)
    context["occupant"]["nom"] = "## *Collectif* **B12** \\"
    context["occupant"]["adresse"] = "- 3 rue\n::signatures\n# Bâtiment C"
    blocks = render_blocks("{{ occupant.nom }}\n\n{{ occupant.adresse }}\n", context)
    assert _paragraph_texts(blocks) == ["## *Collectif* **B12** \\", "- 3 rue ::signatures # Bâtiment C"]


# The default templates -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", rendering.KINDS)
def test_each_default_template_is_sound_and_states_the_essentials(kind):
    template = rendering.default_template_text(kind)
    names = {"convention_temporaire": "convention d'occupation temporaire",
             "convention_precaire": "convention d'occupation précaire", "adhesion": "contrat d'adhésion",
             "avenant": "avenant"}
    assert template.startswith("{# Modèle Cascade : " + names[kind])
    assert check_template(template) == []
    context = variables.sample_context(kind)
    pdf = _pdf(template, context, banner="PROJET — document non signé")
    text = _text(pdf)
    assert 2 <= _pages(pdf) <= 4
    for expected in ["Atelier Céramique des Lilas", "Tremplin Urbain", "Inès Barbier", "MC-B12", "MC-CAS-07",
                     "60,70 m²", "890,00 €", "1 075,00 €", "TVA au taux de 20 % en sus", "PROJET — document non signé",
                     "Signé électroniquement", f"{context['document']['reference']} page 1/{_pages(pdf)}"]:
        assert expected in text, expected
    if kind != "avenant":
        # Not a commercial lease; deposit, charges regularised, insurance.
        assert re.search("baux commerciaux|bail commercial", text) and "2 500,00 €" in text
        assert re.search("régularisée", text) and "assure" in text


def test_the_precarious_convention_cites_the_code_and_its_circumstances():
    context = variables.sample_context("convention_precaire")
    text = _text(_pdf(rendering.default_template_text("convention_precaire"), context))
    assert "L145-5-1" in text
    assert _flat(context["precaire"]["circonstances"]) in text
    # Without circumstances, the document says they are missing rather than keeping quiet.
    context["precaire"] = {"circonstances": ""}
    assert "Circonstances à préciser" in _text(_pdf(rendering.default_template_text("convention_precaire"), context))


def test_the_amendment_shows_old_and_new_values_side_by_side():
    context = variables.sample_context("avenant")
    blocks = render_blocks(rendering.default_template_text("avenant"), context)
    changes = next(b for b in blocks if b["type"] == "table" and b["columns"][0] == "Stipulation")
    assert changes["columns"] == ["Stipulation", "Avant l'avenant", "À compter du 01/04/2027"]
    assert changes["rows"] == [[m["objet"], m["ancien"], m["nouveau"]] for m in context["avenant"]["modifications"]]
    text = _text(render_contract_pdf(blocks, title="Avenant n° 2", reference="OCC-0012-A2",
                                     organisation="Tremplin Urbain", date=DAY))
    assert "Avenant n° 2 à la convention OCC-0012" in text
    assert "Redevance d'occupation (mensuelle HT) 612,00 € 890,00 €" in text
    assert "Date de sortie 31/03/2027 sans date (jusqu'à nouvel ordre)" in text
    assert "demeurent inchangées" in text


def test_directive_tables_follow_the_context():
    monthly = copy.deepcopy(SAMPLE_CONTEXT)
    monthly["occupation"]["frequence"] = "mensuelle"
    monthly["tva"] = {"regime": "exempt", "taux": "", "mention": "Exonération de TVA, article 261 D 2° du CGI"}
    monthly["ressources"], monthly["surface_totale"] = [], ""
    tables = rendering.directive_blocks(monthly)
    assert tables["montants"]["columns"] == ["Composante", "Montant mensuel HT"]
    assert tables["montants"]["note"] == "Exonération de TVA, article 261 D 2° du CGI"
    assert tables["ressources"]["rows"] == [] and tables["ressources"]["footer"] is None
    assert tables["modifications"]["rows"] and tables["signatures"]["signers"][0]["name"] == "Inès Barbier"
    quarterly = rendering.directive_blocks(SAMPLE_CONTEXT)["montants"]
    assert quarterly["columns"][2] == "Par trimestre HT" and quarterly["footer"][2] == "3\u202f225,00\u00a0€"


# The PDF ---------------------------------------------------------------------------------------


def test_typst_markup_in_values_is_printed_literally():
    name = "Atelier #panic() $x^2$ *B12* [a] @ref <l> \\ _u_ `c` ~ // fin"
    context = copy.deepcopy(SAMPLE_CONTEXT)
    context["occupant"]["nom"] = name
    context["signataires"][0]["organisation"] = name
    pdf = _pdf("# Convention\n\n{{ occupant.nom }}\n\n::ressources\n\n::signatures\n", context,
               banner="#strong[PROJET] $1$")
    text = _text(pdf)
    assert text.count(name) == 2
    assert "#strong[PROJET] $1$" in text


def test_the_pdf_is_the_same_bytes_for_the_same_blocks():
    blocks = render_blocks(rendering.default_template_text("convention_temporaire"), SAMPLE_CONTEXT)
    options = {"title": "Convention d'occupation temporaire", "reference": "OCC-0012", "organisation": "Tremplin",
               "date": DAY}
    first = render_contract_pdf(blocks, **options)
    assert first.startswith(b"%PDF") and render_contract_pdf(blocks, **options) == first
    assert render_contract_pdf(blocks, **{**options, "date": date(2026, 12, 5)}) != first
    info = PdfReader(io.BytesIO(first)).metadata
    assert info.title == "Convention d'occupation temporaire OCC-0012" and "20261204" in info["/CreationDate"]


def test_hand_made_blocks_and_the_banner_on_every_page():
    paragraph = {"type": "paragraph", "runs": [{"text": "Texte. " * 60, "bold": False, "italic": False}]}
    blocks = [{"type": "title", "text": "Attestation"}, paragraph, {"type": "pagebreak"}, paragraph,
              {"type": "list", "items": [[{"text": "un", "bold": True, "italic": False}]]}]
    pdf = render_contract_pdf(blocks, title="Attestation", reference="DEMO", organisation="Mutuelle", date=DAY,
                              banner="Convention signée hors Cascade — exemplaire établi pour mémoire")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 2
    for number, page in enumerate(reader.pages, start=1):
        text = _flat(page.extract_text())
        assert "Convention signée hors Cascade — exemplaire établi pour mémoire" in text
        assert f"Attestation — DEMO page {number}/2" in text
    with pytest.raises(ValueError, match="unknown block type"):
        render_contract_pdf([{"type": "video"}], title="t", reference="r", organisation="o", date=DAY)


def test_a_three_page_contract_renders_quickly():
    template = rendering.default_template_text("convention_temporaire")
    _pdf(template, SAMPLE_CONTEXT)  # fonts and the template parsed once
    start = time.perf_counter()
    pdf = _pdf(template, SAMPLE_CONTEXT)
    elapsed = time.perf_counter() - start
    assert _pages(pdf) == 3
    assert elapsed < 1.0, f"{elapsed:.3f} s"


# The HTML preview ------------------------------------------------------------------------------


def test_the_preview_lays_out_the_same_blocks_as_html():
    context = copy.deepcopy(SAMPLE_CONTEXT)
    context["occupant"]["nom"] = "<script>alert(1)</script> & Cie"
    blocks = render_blocks(rendering.default_template_text("convention_temporaire")
                           + "\nLigne\\\nsuivante\n::saut-de-page\n", context)
    html = render_to_string("contracts/_preview.html", {"blocks": blocks, "problems": ["Ligne 3 : variable inconnue"]})
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Cie" in html
    assert '<p class="contract-title" role="heading" aria-level="2">Convention d&#x27;occupation temporaire</p>' in html
    assert '<p class="contract-heading level-1" role="heading" aria-level="3">Article 1 — Objet</p>' in html
    assert "<strong>OCC-0012</strong>" in html and "Ligne<br>suivante" in html
    assert "<td>MC-B12</td>" in html and "<th>60,70\u00a0m²</th>" in html
    assert "#contract-table-" in html and "nth-child(4) { text-align: right; }" in html
    assert html.count('class="contract-signature-box"') == 2 and '<hr class="contract-pagebreak">' in html
    assert '<li>Ligne 3 : variable inconnue</li>' in html
    assert "contract-preview" in render_to_string("contracts/_preview.html", {"blocks": []})
