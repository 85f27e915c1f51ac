import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

from .actions import ATTRIBUTE_TYPES, Part
from .models import Resource, ResourceType


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
            if len(reference.strip()) > REFERENCE_LENGTH:
                raise forms.ValidationError(_("Line %(n)s: a reference has at most %(max)s characters.")
                                            % {"n": number, "max": REFERENCE_LENGTH})
            parts.append(Part(reference.strip(), _surface(surface.strip(), number)))
        return parts


REFERENCE_LENGTH = Resource._meta.get_field("reference").max_length
# What the surface column keeps: 10 digits, 2 of them decimals.
MAX_SURFACE = Decimal("99999999.99")


def _surface(text: str, number: int) -> Decimal | None:
    if not text:
        return None
    try:
        value = Decimal(text.replace(" ", "").replace("\u202f", "").replace(",", "."))
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise forms.ValidationError(_("Line %(n)s: the surface «%(s)s» is not a number.") % {"n": number, "s": text})
    if not Decimal("0") < value <= MAX_SURFACE or value != value.quantize(Decimal("0.01")):
        raise forms.ValidationError(_("Line %(n)s: a surface is a number of m² above 0, with at most two decimals "
                                      "(«%(s)s»).") % {"n": number, "s": text})
    return value


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


class ResourceTypeForm(forms.ModelForm):
    """A resource type as its operator defines it; attributes written one per line."""

    attribute_lines = forms.CharField(
        label=_("Attributes"), required=False, widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("One per line: key; label; type (text, number or bool). Example: sink; Point d'eau; bool"))

    class Meta:
        model = ResourceType
        fields = ["unit", "rentable", "reference_price", "price_basis"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attribute_lines"].initial = "\n".join(
            f"{a['key']}; {a['label']}; {a['type']}" for a in self.instance.attributes)

    def clean_reference_price(self):
        price = self.cleaned_data["reference_price"]
        if price < 0:
            raise forms.ValidationError(_("A reference price cannot be negative."))
        return price

    def clean_attribute_lines(self) -> list[dict]:
        definitions, keys = [], set()
        for number, line in enumerate(self.cleaned_data["attribute_lines"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split(";")]
            if len(parts) != 3 or not parts[0] or not parts[1]:
                raise forms.ValidationError(_("Line %(n)s: write key; label; type.") % {"n": number})
            key, label, kind = parts
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", key):
                raise forms.ValidationError(_("Line %(n)s: a key is lower-case letters, digits and _ (e.g. "
                                              "sink_count).") % {"n": number})
            if kind not in ATTRIBUTE_TYPES:
                raise forms.ValidationError(_("Line %(n)s: the type is text, number or bool.") % {"n": number})
            if key in keys:
                raise forms.ValidationError(_("Line %(n)s: the key %(key)s is used twice.") % {"n": number, "key": key})
            keys.add(key)
            definitions.append({"key": key, "label": label[:100], "type": kind})
        return definitions


class AttributesForm(forms.Form):
    """The values of a resource's attributes, one field per attribute its type defines."""

    def __init__(self, *args, resource: Resource, **kwargs):
        super().__init__(*args, **kwargs)
        for attribute in resource.type.attributes:
            value = resource.attributes.get(attribute["key"])
            if attribute["type"] == "bool":
                field = forms.BooleanField(required=False, initial=bool(value))
            elif attribute["type"] == "number":
                field = forms.DecimalField(required=False, max_digits=12, decimal_places=2, initial=value)
            else:
                field = forms.CharField(required=False, max_length=200, initial=value)
            field.label = attribute["label"]
            self.fields[attribute["key"]] = field

    def values(self) -> dict:
        return {key: (str(value) if isinstance(value, Decimal) else value)
                for key, value in self.cleaned_data.items()}
