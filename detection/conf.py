"""Detection and verdict settings: ``detection.defaults.DEFAULTS``, overridden by ``settings.DETECTION``.

On the pattern of DRF's ``api_settings``::

    from detection.conf import detection_settings

    detection_settings.CONF_THRESHOLD  # settings.DETECTION["CONF_THRESHOLD"] if set, else DEFAULTS'

``settings.DETECTION`` is one dict holding only what differs from ``DEFAULTS`` (config/settings.py
fills it from the environment). The verdict rules' and the printer memory's constants are overridden
there too (``VERDICT_*``, ``ADAPTIVE_*``, ``ADAPTATION_*`` keys): one dict rather than a setting per
rule, so one name to check and reload.
It is read on first use, not at import (Django is imported only inside the functions below). An
unknown key is refused with ``ImproperlyConfigured`` rather than silently ignored.
The dict is read again after Django's ``setting_changed`` signal (pytest-django's ``settings``
fixture, ``override_settings``); values are looked up in it on each access, not copied, so a test
that changes the dict it has just assigned is seen too.

The service builds its decoding limits with ``detection_settings.image_limits()`` and its verdict
rules and printer memory with ``obico_rule()``, ``adaptive_rule()`` and ``adaptation_rule()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from detection.adaptation import AdaptationRule
from detection.defaults import DEFAULTS
from detection.image import ImageLimits
from detection.judge import Rules
from detection.verdict import RULES, AdaptiveRule, ObicoRule


class DetectionSettings:
    """``DEFAULTS`` as attributes, each overridden by the same key of ``settings.DETECTION``.

    ``user_settings``, when given, is read instead of ``settings.DETECTION``.
    """

    def __init__(self, user_settings: Mapping[str, Any] | None = None) -> None:
        self._given = user_settings
        self._user_settings: Mapping[str, Any] | None = None

    @property
    def user_settings(self) -> Mapping[str, Any]:
        """The overrides, checked once per reload."""
        if self._user_settings is None:
            if self._given is not None:
                overrides = self._given
            else:
                from django.conf import settings

                _connect_reload()
                overrides = getattr(settings, "DETECTION", {})
            self._user_settings = _checked(overrides)
        return self._user_settings

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Invalid detection setting: {name!r}")
        return self.user_settings.get(name, DEFAULTS[name])

    def reload(self) -> None:
        """Forget the overrides read so far: the next access reads ``settings.DETECTION`` again."""
        self._user_settings = None

    def image_limits(self) -> ImageLimits:
        """What an upload may cost to decode (README, "Security"): each limit is its upper-cased setting."""
        return ImageLimits(**{limit.name: getattr(self, limit.name.upper()) for limit in fields(ImageLimits)})

    def obico_rule(self) -> ObicoRule:
        """Obico's verdict rule: each constant is its ``VERDICT_``-prefixed, upper-cased setting."""
        return self._rule(ObicoRule, "VERDICT_")

    def adaptive_rule(self) -> AdaptiveRule:
        """Our verdict rule: each constant is its ``ADAPTIVE_``-prefixed, upper-cased setting."""
        return self._rule(AdaptiveRule, "ADAPTIVE_")

    def adaptation_rule(self) -> AdaptationRule:
        """How the printer's memory learns: each constant is its ``ADAPTATION_``-prefixed, upper-cased setting."""
        return self._rule(AdaptationRule, "ADAPTATION_")

    def rules(self) -> Rules:
        """The verdict rule in force (``VERDICT_RULE``) with every rule's constants."""
        return Rules(
            name=self.VERDICT_RULE,
            adaptive=self.adaptive_rule(),
            obico=self.obico_rule(),
            adaptation=self.adaptation_rule(),
        )

    def _rule(self, rule_class, prefix: str):
        return rule_class(
            **{constant.name: getattr(self, f"{prefix}{constant.name.upper()}") for constant in fields(rule_class)}
        )


def _checked(overrides: Any) -> Mapping[str, Any]:
    """``overrides`` if it is a dict of known keys; ``ImproperlyConfigured`` otherwise."""
    from django.core.exceptions import ImproperlyConfigured

    if not isinstance(overrides, Mapping):
        raise ImproperlyConfigured(f"settings.DETECTION must be a dict, not {type(overrides).__name__}.")
    unknown = sorted(set(overrides) - set(DEFAULTS))
    if unknown:
        raise ImproperlyConfigured(
            f"Unknown key(s) in settings.DETECTION: {', '.join(unknown)}. "
            f"The known keys are those of detection.defaults.DEFAULTS: {', '.join(DEFAULTS)}."
        )
    if overrides.get("VERDICT_RULE", DEFAULTS["VERDICT_RULE"]) not in RULES:
        raise ImproperlyConfigured(f"settings.DETECTION['VERDICT_RULE'] must be one of {', '.join(RULES)}.")
    return overrides


detection_settings = DetectionSettings()


def _reload_on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "DETECTION":
        detection_settings.reload()


def _connect_reload() -> None:
    """Reload ``detection_settings`` on ``setting_changed``; connected on first use (idempotent)."""
    from django.core.signals import setting_changed

    setting_changed.connect(_reload_on_setting_changed, dispatch_uid="detection.conf.reload")
