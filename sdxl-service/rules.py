"""What the service accepts: the rules of proto/easel/inference/v1/inference.proto, with the
same messages as the Node dev stand-in (tools/inference-dev/request-rules.ts), so Easel
shows the same words whichever service refused the request.

A request that breaks a rule raises Invalid; the server answers INVALID_ARGUMENT with its text.
"""
from __future__ import annotations

import io
import math
import secrets
import uuid

from PIL import Image

from jobs import Job

# The sizes GetInfo lists; the first is the default for width = height = 0. Any multiple of 8
# from 64 to 2048 is accepted (SDXL's VAE works in blocks of 8 pixels).
SIZES = [(512, 512), (768, 768), (1024, 1024), (768, 512), (512, 768)]
MIN_SIDE, MAX_SIDE = 64, 2048
MIN_STEPS, MAX_STEPS, DEFAULT_STEPS = 1, 4, 1
MAX_PROMPT = 2000
# Seeds the service picks stay below 2**53 (Easel reads seeds as JavaScript numbers).
SEED_LIMIT = 2**53
UINT64 = 2**64


class Invalid(Exception):
    """The request breaks a rule of the contract; the message says which."""


def parse_request(request, max_batch: int) -> Job:
    """Checks a GenerateRequest message and returns the Job it asks for, defaults filled in."""
    if request.prompt.strip() == "":
        raise Invalid("prompt is empty")
    if len(request.prompt) > MAX_PROMPT:
        raise Invalid(f"prompt has {len(request.prompt)} characters; the most is {MAX_PROMPT}")
    for name, value in (("width", request.width), ("height", request.height)):
        if value != 0 and (value < MIN_SIDE or value > MAX_SIDE or value % 8 != 0):
            raise Invalid(
                f"{name} {value} is not allowed: use 0 (default {SIZES[0][0]}) "
                f"or a multiple of 8 from {MIN_SIDE} to {MAX_SIDE}"
            )
    if request.num_images > max_batch:
        raise Invalid(f"num_images {request.num_images} is over max_batch {max_batch}")
    if request.num_inference_steps > MAX_STEPS:
        raise Invalid(f"num_inference_steps {request.num_inference_steps} is outside {MIN_STEPS}..{MAX_STEPS}")
    guidance = float(request.guidance_scale)
    if not math.isfinite(guidance) or guidance < 0:
        raise Invalid(f"guidance_scale {guidance:g} is not allowed: use 0 (SDXL-Turbo) or more")

    width = request.width or SIZES[0][0]
    height = request.height or SIZES[0][1]
    init_image = None
    strength = 0.0
    if len(request.init_image) > 0:
        strength = float(request.strength)
        if not (strength > 0 and strength <= 1):
            raise Invalid(f"strength {strength:g} is outside 0..1 (exclusive of 0)")
        init_image = decode_init_image(request.init_image, width, height)

    count = request.num_images or 1
    first = request.seed if request.HasField("seed") else secrets.randbelow(SEED_LIMIT - max_batch)
    return Job(
        prompt=request.prompt,
        negative_prompt=request.negative_prompt,
        width=width,
        height=height,
        seeds=[(first + i) % UINT64 for i in range(count)],
        steps=request.num_inference_steps or DEFAULT_STEPS,
        guidance_scale=guidance,
        request_id=request.request_id or str(uuid.uuid4()),
        init_image=init_image,
        strength=strength,
    )


def decode_init_image(data: bytes, width: int, height: int):
    """Decodes an img2img start image (JPEG, PNG, WebP...) to RGB at width x height."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            opened.load()
            image = opened.convert("RGB")
    except Exception as err:  # Pillow raises many kinds for bad input
        raise Invalid("init_image does not decode as an image") from err
    if image.size != (width, height):
        image = image.resize((width, height), Image.BICUBIC)
    return image
