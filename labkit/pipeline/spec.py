"""A pipeline file: read, checked against the block vocabulary, and put in running order.

    name: queue_alarm
    title: {zh_CN: 排队提醒, en: Queue alarm}
    blocks:
      - {id: cam,   block: camera}
      - {id: faces, block: faces, input: cam}
      - {id: crowd, block: compare, input: faces, test: "count >= 2"}
      - {id: light, block: rgb, input: crowd, colour: red, otherwise: green}
      - {id: ask,   block: say, input: crowd, text: {zh_CN: 请排队, en: Please queue}}
    demo:                      # optional: what the simulated kit shows (--demo)
      - {for: 1.5, camera: {scene: faces, n: 2}}

Every mistake is a `PipelineError` naming the line: an unknown block, a missing or unknown
input, a wire between kinds that do not fit (a camera into a rule), a cycle, a parameter of
the wrong type or out of range, two blocks driving one output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from labkit import yamlio
from labkit.errors import LabkitError, Message
from labkit.errors import lazy_gettext as _
from labkit.pipeline.blocks import BLOCKS, DEVICE_TYPES, SOURCE, BlockType, Param
from labkit.projects.discovery import line_of, yaml_lines
from labkit.projects.vocabulary import condition

ID = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
TEST_FORM = re.compile(r"^\s*([A-Za-z_]\w*)\s*(.*)$")
TOP_KEYS = {"name", "title", "blocks", "demo"}
BLOCK_KEYS = {"id", "block", "input"}


class PipelineError(LabkitError):
    """A mistake in a pipeline file; `line` is its line (None if the file is not YAML at
    all) and `problem` the mistake without the line, for the page to show next to it."""

    def __init__(self, line: int | None, problem: Message) -> None:
        text = _("line %(line)s: %(problem)s", line=line, problem=problem) if line else problem
        super().__init__(text, code="bad_pipeline",
                         fix=_("correct the pipeline file (docs/pipeline.md lists the "
                               "blocks)"))
        self.line = line
        self.problem = problem


@dataclass(frozen=True)
class Block:
    id: str
    type: BlockType
    params: dict[str, Any]
    input: str | None
    line: int
    index: int = 0


@dataclass
class Pipeline:
    """A checked pipeline: its blocks in running order (every block after its input)."""

    name: str
    title: dict[str, str]
    blocks: list[Block]
    demo: list[dict[str, Any]] | None = None
    text: str = ""
    _by_id: dict[str, Block] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_id = {b.id: b for b in self.blocks}

    def block(self, block_id: str) -> Block:
        return self._by_id[block_id]

    @property
    def uses_camera(self) -> bool:
        return any(b.type.name == "camera" for b in self.blocks)

    @property
    def uses_microphone(self) -> bool:
        return any(b.type.name == "microphone" for b in self.blocks)

    def title_in(self, lang: str) -> str:
        return self.title.get(lang) or self.title.get("zh_CN") or self.title.get("en") or \
            self.name


def _words(value: Any) -> dict[str, str] | None:
    """Text in one language (a string) or both ({zh_CN, en}); None if it is neither."""
    if isinstance(value, str) and value.strip():
        return {"zh_CN": value, "en": value}
    if isinstance(value, dict) and value and set(value) <= {"zh_CN", "en"} and all(
            isinstance(v, str) and v.strip() for v in value.values()):
        return {str(k): str(v) for k, v in value.items()}
    return None


class _Checker:
    def __init__(self, text: str, wiring: Any) -> None:
        self.lines = yaml_lines(text)
        self.wiring = wiring

    def line(self, *path: Any) -> int | None:
        return line_of(self.lines, path)

    def fail(self, path: tuple[Any, ...], problem: Message) -> PipelineError:
        return PipelineError(self.line(*path), problem)

    # -- parameters ------------------------------------------------------------------------
    def param(self, block_id: str, btype: BlockType, param: Param, value: Any,
              path: tuple[Any, ...]) -> Any:
        where = {"block": block_id, "param": param.name}
        if param.kind in ("number", "int"):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                    param.kind == "int" and not isinstance(value, int)):
                raise self.fail(path, _("%(block)s: %(param)s must be a number, not %(value)r",
                                        value=value, **where))
            if param.lo is not None and param.hi is not None and \
                    not param.lo <= value <= param.hi:
                raise self.fail(path, _("%(block)s: %(param)s = %(value)s is out of range "
                                        "(%(lo)s to %(hi)s)", value=value, lo=param.lo,
                                        hi=param.hi, **where))
            return float(value) if param.kind == "number" else int(value)
        if param.kind == "choice":
            if value not in param.choices:
                raise self.fail(path, _("%(block)s: %(param)s = %(value)r is not one of "
                                        "%(choices)s", value=value,
                                        choices=", ".join(param.choices), **where))
            return value
        if param.kind == "words":
            words = _words(value)
            if words is None:
                raise self.fail(path, _("%(block)s: %(param)s must be text, or {zh_CN: …, "
                                        "en: …}", **where))
            return words
        if param.kind == "device":
            return self.device(block_id, btype, value, path)
        if not isinstance(value, (str, int)) or isinstance(value, bool) or not str(value).strip():
            raise self.fail(path, _("%(block)s: %(param)s must be a word or text", **where))
        return str(value).strip()

    def device(self, block_id: str, btype: BlockType, value: Any, path: tuple[Any, ...]) -> str:
        if self.wiring is None:
            return str(value)
        types = DEVICE_TYPES.get(btype.name, ())
        fits = [n for n, s in self.wiring.devices.items() if s.type in types]
        if value not in fits:
            raise self.fail(path, _("%(block)s: the kit has no %(kind)s called %(value)r "
                                    "(its wiring has %(names)s)", block=block_id,
                                    kind=btype.name, value=value,
                                    names=", ".join(fits) or "-"))
        return str(value)

    def test(self, block: Block, source: Block) -> None:
        """`count >= 2`: a value the input gives, a comparison, a number."""
        text = block.params["test"]
        path = ("blocks", block.index, "test")
        match = TEST_FORM.match(str(text))
        names = source.type.values
        if match is None or condition(match.group(2)) is None:
            raise PipelineError(self.line(*path) or block.line,
                                _("%(block)s: test %(test)r must be like "
                                              "\"%(name)s >= 2\" (a value, >= <= > < == !=, "
                                              "a number)", block=block.id, test=text,
                                              name=names[0] if names else "value"))
        if match.group(1) not in names:
            raise PipelineError(self.line(*path) or block.line,
                                _("%(block)s: %(input)s gives %(names)s, not %(value)r",
                                  block=block.id, input=source.id, names=", ".join(names),
                                  value=match.group(1)))

    # -- blocks ------------------------------------------------------------------------------
    def block(self, raw: Any, i: int) -> Block:
        path: tuple[Any, ...] = ("blocks", i)
        line = self.line(*path) or 1
        if not isinstance(raw, dict):
            raise PipelineError(line, _("each block is a mapping like {id: cam, block: camera}"))
        block_id = raw.get("id")
        if not isinstance(block_id, str) or not ID.match(block_id):
            raise PipelineError(self.line(*path, "id") or line,
                                _("a block needs an id: lower-case letters, digits, _ or - "
                                  "(got %(value)r)", value=block_id))
        name = raw.get("block")
        btype = BLOCKS.get(name) if isinstance(name, str) else None
        if btype is None:
            raise PipelineError(self.line(*path, "block") or line,
                                _("%(block)s: unknown block %(name)r (the blocks are "
                                  "%(names)s)", block=block_id, name=name,
                                  names=", ".join(BLOCKS)))
        params: dict[str, Any] = {}
        for key, value in raw.items():
            if key in BLOCK_KEYS:
                continue
            param = btype.param(str(key))
            if param is None:
                known = ", ".join(p.name for p in btype.params) or "-"
                raise PipelineError(self.line(*path, key) or line,
                                    _("%(block)s: a %(type)s block has no parameter %(param)r "
                                      "(it has %(known)s)", block=block_id, type=btype.name,
                                      param=str(key), known=known))
            params[param.name] = self.param(block_id, btype, param, value, (*path, key))
        for param in btype.params:
            if param.name not in params:
                if param.required:
                    raise PipelineError(line, _("%(block)s: the parameter %(param)s is missing",
                                                block=block_id, param=param.name))
                value = param.default
                if param.kind == "device":
                    value = self.device(block_id, btype, value, path)
                params[param.name] = value
        wire = raw.get("input")
        if btype.group == SOURCE:
            if wire is not None:
                raise PipelineError(self.line(*path, "input") or line,
                                    _("%(block)s: a %(type)s block is a source and takes no "
                                      "input", block=block_id, type=btype.name))
        elif not isinstance(wire, str) or not wire:
            raise PipelineError(line, _("%(block)s: the input is missing (which block does "
                                        "it follow?)", block=block_id))
        return Block(block_id, btype, params, wire, line, i)

    def wires(self, blocks: list[Block]) -> list[Block]:
        by_id: dict[str, Block] = {}
        for b in blocks:
            if b.id in by_id:
                raise PipelineError(b.line, _("%(block)s: two blocks have this id", block=b.id))
            by_id[b.id] = b
        for b in blocks:
            if b.input is not None and b.input not in by_id:
                raise PipelineError(b.line, _("%(block)s: its input %(input)r is not a block "
                                              "of this pipeline", block=b.id, input=b.input))
        order: list[Block] = []
        placed: set[str] = set()
        for b in blocks:
            chain: list[Block] = []
            cur: Block | None = b
            while cur is not None and cur.id not in placed:
                if cur in chain:
                    loop = chain[chain.index(cur):] + [cur]
                    raise PipelineError(cur.line, _("blocks %(loop)s form a cycle: a block "
                                                    "cannot follow itself",
                                                    loop=" → ".join(x.id for x in loop)))
                chain.append(cur)
                cur = by_id[cur.input] if cur.input is not None else None
            for x in reversed(chain):
                placed.add(x.id)
                order.append(x)
        for b in order:
            if b.input is None:
                continue
            source = by_id[b.input]
            if source.type.gives not in b.type.takes:
                raise PipelineError(b.line, _("%(block)s: a %(type)s block cannot follow "
                                              "%(input)s (a %(other)s block)", block=b.id,
                                              type=b.type.name, input=source.id,
                                              other=source.type.name))
            if b.type.name == "compare":
                self.test(b, source)
            labels = source.type.known_labels() if b.type.name == "label" else ()
            if labels and b.params["is"] not in labels:
                raise PipelineError(self.line("blocks", b.index, "is") or b.line,
                                    _("%(block)s: %(input)s never gives the label %(label)r "
                                      "(it gives %(labels)s)", block=b.id, input=source.id,
                                      label=b.params["is"], labels=", ".join(labels)))
        driven: dict[str, Block] = {}
        for b in order:
            if b.type.device is None:
                continue
            dev = b.params["device"]
            if dev in driven:
                raise PipelineError(b.line, _("%(block)s: %(device)s is already driven by "
                                              "%(other)s; one block per output",
                                              block=b.id, device=dev, other=driven[dev].id))
            driven[dev] = b
        return order


def parse(text: str, *, wiring: Any = None) -> Pipeline:
    """Check a pipeline's YAML text; `wiring` (the kit's) checks the device names too."""
    try:
        data = yamlio.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise PipelineError(mark.line + 1 if mark is not None else None,
                            _("this is not YAML (%(problem)s)",
                              problem=getattr(exc, "problem", None) or "syntax")) from None
    checker = _Checker(text, wiring)
    if not isinstance(data, dict):
        raise PipelineError(1, _("a pipeline is a mapping with name: and blocks:"))
    unknown = sorted(str(k) for k in data if k not in TOP_KEYS)
    if unknown:
        raise checker.fail((unknown[0],), _("unknown key %(key)r (a pipeline has %(keys)s)",
                                            key=unknown[0], keys=", ".join(sorted(TOP_KEYS))))
    name = data.get("name")
    if not isinstance(name, str) or not ID.match(name):
        raise checker.fail(("name",), _("name must be lower-case letters, digits, _ or - "
                                        "(got %(value)r)", value=name))
    title = _words(data.get("title", name))
    if title is None:
        raise checker.fail(("title",), _("title must be text, or {zh_CN: …, en: …}"))
    raw_blocks = data.get("blocks")
    if not isinstance(raw_blocks, list) or not raw_blocks:
        raise checker.fail(("blocks",), _("blocks: must list at least one block"))
    blocks = [checker.block(raw, i) for i, raw in enumerate(raw_blocks)]
    order = checker.wires(blocks)
    demo = data.get("demo")
    if demo is not None:
        _check_demo(demo, checker)
    return Pipeline(name, title, order, demo, text)


def _check_demo(demo: Any, checker: _Checker) -> None:
    from labkit.projects.demo import DemoError, compile_script

    if not isinstance(demo, list):
        raise checker.fail(("demo",), _("demo: must be a list of scenes"))
    wired = set(checker.wiring.devices) if checker.wiring is not None else None
    try:
        compile_script(demo, wired)
    except DemoError as exc:
        raise checker.fail(("demo", *exc.path), _("demo: %(problem)s",
                                                  problem=exc.message)) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise checker.fail(("demo",), _("demo: %(problem)s", problem=str(exc))) from None


def load(path: str | Path, *, wiring: Any = None) -> Pipeline:
    """Read and check a pipeline file (a missing file is a PipelineError too)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LabkitError(_("cannot read the pipeline %(path)s (%(reason)s)", path=str(p),
                            reason=exc.__class__.__name__), code="bad_pipeline",
                          fix=_("give the path of a pipeline .yaml file")) from None
    return parse(text, wiring=wiring)
