from django.urls import path

from prints import api

urlpatterns = [
    path("prints/", api.PrintListApi.as_view(), name="print-list"),
    path("prints/<id:print_id>/", api.PrintDetailApi.as_view(), name="print-detail"),
    path("printers/<id:printer_id>/start_print/", api.PrinterStartPrintApi.as_view(), name="printer-start-print"),
    path("printers/<id:printer_id>/predict/", api.PrinterPredictApi.as_view(), name="printer-predict"),
    path("printers/<id:printer_id>/finish_print/", api.PrinterFinishPrintApi.as_view(), name="printer-finish-print"),
    path("prints/<id:print_id>/predictions/", api.PrintPredictionListApi.as_view(), name="print-predictions"),
    path("prints/<id:print_id>/alerts/", api.PrintAlertListApi.as_view(), name="print-alerts"),
    path("alerts/<id:alert_id>/snapshot/", api.AlertSnapshotApi.as_view(), name="alert-snapshot"),
    path("alerts/<id:alert_id>/feedback/", api.AlertFeedbackApi.as_view(), name="alert-feedback"),
]
