"""labkit — an offline-first AI lab kit runtime for school labs on Raspberry Pi."""

import os as _os

# ONNX Runtime (1.2x+) ships a telemetry client that looks up and connects to
# mobile.events.data.microsoft.com and stores a device id under ~/.cache. It reads this
# variable when onnxruntime is imported, so it is set before any labkit code can import it
# (labkit.models.runtime.onnxruntime_module also switches the events off).
_os.environ["ORT_DISABLE_TELEMETRY"] = "1"

__version__ = "0.1.0"
