from datetime import timedelta
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cascade.accounts.models import BILLING_ROLES, Organisation
from cascade.accounts.tenancy import get_scoped_or_404, managed_organisation_or_404
from cascade.billing.formatting import format_eur
from cascade.billing.models import Invoice
from cascade.dates import DateInputError, parse_day
from cascade.imports.cells import CellError, decimal_fr
from cascade.places.views import _operator_or_404

from .actions import STATES, PaymentError, credit_of, record_payment, settlements
from .documents import render_statement
from .dunning import PLACEHOLDERS
from .models import Payment, Reminder, StepKind
from .reminders import (
    DunningError,
    StepInput,
    dispute,
    ensure_plan,
    letter_filename,
    letter_pdf,
    lift_dispute,
    update_plan,
)
from .statement import balance, statement_of


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


# Reminders and disputes ---------------------------------------------------------------------------------


@login_required
def reminder_pdf(request, reminder_id: int):
    """The formal notice letter a reminder sent, for the seller and for the customer."""
    reminder = get_scoped_or_404(Reminder.objects.select_related("invoice"), request.user, pk=reminder_id)
    if reminder.kind != StepKind.LETTER:
        raise Http404
    response = HttpResponse(letter_pdf(reminder), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{letter_filename(reminder)}"'
    return response


@login_required
@require_POST
def invoice_dispute(request, invoice_id: int):
    """A manager marks the document disputed (with the reason), or lifts the dispute."""
    invoice = get_scoped_or_404(Invoice, request.user, paths=("organisation",), pk=invoice_id)
    managed_organisation_or_404(request.user, invoice.organisation_id, BILLING_ROLES)
    try:
        if request.POST.get("lift"):
            lift_dispute(invoice, acting_user=request.user)
            messages.success(request, _("The dispute is lifted: reminders resume with the step due."))
        else:
            dispute(invoice, reason=request.POST.get("reason", ""), acting_user=request.user)
            messages.success(request, _("%(number)s is disputed: no reminder goes until the dispute is lifted.")
                             % {"number": invoice.number})
    except DunningError as error:
        messages.error(request, str(error))
    return redirect("invoice", invoice.pk)


def _steps_posted(post) -> list[StepInput]:
    """The steps of the plan form, rows without a day ignored; a day that is no number is an error."""
    steps, rows = [], post.get("rows", "")
    for n in range(1, min(int(rows), 20) + 1 if rows.isdigit() else 1):
        days = post.get(f"days_{n}", "").strip()
        if not days:
            continue
        if not days.isdigit() or int(days) > 3650:
            raise DunningError(_("step %(n)d: the day is a number of days after the due date") % {"n": n})
        steps.append(StepInput(int(days), post.get(f"kind_{n}", ""), post.get(f"subject_{n}", ""),
                               post.get(f"body_{n}", "")))
    return steps


@login_required
def dunning_plan(request, org_id: int):
    """The organisation's dunning plan: its steps, their texts, the late penalty rate."""
    organisation = _operator_or_404(request, org_id)
    managed_organisation_or_404(request.user, organisation.pk, BILLING_ROLES)
    plan = ensure_plan(organisation)
    if request.method == "POST":
        try:
            rate = decimal_fr(request.POST.get("late_penalty_rate", ""))
            update_plan(organisation, enabled=bool(request.POST.get("enabled")), late_penalty_rate=rate,
                        steps=_steps_posted(request.POST), acting_user=request.user)
        except (CellError, DunningError) as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The dunning plan is saved."))
            return redirect("dunning_plan", organisation.pk)
    steps = list(plan.steps.all())
    return render(request, "payments/dunning_plan.html", {
        "operator": organisation, "plan": plan, "steps": steps, "blank": range(len(steps) + 1, len(steps) + 3),
        "rows": len(steps) + 2, "kinds": StepKind.choices, "placeholders": PLACEHOLDERS})


# A customer's account -----------------------------------------------------------------------------------------


def _account_or_404(request, org_id: int) -> tuple[Organisation, Organisation]:
    """The customer (seen by its operator's people and its own) and the operator its account is with."""
    customer = get_scoped_or_404(Organisation, request.user, pk=org_id)
    if customer.operator_id is None:
        raise Http404
    return customer, customer.operator


def _period(request, today) -> tuple:
    """[start, end) from the inclusive dates of the form; the year so far by default."""
    try:
        start = parse_day(request.GET["start"]) if request.GET.get("start") else today.replace(month=1, day=1)
        last = parse_day(request.GET["end"]) if request.GET.get("end") else today
    except DateInputError as error:
        messages.warning(request, str(error))
        start, last = today.replace(month=1, day=1), today
    if last < start:
        start, last = last, start
    return start, last + timedelta(days=1)


@login_required
def occupant_account(request, org_id: int):
    """Documents, payments, credit and balance of a customer with its operator."""
    customer, operator = _account_or_404(request, org_id)
    today = timezone.localdate()
    documents = list(Invoice.objects.filter(organisation=operator, customer=customer).order_by("-issue_date",
                                                                                                 "-number"))
    found = settlements(documents, today)
    rows = [(d, found.get(d.pk), STATES[found[d.pk].state] if d.pk in found else None) for d in documents]
    start, end = _period(request, today)
    return render(request, "payments/account.html", {
        "customer": customer, "operator": operator, "rows": rows,
        "payments": Payment.objects.filter(organisation=operator, payer=customer).order_by("-received_on", "-pk"),
        "credit": credit_of(operator, customer), "balance": balance(operator, customer),
        "outstanding": sum((s.outstanding for s in found.values()), Decimal("0.00")),
        "start": start, "last": end - timedelta(days=1)})


@login_required
def occupant_statement(request, org_id: int):
    """The statement of account (PDF) over the dates asked."""
    customer, operator = _account_or_404(request, org_id)
    today = timezone.localdate()
    start, end = _period(request, today)
    pdf = render_statement(statement_of(operator, customer, start, end, today))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="releve-{customer.slug}-{start:%Y%m%d}-{end:%Y%m%d}.pdf"'
    return response
