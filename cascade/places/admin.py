from django.contrib import admin

from .models import Place, PlaceShare, Resource, ResourceChange, ResourceType


class PlaceShareInline(admin.TabularInline):
    model = PlaceShare
    extra = 0


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation", "convention_start", "convention_end", "vat_regime")
    inlines = [PlaceShareInline]


@admin.register(ResourceType)
class ResourceTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation", "unit", "rentable", "reference_price", "price_basis")


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    list_display = ("reference", "place", "type", "surface", "capacity", "parent", "valid_from", "valid_until")
    list_filter = ("place", "type")
    search_fields = ("reference",)


admin.site.register(ResourceChange)
