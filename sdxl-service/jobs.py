"""What a pipeline is asked to do, and the failures it may report.

Shared by server.py, pipeline.py (real SDXL-Turbo) and fake_pipeline.py; imports nothing
beyond the standard library, so the fake runs without torch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, List, Optional

# A callable the pipelines poll: True once the call is cancelled (client cancel, deadline,
# or the service shutting down). They stop as soon as they can when it turns True.
IsCancelled = Callable[[], bool]


@dataclass
class Job:
    """One Generate call after validation, with every default filled in."""

    prompt: str
    negative_prompt: str
    width: int
    height: int
    # One seed per image: seeds[i] = first seed + i (modulo 2**64).
    seeds: List[int]
    steps: int
    guidance_scale: float
    request_id: str
    # img2img: the decoded start image (a PIL.Image in RGB, already width x height), or None.
    init_image: Optional[Any] = None
    strength: float = 0.0

    @property
    def count(self) -> int:
        return len(self.seeds)


class Cancelled(Exception):
    """The call was cancelled while the pipeline ran; nothing more should be produced."""


class OutOfMemory(Exception):
    """The device ran out of memory for this batch (answered RESOURCE_EXHAUSTED)."""
