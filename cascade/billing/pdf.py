"""Invoice and credit-note PDF (PDF/A-3b, ready for a Factur-X attachment), drawn by Typst.

`render_invoice_pdf(data)` takes a plain dict (JSON-friendly, so the same dict can be stored
or logged with the document):

    seller:   {name, legal_form, address, siret, vat_number (str|None), iban (str|None),
               registration (str|None: capital and RCS, e.g. "au capital de 12 000 € — RCS Bobigny …")}
    buyer:    {name, address, siret (str|None: a private person has none)}
    number:   "F2026-000123"
    kind:     "invoice" | "credit_note" | "payment_notice" → title "Facture" | "Avoir" | "Avis d'échéance"
              (a payment notice says that it is not an invoice)
    refers_to:  str|None, optional               → credit note: number of the invoice it corrects
    issue_date, due_date:      ISO dates "2026-02-01"
    period_start, period_end:  ISO dates, both INCLUSIVE ("2026-02-01", "2026-02-28")
    place:    {name, address} | None
    lines:    [{label, period (text, e.g. "du 01/02/2026 au 28/02/2026"),
                quantity (text, optional), amount_excl_vat, vat_rate (percent or None = exempt)}]
    vat_groups: [{rate (percent or None = exempt), base, vat}]   (see vat.vat_breakdown)
    total_excl_vat, total_vat, total_incl_vat
    vat_mention:   str|None  (vat.EXEMPTION_MENTION; required when a line is exempt)
    payment_terms: str       (e.g. "Paiement à réception par virement")
    late_penalty:  str, optional, defaults to LATE_PENALTY_MENTION
    recovery_fee:  str, optional, defaults to RECOVERY_FEE_MENTION
    early_payment: str, optional, defaults to EARLY_PAYMENT_MENTION
    category:      str, optional, the category of operation, defaults to "prestation de services"
    vat_on_debits: bool, optional: the seller opted to pay VAT on debits (mention printed)

Addresses are strings, lines separated by "\\n". Amounts and rates are strings with a dot
("1234.50", "20.00"; a Decimal is accepted too, never a float); dates may also be `date`s.
The totals must agree with the lines and the VAT groups: a document that does not add up
is refused with `InvoiceDataError`, not drawn.

Formatting (French amounts and dates) happens here, in Python, with `formatting`; the
template only lays out strings. Typst gets the data through `sys.inputs`, so no file is
written and concurrent calls cannot see each other's data.
"""

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from cascade import typst_pdf

from .formatting import format_date_fr, format_eur, format_percent
from .prorata import round_cents

TEMPLATE = Path(__file__).parent / "typst" / "invoice.typ"

# Mandatory on every B2B invoice (Code de commerce, art. L441-10 and D441-5).
LATE_PENALTY_MENTION = "Pénalités de retard : taux directeur de la BCE majoré de 10 points"
RECOVERY_FEE_MENTION = "Indemnité forfaitaire pour frais de recouvrement : 40 €"
# The conditions of a discount for early payment are mandatory too, even when there is none (art. L441-9).
EARLY_PAYMENT_MENTION = "Escompte pour paiement anticipé : néant."

TITLES = {"invoice": "Facture", "credit_note": "Avoir", "payment_notice": "Avis d’échéance"}
NOT_AN_INVOICE = "Ce document est un avis d’échéance : il appelle le paiement de la période et n’est pas une facture."
# Printed when the seller opted to pay VAT on debits (CGI art. 269, 2-c; ann. II art. 242 nonies A).
VAT_ON_DEBITS_MENTION = "Option pour le paiement de la taxe d'après les débits"


class InvoiceDataError(ValueError):
    """The invoice data is incomplete or inconsistent; the message names the field."""


def render_invoice_pdf(data: Mapping[str, Any]) -> bytes:
    """The PDF/A-3b of an invoice or credit note described by `data` (see the module doc)."""
    return typst_pdf.render(TEMPLATE, invoice_view(data))


def invoice_view(data: Mapping[str, Any]) -> dict[str, Any]:
    """The strings the template lays out, French-formatted, after checking `data`."""
    kind = _get(data, "kind")
    if kind not in TITLES:
        raise InvoiceDataError(f"kind: {kind!r} is not one of {', '.join(TITLES)}")
    issue_date = _date(data, "issue_date")
    period_start, period_end = _date(data, "period_start"), _date(data, "period_end")
    if period_end < period_start:
        raise InvoiceDataError(f"period_end: {period_end} is before period_start {period_start}")
    lines = [_line(line, f"lines[{i}]") for i, line in enumerate(_get(data, "lines"))]
    if not lines:
        raise InvoiceDataError("lines: a document has at least one line")
    groups = [_group(g, f"vat_groups[{i}]") for i, g in enumerate(_get(data, "vat_groups"))]
    totals = {k: _amount(data, k) for k in ("total_excl_vat", "total_vat", "total_incl_vat")}
    _check_totals(lines, groups, totals)
    vat_mention = _optional_text(data, "vat_mention")
    if vat_mention is None and any(line["rate"] is None for line in lines):
        raise InvoiceDataError("vat_mention: an exempt line needs the exemption mention")
    seller, buyer, place = _get(data, "seller"), _get(data, "buyer"), data.get("place")
    return {
        "title": TITLES[kind],
        "buyer_caption": "Destinataire" if kind == "payment_notice" else "Facturé à",
        "notice": NOT_AN_INVOICE if kind == "payment_notice" else None,
        "number": _text(data, "number"),
        "refers_to": _optional_text(data, "refers_to"),
        "date": [issue_date.year, issue_date.month, issue_date.day],
        "issue_date": format_date_fr(issue_date),
        "due_date": format_date_fr(_date(data, "due_date")),
        "period": f"du {format_date_fr(period_start)} au {format_date_fr(period_end)}",
        "seller": {
            "name": _text(seller, "name", "seller"),
            "legal_form": _optional_text(seller, "legal_form"),
            "address": _address(seller, "seller"),
            "siret": _optional_text(seller, "siret"),
            "vat_number": _optional_text(seller, "vat_number"),
            "iban": _optional_text(seller, "iban"),
            "registration": _optional_text(seller, "registration"),
        },
        "buyer": {
            "name": _text(buyer, "name", "buyer"),
            # An occupant's address may be unknown to the operator; the seller's never is.
            "address": _address(buyer, "buyer", required=False),
            "siret": _optional_text(buyer, "siret"),
            # The client's SIREN, a mandatory mention of the e-invoicing reform (its SIRET's first 9 digits).
            "siren": (_optional_text(buyer, "siren") or (_optional_text(buyer, "siret") or "")[:9]) or None,
        },
        "place": _place(place) if place else None,
        "category": f"Nature de l'opération : {data.get('category') or 'prestation de services'}",
        "vat_on_debits": VAT_ON_DEBITS_MENTION if data.get("vat_on_debits") else None,
        "lines": [
            {**line, "amount": format_eur(line["amount"]), "rate": _rate_text(line["rate"])}
            for line in lines
        ],
        "vat_groups": [
            {
                "rate": _rate_text(g["rate"]),
                "base": format_eur(g["base"]),
                "vat": format_eur(g["vat"]),
            }
            for g in groups
        ],
        "show_vat_groups": any(g["rate"] is not None for g in groups),
        "total_excl_vat": format_eur(totals["total_excl_vat"]),
        "total_vat": format_eur(totals["total_vat"]),
        "total_incl_vat": format_eur(totals["total_incl_vat"]),
        "vat_mention": vat_mention,
        "payment_terms": _text(data, "payment_terms"),
        "late_penalty": _optional_text(data, "late_penalty") or LATE_PENALTY_MENTION,
        "recovery_fee": _optional_text(data, "recovery_fee") or RECOVERY_FEE_MENTION,
        "early_payment": _optional_text(data, "early_payment") or EARLY_PAYMENT_MENTION,
    }


def _get(obj: Mapping[str, Any], key: str, where: str = "") -> Any:
    value = obj.get(key)
    if value is None or value == "":
        raise InvoiceDataError(f"{where + '.' if where else ''}{key}: missing")
    return value


def _text(obj: Mapping[str, Any], key: str, where: str = "") -> str:
    return str(_get(obj, key, where))


def _optional_text(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return None if value is None or value == "" else str(value)


def _date(obj: Mapping[str, Any], key: str) -> date:
    value = _get(obj, key)
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvoiceDataError(f"{key}: {value!r} is not an ISO date like 2026-02-01") from None


def _decimal(value: Any, where: str) -> Decimal:
    # A float has already lost the cents it claims to hold; refuse it rather than guess.
    if isinstance(value, Decimal):
        return value
    try:
        if isinstance(value, str):
            result = Decimal(value)
            if result.is_finite():
                return result
    except InvalidOperation:
        pass
    raise InvoiceDataError(f"{where}: {value!r} is not a decimal string like 1234.50")


def _amount(obj: Mapping[str, Any], key: str, where: str = "") -> Decimal:
    path = f"{where}.{key}" if where else key
    amount = _decimal(_get(obj, key, where), path)
    if amount != round_cents(amount):
        raise InvoiceDataError(f"{path}: {amount} is not rounded to the cent")
    return amount


def _rate(obj: Mapping[str, Any], key: str, where: str) -> Decimal | None:
    value = obj.get(key)
    return None if value is None else _decimal(value, f"{where}.{key}")


def _rate_text(rate: Decimal | None) -> str:
    return "Exonérée" if rate is None else format_percent(rate)


def _address(obj: Mapping[str, Any], where: str, *, required: bool = True) -> list[str]:
    text = _text(obj, "address", where) if required else (_optional_text(obj, "address") or "")
    return [part.strip() for part in text.splitlines() if part.strip()]


def _place(place: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": _text(place, "name", "place"), "address": _address(place, "place", required=False)}


def _line(line: Mapping[str, Any], where: str) -> dict[str, Any]:
    return {
        "label": _text(line, "label", where),
        "period": _optional_text(line, "period"),
        "quantity": _optional_text(line, "quantity"),
        "amount": _amount(line, "amount_excl_vat", where),
        "rate": _rate(line, "vat_rate", where),
    }


def _group(group: Mapping[str, Any], where: str) -> dict[str, Any]:
    return {
        "rate": _rate(group, "rate", where),
        "base": _amount(group, "base", where),
        "vat": _amount(group, "vat", where),
    }


def _check_totals(
    lines: list[dict[str, Any]], groups: list[dict[str, Any]], totals: dict[str, Decimal]
) -> None:
    # Only additions are checked, not how VAT was rounded: that is vat.py's business.
    excl, vat, incl = totals["total_excl_vat"], totals["total_vat"], totals["total_incl_vat"]
    line_bases: dict[Decimal | None, Decimal] = {}
    for line in lines:
        line_bases[line["rate"]] = line_bases.get(line["rate"], Decimal(0)) + line["amount"]
    group_bases = {g["rate"]: g["base"] for g in groups}
    if len(group_bases) != len(groups) or group_bases != line_bases:
        expected = ", ".join(f"{_rate_text(r)}: {b}" for r, b in line_bases.items())
        raise InvoiceDataError(
            f"vat_groups: one group per rate with the sum of its lines ({expected})"
        )
    if any(g["rate"] is None and g["vat"] != 0 for g in groups):
        raise InvoiceDataError("vat_groups: an exempt group carries no VAT")
    checks = {
        "the lines": (sum(line_bases.values(), Decimal(0)), excl),
        "the VAT amounts": (sum((g["vat"] for g in groups), Decimal(0)), vat),
        "total_excl_vat + total_vat": (excl + vat, incl),
    }
    for what, (found, expected) in checks.items():
        if found != expected:
            raise InvoiceDataError(f"{what} add up to {found}, the document says {expected}")
