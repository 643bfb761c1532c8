"""Decoding of uploaded snapshots into RGB pixels the detector can read.

Pure Pillow: no Django here, so the training evaluator decodes exactly as the service does. The
service passes its limits in (``ImageLimits``, from ``detection.conf``); every limit is checked
from the file's own header and markers, before Pillow opens the file and before any pixel is decoded.
"""

from __future__ import annotations

import io
import re
import struct
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from detection.defaults import DEFAULTS

# The spec asks for JPEG; PNG and WebP are what webcams and apps also send. Everything else
# (GIF, SVG, TIFF, ...) is refused rather than guessed at.
ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})

CORRUPT = "The image data is corrupt or truncated."
NOT_AN_IMAGE = "The file is not a JPEG, PNG or WebP image."


class InvalidImage(ValueError):
    """The upload is not an image we can decode; the message is safe to show the caller."""


@dataclass(frozen=True)
class ImageLimits:
    """What an upload may cost to decode, all checked from its header.

    ``max_pixels`` bounds a JPEG, which libjpeg decodes at 1/2 to 1/8 scale (``draft``).
    ``max_full_decode_pixels`` bounds the images that must be decoded at full size: PNG, WebP and
    progressive JPEG (whose every coefficient is entropy-decoded, scan after scan, into a full-size
    buffer). ``max_aspect_ratio`` is the longer side over the shorter. ``max_jpeg_scans`` bounds
    the entropy-decoding passes of a JPEG. ``max_image_bytes`` bounds the compressed data of a JPEG or
    PNG, whose entropy decoding costs time per byte whatever the size; ``max_webp_bytes`` that of a
    WebP, whose decoder spends about eight times as long on each byte (bench/worst_upload.py).
    The defaults are the service's, with their sources, in ``detection.defaults.DEFAULTS`` (README, "Security");
    the service's values, overrides included, come from ``detection_settings.image_limits()``.
    """

    max_pixels: int = DEFAULTS["MAX_PIXELS"]
    max_full_decode_pixels: int = DEFAULTS["MAX_FULL_DECODE_PIXELS"]
    max_aspect_ratio: float = DEFAULTS["MAX_ASPECT_RATIO"]
    max_jpeg_scans: int = DEFAULTS["MAX_JPEG_SCANS"]
    max_image_bytes: int = DEFAULTS["MAX_IMAGE_BYTES"]
    max_webp_bytes: int = DEFAULTS["MAX_WEBP_BYTES"]


@dataclass(frozen=True)
class DecodedImage:
    """An upload ready for the detector.

    ``pixels`` may be smaller than the upload (JPEG draft decoding, or an integer ``reduce`` of a
    large PNG or WebP) but has its aspect ratio; ``width`` and ``height`` are the upload's own size
    after EXIF orientation, the frame in which detections are reported.
    """

    pixels: Image.Image
    width: int
    height: int


@dataclass(frozen=True)
class ImageHeader:
    """What the header says an upload will cost: its format, size and (JPEG) scans."""

    format: str
    width: int
    height: int
    full_decode: bool  # PNG, WebP, progressive JPEG: no reduced-scale decoding
    size: int = 0  # bytes of the file
    scans: int = 0


# Modes that Image.reduce takes and _to_rgb flattens afterwards; others are converted first.
_REDUCIBLE = frozenset({"RGB", "RGBA", "L", "LA"})

# EXIF orientation -> the transpose that makes the image upright (EXIF 2.3, tag 0x0112).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def decode_image(
    data: bytes, *, target_size: tuple[int, int] | None = None, limits: ImageLimits | None = None
) -> DecodedImage:
    """Decode JPEG, PNG or WebP bytes into an upright RGB image.

    ``limits`` refuse, from the header alone, what costs more to decode than the service accepts
    (uploads always pass them; ``None`` is for trusted files, such as training data). Whatever the
    limits, the header must make sense and match what Pillow then reads.
    ``target_size`` (W, H) lets libjpeg decode at 1/2, 1/4 or 1/8 scale when the image is much
    larger than the model input, which is most of the cost of a webcam frame; other images are
    reduced by an integer factor after decoding, which makes the model's resize cheap.
    Broken EXIF metadata is ignored (the image is taken as upright): the pixels are still good.
    """
    header = read_header(data)
    if limits is not None:
        check_limits(header, limits)
    try:
        image = Image.open(io.BytesIO(data), formats=[header.format])
    except Image.DecompressionBombError as exc:
        raise InvalidImage("The image is too large.") from exc
    except UnidentifiedImageError as exc:
        raise InvalidImage(NOT_AN_IMAGE) from exc
    except (OSError, SyntaxError, ValueError, struct.error, EOFError) as exc:
        # Pillow parses ancillary chunks and markers on open; a malformed one is the caller's.
        raise InvalidImage(CORRUPT) from exc
    if image.format != header.format:
        raise InvalidImage(f"{image.format} images are not accepted; send a JPEG, PNG or WebP image.")
    if image.size != (header.width, header.height):
        raise InvalidImage(CORRUPT)  # a second frame header, a canvas unlike its frame: not a webcam's
    width, height = image.size
    try:
        if header.format == "JPEG":
            # The orientation is read from APP1 first, so that draft() is asked for the stored frame.
            orientation = _orientation(image)
            if target_size is not None:
                turned = orientation in (5, 6, 7, 8)
                # draft() picks the largest 1/n scale that stays at least as big as the request.
                image.draft("RGB", target_size[::-1] if turned else target_size)
            image.load()
        else:
            image.load()
            orientation = _orientation(image)  # a PNG's eXIf chunk may follow its pixels
        if image.mode not in _REDUCIBLE:
            image = _to_rgb(image)
        turned = orientation in (5, 6, 7, 8)
        if target_size is not None:
            # A box reduce to at least the target size: what draft() does for JPEG, for the rest;
            # before flattening transparency, which then costs a fraction as much.
            stored_w, stored_h = target_size[::-1] if turned else target_size
            factor = min(image.width // stored_w, image.height // stored_h)
            if factor >= 2:
                image = image.reduce(factor)
        if image.mode != "RGB":
            image = _to_rgb(image)
        if orientation in _UPRIGHT:
            image = image.transpose(_UPRIGHT[orientation])
    except (OSError, SyntaxError, ValueError, struct.error, EOFError, Image.DecompressionBombError) as exc:
        # Truncated or corrupt data surfaces only when pixels are decoded.
        raise InvalidImage(CORRUPT) from exc
    upright_size = (height, width) if turned else (width, height)
    return DecodedImage(pixels=image, width=upright_size[0], height=upright_size[1])


def check_limits(header: ImageHeader, limits: ImageLimits) -> None:
    """Refuse an image whose header says it would cost more to decode than ``limits`` allow."""
    if header.scans > limits.max_jpeg_scans:
        raise InvalidImage(
            f"The JPEG has {header.scans} scans; at most {limits.max_jpeg_scans} are accepted "
            "(a progressive JPEG from a camera or a library has about 10)."
        )
    width, height = header.width, header.height
    budget = limits.max_full_decode_pixels if header.full_decode else limits.max_pixels
    if header.full_decode and header.scans > PROGRESSIVE_SCANS:
        # Each scan of a progressive JPEG is a pass over its coefficients: more scans, fewer pixels.
        budget = budget * PROGRESSIVE_SCANS // header.scans
    if width * height > budget:
        kind = {"PNG": "PNG", "WEBP": "WebP"}.get(header.format, "progressive JPEG" if header.full_decode else "JPEG")
        raise InvalidImage(f"The image is too large: {width}x{height} pixels; a {kind} may have at most {budget:,}.")
    if max(width, height) > limits.max_aspect_ratio * min(width, height):
        raise InvalidImage(
            f"The image is too narrow: {width}x{height} pixels; "
            f"the longer side may be at most {limits.max_aspect_ratio:g} times the shorter."
        )
    byte_budget = limits.max_webp_bytes if header.format == "WEBP" else limits.max_image_bytes
    if header.size > byte_budget:
        kind = {"PNG": "PNG", "WEBP": "WebP"}.get(header.format, "JPEG")
        raise InvalidImage(
            f"The image file is too large: {header.size:,} bytes; a {kind} may have at most {byte_budget:,}."
        )


def read_header(data: bytes) -> ImageHeader:
    """The format and size from the first bytes (and, for a JPEG, its marker segments), decoding nothing.

    Raises ``InvalidImage`` for an empty file, another format, or a header that makes no sense.
    """
    if not data:
        raise InvalidImage("The image file is empty.")
    if data.startswith(b"\xff\xd8\xff"):
        return _jpeg_header(data)
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _png_header(data)
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return _webp_header(data)
    try:
        # Only to name a known but refused format in the message; Image.open reads just its header.
        found = Image.open(io.BytesIO(data)).format
    except Exception:  # any failure to identify means "not an image we take"
        found = None
    if found and found not in ACCEPTED_FORMATS:
        raise InvalidImage(f"{found} images are not accepted; send a JPEG, PNG or WebP image.")
    raise InvalidImage(NOT_AN_IMAGE)


def _png_header(data: bytes) -> ImageHeader:
    """PNG: the IHDR chunk must come first (PNG 1.2, section 5.6); width and height are 31-bit."""
    if len(data) < 33 or data[12:16] != b"IHDR" or data[8:12] != b"\x00\x00\x00\x0d":
        raise InvalidImage(CORRUPT)
    width, height = struct.unpack(">II", data[16:24])
    if not (0 < width < 2**31 and 0 < height < 2**31):
        raise InvalidImage(CORRUPT)
    if data[24] == 16:
        # Twice the data a pixel and no camera writes it; it would double the full-decode budget's cost.
        raise InvalidImage("16-bit PNG images are not accepted; send 8 bits a channel.")
    if data[28] != 0:
        # Adam7 interlacing is for slow web pages, not cameras, and costs twice as much to decode.
        raise InvalidImage("Interlaced PNG images are not accepted.")
    return ImageHeader("PNG", width, height, full_decode=True, size=len(data))


def _webp_header(data: bytes) -> ImageHeader:
    """WebP: the canvas size from the first chunk, VP8, VP8L or VP8X (RFC 9649, sections 2.5-2.7)."""
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = (struct.unpack("<H", data[i : i + 2])[0] & 0x3FFF for i in (26, 28))
    elif chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = struct.unpack("<I", data[21:25])[0]
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    elif chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
    else:
        raise InvalidImage(CORRUPT)
    if not (width and height):
        raise InvalidImage(CORRUPT)
    return ImageHeader("WEBP", width, height, full_decode=True, size=len(data))


# The scans libjpeg's progressive mode writes for a colour image (jcparam.c, jpeg_simple_progression):
# the full-decode pixel budget holds for up to this many; a JPEG with more scans gets proportionally
# fewer pixels, so its decoding work (pixels x scans) stays within the budget's.
PROGRESSIVE_SCANS = 10

# JPEG frame types libjpeg decodes (ITU T.81, table B.1): sequential and progressive, Huffman or
# arithmetic coded. Lossless and hierarchical frames are refused: no camera writes them.
_SEQUENTIAL_SOF = frozenset({0xC0, 0xC1, 0xC9})
_PROGRESSIVE_SOF = frozenset({0xC2, 0xCA})
_OTHER_SOF = frozenset({0xC3, 0xC5, 0xC6, 0xC7, 0xCB, 0xCD, 0xCE, 0xCF})
# Markers without a length (T.81 B.1.1.3): TEM and the restart markers.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
# The end of a scan's entropy-coded data: 0xFF followed by a marker code. 0xFF00 is a stuffed data
# byte, 0xFFD0-0xFFD7 are restart markers inside the scan, and 0xFFFF is fill before a marker.
_END_OF_ENTROPY_DATA = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_FILL = re.compile(rb"\xff+")


def _jpeg_header(data: bytes) -> ImageHeader:
    """Walk a JPEG's marker segments up to EOI: its frame header and how many scans it has.

    O(bytes) in C: segment lengths are followed, and each scan's entropy-coded data is skipped
    with one regular-expression search. Anything a conforming encoder never writes (no frame, two
    frames, a scan before its frame, a segment running past the end, no EOI) is refused as corrupt.
    """
    size = len(data)
    pos, frame, scans = 2, None, 0
    while True:
        fill = _FILL.match(data, pos)
        if fill is None or fill.end() >= size:
            raise InvalidImage(CORRUPT)
        marker = data[fill.end()]
        pos = fill.end() + 1
        if marker == 0xD9:  # EOI
            break
        if marker in _STANDALONE:
            continue
        if pos + 2 > size:
            raise InvalidImage(CORRUPT)
        length = (data[pos] << 8) | data[pos + 1]
        if length < 2 or pos + length > size:
            raise InvalidImage(CORRUPT)
        segment = data[pos + 2 : pos + length]
        pos += length
        if marker in _SEQUENTIAL_SOF or marker in _PROGRESSIVE_SOF or marker in _OTHER_SOF:
            if frame is not None or marker in _OTHER_SOF or len(segment) < 6:
                raise InvalidImage(CORRUPT)
            height, width = struct.unpack(">HH", segment[1:5])
            if not (width and height):  # a height of 0 means a DNL marker later: no camera does that
                raise InvalidImage(CORRUPT)
            frame = (width, height, marker in _PROGRESSIVE_SOF)
        elif marker == 0xDA:  # SOS, then entropy-coded data up to the next marker
            if frame is None:
                raise InvalidImage(CORRUPT)
            scans += 1
            end = _END_OF_ENTROPY_DATA.search(data, pos)
            if end is None:
                raise InvalidImage(CORRUPT)
            pos = end.start()
        elif marker in (0xD8, 0x00):  # a second SOI, or a stuffed byte where a marker belongs
            raise InvalidImage(CORRUPT)
    if frame is None or scans == 0:
        raise InvalidImage(CORRUPT)
    width, height, progressive = frame
    return ImageHeader("JPEG", width, height, full_decode=progressive, size=len(data), scans=scans)


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation (1 to 8), or 1 when there is none or the EXIF data cannot be read."""
    try:
        value = image.getexif().get(0x0112, 1)
    except Exception:  # Pillow's EXIF parser raises many types on bad metadata
        return 1
    return value if isinstance(value, int) and value in _UPRIGHT else 1


def _to_rgb(image: Image.Image) -> Image.Image:
    """Convert any mode to RGB; transparent pixels become white instead of black noise."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")
