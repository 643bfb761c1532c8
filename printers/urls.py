from django.urls import path

from printers import api

urlpatterns = [
    path("printers/", api.PrinterListApi.as_view(), name="printer-list"),
    path("printers/<id:printer_id>/", api.PrinterDetailApi.as_view(), name="printer-detail"),
]
