/* The code lab page: a CodeMirror editor, Run/Stop, the program's output streamed over SSE,
   examples and saved programs. Strings come from the page (#code-i18n). */
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
function source() { return editor.state.doc.toString(); }

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
  if (!source().trim()) { Labkit.showError(new Error(T.empty)); return; }
  output.textContent = "";
  status.textContent = T.running;
  status.dataset.reason = "";
  runBtn.disabled = true;
  try {
    const res = await Labkit.post("/api/code/run", { source: source(), name: $("code-name").value });
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
    setSource(ex.source);
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
    setSource(res.program.source);
    $("code-name").value = res.program.name;
    programId = res.program.id;
  } catch (err) { Labkit.showError(err); }
  ev.target.value = "";
});

$("code-save").addEventListener("click", async () => {
  try {
    const body = { name: $("code-name").value, source: source() };
    if (programId) body.id = programId;
    const res = await Labkit.post("/api/code/programs", body);
    programId = res.program.id;
    $("code-saved").textContent = T.saved;
    loadPrograms();
  } catch (err) { Labkit.showError(err); }
});

loadPrograms();
