"""Forms of the subscription pages: a new subscription, an amendment, a template's new terms."""

from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

from cascade.accounts.models import Organisation, OrganisationKind
from cascade.places.models import Place, Resource

from .actions import TermsInput
from .models import ComponentKind, ContractKind, Frequency, RequiredDocument, SubscriptionTemplate, Term

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AmountField(forms.Field):
    """An amount in euros typed the French way ("1 250,50") or with a dot; a Decimal to the cent."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "size": 12})

    def __init__(self, *args, min_value: Decimal | int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.min_value = min_value

    def to_python(self, value):
        text = str(value).strip() if value is not None else ""
        if not text:
            return None
        cleaned = "".join(text.replace("€", "").split()).replace("\u202f", "").replace(",", ".")
        try:
            amount = Decimal(cleaned)
        except InvalidOperation:
            raise forms.ValidationError(_("“%(value)s” is not an amount like 1 250,50.") % {"value": text}) from None
        if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
            raise forms.ValidationError(_("“%(value)s”: at most two decimals.") % {"value": text})
        if abs(amount) >= Decimal("1e9"):
            raise forms.ValidationError(_("“%(value)s” is too large.") % {"value": text})
        if self.min_value is not None and amount < self.min_value:
            raise forms.ValidationError(_("Amounts cannot be negative."))
        return amount


class TermsForm(forms.Form):
    """The terms of a version: dates, spaces, amounts, billing."""

    entry_date = forms.DateField(label=_("Entry date"), widget=DATE)
    exit_date = forms.DateField(label=_("Exit date"), widget=DATE, required=False,
                                help_text=_("Empty: until further notice, at the latest the end of the owner's "
                                            "convention."))
    resources = forms.ModelMultipleChoiceField(label=_("Spaces"), queryset=Resource.objects.none(),
                                               widget=forms.SelectMultiple(attrs={"size": 8}))
    rent = AmountField(label=_("Occupancy fee, monthly excl. VAT"), min_value=0)
    fluids = AmountField(label=_("Fluids provision, monthly excl. VAT"), required=False, min_value=0)
    frequency = forms.ChoiceField(label=_("Frequency"), choices=Frequency.choices)
    term = forms.ChoiceField(label=_("Term"), choices=Term.choices)
    circumstances = forms.CharField(label=_("Circumstances justifying precariousness"), required=False,
                                    widget=forms.Textarea(attrs={"rows": 3}),
                                    help_text=_("Precarious agreements only (art. L145-5-1 Code de commerce)."))

    def __init__(self, *args, place_queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resources"].queryset = Resource.objects.filter(
            place__in=place_queryset, type__rentable=True).select_related("place", "type").order_by(
            "place__name", "reference")
        self.fields["resources"].label_from_instance = (
            lambda r: f"{r.place.name} — {r.reference} ({r.type.name}{f', {r.surface:g} m²' if r.surface else ''})")

    def clean(self):
        data = super().clean()
        if data.get("entry_date") and data.get("exit_date") and data["exit_date"] < data["entry_date"]:
            self.add_error("exit_date", _("The exit date is before the entry date."))
        return data

    def terms(self, effective_from=None) -> TermsInput:
        data = self.cleaned_data
        return TermsInput(
            entry_date=data["entry_date"], exit_date=data["exit_date"], frequency=data["frequency"],
            term=data["term"], resources=list(data["resources"]),
            amounts={ComponentKind.RENT: data["rent"], ComponentKind.FLUIDS: data.get("fluids")},
            circumstances=data.get("circumstances", ""), effective_from=effective_from)


class NewSubscriptionForm(TermsForm):
    template = forms.ModelChoiceField(label=_("Subscription template"), queryset=SubscriptionTemplate.objects.none(),
                                      required=False)
    subscriber = forms.ModelChoiceField(label=_("Occupant"), queryset=Organisation.objects.none(), required=False,
                                        help_text=_("Or create a new occupant below."))
    new_name = forms.CharField(label=_("New occupant: name"), max_length=200, required=False)
    new_legal_form = forms.CharField(label=_("Legal form"), max_length=100, required=False)
    new_siret = forms.CharField(label="SIRET", max_length=14, required=False)
    new_email = forms.EmailField(label=_("E-mail"), required=False)
    new_address = forms.CharField(label=_("Address"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    new_representative = forms.CharField(label=_("Legal representative"), max_length=200, required=False)
    new_representative_title = forms.CharField(label=_("Signing as"), max_length=100, required=False)
    deposit = AmountField(label=_("Deposit"), required=False, min_value=0)

    field_order = ["template", "subscriber", "new_name", "new_legal_form", "new_siret", "new_email", "new_address",
                   "new_representative", "new_representative_title", "resources", "entry_date", "exit_date", "rent",
                   "fluids", "deposit", "frequency", "term", "circumstances"]

    def __init__(self, *args, operator: Organisation, **kwargs):
        super().__init__(*args, place_queryset=Place.objects.filter(organisation=operator), **kwargs)
        self.fields["template"].queryset = SubscriptionTemplate.objects.filter(organisation=operator)
        self.fields["subscriber"].queryset = Organisation.objects.filter(operator=operator).order_by("name")

    def clean(self):
        data = super().clean()
        if not data.get("subscriber") and not data.get("new_name", "").strip():
            self.add_error("subscriber", _("Choose an occupant, or give the name of a new one."))
        if data.get("subscriber") and data.get("new_name", "").strip():
            self.add_error("new_name", _("Either choose an occupant or create one, not both."))
        siret = data.get("new_siret", "").replace(" ", "")
        if siret:
            from stdnum.fr import siret as stdnum_siret

            if not stdnum_siret.is_valid(siret):
                self.add_error("new_siret", _("“%(value)s” is not a valid SIRET.") % {"value": siret})
            data["new_siret"] = siret
        places = {r.place_id for r in data.get("resources", [])}
        if len(places) > 1:
            self.add_error("resources", _("Choose spaces of one place only."))
        return data

    def new_occupant_fields(self) -> dict:
        data = self.cleaned_data
        return {"name": data["new_name"].strip(), "legal_form": data["new_legal_form"].strip(),
                "siret": data["new_siret"], "email": data["new_email"], "address": data["new_address"].strip(),
                "representative": data["new_representative"].strip(),
                "representative_title": data["new_representative_title"].strip(),
                "kind": OrganisationKind.OCCUPANT}


class AmendmentForm(TermsForm):
    effective_from = forms.DateField(label=_("Effective date"), widget=DATE,
                                     help_text=_("The day from which the new terms apply (it may be in the past)."))
    field_order = ["effective_from"]

    def terms(self, effective_from=None) -> TermsInput:
        return super().terms(effective_from=self.cleaned_data["effective_from"])


class SignersForm(forms.Form):
    """Who signs, in order: the occupant's representative(s), then the operator's."""

    occupant_name = forms.CharField(label=_("Occupant's signer"), max_length=200)
    occupant_email = forms.EmailField(label=_("E-mail"))
    occupant_quality = forms.CharField(label=_("Signing as"), max_length=120, required=False)
    second_name = forms.CharField(label=_("Second signer for the occupant (optional)"), max_length=200,
                                  required=False)
    second_email = forms.EmailField(label=_("E-mail"), required=False)
    second_quality = forms.CharField(label=_("Signing as"), max_length=120, required=False)
    operator_name = forms.CharField(label=_("Operator's signer"), max_length=200)
    operator_email = forms.EmailField(label=_("E-mail"))
    operator_quality = forms.CharField(label=_("Signing as"), max_length=120, required=False)
    link_days = forms.IntegerField(label=_("Links valid for (days)"), min_value=1, max_value=60, initial=14)
    reminder_days = forms.IntegerField(label=_("Remind after (days; 0 = never)"), min_value=0, max_value=30,
                                       initial=3)
    expires_in_days = forms.IntegerField(label=_("The request expires after (days)"), min_value=1, max_value=90,
                                         initial=30)

    def clean(self):
        data = super().clean()
        if bool(data.get("second_name")) != bool(data.get("second_email")):
            self.add_error("second_email", _("A second signer needs both a name and an e-mail address."))
        if data.get("link_days") and data.get("expires_in_days") and data["link_days"] > data["expires_in_days"]:
            self.add_error("link_days", _("Links cannot outlive the request."))
        return data


class SubscriptionTemplateForm(forms.ModelForm):
    class Meta:
        model = SubscriptionTemplate
        fields = ["name", "contract_kind", "anniversary", "invoice_days_before", "payment_notice", "required_documents",
                  "circumstances"]
        widgets = {"circumstances": forms.Textarea(attrs={"rows": 3}),
                   "required_documents": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contract_kind"].choices = ContractKind.choices
        self.fields["required_documents"].queryset = RequiredDocument.objects.filter(
            organisation=self.instance.organisation)

    def clean(self):
        data = super().clean()
        if data.get("payment_notice") and self.instance.pk:
            taxed = sorted({s.place.name for s in self.instance.subscriptions.select_related("place")
                            if s.place.invoice_vat_rate})
            if taxed:
                self.add_error("payment_notice", _("A payment notice carries no VAT, and %(places)s charge VAT: their "
                                                   "occupants are billed by invoices.") % {"places": ", ".join(taxed)})
        return data


class TemplateTermsForm(forms.Form):
    """New billing terms for every subscription of a template, from a date: each gets an amendment."""

    effective_from = forms.DateField(label=_("Effective date"), widget=DATE)
    frequency = forms.ChoiceField(label=_("Frequency"), choices=Frequency.choices)
    term = forms.ChoiceField(label=_("Term"), choices=Term.choices)
    fluids_per_m2 = AmountField(label=_("Fluids provision per m² per month"), required=False,
                                help_text=_("Empty: each subscription keeps its own provision."))

    def clean_fluids_per_m2(self):
        rate = self.cleaned_data["fluids_per_m2"]
        if rate is not None and rate < 0:
            raise forms.ValidationError(_("Amounts cannot be negative."))
        return rate


class RequiredDocumentForm(forms.ModelForm):
    formats = forms.MultipleChoiceField(label=_("Accepted formats"), choices=RequiredDocument.Format.choices,
                                        widget=forms.CheckboxSelectMultiple, initial=["pdf"])

    class Meta:
        model = RequiredDocument
        fields = ["name", "description", "formats", "max_size_mb"]

    def clean_max_size_mb(self):
        size = self.cleaned_data["max_size_mb"]
        if not 1 <= size <= 25:
            raise forms.ValidationError(_("Between 1 and 25 MB."))
        return size

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if RequiredDocument.objects.filter(organisation=self.instance.organisation, name__iexact=name).exclude(
                pk=self.instance.pk).exists():
            raise forms.ValidationError(_("A required document of this name already exists."))
        return name
