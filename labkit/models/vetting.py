"""Vetting a model that comes from outside the kit, before anything of it is kept.

Every import path (`/api/learn/import`, `labkit models import`, lab packs) calls `vet_model`.
A model file is data from a USB stick or a student's upload, and ONNX Runtime will happily
follow what it says: an initializer stored as *external data* names a file that is read
relative to the working directory (it read the kit's `secret_key` back as "probabilities"), and
a graph with a `Loop` of 2^63 iterations spins a worker forever. So:

1. **Static checks in this process**, on the protobuf only (`check_onnx`): bounded file size,
   no external data anywhere (initializers, sparse initializers, tensor attributes — also inside
   the subgraphs of Loop/If/Scan), no model-local functions, node domains from an allow-list
   (`ALLOWED_OPS`), bounded node count (subgraphs included) and initializer bytes.
2. **Load and run in a child process** (`python -m labkit.models.vet_child`): the model bytes go
   over a pipe, the child sets CPU-time, address-space and file-size (0: it may write nothing)
   limits with `resource.setrlimit` before it imports a runtime, works in an empty temporary
   folder, loads the model and runs it once on zeros; the parent kills it after a wall-clock
   timeout. `.tflite` files get the same treatment with LiteRT.

A refused model raises `ModelRefused` (a translatable `Problem`) and the caller writes nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field, replace
from typing import Any, Iterator

from labkit.store.problems import N_, Problem


# Standard ONNX and ONNX-ML operators are fine (None: any operator of the domain). Models the
# kit makes itself — skl2onnx classifiers, EfficientNet, their int8 copies from
# onnxruntime.quantization (QDQ / MatMulInteger, all in the default domain) — and the store's
# models (silero VAD, PP-OCR) use no com.microsoft operator; the set is where one would go.
ALLOWED_OPS: dict[str, frozenset[str] | None] = {
    "": None,
    "ai.onnx": None,
    "ai.onnx.ml": None,
    "com.microsoft": frozenset(),
}
MB = 1024 * 1024
# a Loop whose trip count is a constant above this is refused without running it; a trip
# count computed at run time is what the child's CPU limit is for
MAX_LOOP_TRIPS = 1_000_000


@dataclass(frozen=True)
class Limits:
    """What one imported model may be and may cost while it is checked."""

    max_bytes: int = 64 * MB
    max_nodes: int = 20_000
    max_initializer_bytes: int = 128 * MB
    cpu_seconds: int = 5
    wall_seconds: float = 15.0
    memory_bytes: int = 1536 * MB

    def scaled(self, **changes: Any) -> "Limits":
        return replace(self, **changes)


# a classifier exported by another kit (EfficientNet front + classifier is ~18 MB)
LEARN_LIMITS = Limits(max_bytes=60 * MB, max_initializer_bytes=60 * MB, wall_seconds=10.0)
# the store's models (OCR recogniser, embedders, LiteRT pose); a Pi loads them more slowly
PACK_LIMITS = Limits(max_bytes=256 * MB, max_initializer_bytes=256 * MB, cpu_seconds=20,
                     wall_seconds=40.0, memory_bytes=2048 * MB)

# at most this many vetting children at once: 30 uploads must not fork 30 runtimes
MAX_CONCURRENT = 2
_slots = threading.BoundedSemaphore(MAX_CONCURRENT)
SLOT_WAIT_S = 30.0


class ModelRefused(Problem):
    """A model that failed vetting: `reason` is a stable slug, the message translatable
    (a `Problem`: the web layer shows it in the reader's language, the CLI in English)."""

    def __init__(self, reason: str, msgid: str, **params: Any) -> None:
        self.reason = reason
        super().__init__(msgid, code="bad_model",
                         fix=N_("Nothing was imported. Use a model exported by a labkit kit."),
                         **params)


@dataclass
class VettedModel:
    """What the child saw: tensors, metadata, and the output shapes of the run on zeros."""

    kind: str
    inputs: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    ran: bool = False
    output_shapes: dict[str, list[int]] = field(default_factory=dict)
    run_error: str = ""


# -- static checks -------------------------------------------------------------------------------

def _graphs(graph: Any) -> Iterator[Any]:
    """A graph and every subgraph in it (Loop/If/Scan bodies, nested to any depth)."""
    stack = [graph]
    while stack:
        g = stack.pop()
        yield g
        for node in g.node:
            for attr in node.attribute:
                if attr.HasField("g"):
                    stack.append(attr.g)
                stack.extend(attr.graphs)


def _tensors(graph: Any) -> Iterator[Any]:
    """Every tensor proto stored in one graph: initializers and tensor-valued attributes."""
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                yield attr.t
            yield from attr.tensors
            if attr.HasField("sparse_tensor"):
                yield attr.sparse_tensor.values
                yield attr.sparse_tensor.indices
            for sparse in attr.sparse_tensors:
                yield sparse.values
                yield sparse.indices


def check_onnx(data: bytes, limits: Limits = LEARN_LIMITS) -> Any:
    """Static checks of an ONNX file's bytes; returns the parsed ModelProto or raises."""
    if len(data) > limits.max_bytes:
        raise ModelRefused("too_large", N_("The model file is larger than %(mb)s MB."),
                           mb=limits.max_bytes // MB)
    import onnx
    from google.protobuf.message import DecodeError

    try:
        model = onnx.load_model_from_string(data)
    except (DecodeError, ValueError, RuntimeError, RecursionError):
        raise ModelRefused("not_onnx", N_("The file is not an ONNX model.")) from None
    if not model.HasField("graph"):
        raise ModelRefused("not_onnx", N_("The file is not an ONNX model."))
    if len(model.functions):
        raise ModelRefused("functions", N_("The model defines its own functions, which the "
                                           "kit does not run."))
    nodes = 0
    weights = 0
    for graph in _graphs(model.graph):
        nodes += len(graph.node)
        if nodes > limits.max_nodes:
            raise ModelRefused("too_many_nodes",
                               N_("The model has more than %(n)s operations."),
                               n=limits.max_nodes)
        for node in graph.node:
            allowed = ALLOWED_OPS.get(node.domain, frozenset())
            if allowed is not None and node.op_type not in allowed:
                raise ModelRefused("custom_op",
                                   N_("The model uses an operation the kit does not allow "
                                      "(%(op)s)."),
                                   op=f"{node.domain or 'ai.onnx'}:{node.op_type}"[:80])
        _check_loops(graph)
        for tensor in _tensors(graph):
            if (tensor.data_location == onnx.TensorProto.EXTERNAL
                    or len(tensor.external_data)):
                raise ModelRefused("external_data",
                                   N_("The model refers to data in other files; only "
                                      "self-contained models can be imported."))
            weights += tensor.ByteSize()
            if weights > limits.max_initializer_bytes:
                raise ModelRefused("too_large",
                                   N_("The model's weights are larger than %(mb)s MB."),
                                   mb=limits.max_initializer_bytes // MB)
    return model


def _check_loops(graph: Any) -> None:
    from onnx import numpy_helper

    constants = {t.name: t for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" and node.output:
            for attr in node.attribute:
                if attr.name == "value" and attr.HasField("t"):
                    constants[node.output[0]] = attr.t
    for node in graph.node:
        if node.op_type != "Loop" or not node.input or node.input[0] not in constants:
            continue
        tensor = constants[node.input[0]]
        if tensor.data_location == tensor.EXTERNAL:
            continue                     # refused below as external data
        try:
            trips = int(numpy_helper.to_array(tensor).reshape(-1)[0])
        except (ValueError, IndexError, TypeError):
            continue
        if trips > MAX_LOOP_TRIPS:
            raise ModelRefused("endless_loop",
                               N_("The model repeats a step %(n)s times; it would never "
                                  "finish."), n=trips)


# -- load and run in a child process ------------------------------------------------------------

def vet_model(data: bytes, kind: str = "onnx", *, limits: Limits = LEARN_LIMITS,
              must_run: bool = True) -> VettedModel:
    """Check a model completely: static checks (ONNX), then load+run in a limited child.

    `must_run`: a failed run on zeros refuses the model (a classifier must answer); otherwise
    only a timeout or a broken limit does (the store's models may need real input shapes).
    """
    if kind not in ("onnx", "tflite"):
        raise ValueError(f"unknown model kind {kind!r}")
    if len(data) > limits.max_bytes:
        raise ModelRefused("too_large", N_("The model file is larger than %(mb)s MB."),
                           mb=limits.max_bytes // MB)
    if kind == "onnx":
        check_onnx(data, limits)
    if not _slots.acquire(timeout=SLOT_WAIT_S):
        raise Problem(N_("The kit is busy checking other models."), code="busy",
                      fix=N_("Try again in a minute."))
    try:
        answer = _run_child(data, kind, limits)
    finally:
        _slots.release()
    if not answer.get("ok"):
        reason = answer.get("reason", "")
        if reason == "not_onnx":
            raise ModelRefused("not_onnx", N_("The file is not an ONNX model."))
        if reason == "memory":
            raise ModelRefused("memory", N_("The model needs more memory than the kit allows "
                                            "(%(mb)s MB)."), mb=limits.memory_bytes // MB)
        if reason == "not_tflite":
            raise ModelRefused("not_tflite", N_("The file is not a TensorFlow Lite model."))
        raise ModelRefused("does_not_load", N_("The model does not load on this kit."))
    vetted = VettedModel(kind=kind, inputs=answer["inputs"], outputs=answer["outputs"],
                         metadata=answer.get("metadata", {}), ran=answer["ran"],
                         output_shapes=answer.get("output_shapes", {}),
                         run_error=answer.get("run_error", ""))
    if must_run and not vetted.ran:
        raise ModelRefused("does_not_run", N_("The model does not run on this kit."))
    return vetted


def _run_child(data: bytes, kind: str, limits: Limits) -> dict[str, Any]:
    header = json.dumps({"kind": kind, "cpu_seconds": limits.cpu_seconds,
                         "memory_bytes": limits.memory_bytes}).encode() + b"\n"
    env = {**os.environ, "ORT_DISABLE_TELEMETRY": "1", "MALLOC_ARENA_MAX": "2",
           "OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    with tempfile.TemporaryDirectory(prefix="labkit-vet-") as empty:
        try:
            proc = subprocess.run([sys.executable, "-m", "labkit.models.vet_child"],
                                  input=header + data, capture_output=True, env=env,
                                  cwd=empty, timeout=limits.wall_seconds)
        except subprocess.TimeoutExpired:           # subprocess.run has killed it
            raise ModelRefused("timeout", N_("Checking the model took longer than %(s)s "
                                             "seconds; it may never finish."),
                               s=int(limits.wall_seconds)) from None
    if proc.returncode != 0:
        if proc.returncode in (-9, -24, 137, 152):   # SIGKILL / SIGXCPU from RLIMIT_CPU
            raise ModelRefused("timeout", N_("Checking the model took longer than %(s)s "
                                             "seconds; it may never finish."),
                               s=limits.cpu_seconds)
        raise ModelRefused("does_not_load", N_("The model does not load on this kit."))
    try:
        answer = json.loads(proc.stdout.decode("utf-8").strip().splitlines()[-1])
    except (ValueError, IndexError, UnicodeDecodeError):
        raise ModelRefused("does_not_load", N_("The model does not load on this kit.")) from None
    if not isinstance(answer, dict):
        raise ModelRefused("does_not_load", N_("The model does not load on this kit."))
    return answer
