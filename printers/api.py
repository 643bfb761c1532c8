"""The printers endpoints of the spec: list, create, detail, update, delete, start, predict, finish."""

import logging

from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from detection import services as detection_services
from detection.image import InvalidImage
from detection.runner import ModelUnavailable
from detection.serializers import TemporalStatsSerializer
from detection.verdict import Verdict
from obico_api.api.exceptions import ServiceUnavailable
from obico_api.api.fields import PlainTextField
from obico_api.api.schema import error_responses
from obico_api.api.throttling import ApiRateThrottle, PredictRateThrottle
from printers import selectors, services
from printers.models import SENSITIVITY_MAX, SENSITIVITY_MIN
from prints import services as print_services
from prints.models import Print

logger = logging.getLogger(__name__)


class CurrentPrintSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    filename = serializers.CharField()
    started_at = serializers.DateTimeField()


class LastPredictionSerializer(serializers.Serializer):
    p = serializers.FloatField(source="last_p")
    predicted_at = serializers.DateTimeField(source="last_predicted_at")


class PrinterStatusSerializer(serializers.Serializer):
    """The printer's live state: printing or not, the latest prediction, the statistics, the verdict."""

    printing = serializers.SerializerMethodField()
    last_prediction = serializers.SerializerMethodField()
    verdict = serializers.SerializerMethodField()
    temporal_stats = TemporalStatsSerializer(source="stats")

    def get_printing(self, printer) -> bool:
        return printer.current_print_id is not None

    @extend_schema_field(LastPredictionSerializer(allow_null=True))
    def get_last_prediction(self, printer) -> dict | None:
        if printer.stats.last_predicted_at is None:
            return None
        return LastPredictionSerializer(printer.stats).data

    def get_verdict(self, printer) -> str | None:
        """The current print's latest verdict; null when idle or before its first prediction."""
        return (printer.stats.last_verdict or None) if printer.current_print_id else None


class PrinterOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    sensitivity = serializers.FloatField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    current_print = CurrentPrintSerializer(allow_null=True)
    status = PrinterStatusSerializer(source="*")


class PrinterCreateInputSerializer(serializers.Serializer):
    name = PlainTextField(max_length=255)
    sensitivity = serializers.FloatField(min_value=SENSITIVITY_MIN, max_value=SENSITIVITY_MAX, required=False)


class PrinterUpdateInputSerializer(PrinterCreateInputSerializer):
    name = PlainTextField(max_length=255, required=False)


class SucceededSerializer(serializers.Serializer):
    succeeded = serializers.BooleanField()
    printer = PrinterOutputSerializer()


def printer_response(printer, *, status_code=status.HTTP_200_OK) -> Response:
    return Response(PrinterOutputSerializer(printer).data, status=status_code)


def succeeded_response(printer) -> Response:
    """The spec's answer to start_print and finish_print."""
    return Response({"succeeded": True, "printer": PrinterOutputSerializer(printer).data})


class PrinterListApi(APIView):
    @extend_schema(
        operation_id="printers_list", responses={200: PrinterOutputSerializer(many=True), **error_responses()}
    )
    def get(self, request):
        printers = selectors.printer_list(user=request.user)
        return Response(PrinterOutputSerializer(printers, many=True).data)

    @extend_schema(
        request=PrinterCreateInputSerializer,
        responses={201: PrinterOutputSerializer, **error_responses(400)},
    )
    def post(self, request):
        data = PrinterCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        printer = services.printer_create(owner=request.user, **data.validated_data)
        return printer_response(printer, status_code=status.HTTP_201_CREATED)


class PrinterDetailApi(APIView):
    @extend_schema(responses={200: PrinterOutputSerializer, **error_responses(404)})
    def get(self, request, printer_id: int):
        return printer_response(selectors.printer_get(user=request.user, printer_id=printer_id))

    @extend_schema(
        request=PrinterUpdateInputSerializer,
        responses={200: PrinterOutputSerializer, **error_responses(400, 404)},
    )
    def patch(self, request, printer_id: int):
        printer = selectors.printer_get(user=request.user, printer_id=printer_id)
        data = PrinterUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return printer_response(services.printer_update(printer=printer, **data.validated_data))

    @extend_schema(
        responses={204: None, **error_responses(400, 404, s400="The printer is printing.")},
    )
    def delete(self, request, printer_id: int):
        printer = selectors.printer_get(user=request.user, printer_id=printer_id)
        services.printer_delete(printer=printer)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StartPrintInputSerializer(serializers.Serializer):
    filename = PlainTextField(max_length=255, help_text="The name of the file being printed.")


class PrinterStartPrintApi(APIView):
    @extend_schema(
        operation_id="printers_start_print",
        request=StartPrintInputSerializer,
        responses={
            200: SucceededSerializer,
            **error_responses(
                400, 404, s400="Missing, blank or too long filename, or the printer is already printing."
            ),
        },
    )
    def post(self, request, printer_id: int):
        printer = selectors.printer_get(user=request.user, printer_id=printer_id)
        data = StartPrintInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        printer = print_services.print_start(
            printer=printer, application=request.auth.application, **data.validated_data
        )
        return succeeded_response(printer)


class FinishPrintInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[("success", "success"), ("cancelled", "cancelled")],
        default="success",
        help_text="`success` (the default) records the print as finished; `cancelled` as cancelled.",
    )


# The spec's request word for a good ending, and the print status it becomes.
FINISH_STATUS = {"success": Print.Status.FINISHED, "cancelled": Print.Status.CANCELLED}


class PrinterFinishPrintApi(APIView):
    @extend_schema(
        operation_id="printers_finish_print",
        request=FinishPrintInputSerializer,
        responses={200: SucceededSerializer, **error_responses(400, 404, s404="No active print session.")},
    )
    def post(self, request, printer_id: int):
        printer = selectors.printer_get(user=request.user, printer_id=printer_id)
        data = FinishPrintInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        printer = print_services.print_finish(printer=printer, status=FINISH_STATUS[data.validated_data["status"]])
        return succeeded_response(printer)


class PredictionResultSerializer(serializers.Serializer):
    p = serializers.FloatField(help_text="0 means no failure detected; 1 the maximum confidence of a failure.")
    temporal_stats = TemporalStatsSerializer()
    detections = serializers.SerializerMethodField()
    verdict = serializers.ChoiceField(
        choices=[v.value for v in Verdict],
        help_text="The server's reading of the statistics with Obico's rule and the printer's sensitivity.",
    )

    def get_detections(self, result) -> list[list]:
        """``[confidence, [xc, yc, w, h]]`` pairs, in pixels of the uploaded image."""
        return detection_services.detections_as_lists(result.detections)


class PrinterPredictApi(APIView):
    parser_classes = [MultiPartParser]
    throttle_classes = [ApiRateThrottle, PredictRateThrottle]

    @extend_schema(
        operation_id="printers_predict",
        request={
            "multipart/form-data": inline_serializer(
                "PredictRequest",
                fields={"img": serializers.ImageField(help_text="A webcam snapshot (JPEG, PNG or WebP).")},
            )
        },
        responses={
            200: inline_serializer("PredictResponse", fields={"result": PredictionResultSerializer()}),
            **error_responses(
                400,
                404,
                413,
                415,
                503,
                s400="Missing, empty or undecodable `img`.",
                s404="Printer is not currently printing.",
                s503='ML API service unavailable: `{"error": "Failed to perform failure detection."}`.',
            ),
        },
    )
    def post(self, request, printer_id: int):
        uploads = request.FILES.getlist("img")
        if not uploads:
            raise serializers.ValidationError({"img": ["This field is required."]})
        if len(uploads) > 1:
            raise serializers.ValidationError({"img": ["Send exactly one image."]})
        try:
            result = detection_services.predict(
                owner=request.user, printer_id=printer_id, image_bytes=uploads[0].read()
            )
        except InvalidImage as exc:
            raise serializers.ValidationError({"img": [str(exc)]}) from exc
        except ModelUnavailable as exc:
            logger.error("Failure detection failed for printer %s: %s", printer_id, exc)
            raise ServiceUnavailable("Failed to perform failure detection.", code="model_unavailable") from exc
        return Response({"result": PredictionResultSerializer(result).data})
