"""Each invoice line and each period billed outside Cascade says which days it covers (and the
version that priced them), so that a later change is billed as an adjustment of exactly those
days. Lines issued before are read back from their label ("… du 01/03/2026 au 10/03/2026 …")."""

import re
from datetime import date, timedelta

from django.db import migrations, models

DAYS = re.compile(r"du (\d{2})/(\d{2})/(\d{4}) au (\d{2})/(\d{2})/(\d{4})")


def _covered(label: str, period_start: date, period_end: date) -> tuple[date, date]:
    found = DAYS.search(label)
    if found is None:
        return period_start, period_end
    d1, m1, y1, d2, m2, y2 = map(int, found.groups())
    start, end = date(y1, m1, d1), date(y2, m2, d2) + timedelta(days=1)
    return (start, end) if period_start <= start < end <= period_end else (period_start, period_end)


def fill(apps, schema_editor):
    InvoiceLine = apps.get_model("billing", "InvoiceLine")
    for line in InvoiceLine.objects.select_related("subscription").iterator():
        line.covered_start, line.covered_end = _covered(line.label, line.period_start, line.period_end)
        # Before amendments, a subscription had one version; a line of a period no longer
        # occupied ("période non occupée", 0 days) credits days that are not due.
        line.version_number = None if line.days == 0 else 1
        line.save(update_fields=["covered_start", "covered_end", "version_number"])
    BilledOutside = apps.get_model("billing", "BilledOutside")
    Version = apps.get_model("subscriptions", "SubscriptionVersion")
    for row in BilledOutside.objects.select_related("subscription__place").iterator():
        version = Version.objects.filter(subscription_id=row.subscription_id).order_by("number").first()
        last = (version.exit_date or row.subscription.place.convention_end) + timedelta(days=1)
        row.covered_start = max(row.period_start, version.entry_date)
        row.covered_end = max(min(row.period_end, last), row.covered_start)
        row.save(update_fields=["covered_start", "covered_end"])


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_invoice_corrects_series_date"), ("subscriptions", "0003_component_order")]

    operations = [
        migrations.AddField("invoiceline", "covered_start", models.DateField(null=True)),
        migrations.AddField("invoiceline", "covered_end", models.DateField(null=True)),
        migrations.AddField("invoiceline", "version_number", models.PositiveSmallIntegerField(null=True, blank=True)),
        migrations.AddField("billedoutside", "covered_start", models.DateField(null=True)),
        migrations.AddField("billedoutside", "covered_end", models.DateField(null=True)),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField("invoiceline", "covered_start", models.DateField()),
        migrations.AlterField("invoiceline", "covered_end", models.DateField()),
        migrations.AlterField("billedoutside", "covered_start", models.DateField()),
        migrations.AlterField("billedoutside", "covered_end", models.DateField()),
    ]
