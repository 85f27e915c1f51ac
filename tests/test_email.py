"""Invitations and password resets by e-mail, through a real SMTP server on loopback.

Django's SMTP backend talks to an aiosmtpd server started for this module; the messages it
receives are read as a person would: find the link, open it, follow the pages.
"""

import io
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from cascade.accounts.models import Invitation, Membership, Role
from conftest import PASSWORD, body_of, link_path, login

NEW_PASSWORD = "a river of cedar and chalk"
DANA = "dana@tremplin.example.org"
DANA_FORM = {"first_name": "Dana", "last_name": "Kerouac", "password": NEW_PASSWORD}


def _signs_in(email_address: str, password: str) -> bool:
    """Signing in through the login page, as a person does."""
    response = Client().post(reverse("login"), {"username": email_address, "password": password})
    return response.status_code == 302 and response.url == reverse("home")


# Invitations ---------------------------------------------------------------------------------


def _invite(client, operator, django_capture_on_commit_callbacks, email_address=DANA,
            role=Role.MANAGER):
    # The invitation is sent once its transaction commits.
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("members", args=[operator.pk]),
                           {"email": email_address, "role": role})


def test_an_invited_person_joins_with_the_invited_role_and_signs_in(
        alice_client, operator, inbox, django_capture_on_commit_callbacks):
    response = _invite(alice_client, operator, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert response.url == reverse("members", args=[operator.pk])
    message = inbox.only(DANA)
    assert operator.name in message["Subject"]
    assert operator.name in body_of(message)
    path = link_path(message)
    assert path.startswith("/invitation/")

    visitor = Client()
    page = visitor.get(path)
    assert page.status_code == 200
    assert DANA in page.content.decode()
    joined = visitor.post(path, DANA_FORM, follow=True)

    assert joined.status_code == 200
    assert joined.redirect_chain[-1][0] == reverse("dashboard", args=[operator.pk])
    dana = get_user_model().objects.get(email=DANA)
    assert joined.context["user"] == dana
    assert (dana.first_name, dana.last_name) == ("Dana", "Kerouac")
    assert Membership.objects.get(user=dana, organisation=operator).role == Role.MANAGER
    assert Invitation.objects.get(email=DANA).accepted_at is not None
    assert _signs_in(DANA, NEW_PASSWORD)
    assert not _signs_in(DANA, "not the password")


def test_an_invitation_link_cannot_be_used_twice(alice_client, operator, inbox,
                                                 django_capture_on_commit_callbacks):
    _invite(alice_client, operator, django_capture_on_commit_callbacks, role=Role.VIEWER)
    path = link_path(inbox.only(DANA))
    assert Client().post(path, DANA_FORM).status_code == 302

    other = Client()
    used = other.get(path)
    assert used.status_code == 404
    assert "Cette invitation a déjà été utilisée" in used.content.decode()
    assert other.post(path, DANA_FORM | {"password": "another long passphrase"}).status_code == 404
    assert _signs_in(DANA, NEW_PASSWORD)
    assert not _signs_in(DANA, "another long passphrase")
    assert Membership.objects.filter(user__email=DANA).count() == 1


def test_a_weak_password_is_refused_and_the_invitation_kept(alice_client, operator, inbox,
                                                            django_capture_on_commit_callbacks):
    _invite(alice_client, operator, django_capture_on_commit_callbacks)
    path = link_path(inbox.only(DANA))

    response = Client().post(path, DANA_FORM | {"password": "password"})

    assert response.status_code == 200
    assert response.context["form"].errors["password"]
    assert not get_user_model().objects.filter(email=DANA).exists()
    assert Client().get(path).status_code == 200


def test_inviting_a_member_again_sends_nothing(alice_client, operator, site, inbox,
                                               django_capture_on_commit_callbacks):
    response = _invite(alice_client, operator, django_capture_on_commit_callbacks,
                       site["bob"].email)

    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert inbox.messages == []


def test_an_invitation_to_an_existing_account_needs_its_password(
        alice_client, operator, site, inbox, django_capture_on_commit_callbacks):
    """The link alone does not open an account that already exists: its owner signs in first."""
    charlie = site["charlie"]
    _invite(alice_client, operator, django_capture_on_commit_callbacks, charlie.email, Role.VIEWER)
    path = link_path(inbox.only(charlie.email))

    stranger = Client()
    response = stranger.post(path, {"first_name": "Eve", "last_name": "Mallory",
                                    "password": NEW_PASSWORD})

    assert response.status_code == 302
    assert urlsplit(response.url).path == reverse("login")
    assert "_auth_user_id" not in stranger.session
    assert not Membership.objects.filter(user=charlie, organisation=operator).exists()
    assert not _signs_in(charlie.email, NEW_PASSWORD)

    login(stranger, charlie)
    assert stranger.post(path).status_code == 302
    assert Membership.objects.get(user=charlie, organisation=operator).role == Role.VIEWER


# Password reset ------------------------------------------------------------------------------


def test_a_forgotten_password_is_reset_through_the_link_received(site, inbox):
    alice = site["alice"]
    visitor = Client()

    response = visitor.post(reverse("password_reset"), {"email": alice.email})

    assert response.status_code == 302
    assert response.url == reverse("password_reset_done")
    path = link_path(inbox.only(alice.email))
    form = visitor.get(path, follow=True)
    assert form.status_code == 200
    assert form.context["validlink"]
    set_password_path = form.redirect_chain[-1][0]
    done = visitor.post(set_password_path,
                        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert done.url == reverse("password_reset_complete")

    assert _signs_in(alice.email, NEW_PASSWORD)
    assert not _signs_in(alice.email, PASSWORD)
    # The link is spent.
    again = Client().get(path, follow=True)
    assert again.status_code == 200
    assert not again.context["validlink"]


def test_an_unknown_address_receives_nothing(site, inbox):
    response = Client().post(reverse("password_reset"), {"email": "nobody@nowhere.example.org"})

    # The same answer as for a known address: nobody learns who has an account.
    assert response.status_code == 302
    assert response.url == reverse("password_reset_done")
    assert inbox.messages == []


def test_the_first_administrator_is_invited_from_the_command_line(operator, inbox,
                                                                   django_capture_on_commit_callbacks):
    """After an import into a fresh database nobody can sign in: `cascade invite` opens the door."""
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("invite", "EVE@Tremplin.example.org", "--organisation", operator.slug, stdout=out)

    message = inbox.only("eve@tremplin.example.org")
    path = link_path(message)
    assert f"{operator.name} vous invite à rejoindre {operator.name}" in body_of(message)
    assert out.getvalue().strip().endswith(path)
    assert Client().post(path, DANA_FORM).status_code == 302
    eve = get_user_model().objects.get(email="eve@tremplin.example.org")
    assert Membership.objects.get(user=eve, organisation=operator).role == Role.ADMIN


def test_inviting_into_an_unknown_organisation_is_refused(operator, inbox):
    with pytest.raises(CommandError, match="no organisation matches 'Nulle Part'"):
        call_command("invite", "eve@tremplin.example.org", "--organisation", "Nulle Part")
    assert inbox.messages == []


def test_a_failed_login_speaks_of_the_e_mail_address(site):
    page = Client().post(reverse("login"), {"username": site["alice"].email, "password": "wrong"})

    assert page.status_code == 200
    html = page.content.decode()
    assert "Cette adresse e-mail et ce mot de passe ne correspondent à aucun compte." in html
    assert "nom d’utilisateur" not in html and "nom d'utilisateur" not in html
    reset = Client().get(reverse("password_reset")).content.decode()
    assert "Courriel" not in reset
    assert "Adresse e-mail" in reset
