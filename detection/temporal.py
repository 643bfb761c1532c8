"""Temporal statistics of a printer's failure scores: pure math, no Django.

The spec's smoothing: an exponentially weighted mean over the current print, a short rolling
mean over the current print and a long rolling mean over the printer's life. The rolling means
are exact running means until their window fills and then O(1) moving means
(``mean += (p - mean) / min(n, window)``). Obico divides by ``n + 1`` and so reports p/2 after
the first prediction; we do not copy that.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

EWM_SPAN = 12  # spec: "EWM window span = 12"
EWM_ALPHA = 2 / (EWM_SPAN + 1)
ROLLING_WINDOW_SHORT = 310  # spec: "Rolling window span = 310"
ROLLING_WINDOW_LONG = 7200  # spec: "Rolling window span = 7200"


@dataclass(frozen=True)
class TemporalStats:
    """The five numbers the predict response reports under ``temporal_stats``.

    The one definition of these fields: the models' columns, the serializer, the admin and the
    webhook payload all follow ``STATS_FIELDS``; ``help`` is the API documentation of each.
    """

    ewm_mean: float = field(
        default=0.0, metadata={"help": "Exponentially weighted mean of p over this print (span 12)."}
    )
    rolling_mean_short: float = field(
        default=0.0, metadata={"help": "Mean of p over this print's last 310 predictions."}
    )
    rolling_mean_long: float = field(
        default=0.0, metadata={"help": "Mean of p over the printer's last 7200 predictions."}
    )
    prediction_num: int = field(default=0, metadata={"help": "Predictions in the current print."})
    prediction_num_lifetime: int = field(default=0, metadata={"help": "Predictions over the printer's life."})

    @classmethod
    def of(cls, row: object) -> TemporalStats:
        """The five numbers of anything that holds them as attributes (a statistics row, a prediction)."""
        return cls(**{name: getattr(row, name) for name in STATS_FIELDS})

    def as_dict(self) -> dict[str, float | int]:
        return {name: getattr(self, name) for name in STATS_FIELDS}


STATS_FIELDS = tuple(stat.name for stat in fields(TemporalStats))


def add_prediction(stats: TemporalStats, p: float) -> TemporalStats:
    """The statistics after one more prediction with image score ``p``."""
    prediction_num = stats.prediction_num + 1
    prediction_num_lifetime = stats.prediction_num_lifetime + 1
    return TemporalStats(
        ewm_mean=stats.ewm_mean + EWM_ALPHA * (p - stats.ewm_mean),
        rolling_mean_short=stats.rolling_mean_short
        + (p - stats.rolling_mean_short) / min(prediction_num, ROLLING_WINDOW_SHORT),
        rolling_mean_long=stats.rolling_mean_long
        + (p - stats.rolling_mean_long) / min(prediction_num_lifetime, ROLLING_WINDOW_LONG),
        prediction_num=prediction_num,
        prediction_num_lifetime=prediction_num_lifetime,
    )


def start_print(stats: TemporalStats) -> TemporalStats:
    """The statistics at the start of a new print: the per-print numbers restart from 0."""
    return replace(stats, ewm_mean=0.0, rolling_mean_short=0.0, prediction_num=0)
