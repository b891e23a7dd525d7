/* The teachable-models pages: create/import projects, hold-to-record, train, try live.
   Every user-visible string comes from the page (#learn-i18n); no network beyond this kit. */
(function () {
  "use strict";
  const T = Labkit.strings("learn-i18n");
  const H = Labkit.strings("honest-i18n");
  const showError = (err) => Labkit.showError(err);
  const clearError = () => { const b = document.getElementById("page-error"); if (b) b.hidden = true; };

  /* ---------------- the projects page ---------------- */
  const createForm = document.getElementById("create-form");
  if (createForm) {
    const rows = document.getElementById("class-rows");
    const addRow = document.getElementById("add-class-row");
    addRow.addEventListener("click", () => {
      const n = rows.querySelectorAll(".class-name").length;
      if (n >= Number(addRow.dataset.max)) return;
      const input = rows.querySelector(".class-name").cloneNode();
      input.value = "";
      input.placeholder = "";
      rows.appendChild(input);
      input.focus();
      if (n + 1 >= Number(addRow.dataset.max)) addRow.disabled = true;
    });
    createForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearError();
      const classes = [...rows.querySelectorAll(".class-name")].map((i) => i.value.trim())
        .filter((v) => v !== "");
      const kind = (createForm.querySelector("input[name=kind]:checked") || {}).value;
      try {
        const p = await Labkit.post("/api/learn/projects",
          { name: document.getElementById("new-name").value, kind, classes });
        window.location.href = "/learn/" + p.id;
      } catch (err) { showError(err); }
    });
    document.querySelectorAll("button.repair").forEach((b) => b.addEventListener("click", async () => {
      try {
        await Labkit.post("/api/learn/projects/" + b.dataset.projectId + "/repair", {});
        window.location.reload();
      } catch (err) { showError(err); }
    }));
    document.getElementById("import-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearError();
      const file = document.getElementById("import-file").files[0];
      if (!file) { showError(new Error(T.choose_file)); return; }
      const form = new FormData();
      form.append("file", file);
      form.append("passphrase", document.getElementById("import-passphrase").value);
      try {
        const p = await Labkit.request("POST", "/api/learn/import", form);
        window.location.href = "/learn/" + p.id;
      } catch (err) {
        showError(err);
        if (err.code === "passphrase_needed" || err.code === "wrong_passphrase") {
          document.getElementById("import-passphrase").focus();
        }
      }
    });
  }

  /* ---------------- one project ---------------- */
  const root = document.getElementById("learn-project");
  if (!root) return;
  const pid = root.dataset.projectId;
  const kind = root.dataset.kind;
  const api = "/api/learn/projects/" + pid;
  let state = Labkit.strings("learn-state");

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function addThumb(card, sampleId) {
    const fig = el("figure", "thumb");
    fig.dataset.sampleId = sampleId;
    const img = el("img");
    img.src = api + "/samples/" + sampleId + "/thumb";
    img.alt = "";
    const del = el("button", "del", "×");
    del.type = "button";
    fig.append(img, del);
    const thumbs = card.querySelector(".thumbs");
    thumbs.appendChild(fig);
    while (thumbs.children.length > 40) thumbs.removeChild(thumbs.firstChild);
  }

  function setCount(card, n) { card.querySelector(".count").textContent = n; markOutdated(); }

  function markOutdated() {
    const o = document.getElementById("outdated");
    if (o && state.model) o.hidden = false;
  }

  /* A sample the kit refused (no hand or body in the picture, no sound in a word clip) is
     said next to the class's Record button; nothing was kept. */
  const REFUSED = ["no_hand", "no_body", "silent"];
  function showRefused(card, err) {
    const box = card.querySelector(".capture-refused");
    if (!box) return;
    box.textContent = err ? err.message : "";
    box.hidden = !err;
    if (err) box.dataset.code = err.code; else delete box.dataset.code;
  }

  /* One hold of the button is one take: its frames are near-copies, so the kit holds a whole
     take out when it measures the model. A refused picture does not stop the hold. */
  async function captureOnce(card, seconds, take) {
    try {
      const r = await Labkit.post(api + "/classes/" + card.dataset.classId + "/capture",
        { seconds, take });
      addThumb(card, r.sample.id);
      setCount(card, r.count);
      showRefused(card, null);
      return true;
    } catch (err) {
      if (REFUSED.includes(err.code)) { showRefused(card, err); return true; }
      showError(err);
      return false;
    }
  }

  /* Hold to record: pictures several times a second, a sensor window each second, a sound
     clip as long as the button was held. */
  document.querySelectorAll(".class-card").forEach((card) => {
    const btn = card.querySelector(".record");
    let holding = false, started = 0, busy = false, take = "";
    const period = kind === "sensor" ? 1000 : 250;
    async function loop() {
      while (holding) {
        if (!busy) {
          busy = true;
          const ok = await captureOnce(card, 1.0, take);
          busy = false;
          if (!ok) { holding = false; break; }
        }
        await new Promise((r) => setTimeout(r, period));
      }
    }
    const down = (ev) => {
      ev.preventDefault();
      clearError();
      holding = true; started = Date.now();
      take = "t" + started.toString(36) + Math.random().toString(36).slice(2, 8);
      btn.classList.add("recording");
      if (kind !== "sound") loop();
    };
    const up = (ev) => {
      if (!holding) return;
      ev.preventDefault();
      holding = false;
      btn.classList.remove("recording");
      if (kind === "sound") captureOnce(card, Math.min(3, Math.max(0.5, (Date.now() - started) / 1000)), take);
    };
    btn.addEventListener("pointerdown", down);
    btn.addEventListener("pointerup", up);
    btn.addEventListener("pointerleave", up);
    btn.addEventListener("keydown", (ev) => { if ((ev.key === " " || ev.key === "Enter") && !holding) down(ev); });
    btn.addEventListener("keyup", (ev) => { if (ev.key === " " || ev.key === "Enter") up(ev); });

    card.querySelector(".upload input").addEventListener("change", async (ev) => {
      clearError();
      const form = new FormData();
      [...ev.target.files].forEach((f) => form.append("files", f));
      try {
        const r = await Labkit.request("POST", api + "/classes/" + card.dataset.classId + "/upload", form);
        r.added.forEach((s) => addThumb(card, s.id));
        setCount(card, r.count);
        showRefused(card, r.errors.length
          ? Object.assign(new Error(r.errors.map((e) => e.file + ": " + e.message).join("; ")),
            { code: r.errors[0].code }) : null);
      } catch (err) {
        if (REFUSED.includes(err.code)) showRefused(card, err); else showError(err);
      }
      ev.target.value = "";
    });

    card.querySelector(".thumbs").addEventListener("click", async (ev) => {
      if (!ev.target.classList.contains("del")) return;
      const fig = ev.target.closest(".thumb");
      try {
        const s = await Labkit.del(api + "/samples/" + fig.dataset.sampleId);
        fig.remove();
        const c = s.classes.find((x) => x.id === card.dataset.classId);
        if (c) setCount(card, c.count);
      } catch (err) { showError(err); }
    });

    card.querySelector(".remove-class").addEventListener("click", async () => {
      if (!window.confirm(T.confirm_remove)) return;
      try { await Labkit.del(api + "/classes/" + card.dataset.classId); window.location.reload(); }
      catch (err) { showError(err); }
    });
  });

  const addForm = document.getElementById("add-class-form");
  if (addForm) addForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearError();
    try {
      await Labkit.post(api + "/classes", { name: document.getElementById("add-class-name").value });
      window.location.reload();
    } catch (err) { showError(err); }
  });

  /* ---------------- training ---------------- */
  const trainBtn = document.getElementById("train-btn");
  const bar = document.getElementById("train-progress");
  const stage = document.getElementById("train-stage");
  const liveBtn = document.getElementById("live-toggle");

  function showProgress(job) {
    if (!job || job.project !== pid) return;
    bar.hidden = false;
    bar.value = job.fraction || 0;
    stage.textContent = (T.stages && T.stages[job.stage]) || job.stage || "";
  }
  Labkit.on("learn.progress", showProgress);
  Labkit.topics.add("learn.progress");

  function showResult(model) {
    if (!model || !model.report) return;
    const report = model.report;
    const box = document.getElementById("train-result");
    box.hidden = false;
    document.getElementById("outdated").hidden = !model.outdated;
    const card = report.card;
    const pct = (x) => Math.round(x * 1000) / 10 + "%";
    const fill = (text, values) => text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));
    const measured = card.accuracy !== null && card.accuracy !== undefined;
    document.getElementById("accuracy").textContent = measured ? pct(card.accuracy) : H.not_measured;
    const total = Object.values(card.sample_counts || {}).reduce((a, b) => a + b, 0);
    document.getElementById("accuracy-n").textContent = measured
      ? fill(H.held_out_n, { n: card.n_test, total }) : "";
    const warnings = document.getElementById("warnings");
    warnings.textContent = "";
    (card.warnings || []).forEach((w) => {
      const names = (w.classes || []).join("、");
      const text = w.code === "guessing" ? fill(H.warn_guessing, { acc: pct(w.accuracy), chance: pct(w.chance) })
        : w.code === "look_alike" ? fill(H.warn_look_alike, { a: w.classes[0], b: w.classes[1], n: w.swapped, of: w.of })
        : w.code === "few_samples" ? fill(H.warn_few_samples, { min: w.min, names })
        : w.code === "not_measured" ? fill(H.warn_not_measured, { names }) : "";
      if (text) { const li = el("li", "warn " + w.code, text); li.dataset.code = w.code; warnings.appendChild(li); }
    });
    const per = document.getElementById("per-class");
    per.textContent = "";
    const ph = el("tr");
    [H.class, H.class_accuracy, H.class_tested, H.class_total].forEach((t) => ph.appendChild(el("th", "", t)));
    per.appendChild(ph);
    Object.entries(card.per_class || {}).forEach(([name, c]) => {
      const tr = el("tr");
      tr.dataset.class = name;
      [name, c.accuracy === null ? H.not_measured : pct(c.accuracy), String(c.n_test), String(c.n_samples)]
        .forEach((t) => tr.appendChild(el("td", "", t)));
      per.appendChild(tr);
    });
    const calibrated = document.getElementById("calibrated-note");
    if (calibrated) calibrated.hidden = !(card.calibration && card.calibration.skill < 1);
    const classes = report.card.classes;
    const table = document.getElementById("confusion");
    table.textContent = "";
    const head = el("tr");
    head.appendChild(el("th", "corner", T.true_class + " \\ " + T.predicted));
    classes.forEach((c) => head.appendChild(el("th", "", c)));
    table.appendChild(head);
    const max = Math.max(1, ...report.confusion.flat());
    report.confusion.forEach((row, i) => {
      const tr = el("tr");
      tr.appendChild(el("th", "", classes[i]));
      row.forEach((n, j) => {
        const td = el("td", i === j ? "diag" : (n ? "off" : ""), String(n));
        td.style.setProperty("--level", n / max);
        tr.appendChild(td);
      });
      table.appendChild(tr);
    });
    const mis = document.getElementById("misclassified");
    mis.textContent = "";
    if (!report.misclassified.length) mis.appendChild(el("p", "hint", T.no_mistakes));
    report.misclassified.forEach((m) => {
      const fig = el("figure", "thumb mistake");
      const img = el("img");
      img.src = api + "/samples/" + m.sample + "/thumb";
      img.alt = m.true + " → " + m.predicted;
      fig.append(img, el("figcaption", "", m.true + " → " + m.predicted));
      mis.appendChild(fig);
    });
    const skipped = document.getElementById("skipped");
    skipped.textContent = report.skipped && report.skipped.length
      ? T.skipped + " " + report.skipped.map((s) => s.class + " (" + s.reason + ")").join(", ") : "";
    liveBtn.disabled = false;
  }

  async function pollTraining() {
    for (;;) {
      await new Promise((r) => setTimeout(r, 300));
      let r;
      try { r = await Labkit.get(api + "/train"); } catch (err) { showError(err); break; }
      if (r.job) showProgress(r.job);
      if (!r.job || r.job.state === "done") { state.model = r.model; showResult(r.model); break; }
      if (r.job.state === "error") { showError(new Error(r.job.message)); break; }
    }
    trainBtn.disabled = false;
  }

  trainBtn.addEventListener("click", async () => {
    clearError();
    trainBtn.disabled = true;
    try {
      const job = await Labkit.post(api + "/train", { classifier: document.getElementById("classifier").value });
      showProgress(job);
      pollTraining();
    } catch (err) { showError(err); trainBtn.disabled = false; }
  });
  if (state.model) showResult(state.model);
  if (state.job && state.job.state === "running") { trainBtn.disabled = true; pollTraining(); }

  /* ---------------- live ---------------- */
  let live = false;
  function showPrediction(r) {
    document.getElementById("live-label").textContent = r.label || T.nothing;
    document.querySelectorAll("#live-bars .bar").forEach((b) => {
      const p = (r.probabilities || {})[b.dataset.class] || 0;
      b.querySelector(".bar-fill").style.width = Math.round(p * 100) + "%";
      b.querySelector(".bar-value").textContent = Math.round(p * 100) + "%";
      b.classList.toggle("top", b.dataset.class === r.label);
    });
  }
  async function liveLoop() {
    while (live) {
      try { showPrediction(await Labkit.get(api + "/predict")); }
      catch (err) { showError(err); live = false; liveBtn.textContent = T.start; break; }
      await new Promise((r) => setTimeout(r, kind === "sound" ? 600 : 300));
    }
  }
  liveBtn.addEventListener("click", () => {
    clearError();
    live = !live;
    liveBtn.textContent = live ? T.stop : T.start;
    liveBtn.classList.toggle("recording", live);
    if (live) liveLoop();
  });

  document.querySelectorAll(".action-select").forEach((sel) => sel.addEventListener("change", async () => {
    clearError();
    try { await Labkit.post(api + "/actions/" + sel.dataset.classId, JSON.parse(sel.value)); }
    catch (err) { showError(err); }
  }));

  /* ---------------- keep and share ---------------- */
  const exportForm = document.getElementById("export-form");
  const exportSamples = document.getElementById("export-samples");
  const exportBar = document.getElementById("export-progress");
  exportSamples.addEventListener("change", () => {
    document.getElementById("export-samples-warning").hidden = !exportSamples.checked;
  });
  function exportProgress(job) {
    if (!job || job.project !== pid) return;
    exportBar.hidden = false;
    exportBar.value = job.fraction || 0;
  }
  Labkit.on("learn.export", exportProgress);
  Labkit.topics.add("learn.export");
  exportForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearError();
    const btn = document.getElementById("export-btn");
    const status = document.getElementById("export-status");
    btn.disabled = true;
    status.textContent = "";
    try {
      let job = await Labkit.post(api + "/export", {
        samples: exportSamples.checked,
        passphrase: document.getElementById("export-passphrase").value });
      exportProgress(job);
      while (job.state === "running") {
        await new Promise((r) => setTimeout(r, 200));
        job = (await Labkit.get(api + "/export/status")).job || { state: "error" };
        exportProgress(job);
      }
      if (job.state !== "done") throw Object.assign(new Error(job.message || ""), { code: job.code });
      const a = el("a");
      a.href = api + "/export/download?token=" + encodeURIComponent(job.token);
      a.download = job.filename;
      a.id = "export-file";
      document.body.appendChild(a);
      a.click();
      a.remove();
      status.textContent = T.exported.replace("{name}", job.filename)
        .replace("{kb}", Math.round(job.bytes / 1024)).replace("{s}", job.seconds);
      status.dataset.filename = job.filename;
    } catch (err) { showError(err); }
    btn.disabled = false;
  });

  document.getElementById("portfolio-btn").addEventListener("click", async () => {
    clearError();
    try {
      await Labkit.post(api + "/portfolio", {});
      document.getElementById("export-status").textContent = T.saved;
    } catch (err) { showError(err); }
  });
})();
