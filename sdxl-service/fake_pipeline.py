"""A stand-in for the SDXL-Turbo pipeline that draws with Pillow: no torch, no GPU, no model.

Each image is deterministic from (prompt, seed): colours and shapes come from a hash of both,
and the prompt and seed are written on it, so a person looking at a wall of displays can tell
which call made which frame. A per-image latency makes it behave like a GPU; cancellation is
checked every few milliseconds of that latency.
"""
from __future__ import annotations

import hashlib
import random
import textwrap
import time
from typing import Iterator, Tuple

from PIL import Image, ImageDraw, ImageFont

from jobs import Cancelled, IsCancelled, Job

_SLICE_S = 0.005


class FakePipeline:
    model_name = "easel-sdxl-fake (Pillow drawings, no model)"
    device = "cpu (fake pipeline, no model)"

    def __init__(self, latency_ms: float = 200.0, load_ms: float = 0.0):
        self.latency_s = max(0.0, latency_ms) / 1000
        self.load_s = max(0.0, load_ms) / 1000

    def load(self) -> None:
        """Pretends to load a model, so health shows NOT_SERVING for --fake-load-ms."""
        time.sleep(self.load_s)

    def check(self, job: Job) -> None:
        """Rules of this pipeline beyond rules.py (ValueError -> INVALID_ARGUMENT); the fake has none."""

    def generate(self, job: Job, is_cancelled: IsCancelled) -> Iterator[Tuple[Image.Image, float]]:
        """Yields (image, model milliseconds) one by one, like a GPU making one image at a time."""
        for seed in job.seeds:
            started = time.monotonic()
            deadline = started + self.latency_s
            while True:
                if is_cancelled():
                    raise Cancelled()
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                time.sleep(min(_SLICE_S, left))
            image = draw(job.prompt, seed, job.width, job.height)
            if job.init_image is not None:
                image = Image.blend(job.init_image, image, job.strength)
            yield image, (time.monotonic() - started) * 1000


def draw(prompt: str, seed: int, width: int, height: int) -> Image.Image:
    digest = hashlib.sha256(f"{prompt}\0{seed}".encode("utf-8")).digest()
    rng = random.Random(digest)
    top, bottom = tuple(digest[0:3]), tuple(digest[3:6])
    gradient = Image.linear_gradient("L").resize((width, height))
    image = Image.composite(Image.new("RGB", (width, height), bottom), Image.new("RGB", (width, height), top), gradient)

    pen = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(max(2, min(width, height) // 10), max(3, min(width, height) // 3))
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        pen.ellipse((x - r, y - r, x + r, y + r), fill=colour, outline=(0, 0, 0))

    # Pillow's built-in bitmap font is small: draw the words at a fraction of the size and
    # scale them up with nearest-neighbour so they stay readable on a 512 px frame.
    scale = max(1, min(width, height) // 200)
    layer = Image.new("RGBA", (max(1, width // scale), max(1, height // scale)), (0, 0, 0, 0))
    text_pen = ImageDraw.Draw(layer)
    font = ImageFont.load_default()
    columns = max(8, layer.width // 7)
    lines = textwrap.wrap(prompt, columns)[:6] + [f"seed {seed}"]
    y = 4
    for line in lines:
        box = text_pen.textbbox((4, y), line, font=font)
        text_pen.rectangle((box[0] - 2, box[1] - 1, box[2] + 2, box[3] + 1), fill=(0, 0, 0, 160))
        text_pen.text((4, y), line, font=font, fill=(255, 255, 255, 255))
        y = box[3] + 3
    layer = layer.resize((layer.width * scale, layer.height * scale), Image.NEAREST)
    base = image.convert("RGBA")
    base.alpha_composite(layer)
    return base.convert("RGB")
