"""Serializer fields shared by the apps."""

from django.core.validators import RegexValidator
from rest_framework import serializers

# Unicode's control characters (category Cc): C0, DEL and C1.
_CONTROL = "\\x00-\\x1f\\x7f-\\x9f"
# At least one visible character and no control characters; drf-spectacular publishes it as the
# field's `pattern`, so the schema says exactly what is accepted.
PLAIN_TEXT_PATTERN = f"^[^{_CONTROL}]*[^\\s{_CONTROL}][^{_CONTROL}]*$"


class PlainTextField(serializers.CharField):
    """A one-line human text: any Unicode, but no control characters (newlines, NUL, escapes).

    Filenames and names end up in logs, admin pages and other apps' screens, where control
    characters forge lines or break rendering.
    """

    default_error_messages = {"not_a_string": "Must be a string."}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(RegexValidator(PLAIN_TEXT_PATTERN, message="Must not contain control characters."))

    def to_internal_value(self, data):
        if not isinstance(data, str):  # DRF would turn 42 into "42"; a wrong type is the caller's bug
            self.fail("not_a_string")
        return super().to_internal_value(data)
