"""The printers endpoints of the spec: list, create, detail, update, delete, start, predict, finish."""

import logging

from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from detection import services as detection_services
from detection.image import InvalidImage
from detection.runner import ModelUnavailable
from obico_api.api.exceptions import ServiceUnavailable
from printers import selectors, services
from prints import services as print_services
from prints.models import Print

logger = logging.getLogger(__name__)


class TemporalStatsSerializer(serializers.Serializer):
    ewm_mean = serializers.FloatField()
    rolling_mean_short = serializers.FloatField()
    rolling_mean_long = serializers.FloatField()
    prediction_num = serializers.IntegerField()
    prediction_num_lifetime = serializers.IntegerField()


class CurrentPrintSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    filename = serializers.CharField()
    started_at = serializers.DateTimeField()


class PrinterStatusSerializer(serializers.Serializer):
    """The printer's live state: printing or not, the latest prediction, the statistics."""

    printing = serializers.SerializerMethodField()
    last_prediction = serializers.SerializerMethodField()
    temporal_stats = TemporalStatsSerializer(source="stats")

    def get_printing(self, printer) -> bool:
        return printer.current_print_id is not None

    def get_last_prediction(self, printer) -> dict | None:
        if printer.stats.last_predicted_at is None:
            return None
        return {
            "p": printer.stats.last_p,
            "predicted_at": serializers.DateTimeField().to_representation(printer.stats.last_predicted_at),
        }


class PrinterOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    current_print = CurrentPrintSerializer(allow_null=True)
    status = PrinterStatusSerializer(source="*")


class PrinterInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)


def printer_response(printer, *, status_code=status.HTTP_200_OK) -> Response:
    return Response(PrinterOutputSerializer(printer).data, status=status_code)


def succeeded_response(printer) -> Response:
    """The spec's answer to start_print and finish_print."""
    return Response({"succeeded": True, "printer": PrinterOutputSerializer(printer).data})


class PrinterListApi(APIView):
    def get(self, request):
        printers = selectors.printer_list(user=request.user)
        return Response(PrinterOutputSerializer(printers, many=True).data)

    def post(self, request):
        data = PrinterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        printer = services.printer_create(owner=request.user, **data.validated_data)
        return printer_response(printer, status_code=status.HTTP_201_CREATED)


class PrinterDetailApi(APIView):
    def get(self, request, printer_id):
        return printer_response(selectors.printer_get(user=request.user, printer_id=printer_id))

    def patch(self, request, printer_id):
        printer = selectors.printer_get(user=request.user, printer_id=printer_id)
        data = PrinterInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        return printer_response(services.printer_update(printer=printer, **data.validated_data))

    def delete(self, request, printer_id):
        printer = selectors.printer_get(user=request.user, printer_id=printer_id)
        services.printer_delete(printer=printer)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StartPrintInputSerializer(serializers.Serializer):
    filename = serializers.CharField(max_length=255)


class PrinterStartPrintApi(APIView):
    def post(self, request, printer_id):
        printer = selectors.printer_get(user=request.user, printer_id=printer_id)
        data = StartPrintInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return succeeded_response(print_services.print_start(printer=printer, **data.validated_data))


class FinishPrintInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[("success", "success"), ("cancelled", "cancelled")], default="success")


# The spec's request word for a good ending, and the print status it becomes.
FINISH_STATUS = {"success": Print.Status.FINISHED, "cancelled": Print.Status.CANCELLED}


class PrinterFinishPrintApi(APIView):
    def post(self, request, printer_id):
        printer = selectors.printer_get(user=request.user, printer_id=printer_id)
        data = FinishPrintInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        printer = print_services.print_finish(printer=printer, status=FINISH_STATUS[data.validated_data["status"]])
        return succeeded_response(printer)


class PredictionResultSerializer(serializers.Serializer):
    p = serializers.FloatField()
    temporal_stats = TemporalStatsSerializer()
    detections = serializers.SerializerMethodField()

    def get_detections(self, result) -> list:
        """The spec's ``[confidence, [xc, yc, w, h]]`` pairs, in pixels of the uploaded image."""
        return [[d.confidence, [d.xc, d.yc, d.w, d.h]] for d in result.detections]


class PrinterPredictApi(APIView):
    parser_classes = [MultiPartParser]

    def post(self, request, printer_id):
        printer = selectors.printer_get(user=request.user, printer_id=printer_id)
        uploads = request.FILES.getlist("img")
        if not uploads:
            raise serializers.ValidationError({"img": ["This field is required."]})
        if len(uploads) > 1:
            raise serializers.ValidationError({"img": ["Send exactly one image."]})
        try:
            result = detection_services.predict(printer=printer, image_bytes=uploads[0].read())
        except InvalidImage as exc:
            raise serializers.ValidationError({"img": [str(exc)]}) from exc
        except ModelUnavailable as exc:
            logger.error("Failure detection failed for printer %s: %s", printer.pk, exc)
            raise ServiceUnavailable("Failed to perform failure detection.", code="model_unavailable") from exc
        return Response({"result": PredictionResultSerializer(result).data})
