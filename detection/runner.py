"""The in-process ONNX detector: one session per process, made on first use behind a lock.

Tensor contract (the same as Obico's published ONNX detector, so its weights drop in):
input float32 ``[1, 3, H, W]`` RGB in [0, 1]; outputs ``boxes`` ``[1, N, 1, 4]``
(x1, y1, x2, y2 normalised) and ``confs`` ``[1, N, 1]``.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image

from detection.conf import detection_settings
from detection.defaults import DEFAULTS
from detection.image import DecodedImage
from detection.postprocess import Detection, select_detections

logger = logging.getLogger(__name__)

# The resize from the JPEG's draft size to the model input: BOX is 0.6 ms cheaper but cost 0.05
# AUROC against clean prints in the evaluator (bench/README.md).
RESIZE_FILTER = Image.Resampling.BILINEAR

# Used only when a model declares symbolic spatial dimensions (Obico's YOLOv2 export runs at 416).
FALLBACK_INPUT_SIZE = (416, 416)


class ModelUnavailable(RuntimeError):
    """The model could not be loaded or run; the API answers 503 and counts nothing."""


class Detector:
    """An ONNX failure detector with its pre- and post-processing.

    Thread-safe: onnxruntime sessions may be run from several threads at once.
    """

    def __init__(
        self,
        model_path: str | Path,
        *,
        threads: int = DEFAULTS["THREADS"],
        conf_threshold: float = DEFAULTS["CONF_THRESHOLD"],
        nms_iou: float = DEFAULTS["NMS_IOU"],
    ) -> None:
        self.model_path = Path(model_path)
        self.conf_threshold = conf_threshold
        self.nms_iou = nms_iou
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # By default idle intra-op threads keep spinning after each run, burning a core that,
        # with two workers on two cores, the other worker's inference needs. Alone it costs
        # about 0.5 ms a run (bench/README.md).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = ort.InferenceSession(
                str(self.model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises several unrelated types for bad files
            raise ModelUnavailable(f"Cannot load the model {self.model_path}: {exc}") from exc
        model_input = self._session.get_inputs()[0]
        self._input_name = model_input.name
        _, _, height, width = model_input.shape
        if isinstance(height, int) and isinstance(width, int):
            self.input_size = (width, height)
        else:
            self.input_size = FALLBACK_INPUT_SIZE
        output_names = [o.name for o in self._session.get_outputs()]
        if not {"boxes", "confs"} <= set(output_names):
            raise ModelUnavailable(f"The model {self.model_path} has outputs {output_names}, not 'boxes' and 'confs'.")

    def preprocess(self, image: DecodedImage) -> np.ndarray:
        """Resize the whole image to the model input (no letterbox) as ``[1, 3, H, W]`` in [0, 1].

        The tensor is built contiguous in one pass: onnxruntime copies a strided view first.
        """
        pixels = image.pixels
        if pixels.size != self.input_size:
            pixels = pixels.resize(self.input_size, RESIZE_FILTER)
        width, height = self.input_size
        tensor = np.empty((1, 3, height, width), dtype=np.float32)
        np.multiply(np.asarray(pixels).transpose(2, 0, 1), np.float32(1 / 255), out=tensor[0], casting="unsafe")
        return tensor

    def infer(self, tensor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Run the session: normalised boxes ``[N, 4]`` and confidences ``[N]``."""
        try:
            boxes, confs = self._session.run(["boxes", "confs"], {self._input_name: tensor})
        except Exception as exc:
            raise ModelUnavailable(f"Inference failed: {exc}") from exc
        return boxes.reshape(-1, 4), confs.reshape(-1)

    def detect(self, image: DecodedImage) -> list[Detection]:
        """Detections in pixels of the uploaded image, best first."""
        boxes, confs = self.infer(self.preprocess(image))
        if not (np.isfinite(boxes).all() and np.isfinite(confs).all()):
            raise ModelUnavailable("The model produced non-finite outputs.")
        return select_detections(
            boxes,
            confs,
            conf_threshold=self.conf_threshold,
            iou_threshold=self.nms_iou,
            width=image.width,
            height=image.height,
        )


_detectors: dict[tuple, Detector] = {}
_lock = threading.Lock()


def get_detector() -> Detector:
    """The process-wide detector for the current detection settings (``detection.conf``), loaded once.

    A failed load is not cached, so replacing a broken model file recovers without a restart.
    """
    key = (
        str(detection_settings.MODEL_PATH),
        detection_settings.THREADS,
        detection_settings.CONF_THRESHOLD,
        detection_settings.NMS_IOU,
    )
    detector = _detectors.get(key)
    if detector is not None:
        return detector
    with _lock:
        detector = _detectors.get(key)
        if detector is None:
            detector = Detector(key[0], threads=key[1], conf_threshold=key[2], nms_iou=key[3])
            logger.info("Loaded detection model %s (input %sx%s)", key[0], *detector.input_size)
            _detectors[key] = detector
    return detector
