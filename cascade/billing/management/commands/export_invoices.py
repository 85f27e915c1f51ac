from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cascade.billing.documents import invoice_pdf
from cascade.billing.models import Invoice
from cascade.dates import DateInputError, parse_month


class Command(BaseCommand):
    help = "Write the PDF (Factur-X) of every invoice and credit note issued in a month into DIR."

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="the month, YYYY-MM")
        parser.add_argument("--out", required=True, help="the directory to write into (created if needed)")

    def handle(self, *args, **options):
        try:
            month = parse_month(options["period"])
        except DateInputError as error:
            raise CommandError(f"--period: {error}") from None
        out = Path(options["out"])
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CommandError(f"{out}: cannot be created ({error.strerror})") from None
        end = month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1)
        documents = Invoice.objects.filter(issue_date__gte=month, issue_date__lt=end).select_related(
            "organisation").order_by("organisation__slug", "series", "sequence")
        count = 0
        for invoice in documents.iterator():
            folder = out / invoice.organisation.slug
            folder.mkdir(exist_ok=True)
            (folder / f"{invoice.number}.pdf").write_bytes(invoice_pdf(invoice))
            count += 1
        self.stdout.write(f"{count} document(s) issued in {month:%Y-%m} written to {out}")
