"""The French catalogue is complete and compiled, and the interface speaks French by default.

No dependency and no GNU gettext needed: the .po is parsed here, the .mo is read with the
standard library, and the msgids of the sources are extracted the way ``makemessages`` does
(Django's ``templatize`` for templates, the ``ast`` module for Python).

After adding or changing a string, from the repository root:

    .venv/bin/cascade makemessages -l fr --ignore=.venv --ignore=tests
    (translate it in cascade/locale/fr/LC_MESSAGES/django.po, drop any "fuzzy" flag)
    .venv/bin/cascade compilemessages --ignore=.venv

and commit both django.po and django.mo (CI machines have no msgfmt).
"""

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation.template import templatize

PACKAGE = Path(__file__).resolve().parents[1] / "cascade"
LC_MESSAGES = PACKAGE / "locale" / "fr" / "LC_MESSAGES"
PO = LC_MESSAGES / "django.po"
MO = LC_MESSAGES / "django.mo"
DEMO_DAY = "2026-11-30"


# --- a minimal .po reader -------------------------------------------------------------------

@dataclass
class Entry:
    msgid: str | None = None
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False
    line: int = 0

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    def __str__(self) -> str:
        return f"django.po line {self.line}: {self.msgid!r}"


_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(".*")$')


def read_po(path: Path) -> list[Entry]:
    """Entries of a .po file; a .po string is a valid Python string literal."""
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int | None] | None = None  # the field continuation lines add to
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if not line:
            entry, target = None, None
            continue
        if line.startswith("#"):
            if line.startswith("#,"):
                if entry is None or target is not None:
                    entry, target = Entry(line=number), None
                    entries.append(entry)
                entry.flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        match = _KEYWORD.match(line)
        if match:
            keyword, index, text = match.groups()
            if entry is None or (keyword in ("msgctxt", "msgid") and target not in (None, ("msgctxt", None))):
                entry = Entry(line=number)
                entries.append(entry)
            entry.obsolete = entry.obsolete or obsolete
            target = (keyword, int(index or 0) if keyword == "msgstr" else None)
        elif line.startswith('"') and target is not None:
            text = line
        else:
            raise AssertionError(f"{path.name} line {number}: cannot parse {raw!r}")
        keyword, index = target
        if keyword == "msgstr":
            entry.msgstr[index] = entry.msgstr.get(index, "") + ast.literal_eval(text)
        else:
            setattr(entry, keyword, (getattr(entry, keyword) or "") + ast.literal_eval(text))
    return [e for e in entries if e.msgid is not None]


@pytest.fixture(scope="module")
def po_entries() -> list[Entry]:
    assert PO.exists(), f"{PO} is missing: run makemessages"
    return read_po(PO)


@pytest.fixture(scope="module")
def messages(po_entries) -> list[Entry]:
    return [e for e in po_entries if e.msgid and not e.obsolete]


# --- (a) the catalogue ----------------------------------------------------------------------

def test_catalogue_has_messages(messages):
    assert len(messages) > 200


def test_header_is_french_and_not_fuzzy(po_entries):
    header = next(e for e in po_entries if e.msgid == "" and not e.obsolete)
    assert "fuzzy" not in header.flags
    assert "Language: fr\n" in header.msgstr[0]
    assert "charset=UTF-8" in header.msgstr[0]
    assert "plural=(n > 1)" in header.msgstr[0]


def test_every_message_is_translated(messages):
    untranslated = [str(e) for e in messages if not all(e.msgstr.values()) or not e.msgstr]
    assert not untranslated, "untranslated in django.po:\n" + "\n".join(untranslated)
    plural = [str(e) for e in messages if e.msgid_plural is not None and sorted(e.msgstr) != [0, 1]]
    assert not plural, "French needs msgstr[0] and msgstr[1]:\n" + "\n".join(plural)


def test_no_fuzzy_message(messages):
    fuzzy = [str(e) for e in messages if "fuzzy" in e.flags]
    assert not fuzzy, "fuzzy in django.po (check the translation, then drop the flag):\n" + "\n".join(fuzzy)


_PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifr%]")


def _placeholders(text: str) -> list[str]:
    return sorted(_PLACEHOLDER.findall(text))


def test_placeholders_are_kept(messages):
    wrong = []
    for e in messages:
        for index, translated in e.msgstr.items():
            source = e.msgid_plural if (index > 0 and e.msgid_plural is not None) else e.msgid
            expected = _placeholders(source)
            # A French singular may spell out "one" instead of %(n)s; it must not invent others.
            got = _placeholders(translated)
            if got != expected and not (index == 0 and e.msgid_plural and set(got) <= set(expected)):
                wrong.append(f"{e}: {expected} vs {got} in {translated!r}")
    assert not wrong, "placeholders changed:\n" + "\n".join(wrong)


def test_compiled_catalogue_matches_po(messages):
    """The .mo holds exactly the .po's translations: compilemessages was run after the last edit."""
    assert MO.exists(), f"{MO} is missing: run compilemessages and commit it"
    with MO.open("rb") as fh:
        catalog = dict(gettext.GNUTranslations(fh)._catalog)
    catalog.pop("", None)  # the header
    expected = {}
    for e in messages:
        msgid = e.msgid if e.msgctxt is None else f"{e.msgctxt}\x04{e.msgid}"
        if e.msgid_plural is None:
            expected[msgid] = e.msgstr[0]
        else:
            for index, text in e.msgstr.items():
                expected[(msgid, index)] = text
    missing = sorted(map(str, expected.keys() - catalog.keys()))
    extra = sorted(map(str, catalog.keys() - expected.keys()))
    assert not missing and not extra, (
        f"django.mo is stale (run compilemessages): missing {missing[:10]}, extra {extra[:10]}")
    differ = sorted(str(k) for k in expected if catalog[k] != expected[k])
    assert not differ, f"django.mo is stale (run compilemessages), translations differ: {differ[:10]}"


# Keywords makemessages passes to xgettext, with xgettext's own Python defaults.
_PY_KEYWORDS = {
    "_": ("s",), "gettext": ("s",), "gettext_lazy": ("s",), "gettext_noop": ("s",),
    "ngettext": ("s", "p"), "ngettext_lazy": ("s", "p"),
    "pgettext": ("c", "s"), "pgettext_lazy": ("c", "s"),
    "npgettext": ("c", "s", "p"), "npgettext_lazy": ("c", "s", "p"),
}
_STRING = r"""u?(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
_TEMPLATE_CALL = re.compile(
    rf"(?<![\w.])(_|gettext|ngettext|pgettext|npgettext)\(\s*({_STRING}(?:\s*,\s*{_STRING})*)")


def _keys(name: str, args: list[str]) -> set[tuple[str | None, str]]:
    roles = dict(zip(_PY_KEYWORDS[name], args, strict=False))  # trailing args unnamed
    keys = {(roles.get("c"), roles["s"])} if "s" in roles else set()
    return keys


def _python_msgids(path: Path) -> set[tuple[str | None, str]]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in _PY_KEYWORDS:
            continue
        args = []
        for arg in node.args[: len(_PY_KEYWORDS[name])]:
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                break
            args.append(arg.value)
        if len(args) == len(_PY_KEYWORDS[name]):
            found |= _keys(name, args)
    return found


def _template_msgids(path: Path) -> set[tuple[str | None, str]]:
    found = set()
    for match in _TEMPLATE_CALL.finditer(templatize(path.read_text(encoding="utf-8"), str(path))):
        name = match.group(1)
        args = [ast.literal_eval(s) for s in re.findall(_STRING, match.group(2))]
        if len(args) >= len(_PY_KEYWORDS[name]):
            found |= _keys(name, args)
    return found


def source_msgids() -> dict[tuple[str | None, str], Path]:
    found: dict[tuple[str | None, str], Path] = {}
    for path in sorted(PACKAGE.rglob("*")):
        if "locale" in path.relative_to(PACKAGE).parts or not path.is_file():
            continue
        if path.suffix == ".py":
            keys = _python_msgids(path)
        elif path.suffix in (".html", ".txt"):
            keys = _template_msgids(path)
        else:
            continue
        for key in keys:
            found.setdefault(key, path)
    return found


def test_sources_are_in_the_catalogue(messages):
    """Every string marked for translation in cascade/ is in django.po: makemessages was run."""
    in_po = {e.key for e in messages}
    sources = source_msgids()
    assert len(sources) > 200  # the extraction itself works
    missing = sorted(f"{path.relative_to(PACKAGE)}: {key[1]!r}" for key, path in sources.items()
                     if key not in in_po)
    assert not missing, ("not in cascade/locale/fr/LC_MESSAGES/django.po, run makemessages and "
                         "translate:\n" + "\n".join(missing))


def test_key_messages_in_french():
    with translation.override("fr"):
        assert translation.gettext("Log in") == "Se connecter"
        assert translation.gettext("Credit note") == "Avoir"
        assert translation.gettext("Total excl. VAT") == "Total HT"
        assert translation.gettext("Fluids provision") == "Provision sur charges (fluides)"
        assert translation.gettext("in arrears (à terme échu)") == "à terme échu"
        assert translation.gettext("Viewer") == "Lecteur"
        assert translation.ngettext("%(n)s document", "%(n)s documents", 2) % {"n": 2} == "2 documents"
    with translation.override("en"):
        assert translation.gettext("Log in") == "Log in"


# --- (b) the login page, French by default, English on request ----------------------------

def _html(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_login_page_is_french_by_default(client):
    html = _html(client.get(reverse("login")))
    assert '<html lang="fr">' in html
    assert "Se connecter" in html
    assert "Mot de passe oublié" in html
    assert "Mot de passe" in html  # Django's own label of the password field
    assert "Forgotten password" not in html
    # The switch names each language in that language.
    assert '<option value="fr" selected>Français</option>' in html
    assert '<option value="en">English</option>' in html


@pytest.mark.django_db
def test_language_switch_to_english_and_back(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("login")})
    assert response.status_code == 302 and response["Location"] == reverse("login")
    html = _html(client.get(reverse("login")))
    assert '<html lang="en">' in html
    assert "Forgotten password?" in html
    assert ">Password" in html
    assert "Mot de passe" not in html

    client.post(reverse("set_language"), {"language": "fr", "next": reverse("login")})
    assert "Mot de passe oublié" in _html(client.get(reverse("login")))


@pytest.mark.django_db
def test_language_cookie(client):
    client.cookies["django_language"] = "en"
    assert "Forgotten password?" in _html(client.get(reverse("login")))


# --- (c) logged-in pages -------------------------------------------------------------------

def test_dashboard_in_french(alice_client, operator):
    html = _html(alice_client.get(reverse("dashboard", args=[operator.pk]), {"on": DEMO_DAY}))
    assert "Situation au 30/11/2026" in html
    assert "Factures émises en novembre 2026" in html  # French month name
    assert "Total HT" in html and "Total TTC" in html
    assert "Taux de vacance" not in html and "Vacance (en nombre)" in html
    assert "Lieux" in html and "Membres" in html and "Se déconnecter" in html
    assert "Invoices of" not in html


def test_dashboard_in_english(alice_client, operator):
    alice_client.cookies["django_language"] = "en"
    html = _html(alice_client.get(reverse("dashboard", args=[operator.pk]), {"on": DEMO_DAY}))
    assert "Invoices of November 2026" in html
    assert "Total excl. VAT" in html and "Log out" in html


def test_place_page_in_french(alice_client, operator):
    from cascade.places.models import Place

    place = Place.objects.filter(organisation=operator).first()
    html = _html(alice_client.get(reverse("place", args=[place.pk]), {"on": DEMO_DAY}))
    assert "Coût de la vacance par mois" in html
    assert "Frise d’occupation" in html
    assert re.search(r"(janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|"
                     r"décembre) 20\d\d", html)


def test_invoice_list_in_french(alice_client, operator):
    html = _html(alice_client.get(reverse("invoices", args=[operator.pk])))
    assert "Avoirs" in html and "Filtrer" in html and "TTC" in html


# --- e-mails --------------------------------------------------------------------------------

def _invite(client, operator, email, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("members", args=[operator.pk]), {"email": email, "role": "viewer"})
    assert response.status_code == 302


def test_invitation_email_in_french(alice_client, operator, mailoutbox, django_capture_on_commit_callbacks):
    _invite(alice_client, operator, "nouvelle@example.org", django_capture_on_commit_callbacks)
    [mail] = mailoutbox
    assert mail.subject == f"Invitation à rejoindre {operator.name} sur Cascade"
    assert mail.body.startswith("Bonjour,")
    assert f"vous invite à rejoindre {operator.name} sur Cascade avec le rôle «\u00a0Lecteur\u00a0»" in mail.body
    assert "/invitation/" in mail.body


def test_invitation_email_in_english(alice_client, operator, mailoutbox, django_capture_on_commit_callbacks):
    alice_client.cookies["django_language"] = "en"
    _invite(alice_client, operator, "newcomer@example.org", django_capture_on_commit_callbacks)
    [mail] = mailoutbox
    assert mail.subject == f"Invitation to join {operator.name} on Cascade"
    assert "with the role “Viewer”" in mail.body


def test_password_reset_email_in_french(client, site, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": site["alice"].email})
    assert response.status_code == 302
    [mail] = mailoutbox
    assert mail.subject == "Réinitialisation de votre mot de passe Cascade"
    assert "Pour choisir un nouveau mot de passe, ouvrez ce lien" in mail.body
    assert "/password/reset/" in mail.body
    assert "Consultez votre messagerie" in _html(client.get(response["Location"]))
