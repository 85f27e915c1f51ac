import io
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from cascade.billing.formatting import format_date_fr, format_eur, format_percent
from cascade.billing.pdf import InvoiceDataError, render_invoice_pdf
from cascade.billing.vat import EXEMPTION_MENTION

NNBSP, NBSP = "\u202f", "\u00a0"


def invoice(exempt: bool = False, **changes) -> dict:
    """A February invoice of an atelier, subject to VAT or exempt (bare premises)."""
    rate = None if exempt else "20.00"
    data = {
        "seller": {
            "name": "Plateau Urbain",
            "legal_form": "SCIC SAS à capital variable",
            "address": "12 rue des Arts\n75011 Paris",
            "siret": "81234567800029",
            "vat_number": "FR40812345678",
            "iban": "FR76 3000 6000 0112 3456 7890 189",
        },
        "buyer": {
            "name": "Atelier Céramique Fanny",
            "address": "82 avenue Denfert-Rochereau\n75014 Paris",
            "siret": "90123456700011",
        },
        "number": "F2025-000123",
        "kind": "invoice",
        "issue_date": "2025-02-01",
        "due_date": "2025-02-15",
        "period_start": "2025-02-01",
        "period_end": "2025-02-28",
        "place": {
            "name": "Les Grands Voisins",
            "address": "82 avenue Denfert-Rochereau\n75014 Paris",
        },
        "lines": [
            {
                "label": "Redevance d’occupation — atelier B12 (42 m²)",
                "period": "du 01/02/2025 au 28/02/2025",
                "quantity": "1 mois",
                "amount_excl_vat": "1234.50",
                "vat_rate": rate,
            },
            {
                "label": "Charges (fluides, gardiennage), entrée le 26/02",
                "period": "du 26/02/2025 au 28/02/2025",
                "amount_excl_vat": "96.43",
                "vat_rate": rate,
            },
        ],
        "vat_groups": [{"rate": rate, "base": "1330.93", "vat": "0.00" if exempt else "266.19"}],
        "total_excl_vat": "1330.93",
        "total_vat": "0.00" if exempt else "266.19",
        "total_incl_vat": "1330.93" if exempt else "1597.12",
        "vat_mention": EXEMPTION_MENTION if exempt else None,
        "payment_terms": "Paiement par virement à réception",
    }
    return data | changes


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_formatting_helpers():
    assert format_eur(Decimal("1234.5")) == f"1{NNBSP}234,50{NBSP}€"
    assert format_eur(Decimal("-1234567.005")) == f"-1{NNBSP}234{NNBSP}567,01{NBSP}€"
    assert format_eur(Decimal(0)) == f"0,00{NBSP}€"
    assert format_eur(Decimal("999.99")) == f"999,99{NBSP}€"
    assert format_percent(Decimal("20.00")) == f"20{NBSP}%"
    assert format_percent(Decimal("5.50")) == f"5,5{NBSP}%"
    assert format_date_fr(date(2025, 2, 1)) == "01/02/2025"


def test_invoice_carries_the_mandatory_mentions():
    pdf = render_invoice_pdf(invoice())
    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    for expected in [
        "Facture",
        "N° F2025-000123",
        "Plateau Urbain",
        "SIRET : 81234567800029",
        "N° TVA intracommunautaire : FR40812345678",
        "Atelier Céramique Fanny",
        "SIRET : 90123456700011",
        "Date d’émission : 01/02/2025",
        "Date d’échéance : 15/02/2025",
        "du 01/02/2025 au 28/02/2025",
        "Redevance d’occupation — atelier B12 (42 m²)",
        f"1{NNBSP}234,50{NBSP}€",
        f"96,43{NBSP}€",
        f"20{NBSP}%",
        f"Total HT 1{NNBSP}330,93{NBSP}€",
        f"Total TVA 266,19{NBSP}€",
        f"Total TTC 1{NNBSP}597,12{NBSP}€",
        "Taux de TVA",
        "Pénalités de retard : taux directeur de la BCE majoré de 10 points",
        "Indemnité forfaitaire pour frais de recouvrement : 40 €",
    ]:
        assert expected in text, expected
    assert EXEMPTION_MENTION not in text


def test_exempt_invoice_shows_the_exemption_mention_instead_of_a_breakdown():
    text = text_of(render_invoice_pdf(invoice(exempt=True)))
    assert EXEMPTION_MENTION in text
    assert "Taux de TVA" not in text
    assert f"Total TVA 0,00{NBSP}€" in text
    assert f"Total TTC 1{NNBSP}330,93{NBSP}€" in text


def test_credit_note_is_titled_avoir_and_names_the_invoice():
    data = invoice(kind="credit_note", number="A2025-000004", refers_to="F2025-000123")
    text = text_of(render_invoice_pdf(data))
    assert "Avoir" in text and "Facture" not in text.replace("Facture d’origine", "")
    assert "N° A2025-000004" in text and "Facture d’origine : F2025-000123" in text


def test_pdf_is_pdf_a_3b():
    reader = PdfReader(io.BytesIO(render_invoice_pdf(invoice())))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert re.search(r"pdfaid:part(>|=\")3", xmp)
    assert re.search(r"pdfaid:conformance(>|=\")B", xmp)
    assert reader.metadata.title == "Facture F2025-000123"


def test_same_data_same_bytes():
    # Dated by the issue date, not the clock: a document re-rendered later is identical.
    assert render_invoice_pdf(invoice()) == render_invoice_pdf(invoice())


def test_concurrent_renders_do_not_mix_their_data():
    numbers = [f"F2025-{n:06d}" for n in range(1, 17)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        pdfs = list(pool.map(lambda number: render_invoice_pdf(invoice(number=number)), numbers))
    for number, pdf in zip(numbers, pdfs, strict=True):
        assert f"N° {number}" in text_of(pdf)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"total_incl_vat": "1597.13"}, "total_excl_vat + total_vat"),
        ({"total_excl_vat": "1330.94", "total_incl_vat": "1597.13"}, "the lines"),
        ({"vat_groups": [{"rate": "20.00", "base": "1330.00", "vat": "266.19"}]}, "vat_groups"),
        (
            {"lines": [{"label": "Redevance", "amount_excl_vat": 1330.93, "vat_rate": "20"}]},
            "lines[0]",
        ),
        ({"issue_date": "01/02/2025"}, "issue_date"),
        ({"kind": "quote"}, "kind"),
        ({"seller": {"name": "Sans adresse", "siret": "81234567800029"}}, "seller.address"),
    ],
)
def test_inconsistent_data_is_refused(changes, field):
    with pytest.raises(InvoiceDataError, match=re.escape(field)):
        render_invoice_pdf(invoice(**changes))


def test_a_buyer_without_a_known_address_is_still_drawn():
    text = text_of(render_invoice_pdf(invoice(buyer={"name": "Collectif Sans Adresse", "siret": None})))
    assert "Collectif Sans Adresse" in text


def test_exempt_line_without_the_mention_is_refused():
    with pytest.raises(InvoiceDataError, match="vat_mention"):
        render_invoice_pdf(invoice(exempt=True, vat_mention=None))


def test_text_from_the_data_is_never_read_as_typst_markup():
    line = {"label": "Atelier *B12* #panic() $x$", "amount_excl_vat": "10.00", "vat_rate": "20"}
    group = {"rate": "20", "base": "10.00", "vat": "2.00"}
    data = invoice(
        lines=[line],
        vat_groups=[group],
        total_excl_vat="10.00",
        total_vat="2.00",
        total_incl_vat="12.00",
    )
    assert "Atelier *B12* #panic() $x$" in text_of(render_invoice_pdf(data))


def test_a_long_invoice_runs_over_pages():
    line = {"label": "Casier", "period": "du 01/02/2025 au 28/02/2025", "amount_excl_vat": "5.00"}
    data = invoice(
        lines=[{**line, "vat_rate": "20"}] * 80,
        vat_groups=[{"rate": "20", "base": "400.00", "vat": "80.00"}],
        total_excl_vat="400.00",
        total_vat="80.00",
        total_incl_vat="480.00",
    )
    pdf = render_invoice_pdf(data)
    assert len(PdfReader(io.BytesIO(pdf)).pages) > 1
    assert f"Total TTC 480,00{NBSP}€" in text_of(pdf)
