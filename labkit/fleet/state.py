"""What a kit keeps about its room, under `<data dir>/fleet/` (owner-only files):

    kit_key          this kit's ed25519 private key (PEM, 0600), made on first use
    kit.json         {"name"}: the name other kits show (default: the host name)
    leads.json       the lead kits this kit obeys: key id → {"key", "kit_id", "name", "paired_at"}
    members.json     (on a lead kit) the kits it paired: kit id → {"name", "address", "key", ...}
    pairing.json     a pairing waiting for its code (expires in a few minutes)
    collected/       (on a lead kit) the records last collected from each member kit, sealed
                     with the kit's data key (they name children); `forget_student` erases a
                     purged child's runs from them

A lead kit's public key is "the room key": a kit trusts exactly the leads it paired with, so a
request signed by a kit of another room is refused.
"""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any


from labkit.atrest import sealer_for
from labkit.datadir import private_dir
from labkit.fsutil import atomic_write_text
from labkit.packs import signing

if TYPE_CHECKING:  # cryptography is loaded by `signing` on first use
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

_lock = threading.Lock()


class RoomState:
    """The room files of one data dir (safe to use from several request threads)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.root = self.data_dir / "fleet"

    # ---- this kit --------------------------------------------------------------------------
    def private_key(self) -> Ed25519PrivateKey:
        path = self.root / "kit_key"
        with _lock:
            if not path.is_file():
                private_dir(self.root)
                signing.generate(path)
        return signing.load_private(path)

    def public_text(self) -> str:
        return signing.public_text(self.private_key().public_key())

    def name(self) -> str:
        name = self._read("kit.json").get("name")
        return name if isinstance(name, str) and name else socket.gethostname()

    def set_name(self, name: str) -> None:
        self._write("kit.json", {"name": name})

    # ---- the leads this kit obeys ------------------------------------------------------------
    def leads(self) -> dict[str, dict[str, Any]]:
        return self._read("leads.json")

    def lead_key(self, key_id: str) -> Any | None:
        entry = self.leads().get(key_id)
        if not isinstance(entry, dict):
            return None
        try:
            return signing.parse_public(str(entry.get("key", "")))
        except signing.BadKey:
            return None

    def add_lead(self, key_text: str, **info: Any) -> str:
        kid = signing.key_id(key_text)
        with _lock:
            leads = self._read("leads.json")
            leads[kid] = {"key": key_text.strip(), **info}
            self._write("leads.json", leads)
        return kid

    def remove_lead(self, key_id: str) -> bool:
        with _lock:
            leads = self._read("leads.json")
            found = leads.pop(key_id, None) is not None
            self._write("leads.json", leads)
        return found

    # ---- the kits a lead paired -------------------------------------------------------------
    def members(self) -> dict[str, dict[str, Any]]:
        return self._read("members.json")

    def add_member(self, kit_id: str, **info: Any) -> None:
        with _lock:
            members = self._read("members.json")
            members[kit_id] = info
            self._write("members.json", members)

    def remove_member(self, kit_id: str) -> bool:
        with _lock:
            members = self._read("members.json")
            found = members.pop(kit_id, None) is not None
            self._write("members.json", members)
        return found

    # ---- a pairing waiting for its code -------------------------------------------------------
    def pending(self) -> dict[str, Any]:
        return self._read("pairing.json")

    def set_pending(self, pending: dict[str, Any] | None) -> None:
        with _lock:
            if pending is None:
                (self.root / "pairing.json").unlink(missing_ok=True)
            else:
                self._write("pairing.json", pending)

    # ---- the lab the room works on now -------------------------------------------------------
    def room_lab(self) -> str | None:
        lab_id = self._read("room_lab.json").get("lab_id")
        return lab_id if isinstance(lab_id, str) else None

    def set_room_lab(self, lab_id: str | None) -> None:
        self._write("room_lab.json", {"lab_id": lab_id})

    # ---- collected records ------------------------------------------------------------------
    def collected_dir(self) -> Path:
        return self.root / "collected"

    def save_collected(self, kit_id: str, records: dict[str, Any]) -> None:
        private_dir(self.collected_dir())
        self._save_records(self.collected_dir() / f"{_safe(kit_id)}.json", records)

    def _save_records(self, path: Path, records: dict[str, Any]) -> None:
        sealer_for(self.data_dir).write(path, json.dumps(records, ensure_ascii=False).encode())

    def _collected_files(self) -> list[tuple[Path, dict[str, Any]]]:
        out = []
        folder = self.collected_dir()
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            try:
                data = json.loads(sealer_for(self.data_dir).read(path))
            except (OSError, ValueError):      # SealBroken is a ValueError
                continue
            if isinstance(data, dict):
                out.append((path, data))
        return out

    def collected(self) -> list[dict[str, Any]]:
        return [data for _path, data in self._collected_files()]

    def forget_student(self, uuid: str, name: str, class_name: str) -> int:
        """Erase one child's runs from every collected record (a purge); how many went.

        A member kit's copy of the child has the same UUID when the lead sent the roster; a
        roster typed on the member kit is matched by the same name in a class of the same
        name."""
        from labkit.fleet.records import without_runs_of

        removed = 0
        with _lock:
            for path, data in self._collected_files():
                kept, gone = without_runs_of(data, uuid=uuid, name=name, class_name=class_name)
                if gone:
                    self._save_records(path, kept)
                    removed += gone
        return removed

    def seal_collected(self) -> int:
        """Re-write collected records saved before they were sealed; how many were clear."""
        folder = self.collected_dir()
        return sealer_for(self.data_dir).seal_all(folder.glob("*.json")) if folder.is_dir() \
            else 0

    # ---- files ------------------------------------------------------------------------------
    def _read(self, name: str) -> dict[str, Any]:
        try:
            data = json.loads((self.root / name).read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, name: str, data: dict[str, Any]) -> None:
        private_dir(self.root)
        atomic_write_text(self.root / name, json.dumps(data, ensure_ascii=False, indent=1))


def _safe(kit_id: str) -> str:
    return "".join(c for c in kit_id if c.isalnum() or c == "-")[:64] or "kit"
