"""Decoding of uploaded snapshots into RGB pixels the detector can read.

Pure Pillow: no Django here, so the training evaluator decodes exactly as the service does. The
service passes its limits in (``ImageLimits``, from ``detection.conf``); every limit is checked
from the file's own header and markers, before Pillow opens the file and before any pixel is decoded.
Pillow only ever sees a JPEG, PNG or WebP, and of a JPEG or PNG only the segments that decoding needs:
its plugins parse the rest (other formats, comments, EXIF, Photoshop blocks, PNG text) in Python.
"""

from __future__ import annotations

import io
import math
import re
import struct
from dataclasses import dataclass, field

from PIL import Image, UnidentifiedImageError

from detection.defaults import DEFAULTS

# The spec asks for JPEG; PNG and WebP are what webcams and apps also send. Everything else
# (GIF, SVG, TIFF, ...) is refused rather than guessed at (``read_header``).
CORRUPT = "The image data is corrupt or truncated."
NOT_AN_IMAGE = "The file is not a JPEG, PNG or WebP image."


class InvalidImage(ValueError):
    """The upload is not an image we can decode; the message is safe to show the caller."""


@dataclass(frozen=True)
class ImageLimits:
    """What an upload may cost to decode, all checked from its header.

    ``max_pixels`` bounds a JPEG of one scan, which libjpeg decodes at 1/2 to 1/8 scale (``draft``).
    ``max_full_decode_pixels`` bounds the images that must be decoded at full size: PNG, WebP and a
    JPEG of several scans, progressive or with its components in separate scans (every coefficient is
    entropy-decoded, scan after scan, into a full-size buffer). Both are a colour image's budget: a
    CMYK JPEG gets 3/4 of it (``check_limits``). ``max_aspect_ratio`` is the longer side over the
    shorter. ``max_jpeg_scans`` bounds the entropy-decoding passes of a JPEG. ``max_image_bytes``
    bounds the compressed data of a JPEG or PNG, whose entropy decoding costs time per byte whatever
    the size; ``max_webp_bytes`` that of a WebP, whose decoder spends about eight times as long on
    each byte (bench/worst_upload.py); bytes are checked first, before the file's markers are walked.
    ``max_image_segments`` bounds the marker segments of a JPEG and the chunks of a PNG, each a pass
    of Python. ``max_decoded_pixels`` does not refuse: it is the most pixels a JPEG is decoded to,
    whatever the target size asks (libjpeg then decodes at a smaller 1/2 to 1/8 scale), which bounds
    the memory a decode holds.
    The defaults are the service's, with their sources, in ``detection.defaults.DEFAULTS`` (docs/security.md);
    the service's values, overrides included, come from ``detection_settings.image_limits()``.
    """

    max_pixels: int = DEFAULTS["MAX_PIXELS"]
    max_full_decode_pixels: int = DEFAULTS["MAX_FULL_DECODE_PIXELS"]
    max_aspect_ratio: float = DEFAULTS["MAX_ASPECT_RATIO"]
    max_jpeg_scans: int = DEFAULTS["MAX_JPEG_SCANS"]
    max_image_bytes: int = DEFAULTS["MAX_IMAGE_BYTES"]
    max_webp_bytes: int = DEFAULTS["MAX_WEBP_BYTES"]
    max_image_segments: int = DEFAULTS["MAX_IMAGE_SEGMENTS"]
    max_decoded_pixels: int = DEFAULTS["MAX_DECODED_PIXELS"]


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
    """What the header says an upload will cost: its format, size, (JPEG) components and scans.

    ``stream`` is what Pillow is given: the file itself for a WebP; for a JPEG or PNG the file with
    only the segments or chunks that decoding needs. ``orientation`` is its EXIF orientation (JPEG,
    PNG; 1 when there is none, or when it cannot be read).
    """

    format: str
    width: int
    height: int
    full_decode: bool  # PNG, WebP, and a JPEG of several scans: every pixel or coefficient is kept
    size: int = 0  # bytes of the file
    scans: int = 0
    components: int = 0  # of a JPEG's frame
    progressive: bool = False
    orientation: int = 1
    stream: bytes = field(default=b"", repr=False, compare=False)


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
    larger than the model input, which is most of the cost of a webcam frame (``decode_plan``); other
    images are reduced by an integer factor after decoding, which makes the model's resize cheap.
    Broken EXIF metadata is ignored (the image is taken as upright): the pixels are still good.
    """
    header = read_header(data, limits)
    if limits is not None:
        check_limits(header, limits)
    try:
        image = Image.open(io.BytesIO(header.stream), formats=[header.format])
    except Image.DecompressionBombError as exc:
        raise InvalidImage("The image is too large.") from exc
    except UnidentifiedImageError as exc:
        raise InvalidImage(NOT_AN_IMAGE) from exc
    except (OSError, SyntaxError, ValueError, struct.error, EOFError) as exc:
        # Pillow parses the markers and chunks it is given on open; a malformed one is the caller's.
        raise InvalidImage(CORRUPT) from exc
    if image.format != header.format:
        raise InvalidImage(f"{image.format} images are not accepted; send a JPEG, PNG or WebP image.")
    if image.size != (header.width, header.height):
        raise InvalidImage(CORRUPT)  # a second frame header, a canvas unlike its frame: not a webcam's
    width, height = image.size
    # A WebP's EXIF chunk is read by libwebp (C); a JPEG's and a PNG's by the marker walk.
    orientation = _exif_orientation(image.info.get("exif")) if header.format == "WEBP" else header.orientation
    turned = orientation in (5, 6, 7, 8)
    try:
        if header.format == "JPEG":
            scale = _jpeg_scale(header, target_size, limits)
            if scale > 1:
                image.draft("RGB", (width // scale, height // scale))
        image.load()
        if image.mode not in _REDUCIBLE:
            image = _to_rgb(image)
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


def decode_plan(
    header: ImageHeader, target_size: tuple[int, int] | None, limits: ImageLimits | None
) -> tuple[int, int]:
    """The size ``decode_image`` has the pixels decoded to: a JPEG's at its 1/n draft scale, others' whole."""
    scale = _jpeg_scale(header, target_size, limits) if header.format == "JPEG" else 1
    return math.ceil(header.width / scale), math.ceil(header.height / scale)


def _jpeg_scale(header: ImageHeader, target_size: tuple[int, int] | None, limits: ImageLimits | None) -> int:
    """The 1/n scale (n in 1, 2, 4, 8) libjpeg decodes a JPEG at.

    The largest that keeps both sides at least ``target_size`` (as Pillow's ``draft`` picks it), then
    smaller while the decoded frame is over ``limits.max_decoded_pixels``: a thin region of interest
    asks for its narrow side at full size, which on a 4096x4096 frame is a 64 MB decode.
    """
    width, height = header.width, header.height
    scale = 1
    if target_size is not None:
        # The target is upright; the frame is decoded as stored, before the EXIF turn.
        target_w, target_h = target_size[::-1] if header.orientation in (5, 6, 7, 8) else target_size
        fit = min(width // max(target_w, 1), height // max(target_h, 1))
        for n in (8, 4, 2):
            if fit >= n:
                scale = n
                break
    if limits is not None:
        # libjpeg rounds each side up at a scale.
        while scale < 8 and math.ceil(width / scale) * math.ceil(height / scale) > limits.max_decoded_pixels:
            scale *= 2
    return scale


def check_limits(header: ImageHeader, limits: ImageLimits) -> None:
    """Refuse an image whose header says it would cost more to decode than ``limits`` allow.

    The bytes are checked earlier, by ``read_header``, before a JPEG's or PNG's segments are walked.
    """
    if header.scans > limits.max_jpeg_scans:
        raise InvalidImage(
            f"The JPEG has {header.scans} scans; at most {limits.max_jpeg_scans} are accepted "
            "(a progressive JPEG from a camera or a library has about 10)."
        )
    width, height = header.width, header.height
    budget = limits.max_full_decode_pixels if header.full_decode else limits.max_pixels
    described = f"{width}x{height} pixels"
    if header.format == "JPEG":
        # A JPEG's decoding work is pixels x components x scans, and a JPEG of several scans keeps
        # every coefficient of every component: the budgets are a colour (3-component) image's, in
        # one scan or in the 10 scans of libjpeg's progression. More of either, fewer pixels.
        components = max(header.components, 3)
        scans = max(header.scans, PROGRESSIVE_SCANS) if header.full_decode else 1
        reference = 3 * (PROGRESSIVE_SCANS if header.full_decode else 1)
        budget = budget * reference // (components * scans)
        if header.components > 3:
            described += f" in {header.components} components"
    if width * height > budget:
        raise InvalidImage(f"The image is too large: {described}; a {_kind(header)} may have at most {budget:,}.")
    if max(width, height) > limits.max_aspect_ratio * min(width, height):
        raise InvalidImage(
            f"The image is too narrow: {width}x{height} pixels; "
            f"the longer side may be at most {limits.max_aspect_ratio:g} times the shorter."
        )


def _kind(header: ImageHeader) -> str:
    """The image's kind as the messages name it."""
    if header.format == "JPEG":
        return "progressive JPEG" if header.progressive else "multi-scan JPEG" if header.full_decode else "JPEG"
    return {"PNG": "PNG", "WEBP": "WebP"}[header.format]


def _check_bytes(image_format: str, size: int, limits: ImageLimits) -> None:
    """Refuse a file over its format's byte limit: the first check, before any segment is walked."""
    byte_budget = limits.max_webp_bytes if image_format == "WEBP" else limits.max_image_bytes
    if size > byte_budget:
        kind = {"PNG": "PNG", "WEBP": "WebP"}.get(image_format, "JPEG")
        raise InvalidImage(f"The image file is too large: {size:,} bytes; a {kind} may have at most {byte_budget:,}.")


# Formats we refuse, named from their first bytes. Pillow never sees them: its plugins for some
# (EPS, IM, IPTC, a GIF's comment blocks) loop in Python over the whole file just to open it.
_REFUSED_SIGNATURES = (
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
    (b"%!PS", "EPS"),
    (b"\xc5\xd0\xd3\xc6", "EPS"),
    (b"8BPS", "PSD"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG 2000"),
    (b"\xff\x4f\xff\x51", "JPEG 2000"),
    (b"\xff\x0a", "JPEG XL"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "JPEG XL"),
    (b"qoif", "QOI"),
)
# ISO media files (HEIF, AVIF) say what they are in the brand after "ftyp" at byte 4.
_FTYP_BRANDS = {b"avif": "AVIF", b"avis": "AVIF", b"heic": "HEIC", b"heix": "HEIC", b"mif1": "HEIF", b"msf1": "HEIF"}


def _refused_format(data: bytes) -> str | None:
    """The name of a format we refuse that ``data`` starts like; None if it is none of them."""
    if data[4:8] == b"ftyp" and data[8:12] in _FTYP_BRANDS:
        return _FTYP_BRANDS[data[8:12]]
    for magic, name in _REFUSED_SIGNATURES:
        if data.startswith(magic):
            return name
    return None


def read_header(data: bytes, limits: ImageLimits | None = None) -> ImageHeader:
    """The format and size from the first bytes (and a JPEG's markers, a PNG's chunks), decoding nothing.

    The format is named from its magic bytes alone. With ``limits``, the file's bytes are checked
    first, then at most ``limits.max_image_segments`` segments or chunks are walked.
    Raises ``InvalidImage`` for an empty file, another format, or a header that makes no sense.
    """
    if not data:
        raise InvalidImage("The image file is empty.")
    if data.startswith(b"\xff\xd8\xff"):
        image_format, walk = "JPEG", _jpeg_header
    elif data.startswith(b"\x89PNG\r\n\x1a\n"):
        image_format, walk = "PNG", _png_header
    elif data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        image_format, walk = "WEBP", _webp_header
    else:
        refused = _refused_format(data)
        if refused:
            raise InvalidImage(f"{refused} images are not accepted; send a JPEG, PNG or WebP image.")
        raise InvalidImage(NOT_AN_IMAGE)
    if limits is not None:
        _check_bytes(image_format, len(data), limits)
    return walk(data, limits.max_image_segments if limits is not None else None)


# Chunks Pillow needs to decode a PNG: the rest (text, ICC profiles, animation, EXIF, which we read
# ourselves) it would parse in Python, zTXt and iTXt up to 64 MB decompressed.
_PNG_DECODING_CHUNKS = frozenset({b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"})


def _png_header(data: bytes, max_chunks: int | None) -> ImageHeader:
    """PNG: the IHDR chunk must come first (PNG 1.2, section 5.6); width and height are 31-bit.

    Then every chunk is walked up to IEND, at most ``max_chunks`` of them; Pillow is given those
    that decoding needs, and the orientation is read from the first eXIf chunk, wherever it lies.
    """
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
    size, pos, chunks, kept, exif = len(data), 8, 0, [data[:8]], None
    while True:
        if pos + 12 > size:
            raise InvalidImage(CORRUPT)  # no IEND
        length, kind = struct.unpack_from(">I4s", data, pos)
        end = pos + 12 + length
        if end > size or not kind.isalpha():
            raise InvalidImage(CORRUPT)
        chunks += 1
        if max_chunks is not None and chunks > max_chunks:
            raise InvalidImage(
                f"The PNG has more than {max_chunks:,} chunks; at most {max_chunks:,} are accepted "
                "(an encoder writes tens)."
            )
        if kind in _PNG_DECODING_CHUNKS:
            kept.append(data[pos:end])
        elif kind == b"eXIf":
            exif = data[pos + 8 : end - 4] if exif is None else exif
        elif kind[0] & 0x20 == 0:  # an unknown critical chunk: PNG 1.2 section 4.3 says refuse
            raise InvalidImage(CORRUPT)
        if kind == b"IEND":
            break
        pos = end
    return ImageHeader(
        "PNG",
        width,
        height,
        full_decode=True,
        size=size,
        orientation=_exif_orientation(exif),
        stream=b"".join(kept),
    )


def _webp_header(data: bytes, max_chunks: int | None) -> ImageHeader:
    """WebP: the canvas size from the first chunk, VP8, VP8L or VP8X (RFC 9649, sections 2.5-2.7).

    libwebp (C) reads its other chunks; the byte limit bounds them.
    """
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
    return ImageHeader("WEBP", width, height, full_decode=True, size=len(data), stream=data)


# The scans libjpeg's progressive mode writes for a colour image (jcparam.c, jpeg_simple_progression):
# the full-decode pixel budget holds for up to this many; a JPEG with more scans gets proportionally
# fewer pixels, so its decoding work (pixels x scans) stays within the budget's.
PROGRESSIVE_SCANS = 10

# JPEG frame types libjpeg decodes (ITU T.81, table B.1): sequential and progressive, Huffman or
# arithmetic coded. Lossless and hierarchical frames are refused: no camera writes them.
_SEQUENTIAL_SOF = frozenset({0xC0, 0xC1, 0xC9})
_PROGRESSIVE_SOF = frozenset({0xC2, 0xCA})
_OTHER_SOF = frozenset({0xC3, 0xC5, 0xC6, 0xC7, 0xCB, 0xCD, 0xCE, 0xCF})
# Markers without a length (T.81 B.1.1.3): TEM and the restart markers. They belong inside a scan's
# entropy-coded data (where the scan's search skips them), never between segments.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
# Segments libjpeg needs to decode (besides frames and scans): DHT, DAC, DQT, DRI, and APP0 (JFIF)
# and APP14 (Adobe), which say how the colours are coded. Pillow is not given the others (comments,
# EXIF, ICC, Photoshop, MPF): it parses them in Python, and a JPEG carrying MPF becomes an MPO.
_DECODING_SEGMENTS = frozenset({0xC4, 0xCC, 0xDB, 0xDD, 0xE0, 0xEE})
# The end of a scan's entropy-coded data: 0xFF followed by a marker code. 0xFF00 is a stuffed data
# byte, 0xFFD0-0xFFD7 are restart markers inside the scan, and 0xFFFF is fill before a marker.
_END_OF_ENTROPY_DATA = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_FILL = re.compile(rb"\xff+")


def _jpeg_header(data: bytes, max_segments: int | None) -> ImageHeader:
    """Walk a JPEG's marker segments up to EOI: its frame header, its scans and their components.

    O(segments) in Python and O(bytes) in C: segment lengths are followed, and each scan's
    entropy-coded data is skipped with one regular-expression search; at most ``max_segments``
    segments. Anything a conforming encoder never writes (no frame, two frames, a scan before its
    frame, a restart marker outside a scan, a segment running past the end, no EOI) is refused as
    corrupt. Pillow is then given SOI, the segments decoding needs, the scans and EOI.
    """
    pos, frame, scans, segments, exif = 2, None, 0, 0, None
    kept = [b"\xff\xd8"]
    while True:
        start, marker = _jpeg_marker(data, pos)
        if marker == 0xD9:  # EOI
            break
        segments += 1
        if max_segments is not None and segments > max_segments:
            raise InvalidImage(
                f"The JPEG has more than {max_segments:,} marker segments; at most {max_segments:,} "
                "are accepted (an encoder writes about 10)."
            )
        segment = _jpeg_segment(data, start + 2)
        pos = start + 4 + len(segment)
        if marker in _SEQUENTIAL_SOF or marker in _PROGRESSIVE_SOF or marker in _OTHER_SOF:
            if frame is not None:
                raise InvalidImage(CORRUPT)
            frame = _jpeg_frame(marker, segment)
            kept.append(data[start:pos])
        elif marker == 0xDA:  # SOS, then entropy-coded data up to the next marker
            if frame is None:
                raise InvalidImage(CORRUPT)
            scans += 1
            pos = _jpeg_scan_end(data, pos, segment)
            kept.append(data[start:pos])
        elif marker in _DECODING_SEGMENTS:
            kept.append(data[start:pos])
        elif marker == 0xE1 and exif is None and segment.startswith(b"Exif\x00\x00"):
            exif = segment
    if frame is None or scans == 0:
        raise InvalidImage(CORRUPT)
    kept.append(b"\xff\xd9")
    width, height, components, progressive = frame
    return ImageHeader(
        "JPEG",
        width,
        height,
        # Several scans (progressive, or sequential with its components in separate scans): libjpeg
        # keeps every coefficient of the frame until the last scan, whatever the output scale.
        full_decode=progressive or scans > 1,
        size=len(data),
        scans=scans,
        components=components,
        progressive=progressive,
        orientation=_exif_orientation(exif),
        stream=b"".join(kept),
    )


def _jpeg_marker(data: bytes, pos: int) -> tuple[int, int]:
    """The next marker from ``pos``, after any fill bytes: where its 0xFF is, and its code.

    Refused as corrupt: no marker before the end, and a marker that may not stand between segments.
    """
    fill = _FILL.match(data, pos)
    if fill is None or fill.end() >= len(data):
        raise InvalidImage(CORRUPT)
    marker = data[fill.end()]
    if marker in _STANDALONE or marker in (0xD8, 0x00):  # outside a scan; a second SOI; a stuffed byte
        raise InvalidImage(CORRUPT)
    return fill.end() - 1, marker


def _jpeg_segment(data: bytes, pos: int) -> bytes:
    """The body of the segment whose two-byte length is at ``pos``; refused if it runs past the end."""
    if pos + 2 > len(data):
        raise InvalidImage(CORRUPT)
    length = (data[pos] << 8) | data[pos + 1]
    if length < 2 or pos + length > len(data):
        raise InvalidImage(CORRUPT)
    return data[pos + 2 : pos + length]


def _jpeg_frame(marker: int, segment: bytes) -> tuple[int, int, int, bool]:
    """A frame header's width, height, components and whether it is progressive (T.81 B.2.2).

    Refused: a frame libjpeg does not decode or no camera writes, and a size or component count that
    does not add up.
    """
    if marker in _OTHER_SOF or len(segment) < 6 or len(segment) != 6 + 3 * segment[5]:
        raise InvalidImage(CORRUPT)
    height, width = struct.unpack(">HH", segment[1:5])
    if not (width and height):  # a height of 0 means a DNL marker later: no camera does that
        raise InvalidImage(CORRUPT)
    if segment[5] not in (1, 3, 4):
        raise InvalidImage(f"JPEG images with {segment[5]} components are not accepted; send a colour or grey image.")
    return width, height, segment[5], marker in _PROGRESSIVE_SOF


def _jpeg_scan_end(data: bytes, pos: int, header: bytes) -> int:
    """Where the scan whose entropy-coded data starts at ``pos`` ends: at the next marker (T.81 B.2.3).

    ``header`` is the scan's SOS segment; one whose component count does not add up is refused.
    """
    if not header or not 1 <= header[0] <= 4 or len(header) != 4 + 2 * header[0]:
        raise InvalidImage(CORRUPT)
    end = _END_OF_ENTROPY_DATA.search(data, pos)
    if end is None:
        raise InvalidImage(CORRUPT)
    return end.start()


# IFD0 of a camera's EXIF has about a dozen entries; orientation (0x0112) is among the first, since
# entries are sorted by tag. Reading no further bounds the work on a hostile directory.
_MAX_IFD_ENTRIES = 256


def _exif_orientation(exif: bytes | None) -> int:
    """The EXIF orientation (1 to 8) from a TIFF-structured EXIF block's IFD0, or 1 when there is none.

    Read here rather than by Pillow, whose EXIF parser loops in Python over every entry and copies
    each entry's value, even when a thousand entries point at one large block. Only an inline SHORT
    or LONG value is read; anything else (a bad header, an offset past the end) means upright.
    """
    if not exif:
        return 1
    tiff = exif[6:] if exif.startswith(b"Exif\x00\x00") else exif
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None:
        return 1
    try:
        magic, offset = struct.unpack_from(order + "HI", tiff, 2)
        if magic != 42:
            return 1
        (count,) = struct.unpack_from(order + "H", tiff, offset)
        for entry in range(offset + 2, offset + 2 + 12 * min(count, _MAX_IFD_ENTRIES), 12):
            tag, kind, values = struct.unpack_from(order + "HHI", tiff, entry)
            if tag == 0x0112:
                if values != 1 or kind not in (3, 4):
                    return 1
                (value,) = struct.unpack_from(order + ("H" if kind == 3 else "I"), tiff, entry + 8)
                return value if value in _UPRIGHT else 1
    except struct.error:  # an offset or a count past the end
        return 1
    return 1


def _to_rgb(image: Image.Image) -> Image.Image:
    """Convert any mode to RGB; transparent pixels become white instead of black noise."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")
