"""The request and response shapes of prints, their lifecycle, their predictions and their alerts."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from detection.serializers import TemporalStatsSerializer
from detection.services import detections_as_lists
from obico_api.api.fields import PlainTextField
from printers.serializers import VERDICT_CHOICES, PrinterOutputSerializer
from prints.models import Alert, Print
from prints.signing import alert_snapshot_link


@extend_schema_field(
    {
        # The spec's [confidence, [xc, yc, w, h]]: OpenAPI 3.0 has no tuples, so a pair of these two.
        "type": "array",
        "items": {
            "oneOf": [
                {"type": "number", "format": "double", "minimum": 0, "maximum": 1},
                {"type": "array", "items": {"type": "number", "format": "double"}, "minItems": 4, "maxItems": 4},
            ]
        },
        "minItems": 2,
        "maxItems": 2,
        "description": "`[confidence, [xc, yc, w, h]]`: the confidence (0 to 1) and the box's centre, width and "
        "height in pixels of the uploaded snapshot.",
    },
    component_name="Detection",
)
class DetectionField(serializers.JSONField):
    """One detection as stored and answered, ``[confidence, [xc, yc, w, h]]``."""


DETECTIONS_HELP = "`[confidence, [xc, yc, w, h]]` pairs in pixels of the snapshot."


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
    detections = serializers.ListField(child=DetectionField(), help_text=DETECTIONS_HELP)
    verdict = serializers.ChoiceField(choices=VERDICT_CHOICES)


class StartPrintInputSerializer(serializers.Serializer):
    filename = PlainTextField(max_length=255, help_text="The name of the file being printed.")


class FinishPrintInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[("success", "success"), ("cancelled", "cancelled")],
        default="success",
        help_text="`success` (the default) records the print as finished; `cancelled` as cancelled.",
    )


class SucceededSerializer(serializers.Serializer):
    succeeded = serializers.BooleanField()
    printer = PrinterOutputSerializer()


class PredictionResultSerializer(serializers.Serializer):
    p = serializers.FloatField(help_text="0 means no failure detected; 1 the maximum confidence of a failure.")
    temporal_stats = TemporalStatsSerializer()
    detections = serializers.SerializerMethodField()
    verdict = serializers.ChoiceField(
        choices=VERDICT_CHOICES,
        help_text="The server's reading of the print so far, at the printer's sensitivity: what alerts are "
        "made of (README, How an alert is decided).",
    )

    @extend_schema_field(serializers.ListField(child=DetectionField(), help_text=DETECTIONS_HELP))
    def get_detections(self, result) -> list[list]:
        """``[confidence, [xc, yc, w, h]]`` pairs, in pixels of the uploaded image."""
        return detections_as_lists(result.detections)


FEEDBACK_CHOICES = [Alert.Feedback.FAILURE, Alert.Feedback.FALSE_ALARM]


class AlertOutputSerializer(serializers.Serializer):
    """An alert, with the signed link to its snapshot (under ``PUBLIC_BASE_URL``)."""

    id = serializers.IntegerField()
    level = serializers.ChoiceField(
        choices=Alert.Level.choices, help_text="The level the print's verdict rose into with this snapshot."
    )
    created_at = serializers.DateTimeField()
    p = serializers.FloatField()
    temporal_stats = TemporalStatsSerializer()
    detections = serializers.ListField(child=DetectionField(), help_text=DETECTIONS_HELP)
    feedback = serializers.SerializerMethodField()
    snapshot_url = serializers.SerializerMethodField()

    @extend_schema_field(
        serializers.ChoiceField(
            choices=FEEDBACK_CHOICES,
            allow_null=True,
            help_text="The owner's answer (`POST /api/v1/alerts/{id}/feedback/`); null until there is one.",
        )
    )
    def get_feedback(self, alert) -> str | None:
        return alert.feedback or None

    @extend_schema_field(
        serializers.URLField(
            allow_null=True,
            help_text="The snapshot with the detections drawn (JPEG): works with the owner's token, "
            "and without one until the signature expires (`ALERT_SNAPSHOT_URL_MAX_AGE_SECONDS`, a day by default). "
            "Null when the alert was recorded without a snapshot (past the owner's storage quota).",
        )
    )
    def get_snapshot_url(self, alert) -> str | None:
        return alert_snapshot_link(alert)


class AlertFeedbackInputSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=FEEDBACK_CHOICES,
        help_text="`failure`: the print was failing; `false_alarm`: it was not, and no more alerts of this "
        "level are raised for the rest of the print. Sending again replaces the answer.",
    )
