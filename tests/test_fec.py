"""The FEC, re-read as an auditor's tool reads it: the 18 fields of A47 A-1 in their order, `|`
separated, dates YYYYMMDD, comma decimals, every entry balanced, EcritureNum continuous per journal, the
file named <SIREN>FEC<closing date>.txt; and the demo's FEC for 2026."""

import csv
import io
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from test_billing_run import Site

from cascade.billing.actions import bill_until
from cascade.ledger import fec
from cascade.ledger.models import Entry, SupplierBill
from cascade.payments.actions import record_payment

D = Decimal
COLUMNS = ["JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib", "CompAuxNum",
           "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit", "EcritureLet", "DateLet",
           "ValidDate", "Montantdevise", "Idevise"]


def read_fec(path) -> list[dict]:
    """The FEC's records, each checked on its own: field count, dates, amounts."""
    text = path.read_bytes().decode("iso8859_15")
    lines = text.split("\r\n")
    assert lines[-1] == ""
    header, *rows = lines[:-1]
    assert header.split("|") == COLUMNS
    records = []
    for line in rows:
        fields = line.split("|")
        assert len(fields) == 18, line
        record = dict(zip(COLUMNS, fields, strict=True))
        for name in ("EcritureDate", "PieceDate", "ValidDate"):
            assert len(record[name]) == 8 and date(int(record[name][:4]), int(record[name][4:6]), int(record[name][6:]))
        for name in ("Debit", "Credit"):
            assert "." not in record[name] and record[name].count(",") == 1, record[name]
            record[name] = D(record[name].replace(",", "."))
        assert record["CompteNum"][:3].isdigit() and record["CompteLib"] and record["EcritureLib"]
        records.append(record)
    return records


def check_entries(records: list[dict]) -> dict[str, int]:
    """Every entry balanced, its numbers continuous from 1 in each journal; the entries per journal."""
    entries = defaultdict(lambda: [D(0), D(0)])
    for r in records:
        entries[(r["JournalCode"], r["EcritureNum"])][0] += r["Debit"]
        entries[(r["JournalCode"], r["EcritureNum"])][1] += r["Credit"]
    unbalanced = {key: v for key, v in entries.items() if v[0] != v[1]}
    assert not unbalanced
    numbers = defaultdict(list)
    for journal, number in entries:
        numbers[journal].append(int(number))
    for journal, found in numbers.items():
        assert sorted(found) == list(range(1, len(found) + 1)), journal
    return {journal: len(found) for journal, found in numbers.items()}


def _export(tmp_path, *args: str) -> str:
    out = io.StringIO()
    call_command("export_fec", *args, "--out", str(tmp_path), stdout=out)
    return out.getvalue()


def test_the_fec_of_a_year_re_reads_balanced_and_numbered(db, tmp_path):
    essai = Site()
    canal = essai.place("Canal | Essai", vat=True)
    subscription = essai.subscribe(canal, "Atelier l’Aubépine", "B1", entry=date(2025, 12, 1), rent="1250.50",
                                   fluids="40.00")
    bill_until(date(2026, 2, 1), organisation_id=essai.operator.pk)
    record_payment(essai.operator, subscription.subscriber, amount=D("1548.60"), received_on=date(2026, 1, 9),
                   means="transfer")
    SupplierBill.objects.create(organisation=essai.operator, supplier_name="Régie des Eaux", place=canal,
                                category="Eau", date=date(2026, 1, 15), number="RÉG-202601-108",
                                amount_excl_vat=D("420.00"), vat_rate=D("5.5"), amount_vat=D("23.10"),
                                amount_incl_vat=D("443.10"))
    printed = _export(tmp_path, "--year", "2026", "--organisation", essai.operator.slug)
    path = tmp_path / "732829320FEC20261231.txt"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    assert str(path) in printed
    records = read_fec(path)
    assert check_entries(records) == {"VT": 2, "BQ": 1, "AC": 1}  # December 2025 is in the 2025 FEC
    january = [r for r in records if r["JournalCode"] == "VT" and r["EcritureNum"] == "1"]
    assert [(r["CompteNum"], r["CompteLib"], r["CompAuxNum"], r["Debit"], r["Credit"]) for r in january] == [
        ("411", "Clients", f"C{subscription.subscriber.pk:05d}", D("1548.60"), D("0")),
        ("706", "Prestations de services", "", D("0"), D("1250.50")),
        ("708", "Produits des activités annexes", "", D("0"), D("40.00")),
        ("44571", "TVA collectée", "", D("0"), D("258.10"))]
    assert january[0]["CompAuxLib"] == "Atelier l'Aubépine"  # ’ is not in ISO 8859-15
    assert january[0]["JournalLib"] == "Ventes" and january[0]["EcritureDate"] == "20260101"
    assert fec.check(path.read_bytes()) == []
    assert Entry.objects.filter(organisation=essai.operator, year=2025).count() == 1

    # Exported again: the same file.
    before = path.read_bytes()
    _export(tmp_path, "--year", "2026", "--organisation", essai.operator.slug)
    assert path.read_bytes() == before


def test_no_fec_without_a_siret(db, tmp_path):
    essai = Site()
    essai.operator.siret = ""
    essai.operator.save()
    with pytest.raises(CommandError, match="no SIRET"):
        _export(tmp_path, "--year", "2026", "--organisation", essai.operator.slug)
    assert list(tmp_path.iterdir()) == []


def test_the_check_finds_an_unbalanced_entry_and_a_gap():
    good = fec.Record("VT", "Ventes", "1", date(2026, 1, 1), "411", "Clients", "", "", "F1", date(2026, 1, 1), "x",
                      D("10.00"), D("0.00"), date(2026, 1, 2))
    bad = [good, fec.Record(*[*good.__dict__.values()][:11], D("0.00"), D("9.99"), date(2026, 1, 2)),
           fec.Record("VT", "Ventes", "3", *[*good.__dict__.values()][3:])]
    problems = fec.check(fec.write(bad))
    assert "entry VT 1: debit 10,00 ≠ credit 9,99" in problems
    assert "journal VT: EcritureNum is not continuous from 1" in problems


def test_the_demo_fec_for_2026_passes_its_checks(site, tmp_path):
    operator = site["operator"]
    _export(tmp_path, "--year", "2026", "--organisation", operator.slug)
    path = tmp_path / f"{operator.siret[:9]}FEC20261231.txt"
    records = read_fec(path)
    counts = check_entries(records)
    assert set(counts) == {"VT", "AC", "BQ"} and counts["AC"] == 151  # the Dépenses sheet’s bills of 2026
    # The payments of the demo's history, one entry each.
    from cascade.payments.models import Payment
    assert counts["BQ"] == Payment.objects.filter(organisation=operator, received_on__year=2026).count() == 1052
    assert fec.check(path.read_bytes()) == []
    # The CSV for accounting tools holds the same lines.
    csv_path = tmp_path / "grand-livre-2026.csv"
    call_command("export_ledger", "--year", "2026", "--out", str(csv_path), "--organisation", operator.slug,
                 stdout=io.StringIO())
    rows = list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert rows[0] == ["date", "journal", "entry", "piece", "account", "aux_account", "label", "debit", "credit",
                       "analytic", "category", "cascade"]
    assert len(rows) - 1 == len(records)
    total = sum(D(r[7].replace(",", ".")) - D(r[8].replace(",", ".")) for r in rows[1:])
    assert total == 0


def test_the_ledger_page_shows_the_trial_balance_and_downloads_the_fec(alice_client, site):
    from django.urls import reverse

    operator = site["operator"]
    page = reverse("ledger", args=[operator.pk])
    response = alice_client.get(reverse("ledger_export", args=[operator.pk]) + "?year=2026&format=fec")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{operator.siret[:9]}FEC20261231.txt"'
    assert fec.check(response.content) == []
    html = alice_client.get(page + "?year=2026").content.decode()
    assert "Balance générale" in html and "TVA collectée" in html and "Télécharger l’exercice" in html
    # The trial balance balances.
    from cascade.ledger.exports import trial_balance

    rows = trial_balance(operator, 2026)
    assert sum(r.debit for r in rows) == sum(r.credit for r in rows) > 0


def test_an_organisation_without_siret_is_told_on_the_page(alice_client, site):
    from django.urls import reverse

    operator = site["operator"]
    type(operator).objects.filter(pk=operator.pk).update(siret="")
    response = alice_client.get(reverse("ledger_export", args=[operator.pk]) + "?year=2026&format=fec", follow=True)
    assert "Le FEC porte le SIREN de l’organisation : renseignez d’abord son SIRET." in response.content.decode()


def test_bad_years_and_places_to_write_are_refused_clearly(site, tmp_path):
    slug = site["operator"].slug
    for year, message in (("0", "--year: 0 is out of range"), ("3000", "--year: 3000 is out of range"),
                          ("2030", "Collectif Tremplin: no entry in 2030, no FEC to write")):
        with pytest.raises(CommandError, match=message):
            _export(tmp_path / "fec", "--year", year, "--organisation", slug)
    with pytest.raises(CommandError, match="--out: cannot create the folder /proc/fec"):
        _export(Path("/proc/fec"), "--year", "2026", "--organisation", slug)
    with pytest.raises(CommandError, match="--out: /dev/null exists and is not a regular file"):
        call_command("export_ledger", "--year", "2026", "--out", "/dev/null", "--organisation", slug)
    assert not (tmp_path / "fec").exists()


def test_names_the_fec_cannot_encode_and_lines_typed_on_several_lines(db, tmp_path):
    essai = Site()
    halle = essai.place("Halle Essai", vat=False)
    subscription = essai.subscribe(halle, "李小龙 😀 | Ω", "A1", entry=date(2026, 3, 1), exit=date(2026, 3, 31),
                                   rent="100.00")
    essai.operator.siret = "73282932000074"
    essai.operator.save()
    bill_until(date(2026, 3, 1), organisation_id=essai.operator.pk)
    record_payment(essai.operator, subscription.subscriber, amount=Decimal("100.00"), received_on=date(2026, 3, 5),
                   means="transfer", reference="VIR\nmars")
    _export(tmp_path, "--year", "2026", "--organisation", essai.operator.slug)
    content = (tmp_path / "732829320FEC20261231.txt").read_bytes()
    assert fec.check(content) == []
    assert "|??? ? / ?|" in content.decode("iso8859_15")
    call_command("export_ledger", "--year", "2026", "--out", str(tmp_path / "gl.csv"), "--organisation",
                 essai.operator.slug)
    rows = (tmp_path / "gl.csv").read_bytes().decode("utf-8-sig").split("\r\n")
    assert len(rows) == 1 + 2 + 2 + 1  # header, the invoice's and the payment's lines, the final newline
    assert any(";VIR mars;" in row for row in rows)
