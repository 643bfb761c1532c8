"""Detection and verdict settings: ``detection.defaults.DEFAULTS``, overridden by ``settings.DETECTION``.

The apps' one settings pattern (``obico_api.app_settings``, DRF's ``api_settings``)::

    from detection.conf import detection_settings

    detection_settings.CONF_THRESHOLD  # settings.DETECTION["CONF_THRESHOLD"] if set, else DEFAULTS'

``settings.DETECTION`` is one dict holding only what differs from ``DEFAULTS`` (config/settings.py
fills it from the environment). The verdict rules' and the printer memory's constants are overridden
there too (``VERDICT_*``, ``ADAPTIVE_*``, ``ADAPTATION_*`` keys): one dict rather than a setting per
rule, so one name to check and reload. An unknown ``VERDICT_RULE`` is refused like an unknown key.

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
from obico_api.app_settings import AppSettings


class DetectionSettings(AppSettings):
    """``DEFAULTS`` as attributes, each overridden by the same key of ``settings.DETECTION``.

    ``user_settings``, when given, is read instead of ``settings.DETECTION``.
    """

    def __init__(self, user_settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(setting_name="DETECTION", defaults=DEFAULTS, label="detection", user_settings=user_settings)

    def check(self, overrides: Any) -> None:
        """Known keys (``AppSettings.check``), and a ``VERDICT_RULE`` that exists."""
        from django.core.exceptions import ImproperlyConfigured

        super().check(overrides)
        if overrides.get("VERDICT_RULE", DEFAULTS["VERDICT_RULE"]) not in RULES:
            raise ImproperlyConfigured(f"settings.DETECTION['VERDICT_RULE'] must be one of {', '.join(RULES)}.")

    def image_limits(self) -> ImageLimits:
        """What an upload may cost to decode (docs/security.md): each limit is its upper-cased setting."""
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


detection_settings = DetectionSettings()
