/* The lab page: start/stop the lab, turn steps green from live `lab.*` events, then the
   reflection and self-assessment. All user-visible text comes from the page (labs-i18n). */
(function () {
  "use strict";
  const cfgEl = document.getElementById("lab-config");
  if (!cfgEl) return;
  const cfg = JSON.parse(cfgEl.textContent);
  const T = Labkit.strings("labs-i18n");
  const $ = (id) => document.getElementById(id);
  const startBtn = $("lab-start"), photoBtn = $("lab-photo"), doneBtn = $("lab-done");
  const statusEl = $("lab-status"), busyEl = $("lab-busy"), finishEl = $("lab-finish");
  const signalsEl = $("lab-signals");
  let runId = null;
  let complete = false;
  const passed = new Set();

  const fmtOf = (count, target) => T.of.replace("{count}", count).replace("{target}", target);

  function setStatus(text) { statusEl.textContent = text || ""; }

  function markStep(stepId, isPassed, count, target) {
    const li = $("step-" + stepId);
    if (!li) return;
    if (isPassed) passed.add(stepId);
    const done = passed.has(stepId);
    li.classList.toggle("passed", done);
    li.dataset.passed = done ? "true" : "false";
    $("state-" + stepId).textContent = done ? T.passed : T.not_yet;
    if (target !== undefined && target > 1) {
      $("progress-" + stepId).textContent = fmtOf(done ? target : count, target);
    }
    if (!complete && cfg.steps.length && cfg.steps.every(([step]) => passed.has(step))) {
      complete = true;
      setStatus(T.complete);
      showFinish();
    }
  }

  function showRunning() {
    startBtn.hidden = true;
    photoBtn.hidden = false;
    doneBtn.hidden = false;
    busyEl.hidden = true;
    setStatus(complete ? T.complete : T.running);
  }

  function showFinish() {
    finishEl.hidden = false;
    finishEl.scrollIntoView({ behavior: "smooth", block: "start" });
  }

  function apply(snapshot) {
    if (!snapshot) return;
    runId = snapshot.run_id;
    (snapshot.steps || []).forEach((s) => {
      const r = (snapshot.checks || {})[s.check] || {};
      markStep(s.step, s.passed, r.count, r.target);
    });
    complete = complete || !!snapshot.complete;
    showRunning();
    if (complete) showFinish();
    const early = pending.splice(0);  // events that arrived before we knew our run id
    early.forEach(([fn, data]) => { if (mine(data)) fn(data); });
  }

  async function start(takeover) {
    $("page-error").hidden = true;
    setStatus(T.starting);
    startBtn.disabled = true;
    try {
      apply(await Labkit.post("/api/labs/" + encodeURIComponent(cfg.lesson) + "/start",
                              { takeover: !!takeover }));
    } catch (err) {
      if (err.code === "busy") busyEl.hidden = false;
      else if (err.code === "need_student") window.location.href = "/student?next=" + encodeURIComponent(location.pathname);
      else Labkit.showError(err);
      setStatus("");
    } finally {
      startBtn.disabled = false;
    }
  }

  startBtn.addEventListener("click", () => start(false));
  $("lab-takeover").addEventListener("click", () => start(true));
  doneBtn.addEventListener("click", showFinish);
  photoBtn.addEventListener("click", async () => {
    if (runId === null) return;
    try {
      await Labkit.post("/api/labs/runs/" + runId + "/snapshot", {});
      setStatus(T.saved_photo);
    } catch (err) { Labkit.showError(err); }
  });

  $("lab-save").addEventListener("click", async () => {
    if (runId === null) return;
    const answer = $("reflection-answer").value.trim();
    if (!answer) { Labkit.showError({ message: T.need_answer }); return; }
    const levels = {};
    let missing = false;
    document.querySelectorAll(".self-criterion").forEach((fs) => {
      const chosen = fs.querySelector("input:checked");
      if (chosen) levels[fs.dataset.criterion] = Number(chosen.value);
      else missing = true;
    });
    if (missing) { Labkit.showError({ message: T.need_levels }); return; }
    try {
      const res = await Labkit.post("/api/labs/runs/" + runId + "/finish", { answer, self: levels });
      window.location.href = res.portfolio;
    } catch (err) { Labkit.showError(err); }
  });

  // live progress; events that come before the start answer are kept and replayed
  const pending = [];
  const mine = (data) => runId !== null && data.run_id === runId;
  const onLab = (topic, fn) => Labkit.on(topic, (d) => {
    if (runId === null) { if (pending.length < 200) pending.push([fn, d]); return; }
    if (mine(d)) fn(d);
  });
  onLab("lab.check", (d) => {
    (d.steps || []).forEach((step) => markStep(step, d.passed, d.count, d.target));
  });
  onLab("lab.step", (d) => markStep(d.step, true));
  onLab("lab.state", (d) => {
    if (d.status === "complete") { complete = true; setStatus(T.complete); showFinish(); }
    else if (d.status === "stopped") {
      setStatus(T.stopped);
      startBtn.hidden = false; photoBtn.hidden = true; doneBtn.hidden = true;
    }
  });
  onLab("lab.signal", (d) => {
    let li = document.getElementById("signal-" + d.name);
    if (!li) {
      li = document.createElement("li");
      li.id = "signal-" + d.name;
      li.className = "signal";
      signalsEl.appendChild(li);
    }
    const label = T[d.name] || d.name;
    const on = d.value === true || (typeof d.value === "number" && d.value > 0);
    li.classList.toggle("is-on", on);
    li.textContent = label + ": " + (typeof d.value === "boolean" ? (d.value ? T.yes : T.no) : d.value);
  });
  onLab("lab.error", (d) => Labkit.showError({ message: d.message }));
  // detector results over the live view (shared overlay module), while our lab runs
  const overlay = document.getElementById("camera-overlay");
  if (overlay) LabkitOverlay.attach(overlay, document.getElementById("camera-view"), ["faces"],
                                    Labkit, { active: () => runId !== null });
  Labkit.topics.add("lab");

  if (cfg.active) apply(cfg.active);
})();
