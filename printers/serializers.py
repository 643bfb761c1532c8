"""The printer's request and response shapes."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from detection.serializers import TemporalStatsSerializer
from obico_api.api.fields import PlainTextField
from printers.models import SENSITIVITY_MAX, SENSITIVITY_MIN


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
