import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cascade.billing.actions import bill_until
from cascade.billing.formatting import format_eur
from cascade.dates import DateInputError, parse_day


class Command(BaseCommand):
    help = "Issue every invoice whose invoice date is on or before --until (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--until", required=True, help="last invoice date to bill, YYYY-MM-DD")
        parser.add_argument("--dry-run", action="store_true", help="show what would be issued, issue nothing")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--allow-future", action="store_true",
                            help="issue documents dated after today (they are issued now, dated on their day)")

    def handle(self, *args, until: str, dry_run: bool, json: bool, allow_future: bool, **options):
        try:
            day = parse_day(until)
        except DateInputError as error:
            raise CommandError(f"--until: {error}") from None
        today = timezone.localdate()
        if day > today and not (dry_run or allow_future):
            raise CommandError(f"--until: {day:%d/%m/%Y} is after today ({today:%d/%m/%Y}): documents dated later "
                               "would be issued now. Preview them with --dry-run, or pass --allow-future.")
        # The ledger entries of what is issued are posted by `cascade tick`, the ledger page and its exports:
        # the monthly run stays a billing run.
        run = bill_until(day, dry_run=dry_run)
        if json:
            self.stdout.write(_dumps(run.as_dict()))
            _fail_on(run)
            return
        verb = "would issue" if dry_run else "issued"
        documents = run.planned if dry_run else run.issued
        for doc in documents:
            if dry_run:
                kind = ("payment notice" if doc.subscription.current_version.payment_notice
                        else "credit note" if doc.total_excl_vat < 0 else "invoice")
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
