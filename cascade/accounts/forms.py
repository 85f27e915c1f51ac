from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils.translation import gettext_lazy as _

from .models import Role


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.CharField(label=_("E-mail"), widget=forms.EmailInput(attrs={"autofocus": True}))
    # People sign in with their e-mail address: the error says so, not "username".
    error_messages = {**AuthenticationForm.error_messages,
                      "invalid_login": _("This e-mail address and password do not match an account.")}


class EmailPasswordResetForm(PasswordResetForm):
    email = forms.EmailField(label=_("E-mail"), max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}))


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.MEMBER)


class AcceptInvitationForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, min_length=8)
