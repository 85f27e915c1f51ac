from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cascade.accounts.models import BILLING_ROLES, MANAGE_ROLES, Organisation
from cascade.accounts.tenancy import get_scoped_or_404, managed_organisation_or_404, role_in
from cascade.billing.formatting import format_eur
from cascade.billing.models import Invoice
from cascade.dates import DateInputError, parse_day
from cascade.imports.cells import CellError, decimal_fr
from cascade.signing.actions import SignerSpec
from cascade.signing.models import Party

from . import mandates
from .actions import PaymentError, credit_of, record_payment
from .models import DirectDebitBatch, Mandate


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
        messages.error(request, str(error))
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
        messages.error(request, str(error))
    return redirect("occupant_mandates", mandate.debtor_id)


@login_required
@require_POST
def mandate_revoke(request, mandate_id: int):
    mandate = get_scoped_or_404(Mandate, request.user, paths=("creditor",), pk=mandate_id)
    managed_organisation_or_404(request.user, mandate.creditor_id, MANAGE_ROLES)
    try:
        mandates.revoke_mandate(mandate, on=timezone.localdate(), final_debit=request.POST.get("final") == "1",
                                acting_user=request.user)
    except mandates.MandateError as error:
        messages.error(request, str(error))
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
