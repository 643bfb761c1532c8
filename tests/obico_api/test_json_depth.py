"""``json_depth``: the nesting guard of the API's JSON parser, on plain bytes (no database)."""

import json

import pytest

from obico_api.api.parsers import json_depth


@pytest.mark.parametrize(
    ("raw", "depth"),
    [
        (b"", 0),
        (b"1", 0),
        (b'"[[[["', 0),
        (b"[]", 1),
        (b'{"a": [1, {"b": []}]}', 4),
        (b"[" * 100 + b"]" * 100, 100),
        (b'["]", "[", "{{{"]', 1),
        (b'["\\"[[["]', 1),  # an escaped quote does not end the string
        (b'["\\\\", [[1]]]', 3),  # an escaped backslash does not escape the quote after it
        (b'["\\\\\\"[", [1]]', 2),
        (b'{"\\u005b": "\\u007b"}', 1),
        ('["ベンチー[", {"é": ["]"]}]'.encode(), 3),
        (b"]]]][[", 0),  # invalid: the decoder fails at the first byte
    ],
)
def test_json_depth_counts_brackets_outside_strings(raw, depth):
    assert json_depth(raw) == depth


def test_json_depth_agrees_with_the_decoder_across_chunk_boundaries():
    # Strings and nesting that straddle numpy's 1 MiB chunks.
    value = [["x" * 700_000, {"k[": ['\\"' * 300_000, [[["]"]]]]}], "y" * 600_000]
    raw = json.dumps(value).encode()

    assert len(raw) > 2 * (1 << 20)
    assert json_depth(raw) == 7


def test_json_depth_of_a_deep_body_is_its_depth_without_recursion():
    assert json_depth(b"[" * 3_000_000) == 3_000_000
