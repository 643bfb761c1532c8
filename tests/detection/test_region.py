"""The region of interest's pure rules and geometry: validation, decode size, crop, mapping back. No database."""

import pytest
from PIL import Image

from detection.image import DecodedImage
from detection.postprocess import Detection
from detection.region import (
    MIN_AREA,
    Crop,
    InvalidRegion,
    Region,
    crop_to_region,
    decode_size,
    detect_in_region,
    detections_to_frame,
    parse_region,
)


def roi(x1, y1, x2, y2):
    return {"x1": x1, "y1": y1, "x2": x2, "y2": y2}


# --- parse_region -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (roi(0, 0, 1, 1), Region(0.0, 0.0, 1.0, 1.0)),
        (roi(0.25, 0.1, 0.75, 0.9), Region(0.25, 0.1, 0.75, 0.9)),
        (roi(0, 0, 0.05, 1), Region(0.0, 0.0, 0.05, 1.0)),  # exactly 5 %
        (roi(0.1, 0.1, 0.3, 0.35), Region(0.1, 0.1, 0.3, 0.35)),  # 5 %, though 0.2 * 0.25 rounds below it
        ({"y2": 1, "x2": 1, "y1": 0, "x1": 0}, Region(0.0, 0.0, 1.0, 1.0)),  # any key order
    ],
)
def test_parse_region_accepts_null_and_valid_regions(value, expected):
    assert parse_region(value) == expected


def test_parse_region_gives_floats_for_integers():
    assert all(type(edge) is float for edge in parse_region(roi(0, 0, 1, 1)))


NOT_AN_OBJECT = "Must be an object with the numbers x1, y1, x2 and y2, or null."
EXTRA_KEYS = "Only x1, y1, x2 and y2 are allowed in a region."
TOO_SMALL = "The region must cover at least 5% of the frame."

# (value, message): every rule, and the first one broken is the one named.
INVALID_REGIONS = [
    (roi(0.5, 0, 0.5, 1), "x2 must be greater than x1."),
    (roi(0.6, 0, 0.5, 1), "x2 must be greater than x1."),
    (roi(0, 0.5, 1, 0.5), "y2 must be greater than y1."),
    (roi(0, 0.7, 1, 0.2), "y2 must be greater than y1."),
    (roi(-0.1, 0, 1, 1), "x1 must be between 0 and 1."),
    (roi(0, -1e-9, 1, 1), "y1 must be between 0 and 1."),
    (roi(0, 0, 1.5, 1), "x2 must be between 0 and 1."),
    (roi(0, 0, 1, 1.0000001), "y2 must be between 0 and 1."),
    (roi(0, 0, 1, float("nan")), "y2 must be between 0 and 1."),
    (roi(0, 0, float("inf"), 1), "x2 must be between 0 and 1."),
    (roi(0, 0, 10**400, 1), "x2 must be between 0 and 1."),
    (roi(0, 0, 0.2, 0.2), TOO_SMALL),
    (roi(0.4, 0.4, 0.6, 0.6), TOO_SMALL),
    (roi(0, 0, 0.049, 1), TOO_SMALL),
    (roi("0", 0, 1, 1), "x1 must be a number."),
    (roi(0, True, 1, 1), "y1 must be a number."),
    (roi(0, 0, False, 1), "x2 must be a number."),
    (roi(0, 0, 1, None), "y2 must be a number."),
    (roi(0, 0, [1], 1), "x2 must be a number."),
    (roi(0, 0, {"v": 1}, 1), "x2 must be a number."),
    ({"x1": 0, "y1": 0, "x2": 1}, "Missing y2: a region needs x1, y1, x2 and y2."),
    ({"y1": 0, "y2": 1}, "Missing x1, x2: a region needs x1, y1, x2 and y2."),
    ({}, "Missing x1, y1, x2, y2: a region needs x1, y1, x2 and y2."),
    ({**roi(0, 0, 1, 1), "z": 1}, EXTRA_KEYS),
    ({**roi(0, 0, 1, 1), "X1": 0}, EXTRA_KEYS),
    ([0, 0, 1, 1], NOT_AN_OBJECT),
    ("0,0,1,1", NOT_AN_OBJECT),
    ("", NOT_AN_OBJECT),
    (1, NOT_AN_OBJECT),
    (True, NOT_AN_OBJECT),
]


@pytest.mark.parametrize(("value", "message"), INVALID_REGIONS)
def test_parse_region_refuses_with_the_broken_rule(value, message):
    with pytest.raises(InvalidRegion) as raised:
        parse_region(value)

    assert str(raised.value) == message


def test_the_minimum_area_is_five_percent():
    assert MIN_AREA == 0.05


def test_region_as_dict_is_the_api_object():
    assert Region(0.1, 0.2, 0.6, 0.9).as_dict() == {"x1": 0.1, "y1": 0.2, "x2": 0.6, "y2": 0.9}


# --- decode_size ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "input_size", "expected"),
    [
        (Region(0, 0, 1, 1), (96, 64), (96, 64)),  # the whole frame: the model input, as without a region
        (Region(0.5, 0, 1, 1), (96, 64), (192, 64)),
        (Region(0, 0.75, 1, 1), (320, 320), (320, 1280)),
        (Region(0.1, 0.2, 0.4, 0.7), (320, 320), (1067, 640)),  # 320 / 0.3 = 1066.7 -> up
        (Region(0.2, 0.2, 0.5, 0.7), (96, 96), (320, 192)),  # 96 / 0.3 in floats is just over 320
        (Region(0, 0, 0.05, 1), (320, 320), (6400, 320)),
    ],
)
def test_decode_size_grows_the_target_so_the_region_covers_the_model_input(region, input_size, expected):
    assert decode_size(region, input_size) == expected


# --- crop_to_region -------------------------------------------------------------------------------


def decoded(size, frame=(640, 480)):
    """A decoded image of ``size`` pixels for a ``frame``-sized upload, its pixel (x, y) holding (x, y, 0)."""
    image = Image.new("RGB", size)
    image.putdata([(x % 256, y % 256, 0) for y in range(size[1]) for x in range(size[0])])
    return DecodedImage(pixels=image, width=frame[0], height=frame[1])


@pytest.mark.parametrize(
    ("size", "region", "box", "crop"),
    [
        ((200, 100), Region(0, 0, 1, 1), (0, 0, 200, 100), Crop(0, 0, 1, 1)),
        ((200, 100), Region(0.5, 0, 1, 1), (100, 0, 200, 100), Crop(0.5, 0, 1, 1)),
        ((200, 100), Region(0.1, 0.25, 0.6, 0.75), (20, 25, 120, 75), Crop(0.1, 0.25, 0.6, 0.75)),
        # Edges between pixels: the nearest whole pixels (0.333 * 200 = 66.6 -> 67, 0.5 * 100 = 50).
        ((200, 100), Region(1 / 3, 0.005, 2 / 3, 0.995), (67, 0, 133, 100), Crop(0.335, 0, 0.665, 1)),
        # A tiny decoded image still gives the model one pixel each way.
        ((10, 10), Region(0, 0, 0.05, 1), (0, 0, 1, 10), Crop(0, 0, 0.1, 1)),
        ((10, 10), Region(0.96, 0, 1, 1), (9, 0, 10, 10), Crop(0.9, 0, 1, 1)),
    ],
)
def test_crop_to_region_cuts_the_nearest_whole_pixels(size, region, box, crop):
    image = decoded(size)

    cropped, where = crop_to_region(image, region)

    left, top, right, bottom = box
    assert cropped.pixels.size == (right - left, bottom - top)
    assert cropped.pixels.getpixel((0, 0)) == (left, top, 0)
    assert cropped.pixels.getpixel((right - left - 1, bottom - top - 1)) == (right - 1, bottom - 1, 0)
    assert (cropped.width, cropped.height) == (1, 1)  # the detector reports fractions of the crop
    assert tuple(where) == pytest.approx(tuple(crop))
    assert image.pixels.size == size  # the decoded image is left as it was


# --- detections_to_frame --------------------------------------------------------------------------


def det(confidence, x1, y1, x2, y2):
    """A detection from its corners."""
    return Detection(confidence, (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1)


@pytest.mark.parametrize(
    ("detection", "crop", "region", "expected"),
    [
        # The whole frame: fractions scaled to the 640x480 frame, nothing moved.
        (det(0.5, 0.1, 0.2, 0.3, 0.6), Crop(0, 0, 1, 1), Region(0, 0, 1, 1), det(0.5, 64, 96, 192, 288)),
        # The right half: x from 320 to 640.
        (det(0.5, 0.1, 0.2, 0.3, 0.6), Crop(0.5, 0, 1, 1), Region(0.5, 0, 1, 1), det(0.5, 352, 96, 416, 288)),
        # A quarter in the middle.
        (
            det(0.4, 0, 0, 1, 1),
            Crop(0.25, 0.25, 0.75, 0.75),
            Region(0.25, 0.25, 0.75, 0.75),
            det(0.4, 160, 120, 480, 360),
        ),
        # A box past the crop's edges is clipped to it.
        (det(0.3, -0.5, -0.2, 1.4, 0.5), Crop(0.5, 0.5, 1, 1), Region(0.5, 0.5, 1, 1), det(0.3, 320, 240, 640, 360)),
        # Rounded to whole pixels the crop reaches past the region: clipped to the region.
        (det(0.2, 0, 0, 1, 1), Crop(0.3, 0, 0.7, 1), Region(0.31, 0, 0.69, 1), det(0.2, 198.4, 0, 441.6, 480)),
        # Wholly outside the crop: a zero-size box on its edge, its confidence still counted.
        (det(0.1, 1.2, 0.1, 1.5, 0.2), Crop(0, 0, 0.5, 1), Region(0, 0, 0.5, 1), det(0.1, 320, 48, 320, 96)),
    ],
)
def test_detections_to_frame_maps_crop_fractions_to_frame_pixels_inside_the_region(detection, crop, region, expected):
    (mapped,) = detections_to_frame([detection], crop, region, width=640, height=480)

    assert tuple(mapped) == pytest.approx(tuple(expected))


def test_detections_to_frame_keeps_the_order_and_the_confidences():
    detections = [det(0.5, 0, 0, 0.5, 0.5), det(0.2, 0.5, 0.5, 1, 1)]

    mapped = detections_to_frame(detections, Crop(0, 0, 0.5, 0.5), Region(0, 0, 0.5, 0.5), width=100, height=100)

    assert [d.confidence for d in mapped] == [0.5, 0.2]
    assert detections_to_frame([], Crop(0, 0, 1, 1), Region(0, 0, 1, 1), width=100, height=100) == []


# --- detect_in_region -----------------------------------------------------------------------------


def test_detect_in_region_runs_the_detector_on_the_crop_and_reports_in_the_frame():
    image = decoded((200, 100), frame=(800, 400))
    seen = []

    def detect(cropped):
        seen.append(cropped)
        return [det(0.6, 0, 0, 1, 1)]  # the whole crop

    detections = detect_in_region(detect, image, Region(0.5, 0.5, 1, 1))

    (cropped,) = seen
    assert cropped.pixels.size == (100, 50)
    assert cropped.pixels.getpixel((0, 0)) == (100, 50, 0)
    assert [tuple(d) for d in detections] == [pytest.approx((0.6, 600, 300, 400, 200))]


# --- The decode a region costs (issue 23) ----------------------------------------------------------


class SizeRecorder:
    """A detector with the shipped model's input that records the size of each image it is given."""

    input_size = (320, 320)

    def __init__(self):
        self.sizes = []

    def detect(self, image):
        self.sizes.append(image.pixels.size)
        return []


@pytest.mark.parametrize(
    ("region", "crop"),
    [
        (Region(0, 0, 1, 0.05), (2048, 102)),  # a strip asked the narrow side at full size: 4096x205 before
        (Region(0, 0.95, 1, 1), (2048, 102)),
        (Region(0.1, 0.25, 0.8, 0.95), (359, 358)),  # a print bed: decoded at 1/8, as before
    ],
)
def test_a_region_of_a_4096_frame_is_cut_from_a_decode_of_at_most_2048x2048_pixels(monkeypatch, region, crop):
    from detection.services import snapshot_score
    from tests.fixtures.images import make_image_bytes

    detector = SizeRecorder()
    monkeypatch.setattr("detection.services.get_detector", lambda: detector)

    snapshot_score(make_image_bytes((4096, 4096), color=(90, 90, 90)), roi=region)

    assert detector.sizes == [crop]
