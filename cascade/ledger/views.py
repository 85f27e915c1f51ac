from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cascade.accounts.tenancy import scoped
from cascade.places.views import _operator_or_404

from . import chart, exports
from .fec import FecError
from .models import Entry, Journal
from .posting import post_pending


def _year(request) -> int:
    value = request.GET.get("year", "")
    return int(value) if value.isdigit() and 2000 <= int(value) <= 2999 else timezone.localdate().year


@login_required
def ledger(request, org_id: int):
    """The year's journals, entries and trial balance, for the accountant, with the FEC and CSV to download."""
    operator = _operator_or_404(request, org_id)
    year = _year(request)
    start, end = exports.fiscal_year(year)
    post_pending(operator)  # what was issued or paid since the last pass is in the books shown
    entries = scoped(Entry, request.user).filter(organisation=operator, date__gte=start, date__lte=end)
    journal = request.GET.get("journal", "")
    shown = entries.filter(journal=journal) if journal in Journal.values else entries
    page = Paginator(shown.prefetch_related("lines").order_by("journal", "number"), 30).get_page(
        request.GET.get("page"))
    counts = dict(entries.values("journal").annotate(n=Count("id")).values_list("journal", "n"))
    balance = exports.trial_balance(operator, year)
    return render(request, "ledger/ledger.html", {
        "operator": operator, "year": year, "page": page, "journal": journal,
        "journals": [(code, chart.JOURNALS[code], counts.get(code, 0)) for code in Journal.values],
        "balance": balance, "total_debit": sum(r.debit for r in balance),
        "total_credit": sum(r.credit for r in balance),
    })


@login_required
def ledger_export(request, org_id: int):
    """The FEC (`?format=fec`) or the CSV for accounting tools of a year, after posting what is pending."""
    operator = _operator_or_404(request, org_id)
    year = _year(request)
    if request.GET.get("format") == "csv":
        response = HttpResponse(exports.export_csv(operator, year), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="grand-livre-{year}.csv"'
        return response
    try:
        name, content = exports.export_fec(operator, year)
    except FecError as error:
        no_siret = not any(c.isdigit() for c in operator.siret)
        messages.error(request, _("The FEC is named after the organisation’s SIREN: set its SIRET first.")
                       if no_siret else str(error))
        return redirect(f"{reverse('ledger', args=[operator.pk])}?year={year}")
    response = HttpResponse(content, content_type="text/plain; charset=iso-8859-15")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response

