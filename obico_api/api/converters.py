"""URL converters."""


class ObjectIdConverter:
    """A positive database id that fits a 64-bit signed integer.

    Negative or oversized ids do not match, so they are a 404 like any unknown object instead of
    a database error.
    """

    regex = r"[0-9]{1,19}"
    max_value = 2**63 - 1
    # What the schema says of these ids: integers, like every id the API returns, so generated clients
    # take the id they got (drf-spectacular would say "a string of this pattern").
    openapi_schema = {"type": "integer", "format": "int64", "minimum": 1, "maximum": max_value}

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 0 < number <= self.max_value:
            raise ValueError(value)
        return number

    def to_url(self, value: int) -> str:
        return str(value)
