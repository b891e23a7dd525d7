/* Page parts a lab asks for (labkit/projects/parts.py): a sorter's confusion matrices and
   sliders that change the running lab's detector or picture. Strings come from the page
   (#labparts-i18n), never from this file. */
(function () {
  "use strict";
  const T = Labkit.strings("labparts-i18n");
  const cfg = Labkit.strings("lab-config");
  let runId = cfg.active && cfg.active.run_id ? cfg.active.run_id : null;
  const pct = (v) => (v === null || v === undefined) ? T.not_measured : Math.round(v * 100) + "%";
  const binName = (c) => (T.bins && T.bins[c]) || c;

  // ---- confusion matrices ------------------------------------------------------------------
  function fillTest(box, report) {
    box.hidden = false;
    box.querySelector("[data-accuracy]").textContent =
      T.accuracy.replace("{accuracy}", pct(report.accuracy)).replace("{n}", report.n_test)
        .replace("{chance}", pct(report.chance));
    const warn = box.querySelector("[data-warning]");
    const guessing = (report.warnings || []).some((w) => w.code === "guessing");
    warn.hidden = !guessing;
    warn.textContent = guessing ? T.guessing : "";
    const head = box.querySelector("thead tr");
    while (head.children.length > 1) head.removeChild(head.lastChild);
    report.classes.forEach((c) => {
      const th = document.createElement("th");
      th.scope = "col"; th.textContent = binName(c); head.appendChild(th);
    });
    const body = box.querySelector("tbody");
    body.textContent = "";
    report.confusion.forEach((row, i) => {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.scope = "row"; th.textContent = binName(report.classes[i]); tr.appendChild(th);
      row.forEach((n, j) => {
        const td = document.createElement("td");
        td.textContent = n;
        td.className = i === j ? "hit" : (n > 0 ? "miss" : "");
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    const perClass = box.querySelector("[data-per-class]");
    if (perClass) {
      const rows = Object.keys(report.per_class || {}).map((c) =>
        T.class_accuracy.replace("{name}", binName(c))
          .replace("{accuracy}", pct(report.per_class[c].accuracy)));
      perClass.hidden = !rows.length;
      perClass.textContent = rows.length ? T.per_class.replace("{list}", rows.join(", ")) : "";
    }
    const list = box.querySelector("[data-mistakes]");
    list.textContent = "";
    const mistakes = report.mistakes || [];
    mistakes.slice(0, 8).forEach((m) => {
      const li = document.createElement("li");
      // a sorter's mistake names the drawn item; a student's sample is "a sample of" its class
      li.textContent = (m.item ? T.mistake.replace("{item}", (T.items && T.items[m.item]) || m.item)
        : T.mistake_sample).replace("{truth}", binName(m.true)).replace("{answer}", binName(m.predicted));
      list.appendChild(li);
    });
    if (!mistakes.length || mistakes.length > 8) {
      const li = document.createElement("li");
      li.textContent = mistakes.length ? T.more_mistakes.replace("{n}", mistakes.length - 8)
        : T.no_mistakes;
      list.appendChild(li);
    }
  }
  document.querySelectorAll('[data-part="confusion"]').forEach((part) => {
    const topic = part.dataset.topic;
    if (!topic) return;
    let shown = null;
    Labkit.topics.add(topic);
    Labkit.on(topic, (d) => {
      if (!d.report) return;
      const key = JSON.stringify([d.report.accuracy, d.report.confusion]);
      if (key === shown) return;
      shown = key;
      part.querySelector("[data-empty]").hidden = true;
      const source = part.querySelector("[data-source]");
      if (source) {   // a teachable detector: the student's own model, or the built-in demo
        const mine = d.report.source === "project" && d.report.project;
        source.hidden = !mine;
        source.textContent = mine ? T.own_model.replace("{name}", d.report.project.name) : "";
        const title = part.querySelector('[data-test="seen"] h3');
        title.dataset.sorter = title.dataset.sorter || title.textContent;
        title.textContent = mine ? T.own_test : title.dataset.sorter;
      }
      fillTest(part.querySelector('[data-test="seen"]'), d.report);
      const unseen = part.querySelector('[data-test="unseen"]');
      if (d.report.unseen) fillTest(unseen, d.report.unseen);
      else unseen.hidden = true;
    });
  });

  // ---- sliders -----------------------------------------------------------------------------
  const sliderParts = document.querySelectorAll('[data-part="sliders"]');
  function show(values) {
    sliderParts.forEach((part) => {
      const mine = (values || {})[part.dataset.detector] || {};
      part.querySelectorAll("input[data-slider]").forEach((input) => {
        if (mine[input.dataset.slider] === undefined) return;
        input.value = mine[input.dataset.slider];
        input.parentElement.querySelector("[data-value]").textContent = input.value;
      });
    });
  }
  async function enable(on) {
    sliderParts.forEach((part) => {
      part.querySelector("[data-empty]").hidden = on;
      part.querySelectorAll("input[data-slider]").forEach((input) => { input.disabled = !on; });
      part.dataset.ready = on ? "yes" : "no";
    });
    if (!on || !sliderParts.length) return;
    try {
      show((await Labkit.get("/api/labs/runs/" + runId + "/settings")).settings);
    } catch (err) { Labkit.showError(err); }
  }
  sliderParts.forEach((part) => {
    part.querySelectorAll("input[data-slider]").forEach((input) => {
      const out = input.parentElement.querySelector("[data-value]");
      input.addEventListener("input", () => { out.textContent = input.value; });
      input.addEventListener("change", async () => {
        if (runId === null) return;
        try {
          const res = await Labkit.post("/api/labs/runs/" + runId + "/settings", {
            detector: part.dataset.detector, setting: input.dataset.slider,
            value: Number(input.value) });
          if (res && res.settings) show(res.settings);
          part.dataset.applied = String((Number(part.dataset.applied) || 0) + 1);
        } catch (err) { Labkit.showError(err); }
      });
    });
  });
  Labkit.on("lab.state", (d) => {
    if (d.lesson !== cfg.lesson) return;
    if (d.status === "running" && d.run_id) { runId = d.run_id; enable(true); }
    else if (d.status === "stopped" || d.status === "finished") { runId = null; enable(false); }
  });
  Labkit.topics.add("lab");
  enable(runId !== null);
})();
