"""What an accountant takes away: a month's invoices and lines as CSV and XLSX, every PDF of a month
with `cascade export_invoices`, and the preview of the next billing run."""

import csv
import html
import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from cascade.billing.models import Invoice


def test_a_month_of_invoices_as_csv_and_xlsx(alice_client, operator):
    march = Invoice.objects.filter(organisation=operator, issue_date__gte=date(2026, 3, 1),
                                   issue_date__lt=date(2026, 4, 1)).order_by("issue_date", "number")
    url = reverse("invoices_export", args=[operator.pk])
    response = alice_client.get(url, {"month": "2026-03", "format": "csv"})
    assert response["Content-Disposition"] == 'attachment; filename="factures-2026-03.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Numéro", "Type", "Date"] and len(rows) == march.count() + 1
    first = march.first()
    assert rows[1][0] == first.number and rows[1][2] == first.issue_date.strftime("%d/%m/%Y")
    assert rows[1][-1] == f"{first.total_incl_vat:.2f}".replace(".", ",")

    response = alice_client.get(url, {"month": "2026-03", "format": "xlsx", "what": "lines"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "Numéro" and len(values) - 1 == sum(i.lines.count() for i in march)
    amounts = [Decimal(str(row[8])) for row in values[1:]]
    assert sum(amounts) == sum(i.total_excl_vat for i in march)
    # A month that is not one is refused, never replaced by this month.
    for month in ("2026-13", "２０２６-０３", "mars"):
        assert alice_client.get(url, {"month": month, "format": "csv"}).status_code == 400


def test_export_invoices_writes_every_pdf_of_the_month(operator, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("export_invoices", "--period", "2026-03", "--out", str(tmp_path / "out"), stdout=io.StringIO())
    march = Invoice.objects.filter(issue_date__gte=date(2026, 3, 1), issue_date__lt=date(2026, 4, 1))
    written = sorted((tmp_path / "out" / operator.slug).glob("*.pdf"))
    assert [p.stem for p in written] == sorted(march.values_list("number", flat=True))
    assert "factur-x.xml" in PdfReader(written[0]).attachments
    with pytest.raises(CommandError, match="--period"):
        call_command("export_invoices", "--period", "2026-13", "--out", str(tmp_path), stdout=io.StringIO())


def test_the_preview_shows_each_line_and_why(alice_client, operator):
    response = alice_client.get(reverse("billing_preview", args=[operator.pk]), {"until": "2027-01-01"})
    run = response.context["run"]
    assert run.planned and all(p.invoice_date <= date(2027, 1, 1) for p in run.planned)
    page = html.unescape(response.content.decode())
    first = run.planned[0]
    assert first.subscription.reference in page and first.lines[0].label.split(" — ")[0] in page
    assert not Invoice.objects.filter(issue_date__gt=date(2026, 11, 30), organisation=operator).exists()
