from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cascade.accounts.models import MANAGE_ROLES
from cascade.accounts.tenancy import get_scoped_or_404, managed_organisation_or_404, role_in, scoped
from cascade.params import parse_id
from cascade.places.views import _operator_or_404
from cascade.signing.actions import SignerSpec
from cascade.signing.models import Party
from cascade.subscriptions.forms import SignersForm
from cascade.subscriptions.models import Subscription, SubscriptionTemplate

from . import actions, rendering, variables
from .context import contract_context
from .models import AMENDMENT, Contract, DocumentTemplate
from .pdf import LayoutError, render_contract_pdf


@login_required
def templates(request, org_id: int):
    operator = _operator_or_404(request, org_id)
    can_manage = role_in(request.user, operator.pk) in MANAGE_ROLES
    document_templates = actions.ensure_default_templates(operator) if can_manage else {
        t.kind: t for t in DocumentTemplate.objects.filter(organisation=operator)}
    return render(request, "contracts/templates.html", {
        "operator": operator, "document_templates": sorted(document_templates.values(), key=lambda t: t.kind),
        "subscription_templates": SubscriptionTemplate.objects.filter(organisation=operator),
        "can_manage": can_manage,
    })


def _preview_context(template: DocumentTemplate, subscription: Subscription | None) -> dict:
    """A real subscription's variables when one is chosen, the sample's otherwise."""
    if subscription is None or subscription.latest_version is None:
        return variables.sample_context(template.kind)
    version = subscription.current_version or subscription.latest_version
    amendment = variables.sample_context(AMENDMENT)["avenant"] if template.kind == AMENDMENT else None
    return contract_context(version, kind=template.kind, reference=subscription.reference,
                            day=timezone.localdate(), amendment=amendment)


def _preview_subscription(request, template: DocumentTemplate) -> Subscription | None:
    pk = parse_id(request.POST.get("subscription") or request.GET.get("subscription"))
    if pk is None:
        return None
    return scoped(Subscription, request.user).filter(organisation=template.organisation, pk=pk).first()


@login_required
def template_edit(request, template_id: int):
    template = get_scoped_or_404(DocumentTemplate, request.user, pk=template_id)
    can_manage = role_in(request.user, template.organisation_id) in MANAGE_ROLES
    body = template.latest.body
    problems = []
    if request.method == "POST":
        managed_organisation_or_404(request.user, template.organisation_id, MANAGE_ROLES)
        body = request.POST.get("body", "")
        try:
            version = actions.save_template(template, body, acting_user=request.user)
        except actions.ContractError as error:
            problems = rendering.check_template(body) or [str(error)]
        else:
            messages.success(request, _("Version %(n)s of the template is saved; documents generated from now on "
                                        "use it.") % {"n": version.number})
            return redirect("document_template", template.pk)
    subscription = _preview_subscription(request, template)
    return render(request, "contracts/template_edit.html", {
        "template": template, "body": body, "problems": problems, "can_manage": can_manage,
        "variables": variables.VARIABLES, "directives": variables.DIRECTIVES,
        "versions": template.versions.order_by("-number"),
        "blocks": _safe_blocks(body, _preview_context(template, subscription)),
        "subscriptions": Subscription.objects.filter(organisation=template.organisation).select_related(
            "subscriber").order_by("reference"),
        "chosen": subscription,
    }, status=400 if problems else 200)


def _safe_blocks(body: str, context: dict) -> list:
    try:
        return rendering.render_blocks(body, context)
    except rendering.TemplateError:
        return []


@login_required
@require_POST
def template_preview(request, template_id: int):
    """The live preview: the text being edited, rendered as HTML (or as the PDF with ?format=pdf)."""
    template = get_scoped_or_404(DocumentTemplate, request.user, pk=template_id)
    managed_organisation_or_404(request.user, template.organisation_id, MANAGE_ROLES)  # who edits templates
    body = request.POST.get("body", "")
    context = _preview_context(template, _preview_subscription(request, template))
    problems = rendering.check_template(body)
    blocks = _safe_blocks(body, context)
    if request.GET.get("format") == "pdf" and not problems:
        document = context["document"]
        try:
            pdf = render_contract_pdf(blocks, title=document["titre"], reference=document["reference"],
                                      organisation=template.organisation.name, date=timezone.localdate(),
                                      banner=actions.DRAFT_BANNER)
        except LayoutError as error:
            problems = [str(error)]
        else:
            return HttpResponse(pdf, content_type="application/pdf")
    return render(request, "contracts/_preview.html", {"blocks": blocks, "problems": problems})


@login_required
def contract_pdf(request, contract_id: int):
    contract = get_scoped_or_404(Contract.objects.select_related("organisation"), request.user, pk=contract_id)
    response = HttpResponse(actions.contract_pdf(contract), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{contract.reference}.pdf"'
    return response


@login_required
def contract_send(request, contract_id: int):
    contract = get_scoped_or_404(Contract.objects.select_related("subscription__subscriber", "organisation"),
                                 request.user, paths=("organisation",), pk=contract_id)
    managed_organisation_or_404(request.user, contract.organisation_id, MANAGE_ROLES)
    occupant, operator = contract.subscription.subscriber, contract.organisation
    initial = {
        "occupant_name": occupant.representative or occupant.contact_name or "", "occupant_email": occupant.email,
        "occupant_quality": occupant.representative_title,
        "operator_name": operator.representative or request.user.get_full_name(),
        "operator_email": request.user.email, "operator_quality": operator.representative_title,
    }
    form = SignersForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        signers = [SignerSpec(data["occupant_name"], data["occupant_email"], Party.OCCUPANT, data["occupant_quality"],
                              occupant)]
        if data["second_name"]:
            signers.append(SignerSpec(data["second_name"], data["second_email"], Party.OCCUPANT,
                                      data["second_quality"], occupant))
        signers.append(SignerSpec(data["operator_name"], data["operator_email"], Party.OPERATOR,
                                  data["operator_quality"], operator))
        try:
            request_ = actions.send_for_signature(contract, signers, link_days=data["link_days"],
                                                  reminder_days=data["reminder_days"],
                                                  expires_in_days=data["expires_in_days"], acting_user=request.user)
        except actions.ContractError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("%(title)s was sent to %(email)s for signature.") % {
                "title": contract.title, "email": signers[0].email})
            return redirect("signature_request", request_.pk)
    return render(request, "contracts/send.html", {"contract": contract, "form": form},
                  status=400 if form.errors else 200)


@login_required
@require_POST
def contract_discard(request, contract_id: int):
    contract = get_scoped_or_404(Contract, request.user, paths=("organisation",), pk=contract_id)
    managed_organisation_or_404(request.user, contract.organisation_id, MANAGE_ROLES)
    try:
        actions.discard_draft(contract, acting_user=request.user)
    except actions.ContractError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The draft was discarded."))
    return redirect("subscription", contract.subscription_id)
