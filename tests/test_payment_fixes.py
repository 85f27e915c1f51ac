"""Payments attacked: a payment on an invoice later cancelled becomes a credit that settles the payer's
next documents (never chased); a payment larger than all the payer owes is refused unless kept as a
credit; amounts beyond what the database holds, dates in the future or before 2000, the same file
imported twice under another name, cp1252 CSV and broken workbooks."""

import io
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone
from test_billing_run import Site, _leave_early
from test_payments import _import, two_invoices  # noqa: F401 (a fixture)
from test_reminders import _body, _day, _essai, others_quiet  # noqa: F401 (a fixture)
from test_sepa import announce, debtor, operator  # noqa: F401 (fixtures)

from cascade.billing.actions import bill_until, cancel_invoice
from cascade.billing.formatting import format_eur
from cascade.billing.models import Invoice
from cascade.payments.actions import PaymentError, credit_of, record_payment, reverse_payment, settlements
from cascade.payments.models import Payment
from cascade.payments.statement import balance

D = Decimal


# ---------------------------------------------------------------- 1. a cancelled invoice's payment is a credit


def test_what_was_paid_on_a_cancelled_invoice_settles_the_reissued_one_and_is_not_chased(others_quiet, inbox):  # noqa: F811
    essai = _essai(rent="540.00")
    invoice = essai.invoice
    record_payment(essai.operator, essai.customer, amount=D("100.00"), received_on=date(2026, 10, 5),
                   means="transfer", invoices=[invoice])
    credit_note = cancel_invoice(invoice, reason="mauvaise adresse")
    assert credit_note.total_incl_vat == D("-540.00")
    assert settlements([invoice], date(2026, 10, 5))[invoice.pk].outstanding == D("0.00")
    # The 100.00 are the customer's credit again (nothing else open to settle yet).
    assert credit_of(essai.operator, essai.customer) == D("100.00")

    # The period is billed again; the tick applies the credit before any reminder.
    bill_until(date(2026, 10, 1), organisation_id=essai.operator.pk)
    reissued = Invoice.objects.get(organisation=essai.operator, kind="invoice", corrections__isnull=True)
    assert reissued.total_incl_vat == D("540.00")
    out = io.StringIO()
    call_command("tick", "--today", _day(reissued, 7).isoformat(), "--json", stdout=out)
    done = json.loads(out.getvalue())
    assert done["payment_reminders"] >= 1  # (the demo's too, when built)
    assert settlements([reissued], _day(reissued, 7))[reissued.pk].outstanding == D("440.00")
    assert credit_of(essai.operator, essai.customer) == D("0.00")
    # The tick e-mails the re-issued invoice, then its reminder.
    mine = [m for rcpt, m in inbox.messages if rcpt == ["compta@aubepine.example.org"]]
    assert len(mine) == 2
    body = _body(mine[-1])
    assert f"– {reissued.number} du " in body and "440,00\u00a0€ restant dus" in body
    assert "540,00\u00a0€ restant dus" not in body
    # Counted once: a second pass changes nothing.
    call_command("tick", "--today", _day(reissued, 7).isoformat(), "--json", stdout=io.StringIO())
    assert settlements([reissued], _day(reissued, 7))[reissued.pk].outstanding == D("440.00")


def test_cancelling_an_invoice_applies_its_payment_to_the_payers_open_documents(two_invoices):  # noqa: F811
    essai = two_invoices
    older, younger = essai.invoices()
    record_payment(essai.operator, essai.payer, amount=D("310.00"), received_on=date(2026, 11, 5), means="transfer",
                   invoices=[older])
    cancel_invoice(older, reason="erreur de loyer")
    # The 310.00 paid on October now settle November (250.00); 60.00 stay as a credit.
    states = settlements([older, younger], date(2026, 11, 5))
    assert (states[older.pk].outstanding, states[younger.pk].state) == (D("0.00"), "paid")
    assert credit_of(essai.operator, essai.payer) == D("60.00")
    # Read from the account, nothing rewritten: the payment still names October only.
    assert Payment.objects.get(organisation=essai.operator).allocations.count() == 1


# The account always agrees with itself: what the documents still ask, less the credit, is the balance.


def _account(essai, payer, today: date) -> tuple[Decimal, Decimal, Decimal]:
    documents = list(Invoice.objects.filter(organisation=essai.operator, customer=payer))
    outstanding = sum((s.outstanding for s in settlements(documents, today).values()), D("0"))
    return balance(essai.operator, payer), outstanding, credit_of(essai.operator, payer)


def _march_and_april(essai, *, notices: bool = False):
    subscription = essai.subscribe(essai.place("Halle", vat=False), "Atelier", "A1", entry=date(2026, 3, 1),
                                   rent="310.00")
    if notices:
        subscription.versions.update(payment_notice=True)
    bill_until(date(2026, 4, 1), organisation_id=essai.operator.pk)
    return subscription


def _leave_on_the_10th(subscription, notices: bool = False) -> None:
    _leave_early(subscription, date(2026, 3, 10))
    if notices:
        subscription.versions.update(payment_notice=True)
    bill_until(date(2026, 4, 1), organisation_id=subscription.organisation_id)


def test_a_debit_returned_after_an_exit_is_owed_again_and_nothing_counts_twice(db):
    essai = Site()
    subscription = _march_and_april(essai)
    march, _april = essai.invoices()
    payer = subscription.subscriber
    debit = record_payment(essai.operator, payer, amount=D("200.00"), received_on=date(2026, 3, 5),
                           means="direct_debit", invoices=[march])
    record_payment(essai.operator, payer, amount=D("110.00"), received_on=date(2026, 3, 6), means="transfer",
                   invoices=[march])
    # Credit notes of 210.00 (March after the 10th) and 310.00 (April): March asks 100.00 and 310.00 were paid.
    _leave_on_the_10th(subscription)
    assert _account(essai, payer, date(2026, 4, 10)) == (D("-210.00"), D("0.00"), D("210.00"))
    # The debit of 200.00 comes back: 10.00 stay to the occupant's credit, counted once.
    reverse_payment(debit, on=date(2026, 4, 12), reason="AM04")
    assert _account(essai, payer, date(2026, 4, 12)) == (D("-10.00"), D("0.00"), D("10.00"))


def test_an_invoice_partly_credited_then_cancelled_leaves_its_excess_as_a_credit(db):
    essai = Site()
    subscription = _march_and_april(essai)
    march, _april = essai.invoices()
    payer = subscription.subscriber
    record_payment(essai.operator, payer, amount=D("310.00"), received_on=date(2026, 3, 5), means="transfer",
                   invoices=[march])
    _leave_on_the_10th(subscription)
    cancel_invoice(march, reason="erreur d’adresse")
    bill_until(date(2026, 4, 1), organisation_id=essai.operator.pk)
    # 10 days of March were due (100.00) and 310.00 were paid: 210.00 to the occupant's credit.
    assert _account(essai, payer, date(2026, 4, 10)) == (D("-210.00"), D("0.00"), D("210.00"))


def test_a_notice_in_the_occupants_favour_lowers_the_notice_of_its_period(db):
    essai = Site()
    subscription = _march_and_april(essai, notices=True)
    march, _april = essai.invoices()
    _leave_on_the_10th(subscription, notices=True)
    lowered = essai.invoices().get(total_incl_vat=D("-210.00"))
    assert (lowered.kind, lowered.corrects) == ("payment_notice", march)
    assert settlements([march], date(2026, 4, 10))[march.pk].outstanding == D("100.00")
    assert _account(essai, subscription.subscriber, date(2026, 4, 10)) == (D("100.00"), D("100.00"), D("0.00"))


# ---------------------------------------------------------------- 2. more than owed


def test_the_invoice_page_refuses_more_than_owed_unless_kept_as_a_credit(alice_client, operator):  # noqa: F811
    invoice = Invoice.objects.filter(organisation=operator, kind="invoice", allocations__isnull=True).order_by(
        "issue_date").first()
    owed = sum((s.outstanding for s in settlements(list(Invoice.objects.filter(
        organisation=operator, customer=invoice.customer, kind__in=("invoice", "payment_notice"))),
        timezone.localdate()).values()), D("0.00"))
    before = Payment.objects.filter(organisation=operator).count()
    too_much = owed + D("500.00")
    form = {"amount": f"{too_much}".replace(".", ","), "received_on": "2026-12-01", "means": "transfer"}
    page = alice_client.post(reverse("invoice_payment", args=[invoice.pk]), form, follow=True).content.decode()
    assert (f"dépasse les {format_eur(owed)} que doit encore {invoice.customer.name} : vérifiez le montant, ou "
            f"gardez le reste en crédit.").replace("’", "&#x27;") in page.replace("’", "&#x27;")
    assert Payment.objects.filter(organisation=operator).count() == before
    assert "Garder l’excédent en crédit sur le compte du payeur" in page
    page = alice_client.post(reverse("invoice_payment", args=[invoice.pk]), form | {"allow_credit": "1"},
                             follow=True).content.decode()
    assert Payment.objects.filter(organisation=operator).count() == before + 1
    assert credit_of(operator, invoice.customer) == D("500.00")
    assert f"{invoice.customer.name} a un avoir en compte de 500,00\u00a0€." in page


# ---------------------------------------------------------------- 3. amounts too large


def test_an_amount_beyond_what_the_database_holds_is_refused(two_invoices, tmp_path):  # noqa: F811
    essai = two_invoices
    with pytest.raises(PaymentError) as error:
        record_payment(essai.operator, essai.payer, amount=D("1000000000000.00"), received_on=date(2026, 11, 5),
                       means="transfer", allow_credit=True)
    assert str(error.value) == ("1\u202f000\u202f000\u202f000\u202f000,00\u00a0€ est trop élevé : un montant ne "
                                "dépasse pas 999\u202f999\u202f999\u202f999,99\u00a0€.")
    huge = tmp_path / "huge.csv"
    huge.write_text("Date;Payeur;Montant\n05/11/2026;Atelier Aubépine;99999999999999999,99\n", encoding="utf-8")
    with pytest.raises(CommandError) as error:
        _import(huge, essai.operator.slug, "--allow-credit")
    assert str(error.value).splitlines() == [
        "ligne 2 : montant : 99\u202f999\u202f999\u202f999\u202f999\u202f999,99\u00a0€ est trop élevé : "
        "un montant ne dépasse pas 999\u202f999\u202f999\u202f999,99\u00a0€."]
    assert not Payment.objects.filter(organisation=essai.operator).exists()


def test_the_invoice_page_refuses_a_huge_amount_and_dates_out_of_range(alice_client, operator):  # noqa: F811
    invoice = Invoice.objects.filter(organisation=operator, kind="invoice", allocations__isnull=True).order_by(
        "issue_date").first()
    before = Payment.objects.filter(organisation=operator).count()
    url = reverse("invoice_payment", args=[invoice.pk])
    page = alice_client.post(url, {"amount": "99999999999999999", "received_on": "2026-12-01", "means": "transfer",
                                   "allow_credit": "1"}, follow=True).content.decode()
    assert "est trop élevé : un montant ne dépasse pas 999\u202f999\u202f999\u202f999,99\u00a0€." in page
    tomorrow = timezone.localdate() + timedelta(days=1)
    page = alice_client.post(url, {"amount": "10,00", "received_on": tomorrow.isoformat(), "means": "transfer"},
                             follow=True).content.decode()
    assert (f"La date de paiement {tomorrow:%d/%m/%Y} est dans le futur : enregistrez un paiement une fois "
            f"reçu.") in page
    page = alice_client.post(url, {"amount": "10,00", "received_on": "1999-12-31", "means": "transfer"},
                             follow=True).content.decode()
    assert "La date de paiement 31/12/1999 est antérieure à 2000 : vérifiez l&#x27;année." in page.replace(
        "’", "&#x27;")
    assert Payment.objects.filter(organisation=operator).count() == before


# ---------------------------------------------------------------- 4, 5, 8. the import


def test_the_same_payments_under_another_name_or_with_a_line_inserted_are_not_recorded_twice(two_invoices,  # noqa: F811
                                                                                             tmp_path):
    essai = two_invoices
    first = tmp_path / "p1.csv"
    first.write_text("Date;Payeur;Montant\n05/11/2026;Atelier Aubépine;100,00\n", encoding="utf-8")
    assert _import(first, essai.operator.slug)["payments"] == 1
    copy = tmp_path / "p1-copie.csv"
    copy.write_bytes(first.read_bytes())
    with pytest.raises(CommandError) as error:
        _import(copy, essai.operator.slug)
    assert str(error.value).splitlines() == [
        "ligne 2 : déjà importé (même date, même payeur, même montant et même facture)."]
    inserted = tmp_path / "p1-complété.csv"
    inserted.write_text("Date;Payeur;Montant\n04/11/2026;Atelier Aubépine;20,00\n"
                        "05/11/2026;Atelier Aubépine;100,00\n", encoding="utf-8")
    with pytest.raises(CommandError) as error:
        _import(inserted, essai.operator.slug)
    assert str(error.value).splitlines() == [
        "ligne 3 : déjà importé (même date, même payeur, même montant et même facture)."]
    assert Payment.objects.filter(organisation=essai.operator).count() == 1
    # Two payments alike in one new file are two payments (only what was recorded before is a repeat).
    twice = tmp_path / "p2.csv"
    twice.write_text("Date;Payeur;Montant\n06/11/2026;Atelier Aubépine;10,00\n06/11/2026;Atelier Aubépine;10,00\n",
                     encoding="utf-8")
    assert _import(twice, essai.operator.slug)["payments"] == 2


def test_a_cp1252_csv_is_read_and_a_broken_workbook_is_refused_clearly(two_invoices, tmp_path):  # noqa: F811
    essai = two_invoices
    latin = tmp_path / "excel.csv"
    latin.write_bytes("Date;Payeur;Montant;Facture\n05/11/2026;Atelier Aubépine;310,00;\n".encode("cp1252"))
    assert _import(latin, essai.operator.slug)["payments"] == 1
    assert Payment.objects.get(organisation=essai.operator).payer == essai.payer
    junk = tmp_path / "paiements.xlsx"
    junk.write_text("Date;Payeur;Montant\n", encoding="utf-8")
    with pytest.raises(CommandError) as error:
        _import(junk, essai.operator.slug)
    assert str(error.value) == ("paiements.xlsx : ce n’est pas un classeur Excel (.xlsx) lisible : enregistrez-le de "
                                "nouveau depuis votre tableur, ou exportez-le en CSV.")


def test_a_payment_dated_in_the_future_or_before_2000_is_not_imported(two_invoices, tmp_path):  # noqa: F811
    essai = two_invoices
    tomorrow = timezone.localdate() + timedelta(days=1)
    dates = tmp_path / "dates.csv"
    dates.write_text(f"Date;Payeur;Montant\n{tomorrow:%d/%m/%Y};Atelier Aubépine;10,00\n"
                     "31/12/1999;Atelier Aubépine;10,00\n05/11/2026;Atelier Aubépine;10,00\n", encoding="utf-8")
    with pytest.raises(CommandError) as error:
        _import(dates, essai.operator.slug)
    assert str(error.value).splitlines() == [
        f"ligne 2 : date : La date de paiement {tomorrow:%d/%m/%Y} est dans le futur : enregistrez un paiement une "
        "fois reçu.",
        "ligne 3 : date : La date de paiement 31/12/1999 est antérieure à 2000 : vérifiez l’année."]
    assert not Payment.objects.filter(organisation=essai.operator).exists()


def test_an_import_of_more_than_owed_is_refused_without_allow_credit(two_invoices, tmp_path):  # noqa: F811
    essai = two_invoices
    file = tmp_path / "trop.csv"
    file.write_text("Date;Payeur;Montant\n05/11/2026;Atelier Aubépine;600,00\n", encoding="utf-8")
    with pytest.raises(CommandError) as error:
        _import(file, essai.operator.slug)
    assert str(error.value) == ("ligne 2 : 600,00\u00a0€ dépasse les 560,00\u00a0€ que doit encore Atelier Aubépine "
                                ": vérifiez le montant, ou gardez le reste en crédit.")
    assert not Payment.objects.filter(organisation=essai.operator).exists()
    assert _import(file, essai.operator.slug, "--allow-credit")["credits"] == {"Atelier Aubépine": "40.00"}


def test_site_helper_is_unchanged():
    assert Site.__init__.__defaults__ == ("Tiers-Lieu Essai", "tiers-lieu-essai")


# ---------------------------------------------------------------- 6. deposits returned in several parts


def test_a_deposit_returned_in_parts_and_retained_until_nothing_is_held_each_part_posted_once(db):
    from test_deposits import _lines

    from cascade.ledger.models import Entry
    from cascade.ledger.posting import post_pending
    from cascade.payments.deposits import DepositError, call_deposit, receive_deposit, retain_deposit, return_deposit

    essai = Site()
    subscription = essai.subscribe(essai.place("Halle Essai", vat=False), "Atelier Aubépine", "A1",
                                   entry=date(2026, 3, 2), rent="438.00")
    subscription.deposit = D("876.00")
    subscription.save()
    deposit = receive_deposit(call_deposit(subscription, called_on=date(2026, 3, 2)), received_on=date(2026, 3, 5))
    with pytest.raises(DepositError) as error:
        return_deposit(deposit, returned_on=date(2026, 3, 4), amount=D("100.00"))
    assert str(error.value) == ("Le dépôt a été reçu le 05/03/2026 : il ne peut être restitué ni conservé avant.")
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(DepositError) as error:
        retain_deposit(deposit, retained_on=tomorrow, amount=D("100.00"), reason="Dégâts")
    assert str(error.value) == (f"Le {tomorrow:%d/%m/%Y} est dans le futur : enregistrez ce qui a été restitué ou "
                                "conservé une fois fait.")
    deposit = return_deposit(deposit, returned_on=date(2026, 9, 30), amount=D("300.00"))
    assert (deposit.state, deposit.held) == ("partly_returned", D("576.00"))
    deposit = retain_deposit(deposit, retained_on=date(2026, 10, 1), amount=D("76.00"), reason="Clés non rendues")
    deposit = return_deposit(deposit, returned_on=date(2026, 10, 2), amount=D("200.00"))
    assert post_pending(essai.operator) == 4  # received, returned, retained, returned again
    with pytest.raises(DepositError) as error:  # beyond what an amount column holds: refused, not stored
        return_deposit(deposit, returned_on=date(2026, 10, 3), amount=D("99999999999999999.99"))
    assert str(error.value) == "Seuls 300,00\u00a0€ du dépôt sont encore détenus."
    deposit = return_deposit(deposit, returned_on=date(2026, 10, 3))  # the rest: 300.00
    assert (deposit.state, deposit.held, deposit.returned_amount, deposit.retained_amount) == (
        "retained", D("0.00"), D("800.00"), D("76.00"))
    with pytest.raises(DepositError, match="Plus rien de ce dépôt n’est détenu"):
        retain_deposit(deposit, retained_on=date(2026, 10, 3), amount=D("1.00"), reason="Dégâts")
    assert post_pending(essai.operator) == 1
    assert post_pending(essai.operator) == 0
    entries = Entry.objects.filter(organisation=essai.operator, source__startswith="deposit-").order_by("pk")
    assert [(e.source.replace(str(deposit.pk), "N"), e.date) for e in entries] == [
        ("deposit-received:N", date(2026, 3, 5)), ("deposit-returned:N", date(2026, 9, 30)),
        ("deposit-retained:N", date(2026, 10, 1)), ("deposit-returned:N:2", date(2026, 10, 2)),
        ("deposit-returned:N:3", date(2026, 10, 3))]
    assert [_lines(e) for e in entries[1:]] == [
        [("165", D("300.00"), D("0.00")), ("512", D("0.00"), D("300.00"))],
        [("165", D("76.00"), D("0.00")), ("758", D("0.00"), D("76.00"))],
        [("165", D("200.00"), D("0.00")), ("512", D("0.00"), D("200.00"))],
        [("165", D("300.00"), D("0.00")), ("512", D("0.00"), D("300.00"))]]


# ---------------------------------------------------------------- 7, 10. SEPA mandates and batches


def test_a_debtor_name_without_latin_letters_is_refused_and_a_batch_names_the_mandate(operator, debtor, announce,  # noqa: F811
                                                                                    tmp_path):
    from test_sepa import DEBTOR_IBAN, _mandate

    from cascade.payments.debits import DirectDebitError, export_batch
    from cascade.payments.mandates import MandateError, create_mandate
    from cascade.payments.models import DirectDebitBatch, Mandate

    with pytest.raises(MandateError) as error:
        create_mandate(operator, debtor, iban=DEBTOR_IBAN, debtor_name="李小龙 😀", signed_on=date(2025, 1, 2))
    assert str(error.value) == ("Le nom du titulaire du compte « 李小龙 😀 » doit contenir des lettres latines "
                                "(jeu de caractères SEPA) : écrivez-le comme la banque le connaît.")
    assert not Mandate.objects.filter(debtor=debtor).exists()
    mandate = _mandate(operator, debtor, rum="RUM-LI-1")
    announce(date(2026, 11, 2))
    # A name saved before the check: the batch says which mandate, nothing is recorded.
    Mandate.objects.filter(pk=mandate.pk).update(debtor_name="李小龙 😀")
    batches = DirectDebitBatch.objects.count()
    with pytest.raises(DirectDebitError) as error:
        export_batch(operator, date(2026, 11, 16), today=date(2026, 11, 10))
    assert str(error.value).startswith("Mandat RUM-LI-1 : le nom du titulaire du compte « 李小龙 😀 » n’a aucune "
                                       "lettre latine (jeu de caractères SEPA)")
    assert DirectDebitBatch.objects.count() == batches
    assert not Payment.objects.filter(payer=debtor).exists()


def test_export_sepa_writes_a_regular_file_and_collects_within_a_year(operator, debtor, tmp_path):  # noqa: F811
    from test_sepa import _mandate

    from cascade.payments.debits import DirectDebitError, export_batch

    _mandate(operator, debtor, rum="RUM-OUT-1")
    for out, message in (("/dev/full", "--out : /dev/full n’est pas un fichier ordinaire"),
                         (str(tmp_path), f"--out : {tmp_path} est un dossier")):
        with pytest.raises(CommandError) as error:
            call_command("export_sepa", "--collection-date", "2027-01-04", "--out", out,
                         "--organisation", operator.slug)
        assert str(error.value).startswith(message)
    with pytest.raises(DirectDebitError) as error:
        export_batch(operator, date(2099, 12, 31), today=date(2026, 12, 4))
    assert str(error.value) == ("La date de prélèvement 31/12/2099 est à plus d’un an : choisissez un jour "
                                "jusqu’au 04/12/2027 au plus tard.")
    assert not Payment.objects.filter(payer=debtor, received_on__year=2099).exists()


def test_a_mandate_never_debited_revoked_after_a_last_debit_waits_for_it(operator, debtor, announce, alice_client):  # noqa: F811
    from test_sepa import _mandate, _texts

    from cascade.payments.debits import export_batch
    from cascade.payments.models import MandateStatus, PreNotification

    mandate = _mandate(operator, debtor, rum="RUM-FNAL-1")
    announce(date(2026, 11, 2))
    assert PreNotification.objects.filter(mandate=mandate).exists()
    page = alice_client.post(reverse("mandate_revoke", args=[mandate.pk]), {"final": "1"}, follow=True)
    assert ("Le mandat RUM-FNAL-1 prendra fin après son dernier prélèvement, celui des documents déjà annoncés."
            in page.content.decode().replace("&#x27;", "’"))
    mandate.refresh_from_db()
    assert (mandate.status, mandate.final_requested, mandate.next_sequence) == (MandateStatus.ACTIVE, True, "FNAL")
    first = min(PreNotification.objects.filter(mandate=mandate).values_list("debit_on", flat=True))
    batch = export_batch(operator, first, today=date(2026, 11, 10))
    assert set(_texts(batch.file.open("rb").read(), "//p:SeqTp")) == {"FNAL"}
    mandate.refresh_from_db()
    assert (mandate.status, mandate.ended_on) == (MandateStatus.REVOKED, first)

    # Nothing announced: revoked at once, and the page says so.
    other = _mandate(operator, debtor, rum="RUM-FNAL-2")
    page = alice_client.post(reverse("mandate_revoke", args=[other.pk]), {"final": "1"}, follow=True)
    assert "Le mandat RUM-FNAL-2 est révoqué : il ne sera plus prélevé." in page.content.decode()
    other.refresh_from_db()
    assert other.status == MandateStatus.REVOKED


# ---------------------------------------------------------------- 9. the dunning plan page


def test_the_dunning_plan_refuses_a_long_subject_a_rate_of_three_decimals_and_dotted_placeholders(others_quiet,  # noqa: F811
                                                                                                client):
    from django.contrib.auth import get_user_model

    from cascade.accounts.models import Membership, Role
    from cascade.payments.models import DunningPlan

    essai = Site()
    manager = get_user_model().objects.create_user("gestion@essai.example.org", "gestion@essai.example.org", "x")
    Membership.objects.create(user=manager, organisation=essai.operator, role=Role.MANAGER)
    client.force_login(manager)
    url = reverse("dunning_plan", args=[essai.operator.pk])
    client.get(url)
    form = {"rows": "2", "enabled": "1", "late_penalty_rate": "12,40",
            "days_1": "10", "kind_1": "friendly", "subject_1": "R" * 201, "body_1": "Reste {outstanding}",
            "days_2": "40", "kind_2": "letter", "subject_2": "Mise en demeure {number}",
            "body_2": "Madame, Monsieur {customer.name},"}
    page = client.post(url, form, follow=True).content.decode()
    assert "étape 1 : objet trop long (200 caractères au plus)" in page
    assert "étape 2 : variable inconnue {customer.name}" in page
    form.update(subject_1="Relance {number}", body_2="Voir la lettre jointe : {amount_claimed}",
                late_penalty_rate="12,155")
    page = client.post(url, form, follow=True).content.decode()
    assert "Le taux de pénalités de retard a deux décimales au plus (12,155)." in page.replace("&#x27;", "’")
    plan = DunningPlan.objects.get(organisation=essai.operator)
    assert plan.late_penalty_rate == D("12.15")  # the default, unchanged
    assert list(plan.steps.values_list("days", flat=True)) == [7, 21, 45]
    form["late_penalty_rate"] = "12,16"
    assert "Le plan de relance est enregistré." in client.post(url, form, follow=True).content.decode()
    plan.refresh_from_db()
    assert plan.late_penalty_rate == D("12.16")
    assert list(plan.steps.values_list("days", "subject")) == [(10, "Relance {number}"),
                                                               (40, "Mise en demeure {number}")]



def test_the_import_reports_bad_cells_in_french(two_invoices, tmp_path):  # noqa: F811
    essai = two_invoices
    bad = tmp_path / "bad.csv"
    bad.write_text("Date;Payeur;Montant\n05/11/2026;Atelier Aubépine;douze\n", encoding="utf-8")
    with pytest.raises(CommandError) as error:
        _import(bad, essai.operator.slug)
    assert str(error.value) == "ligne 2 : montant : montant qui n’est pas un nombre"
