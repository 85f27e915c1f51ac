from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("cascade.accounts.urls")),
    path("", include("cascade.places.urls")),
    path("", include("cascade.subscriptions.urls")),
    path("", include("cascade.billing.urls")),
    path("", include("cascade.payments.urls")),
    path("", include("cascade.imports.urls")),
    path("", include("cascade.contracts.urls")),
    path("", include("cascade.signing.urls")),
    path("", include("cascade.ledger.urls")),
]
