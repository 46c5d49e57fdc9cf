#!/usr/bin/env python3
"""Easel's SDXL-Turbo inference service: easel.inference.v1.ImageGenerator and
grpc.health.v1.Health over gRPC (proto/ in this repository), one GPU job at a time.

    python3 sdxl-service/server.py --port 50051            # real model, needs CUDA
    python3 sdxl-service/server.py --fake --port 0         # Pillow drawings, no torch

Stdout carries one JSON line per life event, for scripts and tests:
    {"event": "listening", "port": 50051, ...}   bound; GetInfo answers, health NOT_SERVING
    {"event": "serving", ...}                    model loaded; health SERVING
    {"event": "failed", "error": ...}            model did not load; the process exits 1
    {"event": "stopped"}                         after SIGTERM/SIGINT, before exit 0
Logs go to stderr.
"""
from __future__ import annotations

import argparse
import io
import json
import logging
import signal
import sys
import threading
import time
from concurrent import futures
from typing import Optional

import grpc

import protos
from gpu_queue import GpuQueue, QueueFull
from health import HealthService
from jobs import Cancelled, OutOfMemory
from rules import DEFAULT_STEPS, MAX_STEPS, MIN_STEPS, SIZES, Invalid, parse_request

VERSION = "easel-sdxl 0.1.0"
SERVICE_NAME = "easel.inference.v1.ImageGenerator"
MIME = {"jpeg": "image/jpeg", "webp": "image/webp", "png": "image/png"}

log = logging.getLogger("easel-sdxl")


def emit(event: str, **fields) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def encode(image, fmt: str, quality: int) -> bytes:
    out = io.BytesIO()
    if fmt == "jpeg":
        image.save(out, format="JPEG", quality=quality)
    elif fmt == "webp":
        image.save(out, format="WEBP", quality=quality, method=0)
    else:
        image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


class ImageGenerator:
    def __init__(self, pb, pipeline, queue: GpuQueue, args, ready: threading.Event, stopping: threading.Event):
        self.pb = pb
        self.pipeline = pipeline
        self.queue = queue
        self.max_batch = args.max_batch
        self.format = args.format
        self.quality = args.quality
        self.ready = ready
        self.stopping = stopping
        self.stats = {"calls": 0, "images": 0, "cancelled": 0, "rejected": 0, "busy": 0, "failed": 0}
        self._stats_lock = threading.Lock()

    def count(self, name: str, by: int = 1) -> None:
        with self._stats_lock:
            self.stats[name] += by

    def get_info(self, request, context):
        return self.pb.InfoResponse(
            model_name=self.pipeline.model_name,
            supported_sizes=[self.pb.ImageSize(width=w, height=h) for w, h in SIZES],
            max_batch=self.max_batch,
            min_inference_steps=MIN_STEPS,
            max_inference_steps=MAX_STEPS,
            default_inference_steps=DEFAULT_STEPS,
            supports_init_image=True,
            output_mime=MIME[self.format],
            device=self.pipeline.device,
            server_version=VERSION,
        )

    def generate(self, request, context):
        if self.stopping.is_set():
            context.abort(grpc.StatusCode.UNAVAILABLE, "The SDXL service is shutting down")
        if not self.ready.is_set():
            context.abort(grpc.StatusCode.UNAVAILABLE,
                          f"The model {self.pipeline.model_name} is still loading; health reports SERVING once it is ready")
        try:
            job = parse_request(request, self.max_batch)
            self.pipeline.check(job)
        except (Invalid, ValueError) as err:
            self.count("rejected")
            log.info("Generate refused: %s request_id=%s", err, request.request_id)
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(err))

        call_over = threading.Event()
        context.add_callback(call_over.set)  # runs when the client cancels or the deadline passes

        def is_cancelled() -> bool:
            return call_over.is_set() or self.stopping.is_set()

        self.count("calls")
        log.info("Generate request_id=%s prompt=%r images=%d size=%dx%d steps=%d seed=%d%s",
                 job.request_id, job.prompt[:80], job.count, job.width, job.height, job.steps, job.seeds[0],
                 f" img2img strength={job.strength:g}" if job.init_image is not None else "")
        sent = 0
        failure: Optional[tuple] = None
        started = time.monotonic()
        try:
            with self.queue.turn(is_cancelled):
                for index, (image, model_ms) in enumerate(self.pipeline.generate(job, is_cancelled)):
                    if is_cancelled():
                        raise Cancelled()
                    encode_started = time.monotonic()
                    data = encode(image, self.format, self.quality)
                    yield self.pb.GeneratedImage(
                        data=data, mime=MIME[self.format], width=image.width, height=image.height,
                        seed=job.seeds[index], index=index, request_id=job.request_id,
                        inference_ms=model_ms + (time.monotonic() - encode_started) * 1000,
                    )
                    sent += 1
                    self.count("images")
            if sent != job.count:
                failure = (grpc.StatusCode.INTERNAL, f"The pipeline made {sent} images instead of {job.count}")
        except Cancelled:
            pass
        except GeneratorExit:
            # gRPC dropped the stream: the client went away while an image was being sent.
            self._cancelled(context, job, sent)
            raise
        except QueueFull as err:
            self.count("busy")
            failure = (grpc.StatusCode.RESOURCE_EXHAUSTED,
                       f"The GPU is busy: {err} (--max-queue {self.queue.max_waiting}); retry later or use another endpoint")
        except OutOfMemory as err:
            failure = (grpc.StatusCode.RESOURCE_EXHAUSTED, str(err))
        except Exception as err:  # a pipeline exception: INTERNAL, with its message
            log.exception("Generate failed request_id=%s", job.request_id)
            failure = (grpc.StatusCode.INTERNAL, f"The pipeline failed: {type(err).__name__}: {err}")

        if call_over.is_set():
            self._cancelled(context, job, sent)
            return
        if failure is None and self.stopping.is_set() and sent < job.count:
            failure = (grpc.StatusCode.UNAVAILABLE, "The SDXL service is shutting down")
        if failure is not None:
            self.count("failed")
            log.warning("Generate ended with %s after %d of %d images: %s request_id=%s",
                        failure[0].name, sent, job.count, failure[1], job.request_id)
            context.abort(*failure)
        log.info("Generate done request_id=%s images=%d in %.0f ms", job.request_id, sent,
                 (time.monotonic() - started) * 1000)

    def _cancelled(self, context, job, sent: int) -> None:
        self.count("cancelled")
        remaining = context.time_remaining()
        why = "its deadline passed" if remaining is not None and remaining <= 0 else "cancelled by the client"
        log.info("Generate cancelled (%s) after %d of %d images; stopped request_id=%s",
                 why, sent, job.count, job.request_id)

    def handler(self) -> grpc.GenericRpcHandler:
        pb = self.pb
        return grpc.method_handlers_generic_handler(SERVICE_NAME, {
            "Generate": grpc.unary_stream_rpc_method_handler(
                self.generate, request_deserializer=pb.GenerateRequest.FromString,
                response_serializer=pb.GeneratedImage.SerializeToString),
            "GetInfo": grpc.unary_unary_rpc_method_handler(
                self.get_info, request_deserializer=pb.GetInfoRequest.FromString,
                response_serializer=pb.InfoResponse.SerializeToString),
        })


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Easel's SDXL-Turbo gRPC inference service (proto/easel/inference/v1).")
    p.add_argument("--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")
    p.add_argument("--port", type=int, default=50051, help="port; 0 picks a free one (default 50051)")
    p.add_argument("--model", default="stabilityai/sdxl-turbo", help="Hugging Face model id or local folder")
    p.add_argument("--device", default="cuda", help="torch device (default cuda; cuda:1 for the second GPU)")
    p.add_argument("--max-batch", type=int, default=4, help="most images per Generate call (default 4)")
    p.add_argument("--max-queue", type=int, default=8,
                   help="calls that may wait for the GPU behind the running one; more get RESOURCE_EXHAUSTED (default 8)")
    p.add_argument("--format", choices=sorted(MIME), default="jpeg", help="encoding of the images (default jpeg)")
    p.add_argument("--quality", type=int, default=90, help="JPEG/WebP quality (default 90)")
    p.add_argument("--max-message-mb", type=int, default=32, help="largest request (init_image) accepted, MiB (default 32)")
    p.add_argument("--no-warmup", action="store_true", help="skip the warm-up image before reporting SERVING")
    p.add_argument("--grace-s", type=float, default=5.0, help="on SIGTERM, how long running calls may finish (default 5)")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.add_argument("--fake", action="store_true", help="draw with Pillow instead of running the model (no torch, no GPU)")
    p.add_argument("--fake-latency-ms", type=float, default=200.0, help="--fake: time per image (default 200)")
    p.add_argument("--fake-load-ms", type=float, default=0.0, help="--fake: time the 'model' takes to load (default 0)")
    args = p.parse_args(argv)
    if args.max_batch < 1:
        p.error("--max-batch must be at least 1")
    if args.max_queue < 0:
        p.error("--max-queue must be 0 or more")
    if not 1 <= args.quality <= 100:
        p.error("--quality must be 1..100")
    return args


def make_pipeline(args):
    if args.fake:
        from fake_pipeline import FakePipeline
        return FakePipeline(latency_ms=args.fake_latency_ms, load_ms=args.fake_load_ms)
    try:
        from pipeline import SdxlTurboPipeline  # imports torch and diffusers
    except ImportError as err:
        raise SystemExit(
            f"Cannot import the model's libraries ({err}). On a GPU machine: "
            "pip install -r sdxl-service/requirements.txt. Without one: add --fake."
        ) from err
    return SdxlTurboPipeline(model=args.model, device=args.device, warmup=not args.no_warmup)


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        pb = protos.load()
    except protos.ProtoError as err:
        log.error("%s", err)
        return 2
    pipeline = make_pipeline(args)

    ready, stopping = threading.Event(), threading.Event()
    health = HealthService(pb.health)
    for name in ("", SERVICE_NAME):
        health.set_status(name, health.NOT_SERVING)
    generator = ImageGenerator(pb.inference, pipeline, GpuQueue(args.max_queue), args, ready, stopping)

    # Threads: every waiting or running Generate holds one, and so does every open health
    # Watch (one per Easel server per endpoint); 32 spare covers watches, GetInfo and Check.
    workers = args.max_queue + 1 + 32
    message_bytes = args.max_message_mb * 1024 * 1024
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grpc"),
        options=[("grpc.max_receive_message_length", message_bytes), ("grpc.max_send_message_length", message_bytes)],
    )
    server.add_generic_rpc_handlers((generator.handler(), health.handler()))
    address = f"[{args.host}]:{args.port}" if ":" in args.host else f"{args.host}:{args.port}"
    try:
        port = server.add_insecure_port(address)
    except RuntimeError as err:  # newer grpcio raises; older ones return 0
        log.debug("add_insecure_port: %s", err)
        port = 0
    if port == 0:
        log.error("Cannot listen on %s: is the port in use? Pick another with --port", address)
        return 1
    server.start()
    listening = f"[{args.host}]:{port}" if ":" in args.host else f"{args.host}:{port}"
    emit("listening", host=args.host, port=port, address=listening, fake=args.fake, model=pipeline.model_name)
    log.info("Listening on %s (%s); loading the model, health NOT_SERVING until it is ready",
             listening, "fake pipeline" if args.fake else pipeline.model_name)

    done = threading.Event()
    exit_code = [0]

    def load() -> None:
        started = time.monotonic()
        try:
            pipeline.load()
        except BaseException as err:  # noqa: BLE001 - any load failure ends the process
            log.exception("The model did not load")
            emit("failed", error=f"{type(err).__name__}: {err}")
            exit_code[0] = 1
            done.set()
            return
        ready.set()
        for name in ("", SERVICE_NAME):
            health.set_status(name, health.SERVING)
        seconds = round(time.monotonic() - started, 2)
        emit("serving", model=pipeline.model_name, device=pipeline.device, load_s=seconds)
        log.info("Serving %s on %s (loaded in %.1f s)", pipeline.model_name, pipeline.device, seconds)

    threading.Thread(target=load, name="load-model", daemon=True).start()

    # The handler only flips a flag: taking a lock in a signal handler can deadlock.
    signalled = [False]

    def on_signal(signum, _frame) -> None:
        signalled[0] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not signalled[0] and not done.wait(0.2):
        pass

    log.info("Shutting down: health NOT_SERVING, running calls end with UNAVAILABLE")
    stopping.set()
    for name in ("", SERVICE_NAME):
        health.set_status(name, health.NOT_SERVING)
    health.close()
    server.stop(grace=args.grace_s).wait()
    log.info("Stopped; %s", ", ".join(f"{k} {v}" for k, v in generator.stats.items()))
    emit("stopped", stats=generator.stats)
    return exit_code[0]


if __name__ == "__main__":
    sys.exit(main())
