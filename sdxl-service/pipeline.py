"""The real thing: stabilityai/sdxl-turbo through diffusers, fp16 on CUDA.

Imported only without --fake, so torch and diffusers are needed only on a GPU machine.
One pipeline call makes the whole batch (num_images_per_prompt) with one torch.Generator per
image seeded seed + i, so image i of a batch is the same picture as a batch of one with that
seed. Cancellation is checked after every denoising step (callback_on_step_end) and stops the
call before the VAE decode.
"""
from __future__ import annotations

import logging
import math
import time
from typing import Any, Iterator, Tuple

import torch
from diffusers import AutoPipelineForImage2Image, AutoPipelineForText2Image

from jobs import Cancelled, IsCancelled, Job, OutOfMemory

log = logging.getLogger("easel-sdxl")

# img2img runs int(steps * strength) denoising steps; below this strength even the most steps
# diffusers' scheduler offers (1000) would give none.
MIN_STRENGTH = 0.001


class SdxlTurboPipeline:
    def __init__(self, model: str = "stabilityai/sdxl-turbo", device: str = "cuda", warmup: bool = True):
        self.model_name = model
        self.device_arg = device
        self.device = device  # replaced by a description once loaded
        self.warmup = warmup
        self.text2img = None
        self.img2img = None

    def load(self) -> None:
        if self.device_arg.startswith("cuda") and not torch.cuda.is_available():
            raise RuntimeError(
                "CUDA is not available to torch (torch.cuda.is_available() is False): check the NVIDIA "
                f"driver (nvidia-smi) and that torch {torch.__version__} is a CUDA build"
            )
        log.info("Loading %s (fp16) onto %s; the first run downloads about 7 GB into the Hugging Face cache",
                 self.model_name, self.device_arg)
        self.text2img = AutoPipelineForText2Image.from_pretrained(
            self.model_name, torch_dtype=torch.float16, variant="fp16",
        ).to(self.device_arg)
        # Shares every module with text2img: no second copy of the weights on the GPU.
        self.img2img = AutoPipelineForImage2Image.from_pipe(self.text2img)
        for pipe in (self.text2img, self.img2img):
            pipe.set_progress_bar_config(disable=True)
        if self.device_arg.startswith("cuda"):
            index = torch.device(self.device_arg).index or 0
            self.device = f"cuda:{index} {torch.cuda.get_device_name(index)}"
        if self.warmup:
            # The first call pays for CUDA kernel selection; pay it before reporting SERVING.
            warm = Job(prompt="warm-up", negative_prompt="", width=512, height=512, seeds=[0],
                       steps=1, guidance_scale=0.0, request_id="warm-up")
            for _ in self.generate(warm, lambda: False):
                pass

    def check(self, job: Job) -> None:
        """Rules of this model beyond rules.py; raises ValueError with words for INVALID_ARGUMENT."""
        if job.init_image is not None and job.strength < MIN_STRENGTH:
            raise ValueError(f"strength {job.strength:g} is too small for SDXL-Turbo img2img: use at least {MIN_STRENGTH}")

    def generate(self, job: Job, is_cancelled: IsCancelled) -> Iterator[Tuple[Any, float]]:
        """Yields (PIL image, model milliseconds) in order once the whole batch is made; each
        image's milliseconds are the batch time divided by the batch size."""
        # CPU generators: the same seed gives the same picture on any GPU model.
        generators = [torch.Generator(device="cpu").manual_seed(seed) for seed in job.seeds]

        def on_step_end(pipe, step, timestep, callback_kwargs):
            # Raising (rather than pipe._interrupt = True) also skips the VAE decode, which
            # the interrupt flag does not.
            if is_cancelled():
                raise Cancelled()
            return callback_kwargs

        common = dict(
            prompt=job.prompt,
            negative_prompt=job.negative_prompt or None,
            num_images_per_prompt=job.count,
            guidance_scale=job.guidance_scale,
            generator=generators,
            callback_on_step_end=on_step_end,
        )
        if is_cancelled():
            raise Cancelled()
        started = time.monotonic()
        try:
            with torch.inference_mode():
                if job.init_image is None:
                    result = self.text2img(width=job.width, height=job.height, num_inference_steps=job.steps, **common)
                else:
                    steps = img2img_steps(job.steps, job.strength)
                    log.debug("img2img request_id=%s: %d diffusers steps for steps %d, strength %g",
                              job.request_id, steps, job.steps, job.strength)
                    result = self.img2img(image=job.init_image, strength=job.strength, num_inference_steps=steps, **common)
        except torch.cuda.OutOfMemoryError as err:
            torch.cuda.empty_cache()
            raise OutOfMemory(
                f"The GPU ran out of memory for {job.count} images of {job.width}x{job.height}: {err}"
            ) from err
        each_ms = (time.monotonic() - started) * 1000 / job.count
        for image in result.images:
            yield image, each_ms


def img2img_steps(steps: int, strength: float) -> int:
    """The num_inference_steps to give diffusers' img2img so at least one step runs.

    It runs int(steps * strength) steps and fails with none (steps 1, strength 0.5). The
    contract asks clients for steps * strength >= 1; a request below that gets one step
    rather than an error, which is what SDXL-Turbo img2img is made for.
    """
    n = max(steps, math.ceil(1 / strength))
    while int(n * strength) < 1:
        n += 1
    return n
