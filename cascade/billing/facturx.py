"""Factur-X e-invoices (profile EN 16931): the CII XML of an invoice or credit note, in its PDF/A-3b.

`cii_xml(data)` writes the Cross Industry Invoice (UN/CEFACT D16B as Factur-X writes it, guideline
`urn:cen.eu:en16931:2017`) of the document that the same dict describes for `pdf.render_invoice_pdf`
(see pdf.py), so the XML says what the PDF shows. It also reads these optional keys:

    seller.siren      9 digits; default: the first 9 digits of seller.siret        → BT-30, scheme 0002
    seller.endpoint   electronic address; default: the SIREN                       → BT-34, scheme 0225
    seller.tax_registration  default: the SIREN when the seller has no VAT number and its regime is
                      not "normal" (the SIREN is a French company's tax number)    → BT-32, scheme FC
    seller.email, seller.country ("FR")
    buyer.siren       default: the first 9 digits of buyer.siret                   → BT-47, scheme 0002
    buyer.is_business default: whether the buyer has a SIREN. False = a consumer (B2C): an individual,
                      a household, an artist without SIRET
    buyer.endpoint    default: the SIREN of a business (scheme 0225), the e-mail of a consumer
                      (buyer.email, scheme EM)                                       → BT-49
    buyer.email, buyer.vat_number (BT-48), buyer.country ("FR")
    vat_regime        "normal" (default) | "exempt_261D" | "franchise_293B"; the last two allow exempt
                      lines only (vat_rate None)
    vat_on_debits     False; True when the seller opted to pay VAT on debits         → BT-8 = 5
    category          "prestation de services" (default) | "livraison de biens" | "mixte" → BT-23
    delivery_address  str, lines separated by "\\n"; default: place.address         → BG-15
    refers_to_date    ISO date of the invoice a credit note corrects, required with refers_to → BT-26
    currency          "EUR", the only one accepted

Codes, and the rule that asks for each:
- BT-3 type: 380 invoice, 381 credit note (BR-FR-04). A credit note carries positive amounts, its type
  carrying the sign (EN 16931). Cascade's credit notes hold negative amounts (due minus billed), so all
  their signs are flipped: exact, as VAT rounds half away from zero, and a credit note of -321.50 at
  20 % becomes a 381 of 321.50 + 64.30. A line left positive in such a credit note becomes a negative
  line, quantity -1 at a positive net price (BR-27, BR-FR-DEC-03). Credit notes reference the invoice
  they correct, BT-25 with its date BT-26 (BR-FR-CO-05).
- BT-23 billing mode: S1 services, B1 goods, M1 mixed, each a plain deposit (BR-FR-08); it is also the
  category of operation (services, goods, both) that the e-invoicing reform makes a mandatory mention.
- BT-21/22 notes: PMT recovery fee, PMD late penalties, AAB early-payment discount (BR-FR-05), with the
  texts the PDF prints; BAR "B2B" or "B2C" (BR-FR-20); a B2B buyer needs its SIREN (BR-FR-11).
- VAT (BG-23): S with its rate, one of the French rates (BR-FR-16); E at 0 % with the printed mention
  as reason (BT-120) and its code (BT-121, BR-E-10): VATEX-FR-CGI261D-2 for bare premises (art. 261 D 2°
  CGI), VATEX-FR-FRANCHISE for the franchise en base (art. 293 B CGI). The seller's VAT number (BT-31)
  or tax registration (BT-32) is present when VAT categories are (BR-S-02, BR-E-02).
- Parties: SIRET scheme 0009 (BT-29, BR-FR-09), SIREN scheme 0002 (BT-30, BR-FR-10), electronic
  addresses scheme 0225 starting with the SIREN (BT-34, BT-49, BR-FR-12, BR-FR-13, BR-FR-21); a
  consumer's is its e-mail, scheme EM, since BR-FR-12 asks for BT-49 whatever the buyer.

`cii_xml` refuses (InvoiceDataError) data that cannot describe a document: pdf.py's checks, a seller
without SIREN, an unknown regime, category or currency, a VAT rate under a VAT-free regime, a mention
citing another article than the exemption's, a rate of 0 %, a reference without its date. What the
standards ask beyond that (a consumer's e-mail as BT-49, a credit note's reference…) `validate` reports.

`embed(pdf, xml, kind=...)` attaches the XML to the PDF/A-3b as `factur-x.xml`, relationship Data, with
the Factur-X XMP extension (DocumentType INVOICE, ConformanceLevel EN 16931). `validate(xml)` lists the
problems found by the Factur-X XSD and the EN 16931 and French CTC schematrons, run with saxonche in a
process of their own (facturx_check.py); `validate_many` checks several documents in one such process.
"""

import base64
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import facturx as facturx_lib
from lxml import etree

from cascade.text import printable

from .pdf import (
    EARLY_PAYMENT_MENTION,
    LATE_PENALTY_MENTION,
    RECOVERY_FEE_MENTION,
    TITLES,
    InvoiceDataError,
    invoice_view,
)
from .vat import EXEMPTION_MENTION, FRANCHISE_MENTION

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NAMESPACES = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}

GUIDELINE = "urn:cen.eu:en16931:2017"
TYPE_CODES = {"invoice": "380", "credit_note": "381"}
BILLING_MODES = {"prestation de services": "S1", "livraison de biens": "B1", "mixte": "M1"}
SEPA_CREDIT_TRANSFER = "58"
DEBITS = "5"  # BT-8 as CII codes it (UNTDID 2475): VAT due on the invoice date, i.e. on debits.

# A consumer owes neither the 40 € fee nor the commercial late rate (Code de commerce, L441-10 is B2B):
# the texts a B2C invoice prints (late_penalty, recovery_fee) and carries in its PMD and PMT notes.
CONSUMER_LATE_PENALTY = ("Pénalités de retard : intérêts au taux légal à compter de la mise en demeure "
                         "(art. 1231-6 du Code civil).")
CONSUMER_RECOVERY_FEE = "Indemnité forfaitaire pour frais de recouvrement : sans objet (client non professionnel)."


@dataclass(frozen=True)
class Exemption:
    code: str  # BT-121, from the VATEX list
    article: str  # what the printed mention must cite
    mention: str  # BT-120 when the data has no vat_mention


BARE_PREMISES = Exemption("VATEX-FR-CGI261D-2", "261 D", EXEMPTION_MENTION)
FRANCHISE = Exemption("VATEX-FR-FRANCHISE", "293 B", FRANCHISE_MENTION)
# Exempt lines under each regime; the normal regime may mix rated and exempt (bare premises) lines.
VAT_REGIMES = {"normal": BARE_PREMISES, "exempt_261D": BARE_PREMISES, "franchise_293B": FRANCHISE}


class FacturXCheckError(RuntimeError):
    """The validators could not run (not: the document is invalid); the message holds their output."""


def cii_xml(data: Mapping[str, Any]) -> bytes:
    """The Factur-X EN 16931 CII XML (UTF-8) of the invoice or credit note described by `data`."""
    invoice_view(data)  # the same checks as the PDF: a document that does not add up is refused
    kind = data["kind"]
    regime = _choice(data, "vat_regime", VAT_REGIMES, "normal")
    exemption = VAT_REGIMES[regime]
    lines = [(line, _decimal(line["amount_excl_vat"]), _rate(line.get("vat_rate"))) for line in data["lines"]]
    if regime != "normal" and any(rate is not None for _, _, rate in lines):
        raise InvoiceDataError(f"vat_regime: under {regime!r} every line is exempt (vat_rate None)")
    if any(rate is not None and rate <= 0 for _, _, rate in lines):
        raise InvoiceDataError("vat_rate: a rated line has a positive rate; an exempt line has vat_rate None")
    mention = data.get("vat_mention") or exemption.mention
    if any(rate is None for _, _, rate in lines) and exemption.article not in mention:
        raise InvoiceDataError(f"vat_mention: {mention!r} does not cite art. {exemption.article} of the "
                               f"{regime!r} regime")
    if (data.get("currency") or "EUR") != "EUR":
        raise InvoiceDataError(f"currency: {data['currency']!r}, only EUR is invoiced")
    # Cascade's credit notes are negative; a 381 carries positive amounts (see the module docstring).
    sign = -1 if kind == "credit_note" and _decimal(data["total_incl_vat"]) < 0 else 1
    seller, buyer = data["seller"], data["buyer"]
    is_business = _siren(buyer) is not None if buyer.get("is_business") is None else bool(buyer["is_business"])
    document = _rsm(
        "CrossIndustryInvoice",
        _rsm("ExchangedDocumentContext",
             _ram("BusinessProcessSpecifiedDocumentContextParameter",
                  _ram("ID", BILLING_MODES[_choice(data, "category", BILLING_MODES, "prestation de services")])),
             _ram("GuidelineSpecifiedDocumentContextParameter", _ram("ID", GUIDELINE))),
        _rsm("ExchangedDocument",
             _ram("ID", str(data["number"])),
             _ram("TypeCode", TYPE_CODES[kind]),
             _ram("IssueDateTime", _date_time(data["issue_date"])),
             *_notes(data, is_business)),
        _rsm("SupplyChainTradeTransaction",
             *(_line(i, line, sign * amount, rate) for i, (line, amount, rate) in enumerate(lines, start=1)),
             _ram("ApplicableHeaderTradeAgreement",
                  _seller(seller, regime),
                  _buyer(buyer, is_business)),
             _ram("ApplicableHeaderTradeDelivery", _delivery(data)),
             _settlement(data, sign, exemption, mention)),
    )
    return etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def embed(pdf: bytes, xml: bytes, *, kind: str) -> bytes:
    """`pdf` (PDF/A-3b) with `xml` attached as factur-x.xml, relationship Data, and the Factur-X XMP."""
    if kind not in TYPE_CODES:
        raise InvoiceDataError(f"kind: {kind!r} is neither 'invoice' nor 'credit_note'")
    root = etree.fromstring(xml)
    type_code = root.findtext("rsm:ExchangedDocument/ram:TypeCode", namespaces=NAMESPACES)
    if type_code != TYPE_CODES[kind]:
        raise InvoiceDataError(f"kind: {kind!r} but the XML is of type {type_code}")
    title = f"{TITLES[kind]} {root.findtext('rsm:ExchangedDocument/ram:ID', namespaces=NAMESPACES)}"
    seller = root.findtext(".//ram:SellerTradeParty/ram:Name", namespaces=NAMESPACES)
    return facturx_lib.generate_from_binary(
        pdf, xml, flavor="factur-x", level="en16931",
        check_xsd=False,  # validate() checks it, with the schematrons
        pdf_metadata={"title": title, "author": seller, "subject": f"{title} — Factur-X EN 16931", "keywords": ""},
        lang="fr-FR", afrelationship="data",
        # Left uncompressed: readable by any XMP reader, and ready for a PAdES signature.
        xmp_compression=False,
    )


def validate(xml: bytes) -> list[str]:
    """Every problem the Factur-X XSD and the EN 16931 and French CTC schematrons find; [] = valid."""
    return validate_many([xml])[0]


def validate_many(xmls: Iterable[bytes]) -> list[list[str]]:
    """`validate` of each document, all in one subprocess (the stylesheets are compiled once)."""
    xmls = list(xmls)
    if not xmls:
        return []
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(
        [sys.executable, "-m", "cascade.billing.facturx_check"],
        input=json.dumps([base64.b64encode(xml).decode("ascii") for xml in xmls]),
        capture_output=True, text=True, cwd=root, env=env, timeout=60 + 10 * len(xmls), check=False,
    )
    answer = result.stdout.strip().splitlines()[-1:] if result.returncode == 0 else []
    if not answer:
        raise FacturXCheckError(f"the Factur-X validators failed (exit {result.returncode}): {result.stderr[-2000:]}")
    return json.loads(answer[0])


# --- data ------------------------------------------------------------------------------------------


def _choice(data: Mapping[str, Any], key: str, allowed: Mapping[str, Any], default: str) -> str:
    value = data.get(key) or default
    if value not in allowed:
        raise InvoiceDataError(f"{key}: {value!r} is not one of {', '.join(map(repr, allowed))}")
    return value


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _rate(value: Any) -> Decimal | None:
    return None if value is None else _decimal(value)


def _compact(value: Any) -> str | None:
    text = re.sub(r"\s", "", str(value or ""))
    return text or None


def _siren(party: Mapping[str, Any]) -> str | None:
    siret = _compact(party.get("siret"))
    return _compact(party.get("siren")) or (siret[:9] if siret else None)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _amount(value: Decimal) -> str:
    return f"{abs(value) if value == 0 else value:.2f}"  # never "-0.00"


def _percent(rate: Decimal | None) -> str:
    return f"{rate or 0:.2f}"


# --- XML -------------------------------------------------------------------------------------------


def _element(namespace: str, tag: str, *children: etree._Element | str | None, **attrib: str) -> etree._Element:
    element = etree.Element(f"{{{namespace}}}{tag}", attrib, nsmap=NAMESPACES)
    for child in children:
        if isinstance(child, str):
            element.text = printable(child)
        elif child is not None:
            element.append(child)
    return element


def _rsm(tag: str, *children: etree._Element | str | None, **attrib: str) -> etree._Element:
    return _element(RSM, tag, *children, **attrib)


def _ram(tag: str, *children: etree._Element | str | None, **attrib: str) -> etree._Element:
    return _element(RAM, tag, *children, **attrib)


def _optional(tag: str, value: str | None, **attrib: str) -> etree._Element | None:
    return _ram(tag, value, **attrib) if value else None


def _date_time(value: Any) -> etree._Element:
    return _element(UDT, "DateTimeString", _day(value).strftime("%Y%m%d"), format="102")


def _note(text: str, subject: str) -> etree._Element:
    return _ram("IncludedNote", _ram("Content", text), _ram("SubjectCode", subject))


def _notes(data: Mapping[str, Any], is_business: bool) -> list[etree._Element]:
    # The same texts as the PDF, with the same defaults (pdf.py).
    return [
        _note(data.get("recovery_fee") or RECOVERY_FEE_MENTION, "PMT"),
        _note(data.get("late_penalty") or LATE_PENALTY_MENTION, "PMD"),
        _note(data.get("early_payment") or EARLY_PAYMENT_MENTION, "AAB"),
        _note("B2B" if is_business else "B2C", "BAR"),
    ]


_POSTCODE_CITY = re.compile(r"^(?:F-)?(\d{5})\s+(.+)$")


def _address(text: str | None, country: str) -> etree._Element:
    """A French address written on lines ("12 rue des Arts\\n75011 Paris") as a CII postal address."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if lines and lines[-1].casefold() == "france":
        lines.pop()
    match = _POSTCODE_CITY.match(lines[-1]) if lines else None
    if match:
        lines.pop()
    street = lines[:2] + ([", ".join(lines[2:])] if lines[2:] else [])
    return _ram(
        "PostalTradeAddress",
        _optional("PostcodeCode", match and match[1]),
        *(_ram(tag, line) for tag, line in zip(("LineOne", "LineTwo", "LineThree"), street, strict=False)),
        _optional("CityName", match and match[2]),
        _ram("CountryID", country),
    )


def _seller(seller: Mapping[str, Any], regime: str) -> etree._Element:
    siren = _siren(seller)
    if siren is None:
        raise InvoiceDataError("seller.siren: missing, and no seller.siret to take it from")
    vat_number = _compact(seller.get("vat_number"))
    tax_registration = _compact(seller.get("tax_registration")) or (
        siren if vat_number is None and regime != "normal" else None)
    legal = " — ".join(filter(None, (seller.get("legal_form"), seller.get("registration"))))
    return _ram(
        "SellerTradeParty",
        _optional("GlobalID", _compact(seller.get("siret")), schemeID="0009"),
        _ram("Name", seller["name"]),
        _optional("Description", legal),  # BT-33: legal form, capital, RCS
        _ram("SpecifiedLegalOrganization", _ram("ID", siren, schemeID="0002")),
        _ram("DefinedTradeContact", _ram("EmailURIUniversalCommunication", _ram("URIID", seller["email"])))
        if seller.get("email") else None,
        _address(seller["address"], seller.get("country") or "FR"),
        _ram("URIUniversalCommunication", _ram("URIID", seller.get("endpoint") or siren, schemeID="0225")),
        _ram("SpecifiedTaxRegistration", _ram("ID", vat_number, schemeID="VA")) if vat_number else None,
        _ram("SpecifiedTaxRegistration", _ram("ID", tax_registration, schemeID="FC")) if tax_registration else None,
    )


def _buyer(buyer: Mapping[str, Any], is_business: bool) -> etree._Element:
    siren = _siren(buyer)
    endpoint = buyer.get("endpoint") or (siren if is_business else buyer.get("email"))
    vat_number = _compact(buyer.get("vat_number"))
    return _ram(
        "BuyerTradeParty",
        _optional("GlobalID", _compact(buyer.get("siret")), schemeID="0009"),
        _ram("Name", buyer["name"]),
        _ram("SpecifiedLegalOrganization", _ram("ID", siren, schemeID="0002")) if siren else None,
        _address(buyer.get("address"), buyer.get("country") or "FR"),
        _ram("URIUniversalCommunication", _ram("URIID", endpoint, schemeID="0225" if is_business else "EM"))
        if endpoint else None,
        _ram("SpecifiedTaxRegistration", _ram("ID", vat_number, schemeID="VA")) if vat_number else None,
    )


def _delivery(data: Mapping[str, Any]) -> etree._Element | None:
    place = data.get("place") or {}
    address = data.get("delivery_address") or place.get("address")
    if not address:
        return None
    country = data["buyer"].get("country") or "FR"
    return _ram("ShipToTradeParty", _optional("Name", place.get("name")), _address(address, country))


def _line(number: int, line: Mapping[str, Any], amount: Decimal, rate: Decimal | None) -> etree._Element:
    # The net price is never negative (BR-27): a negative line is a quantity of -1.
    quantity = "-1" if amount < 0 else "1"
    details = " — ".join(filter(None, (line.get("period"), line.get("quantity"))))
    return _ram(
        "IncludedSupplyChainTradeLineItem",
        _ram("AssociatedDocumentLineDocument", _ram("LineID", str(number))),
        _ram("SpecifiedTradeProduct", _ram("Name", line["label"]), _optional("Description", details)),
        _ram("SpecifiedLineTradeAgreement",
             _ram("NetPriceProductTradePrice", _ram("ChargeAmount", _amount(abs(amount))))),
        _ram("SpecifiedLineTradeDelivery", _ram("BilledQuantity", quantity, unitCode="C62")),
        _ram(
            "SpecifiedLineTradeSettlement",
            _ram("ApplicableTradeTax", _ram("TypeCode", "VAT"), _ram("CategoryCode", "E" if rate is None else "S"),
                 _ram("RateApplicablePercent", _percent(rate))),
            _ram("SpecifiedTradeSettlementLineMonetarySummation", _ram("LineTotalAmount", _amount(amount))),
        ),
    )


def _tax(group: Mapping[str, Any], sign: int, exemption: Exemption, mention: str,
         vat_on_debits: bool) -> etree._Element:
    rate = _rate(group.get("rate"))
    return _ram(
        "ApplicableTradeTax",
        _ram("CalculatedAmount", _amount(sign * _decimal(group["vat"]))),
        _ram("TypeCode", "VAT"),
        _ram("ExemptionReason", mention) if rate is None else None,
        _ram("BasisAmount", _amount(sign * _decimal(group["base"]))),
        _ram("CategoryCode", "E" if rate is None else "S"),
        _ram("ExemptionReasonCode", exemption.code) if rate is None else None,
        _ram("DueDateTypeCode", DEBITS) if vat_on_debits else None,
        _ram("RateApplicablePercent", _percent(rate)),
    )


def _settlement(data: Mapping[str, Any], sign: int, exemption: Exemption, mention: str) -> etree._Element:
    kind = data["kind"]
    iban = _compact(data["seller"].get("iban"))
    excl, vat, incl = (sign * _decimal(data[key]) for key in ("total_excl_vat", "total_vat", "total_incl_vat"))
    refers_to = data.get("refers_to")
    if refers_to and not data.get("refers_to_date"):
        raise InvoiceDataError("refers_to_date: the date of the corrected invoice goes with its number (BT-26)")
    return _ram(
        "ApplicableHeaderTradeSettlement",
        _ram("PaymentReference", str(data["number"])) if kind == "invoice" else None,
        _ram("InvoiceCurrencyCode", "EUR"),
        # A credit note is deducted or refunded: no transfer to the seller's account to describe.
        _ram("SpecifiedTradeSettlementPaymentMeans", _ram("TypeCode", SEPA_CREDIT_TRANSFER),
             _ram("PayeePartyCreditorFinancialAccount", _ram("IBANID", iban)))
        if iban and kind == "invoice" else None,
        *(_tax(group, sign, exemption, mention, bool(data.get("vat_on_debits"))) for group in data["vat_groups"]),
        _ram("BillingSpecifiedPeriod",
             _ram("StartDateTime", _date_time(data["period_start"])),
             _ram("EndDateTime", _date_time(data["period_end"]))),
        _ram("SpecifiedTradePaymentTerms",
             _ram("Description", str(data["payment_terms"])),
             _ram("DueDateDateTime", _date_time(data["due_date"]))),
        _ram("SpecifiedTradeSettlementHeaderMonetarySummation",
             _ram("LineTotalAmount", _amount(excl)),
             _ram("TaxBasisTotalAmount", _amount(excl)),
             _ram("TaxTotalAmount", _amount(vat), currencyID="EUR"),
             _ram("GrandTotalAmount", _amount(incl)),
             _ram("DuePayableAmount", _amount(incl))),
        _ram("InvoiceReferencedDocument",
             _ram("IssuerAssignedID", str(refers_to)),
             _ram("FormattedIssueDateTime",
                  _element(QDT, "DateTimeString", _day(data["refers_to_date"]).strftime("%Y%m%d"), format="102")))
        if refers_to else None,
    )
