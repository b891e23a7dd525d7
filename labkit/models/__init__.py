"""Models: where they come from (sources, fetch), what they are (manifest), how they run.

    from labkit.models import ModelStore
    store = ModelStore(settings)
    outputs = store.load("face_detection_short_range").run({"input": x})
"""

from labkit.models.errors import ModelError
from labkit.models.registry import FileRecord, ModelEntry, ModelStore
from labkit.models.runtime import Model, TensorInfo

__all__ = ["FileRecord", "Model", "ModelEntry", "ModelError", "ModelStore", "TensorInfo"]
