import json
import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from cascade.accounts.models import Organisation
from cascade.dates import DateInputError, parse_day
from cascade.payments.debits import DirectDebitError, export_batch
from cascade.payments.models import Mandate, MandateStatus


class Command(BaseCommand):
    help = ("Write the SEPA direct debit batch (pain.008.001.08) of a collection date: the documents announced "
            "to debtors with an active mandate; each debit is recorded as a payment.")

    def add_arguments(self, parser):
        parser.add_argument("--collection-date", required=True, help="the day of the debit (YYYY-MM-DD)")
        parser.add_argument("--out", required=True, help="the XML file to write")
        parser.add_argument("--organisation", help="the creditor's slug (needed when several organisations have "
                                                   "mandates)")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, collection_date: str, out: str, organisation: str | None, **options):
        try:
            day = parse_day(collection_date)
        except DateInputError as error:
            raise CommandError(f"--collection-date: {error}") from None
        creditor = _creditor(organisation)
        target = Path(out)
        if target.is_dir():
            raise CommandError(_("--out: %(path)s is a folder: give the path of the XML file to write.")
                               % {"path": target})
        if target.exists() and not target.is_file():
            raise CommandError(_("--out: %(path)s is not a regular file: give the path of the XML file to write.")
                               % {"path": target})
        if not target.parent.is_dir():
            raise CommandError(_("--out: the folder %(path)s does not exist.") % {"path": target.parent})
        try:
            with transaction.atomic():
                batch = export_batch(creditor, day)
                with batch.file.open("rb") as f:
                    xml = f.read()
                # Written before the commit: if the file cannot be written, nothing is recorded.
                partial = target.with_name(target.name + ".part")
                partial.write_bytes(xml)
                os.replace(partial, target)
        except DirectDebitError as error:
            raise CommandError(str(error)) from None
        except OSError as error:
            raise CommandError(f"--out: {error}") from None
        summary = {"message_id": batch.message_id, "collection_date": day.isoformat(), "count": batch.count,
                   "control_sum": f"{batch.control_sum:.2f}", "file": str(target),
                   "sequences": dict(sorted(_sequences(batch).items()))}
        if options["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
        else:
            self.stdout.write(f"{batch.count} debit(s), control sum {summary['control_sum']} €, collected on "
                              f"{day.isoformat()}: {target}")


def _sequences(batch) -> dict[str, int]:
    counts: dict[str, int] = {}
    for sequence in batch.debits.values_list("sequence_type", flat=True):
        counts[sequence] = counts.get(sequence, 0) + 1
    return counts


def _creditor(slug: str | None) -> Organisation:
    if slug:
        found = Organisation.objects.filter(slug=slug).first()
        if found is None:
            raise CommandError(f"--organisation: no organisation {slug!r}")
        return found
    creditors = Organisation.objects.filter(mandates_received__status=MandateStatus.ACTIVE).distinct()
    if creditors.count() == 1:
        return creditors.get()
    if not Mandate.objects.exists() or not creditors.exists():
        raise CommandError("Nothing to collect: no organisation has an active SEPA mandate.")
    raise CommandError("Several organisations have mandates: name one with --organisation SLUG ("
                       + ", ".join(creditors.values_list("slug", flat=True)) + ").")
