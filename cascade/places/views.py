from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Sum
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.defaultfilters import floatformat
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cascade.accounts.models import MANAGE_ROLES, Organisation, OrganisationKind
from cascade.accounts.tenancy import get_scoped_or_404, managed_organisation_or_404, role_in, scoped
from cascade.billing.models import Invoice
from cascade.dates import DateInputError, parse_day
from cascade.subscriptions.models import HOLDING_STATUSES

from . import actions, timeline, vacancy
from .forms import AttributesForm, MergeForm, ResourceTypeForm, SplitForm
from .models import Place, Resource, ResourceType
from .occupancy import month_starts, spaces_and_occupancies


def _day(request) -> date:
    """The day asked for with ?on=YYYY-MM-DD, today without it (and, said, for a malformed one)."""
    asked = request.GET.get("on", "")
    if not asked:
        return timezone.localdate()
    try:
        return parse_day(asked)
    except DateInputError:
        messages.warning(request, _("“%(value)s” is not a date like 2026-03-15: today is shown instead.")
                         % {"value": asked})
        return timezone.localdate()


def _operator_or_404(request, org_id: int) -> Organisation:
    org = get_scoped_or_404(Organisation, request.user, paths=("pk",), pk=org_id)
    if org.kind != OrganisationKind.OPERATOR:
        raise Http404
    return org


@login_required
def dashboard(request, org_id: int):
    organisation = _operator_or_404(request, org_id)
    today = _day(request)
    rows = []
    for place in scoped(Place, request.user).filter(organisation=organisation):
        spaces, occupancies = spaces_and_occupancies(place)
        rows.append((place, vacancy.snapshot(spaces, occupancies, today),
                     vacancy.vacancy_cost_for_month(spaces, occupancies, today)))
    first = today.replace(day=1)
    month_invoices = scoped(Invoice, request.user).filter(
        organisation=organisation, issue_date__gte=first, issue_date__lt=(first + timedelta(days=32)).replace(day=1))
    totals = month_invoices.aggregate(n=Count("id"), excl=Sum("total_excl_vat"), incl=Sum("total_incl_vat"))
    from cascade.contracts.alerts import endings, to_handle
    from cascade.contracts.models import Contract, ContractStatus

    open_contracts = scoped(Contract, request.user).filter(
        organisation=organisation, status__in=(ContractStatus.DRAFT, ContractStatus.TO_SIGN)).select_related(
        "subscription__subscriber", "signature_request").order_by("created_at")
    return render(request, "places/dashboard.html", {
        "organisation": organisation, "today": today, "rows": rows, "totals": totals,
        "month_invoices": month_invoices.select_related("customer")[:20],
        "can_import": role_in(request.user, organisation.pk) in MANAGE_ROLES,
        "endings": endings(organisation, today), "open_contracts": open_contracts,
        "to_handle": to_handle(organisation),
    })


@login_required
def place_detail(request, place_id: int):
    place = get_scoped_or_404(Place.objects.select_related("organisation"), request.user, pk=place_id)
    day = _day(request)
    spaces, occupancies = spaces_and_occupancies(place)
    snap = vacancy.snapshot(spaces, occupancies, day)
    resources = list(place.resources.select_related("type", "parent").order_by("reference"))
    by_space: dict[int, list[vacancy.Occupancy]] = {}
    for occ in occupancies:
        by_space.setdefault(occ.space_id, []).append(occ)
    holders = {occ.space_id: occ.label for occ in occupancies if occ.start <= day < occ.end}
    start = vacancy.month_bounds(place.convention_start)[0]
    end = vacancy.month_bounds(place.convention_end)[1]
    counted = {s.id for s in spaces if s.rentable} - {s.parent_id for s in spaces}
    rows = [
        timeline.TimelineRow(
            label=r.reference, sublabel=r.type.name + (f" · {floatformat(r.surface, '-2')} m²" if r.surface else ""),
            valid_from=r.valid_from, valid_until=r.valid_end_exclusive,
            bars=[timeline.TimelineBar(o.start, o.end, o.label, None, "occupied") for o in by_space.get(r.pk, [])],
        )
        for r in resources if r.pk in counted
    ]
    svg = timeline.render_timeline_svg(rows, start, end, today=day, lang=get_language() or "fr")
    costs = vacancy.cost_by_month(spaces, occupancies, start, end)
    return render(request, "places/place_detail.html", {
        "place": place, "day": day, "snap": snap, "timeline": mark_safe(svg),
        "resources": [(r, holders.get(r.pk), r.pk in counted) for r in resources],
        "costs": sorted(costs.items()), "cost_total": sum(costs.values()),
        "cost_month": vacancy.vacancy_cost_for_month(spaces, occupancies, day),
        "months": month_starts(start, end),
    })


@login_required
def resource_detail(request, resource_id: int, split_form=None, merge_form=None):
    resource = get_scoped_or_404(Resource.objects.select_related("place", "type", "parent"), request.user,
                                 pk=resource_id)
    can_change = role_in(request.user, resource.organisation_id) in MANAGE_ROLES
    versions = resource.subscription_versions.filter(status__in=HOLDING_STATUSES).select_related(
        "subscription__subscriber").order_by("entry_date")
    return render(request, "places/resource_detail.html", {
        "resource": resource, "attributes": [(a["label"], resource.attributes.get(a["key"]), a["type"])
                                             for a in resource.type.attributes],
        "attributes_form": AttributesForm(resource=resource) if resource.type.attributes else None,
        "versions": versions, "children": resource.children.order_by("reference"),
        "became": resource.became.prefetch_related("results"),
        "came_from": resource.came_from.prefetch_related("sources"),
        "today": timezone.localdate(), "can_change": can_change,
        "split_form": split_form or SplitForm(), "merge_form": merge_form or MergeForm(resource=resource),
    })


@login_required
@require_POST
def resource_change(request, resource_id: int, kind: str):
    """Split the resource into several, or merge it with others, from a date."""
    resource = get_scoped_or_404(Resource, request.user, pk=resource_id)
    managed_organisation_or_404(request.user, resource.organisation_id, MANAGE_ROLES)
    if kind == "split":
        form = SplitForm(request.POST)
    else:
        form = MergeForm(request.POST, resource=resource)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if kind == "split":
                created = actions.split_resource(resource, data["parts"], effective_date=data["effective_date"],
                                                 acting_user=request.user)
            else:
                created = [actions.merge_resources([resource, *data["others"]], data["reference"],
                                                   effective_date=data["effective_date"], acting_user=request.user)]
        except actions.ResourceChangeError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Created: %(refs)s.") % {"refs": ", ".join(r.reference for r in created)})
            return redirect("resource", created[0].pk)
    forms = {"split_form": form} if kind == "split" else {"merge_form": form}
    response = resource_detail(request, resource_id, **forms)
    response.status_code = 400
    return response


@login_required
@require_POST
def resource_attributes(request, resource_id: int):
    resource = get_scoped_or_404(Resource.objects.select_related("type"), request.user, pk=resource_id)
    managed_organisation_or_404(request.user, resource.organisation_id, MANAGE_ROLES)
    form = AttributesForm(request.POST, resource=resource)
    if form.is_valid():
        actions.set_attributes(resource, form.values(), acting_user=request.user)
        messages.success(request, _("The attributes of %(ref)s were saved.") % {"ref": resource.reference})
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("resource", resource.pk)


@login_required
def resource_types(request, org_id: int):
    operator = _operator_or_404(request, org_id)
    types = ResourceType.objects.filter(organisation=operator).annotate(n=Count("resources")).order_by("name")
    return render(request, "places/resource_types.html", {
        "operator": operator, "types": types, "can_manage": role_in(request.user, operator.pk) in MANAGE_ROLES})


@login_required
def resource_type(request, type_id: int):
    resource_type = get_scoped_or_404(ResourceType, request.user, pk=type_id)
    can_manage = role_in(request.user, resource_type.organisation_id) in MANAGE_ROLES
    form = ResourceTypeForm(request.POST or None, instance=ResourceType.objects.get(pk=resource_type.pk))
    if request.method == "POST":
        managed_organisation_or_404(request.user, resource_type.organisation_id, MANAGE_ROLES)
        if form.is_valid():
            changes = {name: form.cleaned_data[name] for name in form.Meta.fields}
            changes["attributes"] = form.cleaned_data["attribute_lines"]
            actions.save_resource_type(resource_type, changes, acting_user=request.user)
            messages.success(request, _("The type %(name)s was saved.") % {"name": resource_type.name})
            return redirect("resource_types", resource_type.organisation_id)
    return render(request, "places/resource_type.html", {"resource_type": resource_type, "form": form,
                                                        "can_manage": can_manage},
                  status=400 if form.errors else 200)
