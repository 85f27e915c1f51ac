"""Supporting documents on the signing page: the occupant's signer uploads what the subscription's
template requires before signing its convention (hooks registered in apps.py)."""

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cascade.params import parse_id
from cascade.signing import actions as signing
from cascade.signing.models import Party, RequestState, Signer, SignerState
from cascade.signing.views import client_of
from cascade.subscriptions import documents
from cascade.subscriptions.models import DocumentStatus, RequiredDocument

from .models import Contract


def _contract(signer: Signer) -> Contract | None:
    return Contract.objects.filter(signature_request_id=signer.request_id).select_related(
        "subscription__template").first()


def _concerned(signer: Signer) -> Contract | None:
    """The convention whose documents this signer provides: occupants' signers of a convention."""
    contract = _contract(signer)
    if contract is None or contract.is_amendment or signer.party != Party.OCCUPANT:
        return None
    return contract if documents.required_for(contract.subscription) else None


def _open_for_uploads(signer: Signer) -> bool:
    from django.utils import timezone

    return (signer.request.state in (RequestState.TO_SIGN, RequestState.SIGNED)
            and signer.state in (SignerState.INVITED, SignerState.SIGNED) and signer.locked_at is None
            and (signer.link_expires_at is None or signer.link_expires_at > timezone.now()))


def missing_before_signing(signer: Signer) -> str | None:
    contract = _concerned(signer)
    if contract is None:
        return None
    missing = [requirement.name for requirement, upload in documents.document_states(contract.subscription)
               if upload is None or upload.status == DocumentStatus.REJECTED]
    if missing:
        return _("Upload these documents before signing: %(docs)s.") % {"docs": ", ".join(missing)}
    return None


def signer_panel(request: HttpRequest, signer: Signer) -> str:
    contract = _concerned(signer)
    if contract is None:
        return ""
    from django.urls import reverse

    from cascade.signing.tokens import link_token

    token = link_token(signer.pk, signer.link_nonce)
    return render_to_string("contracts/_documents_panel.html", {
        "states": documents.document_states(contract.subscription), "open": _open_for_uploads(signer),
        "action": reverse("sign_upload", args=[token]),
    }, request=request)


@require_POST
def upload(request, token: str):
    """A signer sends a supporting document from their signing page."""
    try:
        signer = signing.signer_from_token(token)
    except signing.SigningError as error:
        messages.error(request, str(error))
        return redirect("sign", token)
    contract = _concerned(signer)
    requirement = RequiredDocument.objects.filter(pk=parse_id(request.POST.get("requirement"))).first()
    upload_file = request.FILES.get("file")
    try:
        if contract is None or not _open_for_uploads(signer):
            raise documents.DocumentError(_("Documents can no longer be sent through this link."))
        if requirement is None or upload_file is None:
            raise documents.DocumentError(_("Choose the file to send."))
        with transaction.atomic():
            document = documents.upload_document(contract.subscription, requirement, upload_file,
                                                 uploaded_by=f"{signer.name} <{signer.email}>")
            signing.log_event_locked(signer.request, "document_uploaded", signer=signer, client=client_of(request),
                                     requirement=requirement.name, file=document.original_name,
                                     sha256=document.sha256)
    except documents.DocumentError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("“%(name)s” was received for %(doc)s; the operator will check it.")
                         % {"name": document.original_name, "doc": requirement.name})
    return redirect("sign", token)


def notify_rejection(document) -> None:
    """Tell the occupant's signers of the convention why a document was rejected, with a fresh link
    to send another."""
    contract = (Contract.objects.filter(subscription=document.subscription, signature_request__isnull=False)
                .exclude(kind="avenant").order_by("-created_at").first())
    if contract is None:
        return
    reason = _("%(doc)s was rejected: %(reason)s") % {"doc": document.requirement.name, "reason": document.reason}
    for signer in contract.signature_request.signers.filter(party=Party.OCCUPANT):
        signing.ask_documents_again(signer, reason)
