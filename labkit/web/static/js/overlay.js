/* LabkitOverlay: draws what the kit's detectors found over the live camera view.

   Detectors publish their results as `vision.<task>` server-sent events (JSON in the camera
   frame's pixels, with the frame's `width`/`height`); this module keeps the newest result of
   each kind and paints them all on one canvas laid over the MJPEG <img>, scaled to the size
   the picture is shown at (letterboxing included). Labels are drawn by the browser, so they
   can be Chinese; every label comes translated from the page (`#overlay-strings`, rendered by
   _camera.html, or `options.labels`), never from this file.

     const h = LabkitOverlay.attach(canvas, img, ["faces", "hands"], Labkit, { active: () => on });
     LabkitOverlay.draw(ctx, "faces", payload, { width: 640, height: 480 });

   It needs nothing at load time (not even Labkit), so any script may use it.
*/
(function () {
  "use strict";
  if (window.LabkitOverlay) return;

  /* kind → the bus topic its detector publishes (labkit/vision/*.py `topic`) */
  const TOPICS = {
    faces: "vision.face", hands: "vision.hands", pose: "vision.pose",
    segmentation: "vision.segmentation", text: "vision.ocr", colour: "vision.colour",
    shapes: "vision.shapes", emotion: "vision.emotion", people: "vision.people",
  };
  /* other names a page or a lab may use for the same kind (the vision task slugs) */
  const ALIASES = { face: "faces", hand: "hands", ocr: "text", color: "colour", shape: "shapes",
                    emotions: "emotion", mask: "segmentation" };
  const STALE_MS = 1500;   // a kind whose newest result is older than this is not drawn
  const COLOURS = { box: "#28d17c", point: "#ff3b3b", line: "#ffb300", text: "#ffffff",
                    shade: "rgba(0,0,0,0.6)", mask: [40, 209, 124, 95],
                    privacy: [30, 36, 51, 215], bar: "#ffb300" };
  const FONT = '"WenQuanYi Micro Hei", "Noto Sans CJK SC", sans-serif';
  const HAND = [[0,1],[1,2],[2,3],[3,4],[0,5],[5,6],[6,7],[7,8],[5,9],[9,10],[10,11],[11,12],
    [9,13],[13,14],[14,15],[15,16],[13,17],[0,17],[17,18],[18,19],[19,20]];
  const BODY = [[11,12],[11,13],[13,15],[12,14],[14,16],[11,23],[12,24],[23,24],[23,25],[25,27],
    [24,26],[26,28],[27,29],[29,31],[28,30],[30,32],[0,2],[0,5],[2,7],[5,8],[9,10],[15,17],
    [15,19],[16,18],[16,20]];
  /* joint angle name → the landmark it is measured at (labkit/vision/pose.py NAMES) */
  const JOINT_AT = { left_shoulder: 11, right_shoulder: 12, left_elbow: 13, right_elbow: 14,
                     left_hip: 23, right_hip: 24, left_knee: 25, right_knee: 26 };

  let pageLabels = null;
  let cellCanvas = null;   // the segmentation grid, one pixel per cell, reused every frame
  function defaultLabels() {
    if (pageLabels === null) {
      const el = document.getElementById("overlay-strings");
      try { pageLabels = el ? JSON.parse(el.textContent) : {}; } catch (e) { pageLabels = {}; }
    }
    return pageLabels;
  }

  const kindOf = (name) => {
    const k = ALIASES[name] || name;
    return TOPICS[k] ? k : null;
  };
  const pct = (v) => `${Math.round((v || 0) * 100)}%`;
  const fill = (tpl, values) => String(tpl || "").replace(/\{(\w+)\}/g, (_, k) =>
    (values[k] !== undefined ? values[k] : ""));
  const pick = (table, key, fallback) =>
    (table && table[key] !== undefined && table[key] !== "") ? table[key] : fallback;

  /* ---- a painter: the context plus the frame → canvas mapping for one draw ---- */
  function painter(ctx, payload, size, options) {
    const fw = payload.width || size.frameWidth || size.width;
    const fh = payload.height || size.frameHeight || size.height;
    const sx = size.width / fw, sy = size.height / fh;
    const ox = size.x || 0, oy = size.y || 0;
    const unit = Math.max(1, Math.min(size.width, size.height) / 480);
    const fontPx = Math.round(Math.max(16, 18 * unit));
    const p = {
      ctx, sx, sy, size, unit, labels: options.labels || defaultLabels(), options,
      X: (x) => ox + x * sx, Y: (y) => oy + y * sy,
      font(scale) { ctx.font = `${Math.round(fontPx * (scale || 1))}px ${FONT}`; },
      label(text, x, y, colour) {
        if (!text) return;
        const pad = 4 * unit, m = ctx.measureText(text);
        const h = parseInt(ctx.font, 10) + 2 * pad;
        const top = Math.max(oy, Math.min(y - h, oy + size.height - h));
        const left = Math.max(ox, Math.min(x, ox + size.width - m.width - 2 * pad));
        ctx.fillStyle = COLOURS.shade;
        ctx.fillRect(left, top, m.width + 2 * pad, h);
        ctx.fillStyle = colour || COLOURS.text;
        ctx.textBaseline = "alphabetic";
        ctx.fillText(text, left + pad, top + h - pad - 0.2 * parseInt(ctx.font, 10));
      },
      box(b, colour) {
        ctx.strokeStyle = colour || COLOURS.box;
        ctx.strokeRect(p.X(b.x), p.Y(b.y), b.w * sx, b.h * sy);
      },
      dot(x, y, r, colour) {
        ctx.fillStyle = colour || COLOURS.point;
        ctx.beginPath(); ctx.arc(p.X(x), p.Y(y), (r || 3) * unit, 0, 2 * Math.PI); ctx.fill();
      },
      poly(points, colour) {
        if (!points || !points.length) return;
        ctx.strokeStyle = colour || COLOURS.box;
        ctx.beginPath();
        points.forEach(([x, y], i) => (i ? ctx.lineTo(p.X(x), p.Y(y)) : ctx.moveTo(p.X(x), p.Y(y))));
        ctx.closePath(); ctx.stroke();
      },
      bones(points, pairs, colour, visible) {
        ctx.strokeStyle = colour || COLOURS.line;
        ctx.beginPath();
        pairs.forEach(([a, b]) => {
          const pa = points[a], pb = points[b];
          if (!pa || !pb || (visible && !(visible(pa) && visible(pb)))) return;
          ctx.moveTo(p.X(pa[0]), p.Y(pa[1])); ctx.lineTo(p.X(pb[0]), p.Y(pb[1]));
        });
        ctx.stroke();
      },
    };
    ctx.lineWidth = Math.max(2, 3 * unit);
    ctx.lineJoin = "round";
    p.font();
    return p;
  }

  /* ---- one drawer per kind; each returns how many things it drew ---- */
  const DRAWERS = {
    faces(p, r) {
      const L = p.labels;
      (r.faces || []).forEach((f) => {
        p.box(f.box);
        (f.keypoints || []).forEach(([x, y]) => p.dot(x, y, 3));
        p.label(`${pick(L, "face", "")} ${pct(f.score)}`.trim(), p.X(f.box.x), p.Y(f.box.y));
      });
      return (r.faces || []).length;
    },
    hands(p, r) {
      const L = p.labels;
      (r.hands || []).forEach((h) => {
        const pts = h.landmarks || [];
        p.bones(pts, HAND);
        pts.forEach(([x, y], i) => p.dot(x, y, [4, 8, 12, 16, 20].includes(i) ? 5 : 3));
        const side = h.handedness === "Left" ? pick(L, "left", "") : pick(L, "right", "");
        const gestures = L.gestures || {};
        const gesture = pick(gestures, h.gesture, pick(gestures, "", h.gesture || ""));
        const text = [side, gesture].filter(Boolean).join(" · ");
        if (h.box) p.label(text, p.X(h.box.x), p.Y(h.box.y));
      });
      return (r.hands || []).length;
    },
    pose(p, r) {
      const L = p.labels, seen = (q) => q.length < 4 || q[3] >= 0.5;
      (r.poses || []).forEach((pose) => {
        const pts = pose.landmarks || [];
        p.bones(pts, BODY, COLOURS.line, seen);
        pts.forEach((q) => { if (seen(q)) p.dot(q[0], q[1], 3); });
        p.font(0.8);
        Object.entries(pose.angles || {}).forEach(([joint, a]) => {
          const q = pts[JOINT_AT[joint]];
          if (a === null || a === undefined || !q || !seen(q)) return;
          p.label(`${Math.round(a)}°`, p.X(q[0]) + 6 * p.unit, p.Y(q[1]) - 4 * p.unit);
        });
        p.font();
      });
      if (r.reps && r.poses && r.poses.length) {
        const name = pick(L.exercises, r.reps.exercise, "");
        p.font(1.4);
        p.label(`${name} ${r.reps.count}`.trim(), p.X(0) + 8 * p.unit, p.Y(0) + 48 * p.unit);
        p.font();
      }
      return (r.poses || []).length;
    },
    people(p, r) {
      /* every person (box, hip centre); with a door counter also its line (dashed), each
         track's number and the counts (labkit/vision/linecount.py DoorCounter.to_json) */
      const L = p.labels, door = r.door, fw = r.width || 1, fh = r.height || 1;
      if (door) {
        const ctx = p.ctx, upright = door.direction === "right" || door.direction === "left";
        ctx.save();
        ctx.strokeStyle = COLOURS.line;
        ctx.setLineDash([12 * p.unit, 8 * p.unit]);
        ctx.beginPath();
        if (upright) {
          ctx.moveTo(p.X(door.line * fw), p.Y(0)); ctx.lineTo(p.X(door.line * fw), p.Y(fh));
        } else {
          ctx.moveTo(p.X(0), p.Y(door.line * fh)); ctx.lineTo(p.X(fw), p.Y(door.line * fh));
        }
        ctx.stroke();
        ctx.restore();
      }
      (r.people || []).forEach((person) => {
        p.box(person.box);
        if (person.centre) p.dot(person.centre[0], person.centre[1], 5);
      });
      if (door) {
        (door.tracks || []).forEach((t) => {
          p.label(`#${t.id}`, p.X(t.centre[0] * fw) + 8 * p.unit, p.Y(t.centre[1] * fh));
        });
        p.font(1.2);
        p.label(fill(L.door, door), p.X(0) + 8 * p.unit, p.Y(0) + 44 * p.unit);
        p.font();
      }
      return (r.people || []).length;
    },
    segmentation(p, r) {
      const rows = r.grid || [], gh = rows.length, gw = gh ? rows[0].length : 0;
      if (!gw) return 0;
      const privacy = typeof p.options.privacy === "function" ? p.options.privacy()
        : !!p.options.privacy;
      const [cr, cg, cb, ca] = privacy ? COLOURS.privacy : COLOURS.mask;
      const cells = cellCanvas || (cellCanvas = document.createElement("canvas"));
      cells.width = gw; cells.height = gh;
      const cctx = cells.getContext("2d");
      const img = cctx.createImageData(gw, gh);
      let person = 0;
      rows.forEach((row, y) => {
        for (let x = 0; x < gw; x++) {
          const isPerson = row[x] === "1";
          if (isPerson) person++;
          if (privacy ? isPerson : !isPerson) continue;
          const i = 4 * (y * gw + x);
          img.data[i] = cr; img.data[i + 1] = cg; img.data[i + 2] = cb; img.data[i + 3] = ca;
        }
      });
      cctx.putImageData(img, 0, 0);
      const ctx = p.ctx;
      ctx.save();
      ctx.imageSmoothingEnabled = true;   // soft edges from the coarse grid
      ctx.drawImage(cells, p.X(0), p.Y(0), p.size.width, p.size.height);
      ctx.restore();
      return person ? 1 : 0;
    },
    text(p, r) {
      (r.lines || []).forEach((ln) => {
        if (ln.quad && ln.quad.length) p.poly(ln.quad, COLOURS.box);
        else if (ln.box) p.box(ln.box);
        if (ln.box) p.label(ln.text, p.X(ln.box.x), p.Y(ln.box.y));
      });
      return (r.lines || []).length;
    },
    colour(p, r) {
      const L = p.labels;
      (r.blobs || []).forEach((b, i) => {
        p.box(b.box, i ? COLOURS.line : COLOURS.box);
        p.dot(b.cx, b.cy, 6, "#000");
        p.dot(b.cx, b.cy, 4, "#fff");
      });
      const best = (r.blobs || [])[0];
      if (best) p.label(pick(L.colours, r.colour, r.colour), p.X(best.box.x), p.Y(best.box.y));
      return (r.blobs || []).length;
    },
    shapes(p, r) {
      const L = p.labels;
      (r.shapes || []).forEach((s) => {
        p.poly(s.outline, s.label ? COLOURS.box : COLOURS.line);
        const name = `${pick(L.colours, s.colour, "")} ${pick(L.shapes, s.label, pick(L.shapes, "", ""))}`.trim();
        if (s.box) p.label(name, p.X(s.box.x), p.Y(s.box.y));
      });
      return (r.shapes || []).length;
    },
    emotion(p, r) {
      const L = p.labels, ctx = p.ctx;
      (r.faces || []).forEach((f) => {
        p.box(f.box, COLOURS.line);
        const name = pick(L.emotions, f.emotion, f.emotion);
        p.label(L.maybe ? fill(L.maybe, { label: name }) : name, p.X(f.box.x), p.Y(f.box.y));
        /* the three likeliest guesses as bars under the face: the model is never sure */
        const top = Object.entries(f.scores || {}).sort((a, b) => b[1] - a[1]).slice(0, 3);
        p.font(0.75);
        const lh = parseInt(ctx.font, 10) + 6 * p.unit;
        const x = p.X(f.box.x), w = Math.max(80 * p.unit, f.box.w * p.sx);
        let y = Math.min(p.Y(f.box.y + f.box.h) + 4 * p.unit,
                         (p.size.y || 0) + p.size.height - top.length * lh);
        top.forEach(([key, v]) => {
          ctx.fillStyle = COLOURS.shade;
          ctx.fillRect(x, y, w, lh - 2 * p.unit);
          ctx.fillStyle = COLOURS.bar;
          ctx.fillRect(x, y, w * Math.max(0, Math.min(1, v)), lh - 2 * p.unit);
          const text = `${pick(L.emotions, key, key)} ${pct(v)}`;
          ctx.textBaseline = "middle";
          ctx.lineWidth = 3 * p.unit;                       // a dark rim: readable over the bar
          ctx.strokeStyle = COLOURS.shade;
          ctx.strokeText(text, x + 4 * p.unit, y + (lh - 2 * p.unit) / 2);
          ctx.fillStyle = COLOURS.text;
          ctx.fillText(text, x + 4 * p.unit, y + (lh - 2 * p.unit) / 2);
          y += lh;
        });
        ctx.textBaseline = "alphabetic";
        p.font();
      });
      return (r.faces || []).length;
    },
  };

  /* test hook and debugging aid: how many times each kind was drawn, its newest payload */
  const lastDrawn = {};
  const lastPayload = {};

  /** Draw one kind's payload on `ctx`. `size`: the rectangle the camera picture fills on the
      canvas, in the context's units ({width, height, x?, y?}); the payload's own
      width/height say what pixels its coordinates are in. Returns the count drawn. */
  function draw(ctx, kind, payload, size, options) {
    const k = kindOf(kind);
    if (!k || !payload) return 0;
    const sz = size || { width: ctx.canvas.width, height: ctx.canvas.height };
    ctx.save();
    const n = DRAWERS[k](painter(ctx, payload, sz, options || {}), payload);
    ctx.restore();
    lastDrawn[k] = (lastDrawn[k] || 0) + 1;
    lastPayload[k] = payload;
    return n;
  }

  /* where the <img>/<video> shows its picture inside the canvas (object-fit: contain) */
  function pictureRect(canvas, media, payload) {
    const cw = canvas.clientWidth || canvas.width, ch = canvas.clientHeight || canvas.height;
    const nw = (media && (media.naturalWidth || media.videoWidth)) || (payload && payload.width) || cw;
    const nh = (media && (media.naturalHeight || media.videoHeight)) || (payload && payload.height) || ch;
    const s = Math.min(cw / nw, ch / nh);
    return { cw, ch, width: nw * s, height: nh * s, x: (cw - nw * s) / 2, y: (ch - nh * s) / 2 };
  }

  const handles = new WeakMap();
  /* Labkit opens the page's one event stream on DOMContentLoaded with the topics added so far;
     a kind attached after that needs the stream reopened with its topic */
  let streamOpened = false;
  document.addEventListener("DOMContentLoaded", () => { streamOpened = true; });

  /** Subscribe `canvas` to the detectors of `kinds` and keep drawing their newest results.
      `events`: the page's Labkit (default) or an EventSource. Calling it again for the same
      canvas adds kinds and options to the same overlay and returns it. */
  function attach(canvas, media, kinds, events, options) {
    if (!canvas) return null;
    const existing = handles.get(canvas);
    const handle = existing || makeHandle(canvas, media, options);
    if (existing && options) Object.assign(handle.options, options);
    if (media && !handle.media) handle.media = media;
    const source = events || window.Labkit;
    let added = false;
    [].concat(kinds || []).forEach((name) => {
      const k = kindOf(String(name).trim());
      if (!k || handle.kinds.includes(k)) return;
      handle.kinds.push(k);
      const topic = TOPICS[k];
      const onData = (d) => handle.update(k, d);
      if (source && typeof source.on === "function") {
        if (source.topics && !source.topics.has(topic)) { source.topics.add(topic); added = true; }
        source.on(topic, onData);
      } else if (source && typeof source.addEventListener === "function") {
        source.addEventListener(topic, (ev) => onData(JSON.parse(ev.data)));
      }
    });
    if (added && streamOpened && typeof source.listen === "function") source.listen([...source.topics]);
    canvas.dataset.overlays = handle.kinds.join(",");
    return handle;
  }

  function makeHandle(canvas, media, options) {
    const latest = {};
    let clearTimer = null;
    const handle = {
      canvas, media, kinds: [], options: Object.assign({ staleMs: STALE_MS }, options || {}),
      counts: {},
      /** give the overlay a result by hand (e.g. the state a page fetched on load) */
      update(kind, payload) {
        const k = kindOf(kind);
        if (!k || !payload) return;
        latest[k] = { payload, at: Date.now() };
        handle.repaint();
      },
      /** redraw every kind's newest result that is still fresh */
      repaint() {
        const active = handle.options.active;
        const on = typeof active === "function" ? active() : active !== false;
        const ctx = canvas.getContext("2d");
        const any = Object.values(latest)[0];
        const rect = pictureRect(canvas, handle.media, any && any.payload);
        const dpr = window.devicePixelRatio || 1;
        const w = Math.round(rect.cw * dpr), h = Math.round(rect.ch * dpr);
        if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
        ctx.setTransform(1, 0, 0, 1, 0, 0);
        ctx.clearRect(0, 0, canvas.width, canvas.height);
        if (!on) return;
        ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
        const now = Date.now();
        handle.kinds.forEach((k) => {
          const entry = latest[k];
          if (!entry || now - entry.at > handle.options.staleMs) return;
          handle.counts[k] = draw(ctx, k, entry.payload,
            { width: rect.width, height: rect.height, x: rect.x, y: rect.y }, handle.options);
        });
        clearTimeout(clearTimer);
        clearTimer = setTimeout(handle.repaint, handle.options.staleMs + 50);
      },
      /** forget every result and blank the canvas */
      clear() {
        Object.keys(latest).forEach((k) => delete latest[k]);
        handle.repaint();
      },
    };
    handles.set(canvas, handle);
    window.addEventListener("resize", () => handle.repaint());
    return handle;
  }

  /* the overlays _camera.html declared (data-overlays on the canvas), attached once Labkit
     is there; a page script may attach first with its own options */
  function autoAttach() {
    document.querySelectorAll("canvas[data-overlays]").forEach((canvas) => {
      const media = document.getElementById(canvas.dataset.media || "camera-view");
      attach(canvas, media, canvas.dataset.overlays.split(","), window.Labkit);
    });
  }

  window.LabkitOverlay = { attach, draw, autoAttach, kinds: Object.keys(TOPICS), topics: TOPICS,
    kindOf, handle: (canvas) => handles.get(canvas) || null, lastDrawn, lastPayload };
})();
