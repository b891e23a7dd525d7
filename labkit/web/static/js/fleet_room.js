/* /teacher/room on the lead kit: the kits found and paired, pairing with a code shown on the
   other kit, and the room actions (push, roster, lab, collect) with one result per kit.
   Each kit's live status (online, lab running, camera, models, disk) is refreshed by polling:
   the room state every few seconds (zeroconf's announcements), and the signed status of the
   paired kits zeroconf does not hear (added by address). */
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
  let working = false;
  let lastMembers = [];
  const STATE_EVERY_MS = 5000;
  const SIGNED_EVERY_MS = 15000;

  function icon(name) {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    const use = document.createElementNS("http://www.w3.org/2000/svg", "use");
    use.setAttribute("href", `${t.icons}#${name}`);
    svg.append(use);
    return svg;
  }

  function fact(name, state, text) {
    const li = document.createElement("li");
    li.dataset.state = state;
    li.dataset.fact = name;
    li.append(icon(name), document.createTextNode(text));
    return li;
  }

  /* online: true / false / null (not known); status: {lab, camera_ok, models_ok, disk_free_pct} */
  function statusList(online, status) {
    const ul = document.createElement("ul");
    ul.className = "kit-status";
    if (online === false) {
      ul.append(fact("online", "bad", t.offline));
      return ul;
    }
    if (online) ul.append(fact("online", "ok", t.online));
    if (!status) {
      ul.append(fact("online", "unknown", t.unknown));
      return ul;
    }
    ul.append(status.lab ? fact("lab", "busy", `${t.running}: ${status.lab}`)
                         : fact("lab", "unknown", t.noLab));
    if (status.camera_ok !== null && status.camera_ok !== undefined) {
      ul.append(fact("camera", status.camera_ok ? "ok" : "bad",
                     status.camera_ok ? t.cameraOk : t.cameraBad));
    }
    if (status.models_ok !== null && status.models_ok !== undefined) {
      ul.append(fact("models", status.models_ok ? "ok" : "bad",
                     status.models_ok ? t.modelsOk : t.modelsBad));
    }
    if (status.disk_free_pct !== null && status.disk_free_pct !== undefined) {
      ul.append(fact("disk", status.disk_free_pct < 10 ? "bad" : "ok",
                     `${t.diskFree} ${status.disk_free_pct}%`));
    }
    return ul;
  }

  function memberStatus(m) {
    const r = lastResult.get(m.kit_id);
    const f = facts.get(m.kit_id);
    if (m.heard) return [true, m.status || (f && f.status) || null];
    if (r && !r.ok) return [false, null];
    if (f) return [true, f.status || null];
    return [null, null];
  }

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
    lastMembers = state.members;
    members.replaceChildren();
    if (!state.members.length) {
      const tr = document.createElement("tr");
      const td = cell(t.none);
      td.colSpan = 6;
      tr.append(td);
      members.append(tr);
    }
    for (const m of state.members) {
      const tr = document.createElement("tr");
      tr.dataset.kit = m.kit_id;
      const r = lastResult.get(m.kit_id);
      const status = r ? (r.ok ? t.ok : `${t.failed}: ${r.error}`) : "";
      const live = document.createElement("td");
      live.append(statusList(...memberStatus(m)));
      tr.append(cell(`${m.name} (${m.kit_id.slice(0, 8)})`), cell(m.address), live,
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
      const local = k.server ? ` · ${k.server}:${k.port}` : "";
      li.append(`${k.name} (${k.kit_id.slice(0, 8)}) v${k.version} · ${k.labs} ${t.labs} · ${where}${local} `);
      li.append(statusList(true, k.status));
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
    working = true;
    try {
      await work();
    } catch (err) {
      result.textContent = err.message;
    } finally {
      working = false;
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
  async function poll() {
    if (working || document.hidden) return;
    await refresh();
  }

  /* the signed status of the paired kits zeroconf does not hear (no multicast on the network) */
  async function pollSigned() {
    const unheard = lastMembers.filter((m) => !m.heard).map((m) => m.kit_id);
    if (working || document.hidden || !unheard.length) return;
    const data = await window.Labkit.post("/teacher/room/status", { kits: unheard });
    for (const r of data.results) {
      lastResult.set(r.kit_id, r);
      if (r.ok && r.detail && r.detail.kit_id) facts.set(r.kit_id, r.detail);
    }
    await refresh();
  }

  refresh().catch((err) => { result.textContent = err.message; });
  window.setInterval(() => { poll().catch(() => {}); }, STATE_EVERY_MS);
  window.setInterval(() => { pollSigned().catch(() => {}); }, SIGNED_EVERY_MS);
  window.setTimeout(() => { poll().then(pollSigned).catch(() => {}); }, 500);
})();
