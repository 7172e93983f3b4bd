"""``shapes``: a procedural dataset of coloured shapes, rendered on the fly (no download, ever).

Every item is a pure function of ``(seed, split, index)``: a shape (circle, square, triangle) in one of four
colours (red, green, blue, yellow), with a random centre, size, rotation and a small colour jitter.
Classes are shape x colour: 12 classes, ``label = shape * 4 + colour`` (names such as ``"red circle"``),
so a classifier trained on it (the ``ganzoo-shapes-cnn`` feature extractor) is sensitive to both.

Three variants share the geometry:

* ``labelled``: ``image`` (a filled shape on a dark background) and ``label``;
* ``paired``: ``input`` is the shape's outline, drawn in its colour on the same dark background, and
  ``image`` the filled shape: a deterministic, learnable translation ("fill the outline");
* ``unpaired``: ``a`` is an outlined shape on a light background (domain A), ``b`` an independently drawn
  filled shape on a dark background (domain B): no item of A has a counterpart in B.

Shapes are drawn at 4x resolution and downsampled (antialiased edges).  Small datasets (the default
2,000 train / 500 test items at 32 px) are rendered once into memory, which is what the loader gathers from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch.utils.data import Dataset

from ganzoo.data.images import DataError, to_tensor

SHAPES = ("circle", "square", "triangle")
COLOURS = {"red": (220, 40, 40), "green": (40, 190, 60), "blue": (50, 80, 230), "yellow": (230, 210, 40)}
VARIANTS = ("labelled", "paired", "unpaired")
SPLITS = ("train", "test")
DEFAULT_SIZES = {"train": 2000, "test": 500}
SUPERSAMPLE = 4
PRELOAD_MAX_BYTES = 256 * 2**20  # render everything up front below this (32 px: ~25 MB per field)
_COLOUR_JITTER = 20
_SPLIT_IDS = {"train": 0, "test": 1}
_DOMAIN_IDS = {"image": 0, "a": 1, "b": 2}


@dataclass(frozen=True)
class ShapeDraw:
    """The random choices behind one rendered shape (all in units of the canvas side)."""

    shape: int
    colour: int
    rgb: tuple[int, int, int]
    centre: tuple[float, float]
    radius: float
    angle: float
    background: int

    @property
    def label(self) -> int:
        return self.shape * len(COLOURS) + self.colour


def draw_shape(rng: np.random.Generator, light_background: bool = False) -> ShapeDraw:
    """Draw the random parameters of one shape from ``rng``."""
    shape = int(rng.integers(len(SHAPES)))
    colour = int(rng.integers(len(COLOURS)))
    base = np.array(list(COLOURS.values())[colour])
    rgb = tuple(int(v) for v in np.clip(base + rng.integers(-_COLOUR_JITTER, _COLOUR_JITTER + 1, 3), 0, 255))
    radius = float(rng.uniform(0.2, 0.38))
    centre = (float(rng.uniform(radius, 1 - radius)), float(rng.uniform(radius, 1 - radius)))
    background = int(rng.integers(200, 241)) if light_background else int(rng.integers(0, 41))
    return ShapeDraw(shape, colour, rgb, centre, radius, float(rng.uniform(0, 2 * math.pi)), background)


def _polygon(draw: ShapeDraw, side: int) -> list[tuple[float, float]]:
    corners = 4 if SHAPES[draw.shape] == "square" else 3
    cx, cy = draw.centre[0] * side, draw.centre[1] * side
    r = draw.radius * side
    return [(cx + r * math.cos(draw.angle + 2 * math.pi * k / corners),
             cy + r * math.sin(draw.angle + 2 * math.pi * k / corners)) for k in range(corners)]


def render(draw: ShapeDraw, image_size: int, channels: int = 3, outline: bool = False) -> torch.Tensor:
    """Render ``draw`` as a ``(channels, image_size, image_size)`` tensor in [-1, 1]; ``outline`` draws edges only."""
    side = image_size * SUPERSAMPLE
    canvas = Image.new("RGB", (side, side), (draw.background,) * 3)
    pen = ImageDraw.Draw(canvas)
    width = max(SUPERSAMPLE, round(side * 0.06)) if outline else 0
    fill = None if outline else draw.rgb
    line = draw.rgb if outline else None
    if SHAPES[draw.shape] == "circle":
        cx, cy, r = draw.centre[0] * side, draw.centre[1] * side, draw.radius * side * 0.85
        pen.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill, outline=line, width=width)
    else:
        pen.polygon(_polygon(draw, side), fill=fill, outline=line, width=width)
    small = canvas.resize((image_size, image_size), Image.Resampling.BOX)
    return to_tensor(small.convert("L") if channels == 1 else small)


class ShapesDataset(Dataset):
    """Procedural coloured shapes, deterministic per ``(seed, split, index)``; see the module docstring.

    ``size`` defaults to 2,000 items for ``train`` and 500 for ``test``.  ``num_classes`` is 12 and
    ``class_names[label]`` names a class (``"red circle"``); labels are given by the ``labelled`` variant only.
    """

    num_classes = len(SHAPES) * len(COLOURS)
    class_names = tuple(f"{colour} {shape}" for shape in SHAPES for colour in COLOURS)

    def __init__(
        self,
        variant: Literal["labelled", "paired", "unpaired"] = "labelled",
        split: Literal["train", "test"] = "train",
        image_size: int = 32,
        channels: int = 3,
        size: int | None = None,
        seed: int = 0,
        direction: Literal["AtoB", "BtoA"] = "AtoB",
    ) -> None:
        if direction not in ("AtoB", "BtoA"):
            raise DataError(f"shapes direction must be AtoB or BtoA; got {direction!r}")
        if variant not in VARIANTS:
            raise DataError(f"shapes variant must be one of {', '.join(VARIANTS)}; got {variant!r}")
        if split not in SPLITS:
            raise DataError(f"shapes has splits {', '.join(SPLITS)}; got {split!r}")
        if channels not in (1, 3):
            raise DataError(f"shapes renders 1 or 3 channels; got channels={channels}")
        if image_size < 8:
            raise DataError(f"shapes needs image_size >= 8; got {image_size}")
        self.variant, self.split, self.image_size, self.channels = variant, split, image_size, channels
        self.size = DEFAULT_SIZES[split] if size is None else int(size)
        if self.size <= 0:
            raise DataError(f"shapes size must be positive; got {size}")
        self.seed, self.direction = seed, direction
        self.fields = {"labelled": ("image", "label"), "paired": ("input", "image"), "unpaired": ("a", "b")}[variant]
        self.tensors: dict[str, torch.Tensor] | None = None  # set when rendered up front: the loader gathers from it
        image_fields = sum(1 for field in self.fields if field != "label")
        if self.size * image_fields * channels * image_size**2 * 4 <= PRELOAD_MAX_BYTES:
            items = [self._render_item(index) for index in range(self.size)]
            self.tensors = {field: torch.stack([item[field] for item in items]) for field in self.fields}

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if not -self.size <= index < self.size:
            raise IndexError(f"index {index} out of range for a shapes dataset of {self.size} items")
        index %= self.size
        if self.tensors is not None:
            return {field: value[index] for field, value in self.tensors.items()}
        return self._render_item(index)

    def shape_at(self, index: int, domain: str = "image") -> ShapeDraw:
        """The random parameters of item ``index`` (``domain`` ``a``/``b`` for the unpaired variant)."""
        rng = np.random.default_rng([self.seed, _SPLIT_IDS[self.split], _DOMAIN_IDS[domain], index])
        return draw_shape(rng, light_background=domain == "a")

    def _render_item(self, index: int) -> dict[str, torch.Tensor]:
        size, channels = self.image_size, self.channels
        if self.variant == "unpaired":
            # separate random streams per domain: a and b are independent draws, never two views of one shape
            return {"a": render(self.shape_at(index, "a"), size, channels, outline=True),
                    "b": render(self.shape_at(index, "b"), size, channels)}
        shape = self.shape_at(index)
        image = render(shape, size, channels)
        if self.variant == "paired":
            outline = render(shape, size, channels, outline=True)
            # BtoA (data.direction) learns the reverse mapping: filled shape -> outline
            return {"input": outline, "image": image} if self.direction == "AtoB" else {"input": image, "image": outline}
        return {"image": image, "label": torch.tensor(shape.label, dtype=torch.int64)}
