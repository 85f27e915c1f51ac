"""Factur-X e-invoices: every kind of document Cascade issues passes the Factur-X XSD, the EN 16931
schematron and the French CTC schematron, and travels as factur-x.xml inside its PDF/A-3b.

No database: the documents are the dicts `documents.invoice_data` builds, written here by hand.
All the validations run in one subprocess (module fixture `problems`).
"""

import io
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from pypdf import PdfReader

from cascade.billing import facturx
from cascade.billing.documents import LATE_PENALTY, RECOVERY_FEE
from cascade.billing.pdf import EARLY_PAYMENT_MENTION, InvoiceDataError, render_invoice_pdf
from cascade.billing.vat import EXEMPTION_MENTION, totals, vat_breakdown

NS = facturx.NAMESPACES
XMP_NS = {
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "fx": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
    "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
}

# Sellers and buyers as actions.seller_snapshot / buyer_snapshot freeze them.
OPERATOR = {  # normal VAT regime
    "name": "Plateau Urbain", "legal_form": "SCIC SAS à capital variable",
    "address": "12 rue des Arts\n75011 Paris", "siret": "81234567800029", "vat_number": "FR40812345678",
    "iban": "FR76 3000 6000 0112 3456 7890 189", "email": "factures@plateau.example.org",
    "registration": "RCS Paris 812 345 678",
}
LESSOR = {  # lets bare premises, exempt (art. 261 D 2° CGI), no VAT number
    "name": "Association Les Voisins", "legal_form": "Association loi 1901",
    "address": "82 avenue Denfert-Rochereau\n75014 Paris", "siret": "44306184100047", "vat_number": "",
    "iban": "FR76 1027 8060 3100 0205 2280 140", "email": "tresorerie@voisins.example.org", "registration": "",
}
MICRO = {  # franchise en base (art. 293 B CGI)
    "name": "Collectif La Fabrique", "legal_form": "Association loi 1901",
    "address": "3 impasse des Tanneurs\nBâtiment C\n93100 Montreuil", "siret": "52147896300018",
    "vat_number": None, "iban": None, "email": "", "registration": "",
}
OCCUPANT = {
    "name": "Atelier Céramique Fanny", "legal_form": "SARL", "address": "82 avenue Denfert-Rochereau\n75014 Paris",
    "siret": "90123456700011", "email": "fanny@atelier.example.org", "contact": "Fanny Roux",
}
ARTIST = {  # a consumer: an artist without SIRET
    "name": "Léa Martin", "legal_form": "", "address": "5 rue des Lilas\n93100 Montreuil", "siret": "",
    "email": "lea.martin@example.org", "contact": "",
}


def document(lines: list[tuple[str, str, str | None]], **changes) -> dict:
    """The data of an invoice (or credit note) of February 2026, computed as Cascade computes it."""
    groups = vat_breakdown((Decimal(amount), Decimal(rate) if rate else None) for _, amount, rate in lines)
    excl, vat, incl = totals(groups)
    data = {
        "seller": OPERATOR, "buyer": OCCUPANT, "number": "F2026-000042", "kind": "invoice", "refers_to": None,
        "issue_date": "2026-02-01", "due_date": "2026-02-15", "period_start": "2026-02-01",
        "period_end": "2026-02-28",
        "place": {"name": "Les Grands Voisins", "address": "82 avenue Denfert-Rochereau\n75014 Paris"},
        "lines": [{"label": label, "period": None, "quantity": "1 mois", "amount_excl_vat": amount,
                   "vat_rate": rate} for label, amount, rate in lines],
        "vat_groups": [{"rate": None if g.rate is None else f"{g.rate:.2f}", "base": f"{g.base:.2f}",
                        "vat": f"{g.vat:.2f}"} for g in groups],
        "total_excl_vat": f"{excl:.2f}", "total_vat": f"{vat:.2f}", "total_incl_vat": f"{incl:.2f}",
        "vat_mention": EXEMPTION_MENTION if any(rate is None for *_, rate in lines) else None,
        "payment_terms": "À régler au plus tard le 15/02/2026 par virement.",
        "late_penalty": LATE_PENALTY, "recovery_fee": RECOVERY_FEE,
    }
    return data | changes


CREDIT = {"kind": "credit_note", "number": "A2026-000004", "refers_to": "F2026-000042",
          "refers_to_date": "2026-02-01",
          "payment_terms": "Avoir à déduire de votre prochain règlement, ou remboursé sur demande."}

DOCUMENTS = {
    "invoice": document([("Redevance d’occupation — atelier B12 (42 m²)", "1234.50", "20.00"),
                         ("Charges (fluides, gardiennage)", "96.43", "20.00")]),
    "credit_note": document([("Redevance — sortie le 20/02, 8 jours non occupés", "-321.50", "20.00")], **CREDIT),
    "exempt": document([("Redevance d’occupation — locaux nus, lot 4", "850.00", None)],
                       seller=LESSOR, vat_regime="exempt_261D"),
    "bare_premises_and_services": document([("Redevance — locaux nus", "850.00", None),
                                            ("Accueil et gardiennage", "120.00", "20.00")]),
    "two_rates": document([("Redevance d’occupation", "1000.00", "20.00"),
                           ("Fourniture de chaleur (réseau urbain)", "87.35", "5.50")], vat_on_debits=True),
    "b2c": document([("Poste de travail en atelier partagé", "180.00", "20.00")], buyer=ARTIST,
                    late_penalty=facturx.CONSUMER_LATE_PENALTY, recovery_fee=facturx.CONSUMER_RECOVERY_FEE),
    "franchise": document([("Location d’un casier", "15.00", None)], seller=MICRO, buyer=ARTIST,
                          vat_regime="franchise_293B", vat_mention=facturx.FRANCHISE_MENTION,
                          late_penalty=facturx.CONSUMER_LATE_PENALTY, recovery_fee=facturx.CONSUMER_RECOVERY_FEE),
}


def tree(xml: bytes) -> etree._Element:
    return etree.fromstring(xml)


def texts(root: etree._Element, path: str) -> list[str]:
    return [element.text for element in root.iterfind(path, NS)]


def edited(xml: bytes, *remove: str, **replace: str) -> bytes:
    """`xml` without the elements at the paths `remove`, with new texts for the elements named in `replace`."""
    root = tree(xml)
    for path in remove:
        for element in root.findall(path, NS):
            element.getparent().remove(element)
    for tag, text in replace.items():
        for element in root.iterfind(f".//ram:{tag}", NS):
            element.text = text
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


HEADER_TAX = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"
SUMMATION = ("rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/"
             "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
LINE_TOTALS = ".//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount"


@pytest.fixture(scope="module")
def rendered() -> dict[str, tuple[dict, bytes, bytes]]:
    """Each document's data, CII XML and Factur-X PDF."""
    result = {}
    for name, data in DOCUMENTS.items():
        xml = facturx.cii_xml(data)
        result[name] = (data, xml, facturx.embed(render_invoice_pdf(data), xml, kind=data["kind"]))
    return result


def broken(rendered) -> dict[str, bytes]:
    """Documents each validator must refuse, named after what is wrong with them."""
    xml = {name: xml for name, (_, xml, _) in rendered.items()}
    settlement = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
    return {
        "b2b_buyer_without_siren": facturx.cii_xml(
            DOCUMENTS["invoice"] | {"buyer": OCCUPANT | {"siret": "", "is_business": True}}),
        "wrong_grand_total": edited(xml["invoice"], GrandTotalAmount="1597.13"),
        "exemption_without_reason": edited(xml["exempt"], f"{HEADER_TAX}/ram:ExemptionReason",
                                           f"{HEADER_TAX}/ram:ExemptionReasonCode"),
        "no_recovery_fee_note": edited(xml["invoice"], "rsm:ExchangedDocument/ram:IncludedNote[ram:SubjectCode='PMT']"),
        "credit_note_without_reference": facturx.cii_xml(DOCUMENTS["credit_note"] | {"refers_to": None}),
        "consumer_without_email": facturx.cii_xml(DOCUMENTS["b2c"] | {"buyer": ARTIST | {"email": ""}}),
        "no_currency": edited(xml["invoice"], f"{settlement}/ram:InvoiceCurrencyCode"),
    }


@pytest.fixture(scope="module")
def problems(rendered) -> dict[str, list[str]]:
    """What the XSD and the two schematrons find in every document, valid and broken: one subprocess."""
    xmls = {name: xml for name, (_, xml, _) in rendered.items()} | broken(rendered)
    return dict(zip(xmls, facturx.validate_many(xmls.values()), strict=True))


def rules(found: list[str]) -> set[str]:
    return {problem.split(":", 1)[0] for problem in found}


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_document_passes_the_xsd_and_both_schematrons(problems, name):
    assert problems[name] == []


@pytest.mark.parametrize(("name", "rule"), [
    ("b2b_buyer_without_siren", "fr-ctc BR-FR-11_BT-47"),
    ("wrong_grand_total", "en16931 BR-CO-15"),
    ("exemption_without_reason", "en16931 BR-E-10"),
    ("no_recovery_fee_note", "fr-ctc BR-FR-05_BT-22_PMT"),
    ("credit_note_without_reference", "fr-ctc BR-FR-CO-05_BT-3"),
    ("consumer_without_email", "fr-ctc BR-FR-12_BT-49"),
    ("no_currency", "xsd -"),
    ("no_currency", "en16931 BR-05"),
])
def test_the_validators_catch_what_is_wrong(problems, name, rule):
    assert rule in rules(problems[name]), problems[name]


def test_validate_is_validate_many_of_one(rendered):
    xml = edited(rendered["invoice"][1], GrandTotalAmount="1.00")
    assert "en16931 BR-CO-15" in rules(facturx.validate(xml))


# --- the PDF/A-3b ----------------------------------------------------------------------------------


def _fonts(reader: PdfReader):
    seen: set[int] = set()

    def walk(resources):
        resources = resources.get_object() if resources is not None else {}
        for ref in (resources.get("/Font") or {}).values():
            font = ref.get_object()
            yield font
            yield from (descendant.get_object() for descendant in font.get("/DescendantFonts", []))
        for ref in (resources.get("/XObject") or {}).values():
            if ref.idnum not in seen and ref.get_object().get("/Subtype") == "/Form":
                seen.add(ref.idnum)
                yield from walk(ref.get_object().get("/Resources"))

    for page in reader.pages:
        yield from walk(page.get("/Resources"))


def _embedded(font) -> bool:
    # A Type0 font is embedded through its descendant (checked too); a Type3 font draws its own glyphs.
    if font.get("/Subtype") in ("/Type0", "/Type3"):
        return True
    descriptor = font["/FontDescriptor"].get_object()
    return any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))


@pytest.mark.parametrize("name", DOCUMENTS)
def test_the_pdf_a3_carries_the_xml_as_factur_x(rendered, name):
    _, xml, pdf = rendered[name]
    reader = PdfReader(io.BytesIO(pdf))
    catalog = reader.trailer["/Root"]

    names = catalog["/Names"]["/EmbeddedFiles"]["/Names"]
    attached = dict(zip(names[::2], names[1::2], strict=True))
    filespec = attached["factur-x.xml"].get_object()
    assert filespec["/EF"]["/F"].get_object().get_data() == xml
    assert filespec["/AFRelationship"] in ("/Data", "/Alternative")
    assert filespec["/UF"] == filespec["/F"] == "factur-x.xml"
    assert attached["factur-x.xml"].idnum in [ref.idnum for ref in catalog["/AF"]]

    intent = catalog["/OutputIntents"][0].get_object()
    assert intent["/S"] == "/GTS_PDFA1" and "/DestOutputProfile" in intent
    assert reader.trailer["/ID"]

    xmp = etree.fromstring(catalog["/Metadata"].get_object().get_data())
    assert xmp.findtext(".//pdfaid:part", namespaces=XMP_NS) == "3"
    assert xmp.findtext(".//pdfaid:conformance", namespaces=XMP_NS) == "B"
    assert xmp.findtext(".//fx:DocumentType", namespaces=XMP_NS) == "INVOICE"
    assert xmp.findtext(".//fx:ConformanceLevel", namespaces=XMP_NS) == "EN 16931"
    assert xmp.findtext(".//fx:DocumentFileName", namespaces=XMP_NS) == "factur-x.xml"
    assert xmp.findtext(".//pdfaSchema:namespaceURI", namespaces=XMP_NS) == XMP_NS["fx"]
    assert xmp.findtext(".//pdfaSchema:prefix", namespaces=XMP_NS) == "fx"
    # The document information dictionary says what the XMP says.
    assert reader.metadata.title == xmp.findtext(".//dc:title/rdf:Alt/rdf:li", namespaces=XMP_NS)
    assert reader.metadata.author == xmp.findtext(".//dc:creator/rdf:Seq/rdf:li", namespaces=XMP_NS)

    fonts = list(_fonts(reader))
    assert fonts and all(_embedded(font) for font in fonts)


def test_embed_refuses_a_kind_the_xml_does_not_have(rendered):
    _, xml, pdf = rendered["invoice"]
    with pytest.raises(InvoiceDataError, match="kind"):
        facturx.embed(pdf, xml, kind="credit_note")


# --- what the XML says -----------------------------------------------------------------------------


def test_vat_is_computed_once_per_rate_on_the_sum_of_the_nets():
    root = tree(facturx.cii_xml(document([("Casier", "10.03", "20.00")] * 3)))
    assert texts(root, LINE_TOTALS) == ["10.03"] * 3
    assert texts(root, f"{HEADER_TAX}/ram:BasisAmount") == ["30.09"]
    assert texts(root, f"{HEADER_TAX}/ram:CalculatedAmount") == ["6.02"]  # not 3 × 2.01
    assert texts(root, f"{SUMMATION}/ram:TaxTotalAmount") == ["6.02"]
    assert texts(root, f"{SUMMATION}/ram:GrandTotalAmount") == ["36.11"]


def test_a_negative_credit_note_is_a_381_with_positive_amounts(rendered):
    data, xml, _ = rendered["credit_note"]
    assert data["total_vat"] == "-64.30"  # as Cascade stores it
    root = tree(xml)
    assert texts(root, "rsm:ExchangedDocument/ram:TypeCode") == ["381"]
    assert texts(root, LINE_TOTALS) == ["321.50"]
    assert texts(root, ".//ram:BilledQuantity") == ["1"]
    assert texts(root, f"{HEADER_TAX}/ram:BasisAmount") == ["321.50"]
    assert texts(root, f"{HEADER_TAX}/ram:CalculatedAmount") == ["64.30"]
    assert texts(root, f"{SUMMATION}/ram:GrandTotalAmount") == ["385.80"]
    assert texts(root, f"{SUMMATION}/ram:DuePayableAmount") == ["385.80"]
    reference = ".//ram:InvoiceReferencedDocument"
    assert texts(root, f"{reference}/ram:IssuerAssignedID") == ["F2026-000042"]
    assert texts(root, f"{reference}/ram:FormattedIssueDateTime/qdt:DateTimeString") == ["20260201"]


def test_a_line_left_positive_in_a_credit_note_is_a_negative_quantity():
    data = document([("Ancien tarif, 01/02 au 28/02", "-500.00", "20.00"),
                     ("Nouveau tarif, 01/02 au 28/02", "300.00", "20.00")], **CREDIT)
    root = tree(facturx.cii_xml(data))
    assert texts(root, ".//ram:NetPriceProductTradePrice/ram:ChargeAmount") == ["500.00", "300.00"]
    assert texts(root, ".//ram:BilledQuantity") == ["1", "-1"]
    assert texts(root, LINE_TOTALS) == ["500.00", "-300.00"]
    assert texts(root, f"{HEADER_TAX}/ram:CalculatedAmount") == ["40.00"]


def test_the_codes_of_an_invoice_between_businesses(rendered):
    _, xml, _ = rendered["invoice"]
    root = tree(xml)
    assert texts(root, ".//ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID") == ["S1"]
    assert texts(root, ".//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") == ["urn:cen.eu:en16931:2017"]
    assert texts(root, "rsm:ExchangedDocument/ram:TypeCode") == ["380"]
    notes = {note.findtext("ram:SubjectCode", namespaces=NS): note.findtext("ram:Content", namespaces=NS)
             for note in root.iterfind(".//ram:IncludedNote", NS)}
    assert notes == {"PMT": RECOVERY_FEE, "PMD": LATE_PENALTY, "AAB": EARLY_PAYMENT_MENTION, "BAR": "B2B"}
    seller, buyer = root.find(".//ram:SellerTradeParty", NS), root.find(".//ram:BuyerTradeParty", NS)
    assert seller.find("ram:GlobalID[@schemeID='0009']", NS).text == "81234567800029"
    assert seller.find("ram:SpecifiedLegalOrganization/ram:ID[@schemeID='0002']", NS).text == "812345678"
    assert seller.find("ram:URIUniversalCommunication/ram:URIID[@schemeID='0225']", NS).text == "812345678"
    assert seller.find("ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']", NS).text == "FR40812345678"
    assert buyer.find("ram:SpecifiedLegalOrganization/ram:ID[@schemeID='0002']", NS).text == "901234567"
    assert buyer.find("ram:URIUniversalCommunication/ram:URIID[@schemeID='0225']", NS).text == "901234567"
    ship_to = root.find(".//ram:ShipToTradeParty", NS)
    assert ship_to.findtext("ram:Name", namespaces=NS) == "Les Grands Voisins"
    assert ship_to.findtext("ram:PostalTradeAddress/ram:PostcodeCode", namespaces=NS) == "75014"
    assert texts(root, ".//ram:IBANID") == ["FR7630006000011234567890189"]
    assert texts(root, ".//ram:DueDateTypeCode") == []  # VAT on receipts, the default for services


@pytest.mark.parametrize(("name", "code", "mention", "article"), [
    ("exempt", "VATEX-FR-CGI261D-2", EXEMPTION_MENTION, "261 D"),
    ("franchise", "VATEX-FR-FRANCHISE", facturx.FRANCHISE_MENTION, "293 B"),
])
def test_an_exemption_carries_its_printed_mention_and_its_code(rendered, name, code, mention, article):
    data, xml, pdf = rendered[name]
    root = tree(xml)
    assert texts(root, f"{HEADER_TAX}/ram:CategoryCode") == ["E"]
    assert texts(root, f"{HEADER_TAX}/ram:RateApplicablePercent") == ["0.00"]
    assert texts(root, f"{HEADER_TAX}/ram:ExemptionReason") == [mention]
    assert texts(root, f"{HEADER_TAX}/ram:ExemptionReasonCode") == [code]
    # No VAT number: the SIREN is the seller's tax registration (BT-32), which BR-E-02 accepts.
    seller = root.find(".//ram:SellerTradeParty", NS)
    assert texts(seller, "ram:SpecifiedTaxRegistration/ram:ID[@schemeID='FC']") == [data["seller"]["siret"][:9]]
    assert texts(seller, "ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == []
    printed = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)
    assert article in printed


def test_a_consumer_gets_the_b2c_variant(rendered):
    _, xml, _ = rendered["b2c"]
    root = tree(xml)
    notes = {note.findtext("ram:SubjectCode", namespaces=NS): note.findtext("ram:Content", namespaces=NS)
             for note in root.iterfind(".//ram:IncludedNote", NS)}
    assert notes["BAR"] == "B2C"
    assert notes["PMD"] == facturx.CONSUMER_LATE_PENALTY and notes["PMT"] == facturx.CONSUMER_RECOVERY_FEE
    buyer = root.find(".//ram:BuyerTradeParty", NS)
    assert buyer.find("ram:SpecifiedLegalOrganization", NS) is None
    assert texts(buyer, "ram:URIUniversalCommunication/ram:URIID[@schemeID='EM']") == [ARTIST["email"]]


def test_vat_on_debits_and_two_rates(rendered):
    root = tree(rendered["two_rates"][1])
    assert texts(root, f"{HEADER_TAX}/ram:RateApplicablePercent") == ["20.00", "5.50"]
    assert texts(root, f"{HEADER_TAX}/ram:CalculatedAmount") == ["200.00", "4.80"]
    assert texts(root, f"{HEADER_TAX}/ram:DueDateTypeCode") == [facturx.DEBITS] * 2


@pytest.mark.parametrize(("changes", "field"), [
    ({"vat_regime": "franchise_293B", "vat_mention": facturx.FRANCHISE_MENTION}, "vat_regime"),
    ({"vat_regime": "reduced"}, "vat_regime"),
    ({"category": "location"}, "category"),
    ({"currency": "USD"}, "currency"),
    ({"refers_to": "F2026-000001"}, "refers_to_date"),
    ({"seller": OPERATOR | {"siret": ""}}, "seller.siren"),
    ({"total_vat": "266.20"}, "add up"),
    ({"lines": [DOCUMENTS["invoice"]["lines"][0] | {"vat_rate": "0.00"}], "vat_groups": [
        {"rate": "0.00", "base": "1234.50", "vat": "0.00"}], "total_excl_vat": "1234.50", "total_vat": "0.00",
      "total_incl_vat": "1234.50"}, "vat_rate"),
])
def test_data_that_cannot_describe_a_document_is_refused(changes, field):
    with pytest.raises(InvoiceDataError, match=field):
        facturx.cii_xml(DOCUMENTS["invoice"] | changes)


def test_a_mention_citing_another_article_is_refused():
    with pytest.raises(InvoiceDataError, match="vat_mention"):
        facturx.cii_xml(DOCUMENTS["franchise"] | {"vat_mention": EXEMPTION_MENTION})


# --- EN 16931 arithmetic, for any lines --------------------------------------------------------------

CENT = Decimal("0.01")


def _amounts(root: etree._Element, path: str) -> list[Decimal]:
    return [Decimal(text) for text in texts(root, path)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.decimals(min_value=-5000, max_value=5000, places=2),
                          st.sampled_from(["20.00", "10.00", "5.50", "2.10", None])), min_size=1, max_size=6))
def test_the_xml_adds_up_as_en_16931_wants(lines):
    """Whatever the lines, invoice or credit note: nets to the cent, VAT per rate on their sum, totals as sums."""
    data = document([(f"Ligne {i}", f"{amount:.2f}", rate) for i, (amount, rate) in enumerate(lines)])
    if Decimal(data["total_incl_vat"]) < 0:
        data |= CREDIT
    root = tree(facturx.cii_xml(data))
    nets = _amounts(root, LINE_TOTALS)
    prices = _amounts(root, ".//ram:NetPriceProductTradePrice/ram:ChargeAmount")
    quantities = _amounts(root, ".//ram:BilledQuantity")
    assert all(price >= 0 for price in prices)
    assert [q * p for q, p in zip(quantities, prices, strict=True)] == nets
    assert _amounts(root, f"{SUMMATION}/ram:LineTotalAmount") == [sum(nets)]
    vats = []
    for tax in root.iterfind(HEADER_TAX, NS):
        rate = Decimal(tax.findtext("ram:RateApplicablePercent", namespaces=NS))
        category = tax.findtext("ram:CategoryCode", namespaces=NS)
        base = Decimal(tax.findtext("ram:BasisAmount", namespaces=NS))
        vat = Decimal(tax.findtext("ram:CalculatedAmount", namespaces=NS))
        same = [net for net, line in zip(nets, root.iterfind(".//ram:IncludedSupplyChainTradeLineItem", NS),
                                         strict=True)
                if line.findtext(".//ram:CategoryCode", namespaces=NS) == category
                and Decimal(line.findtext(".//ram:RateApplicablePercent", namespaces=NS)) == rate]
        assert base == sum(same)
        assert vat == (base * rate / 100).quantize(CENT, ROUND_HALF_UP)
        vats.append(vat)
    [excl], [vat], [incl] = (_amounts(root, f"{SUMMATION}/ram:{tag}")
                             for tag in ("TaxBasisTotalAmount", "TaxTotalAmount", "GrandTotalAmount"))
    assert excl == sum(nets) and vat == sum(vats) and incl == excl + vat
    if data["kind"] == "credit_note":
        assert incl > 0
