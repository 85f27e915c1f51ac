"""Cell parsers of the workbook import: French numbers, dates, identifiers, yes/no."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cascade.imports import cells
from cascade.imports.cells import CellError

NNBSP = "\u202f"
NBSP = "\u00a0"


def _problem(parse, value) -> str:
    with pytest.raises(CellError) as caught:
        parse(value)
    return caught.value.problem


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  La Clé   Vagabond ", "La Clé Vagabond"),
        (f"1{NNBSP}264,00", "1 264,00"),
        (f"a{NBSP}{NBSP}b\n c\t", "a b c"),
        (0, "0"),
        (2.0, "2"),
        (1.5, "1.5"),
        (datetime(2026, 4, 16), "16/04/2026"),
        (None, None),
        ("", None),
        (f" {NNBSP} ", None),
    ],
)
def test_text(raw, expected):
    assert cells.text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1 250,50", "1250.50"),
        (f"1{NNBSP}264,00", "1264.00"),
        (f"2{NBSP}160,00 €", "2160.00"),
        ("150,00 €", "150.00"),
        ("8,00 €", "8.00"),
        ("146 m²", "146"),
        ("35 m2", "35"),
        ("-25", "-25"),
        ("\u221225,5", "-25.5"),
        ("1 500", "1500"),
        ("1.250,50", "1250.50"),
        ("1.5", "1.5"),
        (",5", "0.5"),
        ("12 euros", "12"),
        (27, "27"),
        (40.5, "40.5"),
        (194.4, "194.4"),
        (1895.32, "1895.32"),
        (0.1 + 0.2, "0.3"),  # binary noise beyond Excel's 15 digits is dropped
    ],
)
def test_decimal_fr(raw, expected):
    parsed = cells.decimal_fr(raw)
    assert parsed == Decimal(expected)
    assert str(parsed) == expected


def test_decimal_fr_keeps_the_written_decimals():
    assert str(cells.decimal_fr(f"1{NNBSP}264,00")) == "1264.00"


@pytest.mark.parametrize("raw", ["douze euros", "1,2,3", "12 34", "1 2345,00", "12-3", "€", True])
def test_decimal_fr_rejects(raw):
    assert _problem(cells.decimal_fr, raw) == "amount that is not a number"


def test_decimal_fr_names_what_is_not_a_number():
    assert _problem(lambda v: cells.decimal_fr(v, noun="surface"), "grand") == (
        "surface that is not a number"
    )
    assert _problem(cells.decimal_fr, None) == "required value missing"


def test_integer():
    assert cells.integer("12") == 12
    assert cells.integer(3.0) == 3
    assert _problem(lambda v: cells.integer(v, noun="capacity"), "2,5") == (
        "capacity that is not a whole number"
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (datetime(2025, 3, 3), date(2025, 3, 3)),
        (date(2025, 3, 3), date(2025, 3, 3)),
        ("03/03/2025", date(2025, 3, 3)),
        ("2025-03-03", date(2025, 3, 3)),
        ("06/01/2025", date(2025, 1, 6)),  # day first: 6 January, never 1 June
        (" 7/1/2025 ", date(2025, 1, 7)),
        ("29.02.2028", date(2028, 2, 29)),
    ],
)
def test_date_fr(raw, expected):
    assert cells.date_fr(raw) == expected


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("31/02/2026", "date that does not exist"),
        ("12/31/2026", "date that does not exist"),  # month first is never guessed
        ("2026-13-01", "date that does not exist"),
        ("demain", "value that is not a date"),
        ("03/03/25", "value that is not a date"),
        (45658, "value that is not a date"),
        (None, "required value missing"),
    ],
)
def test_date_fr_rejects(raw, problem):
    assert _problem(cells.date_fr, raw) == problem


@pytest.mark.parametrize(
    "raw", ["oui", "Oui", "OUI", "x", "X", "yes", "true", "Vrai", "1", 1, True]
)
def test_yes(raw):
    assert cells.yes_no(raw) is True


@pytest.mark.parametrize("raw", ["non", "Non", "no", "", None, "  ", "0", 0, False, "faux"])
def test_no(raw):
    assert cells.yes_no(raw) is False


def test_yes_no_rejects_other_words():
    assert _problem(cells.yes_no, "peut-être") == "value that is neither yes nor no"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(" a-os1-p07 ", "A-OS1-P07"), (" A-111 ", "A-111"), ("loge", "LOGE"), ("s03", "S03")],
)
def test_reference(raw, expected):
    assert cells.reference(raw) == expected


def test_reference_rejects():
    assert _problem(cells.reference, "A 101") == "malformed space reference"
    assert _problem(cells.reference, " ") == "required value missing"


@pytest.mark.parametrize(
    "raw",
    [
        "A-101, A-102",
        "a-101, A-102",
        "A-101;A-102",
        "A-101 ;  a-102",
        "A-101   A-102",
        "A-101,A-102,",
    ],
)
def test_reference_list(raw):
    assert cells.reference_list(raw) == ("A-101", "A-102")


def test_reference_list_single_and_repeated():
    assert cells.reference_list("C-999") == ("C-999",)
    assert _problem(cells.reference_list, "A-101, a-101") == "space reference repeated in the cell"


def test_siret():
    assert cells.siret("43920640053409") == "43920640053409"
    assert cells.siret(f"439 206 400{NNBSP}53409") == "43920640053409"
    assert cells.siret(43920640053409) == "43920640053409"
    assert _problem(cells.siret, "12345678901234") == "SIRET with a wrong check digit"
    assert _problem(cells.siret, "4392064005340") == "SIRET that is not 14 digits"
    assert _problem(cells.siret, "4392064005340A") == "SIRET that is not 14 digits"


def _with_check_digits(country: str, bban: str) -> str:
    """ISO 13616 check digits, to build IBANs whose only fault is elsewhere."""
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


def test_iban():
    assert cells.iban("FR76 3000 3315 2116 9207 1991 947") == "FR7630003315211692071991947"
    assert cells.iban(_with_check_digits("FR", "30003315211692071991947")) == (
        "FR7630003315211692071991947"
    )


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("FR76 3000 4000 0312 3456 7890 144", "IBAN with a wrong checksum"),
        ("FR76 3000 3315 2116 9207 1991 948", "IBAN with a wrong checksum"),
        # Right ISO checksum, wrong French RIB key (the last two digits).
        (_with_check_digits("FR", "30003315211692071991948"), "IBAN with a wrong bank account key"),
        ("FR76 3000 3315", "IBAN with a wrong length"),
        ("XX76 3000 3315 2116 9207 1991 947", "IBAN with an unknown country code"),
    ],
)
def test_iban_rejects(raw, problem):
    assert _problem(cells.iban, raw) == problem


def test_vat_number_and_creditor_id():
    assert cells.vat_number("FR 21 439206400") == "FR21439206400"
    assert _problem(cells.vat_number, "FR22439206400") == "VAT number with a wrong check digit"
    assert cells.creditor_id("FR60 ZZZ 406524") == "FR60ZZZ406524"
    assert _problem(cells.creditor_id, "FR61ZZZ406524") == "ICS with a wrong check digit"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("contact@karimtraore.example.org", "contact@karimtraore.example.org"),
        (" Loge.Voltaire@Example.ORG ", "Loge.Voltaire@example.org"),
    ],
)
def test_email(raw, expected):
    assert cells.email(raw) == expected


@pytest.mark.parametrize("raw", ["contact(at)exemple", "a@b", "a b@c.org", "a@@b.org", "@b.org"])
def test_email_rejects(raw):
    assert _problem(cells.email, raw) == "malformed e-mail address"


def test_percent_shares():
    raw = "Collectif Tremplin (60 %) ; Association Entraide Voltaire (40 %)"
    assert cells.percent_shares(raw) == [
        ("Collectif Tremplin", Decimal(60)),
        ("Association Entraide Voltaire", Decimal(40)),
    ]
    assert cells.percent_shares("Collectif Tremplin (100 %)") == [
        ("Collectif Tremplin", Decimal(100))
    ]
    assert cells.percent_shares("Collectif Tremplin") == [("Collectif Tremplin", Decimal(100))]
    assert cells.percent_shares("Net'Insertion (insertion) (33,5%);Le Lieu (66,5 %)") == [
        ("Net'Insertion (insertion)", Decimal("33.5")),
        ("Le Lieu", Decimal("66.5")),
    ]


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("A (60 %) ; B (30 %)", "shares that do not add up to 100 %"),
        ("A (60 %) ; B", "share without a percentage, as in 'Name (60 %)'"),
        ("A (0 %) ; B (100 %)", "share outside 0 to 100 %"),
        ("A (50 %) ; a (50 %)", "organisation named twice in the shares"),
        ("A (moitié %) ; B (50 %)", "share that is not a number"),
    ],
)
def test_percent_shares_rejects(raw, problem):
    assert _problem(cells.percent_shares, raw) == problem


def test_normalise():
    assert cells.normalise("  DATE D’ENTRÉE ") == cells.normalise("Date d'entrée")
    assert cells.normalise("Surface (m²)") == "surface (m2)"


def _french(amount: Decimal, thousands: str) -> str:
    """How a French spreadsheet shows an amount: '-1 234 567,89'."""
    sign = "-" if amount < 0 else ""
    whole, _, cents = f"{abs(amount):.2f}".partition(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return f"{sign}{thousands.join(groups)},{cents}"


amounts = st.decimals(
    min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=2, allow_nan=False
)


@given(amounts, st.sampled_from([NNBSP, NBSP, " ", "."]), st.sampled_from(["", " €", "€"]))
def test_decimal_fr_reads_back_french_amounts(amount, thousands, unit):
    assert cells.decimal_fr(_french(amount, thousands) + unit) == amount


@given(amounts)
def test_decimal_fr_reads_floats_without_float_arithmetic(amount):
    # Up to 15 significant digits, a float cell gives back exactly the amount typed.
    assert cells.decimal_fr(float(amount)) == amount


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_decimal_fr_reads_integers_exactly(number):
    assert cells.decimal_fr(number) == number
    assert cells.decimal_fr(str(number)) == number


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2999, 12, 31)))
def test_date_fr_reads_back_both_written_forms(day):
    assert cells.date_fr(day.strftime("%d/%m/%Y")) == day
    assert cells.date_fr(day.isoformat()) == day
    assert cells.date_fr(datetime.combine(day, datetime.min.time())) == day
