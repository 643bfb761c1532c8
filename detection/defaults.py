"""Every detection and verdict default, with its source: plain values, importable with no Django.

``detection.conf.detection_settings`` overrides them from ``settings.DETECTION``; the pure modules
(``image``, ``verdict``) and the training code read them from here.
"""

from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, Any] = {
    # --- The model ---
    # The shipped model (see models/README.md); Obico's published ONNX file drops in here too.
    "MODEL_PATH": PROJECT_ROOT / "models" / "spaghetti-effnetlite0.onnx",
    # onnxruntime intra-op threads per worker process; see bench/README.md for the measurement.
    "THREADS": 2,
    # Obico's ml_api: boxes with confidence above 0.08, then NMS at IoU 0.45.
    "CONF_THRESHOLD": 0.08,
    "NMS_IOU": 0.45,
    # --- What an upload may cost to decode (detection.image.ImageLimits) ---
    # All refused from its header before any pixel is decoded; measured by bench/worst_upload.py so
    # that the costliest accepted upload stays near 3 ordinary predicts (docs/security.md, bench/README.md).
    # A JPEG decodes at 1/8 scale, so 4096x4096 costs little (a 4K camera is 3840x2160); PNG, WebP
    # and progressive JPEG decode every pixel, so 1280x960 (720p and 4:3 960p fit).
    "MAX_PIXELS": 4096 * 4096,
    "MAX_FULL_DECODE_PIXELS": 1280 * 960,
    # Longer side over shorter: 32:9 super-ultrawide is 3.6; a 50,000,000x1 strip is no camera's.
    "MAX_ASPECT_RATIO": 4.0,
    # libjpeg's progressive mode writes 10 scans for colour, 6 for grey, 18 for CMYK (jcparam.c); mozjpeg
    # writes at most as many. More is made by hand: 20 leaves room, each scan is a pass over the image.
    "MAX_JPEG_SCANS": 20,
    # Compressed bytes: entropy decoding costs time per byte (WebP's about 8x JPEG's).
    "MAX_IMAGE_BYTES": 640 * 1024,
    "MAX_WEBP_BYTES": 256 * 1024,
    # Marker segments of a JPEG, chunks of a PNG: each is a pass of Python in the walk (and in Pillow for
    # the few it is given). Cameras write about 10 segments; libpng writes 8 KiB IDAT chunks, 80 in
    # 640 KiB. 1,000 leaves room and costs about a millisecond; 54,000 empty chunks cost 5 predicts.
    "MAX_IMAGE_SEGMENTS": 1000,
    # Not a refusal: the most pixels a JPEG is decoded to (libjpeg picks a smaller 1/2-1/8 scale to fit),
    # 16 MB in Pillow. A thin region of interest otherwise asks for the full size: 64 MB at 4096x4096.
    "MAX_DECODED_PIXELS": 2048 * 2048,
    # --- The verdict (detection.verdict) and the printer's memory (detection.adaptation) ---
    # "adaptive": our rule, chosen on the alert evaluator (issue 22, models/README.md); "obico": Obico's.
    "VERDICT_RULE": "adaptive",
    # The adaptive rule (detection.verdict.AdaptiveRule), tuned on validation sequences (models/README.md).
    "ADAPTIVE_WARMUP": 10,  # no alarm before a print's 10th snapshot, while a new printer's memory learns
    "ADAPTIVE_SPAN": 8,  # EWM span of the discounted score: one odd frame alone does not warn
    "ADAPTIVE_WARNING": 0.6,  # smoothed excess over the clean baseline that warns
    "ADAPTIVE_FAILURE": 0.8,  # ... and that fails
    "ADAPTIVE_RELEASE": 0.5,  # a level is held until the excess falls under half its threshold
    # The printer's memory (detection.adaptation.AdaptationRule).
    "ADAPTATION_RATE_FLOOR": 0.02,  # learns at 1/n, then 1/50 a snapshot: hours to follow a camera, not seconds
    # A snapshot teaches the memory only while the smoothed excess is under this (after the warm-up):
    # a failure rising towards the warning threshold is never learned as normal.
    "ADAPTATION_LEARN_BELOW": 0.15,
    "ADAPTATION_BASELINE_CAP": 0.3,  # a noisy camera may raise its baseline this far, no further
    "ADAPTATION_FORGET_BELOW": 0.01,  # static levels under this are dropped: the row stays small
    # Obico's rule (detection.verdict.ObicoRule): its constants, server/backend/lib/prediction.py.
    "VERDICT_INIT_SAFE_PREDICTION_NUM": 30,  # INIT_SAFE_FRAME_NUM: no alarm in a print's first 30 snapshots
    "VERDICT_THRESHOLD_LOW": 0.38,  # THRESHOLD_LOW
    "VERDICT_THRESHOLD_HIGH": 0.78,  # THRESHOLD_HIGH
    "VERDICT_ROLLING_MEAN_SHORT_MULTIPLE": 3.8,  # ROLLING_MEAN_SHORT_MULTIPLE
    "VERDICT_WARNING_ESCALATION": 1.0,  # is_failing(..., escalating_factor=1)
    "VERDICT_FAILURE_ESCALATION": 1.75,  # ESCALATING_FACTOR
}
