"""The API's JSON parser: UTF-8 only, and nesting bounded before ``json`` recurses into it."""

from __future__ import annotations

import json

import numpy as np
from django.conf import settings
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.utils.json import strict_constant

from obico_api.errors import ErrorCode


class PayloadTooLarge(APIException):
    """A body over one of our limits (413). Defined here, not in exceptions.py, which imports
    ``rest_framework.views``, which imports this module through ``DEFAULT_PARSER_CLASSES``."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = ErrorCode.TOO_LARGE


# Per byte: +1 opens an array or object, -1 closes one, 0 for every other byte.
_STEP = np.zeros(256, dtype=np.int8)
_STEP[list(b"[{")] = 1
_STEP[list(b"]}")] = -1
_QUOTE = ord('"')
# numpy works on this many bytes at a time, so its scratch arrays stay a few MB for any body.
_CHUNK = 1 << 20


def json_depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in the UTF-8 JSON ``raw``, in O(len(raw)).

    No recursion and no per-byte Python: escaped backslashes and quotes are dropped (``replace``
    pairs backslashes left to right, as the decoder does), then a byte is inside a string when an
    odd number of quotes precede it, and brackets inside strings do not count. UTF-8 never puts
    these ASCII bytes inside a multi-byte character. For invalid JSON the number is an upper
    bound of how deep the decoder gets before its first error, which is all a guard needs.
    """
    unescaped = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    deepest = level = quotes = 0
    for start in range(0, len(unescaped), _CHUNK):
        chunk = np.frombuffer(unescaped, dtype=np.uint8, count=min(_CHUNK, len(unescaped) - start), offset=start)
        quote_count = np.cumsum(chunk == _QUOTE, dtype=np.int64) + quotes
        levels = np.cumsum(np.where(quote_count & 1, 0, _STEP[chunk]), dtype=np.int64) + level
        deepest = max(deepest, int(levels.max()))
        level, quotes = int(levels[-1]), int(quote_count[-1])
    return deepest


class BoundedJSONParser(parsers.JSONParser):
    """DRF's JSON parser, made safe for bodies from anyone.

    - A body over ``settings.JSON_MAX_BYTES`` is a 413: ours are a few hundred bytes.
    - The body is UTF-8 whatever ``charset`` the Content-Type names: RFC 8259 §8.1 requires
      UTF-8 and §11 says a charset parameter "has no effect", so no codec is ever looked up.
    - Nesting deeper than ``settings.JSON_MAX_DEPTH`` is a 400 before ``json`` sees it: its C
      decoder recurses once per level, and a few thousand levels raise ``RecursionError``.
    - A body shorter than its Content-Length is a 400: the client stopped sending.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        """The parsed body, or a ``ParseError`` (400, code ``parse_error``) saying what is wrong."""
        raw = stream.read()
        if len(raw) > settings.JSON_MAX_BYTES:
            # Parsing costs far more than reading: 10 MB of "[1]," took seconds of json.loads.
            raise PayloadTooLarge(f"The JSON body is larger than the limit of {settings.JSON_MAX_BYTES} bytes.")
        request = (parser_context or {}).get("request")
        # RequestSizeLimitMiddleware has made it a plain number within the limit, or left it empty.
        declared = request.META.get("CONTENT_LENGTH", "") if request is not None else ""
        if declared.isascii() and declared.isdigit() and int(declared) != len(raw):
            # The client stopped early: what came may still parse, but it is not what was sent.
            raise ParseError("The JSON body is shorter than its Content-Length.")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError("The JSON body is not valid UTF-8.") from exc
        limit = settings.JSON_MAX_DEPTH
        if json_depth(raw) > limit:
            raise ParseError(f"The JSON body is nested deeper than {limit} levels.")
        try:
            return json.loads(text, parse_constant=strict_constant if self.strict else None)
        except (ValueError, RecursionError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
