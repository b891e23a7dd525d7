/* The pipeline builder: rows of blocks (plain form controls) ⇄ the YAML the kit runs.
   The form writes the YAML; Check sends the YAML to the kit, which answers with the blocks
   (then the form is redrawn from them) or the line of the mistake. */
(function () {
  "use strict";
  const V = Labkit.strings("pl-vocabulary");
  const T = Labkit.strings("pl-i18n");
  const TYPES = {};
  (V.blocks || []).forEach((b) => { TYPES[b.name] = b; });
  const $ = (id) => document.getElementById(id);
  const list = $("pl-blocks"), yaml = $("pl-yaml"), problem = $("pl-problem");
  const status = $("pl-status"), values = $("pl-values");
  let rows = [];
  let polling = null;

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function defaults(type) {
    const params = {};
    type.params.forEach((p) => {
      if (p.default !== undefined) params[p.name] = p.default;
      else if (p.kind === "words") params[p.name] = { zh_CN: "", en: "" };
      else params[p.name] = "";
    });
    return params;
  }

  function freshId(name) {
    let n = 1;
    while (rows.some((r) => r.id === name + n)) n += 1;
    return name + n;
  }

  function add(name) {
    const type = TYPES[name];
    if (!type) return;
    const before = rows.filter((r) => TYPES[r.block] && TYPES[r.block].gives &&
      type.takes.includes(TYPES[r.block].gives));
    rows.push({ id: freshId(name), block: name, params: defaults(type),
      input: type.takes.length ? (before.length ? before[before.length - 1].id : "") : null });
    draw();
  }

  function control(row, p) {
    const wrap = el("label", { class: "pl-param" }, p.title + " ");
    let input;
    const value = row.params[p.name];
    const projects = row.block === "teachable" && p.name === "project" ? (V.projects || []) : null;
    const choices = p.kind === "device" ? (V.devices[row.block] || []) : p.choices;
    if (projects && projects.length) {
      input = el("select", {});
      if (!value) row.params[p.name] = projects[0].id;
      projects.forEach((proj) => {
        const opt = el("option", { value: proj.id }, proj.name);
        if (proj.id === row.params[p.name]) opt.selected = true;
        input.appendChild(opt);
      });
    } else if (choices) {
      input = el("select", {});
      choices.forEach((c) => {
        const opt = el("option", { value: c }, c);
        if (c === value) opt.selected = true;
        input.appendChild(opt);
      });
    } else if (p.kind === "words") {
      const words = (value && typeof value === "object") ? value : { zh_CN: value || "", en: "" };
      ["zh_CN", "en"].forEach((lang) => {
        const box = el("input", { type: "text", maxlength: "80", "data-lang": lang,
          placeholder: lang === "zh_CN" ? T.zh : T.en });
        box.value = words[lang] || "";
        box.addEventListener("input", () => {
          row.params[p.name] = Object.assign({}, row.params[p.name], { [lang]: box.value });
          write();
        });
        wrap.appendChild(box);
      });
      return wrap;
    } else if (p.kind === "number" || p.kind === "int") {
      input = el("input", { type: "number", step: p.kind === "int" ? "1" : "any" });
      if (p.lo !== undefined) { input.min = p.lo; input.max = p.hi; }
      input.value = value;
    } else {
      input = el("input", { type: "text", maxlength: "60" });
      input.value = value;
    }
    input.dataset.param = p.name;
    const update = () => {
      row.params[p.name] = (p.kind === "number" || p.kind === "int") && input.value !== ""
        ? Number(input.value) : input.value;
      write();
    };
    input.addEventListener("input", update);
    input.addEventListener("change", update);
    wrap.appendChild(input);
    return wrap;
  }

  function draw() {
    list.replaceChildren();
    rows.forEach((row, i) => {
      const type = TYPES[row.block];
      const item = el("li", { class: "pl-block pl-" + type.group, "data-block": row.block });
      item.appendChild(el("strong", {}, type.title));
      const idLabel = el("label", {}, T.id + " ");
      const idBox = el("input", { type: "text", maxlength: "40", class: "pl-id" });
      idBox.value = row.id;
      idBox.addEventListener("change", () => {
        const old = row.id;
        row.id = idBox.value.trim();
        rows.forEach((r) => { if (r.input === old) r.input = row.id; });
        draw();
      });
      idLabel.appendChild(idBox);
      item.appendChild(idLabel);
      if (type.takes.length) {
        const inLabel = el("label", {}, T.input + " ");
        const pick = el("select", { class: "pl-input" });
        pick.appendChild(el("option", { value: "" }, T.none));
        rows.forEach((other, j) => {
          if (j === i) return;
          const opt = el("option", { value: other.id }, other.id);
          if (other.id === row.input) opt.selected = true;
          pick.appendChild(opt);
        });
        pick.addEventListener("change", () => { row.input = pick.value; write(); });
        inLabel.appendChild(pick);
        item.appendChild(inLabel);
      }
      type.params.forEach((p) => item.appendChild(control(row, p)));
      const remove = el("button", { type: "button", class: "pl-remove" }, T.remove);
      remove.addEventListener("click", () => { rows.splice(i, 1); draw(); });
      item.appendChild(remove);
      list.appendChild(item);
    });
    write();
  }

  /* one block as a YAML flow mapping: plain keys, JSON values (JSON is valid YAML) */
  const flow = (item) => "{" + Object.entries(item).map(([k, v]) =>
    k + ": " + (v && typeof v === "object"
      ? "{" + Object.entries(v).map(([a, b]) => a + ": " + JSON.stringify(b)).join(", ") + "}"
      : JSON.stringify(v))).join(", ") + "}";

  function write() {
    const lines = ["name: " + $("pl-name").value.trim(),
      "title: " + JSON.stringify($("pl-title").value.trim() || $("pl-name").value.trim()),
      "blocks:"];
    rows.forEach((row) => {
      const item = { id: row.id, block: row.block };
      if (row.input !== null && row.input !== undefined) item.input = row.input;
      Object.assign(item, row.params);
      lines.push("  - " + flow(item));
    });
    yaml.value = lines.join("\n") + "\n";
  }

  function fromSpec(spec) {
    $("pl-name").value = spec.name;
    const title = spec.title || {};
    $("pl-title").value = title[document.body.dataset.lang] || title.zh_CN || title.en || "";
    rows = spec.blocks.map((b) => ({ id: b.id, block: b.block, input: b.input,
      params: Object.assign({}, b.params) }));
    const text = yaml.value;
    draw();
    if (spec.keepText) yaml.value = text;
  }

  function showProblem(err) {
    if (!err) { problem.hidden = true; return; }
    problem.textContent = err.message;
    problem.hidden = false;
    const line = err.details && err.details.line;
    if (line) {
      const start = yaml.value.split("\n").slice(0, line - 1).join("\n").length;
      const end = yaml.value.indexOf("\n", start + 1);
      yaml.focus();
      yaml.setSelectionRange(start ? start + 1 : 0, end < 0 ? yaml.value.length : end);
    }
  }

  const call = (url, body) => (body === undefined ? Labkit.get(url) : Labkit.post(url, body));

  async function check() {
    try {
      const spec = await call("/api/pipeline/check", { text: yaml.value });
      showProblem(null);
      fromSpec(Object.assign(spec, { keepText: true }));
      status.textContent = T.ok;
      return true;
    } catch (err) { showProblem(err); status.textContent = ""; return false; }
  }

  async function save() {
    try {
      await call("/api/pipeline/save", { text: yaml.value });
      showProblem(null);
      status.textContent = T.saved;
      loadSaved();
    } catch (err) { showProblem(err); }
  }

  function showState(state) {
    values.replaceChildren();
    Object.entries(state.values || {}).forEach(([id, v]) => {
      const shown = v && typeof v === "object" ? JSON.stringify(v) : String(v);
      const err = (state.errors || {})[id];
      values.appendChild(el("li", {}, id + ": " + shown + (err ? " (" + T.error + ": " + err + ")" : "")));
    });
    const running = !!state.running;
    $("pl-stop").disabled = !running;
    $("pl-run").disabled = running;
    status.textContent = running ? T.running : T.stopped;
    if (!running && polling) { clearInterval(polling); polling = null; }
  }

  async function poll() {
    try { showState(await call("/api/pipeline/state")); } catch (err) { showProblem(err); }
  }

  async function run() {
    try {
      showState(await call("/api/pipeline/run", { text: yaml.value }));
      showProblem(null);
      if (!polling) polling = setInterval(poll, 1000);
    } catch (err) { showProblem(err); }
  }

  async function stop() {
    try { showState(await call("/api/pipeline/stop", {})); } catch (err) { showProblem(err); }
  }

  async function loadSaved() {
    const pick = $("pl-saved");
    try {
      const data = await call("/api/pipeline/saved");
      while (pick.options.length > 1) pick.remove(1);
      data.pipelines.forEach((p) => {
        const label = p.student ? p.student + " · " + p.name : p.name;
        pick.appendChild(el("option", { value: p.student_id + "/" + p.name }, label));
      });
    } catch (err) { /* a teacher without students, or signed out: the list stays empty */ }
  }

  $("pl-saved").addEventListener("change", async (ev) => {
    if (!ev.target.value) return;
    try {
      const saved = await call("/api/pipeline/saved/" + ev.target.value);
      if (saved.ok) fromSpec(saved);
      yaml.value = saved.text;
    } catch (err) { showProblem(err); }
  });
  $("pl-add").addEventListener("click", () => add($("pl-new").value));
  $("pl-name").addEventListener("input", write);
  $("pl-title").addEventListener("input", write);
  $("pl-check").addEventListener("click", check);
  $("pl-save").addEventListener("click", save);
  $("pl-run").addEventListener("click", run);
  $("pl-stop").addEventListener("click", stop);
  draw();
  loadSaved();
  poll();
})();
