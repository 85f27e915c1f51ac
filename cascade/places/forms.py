from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

from .actions import Part
from .models import Resource


class SplitForm(forms.Form):
    effective_date = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    parts = forms.CharField(
        label=_("New resources"), widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line: reference; surface in m² (optional). Example: A-101a; 12,5"),
    )

    def clean_parts(self) -> list[Part]:
        parts = []
        for number, line in enumerate(self.cleaned_data["parts"].splitlines(), start=1):
            if not line.strip():
                continue
            reference, _sep, surface = line.partition(";")
            try:
                value = Decimal(surface.strip().replace(" ", "").replace(",", ".")) if surface.strip() else None
            except InvalidOperation:
                raise forms.ValidationError(
                    _("Line %(n)s: the surface «%(s)s» is not a number.") % {"n": number, "s": surface.strip()}
                ) from None
            parts.append(Part(reference.strip(), value))
        return parts


class MergeForm(forms.Form):
    effective_date = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    others = forms.ModelMultipleChoiceField(label=_("Merged with"), queryset=Resource.objects.none())
    reference = forms.CharField(label=_("Reference of the merged resource"), max_length=50)

    def __init__(self, *args, resource: Resource, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["others"].queryset = (
            Resource.objects.filter(place_id=resource.place_id, valid_until__isnull=True)
            .exclude(pk=resource.pk).order_by("reference")
        )
