import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from cascade.accounts.models import Organisation
from cascade.payments.actions import credit_of
from cascade.payments.importing import PaymentImportError, import_payments


class Command(BaseCommand):
    help = ("Record payments received before Cascade from a CSV or XLSX file (columns: date, payeur, montant, "
            "facture): all of them, or none with every faulty line.")

    def add_arguments(self, parser):
        parser.add_argument("path", help="the CSV or XLSX file")
        parser.add_argument("--organisation", required=True, help="the receiving organisation's slug")
        parser.add_argument("--dry-run", action="store_true", help="check and show, record nothing")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--allow-credit", action="store_true",
                            help="keep what a payment pays beyond all its payer owes as a credit on its account "
                                 "(without it, such a line is refused)")

    def handle(self, *args, path: str, organisation: str, dry_run: bool, json: bool, allow_credit: bool,
               **options):
        org = Organisation.objects.filter(slug=organisation).first()
        if org is None:
            raise CommandError(_("--organisation: no organisation “%(slug)s”.") % {"slug": organisation})
        try:
            with transaction.atomic():
                payments = import_payments(Path(path), org, allow_credit=allow_credit)
                summary = {"payments": len(payments), "amount": f"{sum(p.amount for p in payments):.2f}",
                           "allocated": f"{sum(a.amount for p in payments for a in p.allocations.all()):.2f}",
                           "credits": {p.payer.name: f"{credit_of(org, p.payer):.2f}" for p in payments
                                       if credit_of(org, p.payer)}}
                if dry_run:
                    transaction.set_rollback(True)
        except PaymentImportError as error:
            if json:
                self.stdout.write(_dumps({"payments": 0, "faults": error.faults}))
            raise CommandError("\n".join(error.faults)) from None
        if json:
            self.stdout.write(_dumps(summary | {"dry_run": dry_run}))
        else:
            text = (_("would record %(payments)s payment(s), %(amount)s €, of which %(allocated)s € settle documents")
                    if dry_run else
                    _("recorded %(payments)s payment(s), %(amount)s €, of which %(allocated)s € settle documents"))
            self.stdout.write(text % summary)


def _dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False)
