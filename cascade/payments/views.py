from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cascade.accounts.models import BILLING_ROLES
from cascade.accounts.tenancy import get_scoped_or_404, managed_organisation_or_404
from cascade.billing.formatting import format_eur
from cascade.billing.models import Invoice
from cascade.dates import DateInputError, parse_day
from cascade.imports.cells import CellError, decimal_fr

from .actions import PaymentError, credit_of, record_payment


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
