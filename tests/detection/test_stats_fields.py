"""The five statistics fields are defined once, by ``TemporalStats``; every other copy follows them."""

from detection.models import Prediction, PrinterStats
from detection.serializers import TemporalStatsSerializer
from detection.temporal import STATS_FIELDS, TemporalStats


def test_the_statistics_fields_are_defined_once_and_every_copy_follows_them():
    assert STATS_FIELDS == (
        "ewm_mean",
        "rolling_mean_short",
        "rolling_mean_long",
        "prediction_num",
        "prediction_num_lifetime",
    )
    for model in (PrinterStats, Prediction):
        assert set(STATS_FIELDS) <= {field.name for field in model._meta.concrete_fields}
    assert tuple(TemporalStatsSerializer().fields) == STATS_FIELDS
    assert TemporalStats(1.0, 2.0, 3.0, 4, 5).as_dict() == dict(zip(STATS_FIELDS, (1.0, 2.0, 3.0, 4, 5), strict=True))
