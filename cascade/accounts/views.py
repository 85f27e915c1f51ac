from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from . import actions
from .forms import AcceptInvitationForm, EmailAuthenticationForm, InvitationForm
from .models import ADMIN_ROLES, Invitation, Membership, OrganisationKind
from .tenancy import managed_organisation_or_404, organisation_ids

__all__ = ["EmailAuthenticationForm", "accept_invitation", "home", "members"]


@login_required
def home(request):
    """Send the user to the dashboard of their (first) operator organisation."""
    memberships = Membership.objects.filter(user=request.user).select_related("organisation")
    operators = [m for m in memberships if m.organisation.kind == OrganisationKind.OPERATOR]
    if len(operators) == 1 and len(memberships) == 1:
        return redirect("dashboard", org_id=operators[0].organisation_id)
    return render(request, "accounts/home.html", {"memberships": memberships})


@login_required
def members(request, org_id: int):
    if org_id not in organisation_ids(request.user):
        raise Http404
    organisation = get_object_or_404(request.user.memberships.all(), organisation_id=org_id).organisation
    is_admin = request.user.memberships.filter(organisation_id=org_id, role__in=ADMIN_ROLES).exists()
    form = InvitationForm(request.POST or None)
    if request.method == "POST":
        organisation = managed_organisation_or_404(request.user, org_id, ADMIN_ROLES)
        if form.is_valid():
            try:
                actions.invite_member(organisation, form.cleaned_data["email"], form.cleaned_data["role"],
                                      acting_user=request.user)
            except actions.InvitationError as exc:
                form.add_error("email", str(exc))
            else:
                messages.success(request, _("Invitation sent to %(email)s.") % form.cleaned_data)
                return redirect("members", org_id=org_id)
    return render(request, "accounts/members.html", {
        "organisation": organisation,
        "memberships": organisation.memberships.select_related("user"),
        "invitations": organisation.invitations.filter(accepted_at__isnull=True),
        "form": form,
        "is_admin": is_admin,
    })


def accept_invitation(request, token: str):
    invitation = get_object_or_404(Invitation, token=token)
    if invitation.accepted_at:
        # Still a 404 (the link opens nothing), with a page that says what to do instead.
        return render(request, "accounts/invitation_used.html", status=404)
    invitee_signed_in = request.user.is_authenticated and request.user.email.lower() == invitation.email
    if not invitee_signed_in and get_user_model().objects.filter(email__iexact=invitation.email).exists():
        # The link alone must not open an existing account: its owner signs in, then accepts.
        return redirect_to_login(request.get_full_path())
    form = AcceptInvitationForm(request.POST or None)
    if request.method == "POST":
        if invitee_signed_in:
            actions.accept_invitation(invitation, user=request.user)
            return redirect("home")
        if form.is_valid():
            try:
                user = actions.accept_invitation(invitation, **form.cleaned_data)
            except ValidationError as exc:  # a password the validators refuse
                form.add_error("password", exc)
            except actions.InvitationError as exc:
                form.add_error(None, str(exc))
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(request, _("Welcome to %(org)s.") % {"org": invitation.organisation})
                return redirect("home")
    return render(request, "accounts/accept_invitation.html", {"invitation": invitation, "form": form})
