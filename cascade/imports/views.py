"""The workbook import from the browser: upload, read the report, choose the billing start, confirm."""

import secrets
import time
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cascade.accounts.models import MANAGE_ROLES, Organisation, OrganisationKind
from cascade.accounts.tenancy import managed_organisation_or_404

from .forms import ConfirmForm, UploadForm
from .services import import_workbook

UPLOAD_LIFETIME_SECONDS = 24 * 3600
COUNT_LABELS = {
    "places": gettext_lazy("places"), "resources": gettext_lazy("resources"),
    "occupants": gettext_lazy("occupants"), "subscriptions": gettext_lazy("subscriptions"),
    "partners": gettext_lazy("partner organisations"), "resource_types": gettext_lazy("resource types"),
}


def _upload_path(token: str) -> Path:
    return Path(settings.VAR_DIR) / "uploads" / f"{token}.xlsx"


def _forget_old_uploads() -> None:
    """Workbooks hold personal data (IBANs, e-mails): one left unconfirmed goes after a day."""
    folder = Path(settings.VAR_DIR) / "uploads"
    limit = time.time() - UPLOAD_LIFETIME_SECONDS
    for old in folder.glob("*.xlsx") if folder.is_dir() else ():
        if old.stat().st_mtime < limit:
            old.unlink(missing_ok=True)


def _operator_managed_or_404(request, org_id: int) -> Organisation:
    """Only an operator imports a workbook (it becomes the seller of the invoices)."""
    organisation = managed_organisation_or_404(request.user, org_id, MANAGE_ROLES)
    if organisation.kind != OrganisationKind.OPERATOR:
        raise Http404
    return organisation


@login_required
def upload(request, org_id: int):
    organisation = _operator_managed_or_404(request, org_id)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        _forget_old_uploads()
        token = secrets.token_urlsafe(16)
        path = _upload_path(token)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            for chunk in form.cleaned_data["workbook"].chunks():
                out.write(chunk)
        request.session[f"import:{token}"] = {"org": org_id, "name": form.cleaned_data["workbook"].name}
        return redirect("import_review", org_id=org_id, token=token)
    return render(request, "imports/upload.html", {"organisation": organisation, "form": form})


@login_required
def review(request, org_id: int, token: str):
    organisation = _operator_managed_or_404(request, org_id)
    upload_info = request.session.get(f"import:{token}")
    path = _upload_path(token)
    if not upload_info or upload_info["org"] != org_id or not path.exists():
        messages.error(request, _("This upload has expired; please upload the workbook again."))
        return redirect("import_workbook", org_id=org_id)
    form = ConfirmForm(request.POST or None)
    confirm = request.method == "POST" and form.is_valid()
    billing_from = form.cleaned_data.get("billing_from") if confirm else None
    report = import_workbook(str(path), billing_from=billing_from, dry_run=not confirm,
                             operator=organisation, acting_user=request.user)
    if confirm and report.ok:
        path.unlink(missing_ok=True)
        del request.session[f"import:{token}"]
        messages.success(request, _("Workbook imported: %(places)s places, %(resources)s resources, "
                                    "%(occupants)s occupants, %(subscriptions)s subscriptions.") % report.counts)
        return redirect("dashboard", org_id=org_id)
    if report.faults:
        # Nothing can be confirmed: the operator corrects the workbook and uploads it again.
        path.unlink(missing_ok=True)
        del request.session[f"import:{token}"]
    return render(request, "imports/review.html", {
        "organisation": organisation, "report": report, "form": form, "name": upload_info["name"],
        "faults": [(f, f.translated(_)) for f in report.faults],
        "clashes": [(f, f.translated(_)) for f in report.clashes],
        "counts": [(COUNT_LABELS.get(what, what), n) for what, n in report.counts.items()],
    })
