"""The formal notice letter (mise en demeure) and the statement of account (relevé de compte), drawn by
Typst from plain data: French amounts and dates are formatted here, the templates only lay them out."""

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from cascade import typst_pdf
from cascade.billing.formatting import format_date_fr, format_eur, format_percent
from cascade.billing.models import DocumentKind

from .models import Reminder
from .penalties import is_professional
from .statement import Statement

TYPST = Path(__file__).parent / "typst"
DOCUMENT_NAMES = {DocumentKind.INVOICE: "Facture", DocumentKind.CREDIT_NOTE: "Avoir",
                  DocumentKind.PAYMENT_NOTICE: "Avis d’échéance"}


def _lines(text: str) -> list[str]:
    return [part.strip() for part in (text or "").splitlines() if part.strip()]


def _party(snapshot: dict) -> dict:
    siret = snapshot.get("siret") or None
    return {"name": snapshot.get("name", ""), "address": _lines(snapshot.get("address", "")), "siret": siret,
            "email": snapshot.get("email") or None, "iban": snapshot.get("iban") or None}


def _day(day: date) -> list[int]:
    return [day.year, day.month, day.day]


def letter_view(rows: list[Reminder]) -> dict:
    """The letter claiming the documents of `rows` (one customer, one step, one day)."""
    first = rows[0]
    seller, buyer = first.invoice.seller, first.invoice.buyer
    professional = is_professional(buyer)
    table = [[f"{DOCUMENT_NAMES[r.invoice.kind]} {r.invoice.number} du {format_date_fr(r.invoice.issue_date)}",
              format_date_fr(r.invoice.due_date), format_eur(r.invoice.total_incl_vat), format_eur(r.outstanding),
              str(r.days_late), format_eur(r.penalties), format_eur(r.recovery_fee)] for r in rows]
    outstanding = sum((r.outstanding for r in rows), Decimal(0))
    penalties = sum((r.penalties for r in rows), Decimal(0))
    fees = sum((r.recovery_fee for r in rows), Decimal(0))
    claimed = outstanding + penalties + fees
    numbers = ", ".join(r.invoice.number for r in rows)
    interest = (f"Les pénalités de retard sont calculées au taux de {format_percent(first.late_penalty_rate)} l’an "
                "(taux directeur de la BCE majoré de 10 points, art. L441-10 du Code de commerce) sur le reste dû, "
                "du lendemain de l’échéance à ce jour ; elles continuent de courir jusqu’au paiement complet. "
                "Chaque facture payée en retard donne lieu à l’indemnité forfaitaire pour frais de recouvrement "
                "de 40 € (art. D441-5 du Code de commerce)."
                if professional else
                "À défaut de paiement, la somme due portera intérêts au taux légal à compter de la présente "
                "mise en demeure (art. 1231-6 du Code civil).")
    return {
        "seller": _party(seller), "buyer": _party(buyer), "date": _day(first.day), "day": format_date_fr(first.day),
        "subject": f"Mise en demeure de payer — {numbers}",
        "intro": (f"Malgré nos relances, la somme de {format_eur(outstanding)} reste impayée sur "
                  + ("le document ci-dessous." if len(rows) == 1 else "les documents ci-dessous.")),
        "professional": professional, "rows": table,
        "totals": [format_eur(outstanding), format_eur(penalties), format_eur(fees)], "total": format_eur(claimed),
        "demand": (f"Par la présente, nous vous mettons en demeure de nous régler la somme de {format_eur(claimed)} "
                   "dans un délai de huit jours à compter de sa réception. À défaut, nous engagerons les démarches "
                   "de recouvrement nécessaires, sans autre avis."),
        "interest": interest,
        "payment": (f"Règlement par virement : IBAN {seller['iban']}, en indiquant la référence {numbers}."
                    if seller.get("iban") else None),
    }


def render_letter(rows: list[Reminder]) -> bytes:
    return typst_pdf.render(TYPST / "letter.typ", letter_view(rows))


def statement_view(statement: Statement) -> dict:
    last = statement.end - timedelta(days=1)
    return {
        "seller": _party(statement.seller), "buyer": _party(statement.customer),
        "date": _day(statement.made_on), "day": format_date_fr(statement.made_on),
        "period": f"du {format_date_fr(statement.start)} au {format_date_fr(last)}",
        "opening": format_eur(statement.opening), "opening_day": format_date_fr(statement.start),
        "rows": [[format_date_fr(r.day), r.label, format_eur(r.debit) if r.debit else "",
                  format_eur(r.credit) if r.credit else "", format_eur(r.balance)] for r in statement.rows],
        "debits": format_eur(statement.debits), "credits": format_eur(statement.credits),
        "closing": format_eur(statement.closing), "closing_day": format_date_fr(last),
        "closing_caption": ("Solde en votre faveur" if statement.closing < 0 else "Solde dû"),
    }


def render_statement(statement: Statement) -> bytes:
    return typst_pdf.render(TYPST / "statement.typ", statement_view(statement))
