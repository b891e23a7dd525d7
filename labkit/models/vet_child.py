"""The child process of `labkit.models.vetting`: load and run one model under limits.

    python -m labkit.models.vet_child  < header-line + model bytes

It limits itself (CPU seconds, address space, no file writes, no core dump) before it imports
a runtime, loads the model from the bytes, runs it once on zeros and prints one JSON line.
Kept apart from vetting.py so the child imports nothing it does not need.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def _limit_self(cpu_seconds: int, memory_bytes: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _zeros(shape: Any, dtype: Any) -> Any:
    import numpy as np

    dims = [d if isinstance(d, int) and d > 0 else 1 for d in shape]
    if dtype is np.object_:
        return np.full(dims, "", dtype=object)
    return np.zeros(dims, dtype=dtype)


def _child_onnx(data: bytes) -> dict[str, Any]:
    from labkit.models.runtime import ONNX_TYPES, onnx_session

    try:
        session = onnx_session(data, threads=1, log_severity_level=4)
    except Exception as exc:        # ORT's pybind exceptions
        return {"ok": False, "reason": "does_not_load", "detail": str(exc)[:300]}
    inputs = [{"name": i.name, "shape": [d if isinstance(d, int) else None for d in i.shape],
               "type": i.type} for i in session.get_inputs()]
    outputs = [{"name": o.name, "shape": [d if isinstance(d, int) else None for d in o.shape],
                "type": o.type} for o in session.get_outputs()]
    answer: dict[str, Any] = {
        "ok": True, "inputs": inputs, "outputs": outputs, "ran": False,
        "metadata": dict(session.get_modelmeta().custom_metadata_map)}
    try:
        feeds = {i["name"]: _zeros(i["shape"], ONNX_TYPES.get(i["type"], None))
                 for i in inputs}
        values = session.run(None, feeds)
        answer["output_shapes"] = {o["name"]: list(getattr(v, "shape", ()))
                                   for o, v in zip(outputs, values, strict=True)}
        answer["ran"] = True
    except Exception as exc:
        _run_failed(answer, exc)
    return answer


def _run_failed(answer: dict[str, Any], exc: BaseException) -> None:
    """A run that failed for want of memory is a refusal (it would fail in the server too);
    any other failure on zeros is only noted (a model may need real input shapes)."""
    text = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
    answer["run_error"] = text
    if isinstance(exc, MemoryError) or "alloc" in text.lower():
        answer.update(ok=False, reason="memory")


def _child_tflite(data: bytes) -> dict[str, Any]:
    from labkit.models.runtime import litert_interpreter_class

    try:
        it = litert_interpreter_class()(model_content=data, num_threads=1)
        it.allocate_tensors()
    except Exception as exc:
        return {"ok": False, "reason": "not_tflite", "detail": str(exc)[:300]}

    def describe(d: dict[str, Any]) -> dict[str, Any]:
        return {"name": d["name"], "shape": [int(x) for x in d["shape"]],
                "type": str(d["dtype"].__name__)}

    ins, outs = it.get_input_details(), it.get_output_details()
    answer: dict[str, Any] = {"ok": True, "inputs": [describe(d) for d in ins],
                              "outputs": [describe(d) for d in outs], "ran": False}
    try:
        for d in ins:
            it.set_tensor(d["index"], _zeros(d["shape"], d["dtype"]))
        it.invoke()
        answer["output_shapes"] = {d["name"]: list(it.get_tensor(d["index"]).shape)
                                   for d in outs}
        answer["ran"] = True
    except Exception as exc:
        _run_failed(answer, exc)
    return answer


def _child_main() -> int:
    """Read `header\\nmodel bytes` on stdin, print one JSON line: what loading/running showed."""
    raw = sys.stdin.buffer.read()
    head, _, data = raw.partition(b"\n")
    request = json.loads(head)
    _limit_self(int(request["cpu_seconds"]), int(request["memory_bytes"]))
    if request["kind"] == "onnx":
        answer = _child_onnx(data)
    else:
        answer = _child_tflite(data)
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(_child_main())
