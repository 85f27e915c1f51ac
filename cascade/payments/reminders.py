"""Reminders of what is overdue (DESIGN.md §2: `Reminder`), sent by `cascade tick`, and disputes that stop them.

Each organisation chases its customers by its dunning plan (a default plan is created for one that has
none: day 7 a friendly e-mail, day 21 a formal one, day 45 the formal notice letter with late penalties
and the recovery fee). Which step is due is `dunning.step_due`; what a letter claims is `penalties.claim`.

`send_reminders(today)` works in two passes, like the e-mailing of invoices (billing/sending.py):
1. it records the reminders due today, one row per document and step (a unique constraint: a step is
   never recorded twice, even by two ticks at once), with the text as it will be sent;
2. it claims the recorded reminders with a conditional UPDATE and e-mails them, one message per customer
   and step (a customer late on six months gets one e-mail listing them, and one letter); a failure is
   retried (15 min, 1 h, 4 h, 12 h). A document paid or disputed before its reminder went is not chased.
Invoices and payment notices are reminded; credit notes never (they ask for nothing).
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import DecimalField, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cascade.accounts.audit import record
from cascade.accounts.models import Organisation
from cascade.billing.formatting import format_date_fr, format_eur
from cascade.billing.models import Invoice
from cascade.billing.sending import RETRY_AFTER, STALE_CLAIM, recipients

from .actions import PAYABLE, settlements
from .dunning import PLACEHOLDERS, fill, step_due, unknown_placeholders
from .models import Allocation, Dispute, DunningPlan, DunningStep, Reminder, ReminderStatus, StepKind
from .penalties import claim, is_professional

CHUNK = 500


class DunningError(Exception):
    """The plan or the dispute cannot be changed as asked; the message says why."""


def _default_steps() -> list[DunningStep]:
    # Texts in the site's language: they are the organisation's own, edited on its settings page.
    with translation.override(settings.LANGUAGE_CODE):
        return [
            DunningStep(days=7, kind=StepKind.FRIENDLY, subject=_("Reminder: {number}"),
                        body=_("Hello,\n\nUnless we are mistaken, {outstanding} remain to be paid:\n{documents}\n\n"
                               "It may be an oversight: could you see to it? If you have paid in the meantime, "
                               "please ignore this message.\n\nIBAN: {iban}, quoting {number}.\n\n{seller}")),
            DunningStep(days=21, kind=StepKind.FORMAL, subject=_("Second reminder: {number}"),
                        body=_("Hello,\n\nDespite our reminder, {outstanding} remain unpaid:\n{documents}\n\n"
                               "Please pay within 8 days or tell us what prevents it.\n\nIBAN: {iban}, quoting "
                               "{number}.\n\n{seller}")),
            DunningStep(days=45, kind=StepKind.LETTER, subject=_("Formal notice to pay: {number}"),
                        body=_("Hello,\n\nDespite our reminders, {outstanding} remain unpaid:\n{documents}\n\n"
                               "Please find attached our formal notice to pay {amount_claimed} (late penalties "
                               "{penalties}, recovery fee {recovery_fee}) within 8 days.\n\n{seller}")),
        ]


def ensure_plan(organisation: Organisation) -> DunningPlan:
    """The organisation's plan; the default one when it has none."""
    plan, created = DunningPlan.objects.get_or_create(organisation=organisation)
    if created:
        steps = _default_steps()
        for step in steps:
            step.plan = plan
        DunningStep.objects.bulk_create(steps)
    return plan


# The plan, edited by a manager ------------------------------------------------------------------------


@dataclass(frozen=True)
class StepInput:
    days: int
    kind: str
    subject: str
    body: str


SUBJECT_MAX = 200  # DunningStep.subject
BODY_MAX = 10000


@transaction.atomic
def update_plan(organisation: Organisation, *, enabled: bool, late_penalty_rate: Decimal, steps: list[StepInput],
                acting_user=None) -> DunningPlan:
    """Replace the organisation's plan; the reminders already sent keep what they said."""
    plan = DunningPlan.objects.select_for_update().get(pk=ensure_plan(organisation).pk)
    if not Decimal(0) <= late_penalty_rate <= Decimal(100):
        raise DunningError(_("The late penalty rate is a percentage between 0 and 100."))
    if late_penalty_rate != late_penalty_rate.quantize(Decimal("0.01")):
        # Not rounded: the rate printed on invoices is the one written.
        raise DunningError(_("The late penalty rate has two decimals at most (%(rate)s).") % {
            "rate": str(late_penalty_rate).replace(".", ",")})
    faults = []
    for n, step in enumerate(steps, 1):
        if step.kind not in StepKind.values:
            faults.append(_("step %(n)d: unknown kind %(kind)s") % {"n": n, "kind": step.kind})
        if not step.subject.strip() or not step.body.strip():
            faults.append(_("step %(n)d: the subject and the text are required") % {"n": n})
        if len(step.subject.strip()) > SUBJECT_MAX:
            faults.append(_("step %(n)d: subject too long (%(max)d characters at most)") % {"n": n,
                                                                                         "max": SUBJECT_MAX})
        if len(step.body.strip()) > BODY_MAX:
            faults.append(_("step %(n)d: text too long (%(max)s characters at most)") % {"n": n, "max": "10 000"})
        unknown = unknown_placeholders(step.subject + "\n" + step.body)
        if unknown:
            faults.append(_("step %(n)d: unknown placeholder %(names)s (known: %(known)s)") % {
                "n": n, "names": ", ".join("{" + u + "}" for u in unknown),
                "known": ", ".join("{" + p + "}" for p in PLACEHOLDERS)})
    days = [s.days for s in steps]
    if len(set(days)) != len(days):
        faults.append(_("two steps on the same day"))
    if faults:
        raise DunningError(" — ".join(faults))
    plan.enabled, plan.late_penalty_rate = enabled, late_penalty_rate
    plan.save(update_fields=["enabled", "late_penalty_rate"])
    plan.steps.all().delete()
    DunningStep.objects.bulk_create(DunningStep(plan=plan, days=s.days, kind=s.kind, subject=s.subject.strip(),
                                                body=s.body.strip()) for s in sorted(steps, key=lambda s: s.days))
    record("dunning.plan_updated", organisation=organisation, actor=acting_user, obj=plan, enabled=enabled,
           late_penalty_rate=str(late_penalty_rate), steps=[[s.days, s.kind] for s in sorted(steps,
                                                                                          key=lambda s: s.days)])
    return plan


# Disputes -----------------------------------------------------------------------------------------------


def open_dispute_of(invoice: Invoice) -> Dispute | None:
    return invoice.disputes.filter(closed_at__isnull=True).first()


@transaction.atomic
def dispute(invoice: Invoice, *, reason: str, acting_user=None) -> Dispute:
    """The customer contests the document: reminders stop until the dispute is lifted."""
    Invoice.objects.select_for_update().filter(pk=invoice.pk).exists()
    if invoice.kind not in PAYABLE:
        raise DunningError(_("Only an invoice or a payment notice can be disputed."))
    if not reason.strip():
        raise DunningError(_("Say why the document is disputed."))
    if open_dispute_of(invoice):
        raise DunningError(_("%(number)s is already disputed.") % {"number": invoice.number})
    found = Dispute.objects.create(invoice=invoice, reason=reason.strip()[:2000], opened_by=_user(acting_user))
    record("invoice.disputed", organisation=invoice.organisation, actor=acting_user, obj=invoice,
           number=invoice.number, reason=found.reason)
    return found


@transaction.atomic
def lift_dispute(invoice: Invoice, *, acting_user=None) -> Dispute:
    """The dispute is settled: reminders resume with the step due, never the ones skipped meanwhile."""
    Invoice.objects.select_for_update().filter(pk=invoice.pk).exists()
    found = open_dispute_of(invoice)
    if found is None:
        raise DunningError(_("%(number)s is not disputed.") % {"number": invoice.number})
    found.closed_at, found.closed_by = timezone.now(), _user(acting_user)
    found.save(update_fields=["closed_at", "closed_by"])
    record("invoice.dispute_lifted", organisation=invoice.organisation, actor=acting_user, obj=invoice,
           number=invoice.number)
    return found


def _user(acting_user):
    return acting_user if getattr(acting_user, "is_authenticated", False) else None


# The pass -------------------------------------------------------------------------------------------------


def _open_overdue(plan: DunningPlan, steps: list[DunningStep], today: date):
    """The plan's documents that may be due a step today: overdue enough, not disputed, not all steps sent,
    not settled (a first cut in SQL; settlements() says what is still owed)."""
    zero = Value(Decimal("0"), output_field=DecimalField(max_digits=14, decimal_places=2))
    # As settlements() counts them: a returned payment settles nothing; a credit note or a notice in the
    # occupant's favour lowers what the document asks.
    paid = Allocation.objects.filter(invoice=OuterRef("pk"), payment__returned_on__isnull=True).values(
        "invoice").annotate(s=Sum("amount")).values("s")
    credited = Invoice.objects.filter(corrects=OuterRef("pk"), total_incl_vat__lt=0).values(
        "corrects").annotate(s=Sum("total_incl_vat")).values("s")
    return (Invoice.objects.filter(organisation_id=plan.organisation_id, kind__in=PAYABLE, total_incl_vat__gt=0,
                                   due_date__lte=today - timedelta(days=steps[0].days))
            .exclude(pk__in=Dispute.objects.filter(closed_at__isnull=True).values("invoice_id"))
            .exclude(pk__in=Reminder.objects.filter(days__gte=steps[-1].days).values("invoice_id"))
            .annotate(paid=Coalesce(Subquery(paid), zero), credited=Coalesce(Subquery(credited), zero))
            .filter(total_incl_vat__gt=F("paid") - F("credited"))
            .select_related("organisation").order_by("pk"))


def _line(invoice: Invoice, outstanding: Decimal) -> str:
    return "– " + _("%(number)s of %(issue)s, due on %(due)s: %(outstanding)s still due") % {
        "number": invoice.number, "issue": format_date_fr(invoice.issue_date),
        "due": format_date_fr(invoice.due_date), "outstanding": format_eur(outstanding)}


def _values(rows: list[Reminder]) -> dict[str, str]:
    """The placeholders of one message: a customer's documents due the same step (the oldest first)."""
    rows = sorted(rows, key=lambda r: (r.invoice.due_date, r.invoice.number))
    oldest = rows[0].invoice
    outstanding = sum((r.outstanding for r in rows), Decimal(0))
    penalties = sum((r.penalties for r in rows), Decimal(0))
    fee = sum((r.recovery_fee for r in rows), Decimal(0))
    return {"number": ", ".join(r.invoice.number for r in rows), "customer": oldest.buyer.get("name", ""),
            "seller": oldest.seller.get("name", ""), "issue_date": format_date_fr(oldest.issue_date),
            "due_date": format_date_fr(oldest.due_date),
            "total": format_eur(sum((r.invoice.total_incl_vat for r in rows), Decimal(0))),
            "outstanding": format_eur(outstanding), "days_late": str(rows[0].days_late),
            "penalties": format_eur(penalties), "recovery_fee": format_eur(fee),
            "amount_claimed": format_eur(outstanding + penalties + fee), "iban": oldest.seller.get("iban") or "",
            "documents": "\n".join(_line(r.invoice, r.outstanding) for r in rows)}


def _due_rows(plan: DunningPlan, steps: list[DunningStep], today: date) -> list[Reminder]:
    """The plan's reminders due on `today`, one per document, texts not filled yet."""
    by_day = {s.days: s for s in steps}
    candidates = list(_open_overdue(plan, steps, today))
    rows = []
    for start in range(0, len(candidates), CHUNK):
        chunk = candidates[start:start + CHUNK]
        owed = settlements(chunk, today)
        sent = defaultdict(list)
        for invoice_id, days in Reminder.objects.filter(invoice__in=chunk).values_list("invoice_id", "days"):
            sent[invoice_id].append(days)
        for invoice in chunk:
            settlement = owed.get(invoice.pk)
            if settlement is None or settlement.outstanding <= 0:
                continue
            days_late = (today - invoice.due_date).days
            due = step_due(list(by_day), days_late, sent[invoice.pk])
            if due is None:
                continue
            owes = claim(settlement.outstanding, days_late, plan.late_penalty_rate,
                         professional=is_professional(invoice.buyer))
            rows.append(Reminder(invoice=invoice, step=by_day[due], days=due, kind=by_day[due].kind, day=today,
                                 days_late=days_late, outstanding=owes.outstanding,
                                 late_penalty_rate=plan.late_penalty_rate, penalties=owes.penalties,
                                 recovery_fee=owes.recovery_fee))
    return rows


def record_due(today: date) -> int:
    """Record the reminders due on `today` (not sent yet); how many.

    A customer's documents due the same step on the same day share one message (and one letter): a
    customer late on six months gets one e-mail listing them, not six."""
    created = 0
    for plan in DunningPlan.objects.filter(enabled=True).select_related("organisation"):
        steps = list(plan.steps.order_by("days"))
        if not steps:
            continue
        rows = _due_rows(plan, steps, today)
        groups = defaultdict(list)
        for row in rows:
            groups[row.invoice.customer_id, row.days].append(row)
        with translation.override(settings.LANGUAGE_CODE):
            for group in groups.values():
                values = _values(group)
                subject, body = fill(group[0].step.subject, values)[:300], fill(group[0].step.body, values)
                for row in group:
                    row.subject, row.body = subject, body
        # A tick running at the same time recorded the same rows: the constraint keeps one of each.
        Reminder.objects.bulk_create(rows, ignore_conflicts=True)
        created += len(rows)
    return created


def ensure_plans() -> int:
    """A default plan for each organisation that issued a payable document and has none."""
    without = (Organisation.objects.filter(dunning_plan__isnull=True,
                                           pk__in=Invoice.objects.filter(kind__in=PAYABLE).values("organisation_id"))
               .order_by("pk"))
    found = list(without)
    for organisation in found:
        ensure_plan(organisation)
    return len(found)


def _still_owed(rows: list[Reminder], today: date) -> list[Reminder]:
    """The rows whose document is still owed and not disputed."""
    invoices = [r.invoice for r in rows]
    disputed = set(Dispute.objects.filter(invoice__in=invoices, closed_at__isnull=True).values_list("invoice_id",
                                                                                                   flat=True))
    owed = settlements(invoices, today)
    return [r for r in rows if r.invoice_id not in disputed and r.invoice_id in owed
            and owed[r.invoice_id].outstanding > 0]


def _message(rows: list[Reminder], to: list[str]) -> EmailMessage:
    first = rows[0]
    seller = first.invoice.seller
    message = EmailMessage(first.subject, first.body, None, to,
                           reply_to=[seller["email"]] if seller.get("email") else None)
    if first.kind == StepKind.LETTER:
        message.attach(letter_filename(first), letter_pdf(first), "application/pdf")
    return message


@transaction.atomic
def _audit(rows: list[Reminder], action: str, **data) -> None:
    for row in rows:
        record(action, organisation=row.invoice.organisation, obj=row.invoice, number=row.invoice.number,
               step=row.days, **data)


def send_group(rows: list[Reminder], now: datetime) -> str:
    """E-mail one claimed message (a customer's documents due one step): "sent", "failed" (or no address), or
    "cancelled" when all were paid or disputed meanwhile."""
    owed = _still_owed(rows, timezone.localdate(now))
    Reminder.objects.filter(pk__in=[r.pk for r in rows if r not in owed]).update(status=ReminderStatus.CANCELLED,
                                                                                 claimed_at=None)
    rows = owed
    if not rows:
        return "cancelled"
    ids = [r.pk for r in rows]
    customer = rows[0].invoice.customer
    to = recipients(customer)
    if not to:
        Reminder.objects.filter(pk__in=ids).update(status=ReminderStatus.NO_ADDRESS, claimed_at=None,
                                                   last_error="the customer has no e-mail address")
        _audit(rows, "invoice.not_reminded", reason="no address")
        return "failed"
    try:
        _message(rows, to).send()
    except Exception as error:  # whatever the mail server or the network says, the reminder is retried
        attempts = rows[0].attempts + 1
        given_up = attempts > len(RETRY_AFTER)
        Reminder.objects.filter(pk__in=ids).update(
            attempts=attempts, claimed_at=None, last_error=str(error)[:1000],
            status=ReminderStatus.FAILED if given_up else ReminderStatus.PENDING,
            next_attempt_at=None if given_up else now + RETRY_AFTER[attempts - 1])
        _audit(rows, "invoice.remind_failed", attempt=attempts, error=str(error)[:200], to=to)
        return "failed"
    with transaction.atomic():
        Reminder.objects.filter(pk__in=ids).update(status=ReminderStatus.SENT, sent_at=now, recipients=to,
                                                   attempts=rows[0].attempts + 1, claimed_at=None, last_error="")
        for row in rows:
            record("invoice.reminded", organisation=row.invoice.organisation, obj=row.invoice,
                   number=row.invoice.number, step=row.days, kind=row.kind, outstanding=str(row.outstanding),
                   penalties=str(row.penalties), recovery_fee=str(row.recovery_fee), to=to)
    return "sent"


def send_reminders(today: date, now: datetime | None = None) -> dict[str, int]:
    """The pass of `cascade tick`: record the reminders due on `today` and e-mail what is to send, one
    message per customer and step; the counts are of messages."""
    now = now or timezone.now()
    ensure_plans()
    record_due(today)
    done = {"payment_reminders": 0, "payment_reminders_failed": 0}
    due = Reminder.objects.filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
                                  status=ReminderStatus.PENDING)
    free = Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - STALE_CLAIM)
    groups = due.values_list("invoice__organisation_id", "invoice__customer_id", "day", "days").distinct().order_by(
        "invoice__organisation_id", "invoice__customer_id", "day", "days")
    for organisation_id, customer_id, day, days in list(groups):
        mine = due.filter(invoice__organisation_id=organisation_id, invoice__customer_id=customer_id, day=day,
                          days=days)
        # The conditional UPDATE is the claim: a sender running at the same time gets none of these rows.
        if not mine.filter(free).update(claimed_at=now):
            continue
        rows = list(mine.filter(claimed_at=now).select_related("invoice__customer", "invoice__organisation")
                    .order_by("invoice__due_date", "invoice__number"))
        outcome = send_group(rows, now)
        if outcome != "cancelled":
            done["payment_reminders" if outcome == "sent" else "payment_reminders_failed"] += 1
    return done


# The formal notice letter ------------------------------------------------------------------------------------


def letter_filename(reminder: Reminder) -> str:
    return f"mise-en-demeure-{reminder.day:%Y-%m-%d}.pdf"


def letter_rows(reminder: Reminder) -> list[Reminder]:
    """The documents the letter of `reminder` claims: the customer's due the same step the same day."""
    return list(Reminder.objects.filter(
        invoice__organisation_id=reminder.invoice.organisation_id, invoice__customer_id=reminder.invoice.customer_id,
        day=reminder.day, days=reminder.days).exclude(status=ReminderStatus.CANCELLED).select_related(
        "invoice").order_by("invoice__due_date", "invoice__number"))


def letter_pdf(reminder: Reminder) -> bytes:
    """The letter's PDF; drawn when first sent (or asked) from what the reminders recorded, and kept."""
    from .documents import render_letter

    invoice = reminder.invoice
    folder = Path(settings.MEDIA_ROOT) / "reminders" / str(invoice.organisation_id)
    path = folder / f"{invoice.customer_id}-{reminder.day:%Y%m%d}-J{reminder.days}.pdf"
    if path.exists():
        return path.read_bytes()
    pdf = render_letter(letter_rows(reminder))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(pdf)
    tmp.replace(path)
    return pdf
