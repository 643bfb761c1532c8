"""What a camera does to a scene: white balance, exposure, noise, blur, JPEG, lens, angle, resolution, IR.

Issue 22: a detector trained on one camera's frames fired on another camera's backgrounds. Every
camera differs in the same few ways, so a scene (a clean frame with or without a pasted failure) is
shown through a random ``CameraLook``:

- **geometry**: a small roll (``angle_deg``), a zoom into the frame (``zoom``, with the crop's
  centre shifted by up to what the zoom leaves), barrel or pincushion distortion (``distortion``,
  the k1 of the one-term radial model) and the output resolution (``size``), possibly a different
  aspect ratio from the source's (a 16:9 camera cropped from a 4:3 scene, or the other way round);
- **photometry**: per-channel white-balance gains, an exposure gain and gamma, saturation;
- **sensor**: Gaussian noise (drawn once per source frame, so a scene repeated frame after frame is
  the same image, as a still scene on a real camera is to within its noise), a defocus blur, and an
  upscale from a lower native resolution (a cheap camera's soft 720p);
- **greyscale or IR night mode**: luminance only, sometimes with the faint magenta cast of an IR-cut
  filter removed;
- **JPEG** at the camera's quality.

Geometry is one analytic map from output pixels to scene pixels (``CameraLook.source_points``),
applied with Pillow's MESH transform on a grid of quads, so boxes go through exactly the same map
(``transform_boxes``). Pure: NumPy and Pillow, no torch, no Django; tested in
``tests/training/test_camera.py``.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

# Output resolutions real webcams send (width, height): 4:3 and 16:9, from VGA to 1080p.
CAMERA_SIZES = ((640, 480), (800, 600), (1024, 768), (1280, 960), (640, 360), (1280, 720), (1920, 1080))
MESH_STEPS = 12  # quads per side of the MESH transform: distortion error under half a pixel at 1080p
BOX_GRID = 96  # samples per side when mapping a box through the geometry
GREY_SHARE = 0.12  # night-mode (IR) cameras send greyscale frames


@dataclass(frozen=True)
class CameraLook:
    """One camera's settings; ``identity`` is the scene as it is, at its own size, re-encoded at ``jpeg_quality``."""

    size: tuple[int, int] | None = None  # output (width, height); None keeps the scene's size
    angle_deg: float = 0.0
    zoom: float = 1.0  # >= 1: the output shows 1/zoom of the scene's width and height
    shift: tuple[float, float] = (0.0, 0.0)  # crop centre offset, as a share of the slack the zoom leaves
    distortion: float = 0.0  # k1: negative is barrel (wide-angle webcams), positive pincushion
    gains: tuple[float, float, float] = (1.0, 1.0, 1.0)  # white balance, per RGB channel
    exposure: float = 1.0
    gamma: float = 1.0
    saturation: float = 1.0
    noise: float = 0.0  # standard deviation, in 0-255 units
    blur: float = 0.0  # Gaussian radius in output pixels
    native_scale: float = 1.0  # < 1: the sensor's resolution as a share of the output's (then upscaled)
    greyscale: bool = False
    jpeg_quality: int = 90

    @classmethod
    def identity(cls, jpeg_quality: int = 90) -> CameraLook:
        return cls(jpeg_quality=jpeg_quality)

    def output_size(self, scene_size: tuple[int, int]) -> tuple[int, int]:
        return self.size or scene_size

    def source_points(self, xs: np.ndarray, ys: np.ndarray, scene_size: tuple[int, int]) -> tuple:
        """Scene pixel coordinates of output pixel coordinates ``(xs, ys)`` (arrays of any shape).

        Output pixels are first taken to normalised coordinates centred on the frame (the longer
        side from -1 to 1), undistorted radially, rotated, then scaled and shifted into the crop of
        the scene. When the output's aspect differs from the scene's, the crop keeps the output's
        aspect and fits inside the scene (a centre crop, before zoom and shift).
        """
        out_w, out_h = self.output_size(scene_size)
        scene_w, scene_h = scene_size
        half = max(out_w, out_h) / 2
        u = (np.asarray(xs, dtype=np.float64) - out_w / 2) / half
        v = (np.asarray(ys, dtype=np.float64) - out_h / 2) / half
        radial = 1 + self.distortion * (u * u + v * v)
        u, v = u * radial, v * radial
        cos, sin = math.cos(math.radians(self.angle_deg)), math.sin(math.radians(self.angle_deg))
        u, v = cos * u - sin * v, sin * u + cos * v
        # The largest crop of the scene with the output's aspect, then zoomed in.
        crop_scale = min(scene_w / out_w, scene_h / out_h) / self.zoom  # scene pixels per output pixel
        slack_x = scene_w - out_w * crop_scale
        slack_y = scene_h - out_h * crop_scale
        centre_x = scene_w / 2 + self.shift[0] * slack_x / 2
        centre_y = scene_h / 2 + self.shift[1] * slack_y / 2
        return centre_x + u * half * crop_scale, centre_y + v * half * crop_scale

    def is_plain_resize(self) -> bool:
        return self.angle_deg == 0 and self.zoom == 1 and self.distortion == 0 and self.shift == (0.0, 0.0)


def random_look(rng: np.random.Generator, *, strength: float = 1.0) -> CameraLook:
    """A random camera: every setting drawn independently, ``strength`` scaling how far from neutral."""

    def spread(low: float, high: float) -> float:
        return float(np.exp(rng.uniform(np.log(low), np.log(high)) * strength))

    greyscale = bool(rng.random() < GREY_SHARE)
    size = CAMERA_SIZES[int(rng.integers(len(CAMERA_SIZES)))]
    gains = (1.0, 1.0, 1.0)
    if not greyscale:
        drawn = np.array([spread(0.8, 1.25) for _ in range(3)])
        gains = tuple(float(g) for g in drawn / drawn.mean())
    return CameraLook(
        size=size,
        angle_deg=float(rng.uniform(-6, 6) * strength),
        zoom=float(1 + rng.uniform(0, 0.25) * strength),
        shift=(float(rng.uniform(-1, 1)), float(rng.uniform(-1, 1))),
        distortion=float(rng.uniform(-0.12, 0.04) * strength),
        gains=gains,
        exposure=spread(0.65, 1.45),
        gamma=spread(0.8, 1.25),
        saturation=spread(0.6, 1.35),
        noise=float(rng.uniform(0, 7) * strength) + (3.0 if greyscale else 0.0),
        blur=float(rng.choice([0.0, 0.0, rng.uniform(0.3, 1.6) * strength])),
        native_scale=float(rng.choice([1.0, 1.0, 1.0, rng.uniform(0.45, 0.8)])),
        greyscale=greyscale,
        jpeg_quality=int(rng.integers(40, 96)),
    )


def _mesh(look: CameraLook, scene_size: tuple[int, int]) -> list:
    """Pillow MESH data: each output quad with the scene quad (UL, LL, LR, UR) the map sends it to."""
    out_w, out_h = look.output_size(scene_size)
    xs = np.linspace(0, out_w, MESH_STEPS + 1)
    ys = np.linspace(0, out_h, MESH_STEPS + 1)
    grid_x, grid_y = np.meshgrid(xs, ys)
    src_x, src_y = look.source_points(grid_x, grid_y, scene_size)
    mesh = []
    for j in range(MESH_STEPS):
        for i in range(MESH_STEPS):
            box = (round(xs[i]), round(ys[j]), round(xs[i + 1]), round(ys[j + 1]))
            quad = (
                src_x[j, i], src_y[j, i],
                src_x[j + 1, i], src_y[j + 1, i],
                src_x[j + 1, i + 1], src_y[j + 1, i + 1],
                src_x[j, i + 1], src_y[j, i + 1],
            )  # fmt: skip
            mesh.append((box, tuple(float(c) for c in quad)))
    return mesh


def apply_geometry(scene: Image.Image, look: CameraLook) -> Image.Image:
    """The scene as the camera frames it, at the camera's resolution (sensor resolution first)."""
    out_size = look.output_size(scene.size)
    if look.is_plain_resize():
        framed = scene if out_size == scene.size else scene.resize(out_size, Image.Resampling.BILINEAR)
    else:
        framed = scene.transform(out_size, Image.Transform.MESH, _mesh(look, scene.size), Image.Resampling.BILINEAR)
    if look.native_scale < 1:
        native = (max(8, round(out_size[0] * look.native_scale)), max(8, round(out_size[1] * look.native_scale)))
        framed = framed.resize(native, Image.Resampling.BILINEAR).resize(out_size, Image.Resampling.BICUBIC)
    return framed


def apply_sensor(image: Image.Image, look: CameraLook, rng: np.random.Generator) -> Image.Image:
    """White balance, exposure, gamma, saturation, greyscale, blur and noise (``rng`` draws the noise).

    The tone curve is a lookup table per channel and saturation Pillow's own, both in C: a 1080p
    frame costs milliseconds, not the hundred a float pipeline in NumPy took.
    """
    levels = np.arange(256, dtype=np.float32) / 255.0
    table = []
    for gain in look.gains:
        curve = np.clip(levels * gain * look.exposure, 0, 1) ** (1 / look.gamma)
        table.extend((curve * 255 + 0.5).astype(np.uint8).tolist())
    out = image.convert("RGB").point(table)
    if look.greyscale:
        out = out.convert("L").convert("RGB")
    elif look.saturation != 1.0:
        out = ImageEnhance.Color(out).enhance(look.saturation)
    if look.blur > 0:
        out = out.filter(ImageFilter.GaussianBlur(look.blur))
    if look.noise > 0:
        pixels = np.asarray(out, dtype=np.int16)
        shape = (*pixels.shape[:2], 1 if look.greyscale else 3)
        noise = (rng.standard_normal(shape, dtype=np.float32) * look.noise).astype(np.int16)
        out = Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8))
    return out


def encode_jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=int(quality))
    return buffer.getvalue()


def shoot(scene: Image.Image, look: CameraLook, rng: np.random.Generator) -> bytes:
    """The JPEG the camera sends of ``scene``."""
    return encode_jpeg(apply_sensor(apply_geometry(scene, look), look, rng), look.jpeg_quality)


def transform_boxes(boxes: np.ndarray, look: CameraLook, scene_size: tuple[int, int]) -> np.ndarray:
    """Boxes ``[K, 4]`` (x1, y1, x2, y2) in scene pixels, as boxes around where they land in the output.

    Samples the output on a grid, maps each sample to the scene and keeps the extent of the samples
    that land inside each box; a box that leaves the frame is clipped, one that leaves it entirely
    is dropped.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if not len(boxes):
        return boxes.astype(np.float32)
    out_w, out_h = look.output_size(scene_size)
    if look.is_plain_resize():
        scale = np.array([out_w / scene_size[0], out_h / scene_size[1]] * 2)
        return (boxes * scale).astype(np.float32)
    steps_x = np.linspace(0, out_w, BOX_GRID * 2 + 1)
    steps_y = np.linspace(0, out_h, BOX_GRID * 2 + 1)
    grid_x, grid_y = np.meshgrid(steps_x, steps_y)
    src_x, src_y = look.source_points(grid_x, grid_y, scene_size)
    out = []
    for x1, y1, x2, y2 in boxes:
        inside = (src_x >= x1) & (src_x <= x2) & (src_y >= y1) & (src_y <= y2)
        if not inside.any():
            continue
        out.append([grid_x[inside].min(), grid_y[inside].min(), grid_x[inside].max(), grid_y[inside].max()])
    return np.asarray(out, dtype=np.float32).reshape(-1, 4)


def at_most(look: CameraLook, scene_size: tuple[int, int], max_width: int) -> CameraLook:
    """The same camera with its output scaled down, aspect kept, to at most ``max_width`` pixels wide."""
    width, height = look.output_size(scene_size)
    if width <= max_width:
        return look
    return replace(look, size=(max_width, max(8, round(height * max_width / width))))
