"""The prints endpoints: the caller's prints, newest first, and each print's prediction timeline."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from detection.selectors import prediction_list
from detection.serializers import TemporalStatsSerializer
from obico_api.api.pagination import StandardPagination, paginated_response
from obico_api.api.schema import error_responses
from prints import selectors
from prints.models import Print


class PrintOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    printer_id = serializers.IntegerField()
    filename = serializers.CharField()
    status = serializers.ChoiceField(choices=Print.Status.choices)
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    prediction_num = serializers.IntegerField(source="prediction_count", help_text="Predictions made in this print.")
    warning_at = serializers.DateTimeField(allow_null=True, help_text="When the verdict first reached warning.")
    failure_at = serializers.DateTimeField(allow_null=True, help_text="When the verdict first reached failure.")


class PredictionOutputSerializer(serializers.Serializer):
    created_at = serializers.DateTimeField()
    p = serializers.FloatField()
    temporal_stats = TemporalStatsSerializer(source="*")
    detections = serializers.JSONField(help_text="`[confidence, [xc, yc, w, h]]` pairs in pixels of the snapshot.")
    verdict = serializers.CharField()


class PrintListApi(APIView):
    pagination_class = StandardPagination  # tells drf-spectacular about the envelope and page parameters

    @extend_schema(
        operation_id="prints_list",
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
    @extend_schema(responses={200: PrintOutputSerializer, **error_responses(404)})
    def get(self, request, print_id: int):
        return Response(PrintOutputSerializer(selectors.print_get(user=request.user, print_id=print_id)).data)


class PrintPredictionListApi(APIView):
    pagination_class = StandardPagination

    @extend_schema(
        operation_id="prints_predictions_list",
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
