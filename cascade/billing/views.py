from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cascade.accounts.models import BILLING_ROLES, Organisation
from cascade.accounts.tenancy import get_scoped_or_404, managed_organisation_or_404, role_in, scoped
from cascade.dates import DateInputError, parse_day, parse_month
from cascade.imports.cells import normalise
from cascade.params import parse_id
from cascade.places.models import Place
from cascade.places.views import _operator_or_404

from . import exports, sending
from .actions import BillingError, bill_until, cancel_invoice
from .documents import invoice_pdf
from .models import DocumentKind, Invoice, InvoiceLine

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
        "operator": operator, "can_manage": role_in(request.user, operator.pk) in BILLING_ROLES,
        "page": page, "invoices": page.object_list, "totals": totals,
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
    from cascade.payments.actions import STATES, settlements
    from cascade.payments.models import Means, StepKind

    today = timezone.localdate()
    settlement = settlements([invoice], today).get(invoice.pk)
    return render(request, "billing/invoice_detail.html", {
        "invoice": invoice, "lines": invoice.lines.all(),
        "can_send": role_in(request.user, invoice.organisation_id) in BILLING_ROLES,
        "settlement": settlement, "state": STATES[settlement.state] if settlement else None,
        "allocations": invoice.allocations.select_related("payment").order_by("payment__received_on", "pk"),
        "means": Means.choices, "today": today,
        "reminders": invoice.reminders.order_by("days"), "letter_kind": StepKind.LETTER,
        "disputes": list(invoice.disputes.select_related("opened_by", "closed_by")),
    })


@login_required
def invoice_pdf_download(request, invoice_id: int):
    invoice = get_scoped_or_404(Invoice, request.user, pk=invoice_id)
    response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{invoice.number}.pdf"'
    return response


def _month_or_this(request) -> date:
    """The month asked for, this month when none is; a month that is not one is a 400, never another month."""
    value = request.GET.get("month", "").strip()
    if not value:
        return timezone.localdate().replace(day=1)
    try:
        return parse_month(value)
    except DateInputError as error:
        raise BadRequest(str(error)) from None


@login_required
def invoices_export(request, org_id: int):
    """The invoices (or their lines) issued in a month, as CSV or XLSX."""
    operator = _operator_or_404(request, org_id)
    month = _month_or_this(request)
    end = (month + timedelta(days=32)).replace(day=1)
    invoices = scoped(Invoice, request.user).filter(organisation=operator, issue_date__gte=month, issue_date__lt=end)
    what = "lignes" if request.GET.get("what") == "lines" else "factures"
    if what == "lignes":
        columns, rows = exports.LINE_COLUMNS, exports.line_rows(
            InvoiceLine.objects.filter(invoice__in=invoices).select_related("invoice__place").order_by(
                "invoice__issue_date", "invoice__number", "position"))
    else:
        columns, rows = exports.INVOICE_COLUMNS, exports.invoice_rows(
            invoices.select_related("place", "corrects").order_by("issue_date", "number"))
    name = f"{what}-{month:%Y-%m}"
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(exports.as_xlsx(name, columns, rows), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
    response = HttpResponse(exports.as_csv(columns, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


@login_required
def billing_preview(request, org_id: int):
    """What the next billing run would issue, per subscription, with the reason of each line."""
    operator = _operator_or_404(request, org_id)
    if role_in(request.user, operator.pk) not in BILLING_ROLES:
        raise Http404
    try:
        until = parse_day(request.GET["until"]) if request.GET.get("until") else timezone.localdate()
    except DateInputError as error:
        messages.warning(request, str(error))
        until = timezone.localdate()
    run = bill_until(until, organisation_id=operator.pk, dry_run=True)
    return render(request, "billing/preview.html", {"operator": operator, "until": until, "run": run})


@login_required
@require_POST
def invoice_cancel(request, invoice_id: int):
    invoice = get_scoped_or_404(Invoice, request.user, paths=("organisation",), pk=invoice_id)
    managed_organisation_or_404(request.user, invoice.organisation_id, BILLING_ROLES)
    try:
        credit = cancel_invoice(invoice, reason=request.POST.get("reason", ""), acting_user=request.user)
    except BillingError as error:
        messages.error(request, str(error))
        return redirect("invoice", invoice.pk)
    if credit.kind == DocumentKind.CREDIT_NOTE:
        done = _("%(number)s is cancelled by the credit note %(credit)s; the next billing run issues the period again "
                 "as it is due now.")
    else:
        done = _("%(number)s is cancelled by the notice %(credit)s; the next billing run issues the period again as "
                 "it is due now.")
    messages.success(request, done % {"number": invoice.number, "credit": credit.number})
    return redirect("invoice", credit.pk)


@login_required
@require_POST
def invoice_send(request, invoice_id: int):
    invoice = get_scoped_or_404(Invoice, request.user, paths=("organisation",), pk=invoice_id)
    managed_organisation_or_404(request.user, invoice.organisation_id, BILLING_ROLES)
    sending.send_again(invoice, acting_user=request.user)
    messages.success(request, _("%(number)s will be e-mailed with the next pass (within the hour).")
                     % {"number": invoice.number})
    return redirect("invoice", invoice.pk)
