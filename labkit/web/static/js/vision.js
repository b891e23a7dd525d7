/* Vision task pages: keep the task's detector running, and draw its results over the live
   MJPEG view on a canvas. Results arrive as `vision.<task>` server-sent events; every label
   comes translated from the page (Labkit.strings), so this file holds no user-visible text. */
(function () {
  "use strict";
  const root = document.getElementById("vision-task");
  if (!root) return;
  const task = root.dataset.task;
  const topic = root.dataset.topic;
  const S = Labkit.strings("vision-strings");
  const canvas = document.getElementById("camera-overlay");
  const ctx = canvas.getContext("2d");
  const summary = document.getElementById("vision-summary");
  const speed = document.getElementById("vision-speed");
  const COLOURS = { box: "#28d17c", point: "#ff3b3b", line: "#ffb300", text: "#ffffff",
                    shade: "rgba(0,0,0,0.55)", mask: "rgba(40,209,124,0.35)",
                    privacy: "rgba(30,36,51,0.85)" };
  const fill = (tpl, values) => String(tpl || "").replace(/\{(\w+)\}/g, (_, k) =>
    (values[k] !== undefined ? values[k] : ""));
  const byId = (id) => document.getElementById(id);

  /* ---- drawing helpers (canvas in the frame's own pixels; CSS scales it) ---- */
  function fit(result) {
    const w = result.width || 640, h = result.height || 480;
    if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
    ctx.clearRect(0, 0, w, h);
    ctx.lineWidth = Math.max(2, w / 320);
    ctx.font = `${Math.round(Math.max(14, w / 32))}px "WenQuanYi Micro Hei", "Noto Sans CJK SC", sans-serif`;
  }
  function label(text, x, y, colour) {
    if (!text) return;
    const pad = 4, m = ctx.measureText(text), h = parseInt(ctx.font, 10) + 2 * pad;
    const top = Math.max(0, y - h);
    x = Math.max(0, Math.min(x, canvas.width - m.width - 2 * pad));   // keep it in the picture
    ctx.fillStyle = COLOURS.shade;
    ctx.fillRect(x, top, m.width + 2 * pad, h);
    ctx.fillStyle = colour || COLOURS.text;
    ctx.fillText(text, x + pad, top + h - pad - 2);
  }
  function box(b, colour) {
    ctx.strokeStyle = colour || COLOURS.box;
    ctx.strokeRect(b.x, b.y, b.w, b.h);
  }
  function dot(x, y, r, colour) {
    ctx.fillStyle = colour || COLOURS.point;
    ctx.beginPath(); ctx.arc(x, y, r || 3, 0, 2 * Math.PI); ctx.fill();
  }
  function bones(points, pairs, colour, visible) {
    ctx.strokeStyle = colour || COLOURS.line;
    ctx.beginPath();
    pairs.forEach(([a, b]) => {
      if (visible && !(visible(points[a]) && visible(points[b]))) return;
      ctx.moveTo(points[a][0], points[a][1]); ctx.lineTo(points[b][0], points[b][1]);
    });
    ctx.stroke();
  }
  const pct = (v) => `${Math.round(v * 100)}%`;

  /* ---- one drawer per task: draw the overlay, fill the side panel, return a summary ---- */
  const HAND = [[0,1],[1,2],[2,3],[3,4],[0,5],[5,6],[6,7],[7,8],[5,9],[9,10],[10,11],[11,12],
    [9,13],[13,14],[14,15],[15,16],[13,17],[0,17],[17,18],[18,19],[19,20]];
  const BODY = [[11,12],[11,13],[13,15],[12,14],[14,16],[11,23],[12,24],[23,24],[23,25],[25,27],
    [24,26],[26,28],[27,29],[29,31],[28,30],[30,32],[0,2],[0,5],[2,7],[5,8],[9,10]];
  let facesBefore = 0, appeared = 0;

  const drawers = {
    face(r) {
      r.faces.forEach((f) => {
        box(f.box);
        f.keypoints.forEach(([x, y]) => dot(x, y));
        label(`${S.face} ${pct(f.score)}`, f.box.x, f.box.y);
      });
      if (r.faces.length && !facesBefore) appeared += 1;
      facesBefore = r.faces.length;
      byId("face-count").textContent = r.faces.length;
      byId("face-appeared").textContent = appeared;
      return r.faces.length;
    },
    hands(r) {
      r.hands.forEach((h) => {
        bones(h.landmarks, HAND);
        h.landmarks.forEach(([x, y]) => dot(x, y, 3));
        const side = h.handedness === "Left" ? S.left : S.right;
        label(`${side} · ${S.gestures[h.gesture] || S.gestures[""]}`, h.box.x, h.box.y);
      });
      const best = r.hands[0];
      byId("hand-gesture").textContent = best ? (S.gestures[best.gesture] || S.gestures[""]) : "—";
      byId("hand-fingers").textContent = best ? best.fingers : 0;
      byId("hand-rps").textContent = best && best.rps ? S.rps[best.rps] : "—";
      return r.hands.length;
    },
    pose(r) {
      const seen = (p) => p[3] >= 0.5;
      r.poses.forEach((p) => {
        bones(p.landmarks, BODY, COLOURS.line, seen);
        p.landmarks.forEach((q) => { if (seen(q)) dot(q[0], q[1], 3); });
      });
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
      const rows = r.grid || [], gh = rows.length, gw = gh ? rows[0].length : 0;
      const privacy = byId("seg-privacy").checked;
      const cw = canvas.width / (gw || 1), ch = canvas.height / (gh || 1);
      ctx.fillStyle = privacy ? COLOURS.privacy : COLOURS.mask;
      rows.forEach((row, y) => {
        for (let x = 0; x < row.length; x++) {
          const person = row[x] === "1";
          if (privacy ? !person : person) ctx.fillRect(x * cw, y * ch, cw + 1, ch + 1);
        }
      });
      byId("seg-coverage").textContent = fill(S.coverage, { pct: pct(r.coverage) });
      return r.coverage >= 0.02 ? 1 : 0;
    },
    emotion(r) {
      r.faces.forEach((f) => {
        box(f.box, COLOURS.line);
        label(fill(S.maybe, { label: S.emotions[f.emotion] }), f.box.x, f.box.y);
      });
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
        ctx.strokeStyle = COLOURS.box;
        ctx.beginPath();
        ln.quad.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
        ctx.closePath(); ctx.stroke();
        label(ln.text, ln.box.x, ln.box.y);
        const li = document.createElement("li");
        li.textContent = ln.text;
        list.appendChild(li);
      });
      return r.lines.length;
    },
    colour(r) {
      r.blobs.forEach((b, i) => {
        box(b.box, i ? COLOURS.line : COLOURS.box);
        dot(b.cx, b.cy, 6, "#000");
        dot(b.cx, b.cy, 4, "#fff");
      });
      if (r.blobs.length) label(S.colours[r.colour] || r.colour, r.blobs[0].box.x, r.blobs[0].box.y);
      const b = r.blobs[0];
      byId("colour-x").textContent = b ? (2 * b.cx / r.width - 1).toFixed(2) : "—";
      byId("colour-y").textContent = b ? (2 * b.cy / r.height - 1).toFixed(2) : "—";
      return r.blobs.length;
    },
    shapes(r) {
      const list = byId("shape-list");
      list.textContent = "";
      r.shapes.forEach((s) => {
        ctx.strokeStyle = s.label ? COLOURS.box : COLOURS.line;
        ctx.beginPath();
        s.outline.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
        ctx.closePath(); ctx.stroke();
        const name = `${S.colours[s.colour] || ""} ${S.shapes[s.label] || S.shapes[""]}`;
        label(name, s.box.x, s.box.y);
        const li = document.createElement("li");
        li.textContent = name;
        list.appendChild(li);
      });
      return r.shapes.filter((s) => s.label).length;
    },
  };

  function show(result) {
    fit(result);
    const n = drawers[task](result);
    summary.textContent = n ? fill(S.count, { n }) : S.none;
    speed.textContent = fill(S.ms, { ms: result.ms });
  }

  /* ---- keep the detector alive while this page is open ---- */
  async function keepAlive() {
    try {
      const state = await Labkit.post(`/api/vision/${task}/watch`);
      byId("page-error").hidden = true;
      if (state.result && !canvas.dataset.drawn) show(state.result);
    } catch (err) {
      Labkit.showError({ message: `${S.failed} ${err.message}` });
    }
  }
  Labkit.topics.add(topic);
  Labkit.on(topic, (result) => { canvas.dataset.drawn = "1"; show(result); });
  keepAlive();
  setInterval(keepAlive, 5000);

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
