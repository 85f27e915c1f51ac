from django.contrib import admin

from .models import (
    RequiredDocument,
    Subscription,
    SubscriptionComponent,
    SubscriptionTemplate,
    SubscriptionVersion,
    SupportingDocument,
)


class VersionInline(admin.StackedInline):
    model = SubscriptionVersion
    extra = 0
    filter_horizontal = ("resources",)


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("reference", "subscriber", "place", "deposit", "billing_from")
    list_filter = ("place",)
    search_fields = ("reference", "subscriber__name")
    inlines = [VersionInline]


admin.site.register(SubscriptionComponent)
admin.site.register(SubscriptionTemplate)
admin.site.register(RequiredDocument)
admin.site.register(SupportingDocument)
