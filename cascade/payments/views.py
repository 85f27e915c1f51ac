from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cascade.accounts.models import BILLING_ROLES
from cascade.accounts.tenancy import get_scoped_or_404, managed_organisation_or_404
from cascade.billing.formatting import format_eur
from cascade.billing.models import Invoice
from cascade.dates import DateInputError, parse_day
from cascade.imports.cells import CellError, decimal_fr
from cascade.subscriptions.models import Subscription

from . import deposits
from .actions import PaymentError, credit_of, record_payment
from .models import Deposit


@login_required
@require_POST
def invoice_payment(request, invoice_id: int):
    """A payment received for one document: it settles it first, then the payer's oldest ones."""
    invoice = get_scoped_or_404(Invoice, request.user, paths=("organisation",), pk=invoice_id)
    managed_organisation_or_404(request.user, invoice.organisation_id, BILLING_ROLES)
    try:
        amount = decimal_fr(request.POST.get("amount", ""))
        received_on = parse_day(request.POST.get("received_on", ""))
        record_payment(invoice.organisation, invoice.customer, amount=amount, received_on=received_on,
                       means=request.POST.get("means", ""), reference=request.POST.get("reference", ""),
                       invoices=[invoice], acting_user=request.user)
    except (CellError, DateInputError, PaymentError) as error:
        messages.error(request, str(error))
        return redirect("invoice", invoice.pk)
    credit = credit_of(invoice.organisation, invoice.customer)
    message = _("Payment of %(amount)s recorded.") % {"amount": format_eur(amount)}
    if credit:
        message += " " + _("%(customer)s has a credit of %(credit)s.") % {"customer": invoice.customer.name,
                                                                          "credit": format_eur(credit)}
    messages.success(request, message)
    return redirect("invoice", invoice.pk)


def _deposit_redirect(subscription_id: int):
    return redirect(reverse("subscription", args=[subscription_id]) + "#deposit")


@login_required
@require_POST
def deposit_call(request, subscription_id: int):
    """Call the subscription's deposit now (`cascade tick` calls it on the entry day otherwise)."""
    subscription = get_scoped_or_404(Subscription, request.user, paths=("organisation",), pk=subscription_id)
    managed_organisation_or_404(request.user, subscription.organisation_id, BILLING_ROLES)
    try:
        called_on = parse_day(request.POST.get("called_on", "")) if request.POST.get("called_on") \
            else timezone.localdate()
        deposits.call_deposit(subscription, called_on=called_on, acting_user=request.user)
    except (DateInputError, deposits.DepositError) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Deposit called."))
    return _deposit_redirect(subscription.pk)


@login_required
@require_POST
def deposit_update(request, deposit_id: int):
    """Record that the deposit was received, returned, or retained (with its reason)."""
    deposit = get_scoped_or_404(Deposit, request.user, paths=("organisation",), pk=deposit_id)
    managed_organisation_or_404(request.user, deposit.organisation_id, BILLING_ROLES)
    action, post = request.POST.get("action", ""), request.POST
    try:
        day = parse_day(post.get("day", "")) if post.get("day") else timezone.localdate()
        amount = decimal_fr(post["amount"]) if post.get("amount", "").strip() else None
        if action == "receive":
            deposits.receive_deposit(deposit, received_on=day, acting_user=request.user)
            done = _("Deposit received.")
        elif action == "return":
            deposits.return_deposit(deposit, returned_on=day, amount=amount, acting_user=request.user)
            done = _("Deposit returned.")
        elif action == "retain":
            deposits.retain_deposit(deposit, retained_on=day, amount=amount, reason=post.get("reason", ""),
                                    acting_user=request.user)
            done = _("Deposit retained.")
        else:
            raise deposits.DepositError(_("Unknown action on a deposit."))
    except (CellError, DateInputError, deposits.DepositError) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return _deposit_redirect(deposit.subscription_id)
