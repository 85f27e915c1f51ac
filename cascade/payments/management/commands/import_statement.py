import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cascade.accounts.models import Organisation
from cascade.payments.statements import StatementImportError, import_statement


class Command(BaseCommand):
    help = ("Import a bank statement (CAMT.053 or OFX, told from its content) of the organisation's account and "
            "match its credits with the documents they pay: all of it, or nothing with the reason.")

    def add_arguments(self, parser):
        parser.add_argument("path", help="the CAMT.053 (XML) or OFX file")
        parser.add_argument("--organisation", required=True, help="the slug of the organisation whose account it is")
        parser.add_argument("--dry-run", action="store_true", help="read, match and show, record nothing")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, path: str, organisation: str, dry_run: bool, json: bool, **options):
        org = Organisation.objects.filter(slug=organisation).first()
        if org is None:
            raise CommandError(f"--organisation: no organisation {organisation!r}")
        try:
            data = Path(path).read_bytes()
        except OSError as error:
            raise CommandError(f"{path}: {error.strerror}") from None
        try:
            with transaction.atomic():
                summary = import_statement(data, org, file_name=Path(path).name).summary()
                if dry_run:
                    transaction.set_rollback(True)
        except StatementImportError as error:
            if json:
                self.stdout.write(_dumps({"lines": 0, "faults": error.faults}))
            raise CommandError("\n".join(error.faults)) from None
        if json:
            self.stdout.write(_dumps(summary | {"dry_run": dry_run}))
        elif summary["already_imported"]:
            self.stdout.write(f"statement {summary['statement']} was already imported: nothing changed")
        else:
            verb = "would import" if dry_run else "imported"
            self.stdout.write(
                f"{verb} statement {summary['statement']}: {summary['lines']} line(s), {summary['credits']} credit(s) "
                f"of which {summary['matched_automatically']} matched automatically ({summary['match_rate']} %), "
                f"{summary['proposed']} to confirm, {summary['unmatched']} unmatched, {summary['returned']} direct "
                f"debit(s) returned, {summary['unmatched_returns']} returned direct debit(s) naming no payment "
                f"recorded, {summary['ignored']} ignored, {summary['skipped']} already imported")


def _dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False)
