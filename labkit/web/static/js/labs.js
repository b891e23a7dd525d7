/* The lab page: start/stop the lab (or a teacher's demo), turn steps green from live `lab.*`
   events, then the reflection and self-assessment. Signal labels and overlays come from the
   lab's declaration (lab-config); all other text from the page (labs-i18n). */
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
  const demoBtn = $("lab-demo"), demoStopBtn = $("lab-demo-stop"), fastBtn = $("lab-demo-fast");
  let runId = null;
  let token = null;   // names this page's run in every lab.* event (a demo has no run id)
  let demo = false;
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
    if (startBtn) startBtn.hidden = true;
    busyEl.hidden = true;
    if (demo) {
      if (demoBtn) demoBtn.hidden = true;
      if (fastBtn) fastBtn.hidden = true;
      if (demoStopBtn) demoStopBtn.hidden = false;
      setStatus(T.demo_running);
      return;
    }
    photoBtn.hidden = false;
    doneBtn.hidden = false;
    setStatus(complete ? T.complete : T.running);
  }

  function showFinish() {
    if (demo) return;   // a preview: nothing to reflect on or save
    finishEl.hidden = false;
    finishEl.scrollIntoView({ behavior: "smooth", block: "start" });
  }

  function apply(snapshot) {
    if (!snapshot) return;
    runId = snapshot.run_id;
    if (runId !== null && runId !== undefined) finishEl.dataset.run = String(runId);
    token = snapshot.token || null;
    demo = !!snapshot.demo;
    (snapshot.steps || []).forEach((s) => {
      const r = (snapshot.checks || {})[s.check] || {};
      markStep(s.step, s.passed, r.count, r.target);
    });
    complete = complete || !!snapshot.complete;
    // what the signals read now (a change announced before this page knew its run is in it)
    Object.entries(snapshot.signals || {}).forEach(([name, value]) => showSignal({ name, value }));
    showRunning();
    if (complete) showFinish();
    const early = pending.splice(0);  // events that arrived before we knew our run id
    early.forEach(([fn, data]) => { if (mine(data)) fn(data); });
  }

  // the kit is busy: say who holds it; taking over only after the user confirmed
  let retry = null;
  function showBusy(err, again) {
    $("lab-busy-text").textContent = err.message || "";
    busyEl.hidden = false;
    retry = again;
  }

  async function start(takeover, path, fast) {
    $("page-error").hidden = true;
    if (window.LabkitPrimary) LabkitPrimary.clearErrors(document.querySelector(".lab-controls"));
    setStatus(T.starting);
    const button = path === "demo" ? (fast ? fastBtn : demoBtn) : startBtn;
    if (button) button.disabled = true;
    try {
      apply(await Labkit.post("/api/labs/" + encodeURIComponent(cfg.lesson) + "/" + path,
                              path === "demo" ? { takeover: takeover === true, fast: fast === true }
                                              : { takeover: takeover === true }));
    } catch (err) {
      if (err.code === "busy") showBusy(err, () => start(true, path, fast));
      else if (err.code === "need_student") window.location.href = "/student?next=" + encodeURIComponent(location.pathname);
      else if (button && window.LabkitPrimary) LabkitPrimary.fieldError(button, err.message);
      else Labkit.showError(err);
      setStatus("");
    } finally {
      if (button) button.disabled = false;
    }
  }

  if (startBtn) startBtn.addEventListener("click", () => start(false, "start"));
  if (demoBtn) demoBtn.addEventListener("click", () => start(false, "demo"));
  if (fastBtn) fastBtn.addEventListener("click", () => start(false, "demo", true));
  if (demoStopBtn) demoStopBtn.addEventListener("click", async () => {
    try { await Labkit.post("/api/labs/" + encodeURIComponent(cfg.lesson) + "/demo/stop", {}); }
    catch (err) { Labkit.showError(err); }
  });
  // the start buttons come disabled from the server: a click before this script listened
  // would be lost, with nothing to tell the child why the lab did not start
  document.querySelectorAll("[data-until-script]").forEach((b) => { b.disabled = false; });
  $("lab-takeover").addEventListener("click", () => {
    if (!window.confirm(T.confirm_takeover)) return;
    (retry || (() => start(true, startBtn ? "start" : "demo")))();
  });
  doneBtn.addEventListener("click", showFinish);
  photoBtn.addEventListener("click", async () => {
    if (runId === null) return;
    try {
      await Labkit.post("/api/labs/runs/" + runId + "/snapshot", {});
      setStatus(T.saved_photo);
    } catch (err) { Labkit.showError(err); }
  });

  // errors appear next to what caused them (LabkitPrimary.fieldError), not only in a banner
  const P = window.LabkitPrimary;
  $("lab-save").addEventListener("click", async () => {
    if (runId === null) return;
    P.clearErrors(finishEl);
    const reply = P.reflection();
    let first = null;
    if (!reply.face && !reply.answer && !reply.drawing && !reply.voice) first = P.fieldError($("reflection"), T.need_answer);
    const levels = {};
    document.querySelectorAll(".self-criterion").forEach((fs) => {
      const chosen = fs.querySelector("input:checked");
      if (chosen) levels[fs.dataset.criterion] = Number(chosen.value);
      else {
        const box = P.fieldError(fs, T.need_levels);
        first = first || box;
      }
    });
    if (first) { first.scrollIntoView({ behavior: "smooth", block: "center" }); return; }
    try {
      const res = await Labkit.post("/api/labs/runs/" + runId + "/finish", { ...reply, self: levels });
      window.location.href = res.portfolio;
    } catch (err) { P.fieldError($("lab-save"), err.message); }
  });

  // live progress; events that come before the start answer are kept and replayed
  const pending = [];
  const mine = (data) => token !== null && data.token === token;
  const onLab = (topic, fn) => Labkit.on(topic, (d) => {
    if (token === null) { if (pending.length < 200) pending.push([fn, d]); return; }
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
      if (startBtn) startBtn.hidden = false;
      photoBtn.hidden = true; doneBtn.hidden = true;
      if (demoBtn) demoBtn.hidden = false;
      if (fastBtn) fastBtn.hidden = false;
      if (demoStopBtn) demoStopBtn.hidden = true;
      token = null; demo = false;
    }
  });
  onLab("lab.demo", (d) => { if (d.status === "done") setStatus(T.demo_done); });
  onLab("lab.signal", (d) => showSignal(d));
  function showSignal(d) {
    let li = document.getElementById("signal-" + d.name);
    if (!li) {
      li = document.createElement("li");
      li.id = "signal-" + d.name;
      li.className = "signal";
      signalsEl.appendChild(li);
    }
    const label = (cfg.labels || {})[d.name] || d.name;
    const on = d.value === true || (typeof d.value === "number" && d.value > 0);
    li.classList.toggle("is-on", on);
    li.textContent = label + ": " + (typeof d.value === "boolean" ? (d.value ? T.yes : T.no) : d.value);
  }
  onLab("lab.error", (d) => Labkit.showError({ message: d.message }));
  // what the lab's detectors find, over the live view, while our lab runs: the shared
  // overlay module draws every kind the lab declares
  const overlay = document.getElementById("camera-overlay");
  window.labOverlayEvents = {};
  (cfg.overlay_topics || []).forEach((topic) => {
    Labkit.on(topic, () => { window.labOverlayEvents[topic] = (window.labOverlayEvents[topic] || 0) + 1; });
    Labkit.topics.add(topic);
  });
  if (overlay && window.LabkitOverlay) {
    LabkitOverlay.attach(overlay, document.getElementById("camera-view"), cfg.overlays || [],
                         Labkit, { active: () => token !== null });
  }
  Labkit.topics.add("lab");

  if (cfg.active) apply(cfg.active);
})();
