"""labkit — an offline-first AI lab kit runtime for school labs on Raspberry Pi."""

import os as _os
import sys as _sys

# ONNX Runtime (1.2x+) ships a telemetry client that looks up and connects to
# mobile.events.data.microsoft.com and stores a device id under ~/.cache. It reads this
# variable when onnxruntime is imported, so it is set before any labkit code can import it
# (labkit.models.runtime.onnxruntime_module also switches the events off).
ORT_IMPORTED_BEFORE_LABKIT = ("onnxruntime" in _sys.modules
                              and _os.environ.get("ORT_DISABLE_TELEMETRY") != "1")
_os.environ["ORT_DISABLE_TELEMETRY"] = "1"

__version__ = "0.1.0"
