"""The ledger of a fiscal year as a FEC or as a CSV for common accounting tools; the trial balance."""

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils import timezone

from cascade.accounts.models import Organisation
from cascade.text import printable

from . import chart, fec
from .models import Account, EntryLine
from .posting import post_pending
from .postings import ZERO

CSV_COLUMNS = ("date", "journal", "entry", "piece", "account", "aux_account", "label", "debit", "credit",
               "analytic", "category", "cascade")


def fiscal_year(year: int) -> tuple[date, date]:
    """First and last day of the fiscal year `year` (the calendar year: Cascade knows no other yet)."""
    return date(year, 1, 1), date(year, 12, 31)


def account_labels(organisation: Organisation) -> dict[str, str]:
    return {**chart.DEFAULT_CHART, **dict(Account.objects.filter(organisation=organisation).values_list(
        "number", "label"))}


def _lines(organisation: Organisation, year: int):
    start, end = fiscal_year(year)
    return (EntryLine.objects.filter(entry__organisation=organisation, entry__date__gte=start, entry__date__lte=end)
            .select_related("entry").order_by("entry__posted_at", "entry__journal", "entry__number", "position"))


def fec_records(organisation: Organisation, year: int) -> list[fec.Record]:
    labels = account_labels(organisation)
    return [fec.Record(
        journal_code=line.entry.journal, journal_label=chart.JOURNALS[line.entry.journal],
        entry_number=str(line.entry.number), entry_date=line.entry.date, account=line.account,
        account_label=labels.get(line.account, line.account), aux_number=line.aux_number, aux_label=line.aux_label,
        piece_ref=line.entry.piece_ref, piece_date=line.entry.piece_date, label=line.label, debit=line.debit,
        credit=line.credit, valid_date=timezone.localdate(line.entry.posted_at))
        for line in _lines(organisation, year)]


def export_fec(organisation: Organisation, year: int) -> tuple[str, bytes]:
    """Post what is pending, then the FEC of the fiscal year: its file name and content, checked."""
    name = fec.file_name(organisation.siret, fiscal_year(year)[1])  # refuses before anything is posted
    post_pending(organisation)
    content = fec.write(fec_records(organisation, year))
    problems = fec.check(content)
    if problems:
        raise fec.FecError("the FEC fails its own checks: " + "; ".join(problems[:10]))
    return name, content


def _money(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")


def export_csv(organisation: Organisation, year: int) -> bytes:
    """Every line of the year's entries, `;`-separated, comma decimals, UTF-8 with a BOM (opens in a
    spreadsheet as it is, and imports into the usual accounting tools)."""
    post_pending(organisation)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for line in _lines(organisation, year):
        entry = line.entry
        # One physical line per row: a reason typed on several lines stays on one.
        writer.writerow([printable(str(v), multiline=False) for v in (
            f"{entry.date:%d/%m/%Y}", entry.journal, f"{entry.journal}{entry.year}-{entry.number:06d}",
            entry.piece_ref, line.account, line.aux_number, line.label, _money(line.debit), _money(line.credit),
            line.place, line.category, line.cascade)])
    return out.getvalue().encode("utf-8-sig")


@dataclass(frozen=True)
class BalanceRow:
    account: str
    label: str
    debit: Decimal
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        return self.debit - self.credit


def trial_balance(organisation: Organisation, year: int) -> list[BalanceRow]:
    """Debits, credits and balance of every account over the fiscal year.

    Summed here in Decimal: SQLite's SUM of a decimal column is a float sum, off by fractions of a cent."""
    start, end = fiscal_year(year)
    labels = account_labels(organisation)
    sums: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for account, debit, credit in EntryLine.objects.filter(
            entry__organisation=organisation, entry__date__gte=start, entry__date__lte=end).values_list(
            "account", "debit", "credit").iterator(chunk_size=5000):
        sums[account][0] += debit
        sums[account][1] += credit
    return [BalanceRow(account, labels.get(account, ""), *sums[account]) for account in sorted(sums)]
