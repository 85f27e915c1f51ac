"""The signing ceremony, one function per action: atomic, written to the evidence log, e-mails
sent once committed.

draft → to sign → signed | refused | expired | cancelled. Signers sign one after the other in
their order; each gets a personal link that expires, proves who they are with a one-time code
sent by e-mail, consents, types their name (and may draw a signature), or refuses with a reason.
When the last one signs, the document and its evidence page are sealed (sealing.py).
"""

import hashlib
import io
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from cascade.accounts.audit import record
from cascade.accounts.models import Organisation

from . import extensions, tokens
from .models import FINAL_STATES, Party, RequestState, SignatureEvent, SignatureRequest, Signer, SignerState
from .signals import request_finished

MAX_CODE_ATTEMPTS = 5
MAX_CODES_PER_LINK = 5
CODE_VALIDITY = timedelta(minutes=15)
DEFAULT_EXPIRY_DAYS = 30
GENESIS = "0" * 64
MAX_DRAWING_BYTES = 300 * 1024
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_TEXT = 200  # a typed name, as the signer's name
MAX_REASON = 2000  # a refusal or a cancellation


class SigningError(Exception):
    """The action cannot be done as things stand; the message tells the person why."""


@dataclass(frozen=True)
class SignerSpec:
    name: str
    email: str
    party: str = Party.OCCUPANT
    quality: str = ""
    organisation: Organisation | None = None


@dataclass(frozen=True)
class Client:
    """Where an action comes from, for the evidence log."""

    ip: str | None = None
    user_agent: str = ""


SERVER = Client()


# ---------------------------------------------------------------- evidence log


def log_event(request: SignatureRequest, kind: str, *, signer: Signer | None = None, client: Client = SERVER,
              **data) -> SignatureEvent:
    """Append an event to the request's hash chain. The caller holds the request's row lock."""
    last = request.events.order_by("-seq").first()
    event = SignatureEvent(
        request=request, seq=last.seq + 1 if last else 1, kind=kind, signer=signer,
        at=timezone.now().replace(microsecond=0), ip=client.ip or None, user_agent=(client.user_agent or "")[:400],
        document_sha256=request.document_sha256, data=data, previous_hash=last.hash if last else GENESIS)
    event.hash = event.compute_hash()
    event.save()
    return event


@transaction.atomic
def log_event_locked(request: SignatureRequest, kind: str, *, signer: Signer | None = None, client: Client = SERVER,
                     **data) -> SignatureEvent:
    """`log_event` for a caller that does not hold the request's lock yet."""
    return log_event(_locked(request), kind, signer=signer, client=client, **data)


def chain_problems(request: SignatureRequest) -> list[str]:
    """What is wrong with the request's evidence log (empty when every link of the chain holds)."""
    problems, previous = [], GENESIS
    for expected, event in enumerate(request.events.select_related("signer", "request").order_by("seq"), start=1):
        if event.seq != expected:
            problems.append(_("Event %(n)s is missing from the log.") % {"n": expected})
        if event.previous_hash != previous:
            problems.append(_("Event %(n)s does not follow the one before it.") % {"n": event.seq})
        if event.compute_hash() != event.hash:
            problems.append(_("Event %(n)s was altered.") % {"n": event.seq})
        previous = event.hash
    return problems


# ---------------------------------------------------------------- creation and sending


def _pages(document: bytes) -> int:
    if not document.startswith(b"%PDF-"):
        raise SigningError(_("The document to sign must be a PDF."))
    try:
        return len(PdfReader(io.BytesIO(document)).pages)
    except (PdfReadError, ValueError, KeyError) as error:
        raise SigningError(_("The document to sign is not a readable PDF.")) from error


@transaction.atomic
def create_request(organisation: Organisation, *, title: str, document: bytes, file_name: str,
                   signers: Iterable[SignerSpec], link_days: int = 14, reminder_days: int = 3,
                   expires_in_days: int = DEFAULT_EXPIRY_DAYS, acting_user=None) -> SignatureRequest:
    specs = list(signers)
    if not specs:
        raise SigningError(_("A signature request needs at least one signer."))
    emails = [spec.email.strip().lower() for spec in specs]
    if any(not spec.name.strip() or not email for spec, email in zip(specs, emails, strict=True)):
        raise SigningError(_("Every signer needs a name and an e-mail address."))
    if len(set(emails)) != len(emails):
        raise SigningError(_("Each signer needs their own e-mail address: the code that proves who they are "
                             "is sent there."))
    if not 1 <= link_days <= expires_in_days:
        raise SigningError(_("Links must be valid between 1 day and the request's %(days)s days.")
                           % {"days": expires_in_days})
    pages = _pages(document)
    request = SignatureRequest.objects.create(
        organisation=organisation, reference=f"tmp-{tokens.new_nonce()[:24]}", title=title,
        document_sha256=hashlib.sha256(document).hexdigest(), document_pages=pages, link_days=link_days,
        reminder_days=reminder_days, expires_at=timezone.now() + timedelta(days=expires_in_days),
        created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None)
    request.reference = f"SIG-{request.pk:06d}"
    request.document.save(file_name, ContentFile(document), save=False)
    request.save(update_fields=["reference", "document"])
    Signer.objects.bulk_create(
        Signer(request=request, order=n, party=spec.party, organisation=spec.organisation, name=spec.name.strip(),
               email=email, quality=spec.quality.strip())
        for n, (spec, email) in enumerate(zip(specs, emails, strict=True), start=1))
    log_event(request, "created", title=title, pages=pages, by=getattr(acting_user, "email", "") or "",
              signers=[{"order": n, "name": s.name.strip(), "email": e} for n, (s, e) in
                       enumerate(zip(specs, emails, strict=True), start=1)])
    record("signature.created", organisation=organisation, actor=acting_user, obj=request, reference=request.reference)
    return request


def _locked(request: SignatureRequest) -> SignatureRequest:
    return SignatureRequest.objects.select_for_update().get(pk=request.pk)


@transaction.atomic
def send_request(request: SignatureRequest, *, acting_user=None) -> None:
    request = _locked(request)
    if request.state != RequestState.DRAFT:
        raise SigningError(_("This request was already sent."))
    request.state, request.sent_at = RequestState.TO_SIGN, timezone.now()
    request.save(update_fields=["state", "sent_at"])
    record("signature.sent", organisation=request.organisation, actor=acting_user, obj=request)
    _invite(request, request.signers.order_by("order").first(), by=getattr(acting_user, "email", "") or "")


def signer_link(signer: Signer) -> str:
    path = reverse("sign", args=[tokens.link_token(signer.pk, signer.link_nonce)])
    return settings.SITE_URL.rstrip("/") + path


def _invite(request: SignatureRequest, signer: Signer, *, kind: str = "sent", by: str = "") -> None:
    now = timezone.now()
    signer.link_nonce = tokens.new_nonce()
    signer.link_expires_at = min(now + timedelta(days=request.link_days), request.expires_at)
    signer.state = SignerState.INVITED
    signer.invited_at = signer.invited_at or now
    signer.last_notified_at = now
    signer.failed_attempts = signer.codes_sent = 0
    signer.locked_at = signer.verified_at = None
    signer.code_hash = ""
    signer.save()
    log_event(request, kind, signer=signer, to=signer.email, link_expires_at=signer.link_expires_at.isoformat(),
              **({"by": by} if by else {}))
    _mail("invitation", request, [signer.email], signer=signer, link=signer_link(signer), renewed=kind != "sent")


# ---------------------------------------------------------------- the signer's side


def current_signer(request: SignatureRequest) -> Signer | None:
    return request.signers.exclude(state=SignerState.SIGNED).order_by("order").first()


def signer_from_token(token: str) -> Signer:
    """The signer a link belongs to; SigningError with what to do when the link cannot be used."""
    parsed = tokens.parse_link_token(token)
    signer = None
    if parsed is not None:
        signer = Signer.objects.select_related("request__organisation").filter(pk=parsed[0]).first()
    if signer is None or signer.link_nonce != parsed[1]:
        raise SigningError(_("This link is not valid: it may have been replaced by a more recent one. Use the "
                             "link of the latest e-mail you received."))
    return signer


def check_can_act(signer: Signer) -> None:
    """Raise SigningError when the signer cannot act through their link now."""
    request = signer.request
    if request.state == RequestState.CANCELLED:
        raise SigningError(_("This signature request was cancelled by %(org)s.") % {"org": request.organisation})
    if request.state == RequestState.EXPIRED:
        raise SigningError(_("This signature request has expired. Ask %(org)s to send it again.")
                           % {"org": request.organisation})
    if request.state == RequestState.REFUSED:
        raise SigningError(_("This document was refused; it can no longer be signed."))
    if signer.state == SignerState.SIGNED:
        raise SigningError(_("You signed this document on %(date)s; this link cannot be used again to sign.")
                           % {"date": timezone.localtime(signer.signed_at).strftime("%d/%m/%Y %H:%M")})
    if signer.state != SignerState.INVITED:
        raise SigningError(_("It is not your turn to sign yet: you will receive an e-mail."))
    if signer.locked_at:
        raise SigningError(_("This link is locked after %(n)s wrong codes. Ask %(org)s for a new link.")
                           % {"n": MAX_CODE_ATTEMPTS, "org": request.organisation})
    if signer.link_expires_at and signer.link_expires_at < timezone.now():
        raise SigningError(_("This link expired on %(date)s. Ask %(org)s for a new link.")
                           % {"date": timezone.localtime(signer.link_expires_at).strftime("%d/%m/%Y"),
                              "org": request.organisation})


@transaction.atomic
def record_view(signer: Signer, kind: str, client: Client) -> None:
    """The signer opened the signing page ("opened"), saw the PDF shown in it ("document_displayed"),
    or opened the PDF itself ("document_viewed")."""
    request = _locked(signer.request)
    log_event(request, kind, signer=signer, client=client)
    if kind == "opened" and signer.opened_at is None:
        Signer.objects.filter(pk=signer.pk).update(opened_at=timezone.now())


@transaction.atomic
def send_code(signer: Signer, client: Client) -> str:
    """E-mail a new one-time code to the signer; returns it (for the e-mail, never for a page)."""
    request = _locked(signer.request)
    signer = Signer.objects.get(pk=signer.pk)
    check_can_act(signer)
    if signer.codes_sent >= MAX_CODES_PER_LINK:
        raise SigningError(_("Too many codes were sent for this link. Ask %(org)s for a new link.")
                           % {"org": request.organisation})
    code = tokens.new_code()
    signer.code_hash = tokens.code_hash(signer.pk, code)
    signer.code_expires_at = timezone.now() + CODE_VALIDITY
    signer.codes_sent += 1
    signer.save(update_fields=["code_hash", "code_expires_at", "codes_sent"])
    log_event(request, "code_sent", signer=signer, client=client, to=signer.email)
    _mail("code", request, [signer.email], signer=signer, code=code,
          minutes=int(CODE_VALIDITY.total_seconds() // 60))
    return code


def verify_code(signer: Signer, code: str, client: Client) -> None:
    """Check the one-time code; a wrong one counts, and the fifth locks the link."""
    with transaction.atomic():
        request = _locked(signer.request)
        signer = Signer.objects.get(pk=signer.pk)
        check_can_act(signer)
        if not signer.code_hash:
            raise SigningError(_("Ask for a code first: it is sent to your e-mail address."))
        if signer.code_expires_at < timezone.now():
            raise SigningError(_("This code has expired: ask for a new one."))
        code = "".join(code.split())
        if not (code.isascii() and code.isdigit() and len(code) == 6):
            raise SigningError(_("The code is the 6 digits of the e-mail; type them again."))
        if tokens.code_matches(signer.pk, code, signer.code_hash):
            signer.verified_at, signer.code_hash = timezone.now(), ""
            signer.save(update_fields=["verified_at", "code_hash"])
            log_event(request, "code_verified", signer=signer, client=client)
            return
        signer.failed_attempts += 1
        fields = ["failed_attempts"]
        log_event(request, "code_failed", signer=signer, client=client, attempt=signer.failed_attempts)
        left = MAX_CODE_ATTEMPTS - signer.failed_attempts
        if left <= 0:
            signer.locked_at = timezone.now()
            fields.append("locked_at")
            log_event(request, "locked", signer=signer, client=client)
        signer.save(update_fields=fields)
    # Outside the atomic block: the failed attempt is kept, the error is shown.
    if left <= 0:
        raise SigningError(_("Wrong code. After %(n)s wrong codes this link is locked: ask %(org)s for a new "
                             "link.") % {"n": MAX_CODE_ATTEMPTS, "org": request.organisation})
    raise SigningError(_("Wrong code. %(left)s attempt(s) left.") % {"left": left})


def _normalised(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).replace("-", " ").split())


def _check_drawing(drawing: bytes | None) -> None:
    if drawing is None:
        return
    if not drawing.startswith(PNG_MAGIC) or len(drawing) > MAX_DRAWING_BYTES:
        raise SigningError(_("The drawn signature must be a PNG image of at most %(kb)s KB.")
                           % {"kb": MAX_DRAWING_BYTES // 1024})


@transaction.atomic
def sign(signer: Signer, *, typed_name: str, consent: bool, client: Client, drawing: bytes | None = None) -> None:
    request = _locked(signer.request)
    signer = Signer.objects.get(pk=signer.pk)
    check_can_act(signer)
    if signer.verified_at is None:
        raise SigningError(_("Confirm your identity with the code sent by e-mail before signing."))
    if not consent:
        raise SigningError(_("Tick the box to consent to sign this document electronically."))
    typed_name = " ".join(typed_name.split())
    if len(typed_name) > MAX_TEXT or _normalised(typed_name) != _normalised(signer.name):
        raise SigningError(_("Type your name as it appears on the request: %(name)s.") % {"name": signer.name})
    _check_drawing(drawing)
    for blocker in extensions.sign_blockers:
        reason = blocker(signer)
        if reason:
            raise SigningError(reason)
    signer.state, signer.signed_at = SignerState.SIGNED, timezone.now()
    signer.typed_name, signer.drawing = typed_name, drawing
    signer.ip, signer.user_agent = client.ip or None, (client.user_agent or "")[:400]
    signer.save()
    log_event(request, "signed", signer=signer, client=client, typed_name=signer.typed_name, consent=True,
              drawing_sha256=hashlib.sha256(drawing).hexdigest() if drawing else None)
    following = current_signer(request)
    if following is not None:
        _invite(request, following)
        return
    _complete(request)


def _complete(request: SignatureRequest) -> None:
    from .sealing import sealed_pdf  # sealing needs the evidence of the whole request

    pdf = sealed_pdf(request)
    request.signed_document.save(f"{request.reference}-signe.pdf", ContentFile(pdf), save=False)
    request.signed_sha256 = hashlib.sha256(pdf).hexdigest()
    request.state, request.completed_at = RequestState.SIGNED, timezone.now()
    request.save(update_fields=["signed_document", "signed_sha256", "state", "completed_at"])
    log_event(request, "completed", signed_sha256=request.signed_sha256, size=len(pdf))
    record("signature.signed", organisation=request.organisation, obj=request, reference=request.reference,
           signed_sha256=request.signed_sha256)
    request_finished.send(sender=SignatureRequest, request=request)
    for signer in request.signers.order_by("order"):
        _mail("completed", request, [signer.email], signer=signer, attachment=(f"{request.reference}-signe.pdf", pdf))


@transaction.atomic
def refuse(signer: Signer, *, reason: str, client: Client) -> None:
    request = _locked(signer.request)
    signer = Signer.objects.get(pk=signer.pk)
    check_can_act(signer)
    if signer.verified_at is None:
        raise SigningError(_("Confirm your identity with the code sent by e-mail before refusing."))
    if not reason.strip():
        raise SigningError(_("Say why you refuse to sign: the sender will read it."))
    if len(reason) > MAX_REASON:
        raise SigningError(_("Say why in %(n)s characters at most.") % {"n": MAX_REASON})
    signer.state, signer.refusal_reason = SignerState.REFUSED, reason.strip()
    signer.ip, signer.user_agent = client.ip or None, (client.user_agent or "")[:400]
    signer.save()
    request.state, request.reason, request.completed_at = RequestState.REFUSED, reason.strip(), timezone.now()
    request.save(update_fields=["state", "reason", "completed_at"])
    log_event(request, "refused", signer=signer, client=client, reason=reason.strip())
    record("signature.refused", organisation=request.organisation, obj=request, reason=reason.strip())
    request_finished.send(sender=SignatureRequest, request=request)
    _mail("refused", request, _operator_emails(request), signer=signer, reason=reason.strip())


# ---------------------------------------------------------------- the sender's side


@transaction.atomic
def cancel(request: SignatureRequest, *, reason: str, acting_user=None) -> None:
    request = _locked(request)
    if request.state in FINAL_STATES:
        raise SigningError(_("This request is already %(state)s.") % {"state": request.get_state_display()})
    if not reason.strip():
        raise SigningError(_("Say why the request is cancelled: the signers will read it."))
    if len(reason) > MAX_REASON:
        raise SigningError(_("Say why in %(n)s characters at most.") % {"n": MAX_REASON})
    was_sent = request.state == RequestState.TO_SIGN
    request.state, request.reason, request.completed_at = RequestState.CANCELLED, reason.strip(), timezone.now()
    request.save(update_fields=["state", "reason", "completed_at"])
    log_event(request, "cancelled", reason=reason.strip(),
              by=getattr(acting_user, "email", "") or "")
    record("signature.cancelled", organisation=request.organisation, actor=acting_user, obj=request,
           reason=reason.strip())
    request_finished.send(sender=SignatureRequest, request=request)
    if was_sent:
        for signer in request.signers.exclude(state=SignerState.WAITING):
            _mail("cancelled", request, [signer.email], signer=signer, reason=reason.strip())


@transaction.atomic
def renew_link(signer: Signer, *, acting_user=None) -> None:
    """A new link for the signer whose turn it is (lost e-mail, expired or locked link)."""
    request = _locked(signer.request)
    signer = Signer.objects.get(pk=signer.pk)
    if request.state != RequestState.TO_SIGN or signer.state != SignerState.INVITED:
        raise SigningError(_("Only the signer whose turn it is can get a new link, while the request is open."))
    _invite(request, signer, kind="link_renewed", by=getattr(acting_user, "email", "") or "")
    record("signature.link_renewed", organisation=request.organisation, actor=acting_user, obj=request,
           signer=signer.email)


@transaction.atomic
def ask_documents_again(signer: Signer, reason: str) -> None:
    """E-mail a signer that a supporting document must be sent again, with a link to do it: their
    link as it is while they have not signed, a fresh one (for the documents only) once they have."""
    request = _locked(signer.request)
    signer = Signer.objects.get(pk=signer.pk)
    if request.state not in (RequestState.TO_SIGN, RequestState.SIGNED) or signer.state not in (
            SignerState.INVITED, SignerState.SIGNED):
        return
    if signer.state == SignerState.SIGNED:
        signer.link_nonce = tokens.new_nonce()
        signer.link_expires_at = timezone.now() + timedelta(days=request.link_days)
        signer.save(update_fields=["link_nonce", "link_expires_at"])
        log_event(request, "link_renewed", signer=signer, to=signer.email, purpose="documents")
    _mail("documents", request, [signer.email], signer=signer, link=signer_link(signer), reason=reason)


def remind_and_expire(now: datetime | None = None) -> dict[str, int]:
    """The daily pass (`cascade tick`): remind who has not signed, expire what is past its date."""
    now = now or timezone.now()
    done = {"reminded": 0, "expired": 0}
    for request in SignatureRequest.objects.filter(state=RequestState.TO_SIGN):
        with transaction.atomic():
            request = _locked(request)
            if request.state != RequestState.TO_SIGN:
                continue
            if request.expires_at and request.expires_at <= now:
                request.state, request.completed_at = RequestState.EXPIRED, now
                request.save(update_fields=["state", "completed_at"])
                log_event(request, "expired")
                record("signature.expired", organisation=request.organisation, obj=request)
                request_finished.send(sender=SignatureRequest, request=request)
                _mail("expired", request, _operator_emails(request))
                done["expired"] += 1
                continue
            signer = current_signer(request)
            if signer is None or signer.state != SignerState.INVITED:
                continue
            due = signer.last_notified_at + timedelta(days=request.reminder_days) if signer.last_notified_at else now
            if request.reminder_days and due <= now and signer.link_expires_at > now and not signer.locked_at:
                signer.last_notified_at, signer.reminders_sent = now, signer.reminders_sent + 1
                signer.save(update_fields=["last_notified_at", "reminders_sent"])
                log_event(request, "reminded", signer=signer, to=signer.email)
                _mail("reminder", request, [signer.email], signer=signer, link=signer_link(signer))
                done["reminded"] += 1
    return done


# ---------------------------------------------------------------- e-mail


def _operator_emails(request: SignatureRequest) -> list[str]:
    emails = [request.created_by.email] if request.created_by and request.created_by.email else []
    if request.organisation.email:
        emails.append(request.organisation.email)
    return list(dict.fromkeys(emails))


def _mail(template: str, request: SignatureRequest, to: list[str], *, attachment: tuple[str, bytes] | None = None,
          **context) -> None:
    if not to:
        return
    context = {"request": request, "organisation": request.organisation.name,
               "request_url": settings.SITE_URL.rstrip("/") + reverse("signature_request", args=[request.pk]),
               **context}
    subject = " ".join(render_to_string(f"signing/email/{template}_subject.txt", context).split())
    body = render_to_string(f"signing/email/{template}.txt", context)
    message = EmailMessage(subject, body, None, to)
    if attachment:
        message.attach(attachment[0], attachment[1], "application/pdf")
    transaction.on_commit(message.send)
