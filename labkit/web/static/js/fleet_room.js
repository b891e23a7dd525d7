/* /teacher/room on the lead kit: the kits found and paired, pairing with a code shown on the
   other kit, and the room actions (push, roster, lab, collect) with one result per kit. */
(() => {
  const root = document.getElementById("room");
  if (!root) return;
  const t = root.dataset;
  const members = document.querySelector("#room-members tbody");
  const found = document.getElementById("room-found");
  const result = document.getElementById("room-result");
  const progress = document.getElementById("room-progress");
  const codeForm = document.getElementById("room-code");
  const lastResult = new Map();
  const facts = new Map();
  let pairing = null;

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text;
    return td;
  }

  function factText(f) {
    if (!f) return "";
    const parts = [`v${f.version}`, `${(f.labs || []).length} ${t.labs}`];
    if (f.lab_running) parts.push(`${t.running}: ${f.lab_running}`);
    if (f.camera) parts.push(f.camera.ok ? t.cameraOk : t.cameraBad);
    if (f.disk_free_mb !== null && f.disk_free_mb !== undefined) parts.push(`${f.disk_free_mb} ${t.disk}`);
    const packs = Object.entries(f.packs || {}).map(([id, v]) => `${id} ${v}`).join(", ");
    if (packs) parts.push(packs);
    return parts.join(" · ");
  }

  async function refresh() {
    const state = await window.Labkit.get("/teacher/room/state");
    members.replaceChildren();
    if (!state.members.length) {
      const tr = document.createElement("tr");
      const td = cell(t.none);
      td.colSpan = 5;
      tr.append(td);
      members.append(tr);
    }
    for (const m of state.members) {
      const tr = document.createElement("tr");
      tr.dataset.kit = m.kit_id;
      const r = lastResult.get(m.kit_id);
      const status = r ? (r.ok ? t.ok : `${t.failed}: ${r.error}`) : "";
      tr.append(cell(`${m.name} (${m.kit_id.slice(0, 8)})`), cell(m.address),
                cell(factText(facts.get(m.kit_id))), cell(status));
      const td = document.createElement("td");
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = t.unpair;
      b.addEventListener("click", () => act("/teacher/room/unpair", { kit_id: m.kit_id }));
      td.append(b);
      tr.append(td);
      members.append(tr);
    }
    found.replaceChildren();
    for (const k of state.found) {
      const li = document.createElement("li");
      const where = k.addresses.map((a) => `${a}:${k.port}`).join(", ");
      li.textContent = `${k.name} (${k.kit_id.slice(0, 8)}) v${k.version} · ${k.labs} ${t.labs} · ${where} `;
      if (k.paired) {
        li.append(t.paired);
      } else if (k.addresses.length) {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = t.pair;
        b.addEventListener("click", () => startPairing(`${k.addresses[0]}:${k.port}`));
        li.append(b);
      }
      found.append(li);
    }
  }

  function show(data) {
    const lines = data.results.map((r) => `${r.name || r.kit_id.slice(0, 8)}: ${r.ok ? t.ok : r.error}`);
    result.textContent = lines.length ? lines.join(" | ") : t.none;
    for (const r of data.results) {
      lastResult.set(r.kit_id, r);
      if (r.ok && r.detail && r.detail.kit_id) facts.set(r.kit_id, r.detail);
    }
  }

  async function busy(work) {
    const buttons = root.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    progress.hidden = false;
    try {
      await work();
    } catch (err) {
      result.textContent = err.message;
    } finally {
      progress.hidden = true;
      buttons.forEach((b) => { b.disabled = false; });
      refresh().catch((err) => { result.textContent = err.message; });
    }
  }

  function act(url, body) {
    return busy(async () => show(await window.Labkit.post(url, body || {})));
  }

  function startPairing(address) {
    return busy(async () => {
      pairing = await window.Labkit.post("/teacher/room/pair/start", { address });
      document.getElementById("room-code-label").textContent = `${t.codePrompt} ${pairing.name}:`;
      codeForm.hidden = false;
      document.getElementById("room-code-input").focus();
      result.textContent = "";
    });
  }

  document.getElementById("room-add").addEventListener("submit", (ev) => {
    ev.preventDefault();
    startPairing(document.getElementById("room-address").value);
  });
  codeForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (!pairing) return;
    const code = document.getElementById("room-code-input").value;
    busy(async () => {
      await window.Labkit.post("/teacher/room/pair/confirm",
                               { address: pairing.address, code, challenge: pairing.challenge });
      codeForm.hidden = true;
      pairing = null;
      result.textContent = t.done;
    });
  });
  document.getElementById("room-status").addEventListener("click", () => act("/teacher/room/status"));
  document.getElementById("room-push").addEventListener("click", () =>
    act("/teacher/room/push", { index: Number(document.getElementById("room-pack").value) }));
  document.getElementById("room-push-model").addEventListener("click", () =>
    act("/teacher/room/push-model", { project_id: document.getElementById("room-model").value }));
  document.getElementById("room-push-installed").addEventListener("click", () =>
    act("/teacher/room/push", { pack_id: document.getElementById("room-installed").value }));
  document.getElementById("room-roster").addEventListener("click", () =>
    act("/teacher/room/roster", { class_id: Number(document.getElementById("room-class").value) }));
  document.getElementById("room-lab-start").addEventListener("click", () =>
    act("/teacher/room/lab", { lab_id: document.getElementById("room-lab").value }));
  document.getElementById("room-lab-stop").addEventListener("click", () =>
    act("/teacher/room/lab", { lab_id: null }));
  document.getElementById("room-collect").addEventListener("click", () => act("/teacher/room/collect"));
  refresh().catch((err) => { result.textContent = err.message; });
})();
