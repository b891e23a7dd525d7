"""Message ids of the provisioning area (catalogue `web/translations/provision/`).

The kit's first-boot report and doctor findings carry an English message id plus parameters;
a reader in another language gets them through the catalogue. `N_` only marks an id so that
`python -m labkit.i18n check` finds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def N_(message: str) -> str:
    """Mark a message id for extraction without translating it here."""
    return message


@dataclass(frozen=True)
class Note:
    """One thing the provisioning code wants a person to read: a message id and its values."""

    key: str                      # the setting it is about, e.g. "teacher.pin"
    msgid: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.msgid % self.params if self.params else self.msgid

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "msgid": self.msgid, "params": self.params, "text": self.text}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Note":
        return cls(str(data.get("key", "")), str(data.get("msgid", "")),
                   dict(data.get("params") or {}))
