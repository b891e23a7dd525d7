/* The sound page: live meter, waveform + spectrogram with speech regions, claps, commands,
   teaching command words, WAV tests. Strings come from the page (audio-i18n). */
(function () {
  "use strict";
  const T = Labkit.strings("audio-i18n");
  const H = Labkit.strings("honest-i18n");
  const S = Labkit.strings("audio-state");
  const $ = (id) => document.getElementById(id);
  const err = (e) => Labkit.showError(e);

  /* ---- sound level ---- */
  function showLevel(lv) {
    if (!lv) return;
    $("level-db").textContent = lv.db.toFixed(0);
    $("level-dbfs").textContent = lv.dbfs.toFixed(1);
    $("level-fill").style.width = (lv.value * 100).toFixed(1) + "%";
    $("level-loud").textContent = lv.loud ? T.loud : T.quiet;
    $("level-loud").className = lv.loud ? "state-on" : "";
    $("level-clipping").hidden = !lv.clipping;
    const pos = Math.max(0, Math.min(1, (lv.threshold_db - 30) / 70));
    $("level-threshold").style.left = (pos * 100).toFixed(1) + "%";
  }

  /* ---- waveform and spectrogram: scrolling canvases ---- */
  const wave = $("wave"), spec = $("spectrogram");
  const wctx = wave.getContext("2d"), sctx = spec.getContext("2d");
  wctx.fillStyle = "#111"; wctx.fillRect(0, 0, wave.width, wave.height);
  sctx.fillStyle = "#111"; sctx.fillRect(0, 0, spec.width, spec.height);

  function scroll(ctx, canvas, dx) {
    const img = ctx.getImageData(dx, 0, canvas.width - dx, canvas.height);
    ctx.putImageData(img, 0, 0);
    ctx.fillStyle = "#111";
    ctx.fillRect(canvas.width - dx, 0, dx, canvas.height);
  }

  function drawMeter(m) {
    const n = m.min.length, h = wave.height;
    const dx = Math.max(1, Math.round(n / 5));   // ~10 px per 100 ms
    scroll(wctx, wave, dx);
    const x0 = wave.width - dx;
    if (m.vad && m.vad.speaking) {            // speech regions shaded
      wctx.fillStyle = "rgba(80, 160, 255, 0.35)";
      wctx.fillRect(x0, 0, dx, h);
    }
    wctx.strokeStyle = "#7fdc8a";
    wctx.beginPath();
    for (let i = 0; i < n; i++) {
      const x = x0 + (i / n) * dx;
      wctx.moveTo(x, h / 2 - m.max[i] * h / 2);
      wctx.lineTo(x, h / 2 - m.min[i] * h / 2);
    }
    wctx.stroke();
    const frames = m.mel.length, bands = m.mel[0] ? m.mel[0].length : 40;
    const sdx = Math.max(1, Math.round(frames));
    scroll(sctx, spec, sdx);
    const bh = spec.height / bands;
    for (let f = 0; f < frames; f++) {
      for (let b = 0; b < bands; b++) {
        const v = m.mel[f][b];
        sctx.fillStyle = `rgb(${v},${Math.round(v * 0.6)},${255 - v})`;
        sctx.fillRect(spec.width - sdx + f, spec.height - (b + 1) * bh, 1, Math.ceil(bh));
      }
    }
    if (m.vad && m.vad.speaking) {
      sctx.fillStyle = "rgba(255,255,255,0.8)";
      sctx.fillRect(spec.width - sdx, 0, sdx, 3);
    }
  }

  function showVad(v) {
    if (!v) return;
    $("vad-state").textContent = v.speaking ? T.speech : T.silence;
    $("vad-state").className = v.speaking ? "state-on" : "";
    $("vad-prob").textContent = v.probability.toFixed(2);
  }

  function showClap(c) {
    if (!c) return;
    $("clap-count").textContent = c.count;
    $("clap-doubles").textContent = c.doubles;
    $("clap-toggled").textContent = c.toggled ? T.on : T.off;
  }

  Labkit.on("audio.meter", (m) => {
    showLevel(m.level); drawMeter(m); showVad(m.vad); showClap(m.clap);
  });
  Labkit.on("audio.clap", showClap);

  /* ---- results ---- */
  function addResult(list, text) {
    const li = document.createElement("li");
    li.textContent = text;
    list.insertBefore(li, list.firstChild);
    while (list.children.length > 8) list.removeChild(list.lastChild);
  }

  Labkit.on("audio.command", (ev) => {
    const r = ev.result || {};
    if (ev.source === "kws") {
      $("kws-heard").textContent = r.command || T.rejected;
      addResult($("kws-results"), `${r.command || "(" + r.hypothesis + ")"} · ${T.confidence} ${Number(r.confidence).toFixed(2)}`);
    } else {
      $("word-heard").textContent = r.word || T.rejected;
      addResult($("word-results"), `${r.word || "(" + r.best + ")"} · ${T.confidence} ${Number(r.confidence).toFixed(2)}`);
    }
  });

  /* ---- teachable words ---- */
  const counts = Object.assign({}, (S.commands && S.commands.counts) || {});
  const bindings = Object.assign({}, S.bindings || {});

  function bindSelect(trigger) {
    const sel = document.createElement("select");
    sel.className = "bind-select";
    sel.dataset.trigger = trigger;
    sel.setAttribute("aria-label", T.action);
    (S.actions || ["none"]).forEach((a) => {
      const o = document.createElement("option");
      o.value = a; o.textContent = T.actions[a] || a;
      if ((bindings[trigger] || "none") === a) o.selected = true;
      sel.appendChild(o);
    });
    sel.addEventListener("change", onBind);
    return sel;
  }

  function onBind(ev) {
    const sel = ev.target;
    Labkit.post("/api/audio/bind", { trigger: sel.dataset.trigger, action: sel.value })
      .then((r) => Object.assign(bindings, r.bindings)).catch(err);
  }
  document.querySelectorAll(".bind-select").forEach((s) => s.addEventListener("change", onBind));

  function renderWords() {
    const box = $("word-rows");
    box.textContent = "";
    Object.keys(counts).filter((w) => w !== "_background").forEach((w) => {
      const row = document.createElement("div");
      row.className = "word-row";
      row.dataset.word = w;
      const name = document.createElement("strong"); name.textContent = w;
      const c = document.createElement("span"); c.className = "count"; c.textContent = counts[w];
      const rec = document.createElement("button"); rec.type = "button"; rec.className = "btn record";
      rec.textContent = T.record;
      rec.addEventListener("click", () => record(w, rec));
      const del = document.createElement("button"); del.type = "button"; del.className = "btn";
      del.textContent = T.delete;
      del.addEventListener("click", () => Labkit.post("/api/audio/words/delete", { word: w })
        .then((r) => { replaceCounts(r.counts); }).catch(err));
      row.append(name, c, document.createTextNode(T.examples), rec, del, bindSelect(w));
      box.appendChild(row);
    });
    $("background-count").textContent = counts._background || 0;
  }

  function replaceCounts(c) {
    Object.keys(counts).forEach((k) => delete counts[k]);
    Object.assign(counts, c);
    renderWords();
  }

  function record(word, button, seconds) {
    const label = button.textContent;
    button.disabled = true; button.textContent = T.recording;
    return Labkit.post("/api/audio/words/record", { word, seconds: seconds || 1.5 })
      .then((r) => replaceCounts(r.counts)).catch(err)
      .finally(() => { button.disabled = false; button.textContent = label; });
  }

  $("add-word").addEventListener("click", () => {
    const w = $("new-word").value.trim();
    if (!w) return;
    if (!(w in counts)) counts[w] = 0;
    $("new-word").value = "";
    renderWords();
  });
  $("record-background").addEventListener("click", (ev) => record("_background", ev.target, 3));
  $("example-upload").addEventListener("click", () => {
    const f = $("example-file").files[0];
    if (!f) return err(new Error(T.no_file));
    const fd = new FormData(); fd.append("file", f); fd.append("word", $("example-word").value);
    Labkit.post("/api/audio/words/example", fd).then((r) => replaceCounts(r.counts)).catch(err);
  });
  $("train").addEventListener("click", () => {
    $("train").disabled = true;
    Labkit.post("/api/audio/words/train", { kind: "logistic" }).then((r) => {
      const m = r.metrics;
      const pct = (x) => Math.round(x * 100) + "%";
      const fill = (text, v) => text.replace(/\{(\w+)\}/g, (all, k) => (k in v ? v[k] : all));
      const acc = m.accuracy === null || m.accuracy === undefined ? H.not_measured
        : pct(m.accuracy) + " " + fill(H.held_out_n, { n: m.n_test, total: m.n_examples });
      $("train-result").textContent = T.trained.replace("{acc}", acc).replace("{s}", m.seconds) +
        (m.threshold_calibrated ? " " + fill(H.threshold, { t: pct(m.threshold) }) : "");
      const list = $("words-warnings");
      list.textContent = "";
      (m.warnings || []).forEach((w) => {
        const names = (w.classes || []).map((c) => (c === "_background" ? T.background || c : c)).join("、");
        const text = w.code === "guessing" ? fill(H.warn_guessing, { acc: pct(w.accuracy), chance: pct(w.chance) })
          : w.code === "look_alike" ? fill(H.warn_look_alike, { a: w.classes[0], b: w.classes[1], n: w.swapped, of: w.of })
          : w.code === "few_samples" ? fill(H.warn_few_samples, { min: w.min, names })
          : w.code === "not_measured" ? fill(H.warn_not_measured, { names }) : "";
        if (text) { const li = document.createElement("li"); li.textContent = text; li.dataset.code = w.code; list.appendChild(li); }
      });
    }).catch(err).finally(() => { $("train").disabled = false; });
  });
  $("save").addEventListener("click", () => Labkit.post("/api/audio/words/save", {})
    .then(() => { $("train-result").textContent = T.saved; }).catch(err));

  /* ---- sliders ---- */
  function slider(id, key, show) {
    const el = $(id);
    el.addEventListener("change", () => {
      const body = {}; body[key] = Number(el.value);
      Labkit.post("/api/audio/settings", body).catch(err);
    });
    el.addEventListener("input", () => { $(show).textContent = el.value; });
  }
  slider("level-threshold-slider", "level_threshold_db", "level-threshold-value");
  slider("words-threshold", "words_threshold", "words-threshold-value");
  slider("kws-threshold", "kws_threshold", "kws-threshold-value");

  $("kws-save").addEventListener("click", () => {
    Labkit.post("/api/audio/kws/commands", { commands: $("kws-commands").value })
      .then((r) => { $("kws-commands").value = r.commands.join(", "); }).catch(err);
  });

  /* ---- WAV test ---- */
  $("test-upload").addEventListener("click", () => {
    const f = $("test-file").files[0];
    if (!f) return err(new Error(T.no_file));
    const fd = new FormData(); fd.append("file", f);
    Labkit.post("/api/audio/upload", fd).then((r) => {
      const out = $("test-result");
      out.textContent = "";
      const lines = [`${r.seconds} ${T.seconds} · ${T.level} ${r.dbfs} dBFS · ${T.claps} ${r.claps}`];
      if (r.clipped) lines.push(T.clipped);
      r.speech.forEach((s) => lines.push(`${T.speech_at} ${s.start}–${s.end} ${T.seconds}`));
      r.utterances.forEach((u) => {
        const parts = [`${u.start}–${u.end} ${T.seconds}`];
        if (u.word) parts.push(`${T.word}: ${u.word.heard || "(" + u.word.best + ")"}`);
        if (u.kws) parts.push(`EN: ${u.kws.command || "(" + (u.kws.hypothesis || "-") + ")"}`);
        lines.push(parts.join(" · "));
      });
      if (r.injected) lines.push(T.injected);
      lines.forEach((l) => { const p = document.createElement("p"); p.textContent = l; out.appendChild(p); });
    }).catch(err);
  });

  /* ---- speak ---- */
  $("say").addEventListener("click", () => Labkit.post("/api/audio/say",
    { text: $("say-text").value, lang: $("say-lang").value }).catch(err));

  renderWords();
  showLevel(S.level); showClap(S.clap); showVad(S.vad);
  Labkit.topics.add("audio");
})();
