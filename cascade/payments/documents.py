"""The formal notice letter (mise en demeure) and the statement of account (relevé de compte), drawn by
Typst from plain data: French amounts and dates are formatted here, the templates only lay them out."""

from datetime import date, timedelta
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


def letter_view(reminder: Reminder) -> dict:
    invoice = reminder.invoice
    professional = is_professional(invoice.buyer)
    settled = invoice.total_incl_vat - reminder.outstanding
    rows = [[f"{DOCUMENT_NAMES[invoice.kind]} {invoice.number} du {format_date_fr(invoice.issue_date)}, "
             f"échue le {format_date_fr(invoice.due_date)}", format_eur(invoice.total_incl_vat)]]
    if settled:
        rows.append(["Déjà réglé ou crédité", format_eur(-settled)])
    rows.append(["Reste dû", format_eur(reminder.outstanding)])
    if professional:
        rows.append([f"Pénalités de retard : {reminder.days_late} jours au taux de "
                     f"{format_percent(reminder.late_penalty_rate)} l’an (art. L441-10 du Code de commerce)",
                     format_eur(reminder.penalties)])
        rows.append(["Indemnité forfaitaire pour frais de recouvrement (art. D441-5 du Code de commerce)",
                     format_eur(reminder.recovery_fee)])
    interest = ("Les pénalités de retard continuent de courir jusqu’au paiement complet."
                if professional else
                "À défaut de paiement, la somme due portera intérêts au taux légal à compter de la présente "
                "mise en demeure (art. 1231-6 du Code civil).")
    return {
        "seller": _party(invoice.seller), "buyer": _party(invoice.buyer),
        "date": _day(reminder.day), "day": format_date_fr(reminder.day),
        "subject": f"Mise en demeure de payer — {DOCUMENT_NAMES[invoice.kind].lower()} {invoice.number}",
        "intro": (f"Malgré nos relances, la somme de {format_eur(reminder.outstanding)} reste impayée sur le "
                  f"document ci-dessous, échu depuis {reminder.days_late} jours."),
        "rows": rows, "total": format_eur(reminder.amount_claimed),
        "demand": (f"Par la présente, nous vous mettons en demeure de nous régler la somme de "
                   f"{format_eur(reminder.amount_claimed)} dans un délai de huit jours à compter de sa réception. "
                   "À défaut, nous engagerons les démarches de recouvrement nécessaires, sans autre avis."),
        "interest": interest,
        "payment": (f"Règlement par virement : IBAN {invoice.seller['iban']}, en indiquant la référence "
                    f"{invoice.number}." if invoice.seller.get("iban") else None),
    }


def render_letter(reminder: Reminder) -> bytes:
    return typst_pdf.render(TYPST / "letter.typ", letter_view(reminder))


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
