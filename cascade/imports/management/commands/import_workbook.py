import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cascade.dates import DateInputError, parse_day
from cascade.imports.services import import_workbook


class Command(BaseCommand):
    help = "Import an operator's workbook (.xlsx): everything or nothing, every fault reported."

    def add_arguments(self, parser):
        parser.add_argument("path", help="the workbook (.xlsx)")
        parser.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--billing-from", metavar="DATE",
                            help="periods invoiced before DATE were billed outside Cascade (YYYY-MM-DD)")

    def handle(self, *args, path: str, dry_run: bool, json: bool, billing_from: str | None, **options):
        if not Path(path).is_file():
            raise CommandError(f"{path}: no such file")
        start = None
        if billing_from is not None:
            try:
                start = parse_day(billing_from)
            except DateInputError as error:
                raise CommandError(f"--billing-from: {error}") from None
        report = import_workbook(path, billing_from=start, dry_run=dry_run)
        if json:
            self.stdout.write(_dumps(report.as_dict()))
        elif report.faults:
            self.stderr.write(f"{path}: {len(report.faults)} fault(s), nothing imported")
        else:
            verb = "would create" if dry_run else "created"
            counts = ", ".join(f"{n} {what}" for what, n in report.counts.items())
            self.stdout.write(f"{verb}: {counts}")
        if report.faults:
            for fault in report.faults:
                self.stderr.write(_describe(fault))
            for note in report.notes:
                self.stderr.write(f"note: {note}")
            raise SystemExit(1)


def _describe(fault) -> str:
    """`Occupations, row 7, column «Date d'entrée»: date that does not exist (value: «31/02/2026»)`."""
    where = [part for part, shown in ((fault.sheet, fault.sheet), (f"row {fault.row}", fault.row),
                                      (f"column «{fault.column}»", fault.column)) if shown]
    value = f" (value: «{fault.value}»)" if fault.value else ""
    return f"{', '.join(where) or 'workbook'}: {fault.problem}{value}"


def _dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False)
