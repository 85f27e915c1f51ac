"""Direct debits: the pre-notification e-mail, then the batch of one collection date.

- `send_prenotifications` (`cascade tick`): each open document of a debtor with an active mandate
  (due on or after the mandate's signature) is announced once by e-mail: amount, date of debit,
  RUM and ICS. The debit date is the document's due date, but never earlier than the
  organisation's notice (14 days by default) after the e-mail, moved to the next bank business day.
- `export_batch` (`cascade export_sepa`): the pain.008 of the documents announced for a collection
  date at least that notice after their e-mail; each debit is recorded as a payment of the
  document it collects (reminders stop, the document shows paid; a return read from a bank
  statement reverses it, found by its reference, the EndToEndId), and moves its mandate on
  (FRST → RCUR). A document is never in two batches.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from cascade.accounts.audit import record
from cascade.accounts.models import Organisation
from cascade.billing.formatting import format_date_fr, format_eur
from cascade.billing.models import Invoice
from cascade.billing.sending import recipients

from . import pain008
from .actions import open_documents, record_payment, settlements
from .mandates import MandateError, check_creditor, checked_iban
from .models import DirectDebit, DirectDebitBatch, Mandate, MandateStatus, Means, PreNotification, SequenceType
from .sepa import add_months, has_latin_letter, is_business_day, next_business_day

SOURCE = "sepa"


class DirectDebitError(Exception):
    """The batch cannot be made as asked; the message says why."""


def debit_date(due_date: date, sent_on: date, notice_days: int) -> date:
    return next_business_day(max(due_date, sent_on + timedelta(days=notice_days)))


def send_prenotifications(today: date) -> int:
    """Announce each document to debit that was not announced yet; returns how many e-mails."""
    sent = 0
    mandates = Mandate.objects.filter(status=MandateStatus.ACTIVE).select_related("creditor", "debtor")
    for mandate in mandates.order_by("pk"):
        to = recipients(mandate.debtor)
        if not to:
            continue  # never debited without being told: the debtor needs an e-mail address first
        for invoice, settlement in open_documents(mandate.creditor, mandate.debtor, today):
            if invoice.due_date < mandate.signed_on:
                continue
            if PreNotification.objects.filter(invoice=invoice).exists() or \
                    DirectDebit.objects.filter(invoice=invoice).exists():
                continue
            try:
                with transaction.atomic():
                    notice = PreNotification.objects.create(
                        invoice=invoice, mandate=mandate, amount=settlement.outstanding, sent_on=today,
                        debit_on=debit_date(invoice.due_date, today, mandate.creditor.sepa_prenotification_days),
                        recipients=to)
                    record("mandate.prenotified", organisation=mandate.creditor, obj=notice, invoice=invoice.number,
                           amount=str(notice.amount), debit_on=notice.debit_on.isoformat(), rum=mandate.rum)
                    _mail(notice)  # once committed
            except IntegrityError:
                continue  # announced by a pass running at the same time (one notice per document)
            sent += 1
    return sent


def _mail(notice: PreNotification) -> None:
    mandate = notice.mandate
    context = {"notice": notice, "mandate": mandate, "creditor": mandate.creditor.name,
               "ics": mandate.creditor.sepa_creditor_id, "number": notice.invoice.number,
               "amount": format_eur(notice.amount), "date": format_date_fr(notice.debit_on),
               "iban_end": mandate.iban[-4:]}
    subject = " ".join(render_to_string("payments/email/prenotification_subject.txt", context).split())
    body = render_to_string("payments/email/prenotification.txt", context)
    message = EmailMessage(subject, body, None, notice.recipients)
    transaction.on_commit(message.send)


@dataclass(frozen=True)
class Candidate:
    notice: PreNotification
    invoice: Invoice
    amount: Decimal


def _candidates(organisation: Organisation, collection_date: date) -> list[Candidate]:
    notice_days = organisation.sepa_prenotification_days
    notices = list(PreNotification.objects.filter(
        mandate__creditor=organisation, mandate__status=MandateStatus.ACTIVE, invoice__direct_debit__isnull=True,
        debit_on__lte=collection_date, sent_on__lte=collection_date - timedelta(days=notice_days),
    ).select_related("invoice", "mandate__debtor").order_by("mandate__rum", "invoice__issue_date", "invoice__number"))
    found = settlements([n.invoice for n in notices], collection_date)
    return [Candidate(n, n.invoice, found[n.invoice_id].outstanding) for n in notices
            if n.invoice_id in found and found[n.invoice_id].outstanding > 0]


def check_collection_date(collection_date: date, today: date) -> None:
    if collection_date < today:
        raise DirectDebitError(_("The collection date %(date)s is past: choose today or a later day.")
                               % {"date": format_date_fr(collection_date)})
    if collection_date > add_months(today, 12):
        raise DirectDebitError(_("The collection date %(date)s is more than a year ahead: choose a day until "
                                 "%(limit)s at the latest.") % {"date": format_date_fr(collection_date),
                                                  "limit": format_date_fr(add_months(today, 12))})
    if not is_business_day(collection_date):
        raise DirectDebitError(_("The collection date %(date)s is not a bank business day (week-end or TARGET "
                                 "holiday); the next one is %(next)s.") % {
            "date": format_date_fr(collection_date), "next": format_date_fr(next_business_day(collection_date))})


def _creditor(organisation: Organisation) -> pain008.Creditor:
    try:
        ics = check_creditor(organisation)
        if not organisation.iban.strip():
            raise MandateError(_("%(org)s has no IBAN to receive the debits.") % {"org": organisation.name})
        iban = checked_iban(organisation.iban)
    except MandateError as error:
        raise DirectDebitError(str(error)) from None
    try:
        bic = str(iban.bic) if iban.bic else ""
    except ValueError:
        bic = ""
    return pain008.Creditor(organisation.name, iban.compact, bic, ics)


@transaction.atomic
def export_batch(organisation: Organisation, collection_date: date, *, today: date | None = None,
                 acting_user=None) -> DirectDebitBatch:
    """The batch of what can be collected on `collection_date`, its file, and a payment per debit."""
    today = today or timezone.localdate()
    # One batch at a time per organisation: a document cannot slip into two.
    Organisation.objects.select_for_update().filter(pk=organisation.pk).exists()
    organisation.refresh_from_db()
    check_collection_date(collection_date, today)
    creditor = _creditor(organisation)
    candidates = _candidates(organisation, collection_date)
    if not candidates:
        raise DirectDebitError(_("Nothing to collect on %(date)s: no document of a debtor with an active mandate "
                                 "was announced at least %(days)s days before that date.")
                               % {"date": format_date_fr(collection_date),
                                  "days": organisation.sepa_prenotification_days})
    batch = DirectDebitBatch.objects.create(
        organisation=organisation, message_id=f"tmp-{organisation.pk}-{timezone.now().timestamp()}",
        collection_date=collection_date, control_sum=sum(c.amount for c in candidates), count=len(candidates),
        created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None)
    batch.message_id = f"CASCADE-{organisation.pk}-{collection_date:%Y%m%d}-{batch.pk:06d}"
    debits, sequences = [], {}
    for candidate in candidates:
        mandate = candidate.notice.mandate
        if not has_latin_letter(mandate.debtor_name):
            raise DirectDebitError(_("Mandate %(rum)s: the account holder’s name “%(name)s” has no Latin letter "
                                     "(SEPA character set); correct it on the mandate (revoke it and record it "
                                     "again) before collecting %(number)s.") % {
                "rum": mandate.rum, "name": mandate.debtor_name, "number": candidate.invoice.number})
        sequence = sequences.setdefault(mandate.pk, mandate.next_sequence)
        debits.append(pain008.Debit(
            end_to_end_id=candidate.invoice.number, amount=candidate.amount, sequence_type=sequence, rum=mandate.rum,
            signed_on=mandate.signed_on, debtor_name=mandate.debtor_name, iban=mandate.iban, bic=mandate.bic,
            remittance=f"{organisation.name} {candidate.invoice.number}"))
    xml = pain008.build(batch.message_id, timezone.localtime().replace(tzinfo=None), collection_date, creditor,
                        debits)
    batch.file.save(f"{batch.message_id}.xml", ContentFile(xml), save=False)
    batch.save(update_fields=["message_id", "file"])
    for candidate, debit in zip(candidates, debits, strict=True):
        mandate = candidate.notice.mandate
        payment = record_payment(organisation, mandate.debtor, amount=debit.amount, received_on=collection_date,
                                 means=Means.DIRECT_DEBIT, reference=debit.end_to_end_id, invoices=[candidate.invoice],
                                 source=SOURCE, allow_credit=True, acting_user=acting_user)
        DirectDebit.objects.create(batch=batch, invoice=candidate.invoice, mandate=mandate, amount=debit.amount,
                                   end_to_end_id=debit.end_to_end_id, sequence_type=debit.sequence_type,
                                   payment=payment)
    for mandate_pk, sequence in sequences.items():
        changes = {"last_debit_on": collection_date}
        if sequence == SequenceType.FINAL:
            changes.update(status=MandateStatus.REVOKED, ended_on=collection_date)
        elif sequence == SequenceType.ONE_OFF:
            changes.update(status=MandateStatus.USED, ended_on=collection_date)
        Mandate.objects.filter(pk=mandate_pk).update(**changes)
    record("sepa.batch_exported", organisation=organisation, actor=acting_user, obj=batch,
           message_id=batch.message_id, collection_date=collection_date.isoformat(),
           control_sum=str(batch.control_sum), count=batch.count)
    return batch
