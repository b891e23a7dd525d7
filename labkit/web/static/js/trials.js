/* The trials part (templates/parts/_trials.html): a press opens a trial on the kit, the kit
   closes it with the next utterance its recogniser decides and sends the figures it computed
   from the logged trials (`lab.trials` events). This file only shows them. */
(function () {
  "use strict";
  const part = document.getElementById("part-trials");
  if (!part) return;
  const T = Labkit.strings("trials-i18n");
  const cfg = Labkit.strings("lab-config");
  const open = document.getElementById("trials-open");
  const last = document.getElementById("trials-last");
  let runId = cfg.active && cfg.active.run_id ? cfg.active.run_id : null;

  function show(state) {
    const f = state.figures;
    ["command", "other"].forEach((kind) => {
      const row = document.getElementById("trials-" + kind);
      const mine = f[kind];
      row.querySelector("[data-n]").textContent = mine.trials;
      row.querySelector("[data-fired]").textContent = mine.fired;
      const rate = row.querySelector("[data-rate]");
      rate.textContent = mine.rate === null
        ? T.few.replace("{n}", mine.trials).replace("{min}", f.min)
        : Math.round(mine.rate * 100) + "%";
      rate.classList.toggle("trials-few", mine.rate === null);
    });
    open.textContent = state.open ? T.listening : "";
    const by = document.getElementById("trials-by");
    by.textContent = "";
    const names = Object.keys(f.by || {});
    if (names.length > 1) {          // two recognisers listened: each one's own figures
      names.forEach((name) => {
        const mine = f.by[name];
        const li = document.createElement("li");
        li.dataset.recogniser = name;
        li.textContent = T.by.replace("{who}", (T.kinds || {})[(T.recognisers || {})[name]] || name)
          .replace("{hit}", mine.command.fired).replace("{n}", mine.command.trials)
          .replace("{false}", mine.other.fired).replace("{m}", mine.other.trials);
        by.appendChild(li);
      });
    }
    last.textContent = "";
    (state.last || []).slice().reverse().forEach((t) => {
      const li = document.createElement("li");
      li.textContent = T[t.kind] + " → " + (t.fired ? T.fired.replace("{word}", t.heard || "")
        : (t.spoke ? T.silent : T.nothing));
      last.appendChild(li);
    });
    part.dataset.trials = String(f.command.trials + f.other.trials);
  }
  function enable(on) {
    part.querySelector("[data-empty]").hidden = on;
    part.querySelectorAll("button[data-kind]").forEach((b) => { b.disabled = !on; });
  }
  async function load() {
    if (runId === null) return;
    try { show(await Labkit.get("/api/labs/runs/" + runId + "/parts/trials")); }
    catch (err) { Labkit.showError(err); }
  }
  part.querySelectorAll("button[data-kind]").forEach((b) => b.addEventListener("click", async () => {
    if (runId === null) return;
    try { show(await Labkit.post("/api/labs/runs/" + runId + "/parts/trials", {kind: b.dataset.kind})); }
    catch (err) { Labkit.showError(err); }
  }));
  Labkit.on("lab.trials", show);
  Labkit.on("lab.state", (d) => {
    if (d.lesson !== cfg.lesson) return;
    if (d.status === "running" && d.run_id) { runId = d.run_id; enable(true); load(); }
    else if (d.status === "stopped" || d.status === "finished") { runId = null; enable(false); }
  });
  Labkit.topics.add("lab.trials");
  Labkit.topics.add("lab.state");
  enable(runId !== null);
  load();
})();
