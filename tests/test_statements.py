"""Bank statements: CAMT.053 and OFX files read, credits matched with the invoices they pay (number, then
amount and payer IBAN or name, else a proposal), direct-debit returns reopening their invoice; bad files
refused whole with a message that says where and why."""

import io
import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st
from test_billing_run import Site

from cascade.accounts.models import AuditEvent, Membership, Organisation, Role
from cascade.billing.actions import bill_until
from cascade.billing.numbering import format_number
from cascade.payments import camt053, demo, matching, ofx
from cascade.payments.actions import PaymentError, credit_of, record_payment, reverse_payment, settlements
from cascade.payments.bankfile import StatementFileError, read_statement
from cascade.payments.models import BankStatement, LineStatus, Payment, StatementLine
from cascade.payments.statements import StatementImportError, confirm_line, dismiss_line, import_statement

D = Decimal
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "statements"
ESSAI_IBAN = "FR7630006000011234567890189"
OCCUPANTS = [  # name, IBAN on record, October's rent
    ("Atelier Aubépine", "FR7610278000010002006390148", "310.00"),
    ("Bureau des Écureuils", "", "250.00"),
    ("Collectif Chardon", "FR7630004000030001234567897", "180.00"),
    ("Dune Studio", "FR7618206000006543210987620", "420.00"),
    ("Entrepôt Solidaire", "FR7611306000500123456789064", "95.00"),
    ("Forge Fabre", "FR7617906000005555555555537", "500.00"),
]


@pytest.fixture
def essai(db):
    """Six occupants billed for October 2026 (F2026-000001 to 000006, due 31/10); Dune Studio and Épicerie
    Solidaire paid by direct debit on 5 November, as a SEPA batch records them."""
    site = Site()
    Organisation.objects.filter(pk=site.operator.pk).update(iban=ESSAI_IBAN)
    site.operator.refresh_from_db()
    halle = site.place("Halle Essai", vat=False)
    for n, (name, iban, rent) in enumerate(OCCUPANTS, start=1):
        subscription = site.subscribe(halle, name, f"A{n}", entry=date(2026, 10, 1), exit=date(2026, 10, 31),
                                      rent=rent)
        Organisation.objects.filter(pk=subscription.subscriber_id).update(iban=iban)
    bill_until(date(2026, 10, 1), organisation_id=site.operator.pk)
    site.by_number = {i.number: i for i in site.invoices()}
    assert [(i.number, i.customer.name, i.total_incl_vat) for i in site.invoices()] == [
        (f"F2026-{n:06d}", name, D(rent)) for n, (name, _iban, rent) in enumerate(OCCUPANTS, start=1)]
    for number in ("F2026-000004", "F2026-000005"):
        invoice = site.by_number[number]
        record_payment(site.operator, invoice.customer, amount=invoice.total_incl_vat, received_on=date(2026, 11, 5),
                       means="direct_debit", reference=number, invoices=[invoice], source="sepa")
    return site


def _data(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _import(path: Path, slug: str, *args: str) -> dict:
    out = io.StringIO()
    call_command("import_statement", str(path), "--organisation", slug, "--json", *args, stdout=out)
    return json.loads(out.getvalue())


def _state(invoice, day: date) -> str:
    return settlements([invoice], day)[invoice.pk].state


# Reading the files --------------------------------------------------------------------------------


def test_camt053_001_02_is_read_entry_by_entry_and_batch_by_transaction():
    statement = read_statement(_data("camt053-001-02.xml"))

    assert (statement.format, statement.account_iban, statement.statement_id, statement.sequence) == (
        "camt.053", ESSAI_IBAN, "ESSAI-2026-11-A", "11")
    assert (statement.from_date, statement.to_date, statement.opening_balance, statement.closing_balance) == (
        date(2026, 11, 1), date(2026, 11, 30), D("1000.00"), D("2350.20"))
    # The pending entry is not a movement yet; the batch of two direct debits gives two lines.
    assert [(t.key, t.booked_on, t.amount, t.counterparty_name, t.remittance, t.end_to_end_id, t.bank_code,
             t.is_return, t.return_reason) for t in statement.transactions] == [
        ("T1103-0001", date(2026, 11, 3), D("310.00"), "Atelier Aubépine", "Facture F2026-000001 octobre", "",
         "PMNT/RCDT/ESCT", False, ""),
        ("T1104-0002", date(2026, 11, 4), D("250.00"), "SARL BUREAU DES ECUREUILS", "REDEVANCE OCTOBRE", "ECU-2026-10",
         "PMNT/RCDT/ESCT", False, ""),
        ("T1105-0003", date(2026, 11, 5), D("180.00"), "CHARDON", "LOYER-10", "", "PMNT/RCDT/ESCT", False, ""),
        ("T1105-0004-1", date(2026, 11, 5), D("420.00"), "Dune Studio", "F2026-000004", "F2026-000004",
         "PMNT/IDDT/ESDD", False, ""),
        ("T1105-0004-2", date(2026, 11, 5), D("95.00"), "Entrepôt Solidaire", "F2026-000005", "F2026-000005",
         "PMNT/IDDT/ESDD", False, ""),
        ("T1106-0005", date(2026, 11, 6), D("450.00"), "FORGE FABRE", "ACOMPTE", "", "PMNT/RCDT/ESCT", False, ""),
        ("T1107-0006", date(2026, 11, 7), D("77.70"), "M. INCONNU", "REMBOURSEMENT", "", "PMNT/RCDT/ESCT", False,
         ""),
        ("T1112-0007", date(2026, 11, 12), D("-420.00"), "Dune Studio", "", "F2026-000004", "PMNT/IDDT/UPDD", True,
         "AM04 Provision insuffisante"),
        ("E1130-0008", date(2026, 11, 30), D("-12.50"), "", "FRAIS TENUE DE COMPTE NOVEMBRE", "", "ACMT/MDOP/CHRG",
         False, "")]
    assert statement.transactions[0].counterparty_iban == "FR7610278000010002006390148"
    assert statement.transactions[3].is_direct_debit_collection


def test_camt053_001_08_reads_the_party_under_pty_and_the_status_code():
    statement = read_statement(_data("camt053-001-08.xml"))

    assert (statement.account_iban, statement.opening_balance, statement.closing_balance) == (
        ESSAI_IBAN, D("1250.00"), D("1550.00"))
    assert [(t.key, t.booked_on, t.amount, t.counterparty_name, t.remittance) for t in statement.transactions] == [
        ("T1104-0002", date(2026, 11, 4), D("250.00"), "SARL BUREAU DES ECUREUILS", "REDEVANCE OCTOBRE"),
        ("T1202-0001", date(2026, 12, 2), D("50.00"), "Forge Fabre", "F 2026 000006")]


def test_ofx_1_sgml_and_2_xml_are_read_with_the_account_iban_made_from_the_rib():
    sgml = read_statement(_data("ofx-102.ofx"))
    assert (sgml.format, sgml.account_iban, sgml.from_date, sgml.to_date, sgml.closing_balance) == (
        "ofx", ESSAI_IBAN, date(2026, 11, 1), date(2026, 11, 30), D("1057.50"))
    assert [(t.key, t.booked_on, t.amount, t.counterparty_name, t.remittance, t.bank_code)
            for t in sgml.transactions] == [
        ("OFX-1103-01", date(2026, 11, 3), D("310.00"), "ATELIER AUBEPINE",
         "ATELIER AUBEPINE VIR SEPA FACT F2026-000001", "CREDIT"),
        ("OFX-1105-02", date(2026, 11, 5), D("180.00"), "COLLECTIF CHARDON", "COLLECTIF CHARDON LOYER OCTOBRE",
         "CREDIT"),
        ("OFX-1112-03", date(2026, 11, 12), D("-420.00"), "DUNE STUDIO",
         "DUNE STUDIO IMPAYE PRLV SEPA F2026-000004 AM04", "DEBIT"),
        ("OFX-1130-04", date(2026, 11, 30), D("-12.50"), "FRAIS TENUE DE COMPTE", "FRAIS TENUE DE COMPTE",
         "SRVCHG")]
    xml = read_statement(_data("ofx-211.ofx"))
    assert (xml.account_iban, [(t.key, t.amount, t.counterparty_name) for t in xml.transactions]) == (
        ESSAI_IBAN, [("X-1104-01", D("250.00"), "Bureau des Ecureuils"), ("X-1106-02", D("500.00"),
                                                                    "Forge Fabre & Fils")])


def test_invoice_numbers_and_names_as_people_write_them():
    assert matching.invoice_numbers("VIR F2026-000123 ET f 2026 000124, F2026000125; FR7630006000011234567890189"
                                    ) == ["F2026-000123", "F2026-000124", "F2026-000125"]
    assert matching.invoice_numbers("REDEVANCE OCTOBRE") == []
    assert matching.name_key("SARL L'ATELIER  CERAMIQUE") == matching.name_key("L'Atelier Céramique")
    assert matching.name_key("MORGAN TRAORE") == matching.name_key("Traoré Morgan")
    assert matching.name_key("Forge Fabre & Fils") != matching.name_key("Forge Fabre")


_NAMES = st.text(alphabet="abcdeéèçàÉ ABCZ'-", max_size=40)
_MOVEMENTS = st.lists(st.tuples(st.integers(-10**8, 10**8).filter(bool), st.dates(date(2020, 1, 1), date(2030, 12, 31)),
                                _NAMES), min_size=1, max_size=15)


@given(_MOVEMENTS)
def test_a_statement_written_then_read_gives_back_its_movements_in_both_formats(movements):
    moves = [demo.Movement(day, D(cents) / 100, name, remittance=f"ref {n}") for n, (cents, day, name) in
             enumerate(movements)]
    camt = read_statement(demo.camt053(ESSAI_IBAN, "P-1", 1, date(2020, 1, 1), date(2030, 12, 31), D("0.00"), moves))
    sgml = read_statement(demo.ofx("30006", "00001", "12345678901", "89", date(2020, 1, 1), date(2030, 12, 31),
                                   moves, D("0.00")))
    for statement, width in ((camt, None), (sgml, 32)):
        assert statement.account_iban == ESSAI_IBAN
        assert [(t.amount, t.booked_on, t.counterparty_name) for t in statement.transactions] == [
            (m.amount, m.booked_on, " ".join(m.name[:width].split())) for m in moves]
        assert len({t.key for t in statement.transactions}) == len(moves)
    assert camt.closing_balance == sum(m.amount for m in moves)


@given(_MOVEMENTS, st.text(alphabet="ABCDEFGHIJ0123456789 -/", max_size=30))
def test_a_movement_told_by_camt_and_by_ofx_is_the_same_movement_and_no_other(movements, text):
    moves = [demo.Movement(day, D(cents) / 100, name, remittance=f"{text} {n}".strip()) for n, (cents, day, name)
             in enumerate(movements)]
    camt = read_statement(demo.camt053(ESSAI_IBAN, "P-1", 1, date(2020, 1, 1), date(2030, 12, 31), D("0.00"), moves))
    sgml = read_statement(demo.ofx(*ESSAI_RIB, date(2020, 1, 1), date(2030, 12, 31), moves, D("0.00")))

    def seen(t):
        return matching.Seen(t.booked_on, t.amount, t.counterparty_name, t.remittance, t.end_to_end_id)

    for i, a in enumerate(camt.transactions):
        for j, b in enumerate(sgml.transactions):
            assert matching.same_movement(seen(a), seen(b)) == (i == j), (a, b)


@given(st.sampled_from("FE"), st.integers(2000, 2099), st.integers(1, 999_999), st.sampled_from(["", " ", "-"]),
       st.booleans())
def test_an_invoice_number_is_found_however_it_is_separated(series, year, n, separator, lower):
    number = format_number(series, year, n)
    written = f"{series}{separator}{year}{separator}{n:06d}"
    text = f"VIR SEPA {written.lower() if lower else written} MERCI"
    assert matching.invoice_numbers(text) == [number]


# Matching -----------------------------------------------------------------------------------------


def test_the_november_statement_matches_by_number_iban_name_and_direct_debit(essai):
    aubepine, ecureuils, chardon, dune, epicerie, forge = essai.invoices()

    summary = _import(FIXTURES / "camt053-001-02.xml", essai.operator.slug)

    assert summary == {"statement": "ESSAI-2026-11-A", "account": ESSAI_IBAN, "format": "camt.053",
                       "already_imported": False, "lines": 9, "skipped": 0, "matched": 5, "proposed": 1,
                       "unmatched": 1, "ignored": 1, "returned": 1, "credits": 7, "credited": "1782.70",
                       "matched_automatically": 5, "match_rate": "71.4", "unmatched_returns": 0, "dry_run": False}
    lines = {line.key: line for line in StatementLine.objects.filter(organisation=essai.operator)}
    assert [(k, line.status, line.rule) for k, line in sorted(lines.items())] == [
        ("E1130-0008", "ignored", ""), ("T1103-0001", "matched", "number"), ("T1104-0002", "matched", "name"),
        ("T1105-0003", "matched", "iban"), ("T1105-0004-1", "matched", "direct_debit"),
        ("T1105-0004-2", "matched", "direct_debit"), ("T1106-0005", "proposed", ""),
        ("T1107-0006", "unmatched", ""), ("T1112-0007", "returned", "return")]
    # The transfers became payments by transfer of the invoice they pay, received on the booking day.
    payment = lines["T1104-0002"].payment
    assert (payment.payer.name, payment.amount, payment.received_on, payment.means, payment.source,
            payment.reference) == ("Bureau des Écureuils", D("250.00"), date(2026, 11, 4), "transfer", "statement",
                                   "ECU-2026-10 REDEVANCE OCTOBRE")
    day = date(2026, 11, 30)
    assert [_state(i, day) for i in (aubepine, ecureuils, chardon, epicerie)] == ["paid"] * 4
    # The collected direct debits were recorded at export: the statement records nothing more.
    assert Payment.objects.filter(organisation=essai.operator, means="direct_debit").count() == 2
    assert lines["T1105-0004-2"].payment.reference == "F2026-000005"
    # Dune Studio's debit came back unpaid: its invoice is overdue again, its payment marked returned.
    returned = lines["T1112-0007"].payment
    assert (returned.reference, returned.returned_on, returned.return_reason) == (
        "F2026-000004", date(2026, 11, 12), "AM04 Provision insuffisante")
    assert lines["T1105-0004-1"].payment == returned
    assert _state(dune, day) == "overdue" and settlements([dune], day)[dune.pk].outstanding == D("420.00")
    assert credit_of(essai.operator, dune.customer) == D("0.00")
    # Forge Fabre's 450.00 and the unknown 77.70 wait for the operator.
    assert _state(forge, day) == "overdue"
    assert AuditEvent.objects.filter(organisation=essai.operator, action="payment.returned").count() == 1
    event = AuditEvent.objects.get(organisation=essai.operator, action="bank_statement.imported")
    assert (event.data["credits"], event.data["matched_automatically"], event.data["returned"]) == (7, 5, 1)


def test_the_same_statement_again_changes_nothing_and_an_overlapping_one_skips_what_it_repeats(essai):
    _import(FIXTURES / "camt053-001-02.xml", essai.operator.slug)
    payments = list(Payment.objects.filter(organisation=essai.operator).values_list("pk", "returned_on"))

    again = _import(FIXTURES / "camt053-001-02.xml", essai.operator.slug)

    assert (again["already_imported"], again["lines"], again["matched"]) == (True, 9, 5)
    assert list(Payment.objects.filter(organisation=essai.operator).values_list("pk", "returned_on")) == payments
    assert BankStatement.objects.filter(organisation=essai.operator).count() == 1
    # December's statement repeats the Écureuils' transfer: skipped, not paid twice; Forge's 50.00 quote its number.
    december = _import(FIXTURES / "camt053-001-08.xml", essai.operator.slug)
    assert (december["lines"], december["skipped"], december["matched"]) == (1, 1, 1)
    assert Payment.objects.filter(organisation=essai.operator, payer__name="Bureau des Écureuils").count() == 1
    assert StatementLine.objects.filter(organisation=essai.operator, key="T1104-0002").count() == 1


def test_a_dry_run_records_nothing(essai):
    summary = _import(FIXTURES / "camt053-001-02.xml", essai.operator.slug, "--dry-run")

    assert (summary["dry_run"], summary["matched_automatically"], summary["returned"]) == (True, 5, 1)
    assert not BankStatement.objects.exists()
    assert Payment.objects.filter(organisation=essai.operator).count() == 2
    assert not Payment.objects.filter(returned_on__isnull=False).exists()


def test_a_line_is_never_matched_twice(essai):
    import_statement(_data("camt053-001-02.xml"), essai.operator)
    forge_line = StatementLine.objects.get(organisation=essai.operator, key="T1106-0005")
    forge = essai.by_number["F2026-000006"]

    payment = confirm_line(forge_line, invoices=[forge])

    assert (payment.payer, payment.amount, [a.invoice for a in payment.allocations.all()]) == (
        forge.customer, D("450.00"), [forge])
    with pytest.raises(PaymentError, match="Cette ligne a déjà été traitée \\(rapprochée\\)"):
        confirm_line(forge_line, invoices=[forge])
    with pytest.raises(PaymentError, match="Cette ligne a déjà été traitée"):
        dismiss_line(forge_line)
    # The database refuses a second credit line on the same payment.
    other = StatementLine.objects.get(organisation=essai.operator, key="T1107-0006")
    with pytest.raises(IntegrityError), transaction.atomic():
        StatementLine.objects.filter(pk=other.pk).update(payment=payment)
    assert Payment.objects.filter(organisation=essai.operator, amount=D("450.00")).count() == 1


def test_a_transfer_quoting_an_invoice_already_collected_by_direct_debit_is_left_to_the_operator(essai):
    data = demo.camt053(ESSAI_IBAN, "ESSAI-X", 1, date(2026, 11, 1), date(2026, 11, 30), D("0.00"), [
        demo.Movement(date(2026, 11, 8), D("95.00"), "Entrepôt Solidaire", "FR7611306000500123456789064",
                      "Facture F2026-000005", end_to_end_id="VIR-2026-11-08")])

    line = import_statement(data, essai.operator).lines[0]

    assert (line.status, line.payment) == (LineStatus.PROPOSED, None)
    assert Payment.objects.filter(organisation=essai.operator).count() == 2


def test_a_returned_payment_cannot_be_returned_twice(essai):
    payment = Payment.objects.get(organisation=essai.operator, reference="F2026-000004")
    reverse_payment(payment, on=date(2026, 11, 12), reason="AM04")
    with pytest.raises(PaymentError, match="déjà été retourné le 2026-11-12"):
        reverse_payment(payment, on=date(2026, 11, 13), reason="AM04")
    invoice = essai.by_number["F2026-000004"]
    assert _state(invoice, date(2026, 11, 12)) == "overdue"
    # The invoice can be paid again, in full.
    record_payment(essai.operator, invoice.customer, amount=D("420.00"), received_on=date(2026, 11, 20),
                   means="transfer", invoices=[invoice])
    assert _state(invoice, date(2026, 11, 20)) == "paid"


def test_the_ofx_statements_match_by_number_then_name_and_read_returns_from_the_memo(essai):
    summary = _import(FIXTURES / "ofx-102.ofx", essai.operator.slug)

    assert (summary["lines"], summary["matched"], summary["returned"], summary["ignored"], summary["credits"],
            summary["match_rate"]) == (4, 2, 1, 1, 2, "100.0")
    assert [(line.rule, line.payment.payer.name if line.payment else None)
            for line in StatementLine.objects.filter(organisation=essai.operator)] == [
        ("number", "Atelier Aubépine"), ("name", "Collectif Chardon"), ("return", "Dune Studio"), ("", None)]
    assert _state(essai.by_number["F2026-000004"], date(2026, 11, 12)) == "overdue"
    # "Forge Fabre & Fils" is not "Forge Fabre": its 500.00, the exact amount of Forge's invoice, is proposed.
    xml = _import(FIXTURES / "ofx-211.ofx", essai.operator.slug)
    assert (xml["matched"], xml["proposed"]) == (1, 1)


# Bad input ----------------------------------------------------------------------------------------


def _refused(essai, data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "releve.xml"
    path.write_bytes(data)
    with pytest.raises(CommandError) as error:
        _import(path, essai.operator.slug)
    assert not BankStatement.objects.exists() and not StatementLine.objects.exists()
    assert Payment.objects.filter(organisation=essai.operator).count() == 2
    assert not Payment.objects.filter(returned_on__isnull=False).exists()
    return str(error.value)


def test_a_truncated_or_malformed_statement_imports_nothing(essai, tmp_path):
    camt = _data("camt053-001-02.xml")
    assert _refused(essai, camt[:6000], tmp_path) == (
        "l. 139, col. 1 : XML mal formé ou tronqué (Premature end of data in tag Ntry line 130)")
    assert _refused(essai, camt.replace(b"<Amt Ccy=\"EUR\">180.00</Amt>", b"<Amt Ccy=\"EUR\">180.00</Amount>"),
                    tmp_path) == ("l. 81, col. 39 : XML mal formé ou tronqué (Opening and ending tag mismatch: Amt "
                                  "line 81 and Amount)")
    assert _refused(essai, camt.replace(b"<Amt Ccy=\"EUR\">77.70</Amt>", b"<Amt Ccy=\"EUR\">77,70</Amt>"),
                    tmp_path) == "Ntry 6 : '77,70' n’est pas un montant en euros et centimes"
    assert _refused(essai, camt.replace(b"<CdtDbtInd>DBIT</CdtDbtInd>\n        <RvslInd>",
                                        b"<CdtDbtInd>DBT</CdtDbtInd>\n        <RvslInd>"),
                    tmp_path) == "Ntry 7 : CdtDbtInd vaut 'DBT', ni CRDT ni DBIT"
    sgml = _data("ofx-102.ofx")
    assert _refused(essai, sgml[:sgml.index(b"<STMTTRN>\n<TRNTYPE>DEBIT")], tmp_path) == (
        "l. 57 : le fichier s’arrête à l’intérieur de <BANKTRANLIST> : il est tronqué")
    assert _refused(essai, sgml.replace(b"</BANKACCTFROM>", b"</BANKACCT>"), tmp_path) == (
        "l. 37 : </BANKACCT> ne ferme rien d’ouvert (ouvert : BANKACCTFROM)")
    assert _refused(essai, b"", tmp_path) == "le fichier est vide"
    assert _refused(essai, b"Date;Montant\n01/11/2026;12,00\n", tmp_path) == (
        "ce n’est pas un relevé CAMT.053 ni OFX (pas d’espace de noms camt.053, pas d’en-tête OFX)")


def test_a_statement_of_another_account_imports_nothing(essai, tmp_path):
    other = "FR7642559000019999999999972"
    message = _refused(essai, _data("camt053-001-02.xml").replace(ESSAI_IBAN.encode(), other.encode()), tmp_path)
    assert message == (f"Ce relevé est celui du compte {other}, pas du compte {ESSAI_IBAN} de Tiers-Lieu Essai : "
                       "rien n’a été importé.")


def test_an_iban_with_a_bad_checksum_imports_nothing(essai, tmp_path):
    camt = _data("camt053-001-02.xml")
    assert _refused(essai, camt.replace(b"<IBAN>FR7630006000011234567890189", b"<IBAN>FR7730006000011234567890189"),
                    tmp_path) == ("Stmt/Acct/Id/IBAN : l’IBAN FR7730006000011234567890189 a une clé de contrôle "
                                  "erronée")
    assert _refused(essai, camt.replace(b"FR7630004000030001234567897", b"FR7630004000030001234567898"),
                    tmp_path) == ("Ntry 3/TxDtls 1/DbtrAcct : l’IBAN FR7630004000030001234567898 a une clé de "
                                  "contrôle erronée")
    assert _refused(essai, _data("ofx-102.ofx").replace(b"<ACCTKEY>89", b"<ACCTKEY>88"), tmp_path) == (
        "BANKACCTFROM (l. 31) : le RIB 30006 00001 12345678901 88 a une clé erronée")


def test_an_organisation_without_iban_is_told_to_enter_it(essai):
    Organisation.objects.filter(pk=essai.operator.pk).update(iban="")
    essai.operator.refresh_from_db()
    with pytest.raises(StatementImportError) as error:
        import_statement(_data("camt053-001-02.xml"), essai.operator)
    assert error.value.faults == ["Tiers-Lieu Essai n’a pas d’IBAN : saisissez l’IBAN du compte sur sa fiche avant "
                                  "d’importer ses relevés."]


def test_the_pure_readers_name_the_place_of_the_fault():
    with pytest.raises(StatementFileError) as error:
        camt053.parse(b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.052.001.02'/>")
    assert str(error.value) == ("not a camt.053 document (root "
                                "{urn:iso:std:iso:20022:tech:xsd:camt.052.001.02}Document)")
    with pytest.raises(StatementFileError, match="no bank statement"):
        ofx.parse(b"OFXHEADER:100\n\n<OFX><SIGNONMSGSRSV1></SIGNONMSGSRSV1></OFX>")


# Pages --------------------------------------------------------------------------------------------


@pytest.fixture
def manager(essai, client):
    user = get_user_model().objects.create_user(username="gerante@essai.example.org",
                                                email="gerante@essai.example.org", password="x")
    Membership.objects.create(user=user, organisation=essai.operator, role=Role.MANAGER)
    client.force_login(user)
    return client


def test_a_manager_uploads_a_statement_and_confirms_or_dismisses_what_remains(essai, manager):
    page = manager.get(reverse("statements", args=[essai.operator.pk])).content.decode()
    assert "Relevés bancaires" in page and "Importer le relevé" in page

    upload = SimpleUploadedFile("releve-novembre.xml", _data("camt053-001-02.xml"), content_type="text/xml")
    response = manager.post(reverse("statement_upload", args=[essai.operator.pk]), {"statement": upload},
                            follow=True)
    page = response.content.decode()
    assert ("9 lignes importées : 5 crédits sur 7 rapprochés automatiquement (71,4 %), 2 à confirmer. "
            "1 prélèvement retourné : sa facture est de nouveau ouverte.") in page
    assert "À confirmer" in page and "F2026-000006" in page and "prélèvement retourné" in page
    forge_line = StatementLine.objects.get(key="T1106-0005")
    unknown = StatementLine.objects.get(key="T1107-0006")

    response = manager.post(reverse("statement_line_confirm", args=[forge_line.pk]),
                            {"invoice": essai.by_number["F2026-000006"].pk}, follow=True)
    assert "Paiement de 450,00\xa0€ enregistré pour Forge Fabre." in response.content.decode()
    response = manager.post(reverse("statement_line_confirm", args=[forge_line.pk]),
                            {"invoice": essai.by_number["F2026-000006"].pk}, follow=True)
    assert "Cette ligne a déjà été traitée (rapprochée)." in response.content.decode()
    response = manager.post(reverse("statement_line_confirm", args=[unknown.pk]), {}, follow=True)
    assert "Choisissez un document ou un payeur pour cette ligne." in response.content.decode()
    response = manager.post(reverse("statement_line_dismiss", args=[unknown.pk]), follow=True)
    assert "Ligne écartée : elle ne paie aucun document." in response.content.decode()
    assert [(line.key, line.status, line.rule) for line in StatementLine.objects.filter(
        key__in=["T1106-0005", "T1107-0006"]).order_by("key")] == [
        ("T1106-0005", LineStatus.MATCHED, "operator"), ("T1107-0006", LineStatus.IGNORED, "operator")]
    assert sorted(AuditEvent.objects.filter(organisation=essai.operator, action__startswith="statement_line")
                  .values_list("action", flat=True)) == ["statement_line.confirmed", "statement_line.dismissed"]

    page = manager.get(reverse("invoice", args=[essai.by_number["F2026-000004"].pk])).content.decode()
    assert "retourné le 12/11/2026" in page and "En retard" in page

    # The same file again: nothing changes. Another account's: refused.
    upload = SimpleUploadedFile("releve-novembre.xml", _data("camt053-001-02.xml"), content_type="text/xml")
    page = manager.post(reverse("statement_upload", args=[essai.operator.pk]), {"statement": upload},
                        follow=True).content.decode()
    assert "Ce relevé a déjà été importé : rien n’a changé." in page
    upload = SimpleUploadedFile("autre.xml", _data("camt053-001-02.xml").replace(
        ESSAI_IBAN.encode(), b"FR7642559000019999999999972"), content_type="text/xml")
    page = manager.post(reverse("statement_upload", args=[essai.operator.pk]), {"statement": upload},
                        follow=True).content.decode()
    assert "Ce relevé est celui du compte FR7642559000019999999999972" in page
    assert BankStatement.objects.count() == 1
    # The payer credited by hand: 500.00 owed, 450.00 received, the invoice partly paid… and overdue.
    assert settlements([essai.by_number["F2026-000006"]], date(2026, 11, 30))[
        essai.by_number["F2026-000006"].pk].paid == D("450.00")


# What a tester found -------------------------------------------------------------------------------

ESSAI_RIB = ("30006", "00001", "12345678901", "89")
NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


def _camt(statement_id: str, movements: list, period=NOVEMBER) -> bytes:
    return demo.camt053(ESSAI_IBAN, statement_id, 1, *period, D("0.00"), movements)


def _ofx(movements: list, period=NOVEMBER) -> bytes:
    return demo.ofx(*ESSAI_RIB, *period, movements, sum((m.amount for m in movements), D("0.00")))


def _payments(essai) -> list:
    return list(Payment.objects.filter(organisation=essai.operator).order_by("pk").values_list(
        "pk", "amount", "returned_on"))


def test_a_refund_or_a_transfer_we_send_quoting_an_invoice_number_never_returns_its_payment(essai):
    before = _payments(essai)
    refund = demo.Movement(date(2026, 11, 20), D("-420.00"), "Dune Studio", "FR7618206000006543210987620",
                           "Remboursement trop-percu F2026-000004", end_to_end_id="REMB-2026-11",
                           code="PMNT/ICDT/ESCT")
    supplier = demo.Movement(date(2026, 11, 21), D("-95.00"), "Plomberie Martin", "",
                             "Facture F2026-000005 fournisseur", code="PMNT/ICDT/ESCT")

    lines = import_statement(_camt("ESSAI-REFUND", [refund, supplier]), essai.operator).lines

    assert [(line.amount, line.status, line.rule, line.payment) for line in lines] == [
        (D("-420.00"), LineStatus.IGNORED, "", None), (D("-95.00"), LineStatus.IGNORED, "", None)]
    assert _payments(essai) == before
    assert _state(essai.by_number["F2026-000004"], date(2026, 11, 30)) == "paid"
    # OFX has no return code: a debit is a return only when its text says so (RETOUR, REJET, IMPAYE…).
    sgml = _ofx([demo.Movement(date(2026, 11, 22), D("-95.00"), "ENTREPOT SOLIDAIRE",
                               remittance="REMBOURSEMENT F2026-000005", reference="OFX-1"),
                 demo.Movement(date(2026, 11, 23), D("-420.00"), "DUNE STUDIO",
                               remittance="RETOUR PRLV SEPA F2026-000004 MOTIF AM04", reference="OFX-2")])
    lines = import_statement(sgml, essai.operator).lines
    assert [(line.status, line.rule) for line in lines] == [(LineStatus.IGNORED, ""),
                                                            (LineStatus.RETURNED, "return")]
    assert [p[2] for p in _payments(essai)] == [date(2026, 11, 23), None]


def test_a_movement_already_imported_from_the_other_format_or_an_overlapping_statement_is_skipped(essai):
    movements = [
        demo.Movement(date(2026, 11, 3), D("310.00"), "Atelier Aubépine", OCCUPANTS[0][1], "Facture F2026-000001"),
        demo.Movement(date(2026, 11, 6), D("450.00"), "FORGE FABRE", OCCUPANTS[5][1], "ACOMPTE"),
        demo.Movement(date(2026, 11, 12), D("-420.00"), "Dune Studio", "", "RETOUR PRLV F2026-000004",
                      end_to_end_id="F2026-000004", code="PMNT/IDDT/UPDD", return_reason="AM04"),
        demo.Movement(date(2026, 11, 30), D("-12.50"), remittance="FRAIS TENUE DE COMPTE", code="ACMT/MDOP/CHRG")]
    camt = import_statement(_camt("ESSAI-2026-11", movements), essai.operator)
    assert camt.summary()["lines"] == 4
    before = _payments(essai)

    twin = import_statement(_ofx(movements), essai.operator).summary()

    assert (twin["already_imported"], twin["lines"], twin["skipped"], twin["proposed"], twin["credits"]) == (
        False, 0, 4, 0, 0)
    assert _payments(essai) == before
    assert StatementLine.objects.filter(organisation=essai.operator).count() == 4
    # Two statements without AcctSvcrRef sharing a movement: it is imported once.
    def bare(data: bytes) -> bytes:
        return re.sub(rb"<(AcctSvcrRef|NtryRef)>[^<]*</\1>", b"", data)

    shared = demo.Movement(date(2026, 11, 15), D("180.00"), "Collectif Chardon", OCCUPANTS[2][1],
                           "Facture F2026-000003")
    first = import_statement(bare(_camt("ESSAI-A", [shared])), essai.operator).summary()
    second = import_statement(bare(_camt("ESSAI-B", [
        demo.Movement(date(2026, 11, 14), D("77.70"), "M. INCONNU", "", "DON"), shared])), essai.operator).summary()
    assert (first["lines"], first["matched"], second["lines"], second["skipped"]) == (1, 1, 1, 1)
    assert Payment.objects.filter(organisation=essai.operator, amount=D("180.00")).count() == 1
    # Twice the same payment in one file is twice a movement.
    again = demo.Movement(date(2026, 11, 16), D("250.00"), "Bureau des Écureuils", "", "LOYER")
    assert import_statement(bare(_camt("ESSAI-C", [again, again])), essai.operator).summary()["lines"] == 2


def test_the_lump_sum_of_a_sepa_batch_is_matched_to_the_batch_and_records_nothing(essai, manager):
    from cascade.payments.models import DirectDebitBatch

    batch = DirectDebitBatch.objects.create(organisation=essai.operator, message_id="CASCADE-1-20261105-000001",
                                            collection_date=date(2026, 11, 5), control_sum=D("515.00"), count=2)
    before = _payments(essai)
    other = demo.Movement(date(2026, 11, 5), D("515.00"), remittance="REMISE PRLV SEPA CASCADE-1-20261105-000009",
                          code="PMNT/IDDT/ESDD")
    lump = demo.Movement(date(2026, 11, 6), D("515.00"),
                         remittance="REMISE PRLV SEPA CASCADE-1-20261105-000001-FRST", code="PMNT/IDDT/ESDD")

    lines = import_statement(_camt("ESSAI-LUMP", [other, lump]), essai.operator).lines

    assert [(line.status, line.rule, line.payment, line.direct_debit_batch) for line in lines] == [
        (LineStatus.UNMATCHED, "", None, None), (LineStatus.MATCHED, "direct_debit", None, batch)]
    assert _payments(essai) == before
    page = manager.get(reverse("statement", args=[lines[1].statement_id])).content.decode()
    assert "Remise SEPA CASCADE-1-20261105-000001" in page


def _refused_import(essai, data: bytes) -> list[str]:
    with pytest.raises(StatementImportError) as error:
        import_statement(data, essai.operator)
    assert not BankStatement.objects.exists() and not StatementLine.objects.exists()
    assert Payment.objects.filter(organisation=essai.operator).count() == 2
    return error.value.faults


@pytest.mark.parametrize(("amount", "problem"), [
    ("99999999999999999.99", "99999999999999999.99 est un montant trop grand : un mouvement est inférieur à "
                             "1 000 000 000 000,00 €"),
    ("1000000000000.00", "1000000000000.00 est un montant trop grand : un mouvement est inférieur à "
                         "1 000 000 000 000,00 €"),
    ("1E+40", "1E+40 est un montant trop grand : un mouvement est inférieur à 1 000 000 000 000,00 €"),
    ("NaN", "'NaN' n’est pas un montant en euros et centimes"),
    ("Infinity", "'Infinity' n’est pas un montant en euros et centimes"),
    ("77.705", "'77.705' a plus de deux décimales : ce n’est pas un montant en euros et centimes"),
])
def test_an_amount_too_large_not_finite_or_with_three_decimals_is_refused_naming_its_entry(essai, amount,
                                                                                           problem):
    camt = _data("camt053-001-02.xml").replace(b'<Amt Ccy="EUR">77.70</Amt>', f'<Amt Ccy="EUR">{amount}</Amt>'
                                               .encode())
    assert _refused_import(essai, camt) == [f"Ntry 6 : {problem}"]
    sgml = _ofx([demo.Movement(date(2026, 11, 3), D("310.00"), "ATELIER", remittance="F2026-000001"),
                 demo.Movement(date(2026, 11, 4), D("77.70"), "X", remittance="DON")]).replace(
        b"<TRNAMT>77.70", f"<TRNAMT>{amount}".encode())
    [fault] = _refused_import(essai, sgml)
    assert fault.startswith("STMTTRN 2 (l. ") and fault.endswith(f") : {problem}")


def test_an_empty_currency_is_refused_and_the_page_shows_why(essai, manager):
    camt = _data("camt053-001-02.xml")
    assert _refused_import(essai, camt.replace(b"<Ccy>EUR</Ccy>", b"<Ccy/>")) == [
        "Stmt/Acct/Ccy : aucune devise (Ccy est vide) : seul l’euro est pris en charge"]
    assert _refused_import(essai, camt.replace(b'<Amt Ccy="EUR">77.70</Amt>', b'<Amt Ccy="">77.70</Amt>')) == [
        "Ntry 6 : aucune devise (Amt/@Ccy est vide) : seul l’euro est pris en charge"]
    upload = SimpleUploadedFile("releve.xml", camt.replace(b'<Amt Ccy="EUR">77.70</Amt>',
                                                           b'<Amt Ccy="EUR">1E+40</Amt>'), content_type="text/xml")
    response = manager.post(reverse("statement_upload", args=[essai.operator.pk]), {"statement": upload},
                            follow=True)
    assert response.status_code == 200
    assert ("Ntry 6 : 1E+40 est un montant trop grand : un mouvement est inférieur à 1 000 000 000 000,00 €"
            in response.content.decode())
    assert not BankStatement.objects.exists()


def test_a_statement_sent_again_with_new_movements_imports_the_new_ones(essai):
    morning = [demo.Movement(date(2026, 11, 3), D("310.00"), "Atelier Aubépine", OCCUPANTS[0][1],
                             "Facture F2026-000001", reference="T1")]
    evening = [*morning, demo.Movement(date(2026, 11, 3), D("180.00"), "Collectif Chardon", OCCUPANTS[2][1],
                                       "Facture F2026-000003", reference="T2")]
    import_statement(_camt("ESSAI-2026-11-03", morning), essai.operator)

    again = import_statement(_camt("ESSAI-2026-11-03", evening, (date(2026, 11, 3), date(2026, 11, 3))),
                             essai.operator).summary()

    assert (again["already_imported"], again["lines"], again["skipped"], again["matched"]) == (False, 1, 1, 1)
    statement = BankStatement.objects.get(organisation=essai.operator)
    assert (statement.lines.count(), statement.to_date) == (2, date(2026, 11, 3))
    assert _state(essai.by_number["F2026-000003"], date(2026, 11, 3)) == "paid"
    # The same content a third time: nothing new.
    third = import_statement(_camt("ESSAI-2026-11-03", evening, (date(2026, 11, 1), date(2026, 11, 3))),
                             essai.operator)
    assert (third.already_imported, statement.lines.count()) == (True, 2)


def test_a_returned_debit_naming_no_payment_is_counted_and_shown(essai, manager):
    unknown = demo.Movement(date(2026, 11, 12), D("-50.00"), "Inconnu", "", "RETOUR PRLV",
                            end_to_end_id="F2026-999999", code="PMNT/IDDT/UPDD", return_reason="AM04")
    upload = SimpleUploadedFile("retour.xml", _camt("ESSAI-RET", [unknown]), content_type="text/xml")

    page = manager.post(reverse("statement_upload", args=[essai.operator.pk]), {"statement": upload},
                        follow=True).content.decode()

    assert ("1 ligne importée : 0 crédit(s) sur 0 rapproché(s) automatiquement (0,0 %), 0 à confirmer. 1 prélèvement "
            "retourné ne correspond à aucun paiement enregistré : voir ci-dessous.") in page
    assert "Prélèvements retournés introuvables" in page and "F2026-999999" in page and "AM04" in page
    line = StatementLine.objects.get(organisation=essai.operator)
    assert (line.status, line.amount) == (LineStatus.UNMATCHED, D("-50.00"))
    summary = import_statement(_camt("ESSAI-RET", [unknown]), essai.operator).summary()
    assert (summary["already_imported"], summary["unmatched_returns"]) == (True, 1)
    listing = manager.get(reverse("statements", args=[essai.operator.pk])).content.decode()
    assert "<strong>1</strong>" in listing


def test_a_movement_booked_after_today_or_outside_the_period_is_refused(essai):
    from django.utils import timezone

    today = timezone.localdate()
    later = today.replace(year=today.year + 1)
    faults = _refused_import(essai, _camt("ESSAI-FUTURE", [
        demo.Movement(date(2026, 11, 3), D("310.00"), "Atelier Aubépine", remittance="F2026-000001"),
        demo.Movement(later, D("180.00"), "Collectif Chardon", remittance="F2026-000003")],
        (date(2026, 11, 1), later)))
    assert faults == [f"Ntry 2/TxDtls 1 : comptabilisé le {later:%d/%m/%Y}, après aujourd’hui ({today:%d/%m/%Y}) : un "
                      "relevé ne comptabilise que ce qui a eu lieu"]
    faults = _refused_import(essai, _camt("ESSAI-OUT", [
        demo.Movement(date(2026, 10, 31), D("310.00"), "Atelier Aubépine", remittance="F2026-000001"),
        demo.Movement(date(2026, 11, 3), D("180.00"), "Collectif Chardon", remittance="F2026-000003"),
        demo.Movement(date(2026, 12, 1), D("95.00"), "Entrepôt Solidaire", remittance="F2026-000005")]))
    assert faults == [
        "Ntry 1/TxDtls 1 : comptabilisé le 31/10/2026, hors de la période du relevé (01/11/2026 – 30/11/2026)",
        "Ntry 3/TxDtls 1 : comptabilisé le 01/12/2026, hors de la période du relevé (01/11/2026 – 30/11/2026)"]


def test_a_fitid_twice_in_one_ofx_file_refuses_the_file(essai):
    sgml = _ofx([demo.Movement(date(2026, 11, 3), D("310.00"), "ATELIER", remittance="F2026-000001",
                               reference="FIT-1"),
                 demo.Movement(date(2026, 11, 4), D("180.00"), "CHARDON", remittance="F2026-000003",
                               reference="FIT-1")])
    [fault] = _refused_import(essai, sgml)
    assert fault == ("STMTTRN 2 (l. 26) : le FITID FIT-1 est déjà celui de STMTTRN 1 (l. 18) : une banque donne à "
                     "chaque mouvement le sien")


def test_the_same_movement_is_told_apart_from_another_of_the_same_day_and_amount():
    day, amount = date(2026, 11, 3), D("250.00")
    camt = matching.Seen(day, amount, "Bureau des Écureuils", "Facture F2026-000002", "")
    assert matching.same_movement(camt, matching.Seen(day, amount, "BUREAU DES ECUREUILS",
                                                      "BUREAU DES ECUREUILS Facture F2026-000002"))
    assert not matching.same_movement(camt, matching.Seen(day, amount, "Collectif Chardon", "Facture F2026-000002"))
    assert not matching.same_movement(camt, matching.Seen(day, amount, "Bureau des Écureuils", "Facture F2026-000007"))
    assert not matching.same_movement(camt, matching.Seen(date(2026, 11, 4), amount, "Bureau des Écureuils",
                                                          "Facture F2026-000002"))
    # OFX keeps 32 characters of a name, and carries the end-to-end id in its memo.
    long = matching.Seen(day, amount, "Association des Ateliers Partagés du Canal", "LOYER", "E2E-42")
    assert matching.same_movement(long, matching.Seen(day, amount, "ASSOCIATION DES ATELIERS PARTAGE",
                                                      "ASSOCIATION DES ATELIERS PARTAGE LOYER E2E-42"))
    assert not matching.same_movement(long, matching.Seen(day, amount, "", "", "E2E-43"))
