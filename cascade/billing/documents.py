"""The PDF of an issued invoice — a Factur-X: PDF/A-3b with its EN 16931 XML — or of a payment notice
(the PDF/A-3b alone), drawn from its frozen data and kept once drawn."""

from datetime import timedelta
from pathlib import Path

from django.conf import settings

from . import facturx
from .facturx import CONSUMER_LATE_PENALTY, CONSUMER_RECOVERY_FEE
from .formatting import format_date_fr
from .models import DocumentKind, Invoice
from .pdf import render_invoice_pdf
from .vat import REGIME_OF_MENTION, vat_breakdown

LATE_PENALTY = ("Pénalités de retard exigibles dès le lendemain de l'échéance : taux directeur de la BCE "
                "majoré de 10 points (art. L441-10 du Code de commerce).")
RECOVERY_FEE = "Indemnité forfaitaire pour frais de recouvrement en cas de retard : 40 € (art. D441-5)."


def invoice_data(invoice: Invoice) -> dict:
    lines = list(invoice.lines.all())
    groups = vat_breakdown((line.amount_excl_vat, line.vat_rate) for line in lines)
    place = invoice.place
    # A buyer without SIRET is a consumer (an individual, a household, an artist without SIRET):
    # neither the 40 € fee nor the commercial late rate apply (Code de commerce L441-10 is B2B).
    consumer = not invoice.buyer.get("siret")
    return {
        "seller": invoice.seller,
        "buyer": invoice.buyer,
        "number": invoice.number,
        "kind": invoice.kind,
        "refers_to": invoice.corrects.number if invoice.corrects_id else None,
        "issue_date": invoice.issue_date.isoformat(),
        "due_date": invoice.due_date.isoformat(),
        "period_start": invoice.period_start.isoformat(),
        "period_end": (invoice.period_end - timedelta(days=1)).isoformat(),
        "place": {"name": place.name, "address": place.address} if place else None,
        "lines": [
            # The label already says which days the line covers.
            {"label": line.label, "period": None, "quantity": _quantity(line),
             "amount_excl_vat": f"{line.amount_excl_vat:.2f}",
             "vat_rate": f"{line.vat_rate:.2f}" if line.vat_rate is not None else None}
            for line in lines
        ],
        "vat_groups": [{"rate": f"{g.rate:.2f}" if g.rate is not None else None, "base": f"{g.base:.2f}",
                        "vat": f"{g.vat:.2f}"} for g in groups],
        "total_excl_vat": f"{invoice.total_excl_vat:.2f}",
        "total_vat": f"{invoice.total_vat:.2f}",
        "total_incl_vat": f"{invoice.total_incl_vat:.2f}",
        "vat_mention": invoice.vat_mention or None,
        "payment_terms": _payment_terms(invoice),
        "late_penalty": CONSUMER_LATE_PENALTY if consumer else LATE_PENALTY,
        "recovery_fee": CONSUMER_RECOVERY_FEE if consumer else RECOVERY_FEE,
        "refers_to_date": invoice.corrects.issue_date.isoformat() if invoice.corrects_id else None,
        "vat_regime": REGIME_OF_MENTION.get(invoice.vat_mention, "normal"),
        "vat_on_debits": bool(invoice.seller.get("vat_on_debits")),
        "category": "prestation de services",
    }


def invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice's PDF; rendered on first request and stored, never rendered differently after."""
    path = Path(settings.MEDIA_ROOT) / "invoices" / str(invoice.organisation_id) / f"{invoice.number}.pdf"
    if path.exists():
        return path.read_bytes()
    data = invoice_data(invoice)
    pdf = render_invoice_pdf(data)
    if invoice.kind != DocumentKind.PAYMENT_NOTICE:  # a notice is no invoice: it carries no e-invoice
        pdf = facturx.embed(pdf, facturx.cii_xml(data), kind=data["kind"])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(pdf)
    tmp.replace(path)
    return pdf


def _payment_terms(invoice: Invoice) -> str:
    if invoice.kind == DocumentKind.CREDIT_NOTE:
        return "Avoir à déduire de votre prochain règlement, ou remboursé sur demande."
    if invoice.total_incl_vat < 0:
        return "Montant en votre faveur, déduit de votre prochain règlement ou remboursé sur demande."
    by_transfer = " par virement" if invoice.seller.get("iban") else ""
    return f"À régler au plus tard le {format_date_fr(invoice.due_date)}{by_transfer}."


def _quantity(line) -> str:
    """"1 mois", "1 trimestre", or the days covered out of the period's ("4/31 j")."""
    if line.days == line.period_days:
        return "1 trimestre" if line.period_days > 31 else "1 mois"
    return f"{line.days}/{line.period_days} j"
