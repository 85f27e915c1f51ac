from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from cascade.accounts.models import BILLING_ROLES, Organisation
from cascade.accounts.tenancy import get_scoped_or_404, managed_organisation_or_404, role_in, scoped
from cascade.billing.formatting import format_eur
from cascade.billing.models import Invoice
from cascade.dates import DateInputError, parse_day
from cascade.imports.cells import CellError, decimal_fr, normalise
from cascade.params import parse_id
from cascade.places.views import _operator_or_404

from .actions import PaymentError, credit_of, record_payment
from .models import BankStatement, LineStatus, StatementLine
from .statements import StatementImportError, confirm_line, dismiss_line, import_statement, proposals

PENDING = (LineStatus.PROPOSED, LineStatus.UNMATCHED)


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


# Larger than any monthly statement of a small operator's account; refused before it is read.
MAX_STATEMENT_BYTES = 20 * 1024 * 1024


@login_required
def statements(request, org_id: int):
    """The organisation's imported bank statements, and the form to import one."""
    operator = _operator_or_404(request, org_id)
    found = (scoped(BankStatement, request.user).filter(organisation=operator)
             .annotate(n_lines=Count("lines"),
                       n_pending=Count("lines", filter=Q(lines__status__in=PENDING, lines__amount__gt=0)),
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
        message = _("%(lines)s lines imported: %(matched)s of %(credits)s credits matched automatically "
                    "(%(rate)s %%), %(pending)s to confirm.") % {
            "lines": s["lines"], "matched": s["matched_automatically"], "credits": s["credits"],
            "rate": number_format(Decimal(s["match_rate"]), 1), "pending": s["proposed"] + s["unmatched"]}
        if s["returned"]:
            message += " " + ngettext("%(n)s direct debit returned: its invoice is open again.",
                                      "%(n)s direct debits returned: their invoices are open again.",
                                      s["returned"]) % {"n": s["returned"]}
        messages.success(request, message)
    return redirect("statement", result.statement.pk)


@login_required
def statement_detail(request, statement_id: int):
    """A statement's lines with what each became; the credits no rule matched, with their best candidates."""
    statement = get_scoped_or_404(BankStatement.objects.select_related("organisation"), request.user,
                                  pk=statement_id)
    lines = list(statement.lines.select_related("payment", "payment__payer").prefetch_related(
        "payment__allocations__invoice"))
    can_manage = role_in(request.user, statement.organisation_id) in BILLING_ROLES
    pending = [line for line in lines if line.status in PENDING and line.amount > 0]
    payers = sorted(Organisation.objects.filter(operator=statement.organisation), key=lambda o: normalise(o.name))
    found = proposals(pending, timezone.localdate())
    for line in pending:
        line.candidates = found[line.pk]
    # The same list of payers under each line to confirm: rendered once.
    payer_options = format_html_join("", '<option value="{}">{}</option>', ((p.pk, p.name) for p in payers))
    return render(request, "payments/statement_detail.html", {
        "statement": statement, "lines": lines, "pending": pending, "can_manage": can_manage,
        "payer_options": payer_options})


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
