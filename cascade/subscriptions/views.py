from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import render
from django.utils.translation import gettext as _

from cascade.accounts.models import Organisation, OrganisationKind
from cascade.accounts.tenancy import get_scoped_or_404, scoped
from cascade.billing.models import Invoice
from cascade.places.views import _operator_or_404

from .models import Subscription


@login_required
def occupants(request, org_id: int):
    operator = _operator_or_404(request, org_id)
    rows = scoped(Organisation, request.user).filter(operator=operator).annotate(
        n_subscriptions=Count("held_subscriptions", distinct=True)).order_by("kind", "name")
    query = request.GET.get("q", "").strip()
    if query:
        rows = rows.filter(Q(name__icontains=query) | Q(siret__icontains=query) | Q(email__icontains=query))
    return render(request, "subscriptions/occupants.html", {"operator": operator, "rows": rows, "q": query})


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
        "facts": [f for f in facts if f], "contact": [c for c in contact if c],
        "is_operator_view": occupant.kind != OrganisationKind.OPERATOR,
    })
