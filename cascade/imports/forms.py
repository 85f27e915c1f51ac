from django import forms
from django.utils.translation import gettext_lazy as _


class UploadForm(forms.Form):
    workbook = forms.FileField(label=_("Workbook (.xlsx)"))

    def clean_workbook(self):
        f = self.cleaned_data["workbook"]
        if not f.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(_("Expected an .xlsx workbook."))
        if f.size > 20 * 1024 * 1024:
            raise forms.ValidationError(_("The file is larger than 20 MB."))
        return f


class ConfirmForm(forms.Form):
    billing_from = forms.DateField(
        label=_("Cascade bills from"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Periods invoiced before this date were already invoiced by hand and will never be "
                    "invoiced by Cascade. Leave empty to bill from each entry date."),
    )
