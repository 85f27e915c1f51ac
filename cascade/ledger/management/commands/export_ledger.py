from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cascade.ledger.exports import export_csv
from cascade.ledger.management.commands.export_fec import checked_year, organisations, write


class Command(BaseCommand):
    help = ("Write the ledger lines of a fiscal year as a CSV for accounting tools (date;journal;entry;piece;"
            "account;aux_account;label;debit;credit;analytic;category;cascade), after posting what is pending.")

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="the fiscal year (the calendar year)")
        parser.add_argument("--out", required=True, help="the CSV file to write")
        parser.add_argument("--organisation", help="the organisation's slug; required when there are several")

    def handle(self, *args, year: int, out: str, organisation: str | None, **options):
        found = organisations(organisation)
        if len(found) != 1:
            raise CommandError("--organisation: say which organisation's ledger to write "
                               f"({', '.join(o.slug for o in found) or 'none'})")
        write(Path(out), export_csv(found[0], checked_year(year)))
        self.stdout.write(f"{found[0].name}: {out}")
