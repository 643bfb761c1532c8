"""Output shapes of detection data, shared by the printers and prints endpoints."""

from rest_framework import serializers


class TemporalStatsSerializer(serializers.Serializer):
    """The spec's ``temporal_stats``; reads any object with the five fields (stats row, prediction)."""

    ewm_mean = serializers.FloatField(help_text="Exponentially weighted mean of p over this print (span 12).")
    rolling_mean_short = serializers.FloatField(help_text="Mean of p over this print's last 310 predictions.")
    rolling_mean_long = serializers.FloatField(help_text="Mean of p over the printer's last 7200 predictions.")
    prediction_num = serializers.IntegerField(help_text="Predictions in the current print.")
    prediction_num_lifetime = serializers.IntegerField(help_text="Predictions over the printer's life.")
