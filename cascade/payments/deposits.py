"""Deposits (dépôt de garantie): called at entry, received, then returned or retained at exit.
One function per action, atomic and audited; the ledger posts each step (ledger.posting)."""

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from cascade.accounts.audit import record
from cascade.accounts.models import Organisation
from cascade.billing.formatting import format_eur
from cascade.subscriptions.models import Subscription, SubscriptionStatus, VersionStatus

from .models import Deposit, DepositMovement


class DepositError(Exception):
    """The deposit cannot change as asked; the message says why."""


def _cents(amount: Decimal) -> Decimal:
    if amount is None or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise DepositError(_("An amount in euros and cents, above zero, is expected; got %(amount)s.")
                           % {"amount": amount})
    return amount


@transaction.atomic
def call_deposit(subscription: Subscription, *, called_on: date, acting_user=None) -> Deposit:
    """Call the deposit the subscription's terms set (Subscription.deposit)."""
    if not subscription.deposit or subscription.deposit <= 0:
        raise DepositError(_("%(reference)s has no deposit to call.") % {"reference": subscription.reference})
    if Deposit.objects.filter(subscription=subscription).exists():
        raise DepositError(_("The deposit of %(reference)s is already called.") % {"reference": subscription.reference})
    deposit = Deposit.objects.create(organisation_id=subscription.organisation_id, subscription=subscription,
                                     amount=subscription.deposit, called_on=called_on)
    record("deposit.called", organisation=subscription.organisation, actor=acting_user, obj=deposit,
           subscription=subscription.reference, amount=str(deposit.amount), called_on=called_on.isoformat())
    return deposit


def call_due_deposits(today: date, organisation: Organisation | None = None) -> int:
    """Call the deposit of every subscription in force that has entered by `today` and has none yet, dated
    on its entry day (what `cascade tick` does, for every organisation); the number called."""
    due = (Subscription.objects.filter(deposit__gt=0, status=SubscriptionStatus.ACTIVE, deposit_record__isnull=True,
                                       versions__status=VersionStatus.IN_FORCE,
                                       **({"organisation": organisation} if organisation else {}))
           .annotate(entry=Min("versions__entry_date")).filter(entry__lte=today).select_related("organisation"))
    called = 0
    for subscription in due:
        call_deposit(subscription, called_on=subscription.entry)
        called += 1
    return called


def _locked(deposit: Deposit) -> Deposit:
    return Deposit.objects.select_for_update().select_related("subscription__organisation").get(pk=deposit.pk)


@transaction.atomic
def receive_deposit(deposit: Deposit, *, received_on: date, acting_user=None) -> Deposit:
    deposit = _locked(deposit)
    if deposit.received_on is not None:
        raise DepositError(_("This deposit was already received on %(day)s.")
                           % {"day": deposit.received_on.strftime("%d/%m/%Y")})
    deposit.received_on = received_on
    deposit.save(update_fields=["received_on"])
    record("deposit.received", organisation=deposit.organisation, actor=acting_user, obj=deposit,
           amount=str(deposit.amount), received_on=received_on.isoformat())
    return deposit


def _check_received(deposit: Deposit) -> None:
    if deposit.received_on is None:
        raise DepositError(_("The deposit has not been received: there is nothing to give back or keep."))


def _check_held(deposit: Deposit, amount: Decimal) -> None:
    if amount > deposit.held:
        raise DepositError(_("Only %(held)s of the deposit is still held.") % {"held": format_eur(deposit.held)})


def _check_day(deposit: Deposit, day: date, today: date | None = None) -> date:
    today = today or timezone.localdate()
    if day < deposit.received_on:
        raise DepositError(_("The deposit was received on %(day)s: it cannot be given back or kept before.")
                           % {"day": deposit.received_on.strftime("%d/%m/%Y")})
    if day > today:
        raise DepositError(_("%(day)s is in the future: record what was given back or kept once done.")
                           % {"day": day.strftime("%d/%m/%Y")})
    return day


def _move(deposit: Deposit, kind: str, day: date, amount: Decimal, reason: str = "") -> DepositMovement:
    """One movement, and the deposit's totals and last days brought up to date."""
    movement = DepositMovement.objects.create(deposit=deposit, kind=kind, day=day, amount=amount, reason=reason)
    if kind == DepositMovement.RETURNED:
        deposit.returned_on, deposit.returned_amount = day, deposit.returned_amount + amount
        deposit.save(update_fields=["returned_on", "returned_amount"])
    else:
        reasons = [r for r in (deposit.retained_reason, reason) if r]
        deposit.retained_on, deposit.retained_amount = day, deposit.retained_amount + amount
        deposit.retained_reason = " ; ".join(reasons)
        deposit.save(update_fields=["retained_on", "retained_amount", "retained_reason"])
    return movement


@transaction.atomic
def return_deposit(deposit: Deposit, *, returned_on: date, amount: Decimal | None = None,
                   acting_user=None) -> Deposit:
    """Give back what is held (all of it unless `amount` says otherwise); several returns may follow one
    another until nothing is held."""
    deposit = _locked(deposit)
    _check_received(deposit)
    if deposit.held <= 0:
        raise DepositError(_("Nothing of this deposit is held any more."))
    _check_day(deposit, returned_on)
    amount = _cents(deposit.held if amount is None else amount)
    _check_held(deposit, amount)
    _move(deposit, DepositMovement.RETURNED, returned_on, amount)
    record("deposit.returned", organisation=deposit.organisation, actor=acting_user, obj=deposit,
           amount=str(amount), returned_on=returned_on.isoformat(), held=str(deposit.held))
    return deposit


@transaction.atomic
def retain_deposit(deposit: Deposit, *, retained_on: date, amount: Decimal, reason: str,
                   acting_user=None) -> Deposit:
    """Keep part or all of what is held, for a reason the occupant is told (repairs, unpaid sums); as many
    times as needed, before or after returning a part, until nothing is held."""
    deposit = _locked(deposit)
    reason = " ".join((reason or "").split())
    if not reason:
        raise DepositError(_("Say why the deposit is retained: the reason is required."))
    _check_received(deposit)
    if deposit.held <= 0:
        raise DepositError(_("Nothing of this deposit is held any more."))
    _check_day(deposit, retained_on)
    amount = _cents(amount)
    _check_held(deposit, amount)
    _move(deposit, DepositMovement.RETAINED, retained_on, amount, reason)
    record("deposit.retained", organisation=deposit.organisation, actor=acting_user, obj=deposit,
           amount=str(amount), reason=reason, retained_on=retained_on.isoformat(), held=str(deposit.held))
    return deposit
