from django.urls import path

from . import views

urlpatterns = [
    path("s/<str:token>/", views.sign_page, name="sign"),
    path("s/<str:token>/document.pdf", views.document, name="sign_document"),
    path("s/<str:token>/code/", views.send_code, name="sign_send_code"),
    path("s/<str:token>/verify/", views.verify_code, name="sign_verify_code"),
    path("s/<str:token>/sign/", views.sign, name="sign_sign"),
    path("s/<str:token>/refuse/", views.refuse, name="sign_refuse"),
    path("verify/", views.verify, name="verify_pdf"),
    path("signatures/<int:request_id>/", views.request_detail, name="signature_request"),
    path("signatures/<int:request_id>/signed.pdf", views.signed_pdf, name="signature_signed_pdf"),
    path("signatures/<int:request_id>/cancel/", views.cancel_request, name="signature_cancel"),
    path("signatures/<int:request_id>/renew/", views.renew_link, name="signature_renew_link"),
]
