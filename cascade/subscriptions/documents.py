"""Supporting documents: the subscriber uploads what the template requires, a manager validates or
rejects each with a reason. The first version of a subscription comes into force only once every
required document is valid (actions.activate_if_ready)."""

import hashlib

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cascade.accounts.audit import record

from .models import DocumentStatus, RequiredDocument, Subscription, SupportingDocument

# Recognised by their first bytes, whatever the file name says.
SIGNATURES = {"pdf": (b"%PDF-1.", b"%PDF-2."), "png": (b"\x89PNG\r\n\x1a\n",), "jpeg": (b"\xff\xd8\xff",)}
CONTENT_TYPES = {"pdf": "application/pdf", "png": "image/png", "jpeg": "image/jpeg"}
MEGABYTE = 1024 * 1024
# Files kept per subscription and required document: enough to send a few corrected copies.
MAX_UPLOADS = 10


class DocumentError(Exception):
    """The file is refused; the message says why and what is accepted."""


def sniff(head: bytes) -> str | None:
    return next((fmt for fmt, magics in SIGNATURES.items() if head.startswith(magics)), None)


def required_for(subscription: Subscription) -> list[RequiredDocument]:
    if subscription.template is None:
        return []
    return list(subscription.template.required_documents.order_by("name"))


def _size_text(size: int) -> str:
    return f"{size / MEGABYTE:.1f}".replace(".", ",") + " Mo"


def _accepted(requirement: RequiredDocument) -> str:
    return ", ".join(fmt.upper() for fmt in requirement.formats) or "PDF"


@transaction.atomic
def upload_document(subscription: Subscription, requirement: RequiredDocument, upload, *, uploaded_by: str,
                    acting_user=None) -> SupportingDocument:
    """Keep the file, to be reviewed. `upload` is a Django UploadedFile (or any file with name and size)."""
    if requirement not in required_for(subscription):
        raise DocumentError(_("“%(doc)s” is not asked for this subscription.") % {"doc": requirement.name})
    if subscription.documents.filter(requirement=requirement).count() >= MAX_UPLOADS:
        raise DocumentError(_("%(n)s files were already sent for %(doc)s: ask the operator before sending more.")
                            % {"n": MAX_UPLOADS, "doc": requirement.name})
    limit = requirement.max_size_mb * MEGABYTE
    if upload.size > limit:
        raise DocumentError(_("“%(name)s” weighs %(size)s; the limit for %(doc)s is %(limit)s MB.") % {
            "name": upload.name, "size": _size_text(upload.size), "doc": requirement.name,
            "limit": requirement.max_size_mb})
    data = upload.read(limit + 1)
    if not data:
        raise DocumentError(_("“%(name)s” is empty.") % {"name": upload.name})
    fmt = sniff(data[:16])
    formats = requirement.formats or ["pdf"]
    if fmt not in formats:
        raise DocumentError(_("“%(name)s” is not a %(formats)s file, as %(doc)s must be.") % {
            "name": upload.name, "formats": _accepted(requirement), "doc": requirement.name})
    digest = hashlib.sha256(data).hexdigest()
    document = SupportingDocument(
        subscription=subscription, requirement=requirement, original_name=upload.name[:200],
        content_type=CONTENT_TYPES[fmt], size=len(data), sha256=digest, uploaded_by=uploaded_by[:200])
    document.file.save(f"{digest}.{fmt}", ContentFile(data), save=False)
    document.save()
    record("document.uploaded", organisation=subscription.organisation, actor=acting_user, obj=document,
           subscription=subscription.reference, requirement=requirement.name, sha256=digest, by=uploaded_by)
    return document


@transaction.atomic
def review_document(document: SupportingDocument, *, valid: bool, reason: str = "", acting_user=None) -> None:
    """Validate the document, or reject it with a reason the subscriber will read."""
    from .actions import activate_if_ready

    document = SupportingDocument.objects.select_for_update().get(pk=document.pk)
    if document.status != DocumentStatus.PENDING:
        raise DocumentError(_("This document was already reviewed (%(status)s).")
                            % {"status": document.get_status_display()})
    if not valid and not reason.strip():
        raise DocumentError(_("Say why the document is rejected: the subscriber will read it."))
    document.status = DocumentStatus.VALID if valid else DocumentStatus.REJECTED
    document.reason = reason.strip()
    document.reviewed_by = acting_user if getattr(acting_user, "is_authenticated", False) else None
    document.reviewed_at = timezone.now()
    document.save(update_fields=["status", "reason", "reviewed_by", "reviewed_at"])
    record(f"document.{document.status}", organisation=document.subscription.organisation, actor=acting_user,
           obj=document, requirement=document.requirement.name, reason=document.reason)
    if valid:
        activate_if_ready(document.subscription, acting_user=acting_user)
    else:
        from cascade.contracts.documents import notify_rejection

        notify_rejection(document)


def document_states(subscription: Subscription) -> list[tuple[RequiredDocument, SupportingDocument | None]]:
    """Each required document with its latest upload (None when nothing was sent)."""
    latest: dict[int, SupportingDocument] = {}
    for document in subscription.documents.order_by("uploaded_at", "pk"):
        latest[document.requirement_id] = document
    return [(requirement, latest.get(requirement.pk)) for requirement in required_for(subscription)]
