from django.urls import path

from prints import api

urlpatterns = [
    path("", api.PrintListApi.as_view(), name="print-list"),
    path("<id:print_id>/", api.PrintDetailApi.as_view(), name="print-detail"),
    path("<id:print_id>/predictions/", api.PrintPredictionListApi.as_view(), name="print-predictions"),
]
