"""The invoices Cascade issues are Factur-X e-invoices: every kind it produces passes the Factur-X
XSD, the EN 16931 schematron and the French CTC schematron (one validation process for all)."""

import io
from datetime import date

import pytest
from pypdf import PdfReader
from test_billing_run import Site, _leave_early, _spaced, text_of

from cascade.billing import facturx
from cascade.billing.documents import invoice_data, invoice_pdf
from cascade.billing.models import DocumentKind, Invoice
from cascade.places.models import VatRegime


@pytest.fixture
def issued(site, settings, tmp_path) -> dict[str, Invoice]:
    """One document of each kind, issued by the engine."""
    settings.MEDIA_ROOT = tmp_path
    essai = Site()
    essai.operator.vat_number, essai.operator.iban = "FR32732829320", "FR76 3000 3315 2116 9207 1991 947"
    essai.operator.vat_on_debits = True
    essai.operator.save()
    halle = essai.place("Halle Essai", vat=True)
    ecole = essai.place("École Essai", vat=False)
    atelier = essai.place("Atelier Franchise", vat=False)
    atelier.vat_regime = VatRegime.FRANCHISE
    atelier.save()
    business = essai.subscribe(halle, "Atelier Aubépine", "A1", entry=date(2026, 3, 1), rent="310.00",
                               fluids="45.50")
    business.subscriber.siret, business.subscriber.email = "67981318885416", "compta@aubepine.example.org"
    business.subscriber.save()
    artist = essai.subscribe(ecole, "Karim Traoré", "E1", entry=date(2026, 3, 10), rent="120.00")
    artist.subscriber.email = "karim@traore.example.org"
    artist.subscriber.save()
    franchise = essai.subscribe(atelier, "Les Pousses", "F1", entry=date(2026, 3, 1), rent="90.00")
    franchise.subscriber.siret = "67981318885416"
    franchise.subscriber.save()
    essai.bill(date(2026, 3, 31))
    _leave_early(business, date(2026, 3, 20))
    essai.bill(date(2026, 3, 31))
    invoices = essai.invoices()
    return {
        "vat": invoices.get(customer=business.subscriber, kind=DocumentKind.INVOICE),
        "credit_note": invoices.get(customer=business.subscriber, kind=DocumentKind.CREDIT_NOTE),
        "b2c_exempt": invoices.get(customer=artist.subscriber),
        "franchise": invoices.get(customer=franchise.subscriber),
    }


def test_every_kind_of_invoice_passes_the_official_validators(issued):
    xmls = {kind: facturx.cii_xml(invoice_data(invoice)) for kind, invoice in issued.items()}
    problems = dict(zip(xmls, facturx.validate_many(xmls.values()), strict=True))
    assert problems == {kind: [] for kind in xmls}


def test_the_pdf_carries_the_xml_and_the_mentions(issued):
    for kind, invoice in issued.items():
        pdf = invoice_pdf(invoice)
        reader = PdfReader(io.BytesIO(pdf))
        assert reader.attachments["factur-x.xml"][0] == facturx.cii_xml(invoice_data(invoice)), kind
    vat_text = _spaced(text_of(invoice_pdf(issued["vat"])))
    assert "Nature de l'opération : prestation de services" in vat_text
    assert "SIREN : 679813188" in vat_text
    assert "Option pour le paiement de la taxe d'après les débits" in vat_text
    credit = facturx.cii_xml(invoice_data(issued["credit_note"])).decode()
    assert "<ram:TypeCode>381</ram:TypeCode>" in credit.replace("rsm:", "ram:") or ">381<" in credit
    assert issued["vat"].number in credit  # the invoice it corrects (BT-25)
    b2c = _spaced(text_of(invoice_pdf(issued["b2c_exempt"])))
    assert "Exonération de TVA, article 261 D 2° du CGI" in b2c
    assert "sans objet (client non professionnel)" in b2c and "40 €" not in b2c
    franchise = _spaced(text_of(invoice_pdf(issued["franchise"])))
    assert "TVA non applicable, art. 293 B du CGI" in franchise
    assert "VATEX-FR-FRANCHISE" in facturx.cii_xml(invoice_data(issued["franchise"])).decode()
