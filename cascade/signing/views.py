"""The signer's pages (reached by their personal link, no account needed), the public verification
page, and the sender's view of a request."""

import base64
import binascii

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from cascade.accounts.models import MANAGE_ROLES
from cascade.accounts.tenancy import get_scoped_or_404, managed_organisation_or_404, role_in
from cascade.params import parse_id

from . import actions, extensions, keys, pades, sealing
from .models import RequestState, SignatureRequest, Signer, SignerState

VERIFIED = "signing_verified"  # session: {request pk: signer pk} confirmed by their code on this browser
SEEN = "signing_seen"  # session: ["opened-<signer pk>", "document_viewed-<signer pk>"] already logged
MAX_VERIFY_BYTES = 50 * 1024 * 1024


def client_of(request) -> actions.Client:
    return actions.Client(ip=request.META.get("REMOTE_ADDR"), user_agent=request.META.get("HTTP_USER_AGENT", ""))


def _mask(email: str) -> str:
    local, _sep, domain = email.partition("@")
    return f"{local[:1]}{'•' * max(len(local) - 1, 1)}@{domain}"


def _closed(request, message: str, signer: Signer | None = None, status: int = 403):
    return render(request, "signing/closed.html", {"message": message, "signer": signer}, status=status)


def _signer(request, token: str) -> tuple[Signer | None, str | None]:
    """The signer of the link, or why the link cannot be used on this browser."""
    try:
        signer = actions.signer_from_token(token)
    except actions.SigningError as error:
        return None, str(error)
    verified = request.session.get(VERIFIED, {}).get(str(signer.request_id))
    if verified and verified != signer.pk:
        other = Signer.objects.filter(pk=verified).first()
        return None, _("This link is personal: it was sent to %(email)s. On this browser you confirmed your "
                       "identity as %(name)s; use the link you received yourself.") % {
            "email": _mask(signer.email), "name": other.name if other else "?"}
    return signer, None


def _log_once(request, signer: Signer, kind: str) -> None:
    seen = request.session.get(SEEN, [])
    key = f"{kind}-{signer.pk}"
    if key not in seen:
        actions.record_view(signer, kind, client_of(request))
        request.session[SEEN] = [*seen, key]


def _is_verified(request, signer: Signer) -> bool:
    return (request.session.get(VERIFIED, {}).get(str(signer.request_id)) == signer.pk
            and signer.verified_at is not None)


def sign_page(request, token: str):
    signer, error = _signer(request, token)
    if error:
        return _closed(request, error, status=404)
    panels = [panel(request, signer) for panel in extensions.signer_panels]
    try:
        actions.check_can_act(signer)
    except actions.SigningError as error:
        return render(request, "signing/closed.html", {
            "message": str(error), "signer": signer, "token": token, "panels": [p for p in panels if p],
            "signed_copy": signer.state == SignerState.SIGNED and signer.request.state == RequestState.SIGNED},
            status=200 if signer.state == SignerState.SIGNED else 403)
    _log_once(request, signer, "opened")
    return render(request, "signing/sign.html", {
        "signer": signer, "req": signer.request, "token": token, "verified": _is_verified(request, signer),
        "code_pending": bool(signer.code_hash), "masked_email": _mask(signer.email),
        "panels": [p for p in panels if p], "others": signer.request.signers.exclude(pk=signer.pk),
        "blockers": [reason for blocker in extensions.sign_blockers if (reason := blocker(signer))],
    })


@xframe_options_sameorigin  # shown in a frame of the signing page
def document(request, token: str):
    """The PDF to read (or, once every signer signed, the sealed copy)."""
    signer, error = _signer(request, token)
    if error:
        return _closed(request, error, status=404)
    req = signer.request
    if req.state == RequestState.SIGNED and signer.state == SignerState.SIGNED:
        return FileResponse(req.signed_document.open("rb"), content_type="application/pdf",
                            filename=f"{req.reference}-signe.pdf")
    if not (signer.state == SignerState.SIGNED and req.state == RequestState.TO_SIGN):  # may read what they signed
        try:
            actions.check_can_act(signer)
        except actions.SigningError as error:
            return _closed(request, str(error), signer)
        # The frame of the signing page loads the PDF by itself: that says it was shown, not opened.
        _log_once(request, signer, "document_displayed" if request.GET.get("shown") else "document_viewed")
    response = FileResponse(req.document.open("rb"), content_type="application/pdf", filename=f"{req.reference}.pdf")
    response["Content-Disposition"] = f'inline; filename="{req.reference}.pdf"'
    return response


def _act(request, token: str, action) -> HttpResponse:
    """Run a POSTed step of the ceremony; its error is shown on the page, nothing else changes."""
    signer, error = _signer(request, token)
    if error:
        return _closed(request, error, status=404)
    try:
        done = action(signer)
    except actions.SigningError as error:
        messages.error(request, str(error))
    else:
        if done:
            messages.success(request, done)
    return redirect("sign", token)


@require_POST
def send_code(request, token: str):
    def step(signer):
        actions.send_code(signer, client_of(request))
        return _("A code was sent to %(email)s. It is valid for 15 minutes.") % {"email": _mask(signer.email)}
    return _act(request, token, step)


@require_POST
def verify_code(request, token: str):
    def step(signer):
        actions.verify_code(signer, request.POST.get("code", ""), client_of(request))
        request.session[VERIFIED] = {**request.session.get(VERIFIED, {}), str(signer.request_id): signer.pk}
        return _("Identity confirmed. You can now sign.")
    return _act(request, token, step)


def _drawing(data_url: str) -> bytes | None:
    if not data_url:
        return None
    prefix = "data:image/png;base64,"
    if not data_url.startswith(prefix):
        raise actions.SigningError(_("The drawn signature must be a PNG image."))
    try:
        return base64.b64decode(data_url[len(prefix):], validate=True)
    except (binascii.Error, ValueError):
        raise actions.SigningError(_("The drawn signature could not be read; draw it again or leave it empty.")) \
            from None


@require_POST
def sign(request, token: str):
    def step(signer):
        if not _is_verified(request, signer):
            raise actions.SigningError(_("Confirm your identity with the code sent by e-mail before signing."))
        actions.sign(signer, typed_name=request.POST.get("typed_name", ""), consent=request.POST.get("consent") == "on",
                     drawing=_drawing(request.POST.get("drawing", "")), client=client_of(request))
        return _("Thank you: your signature is recorded.")
    return _act(request, token, step)


@require_POST
def refuse(request, token: str):
    def step(signer):
        if not _is_verified(request, signer):
            raise actions.SigningError(_("Confirm your identity with the code sent by e-mail before refusing."))
        actions.refuse(signer, reason=request.POST.get("reason", ""), client=client_of(request))
        return _("Your refusal was sent to %(org)s.") % {"org": signer.request.organisation}
    return _act(request, token, step)


# ---------------------------------------------------------------- verification, for anyone


def verify(request):
    """Upload a PDF: was it sealed by Cascade, is it intact, who signed and when."""
    result, error, known, signers = None, None, None, []
    if request.method == "POST":
        upload = request.FILES.get("pdf")
        if upload is None:
            error = _("Choose a PDF file to check.")
        elif upload.size > MAX_VERIFY_BYTES:
            error = _("This file is too large to be checked here (50 MB at most).")
        else:
            data = upload.read()
            try:
                result = pades.verify(data, trust_roots=keys.trust_roots())
            except pades.NotAPdf as not_pdf:
                error = _("“%(name)s” is not a PDF document: %(why)s") % {"name": upload.name, "why": not_pdf}
            else:
                known = _known(data)
                if result.intact and result.sealed_by_cascade:
                    signers = sealing.signers_of(data)
    return render(request, "signing/verify.html", {"result": result, "error": error, "known": known,
                                                   "signers": signers}, status=400 if error else 200)


def _known(data: bytes) -> SignatureRequest | None:
    import hashlib

    return SignatureRequest.objects.filter(signed_sha256=hashlib.sha256(data).hexdigest()).first()


# ---------------------------------------------------------------- the sender's side


@login_required
def request_detail(request, request_id: int):
    req = get_scoped_or_404(SignatureRequest.objects.select_related("organisation"), request.user,
                            paths=("organisation",), pk=request_id)
    return render(request, "signing/request_detail.html", {
        "req": req, "signers": req.signers.all(), "events": req.events.select_related("signer").order_by("seq"),
        "chain_problems": actions.chain_problems(req),
        "can_manage": role_in(request.user, req.organisation_id) in MANAGE_ROLES,
        "current": actions.current_signer(req) if req.state == RequestState.TO_SIGN else None,
    })


@login_required
def signed_pdf(request, request_id: int):
    """The sealed PDF, for the sender's organisation and the signers' (an occupant's members)."""
    req = get_scoped_or_404(SignatureRequest, request.user, pk=request_id)
    if not req.signed_document:
        return _closed(request, _("This document is not signed yet."), status=404)
    return FileResponse(req.signed_document.open("rb"), content_type="application/pdf", as_attachment=True,
                        filename=f"{req.reference}-signe.pdf")


@login_required
@require_POST
def cancel_request(request, request_id: int):
    req = get_scoped_or_404(SignatureRequest, request.user, paths=("organisation",), pk=request_id)
    managed_organisation_or_404(request.user, req.organisation_id, MANAGE_ROLES)
    try:
        actions.cancel(req, reason=request.POST.get("reason", ""), acting_user=request.user)
    except actions.SigningError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The request was cancelled and the signers told."))
    return redirect("signature_request", req.pk)


@login_required
@require_POST
def renew_link(request, request_id: int):
    req = get_scoped_or_404(SignatureRequest, request.user, paths=("organisation",), pk=request_id)
    managed_organisation_or_404(request.user, req.organisation_id, MANAGE_ROLES)
    signer = req.signers.filter(pk=parse_id(request.POST.get("signer"))).first()
    try:
        if signer is None:
            raise actions.SigningError(_("Choose the signer who needs a new link."))
        actions.renew_link(signer, acting_user=request.user)
    except actions.SigningError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("A new link was sent to %(email)s; the previous one no longer works.")
                         % {"email": signer.email})
    return redirect("signature_request", req.pk)
