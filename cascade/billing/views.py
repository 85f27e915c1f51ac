from datetime import date, timedelta

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import HttpResponse
from django.shortcuts import render

from cascade.accounts.models import Organisation
from cascade.accounts.tenancy import get_scoped_or_404, scoped
from cascade.dates import DateInputError, parse_month
from cascade.imports.cells import normalise
from cascade.params import parse_id
from cascade.places.models import Place
from cascade.places.views import _operator_or_404

from .documents import invoice_pdf
from .models import DocumentKind, Invoice


def _month(value: str) -> date | None:
    try:
        return parse_month(value)
    except DateInputError:
        return None


@login_required
def invoices(request, org_id: int):
    operator = _operator_or_404(request, org_id)
    qs = scoped(Invoice, request.user).filter(organisation=operator).select_related("customer", "place")
    place_id, customer_id = request.GET.get("place", ""), request.GET.get("customer", "")
    month, kind = _month(request.GET.get("month", "")), request.GET.get("kind", "")
    # An id no row can have finds nothing (SQLite cannot even compare with one beyond 64 bits).
    if place_id:
        qs = qs.filter(place_id=parse_id(place_id)) if parse_id(place_id) else qs.none()
    if customer_id:
        qs = qs.filter(customer_id=parse_id(customer_id)) if parse_id(customer_id) else qs.none()
    if month:
        qs = qs.filter(issue_date__gte=month, issue_date__lt=(month + timedelta(days=32)).replace(day=1))
    if kind in DocumentKind.values:
        qs = qs.filter(kind=kind)
    totals = qs.aggregate(n=Count("id"), excl=Sum("total_excl_vat"), vat=Sum("total_vat"),
                          incl=Sum("total_incl_vat"))
    page = Paginator(qs.order_by("-issue_date", "-number"), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    customers = scoped(Organisation, request.user).filter(operator=operator, received_invoices__isnull=False)
    return render(request, "billing/invoices.html", {
        "operator": operator, "page": page, "invoices": page.object_list, "totals": totals,
        "places": scoped(Place, request.user).filter(organisation=operator),
        # Sorted as a reader expects ("Élise" beside "Elsa", not after "Zoé"), whatever the database's collation.
        "customers": sorted(customers.distinct(), key=lambda org: normalise(org.name)),
        "filters": {"place": place_id, "customer": customer_id, "month": request.GET.get("month", ""), "kind": kind},
        "query": query.urlencode(),
    })


@login_required
def invoice_detail(request, invoice_id: int):
    invoice = get_scoped_or_404(Invoice.objects.select_related("customer", "place", "subscription"),
                                request.user, pk=invoice_id)
    return render(request, "billing/invoice_detail.html", {"invoice": invoice, "lines": invoice.lines.all()})


@login_required
def invoice_pdf_download(request, invoice_id: int):
    invoice = get_scoped_or_404(Invoice, request.user, pk=invoice_id)
    response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{invoice.number}.pdf"'
    return response
