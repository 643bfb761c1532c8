"""Output shapes of detection data, shared by the printers and prints endpoints."""

from dataclasses import fields

from rest_framework import serializers

from detection.temporal import TemporalStats

_FIELD_OF_TYPE = {"float": serializers.FloatField, "int": serializers.IntegerField}

# Built from ``TemporalStats``'s fields, their types and their documentation (defined once there).
TemporalStatsSerializer = type(
    "TemporalStatsSerializer",
    (serializers.Serializer,),
    {
        "__module__": __name__,
        "__doc__": "The spec's ``temporal_stats``; reads any object with the five fields (stats row, prediction).",
        **{stat.name: _FIELD_OF_TYPE[stat.type](help_text=stat.metadata["help"]) for stat in fields(TemporalStats)},
    },
)
