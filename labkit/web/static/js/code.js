/* The code lab page: a Blocks tab (Blockly, labkit's blocks from code_blocks.js, the generated
   Python shown beside them, read-only) and a Python tab (CodeMirror); Run/Stop, the program's
   output streamed over SSE, examples and saved programs (a blocks program is saved with its
   workspace, so it reopens as blocks). Strings come from the page (#code-i18n). */
import { EditorView, basicSetup, keymap, indentWithTab, python } from "../vendor/codemirror/codemirror.js";

const T = Labkit.strings("code-i18n");
const $ = (id) => document.getElementById(id);
const output = $("code-output");
const status = $("code-status");
const runBtn = $("code-run");
const stopBtn = $("code-stop");
let runId = null;
let stream = null;
let programId = null;

const editor = new EditorView({
  doc: "",
  extensions: [basicSetup, keymap.of([indentWithTab]), python(), EditorView.lineWrapping],
  parent: $("code-editor"),
});
window.labkitEditor = editor;   // for tests and the browser console

function setSource(text) {
  editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: text } });
}

// ---- blocks ------------------------------------------------------------------------------
// The kit's CSP has no 'unsafe-inline' for styles: Blockly is injected with `css: false` (its
// common CSS is the vendored blockly.css) and its renderer's few rules go into a constructed
// stylesheet, as CodeMirror's do, instead of a <style> element.
Blockly.blockRendering.ConstantProvider.prototype.injectCSS_ = function (tagName, selector) {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(this.getCSS_(selector).join("\n"));
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
};

const blocksConfig = JSON.parse($("code-blocks-config").textContent);
const toolbox = LabkitBlocks.setup(blocksConfig);
let workspace = null;
let mode = "python";
const generated = new EditorView({
  doc: "",
  extensions: [basicSetup, python(), EditorView.editable.of(false), EditorView.lineWrapping],
  parent: $("blocks-python"),
});

function blocksSource() {
  if (!workspace) return "";
  try {
    return LabkitBlocks.generate(workspace);
  } catch (err) {          // e.g. a block for a device this kit's wiring does not have
    Labkit.showError(err);
    return "";
  }
}

function showGenerated() {
  const text = blocksSource();
  generated.dispatch({ changes: { from: 0, to: generated.state.doc.length, insert: text } });
}

function ensureWorkspace() {
  if (workspace) return workspace;
  workspace = Blockly.inject($("blocks-workspace"), {
    toolbox, css: false, sounds: false, trashcan: true, renderer: "geras",
    media: blocksConfig.media,
    zoom: { controls: true, startScale: 0.9 },
    grid: { spacing: 24, length: 2, colour: "#e3e6ec", snap: true },
  });
  workspace.addChangeListener((ev) => { if (!ev.isUiEvent) showGenerated(); });
  window.labkitBlocks = workspace;     // for tests and the browser console
  return workspace;
}

/** Show the Blocks or the Python tab. Leaving the blocks for Python carries their Python
    into the editor, unless something else is about to be opened there (`carry: false`). */
function setMode(next, carry = true) {
  if (next === mode) return;
  if (carry && next === "python" && workspace && workspace.getAllBlocks(false).length) {
    setSource(blocksSource());          // carry on in Python from what the blocks made
    $("code-saved").textContent = T.to_python;
    programId = null;
  }
  mode = next;
  $("tab-blocks").setAttribute("aria-selected", String(mode === "blocks"));
  $("tab-python").setAttribute("aria-selected", String(mode === "python"));
  $("blocks-panel").hidden = mode !== "blocks";
  $("code-editor").hidden = mode !== "python";
  $("code-layout").classList.toggle("blocks-mode", mode === "blocks");
  if (mode === "blocks") {
    ensureWorkspace();
    Blockly.svgResize(workspace);
    showGenerated();
  }
}
$("tab-blocks").addEventListener("click", () => setMode("blocks"));
$("tab-python").addEventListener("click", () => setMode("python"));

function openBlocks(state) {
  setMode("blocks");
  $("code-saved").textContent = "";
  Blockly.serialization.workspaces.load(state, workspace);
  showGenerated();
}

function source() { return mode === "blocks" ? blocksSource() : editor.state.doc.toString(); }

function line(text, kind) {
  const span = document.createElement("span");
  span.className = "out-" + kind;
  span.textContent = text + "\n";
  output.appendChild(span);
  output.scrollTop = output.scrollHeight;
}

function describeProtection(ev) {
  const parts = [];
  if (ev.network) parts.push((T.network || {})[ev.network] || ev.network);
  if (ev.filesystem) parts.push((T.filesystem || {})[ev.filesystem] || ev.filesystem);
  if (ev.user) parts.push((T.user || {})[ev.user] || ev.user);
  $("code-protection").textContent = T.protection + " " + parts.join(" · ");
}

function finished(ev) {
  const reason = (T.reasons || {})[ev.reason] || ev.reason;
  status.textContent = reason;
  status.dataset.reason = ev.reason;
  if (ev.reason !== "done" && ev.code !== null && ev.code !== undefined && ev.code > 0) {
    line("[" + T.exit_code + " " + ev.code + "]", "note");
  }
  runBtn.disabled = false;
  stopBtn.disabled = true;
  if (stream) { stream.close(); stream = null; }
}

function follow(id) {
  if (stream) stream.close();
  stream = new EventSource("/api/code/runs/" + id + "/events");
  stream.addEventListener("run", (msg) => {
    const ev = JSON.parse(msg.data);
    if (ev.type === "stdout" || ev.type === "stderr") line(ev.text, ev.type);
    else if (ev.type === "protection") describeProtection(ev);
    else if (ev.type === "truncated") line(T.truncated, "note");
    else if (ev.type === "exit") finished(ev);
  });
}

runBtn.addEventListener("click", async () => {
  $("page-error").hidden = true;
  if (!source().trim()) {
    Labkit.showError(new Error(mode === "blocks" ? T.blocks_empty : T.empty));
    return;
  }
  output.textContent = "";
  status.textContent = T.running;
  status.dataset.reason = "";
  runBtn.disabled = true;
  try {
    const res = await Labkit.post("/api/code/run",
      { source: source(), name: $("code-name").value, blocks: mode === "blocks" });
    runId = res.run_id;
    stopBtn.disabled = false;
    follow(runId);
  } catch (err) {
    status.textContent = "";
    runBtn.disabled = false;
    Labkit.showError(err);
  }
});

stopBtn.addEventListener("click", async () => {
  if (runId === null) return;
  try { await Labkit.post("/api/code/runs/" + runId + "/stop"); } catch (err) { Labkit.showError(err); }
});

$("code-examples").addEventListener("change", async (ev) => {
  const id = ev.target.value;
  if (!id) return;
  try {
    const ex = await Labkit.get("/api/code/examples/" + encodeURIComponent(id));
    if (ex.kind === "blocks") openBlocks(ex.blocks);
    else { setMode("python", false); setSource(ex.source); }
    $("code-name").value = ex.title;
    programId = null;
  } catch (err) { Labkit.showError(err); }
  ev.target.value = "";
});

async function loadPrograms() {
  const select = $("code-programs");
  try {
    const res = await Labkit.get("/api/code/programs");
    while (select.options.length > 1) select.remove(1);
    res.programs.forEach((p) => {
      const opt = document.createElement("option");
      opt.value = p.id;
      opt.textContent = p.name;
      select.appendChild(opt);
    });
  } catch (err) { Labkit.showError(err); }
}

$("code-programs").addEventListener("change", async (ev) => {
  const id = ev.target.value;
  if (!id) return;
  try {
    const res = await Labkit.get("/api/code/programs/" + encodeURIComponent(id));
    if (res.program.blocks) openBlocks(res.program.blocks);
    else { setMode("python", false); setSource(res.program.source); }
    $("code-name").value = res.program.name;
    programId = res.program.id;
  } catch (err) { Labkit.showError(err); }
  ev.target.value = "";
});

$("code-save").addEventListener("click", async () => {
  try {
    const body = { name: $("code-name").value, source: source() };
    if (mode === "blocks") body.blocks = Blockly.serialization.workspaces.save(workspace);
    if (programId) body.id = programId;
    const res = await Labkit.post("/api/code/programs", body);
    programId = res.program.id;
    $("code-saved").textContent = T.saved;
    loadPrograms();
if (blocksConfig.start === "blocks") setMode("blocks");
  } catch (err) { Labkit.showError(err); }
});

loadPrograms();
if (blocksConfig.start === "blocks") setMode("blocks");
