"""The school bands, in one place: every layer (labs, curriculum, pages) takes them from here.

experience 体验 (primary school) · cognition 认知 (middle school) · creative 创新实践 (high school)
"""

from __future__ import annotations

BANDS: tuple[str, ...] = ("experience", "cognition", "creative")
