"""Serializer fields shared by the apps."""

import unicodedata

from rest_framework import serializers


class PlainTextField(serializers.CharField):
    """A one-line human text: any Unicode, but no control characters (newlines, NUL, escapes).

    Filenames and names end up in logs, admin pages and other apps' screens, where control
    characters forge lines or break rendering.
    """

    default_error_messages = {
        "control": "Must not contain control characters.",
        "not_a_string": "Must be a string.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):  # DRF would turn 42 into "42"; a wrong type is the caller's bug
            self.fail("not_a_string")
        value = super().to_internal_value(data)
        if any(unicodedata.category(char) == "Cc" for char in value):
            self.fail("control")
        return value
