from datetime import timedelta
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import format_html_join
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from cascade.accounts.models import BILLING_ROLES, MANAGE_ROLES, Organisation
from cascade.accounts.tenancy import get_scoped_or_404, managed_organisation_or_404, role_in, scoped
from cascade.billing.formatting import format_eur
from cascade.billing.models import Invoice
from cascade.dates import DateInputError, parse_day
from cascade.imports.cells import CellError, decimal_fr, normalise
from cascade.params import parse_id
from cascade.places.views import _operator_or_404
from cascade.signing.actions import SignerSpec
from cascade.signing.models import Party
from cascade.subscriptions.models import Subscription

from . import deposits, mandates
from .actions import STATES, PaymentError, check_received_on, credit_of, record_payment, settlements
from .documents import render_statement
from .dunning import PLACEHOLDERS
from .models import (
    BankStatement,
    Deposit,
    DirectDebitBatch,
    LineStatus,
    Mandate,
    Payment,
    Reminder,
    StatementLine,
    StepKind,
)
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
from .statements import StatementImportError, confirm_line, dismiss_line, import_statement, proposals

PENDING = (LineStatus.PROPOSED, LineStatus.UNMATCHED)


def _problem(error: Exception) -> str:
    """What is wrong with a field typed on a page, in the page's language."""
    if isinstance(error, CellError):
        return _(error.problem)  # the problem texts are in the catalogue (cascade/imports/cells.py)
    if isinstance(error, DateInputError):
        return _("“%(value)s” is not a date.") % {"value": error.text}
    return str(error)


@login_required
@require_POST
def invoice_payment(request, invoice_id: int):
    """A payment received for one document: it settles it first, then the payer's oldest ones."""
    invoice = get_scoped_or_404(Invoice, request.user, paths=("organisation",), pk=invoice_id)
    managed_organisation_or_404(request.user, invoice.organisation_id, BILLING_ROLES)
    try:
        amount = decimal_fr(request.POST.get("amount", ""))
        received_on = check_received_on(parse_day(request.POST.get("received_on", "")), timezone.localdate())
        record_payment(invoice.organisation, invoice.customer, amount=amount, received_on=received_on,
                       means=request.POST.get("means", ""), reference=request.POST.get("reference", ""),
                       invoices=[invoice], allow_credit=request.POST.get("allow_credit") == "1",
                       acting_user=request.user)
    except (CellError, DateInputError, PaymentError) as error:
        messages.error(request, _problem(error))
        return redirect("invoice", invoice.pk)
    credit = credit_of(invoice.organisation, invoice.customer)
    message = _("Payment of %(amount)s recorded.") % {"amount": format_eur(amount)}
    if credit:
        message += " " + _("%(customer)s has a credit of %(credit)s.") % {"customer": invoice.customer.name,
                                                                          "credit": format_eur(credit)}
    messages.success(request, message)
    return redirect("invoice", invoice.pk)


# ---------------------------------------------------------------- SEPA mandates and batches


def _member_of(request, org_id: int) -> Organisation:
    """An organisation the user is a member of (any role reads), 404 otherwise."""
    return get_scoped_or_404(Organisation, request.user, paths=("pk",), pk=org_id)


@login_required
def occupant_mandates(request, org_id: int):
    """An occupant's SEPA mandates, seen by its operator's members; a manager adds one (signed on
    paper, or sent for signature)."""
    occupant = get_scoped_or_404(Organisation, request.user, pk=org_id)
    if occupant.operator_id is None:
        raise Http404
    operator = _member_of(request, occupant.operator_id)
    can_manage = role_in(request.user, operator.pk) in MANAGE_ROLES
    if request.method == "POST":
        if not can_manage:
            raise Http404
        return _create_mandate(request, operator, occupant)
    return render(request, "payments/mandates.html", {
        "occupant": occupant, "operator": operator, "can_manage": can_manage,
        "mandates": Mandate.objects.filter(creditor=operator, debtor=occupant).select_related("signature_request"),
        "default_signer": occupant.contact_name or occupant.representative, "today": timezone.localdate()})


def _create_mandate(request, operator: Organisation, occupant: Organisation):
    post = request.POST
    try:
        signed_on = parse_day(post["signed_on"]) if post.get("signed_on", "").strip() else None
        with transaction.atomic():
            mandate = mandates.create_mandate(
                operator, occupant, iban=post.get("iban", ""), bic=post.get("bic", ""), rum=post.get("rum", ""),
                debtor_name=post.get("debtor_name", ""), recurrent=post.get("recurrent", "1") == "1",
                signed_on=signed_on, acting_user=request.user)
            if signed_on is None:
                signer = SignerSpec(post.get("signer_name", "").strip(), post.get("signer_email", "").strip(),
                                    Party.OCCUPANT, post.get("signer_quality", "").strip(), occupant)
                mandates.send_for_signature(mandate, signer, acting_user=request.user)
    except (DateInputError, mandates.MandateError) as error:
        messages.error(request, _problem(error))
    else:
        messages.success(request, _("Mandate %(rum)s recorded.") % {"rum": mandate.rum} if signed_on else
                         _("Mandate %(rum)s sent for signature.") % {"rum": mandate.rum})
    return redirect("occupant_mandates", occupant.pk)


@login_required
@require_POST
def mandate_activate(request, mandate_id: int):
    """A mandate signed on paper: its signature date makes it active."""
    mandate = get_scoped_or_404(Mandate, request.user, paths=("creditor",), pk=mandate_id)
    managed_organisation_or_404(request.user, mandate.creditor_id, MANAGE_ROLES)
    try:
        raw = request.POST.get("signed_on", "").strip()
        mandates.activate_mandate(mandate, signed_on=parse_day(raw) if raw else None, acting_user=request.user)
    except (DateInputError, mandates.MandateError) as error:
        messages.error(request, _problem(error))
    return redirect("occupant_mandates", mandate.debtor_id)


@login_required
@require_POST
def mandate_revoke(request, mandate_id: int):
    mandate = get_scoped_or_404(Mandate, request.user, paths=("creditor",), pk=mandate_id)
    managed_organisation_or_404(request.user, mandate.creditor_id, MANAGE_ROLES)
    try:
        mandate = mandates.revoke_mandate(mandate, on=timezone.localdate(),
                                          final_debit=request.POST.get("final") == "1", acting_user=request.user)
    except mandates.MandateError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Mandate %(rum)s will end after its last debit, of the documents already "
                                    "announced.") % {"rum": mandate.rum} if mandate.final_requested
                         else _("Mandate %(rum)s revoked: it will not be debited any more.") % {"rum": mandate.rum})
    return redirect("occupant_mandates", mandate.debtor_id)


@login_required
def mandate_pdf(request, mandate_id: int):
    """The mandate's PDF: the signed one when signed through Cascade, else as drawn now."""
    mandate = get_scoped_or_404(Mandate, request.user, pk=mandate_id)
    sig = mandate.signature_request
    if sig and sig.signed_document:
        with sig.signed_document.open("rb") as f:
            pdf = f.read()
    else:
        pdf = mandates.mandate_pdf(mandate)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="mandat-{slugify(mandate.rum)}.pdf"'
    return response


@login_required
def sepa_batches(request, org_id: int):
    operator = _member_of(request, org_id)
    batches = DirectDebitBatch.objects.filter(organisation=operator)
    return render(request, "payments/batches.html", {
        "operator": operator, "batches": batches,
        "mandates": Mandate.objects.filter(creditor=operator).select_related("debtor").order_by("debtor__name")})


@login_required
def sepa_batch_file(request, batch_id: int):
    batch = get_scoped_or_404(DirectDebitBatch, request.user, pk=batch_id)
    with batch.file.open("rb") as f:
        response = HttpResponse(f.read(), content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{batch.message_id}.xml"'
    return response


# Larger than any monthly statement of a small operator's account; refused before it is read.
MAX_STATEMENT_BYTES = 20 * 1024 * 1024


@login_required
def statements(request, org_id: int):
    """The organisation's imported bank statements, and the form to import one."""
    operator = _operator_or_404(request, org_id)
    found = (scoped(BankStatement, request.user).filter(organisation=operator)
             .annotate(n_lines=Count("lines"),
                       n_pending=Count("lines", filter=Q(lines__status__in=PENDING, lines__amount__gt=0) | Q(
                           lines__status=LineStatus.UNMATCHED, lines__amount__lt=0)),
                       n_matched=Count("lines", filter=Q(lines__status=LineStatus.MATCHED))))
    return render(request, "payments/statements.html", {
        "operator": operator, "statements": found,
        "can_manage": role_in(request.user, operator.pk) in BILLING_ROLES})


@login_required
@require_POST
def statement_upload(request, org_id: int):
    operator = _operator_or_404(request, org_id)
    managed_organisation_or_404(request.user, operator.pk, BILLING_ROLES)
    upload = request.FILES.get("statement")
    if upload is None:
        messages.error(request, _("Choose a CAMT.053 or OFX file."))
        return redirect("statements", operator.pk)
    if upload.size > MAX_STATEMENT_BYTES:
        messages.error(request, _("This file is larger than 20 MB: it is not a bank statement."))
        return redirect("statements", operator.pk)
    try:
        result = import_statement(upload.read(), operator, file_name=upload.name, acting_user=request.user)
    except StatementImportError as error:
        for fault in error.faults:
            messages.error(request, fault)
        return redirect("statements", operator.pk)
    if result.already_imported:
        messages.info(request, _("This statement was already imported: nothing changed."))
    else:
        s = result.summary()
        message = ngettext("%(lines)s line imported: %(matched)s of %(credits)s credits matched automatically "
                           "(%(rate)s %%), %(pending)s to confirm.",
                           "%(lines)s lines imported: %(matched)s of %(credits)s credits matched automatically "
                           "(%(rate)s %%), %(pending)s to confirm.", s["lines"]) % {
            "lines": s["lines"], "matched": s["matched_automatically"], "credits": s["credits"],
            "rate": number_format(Decimal(s["match_rate"]), 1),
            "pending": s["proposed"] + s["unmatched"] - s["unmatched_returns"]}
        if s["returned"]:
            message += " " + ngettext("%(n)s direct debit returned: its invoice is open again.",
                                      "%(n)s direct debits returned: their invoices are open again.",
                                      s["returned"]) % {"n": s["returned"]}
        if s["unmatched_returns"]:
            message += " " + ngettext("%(n)s returned direct debit names no payment recorded: see below.",
                                      "%(n)s returned direct debits name no payment recorded: see below.",
                                      s["unmatched_returns"]) % {"n": s["unmatched_returns"]}
        messages.success(request, message)
    return redirect("statement", result.statement.pk)


@login_required
def statement_detail(request, statement_id: int):
    """A statement's lines with what each became; the credits no rule matched, with their best candidates."""
    statement = get_scoped_or_404(BankStatement.objects.select_related("organisation"), request.user,
                                  pk=statement_id)
    lines = list(statement.lines.select_related("payment", "payment__payer", "direct_debit_batch").prefetch_related(
        "payment__allocations__invoice"))
    can_manage = role_in(request.user, statement.organisation_id) in BILLING_ROLES
    pending = [line for line in lines if line.status in PENDING and line.amount > 0]
    unmatched_returns = [line for line in lines if line.status == LineStatus.UNMATCHED and line.amount < 0]
    payers = sorted(Organisation.objects.filter(operator=statement.organisation), key=lambda o: normalise(o.name))
    found = proposals(pending, timezone.localdate())
    for line in pending:
        line.candidates = found[line.pk]
    # The same list of payers under each line to confirm: rendered once.
    payer_options = format_html_join("", '<option value="{}">{}</option>', ((p.pk, p.name) for p in payers))
    return render(request, "payments/statement_detail.html", {
        "statement": statement, "lines": lines, "pending": pending, "can_manage": can_manage,
        "payer_options": payer_options, "unmatched_returns": unmatched_returns})


@login_required
@require_POST
def statement_line_confirm(request, line_id: int):
    """The operator says what a line pays: one of the documents proposed, or a payer's account."""
    line = get_scoped_or_404(StatementLine, request.user, pk=line_id)
    managed_organisation_or_404(request.user, line.organisation_id, BILLING_ROLES)
    invoice = Invoice.objects.filter(organisation=line.organisation, pk=parse_id(request.POST.get("invoice"))).first()
    payer = Organisation.objects.filter(operator=line.organisation, pk=parse_id(request.POST.get("payer"))).first()
    try:
        payment = confirm_line(line, invoices=[invoice] if invoice else [], payer=None if invoice else payer,
                               acting_user=request.user)
    except PaymentError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Payment of %(amount)s recorded for %(payer)s.") % {
            "amount": format_eur(payment.amount), "payer": payment.payer.name})
    return redirect("statement", line.statement_id)


@login_required
@require_POST
def statement_line_dismiss(request, line_id: int):
    line = get_scoped_or_404(StatementLine, request.user, pk=line_id)
    managed_organisation_or_404(request.user, line.organisation_id, BILLING_ROLES)
    try:
        dismiss_line(line, acting_user=request.user)
    except PaymentError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Line dismissed: it pays no document."))
    return redirect("statement", line.statement_id)


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
            messages.error(request, _problem(error))
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
        messages.warning(request, _problem(error))
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
        messages.error(request, _problem(error))
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
        messages.error(request, _problem(error))
    else:
        messages.success(request, done)
    return _deposit_redirect(deposit.subscription_id)
