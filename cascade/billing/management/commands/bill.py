import json

from django.core.management.base import BaseCommand, CommandError

from cascade.billing.actions import bill_until
from cascade.billing.formatting import format_eur
from cascade.dates import DateInputError, parse_day
from cascade.ledger.posting import post_pending


class Command(BaseCommand):
    help = "Issue every invoice whose invoice date is on or before --until (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--until", required=True, help="last invoice date to bill, YYYY-MM-DD")
        parser.add_argument("--dry-run", action="store_true", help="show what would be issued, issue nothing")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, until: str, dry_run: bool, json: bool, **options):
        try:
            day = parse_day(until)
        except DateInputError as error:
            raise CommandError(f"--until: {error}") from None
        run = bill_until(day, dry_run=dry_run)
        if not dry_run:
            post_pending()  # what was issued is in the ledger when the command ends
        if json:
            self.stdout.write(_dumps(run.as_dict()))
            _fail_on(run)
            return
        verb = "would issue" if dry_run else "issued"
        documents = run.planned if dry_run else run.issued
        for doc in documents:
            if dry_run:
                kind = "credit note" if doc.total_excl_vat < 0 else "invoice"
                self.stdout.write(f"  {doc.invoice_date}  {doc.subscription.reference}  "
                                  f"{doc.subscription.subscriber.name}  {kind}  {format_eur(doc.total_excl_vat)} HT")
                for line in doc.lines:
                    self.stdout.write(f"      {format_eur(line.amount):>14}  {line.label}")
            else:
                self.stdout.write(f"  {doc.number}  {doc.issue_date}  {doc.customer.name}  "
                                  f"{format_eur(doc.total_incl_vat)} TTC")
        self.stdout.write(f"{verb} {len(documents)} document(s) (invoices and credit notes) up to {day}: "
                          f"{format_eur(run.total_excl_vat)} HT, {format_eur(run.total_vat)} TVA, "
                          f"{format_eur(run.total_incl_vat)} TTC")
        _fail_on(run)


def _fail_on(run) -> None:
    """Exit status 1, and why, when a seller was left out of the run."""
    if run.refused:
        raise CommandError("\n".join(run.refused))


def _dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False)
