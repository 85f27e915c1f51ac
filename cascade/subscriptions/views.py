from datetime import timedelta
from itertools import pairwise

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count, Q
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cascade.accounts.actions import unique_slug
from cascade.accounts.models import BILLING_ROLES, MANAGE_ROLES, Organisation, OrganisationKind
from cascade.accounts.tenancy import (
    get_scoped_or_404,
    managed_organisation_or_404,
    organisation_ids,
    role_in,
    scoped,
)
from cascade.billing.models import Invoice
from cascade.places.models import Place
from cascade.places.views import _operator_or_404

from . import actions, documents
from .forms import AmendmentForm, NewSubscriptionForm, RequiredDocumentForm, SubscriptionTemplateForm, TemplateTermsForm
from .models import (
    RequiredDocument,
    Subscription,
    SubscriptionStatus,
    SubscriptionTemplate,
    SupportingDocument,
    VersionStatus,
)


@login_required
def occupants(request, org_id: int):
    operator = _operator_or_404(request, org_id)
    rows = scoped(Organisation, request.user).filter(operator=operator).annotate(
        n_subscriptions=Count("held_subscriptions", distinct=True)).order_by("kind", "name")
    query = request.GET.get("q", "").strip()
    if query:
        rows = rows.filter(Q(name__icontains=query) | Q(siret__icontains=query) | Q(email__icontains=query))
    return render(request, "subscriptions/occupants.html", {
        "operator": operator, "rows": rows, "q": query,
        "can_manage": role_in(request.user, operator.pk) in MANAGE_ROLES})


@login_required
def occupant_detail(request, org_id: int):
    occupant = get_scoped_or_404(Organisation, request.user, pk=org_id)
    subscriptions = scoped(Subscription, request.user).filter(subscriber=occupant).select_related(
        "place").prefetch_related("versions__components", "versions__resources").order_by("reference")
    invoices = scoped(Invoice, request.user).filter(customer=occupant).select_related("place").order_by(
        "-issue_date", "-number")
    facts = [occupant.legal_form, occupant.siret and f"SIRET {occupant.siret}", occupant.price_category,
             occupant.is_cooperative_member and _("cooperative member")]
    contact = [occupant.contact_name, occupant.email, occupant.phone]
    return render(request, "subscriptions/occupant_detail.html", {
        "occupant": occupant, "subscriptions": subscriptions, "invoices": invoices,
        "managed_ids": organisation_ids(request.user),
        "facts": [f for f in facts if f], "contact": [c for c in contact if c],
        "is_operator_view": occupant.kind != OrganisationKind.OPERATOR,
    })


@login_required
def new_subscription(request, org_id: int):
    operator = _operator_or_404(request, org_id)
    managed_organisation_or_404(request.user, operator.pk, MANAGE_ROLES)
    initial = {"frequency": "monthly", "term": "advance"}
    form = NewSubscriptionForm(request.POST or None, operator=operator, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                subscriber = data["subscriber"]
                if subscriber is None:
                    fields = form.new_occupant_fields()
                    subscriber = Organisation.objects.create(operator=operator, slug=unique_slug(fields["name"]),
                                                             **fields)
                place = data["resources"][0].place
                subscription, _contract = actions.create_subscription(
                    operator, subscriber=subscriber, place=place, template=data["template"], terms=form.terms(),
                    deposit=data["deposit"], acting_user=request.user)
        except actions.SubscriptionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Subscription %(ref)s created; its convention is ready to be sent for "
                                        "signature.") % {"ref": subscription.reference})
            return redirect("subscription", subscription.pk)
    return render(request, "subscriptions/new.html", {"operator": operator, "form": form},
                  status=400 if form.errors else 200)


@login_required
def subscription_detail(request, subscription_id: int):
    from cascade.contracts.models import Contract, ContractStatus
    from cascade.payments.models import Deposit

    subscription = get_scoped_or_404(Subscription.objects.select_related("place", "subscriber", "organisation",
                                                                         "template"),
                                     request.user, pk=subscription_id)
    can_manage = role_in(request.user, subscription.organisation_id) in MANAGE_ROLES
    versions = list(subscription.versions.prefetch_related("components", "resources").order_by("-number"))
    contracts = {}
    shown = Contract.objects.filter(subscription=subscription).select_related("signature_request")
    if subscription.organisation_id not in organisation_ids(request.user):
        # The subscriber's members see the documents they were sent, not the operator's drafts.
        shown = shown.filter(signature_request__isnull=False) | shown.filter(status=ContractStatus.SIGNED_OUTSIDE)
    for contract in shown.order_by("created_at"):
        contracts.setdefault(contract.version_id, []).append(contract)
    # A draft discarded before it was sent is no part of the history.
    versions = [v for v in versions if v.status != VersionStatus.CANCELLED
                or any(c.signature_request_id for c in contracts.get(v.pk, []))]
    in_force = sorted((v for v in versions if v.status == VersionStatus.IN_FORCE), key=lambda v: v.effective_from)
    replaced = {v.pk: later.effective_from - timedelta(days=1) for v, later in pairwise(in_force)}
    current = subscription.current_version
    last_day = current.end_exclusive(subscription.place) - timedelta(days=1) if current else None
    return render(request, "subscriptions/subscription_detail.html", {
        "subscription": subscription, "versions": [(v, contracts.get(v.pk, []), replaced.get(v.pk)) for v in versions],
        "current": current, "open_version": subscription.open_version,
        "ended_on": last_day if last_day and last_day < timezone.localdate() else None,
        "documents": documents.document_states(subscription),
        "uploads": subscription.documents.select_related("requirement").order_by("-uploaded_at"),
        "can_manage": can_manage, "manages": subscription.organisation_id in organisation_ids(request.user),
        "invoices": scoped(Invoice, request.user).filter(subscription=subscription).order_by("-issue_date")[:12],
        "deposit": Deposit.objects.filter(subscription=subscription).first(),
        "can_bill": role_in(request.user, subscription.organisation_id) in BILLING_ROLES,
    })


@login_required
def amend_subscription(request, subscription_id: int):
    subscription = get_scoped_or_404(Subscription.objects.select_related("place", "subscriber"), request.user,
                                     pk=subscription_id)
    managed_organisation_or_404(request.user, subscription.organisation_id, MANAGE_ROLES)
    base = subscription.current_version or subscription.latest_version
    terms = actions.terms_from_version(base)
    initial = {"entry_date": terms.entry_date, "exit_date": terms.exit_date, "frequency": terms.frequency,
               "term": terms.term, "resources": terms.resources, "rent": terms.amounts.get("rent"),
               "fluids": terms.amounts.get("fluids"), "circumstances": terms.circumstances,
               "effective_from": base.effective_from if subscription.current_version is None else None}
    form = AmendmentForm(request.POST or None, initial=initial,
                         place_queryset=Place.objects.filter(pk=subscription.place_id))
    if request.method == "POST" and form.is_valid():
        try:
            contract = actions.propose_version(subscription, form.terms(), acting_user=request.user)
        except actions.SubscriptionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("%(title)s is ready to be sent for signature.") % {"title": contract.title})
            return redirect("subscription", subscription.pk)
    return render(request, "subscriptions/amend.html", {"subscription": subscription, "form": form},
                  status=400 if form.errors else 200)


@login_required
@require_POST
def cancel_subscription(request, subscription_id: int):
    subscription = get_scoped_or_404(Subscription, request.user, pk=subscription_id)
    managed_organisation_or_404(request.user, subscription.organisation_id, MANAGE_ROLES)
    try:
        actions.cancel_subscription(subscription, acting_user=request.user)
    except actions.SubscriptionError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The subscription was cancelled."))
    return redirect("subscription", subscription.pk)


@login_required
def document_download(request, document_id: int):
    document = get_scoped_or_404(SupportingDocument.objects.select_related("subscription"), request.user,
                                 pk=document_id)
    return FileResponse(document.file.open("rb"), content_type=document.content_type, as_attachment=True,
                        filename=document.original_name)


@login_required
@require_POST
def document_review(request, document_id: int):
    document = get_scoped_or_404(SupportingDocument.objects.select_related("subscription"), request.user,
                                 pk=document_id)
    managed_organisation_or_404(request.user, document.subscription.organisation_id, MANAGE_ROLES)
    try:
        documents.review_document(document, valid=request.POST.get("decision") == "valid",
                                  reason=request.POST.get("reason", ""), acting_user=request.user)
    except documents.DocumentError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("%(doc)s: %(decision)s.") % {
            "doc": document.requirement.name,
            "decision": _("validated") if request.POST.get("decision") == "valid" else _("rejected")})
    return redirect("subscription", document.subscription_id)


# ---------------------------------------------------------------- subscription templates


@login_required
def subscription_template(request, template_id: int):
    template = get_scoped_or_404(SubscriptionTemplate, request.user, pk=template_id)
    can_manage = role_in(request.user, template.organisation_id) in MANAGE_ROLES
    form = SubscriptionTemplateForm(request.POST or None, instance=template)
    if request.method == "POST":
        managed_organisation_or_404(request.user, template.organisation_id, MANAGE_ROLES)
        if form.is_valid():
            form.save()
            messages.success(request, _("The template was saved."))
            return redirect("subscription_template", template.pk)
    terms_form = TemplateTermsForm(initial={"frequency": template.frequency, "term": template.term,
                                            "fluids_per_m2": template.fluids_per_m2})
    return render(request, "subscriptions/template.html", {
        "template": template, "form": form, "terms_form": terms_form, "can_manage": can_manage,
        "subscriptions": template.subscriptions.exclude(status=SubscriptionStatus.CANCELLED).select_related(
            "subscriber").order_by("reference"),
    }, status=400 if form.errors else 200)


@login_required
@require_POST
def subscription_template_terms(request, template_id: int):
    """Preview the amendments a change of the template's terms makes, then (confirmed) generate them."""
    template = get_scoped_or_404(SubscriptionTemplate, request.user, pk=template_id)
    managed_organisation_or_404(request.user, template.organisation_id, MANAGE_ROLES)
    form = TemplateTermsForm(request.POST)
    if not form.is_valid():
        return render(request, "subscriptions/template_preview.html",
                      {"template": template, "form": form, "plan": None}, status=400)
    data = form.cleaned_data
    change = {"effective_from": data["effective_from"], "frequency": data["frequency"], "term": data["term"],
              "fluids_per_m2": data["fluids_per_m2"]}
    if request.POST.get("confirm") == "yes":
        try:
            contracts = actions.change_template(template, **change, acting_user=request.user)
        except actions.SubscriptionError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("%(n)s amendment(s) generated, ready to be sent for signature.")
                             % {"n": len(contracts)})
            return redirect("subscription_template", template.pk)
    plan = actions.template_change_plan(template, **change)
    return render(request, "subscriptions/template_preview.html", {
        "template": template, "form": form, "plan": plan, "n_amendments": sum(1 for item in plan if item.changes)})


@login_required
def required_documents(request, org_id: int):
    operator = _operator_or_404(request, org_id)
    instance = RequiredDocument(organisation=operator)
    form = RequiredDocumentForm(request.POST or None, instance=instance)
    if request.method == "POST":
        managed_organisation_or_404(request.user, operator.pk, MANAGE_ROLES)
        if form.is_valid():
            form.save()
            messages.success(request, _("“%(name)s” can now be required by a subscription template.")
                             % {"name": instance.name})
            return redirect("required_documents", operator.pk)
    return render(request, "subscriptions/required_documents.html", {
        "operator": operator, "form": form, "rows": RequiredDocument.objects.filter(organisation=operator),
        "can_manage": role_in(request.user, operator.pk) in MANAGE_ROLES}, status=400 if form.errors else 200)
