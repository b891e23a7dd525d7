/* Vision task pages: keep the task's detector running, draw its results over the live MJPEG
   view through the shared overlay module (LabkitOverlay, overlay.js) and fill the task's side
   panel. Results arrive as `vision.<task>` server-sent events; every label comes translated
   from the page (Labkit.strings), so this file holds no user-visible text. */
(function () {
  "use strict";
  const root = document.getElementById("vision-task");
  if (!root) return;
  const task = root.dataset.task;
  const topic = root.dataset.topic;
  const S = Labkit.strings("vision-strings");
  const canvas = document.getElementById("camera-overlay");
  const summary = document.getElementById("vision-summary");
  const speed = document.getElementById("vision-speed");
  const fill = (tpl, values) => String(tpl || "").replace(/\{(\w+)\}/g, (_, k) =>
    (values[k] !== undefined ? values[k] : ""));
  const byId = (id) => document.getElementById(id);
  const pct = (v) => `${Math.round(v * 100)}%`;
  const overlay = LabkitOverlay.attach(canvas, byId("camera-view"), [task], Labkit, {
    labels: S,
    privacy: () => { const box = byId("seg-privacy"); return !!(box && box.checked); },
  });

  /* ---- one panel per task: fill the side panel, return how many things were found ---- */
  let facesBefore = 0, appeared = 0;
  const panels = {
    face(r) {
      if (r.faces.length && !facesBefore) appeared += 1;
      facesBefore = r.faces.length;
      byId("face-count").textContent = r.faces.length;
      byId("face-appeared").textContent = appeared;
      return r.faces.length;
    },
    hands(r) {
      const best = r.hands[0];
      byId("hand-gesture").textContent = best ? (S.gestures[best.gesture] || S.gestures[""]) : "—";
      byId("hand-fingers").textContent = best ? best.fingers : 0;
      byId("hand-rps").textContent = best && best.rps ? S.rps[best.rps] : "—";
      return r.hands.length;
    },
    pose(r) {
      const angles = r.poses.length ? r.poses[0].angles : {};
      document.querySelectorAll("#pose-angles td[data-joint]").forEach((td) => {
        const a = angles[td.dataset.joint];
        td.textContent = a === null || a === undefined ? "—" : `${Math.round(a)}°`;
      });
      if (r.reps) {
        byId("reps-count").textContent = r.reps.count;
        byId("reps-state").textContent = S.reps_state[r.reps.state] || "";
        const sel = byId("exercise");
        if (document.activeElement !== sel) sel.value = r.reps.exercise;
      }
      return r.poses.length;
    },
    segmentation(r) {
      byId("seg-coverage").textContent = fill(S.coverage, { pct: pct(r.coverage) });
      return r.coverage >= 0.02 ? 1 : 0;
    },
    emotion(r) {
      const best = r.faces[0];
      document.querySelectorAll("#emotion-bars meter").forEach((m) => {
        m.value = best ? best.scores[m.dataset.emotion] || 0 : 0;
      });
      return r.faces.length;
    },
    ocr(r) {
      const list = byId("ocr-lines");
      list.textContent = "";
      r.lines.forEach((ln) => {
        const li = document.createElement("li");
        li.textContent = ln.text;
        list.appendChild(li);
      });
      return r.lines.length;
    },
    colour(r) {
      const b = r.blobs[0];
      byId("colour-x").textContent = b ? (2 * b.cx / r.width - 1).toFixed(2) : "—";
      byId("colour-y").textContent = b ? (2 * b.cy / r.height - 1).toFixed(2) : "—";
      return r.blobs.length;
    },
    shapes(r) {
      const list = byId("shape-list");
      list.textContent = "";
      r.shapes.forEach((s) => {
        const li = document.createElement("li");
        li.textContent = `${S.colours[s.colour] || ""} ${S.shapes[s.label] || S.shapes[""]}`;
        list.appendChild(li);
      });
      return r.shapes.filter((s) => s.label).length;
    },
  };

  function show(result) {
    const n = panels[task](result);
    summary.textContent = n ? fill(S.count, { n }) : S.none;
    speed.textContent = fill(S.ms, { ms: result.ms });
  }

  /* ---- keep the detector alive while this page is open ---- */
  async function keepAlive() {
    try {
      const state = await Labkit.post(`/api/vision/${task}/watch`);
      byId("page-error").hidden = true;
      if (state.result && !canvas.dataset.drawn) { overlay.update(task, state.result); show(state.result); }
    } catch (err) {
      Labkit.showError({ message: `${S.failed} ${err.message}` });
    }
  }
  Labkit.on(topic, (result) => { canvas.dataset.drawn = "1"; show(result); });
  keepAlive();
  setInterval(keepAlive, 5000);
  if (task === "segmentation") byId("seg-privacy").addEventListener("change", () => overlay.repaint());

  /* ---- task controls ---- */
  const settings = (body) => Labkit.post(`/api/vision/${task}/settings`, body)
    .catch((err) => Labkit.showError(err));
  if (task === "colour") byId("colour-pick").addEventListener("change", (e) => settings({ colour: e.target.value }));
  if (task === "pose") {
    byId("exercise").addEventListener("change", (e) => settings({ exercise: e.target.value }));
    byId("reps-reset").addEventListener("click", () => settings({ reset: true }));
  }
  if (task === "shapes") {
    /* the 'how computers see' stages: fresh pictures twice a second, one request at a time */
    const imgs = [...document.querySelectorAll("#shape-pipeline img[data-stage]")];
    let i = 0;
    const next = () => {
      const img = imgs[i++ % imgs.length];
      img.onload = img.onerror = () => setTimeout(next, 120);
      img.src = `/vision/shapes/stage/${img.dataset.stage}.jpg?t=${Date.now()}`;
    };
    setTimeout(next, 500);
  }
})();
