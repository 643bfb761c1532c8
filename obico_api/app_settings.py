"""An app's settings on the pattern of DRF's ``api_settings`` and django-oauth-toolkit's ``oauth2_settings``.

Every app with settings of its own reads them the same way::

    from detection.conf import detection_settings

    detection_settings.CONF_THRESHOLD  # settings.DETECTION["CONF_THRESHOLD"] if set, else the default

The app keeps its defaults, each with a comment naming its source, and ``config/settings.py`` sets one
dict (``settings.DETECTION``, ``settings.WEBHOOKS``) holding only what differs, read from the
environment. An unknown key is refused with ``ImproperlyConfigured`` rather than silently ignored.
The dict is read on first use, not at import (Django is imported only inside the methods below), and
again after Django's ``setting_changed`` signal (pytest-django's ``settings`` fixture,
``override_settings``). Values are looked up in it on each access, not copied, so a test that changes
the dict it has just assigned is seen too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class AppSettings:
    """``defaults`` as attributes, each overridden by the same key of ``settings.<setting_name>``.

    ``user_settings``, when given, is read instead of the Django setting. ``label`` names the app in
    an unknown attribute's error.
    """

    def __init__(
        self, *, setting_name: str, defaults: Mapping[str, Any], label: str, user_settings: Mapping[str, Any] | None
    ) -> None:
        self.setting_name = setting_name
        self.defaults = defaults
        self.label = label
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
                from django.core.signals import setting_changed

                # Idempotent: one receiver per setting, however often the settings are reloaded.
                setting_changed.connect(self._reload_on_setting_changed, dispatch_uid=f"{self.setting_name}.reload")
                overrides = getattr(settings, self.setting_name, {})
            self.check(overrides)
            self._user_settings = overrides
        return self._user_settings

    def __getattr__(self, name: str) -> Any:
        if name not in self.defaults:
            raise AttributeError(f"Invalid {self.label} setting: {name!r}")
        return self.user_settings.get(name, self.defaults[name])

    def reload(self) -> None:
        """Forget the overrides read so far: the next access reads the Django setting again."""
        self._user_settings = None

    def check(self, overrides: Any) -> None:
        """Refuse ``overrides`` with ``ImproperlyConfigured`` unless it is a dict of known keys.

        An app whose values need checking too extends this.
        """
        from django.core.exceptions import ImproperlyConfigured

        if not isinstance(overrides, Mapping):
            raise ImproperlyConfigured(f"settings.{self.setting_name} must be a dict, not {type(overrides).__name__}.")
        unknown = sorted(set(overrides) - set(self.defaults))
        if unknown:
            raise ImproperlyConfigured(
                f"Unknown key(s) in settings.{self.setting_name}: {', '.join(unknown)}. "
                f"The known keys are: {', '.join(self.defaults)}."
            )

    def _reload_on_setting_changed(self, *, setting: str, **kwargs: Any) -> None:
        if setting == self.setting_name:
            self.reload()
