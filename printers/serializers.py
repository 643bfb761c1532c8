"""The printer's request and response shapes."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from detection.region import MIN_AREA, InvalidRegion, parse_region
from detection.serializers import TemporalStatsSerializer
from detection.verdict import Verdict
from obico_api.api.fields import PlainTextField
from printers.models import SENSITIVITY_MAX, SENSITIVITY_MIN

ROI_HELP = (
    "Region of interest: the part of each snapshot the model looks at, as fractions of the uploaded "
    f"frame: exactly x1, y1, x2 and y2, with x1 < x2, y1 < y2 and an area of at least {MIN_AREA:.0%} of "
    "the frame. The model sees the region alone, resized to its input; detections stay in pixels of "
    "the whole frame, inside the region. null: the whole frame."
)


class RegionSerializer(serializers.Serializer):
    """A region of the frame; the shape of ``roi``, in the schema and in the printer's JSON."""

    x1 = serializers.FloatField(min_value=0, max_value=1, help_text="Left edge, as a fraction of the width.")
    y1 = serializers.FloatField(min_value=0, max_value=1, help_text="Top edge, as a fraction of the height.")
    x2 = serializers.FloatField(min_value=0, max_value=1, help_text="Right edge; greater than x1.")
    y2 = serializers.FloatField(min_value=0, max_value=1, help_text="Bottom edge; greater than y1.")


@extend_schema_field(RegionSerializer)
class RegionField(serializers.Field):
    """An input ``roi``: checked by ``detection.region.parse_region`` into a ``Region``; null clears it."""

    def to_internal_value(self, data):
        try:
            return parse_region(data)
        except InvalidRegion as exc:
            raise serializers.ValidationError(str(exc)) from None


# The verdict's values, for every field that shows one (one enum in the schema, VerdictEnum).
VERDICT_CHOICES = [verdict.value for verdict in Verdict]


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

    @extend_schema_field(serializers.ChoiceField(choices=VERDICT_CHOICES, allow_null=True))
    def get_verdict(self, printer) -> str | None:
        """The current print's latest verdict; null when idle or before its first prediction."""
        if not printer.current_print_id:
            return None
        return printer.stats.last_verdict or None  # "": no verdict yet in this print


class PrinterOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    sensitivity = serializers.FloatField()
    roi = RegionSerializer(allow_null=True, help_text=ROI_HELP)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    current_print = CurrentPrintSerializer(allow_null=True)
    status = PrinterStatusSerializer(source="*")


class PrinterCreateInputSerializer(serializers.Serializer):
    name = PlainTextField(max_length=255)
    sensitivity = serializers.FloatField(min_value=SENSITIVITY_MIN, max_value=SENSITIVITY_MAX, required=False)
    roi = RegionField(allow_null=True, required=False, help_text=ROI_HELP)


class PrinterUpdateInputSerializer(PrinterCreateInputSerializer):
    name = PlainTextField(max_length=255, required=False)
