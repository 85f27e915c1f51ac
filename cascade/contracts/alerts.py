"""Alerts before a convention ends: an occupant's (its subscription's last day) or the owner's
(the place's convention). Shown on the dashboard; e-mailed once to the managers by `cascade tick`."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string

from cascade.accounts.models import MANAGE_ROLES, Membership, Organisation, OrganisationKind
from cascade.places.models import Place
from cascade.subscriptions.actions import ending_between
from cascade.subscriptions.models import Subscription

from .models import EndNotice


@dataclass(frozen=True)
class Ending:
    end: date
    subscription: Subscription | None = None
    place: Place | None = None

    @property
    def days_left(self) -> int:
        return (self.end - date.today()).days


def endings(organisation: Organisation, today: date) -> list[Ending]:
    """Conventions of the organisation ending within its notice, soonest first."""
    horizon = today + timedelta(days=organisation.end_notice_days)
    found = [Ending(last, subscription=s) for s, last in ending_between(organisation, today, horizon)]
    found += [Ending(p.convention_end, place=p) for p in
              Place.objects.filter(organisation=organisation, convention_end__gte=today, convention_end__lte=horizon)]
    return sorted(found, key=lambda e: e.end)


def send_end_notices(today: date) -> int:
    """E-mail each ending once to the organisation's managers; returns how many were sent."""
    sent = 0
    for organisation in Organisation.objects.filter(kind=OrganisationKind.OPERATOR):
        recipients = sorted(set(Membership.objects.filter(organisation=organisation, role__in=MANAGE_ROLES)
                                .exclude(user__email="").values_list("user__email", flat=True)))
        if not recipients:
            continue
        for ending in endings(organisation, today):
            try:
                with transaction.atomic():
                    EndNotice.objects.create(organisation=organisation, subscription=ending.subscription,
                                             place=ending.place, end_date=ending.end)
            except IntegrityError:
                continue  # already told
            context = {"ending": ending, "organisation": organisation, "days": (ending.end - today).days}
            subject = " ".join(render_to_string("contracts/email/ending_subject.txt", context).split())
            send_mail(subject, render_to_string("contracts/email/ending.txt", context), None, recipients)
            sent += 1
    return sent


@dataclass(frozen=True)
class ToDo:
    """Something a manager must do about a subscription's documents."""

    what: str
    subscription: Subscription


def to_handle(organisation: Organisation) -> list[ToDo]:
    """Supporting documents to review, conventions signed but waiting for their documents, documents
    refused or expired without a new one prepared since."""
    from django.utils.translation import gettext as _

    from cascade.subscriptions.models import DocumentStatus, SupportingDocument, VersionStatus

    from .models import Contract, ContractStatus

    todo = [ToDo(_("%(doc)s to review") % {"doc": d.requirement.name}, d.subscription)
            for d in SupportingDocument.objects.filter(subscription__organisation=organisation,
                                                       status=DocumentStatus.PENDING)
            .select_related("requirement", "subscription__subscriber").order_by("uploaded_at")]
    todo += [ToDo(_("signed, waiting for its supporting documents"), s) for s in Subscription.objects.filter(
        organisation=organisation, versions__status=VersionStatus.SIGNED).select_related("subscriber").distinct()]
    for contract in Contract.objects.filter(organisation=organisation, status__in=(
            ContractStatus.REFUSED, ContractStatus.EXPIRED)).select_related("subscription__subscriber"):
        if contract.subscription.open_version is None and not Contract.objects.filter(
                subscription=contract.subscription, created_at__gt=contract.created_at).exists():
            todo.append(ToDo(_("%(title)s %(status)s: prepare a new one or cancel") % {
                "title": contract.title, "status": contract.get_status_display()}, contract.subscription))
    return todo
