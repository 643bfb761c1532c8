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


def test_the_numbers_are_read_from_any_row_that_holds_them():
    row = Prediction(
        ewm_mean=0.1, rolling_mean_short=0.2, rolling_mean_long=0.3, prediction_num=4, prediction_num_lifetime=9
    )

    assert TemporalStats.of(row) == TemporalStats(0.1, 0.2, 0.3, 4, 9)
    assert PrinterStats(**TemporalStats.of(row).as_dict()).temporal_stats() == TemporalStats.of(row)
