"""SEPA direct debit: mandates, pre-notifications, the pain.008.001.08 batch validated by its XSD."""

import io
import json
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from hypothesis import assume, given
from hypothesis import strategies as st
from lxml import etree

from cascade.accounts.models import AuditEvent, Organisation, OrganisationKind
from cascade.billing.models import Invoice
from cascade.contracts.demo import sign_as_demo
from cascade.payments import pain008
from cascade.payments.actions import settlements
from cascade.payments.debits import DirectDebitError, export_batch, send_prenotifications
from cascade.payments.demo import sign_demo_mandates
from cascade.payments.mandates import (
    MandateError,
    activate_mandate,
    create_mandate,
    lapse_mandates,
    mandate_pdf,
    revoke_mandate,
)
from cascade.payments.models import Allocation, DirectDebit, Mandate, MandateStatus, Payment, PreNotification
from cascade.payments.sepa import (
    SEPA_CHARACTERS,
    add_months,
    ics_problem,
    is_business_day,
    next_business_day,
    transliterate,
)
from conftest import body_of

NS = {"p": pain008.NAMESPACE}


def django_settings_locmem():
    return override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
CREDITOR = pain008.Creditor("Collectif Tremplin", "FR7630003315211692071991947", "", "FR60ZZZ406524")
DEBTOR_IBAN = "FR7620041445099004349082629"


def _debit(n: int, amount: str, name: str = "Atelier Lumen", sequence: str = "RCUR") -> pain008.Debit:
    return pain008.Debit(f"F2026-{n:06d}", Decimal(amount), sequence, f"RUM-{n}", date(2026, 1, 5), name,
                         DEBTOR_IBAN, "", f"Facture F2026-{n:06d}")


def _build(debits: list[pain008.Debit]) -> bytes:
    return pain008.build("MSG-1", datetime(2026, 12, 4, 10, 30), date(2026, 12, 18), CREDITOR, debits)


def _texts(xml: bytes, path: str) -> list[str]:
    return [e.text for e in etree.fromstring(xml).xpath(path, namespaces=NS)]


# ---------------------------------------------------------------- the message (the cases)


def test_a_debit_of_19_99_is_written_19_99():
    xml = _build([_debit(1, "19.99")])
    assert b'<InstdAmt Ccy="EUR">19.99</InstdAmt>' in xml
    assert pain008.validation_errors(xml) == []


def test_a_thousand_debits_of_24_95_sum_to_24950_00():
    xml = _build([_debit(n, "24.95") for n in range(1, 1001)])
    assert _texts(xml, "//p:GrpHdr/p:CtrlSum") == ["24950.00"]
    assert _texts(xml, "//p:GrpHdr/p:NbOfTxs") == ["1000"]
    assert _texts(xml, "//p:PmtInf/p:CtrlSum") == ["24950.00"]
    assert pain008.validation_errors(xml) == []


def test_names_are_transliterated_to_the_sepa_character_set():
    xml = _build([_debit(1, "10.00", name="Crèche Les Écureuils")])
    assert _texts(xml, "//p:Dbtr/p:Nm") == ["Creche Les Ecureuils"]
    assert transliterate("Straße & Æsir — «Øster»") == "Strasse + AEsir - 'Oster'"
    assert len(transliterate("Å" * 100, 70)) == 70


def test_one_payment_block_per_sequence_type_with_its_own_control_sum():
    xml = _build([_debit(1, "10.10", sequence="FRST"), _debit(2, "5.05", sequence="RCUR"),
                  _debit(3, "1.01", sequence="FRST")])
    assert _texts(xml, "//p:PmtInf/p:PmtTpInf/p:SeqTp") == ["FRST", "RCUR"]
    assert _texts(xml, "//p:PmtInf/p:CtrlSum") == ["11.11", "5.05"]
    assert _texts(xml, "//p:GrpHdr/p:CtrlSum") == ["16.16"]


def test_the_xsd_refuses_a_broken_message():
    xml = _build([_debit(1, "19.99")]).replace(b"<SeqTp>FRST</SeqTp>", b"<SeqTp>RCUR</SeqTp>")
    assert pain008.validation_errors(xml) == []
    broken = xml.replace(b"<PmtMtd>DD</PmtMtd>", b"<PmtMtd>XX</PmtMtd>")
    assert any("PmtMtd" in p for p in pain008.validation_errors(broken))


@given(st.text(max_size=200), st.integers(min_value=1, max_value=140))
def test_transliteration_stays_in_the_set_and_the_length(text, length):
    out = transliterate(text, length)
    assert set(out) <= SEPA_CHARACTERS and len(out) <= length and out == out.strip()


@given(st.lists(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2), min_size=1,
                max_size=30))
def test_control_sums_are_exact(amounts):
    xml = _build([_debit(n, str(a), sequence=("FRST", "RCUR")[n % 2]) for n, a in enumerate(amounts, start=1)])
    assert Decimal(_texts(xml, "//p:GrpHdr/p:CtrlSum")[0]) == sum(amounts)
    assert sum(Decimal(t) for t in _texts(xml, "//p:PmtInf/p:CtrlSum")) == sum(amounts)


@given(st.from_regex(r"[0-9A-Z]{6}", fullmatch=True), st.from_regex(r"[A-Z0-9]{3}", fullmatch=True))
def test_an_ics_with_computed_check_digits_is_accepted_and_any_other_refused(national, code):
    digits = 98 - int("".join(str(int(c, 36)) for c in national + "FR00")) % 97
    assert ics_problem(f"FR{digits:02d}{code}{national}") is None
    assert ics_problem(f"FR{(digits + 1) % 100:02d}{code}{national}") == "check digits"


@given(st.from_regex(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{3}[0-9A-Z]{1,10}", fullmatch=True))
def test_the_ics_check_agrees_with_stdnum(ics):
    from stdnum.eu import at_02

    # ISO 7064 mod 97-10 gives check digits 02 to 98; stdnum also takes 00 and 01 (≡ 97 and 98 mod 97), which
    # no creditor identifier carries: Cascade refuses them.
    assume(ics[2:4] not in ("00", "01", "99"))
    assert (ics_problem(ics) is None) == at_02.is_valid(ics)


def test_business_days_and_lapse_arithmetic():
    assert not is_business_day(date(2026, 4, 3))  # Good Friday
    assert not is_business_day(date(2026, 4, 6))  # Easter Monday
    assert not is_business_day(date(2026, 12, 26)) and not is_business_day(date(2026, 12, 19))
    assert next_business_day(date(2026, 12, 24)) == date(2026, 12, 24)
    assert next_business_day(date(2026, 12, 25)) == date(2026, 12, 28)
    assert add_months(date(2024, 2, 29), 36) == date(2027, 2, 28)


# ---------------------------------------------------------------- mandates and batches on the demo


@pytest.fixture
def operator(site) -> Organisation:
    """The demo operator, a copy of its own: tests change its settings (rolled back in the database)."""
    return Organisation.objects.get(pk=site["operator"].pk)


@pytest.fixture
def debtor(site) -> Organisation:
    """A demo occupant with open invoices: what it paid before is forgotten (the demo's history)."""
    found = (Organisation.objects.filter(operator=site["operator"], kind=OrganisationKind.OCCUPANT,
                                         received_invoices__isnull=False).exclude(iban="").distinct()
             .order_by("name").first())
    Allocation.objects.filter(payment__payer=found).delete()
    Payment.objects.filter(payer=found).delete()
    return found


@pytest.fixture
def announce(django_capture_on_commit_callbacks):
    """send_prenotifications, its e-mails sent (they go once the transaction commits)."""
    def run(today: date) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return send_prenotifications(today)
    return run


def _mandate(operator, debtor, **kwargs) -> Mandate:
    return create_mandate(operator, debtor, iban=kwargs.pop("iban", DEBTOR_IBAN),
                          signed_on=kwargs.pop("signed_on", date(2025, 1, 2)), **kwargs)


def test_prenotified_once_then_collected_first_then_recurrent(site, operator, debtor, inbox, announce):
    mandate = _mandate(operator, debtor, debtor_name="Crèche Les Écureuils", rum="RUM-ECUREUILS-1")
    assert announce(date(2026, 11, 2)) >= 2
    notices = list(PreNotification.objects.filter(mandate=mandate).order_by("debit_on", "invoice__number"))
    assert len(inbox.messages) == len(notices)
    # An invoice already due is debited 14 days after its notice, at the earliest.
    assert min(n.debit_on for n in notices) == date(2026, 11, 16)
    first = notices[0]
    message = next(m for _r, m in inbox.messages if first.invoice.number in body_of(m))
    body = body_of(message)
    assert "RUM-ECUREUILS-1" in body and "FR60ZZZ406524" in body and "16/11/2026" in body
    assert message["Subject"].strip().startswith("Prélèvement de ")
    # Once only: the next pass announces nothing more.
    assert announce(date(2026, 11, 3)) == 0
    assert len(inbox.messages) == len(notices)

    early = [n for n in notices if n.debit_on == date(2026, 11, 16)]
    batch = export_batch(operator, date(2026, 11, 16), today=date(2026, 11, 10))
    xml = batch.file.open("rb").read()
    assert pain008.validation_errors(xml) == []
    assert batch.count == len(early) and batch.control_sum == sum(n.amount for n in early)
    assert _texts(xml, "//p:SeqTp") == ["FRST"] and _texts(xml, "//p:Dbtr/p:Nm")[0] == "Creche Les Ecureuils"
    assert _texts(xml, "//p:EndToEndId") == [n.invoice.number for n in early]
    mandate.refresh_from_db()
    assert mandate.last_debit_on == date(2026, 11, 16) and mandate.next_sequence == "RCUR"
    # Each debit is a payment of its invoice, which shows paid.
    payment = Payment.objects.get(reference=first.invoice.number, source="sepa")
    assert payment.means == "direct_debit" and payment.amount == first.amount
    assert settlements([first.invoice], date(2026, 11, 16))[first.invoice.pk].state == "paid"
    # Never in two batches: the same date again has nothing left.
    with pytest.raises(DirectDebitError, match="Rien à prélever le 16/11/2026"):
        export_batch(operator, date(2026, 11, 16), today=date(2026, 11, 10))

    later = [n for n in notices if n.debit_on > date(2026, 11, 16)]
    assert later, "the demo bills one more invoice due after the first debit"
    batch = export_batch(operator, max(n.debit_on for n in later), today=date(2026, 11, 20))
    xml = batch.file.open("rb").read()
    assert set(_texts(xml, "//p:SeqTp")) == {"RCUR"} and pain008.validation_errors(xml) == []
    assert DirectDebit.objects.filter(mandate=mandate).count() == len(notices)


def test_a_final_debit_ends_the_mandate_and_a_one_off_is_used_once(operator, debtor, announce):
    recurrent = _mandate(operator, debtor, rum="RECURRENT-1")
    announce(date(2026, 11, 2))
    export_batch(operator, date(2026, 11, 16), today=date(2026, 11, 10))
    revoke_mandate(recurrent, on=date(2026, 11, 20), final_debit=True)
    recurrent.refresh_from_db()
    assert recurrent.status == MandateStatus.ACTIVE and recurrent.next_sequence == "FNAL"
    last = PreNotification.objects.filter(mandate=recurrent, invoice__direct_debit__isnull=True).latest("debit_on")
    batch = export_batch(operator, last.debit_on, today=date(2026, 11, 20))
    assert set(_texts(batch.file.open("rb").read(), "//p:SeqTp")) == {"FNAL"}
    recurrent.refresh_from_db()
    assert recurrent.status == MandateStatus.REVOKED and recurrent.ended_on == last.debit_on

    other = (Organisation.objects.filter(operator=operator, kind=OrganisationKind.OCCUPANT,
                                         received_invoices__isnull=False).exclude(pk=debtor.pk).distinct()
             .order_by("name").first())
    one_off = _mandate(operator, other, rum="PONCTUEL-1", recurrent=False)
    announce(date(2026, 11, 20))
    batch = export_batch(operator, date(2026, 12, 4), today=date(2026, 11, 20))
    assert set(_texts(batch.file.open("rb").read(), "//p:SeqTp")) == {"OOFF"}
    one_off.refresh_from_db()
    assert one_off.status == MandateStatus.USED and one_off.next_sequence == "OOFF"


def test_the_notice_period_is_the_organisations(operator, debtor, inbox):
    operator.sepa_prenotification_days = 20
    operator.save()
    _mandate(operator, debtor)
    send_prenotifications(date(2026, 11, 2))
    assert min(PreNotification.objects.values_list("debit_on", flat=True)) == date(2026, 11, 23)
    # Announced 2 November: collecting on 20 November would be only 18 days after.
    with pytest.raises(DirectDebitError, match="au moins 20 jours"):
        export_batch(operator, date(2026, 11, 20), today=date(2026, 11, 2))
    assert export_batch(operator, date(2026, 11, 23), today=date(2026, 11, 2)).count >= 1


def test_the_notice_is_a_day_at_least(operator):
    with pytest.raises(IntegrityError), transaction.atomic():
        Organisation.objects.filter(pk=operator.pk).update(sepa_prenotification_days=0)


def test_a_mandate_lapses_after_36_months_without_a_debit(operator, debtor):
    mandate = _mandate(operator, debtor, signed_on=date(2023, 1, 10))
    assert lapse_mandates(date(2026, 1, 9)) == 0
    assert lapse_mandates(date(2026, 1, 10)) == 1
    mandate.refresh_from_db()
    assert mandate.status == MandateStatus.LAPSED and mandate.ended_on == date(2026, 1, 10)
    assert AuditEvent.objects.filter(action="mandate.lapsed", object_id=str(mandate.pk)).exists()
    used = _mandate(operator, debtor, signed_on=date(2023, 1, 10), rum="USED-1")
    Mandate.objects.filter(pk=used.pk).update(last_debit_on=date(2025, 6, 30))
    assert lapse_mandates(date(2028, 6, 29)) == 0 and lapse_mandates(date(2028, 6, 30)) == 1
    # A lapsed mandate's debtor is not announced any more.
    assert send_prenotifications(date(2028, 7, 1)) == 0


def test_tick_sends_the_prenotifications_and_counts_them(site, operator, debtor, inbox,
                                                       django_capture_on_commit_callbacks):
    _mandate(operator, debtor)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("tick", "--json", "--today", "2026-11-30", stdout=(out := io.StringIO()))
    done = json.loads(out.getvalue())
    # The debtor's late documents are also reminded by the same pass: count the announcements only.
    announced = [r for r, m in inbox.messages if m["Subject"].strip().startswith("Prélèvement de ")]
    assert announced == [[debtor.email]] * done["prenotifications"]
    assert done["prenotifications"] == PreNotification.objects.count() >= 1 and done["mandates_lapsed"] == 0
    call_command("tick", "--json", "--today", "2026-11-30", stdout=(out := io.StringIO()))
    assert json.loads(out.getvalue())["prenotifications"] == 0


def test_the_demo_batch_validates_against_the_xsd(site, operator, tmp_path):
    today = timezone.localdate()
    collection = sign_demo_mandates(operator, site["alice"], today)
    mandates = Mandate.objects.filter(creditor=operator).order_by("pk")
    assert [m.status for m in mandates] == [MandateStatus.ACTIVE, MandateStatus.ACTIVE]
    # The first was signed through the signing flow, on the day of its signature.
    assert mandates[0].signature_request.state == "signed" and mandates[0].signed_on == today
    out = tmp_path / "batch.xml"
    call_command("export_sepa", "--collection-date", collection.isoformat(), "--out", str(out), "--json",
                 stdout=(printed := io.StringIO()))
    summary = json.loads(printed.getvalue())
    xml = out.read_bytes()
    assert pain008.validation_errors(xml) == []
    assert summary["count"] == len(_texts(xml, "//p:DrctDbtTxInf")) >= 1
    assert summary["control_sum"] == _texts(xml, "//p:GrpHdr/p:CtrlSum")[0]
    assert summary["sequences"] == {"FRST": summary["count"]}
    # Nothing left: refused, the file untouched.
    with pytest.raises(CommandError, match="Rien à prélever"):
        call_command("export_sepa", "--collection-date", collection.isoformat(), "--out", str(out))
    assert out.read_bytes() == xml


def test_the_mandate_pdf_holds_the_mandatory_text(operator, debtor, tmp_path):
    import subprocess

    mandate = _mandate(operator, debtor, rum="RUM-PDF-1")
    pdf = tmp_path / "mandat.pdf"
    pdf.write_bytes(mandate_pdf(mandate))
    text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    for expected in ("Mandat de prélèvement SEPA", "RUM-PDF-1", "FR60ZZZ406524", "FR76 2004 1445 0990 0434 9082 629",
                     "vous autorisez Collectif Tremplin à envoyer des instructions à votre banque",
                     "Paiement récurrent / répétitif", "Signé sur papier le 02/01/2025"):
        assert expected in text


# ---------------------------------------------------------------- bad input: a clear message, nothing made


def test_an_iban_with_a_bad_checksum_is_refused(operator, debtor):
    expected = "L’IBAN FR7620041445099004349082628 n’est pas valide : ses chiffres de contrôle sont faux"
    with pytest.raises(MandateError, match=expected):
        _mandate(operator, debtor, iban="FR7620041445099004349082628")
    assert not Mandate.objects.exists()


def test_a_mandate_without_signature_date_cannot_be_used(operator, debtor):
    mandate = _mandate(operator, debtor, signed_on=None)
    assert mandate.status == MandateStatus.PENDING
    with pytest.raises(MandateError, match=r"Le mandat CASC-.* a besoin de sa date de signature"):
        activate_mandate(mandate, signed_on=None)
    mandate.refresh_from_db()
    assert mandate.status == MandateStatus.PENDING and mandate.signed_on is None
    # Not active, so nothing is announced nor collected.
    assert send_prenotifications(date(2026, 11, 2)) == 0


@pytest.mark.parametrize(("ics", "message"), [
    ("", "n’a pas d’identifiant créancier SEPA"),
    ("FR12ZZZ123456", "est faux : ses chiffres de contrôle ne correspondent pas"),
    ("12FRZZZ123", "n’a pas le format d’un ICS"),
])
def test_a_creditor_without_a_right_ics_is_refused(operator, debtor, ics, message):
    operator.sepa_creditor_id = ics
    operator.save()
    with pytest.raises(MandateError, match=message):
        _mandate(operator, debtor)
    assert not Mandate.objects.exists()


def test_a_creditor_whose_ics_became_wrong_exports_nothing(operator, debtor, inbox):
    _mandate(operator, debtor)
    send_prenotifications(date(2026, 11, 2))
    Organisation.objects.filter(pk=operator.pk).update(sepa_creditor_id="FR12ZZZ123456")
    with pytest.raises(DirectDebitError, match="chiffres de contrôle"):
        export_batch(operator, date(2026, 11, 16), today=date(2026, 11, 10))
    assert not Payment.objects.filter(source="sepa").exists() and not DirectDebit.objects.exists()


@pytest.mark.parametrize(("rum", "message"), [
    ("R" * 36, "a 36 caractères ; 35 au plus"),
    ("RUM-ÉCOLE-1", "contient des caractères que SEPA refuse"),
    ("RUM//1", "contient des caractères que SEPA refuse"),
])
def test_a_bad_rum_is_refused(operator, debtor, rum, message):
    with pytest.raises(MandateError, match=message):
        _mandate(operator, debtor, rum=rum)
    assert not Mandate.objects.exists()


def test_a_rum_is_unique_per_creditor(operator, debtor):
    _mandate(operator, debtor, rum="RUM-1")
    with pytest.raises(MandateError, match="RUM-1 est déjà utilisée"):
        _mandate(operator, debtor, rum="RUM-1")


@pytest.mark.parametrize(("day", "message"), [
    (date(2026, 11, 21), "n’est pas un jour ouvré bancaire .* le suivant est le 23/11/2026"),
    (date(2026, 11, 9), "est passée"),
])
def test_a_collection_date_must_be_a_business_day_not_past(operator, day, message):
    with pytest.raises(DirectDebitError, match=message):
        export_batch(operator, day, today=date(2026, 11, 10))


def test_the_command_refuses_clearly(site, tmp_path):
    with pytest.raises(CommandError, match="--collection-date"):
        call_command("export_sepa", "--collection-date", "2026-13-01", "--out", str(tmp_path / "b.xml"))
    with pytest.raises(CommandError, match="Nothing to collect: no organisation has an active SEPA mandate"):
        call_command("export_sepa", "--collection-date", "2027-01-04", "--out", str(tmp_path / "b.xml"))
    assert not (tmp_path / "b.xml").exists()
    assert Invoice.objects.exists()


# ---------------------------------------------------------------- pages


def test_a_manager_records_a_paper_mandate_and_sees_the_batches(site, operator, debtor, alice_client):
    url = reverse("occupant_mandates", args=[debtor.pk])
    page = alice_client.get(url).content.decode()
    assert "Mandats SEPA" in page and "Aucun mandat." in page
    response = alice_client.post(url, {"debtor_name": debtor.name, "iban": "FR76 2004 1445 0990 0434 9082 628",
                                       "signed_on": "2026-03-02"}, follow=True)
    assert "L’IBAN FR76 2004 1445 0990 0434 9082 628 n’est pas valide" in response.content.decode()
    assert not Mandate.objects.exists()
    response = alice_client.post(url, {"debtor_name": debtor.name, "iban": DEBTOR_IBAN, "rum": "PAPIER-1",
                                       "signed_on": "2026-03-02"}, follow=True)
    assert "Mandat PAPIER-1 enregistré." in response.content.decode()
    mandate = Mandate.objects.get(rum="PAPIER-1")
    assert mandate.status == MandateStatus.ACTIVE and mandate.signed_on == date(2026, 3, 2)
    with django_settings_locmem():
        send_prenotifications(date(2026, 11, 2))
    batch = export_batch(operator, date(2026, 11, 16), today=date(2026, 11, 10))
    page = alice_client.get(reverse("sepa_batches", args=[operator.pk])).content.decode()
    assert "Remises de prélèvements" in page and batch.message_id in page
    xml = alice_client.get(reverse("sepa_batch_file", args=[batch.pk]))
    assert xml["Content-Type"] == "application/xml" and pain008.validation_errors(xml.content) == []
    debited = DirectDebit.objects.filter(batch=batch).first().invoice
    page = alice_client.get(reverse("invoice", args=[debited.pk])).content.decode()
    assert f"Prélevé par prélèvement SEPA le 16/11/2026 (remise {batch.message_id}, mandat PAPIER-1)." in page
    announced = PreNotification.objects.filter(invoice__direct_debit__isnull=True).first()
    page = alice_client.get(reverse("invoice", args=[announced.invoice_id])).content.decode()
    assert (f"Prélèvement SEPA annoncé le 02/11/2026 pour le {announced.debit_on:%d/%m/%Y} (mandat PAPIER-1)."
            in page)


def test_a_mandate_sent_from_its_page_becomes_active_when_signed(site, operator, debtor, alice_client, inbox,
                                                                django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(reverse("occupant_mandates", args=[debtor.pk]), {
            "debtor_name": debtor.name, "iban": DEBTOR_IBAN, "rum": "SIGNE-1", "signer_name": "Nina Débitrice",
            "signer_email": "nina@debitrice.example.org", "signer_quality": "Titulaire du compte"})
    mandate = Mandate.objects.get(rum="SIGNE-1")
    assert mandate.status == MandateStatus.PENDING and mandate.signature_request.state == "to_sign"
    assert inbox.only("nina@debitrice.example.org")
    with django_settings_locmem():
        sign_as_demo(mandate.signature_request.signers.get())
    mandate.refresh_from_db()
    assert mandate.status == MandateStatus.ACTIVE and mandate.signed_on == timezone.localdate()
    signed = alice_client.get(reverse("mandate_pdf", args=[mandate.pk]))
    assert signed.content == mandate.signature_request.signed_document.open("rb").read()
