"""Account actions: inviting a member, accepting an invitation."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from .audit import record
from .models import Invitation, Membership, Organisation


def unique_slug(name: str) -> str:
    """A slug for a new organisation, numbered when the name's is taken."""
    base = slugify(name)[:70] or "org"
    slug, n = base, 2
    while Organisation.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


class InvitationError(Exception):
    pass


@transaction.atomic
def invite_member(organisation: Organisation, email: str, role: str, *, acting_user=None) -> Invitation:
    """Invite `email` into `organisation` with `role`; the e-mail goes out once committed.

    Without an acting user (the `cascade invite` command, for the first administrator), the
    invitation comes from the organisation itself."""
    email = email.strip().lower()
    if Membership.objects.filter(organisation=organisation, user__email__iexact=email).exists():
        raise InvitationError(
            _("%(email)s is already a member of %(org)s.") % {"email": email, "org": organisation})
    invitation = Invitation.objects.create(organisation=organisation, email=email, role=role,
                                           invited_by=acting_user)
    record("member.invited", organisation=organisation, actor=acting_user, obj=invitation,
           email=email, role=role)
    link = settings.SITE_URL.rstrip("/") + reverse("accept_invitation", args=[invitation.token])
    # Rendered now, in the inviter's active language (French unless they chose English).
    context = {"organisation": organisation.name, "role": invitation.get_role_display(), "link": link,
               "inviter": (acting_user.get_full_name() or acting_user.email) if acting_user else organisation.name}
    subject = " ".join(render_to_string("accounts/email/invitation_subject.txt", context).split())
    body = render_to_string("accounts/email/invitation.txt", context)
    transaction.on_commit(lambda: send_mail(subject, body, None, [email]))
    return invitation


@transaction.atomic
def accept_invitation(invitation: Invitation, *, first_name: str = "", last_name: str = "",
                      password: str | None = None, user=None):
    """Create (or reuse) the user and give them the invited role. Returns the user."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at:
        raise InvitationError(_("This invitation has already been used."))
    User = get_user_model()
    if user is None:
        user = User.objects.filter(email__iexact=invitation.email).first()
    if user is None:
        validate_password(password)
        user = User.objects.create_user(username=invitation.email, email=invitation.email,
                                        password=password, first_name=first_name, last_name=last_name)
    Membership.objects.get_or_create(user=user, organisation=invitation.organisation,
                                     defaults={"role": invitation.role})
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    record("member.joined", organisation=invitation.organisation, actor=user, obj=invitation,
           email=invitation.email, role=invitation.role)
    return user
