"""The contract's message classes, compiled from the repository's proto/ folder.

At start-up the server compiles proto/easel/inference/v1/inference.proto and
proto/grpc/health/v1/health.proto into Python modules under _generated/<hash>/ (gitignored),
once per change of the .proto files or of the protobuf runtime, then loads them by file path.
Only the message modules (*_pb2.py) are generated: the two services are wired by hand in
server.py and health.py with grpc's generic handlers, so no gRPC codegen plugin is needed.

The compiler is the first of these that works:
  1. grpc_tools.protoc in this Python (pip install grpcio-tools; requirements.txt has it).
  2. `protoc` on PATH (Debian: apt-get install protobuf-compiler).
Debian's python3-grpc-tools (1.14) bundles protoc 3.6, which predates proto3 `optional`
(GenerateRequest.seed) and fails; it is skipped with the reason logged.

Run by hand to generate ahead of time (e.g. before making the folder read-only):
    python3 sdxl-service/protos.py          # prints where the modules are
    python3 sdxl-service/protos.py --check  # exit 0 when grpc, protobuf, Pillow and a
                                                    # compiler are all usable; else says what is missing
"""
from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import List, Optional, Tuple

log = logging.getLogger("easel-sdxl")

HERE = Path(__file__).resolve().parent
PROTO_ROOT = HERE.parent / "proto"
PROTO_FILES = ["easel/inference/v1/inference.proto", "grpc/health/v1/health.proto"]
GENERATED = HERE / "_generated"


class ProtoError(Exception):
    """The .proto files cannot be compiled or loaded here; the message says what to install."""


def _fingerprint() -> str:
    import google.protobuf

    digest = hashlib.sha256(google.protobuf.__version__.encode())
    for name in PROTO_FILES:
        digest.update(name.encode())
        digest.update((PROTO_ROOT / name).read_bytes())
    return digest.hexdigest()[:16]


def _compile_with_grpc_tools(out: Path) -> Optional[str]:
    """Returns None on success, else why grpc_tools could not do it."""
    if importlib.util.find_spec("grpc_tools") is None:
        return "grpc_tools is not installed"
    # A subprocess, so a failure's message (e.g. the old Debian protoc on `optional`) is captured.
    return _run([sys.executable, "-m", "grpc_tools.protoc"], out, "grpc_tools.protoc")


def _run(command: List[str], out: Path, name: str) -> Optional[str]:
    result = subprocess.run(
        [*command, f"-I{PROTO_ROOT}", f"--python_out={out}", *PROTO_FILES],
        capture_output=True, text=True, check=False,
    )
    if result.returncode == 0:
        return None
    return f"{name} failed ({result.stderr.strip() or f'exit {result.returncode}'})"


def _compile_with_protoc(out: Path) -> Optional[str]:
    protoc = shutil.which("protoc")
    if protoc is None:
        return "protoc is not on PATH"
    return _run([protoc], out, "protoc")


def _generate(target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    failures: List[str] = []
    for compile_into in (_compile_with_grpc_tools, _compile_with_protoc):
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
        try:
            why = compile_into(tmp)
            if why is None:
                try:
                    # Atomic: concurrent start-ups either win the rename or use the winner's copy.
                    os.rename(tmp, target)
                except OSError:
                    if not target.is_dir():
                        raise
                return
            failures.append(why)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    raise ProtoError(
        "Cannot compile proto/ into Python modules: " + "; ".join(failures)
        + ". Install grpcio-tools (pip install -r sdxl-service/requirements.txt) "
        "or protoc (Debian: apt-get install protobuf-compiler)."
    )


def _load_module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ProtoError(f"Cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _writable_root() -> Path:
    try:
        GENERATED.mkdir(parents=True, exist_ok=True)
        if os.access(GENERATED, os.W_OK):
            return GENERATED
    except OSError:
        pass
    return Path(tempfile.gettempdir()) / "easel-sdxl-protos"


def generated_dir() -> Path:
    """Where the modules for the current .proto files are, compiling them first if needed."""
    name = _fingerprint()
    for root in (GENERATED, _writable_root()):
        if (root / name / "easel/inference/v1/inference_pb2.py").is_file():
            return root / name
    target = _writable_root() / name
    _generate(target)
    log.info("Compiled proto/ into %s", target)
    return target


_loaded: Optional[SimpleNamespace] = None


def load() -> SimpleNamespace:
    """Returns SimpleNamespace(inference=<inference_pb2>, health=<health_pb2>)."""
    global _loaded
    if _loaded is None:
        folder = generated_dir()
        try:
            # Loaded by path under private names: the generated grpc/health/... package would
            # otherwise shadow the grpc library itself.
            _loaded = SimpleNamespace(
                inference=_load_module("easel_sdxl_inference_pb2", folder / "easel/inference/v1/inference_pb2.py"),
                health=_load_module("easel_sdxl_health_pb2", folder / "grpc/health/v1/health_pb2.py"),
            )
        except ProtoError:
            raise
        except Exception as err:
            raise ProtoError(
                f"The modules compiled from proto/ do not load with this protobuf runtime ({err}); "
                "use the grpcio-tools and protobuf versions of requirements.txt together"
            ) from err
    return _loaded


def check() -> Tuple[bool, str]:
    """Whether the fake service can run here, and if not, what is missing."""
    missing = []
    for module, package in (("grpc", "python3-grpcio"), ("google.protobuf", "python3-protobuf"), ("PIL", "python3-pil")):
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(f"{module} (Debian {package})")
    if missing:
        return False, f"{sys.executable} lacks " + ", ".join(missing)
    try:
        load()
    except ProtoError as err:
        return False, str(err)
    return True, "ok"


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)
    if "--check" in sys.argv[1:]:
        ok, why = check()
        print(why)
        sys.exit(0 if ok else 1)
    print(generated_dir())
