from django.urls import path

from printers import api

urlpatterns = [
    path("", api.PrinterListApi.as_view(), name="printer-list"),
    path("<id:printer_id>/", api.PrinterDetailApi.as_view(), name="printer-detail"),
    path("<id:printer_id>/start_print/", api.PrinterStartPrintApi.as_view(), name="printer-start-print"),
    path("<id:printer_id>/predict/", api.PrinterPredictApi.as_view(), name="printer-predict"),
    path("<id:printer_id>/finish_print/", api.PrinterFinishPrintApi.as_view(), name="printer-finish-print"),
]
