"""The prints endpoints: a printer's print lifecycle (start, predict, finish), the caller's prints
newest first, each print's prediction timeline and alerts, an alert's snapshot and its feedback."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.oauth import BEARER_SCHEME, OAUTH2_SCHEME
from accounts.permissions import READ, WRITE
from detection.image import InvalidImage
from detection.selectors import prediction_list
from obico_api.api.pagination import StandardPagination, paginated_response
from obico_api.api.schema import error_responses
from obico_api.api.throttling import ApiRateThrottle, PredictRateThrottle
from printers.selectors import printer_get
from printers.serializers import PrinterOutputSerializer
from prints import selectors
from prints.models import Print
from prints.permissions import UserTokenOrSignedSnapshotLink
from prints.serializers import (
    AlertFeedbackInputSerializer,
    AlertOutputSerializer,
    FinishPrintInputSerializer,
    PredictionOutputSerializer,
    PredictionResultSerializer,
    PrintOutputSerializer,
    StartPrintInputSerializer,
    SucceededSerializer,
)
from prints.services.alerts import alert_feedback_set
from prints.services.lifecycle import print_finish, print_start
from prints.services.predict import print_snapshot_predict
from prints.signing import SIGNATURE_PARAMETER

# The spec's request word for a good ending, and the print status it becomes.
FINISH_STATUS = {"success": Print.Status.FINISHED, "cancelled": Print.Status.CANCELLED}

# The snapshot's media type, and the generic name of bytes that openapi-python-client reads as binary
# (it drops any image/*): the schema offers the JPEG under both, and a client asking only for the
# second gets it.
JPEG = "image/jpeg"
OCTET_STREAM = "application/octet-stream"


def succeeded_response(printer) -> Response:
    """The spec's answer to start_print and finish_print."""
    return Response({"succeeded": True, "printer": PrinterOutputSerializer(printer).data})


class PrintListApi(APIView):
    required_alternate_scopes = {"GET": [[READ]]}
    pagination_class = StandardPagination  # tells drf-spectacular about the envelope and page parameters

    @extend_schema(
        responses={200: PrintOutputSerializer(many=True), **error_responses(400, 404, s404="No such page.")},
    )
    def get(self, request):
        return paginated_response(
            request=request,
            view=self,
            queryset=selectors.print_list(user=request.user),
            serializer_class=PrintOutputSerializer,
        )


class PrintDetailApi(APIView):
    required_alternate_scopes = {"GET": [[READ]]}

    @extend_schema(responses={200: PrintOutputSerializer, **error_responses(404)})
    def get(self, request, print_id: int):
        return Response(PrintOutputSerializer(selectors.print_get(user=request.user, print_id=print_id)).data)


class PrintPredictionListApi(APIView):
    required_alternate_scopes = {"GET": [[READ]]}
    pagination_class = StandardPagination

    @extend_schema(
        responses={200: PredictionOutputSerializer(many=True), **error_responses(400, 404)},
    )
    def get(self, request, print_id: int):
        print_ = selectors.print_get(user=request.user, print_id=print_id)
        return paginated_response(
            request=request,
            view=self,
            queryset=prediction_list(print_id=print_.pk),
            serializer_class=PredictionOutputSerializer,
        )


class PrinterStartPrintApi(APIView):
    required_alternate_scopes = {"POST": [[WRITE]]}

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
        printer = printer_get(user=request.user, printer_id=printer_id)
        data = StartPrintInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        printer = print_start(printer=printer, application=request.auth.application, **data.validated_data)
        return succeeded_response(printer)


class PrinterFinishPrintApi(APIView):
    required_alternate_scopes = {"POST": [[WRITE]]}

    @extend_schema(
        operation_id="printers_finish_print",
        request=FinishPrintInputSerializer,
        responses={200: SucceededSerializer, **error_responses(400, 404, s404="No active print session.")},
    )
    def post(self, request, printer_id: int):
        printer = printer_get(user=request.user, printer_id=printer_id)
        data = FinishPrintInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        printer = print_finish(printer=printer, status=FINISH_STATUS[data.validated_data["status"]])
        return succeeded_response(printer)


class PrinterPredictApi(APIView):
    required_alternate_scopes = {"POST": [[WRITE]]}
    parser_classes = [MultiPartParser]
    throttle_classes = [ApiRateThrottle, PredictRateThrottle]

    @extend_schema(
        operation_id="printers_predict",
        request={
            "multipart/form-data": inline_serializer(
                "Predict",  # the component is PredictRequest (COMPONENT_SPLIT_REQUEST adds "Request")
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
            result = print_snapshot_predict(owner=request.user, printer_id=printer_id, image_bytes=uploads[0].read())
        except InvalidImage as exc:  # the pure decoder's error, about the bytes of this view's `img` field
            raise serializers.ValidationError({"img": [str(exc)]}) from exc
        return Response({"result": PredictionResultSerializer(result).data})


class PrintAlertListApi(APIView):
    required_alternate_scopes = {"GET": [[READ]]}
    pagination_class = StandardPagination

    @extend_schema(
        responses={200: AlertOutputSerializer(many=True), **error_responses(400, 404)},
    )
    def get(self, request, print_id: int):
        print_ = selectors.print_get(user=request.user, print_id=print_id)
        return paginated_response(
            request=request,
            view=self,
            queryset=selectors.alert_list(print_id=print_.pk),
            serializer_class=AlertOutputSerializer,
        )


class AlertSnapshotApi(APIView):
    required_alternate_scopes = {"GET": [[READ]]}
    permission_classes = [UserTokenOrSignedSnapshotLink]

    def perform_content_negotiation(self, request, force=False):
        # The image is not rendered by DRF, and an `Accept: image/jpeg` must not make it a 406:
        # errors fall back to JSON, the API's only renderer.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        auth=[{OAUTH2_SCHEME: [READ]}, {BEARER_SCHEME: []}, {}],  # {}: the signed link, without a token
        parameters=[
            OpenApiParameter(
                SIGNATURE_PARAMETER,
                str,
                description="The signature of the alert's `snapshot_url`; lets a request without a token in.",
            )
        ],
        responses={
            **{
                (200, media_type): OpenApiResponse(
                    OpenApiTypes.BINARY,
                    description="The snapshot with the detections drawn on it: JPEG bytes, as "
                    "`application/octet-stream` only to a client that accepts that and not `image/jpeg`.",
                )
                for media_type in (JPEG, OCTET_STREAM)
            },
            **error_responses(
                404,
                s404="No such alert (or its owner is deactivated), or the alert was recorded without a snapshot.",
                s401="No token and no signature, or an unknown, expired or revoked token.",
                s403="The token lacks the scope or belongs to no user; or, without a token, "
                "the signature is invalid, expired or another alert's.",
            ),
        },
    )
    def get(self, request, alert_id: int):
        if request.auth is None:  # the permission has checked the signature against this id
            alert = selectors.alert_get_for_signed_link(alert_id=alert_id)
        else:
            alert = selectors.alert_get(user=request.user, alert_id=alert_id)
        content_type = OCTET_STREAM if request.accepts(OCTET_STREAM) and not request.accepts(JPEG) else JPEG
        response = HttpResponse(selectors.alert_snapshot_jpeg(alert=alert), content_type=content_type)
        response["Content-Disposition"] = f'inline; filename="alert-{alert.pk}.jpg"'
        # Behind a token or a secret link: only the caller's own cache may keep it.
        response["Cache-Control"] = "private, max-age=3600"
        return response


class AlertFeedbackApi(APIView):
    required_alternate_scopes = {"POST": [[WRITE]]}

    @extend_schema(
        request=AlertFeedbackInputSerializer,
        responses={200: AlertOutputSerializer, **error_responses(400, 404)},
    )
    def post(self, request, alert_id: int):
        alert = selectors.alert_get(user=request.user, alert_id=alert_id)
        data = AlertFeedbackInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        alert = alert_feedback_set(alert=alert, outcome=data.validated_data["outcome"])
        return Response(AlertOutputSerializer(alert).data)
