/* The nearest-neighbours plot (templates/parts/_neighbours.html): the running lab's points,
   the regions each label wins with the chosen k, the reading now as a ring and its k nearest
   points circled, all drawn as SVG from the lab's `lab.neighbours` events and
   GET /api/labs/runs/<run>/parts/neighbours. The vote itself is computed on the kit
   (labkit/projects/neighbours.py); this file only draws. Strings come from #neighbours-i18n. */
(function () {
  "use strict";
  const part = document.getElementById("part-neighbours");
  if (!part) return;
  const T = Labkit.strings("neighbours-i18n");
  const cfg = Labkit.strings("lab-config");
  const svg = document.getElementById("knn-plot");
  const status = document.getElementById("knn-status");
  const NS = "http://www.w3.org/2000/svg";
  const SIZE = 340, PAD = 34, PLOT = SIZE - 2 * PAD;
  const COLOURS = ["#8a8f98", "#1f6fd1", "#d9822b", "#2f9e44", "#9c36b5", "#c92a2a"];
  let runId = cfg.active && cfg.active.run_id ? cfg.active.run_id : null;
  let state = null;

  const sx = (v) => PAD + Math.max(0, Math.min(1, v)) * PLOT;
  const sy = (v) => PAD + (1 - Math.max(0, Math.min(1, v))) * PLOT;
  function el(name, attrs, parent) {
    const node = document.createElementNS(NS, name);
    Object.entries(attrs).forEach(([k, v]) => node.setAttribute(k, v));
    if (parent) parent.appendChild(node);
    return node;
  }
  function colourOf(label) {
    const i = (state ? state.labels : []).findIndex((l) => l === label);
    return COLOURS[(i < 0 ? 0 : i) % COLOURS.length];
  }
  function labelName(label) {
    const found = (T.labels || []).find((l) => l.value === label);
    return found ? found.name : String(label);
  }
  document.querySelectorAll(".knn-swatch[data-label-index]").forEach((s) => {
    s.style.background = COLOURS[Number(s.dataset.labelIndex) % COLOURS.length];
  });

  function axes() {
    el("rect", {x: PAD, y: PAD, width: PLOT, height: PLOT, class: "knn-frame"}, svg);
    [0, 0.5, 1].forEach((v) => {
      el("text", {x: sx(v), y: SIZE - PAD + 16, class: "knn-tick", "text-anchor": "middle"}, svg)
        .textContent = String(v);
      el("text", {x: PAD - 6, y: sy(v) + 4, class: "knn-tick", "text-anchor": "end"}, svg)
        .textContent = String(v);
    });
    const fx = el("text", {x: PAD + PLOT / 2, y: SIZE - 4, class: "knn-axis", "text-anchor": "middle"}, svg);
    fx.textContent = (T.features || [])[0] || "";
    const fy = el("text", {x: 12, y: PAD + PLOT / 2, class: "knn-axis", "text-anchor": "middle",
                           transform: "rotate(-90 12 " + (PAD + PLOT / 2) + ")"}, svg);
    fy.textContent = (T.features || [])[1] || "";
  }

  function draw() {
    svg.textContent = "";
    if (!state) { axes(); return; }
    const regions = el("g", {id: "knn-regions"}, svg);
    const n = (state.regions || []).length;
    (state.regions || []).forEach((row, j) => row.forEach((label, i) => {
      el("rect", {x: sx(i / n), y: sy((j + 1) / n), width: PLOT / n, height: PLOT / n, "shape-rendering": "crispEdges",
                  fill: colourOf(label), "fill-opacity": "0.16", class: "knn-cell"}, regions);
    }));
    axes();
    boundary(state.compare || []);
    const lines = el("g", {id: "knn-lines"}, svg);
    const points = el("g", {id: "knn-points"}, svg);
    state.points.forEach((p, i) => {
      const dot = el("circle", {cx: sx(p[0]), cy: sy(p[1]), r: 5, fill: colourOf(p[p.length - 1]),
                                class: "knn-point", "data-index": i}, points);
      const title = el("title", {}, dot);
      title.textContent = labelName(p[p.length - 1]) + " (" + p[0] + ", " + p[1] + ")";
    });
    svg.dataset.points = String(state.points.length);
    live(state.live, lines);
  }

  /* The other learner's boundary (the lab's decision tree): a dashed edge wherever two
     neighbouring cells get different answers. */
  function boundary(grid) {
    const n = grid.length;
    if (!n) return;
    const g = el("g", {id: "knn-compare"}, svg);
    const c = PLOT / n;
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) {
        const x = PAD + i * c, y = PAD + (n - 1 - j) * c;
        if (i + 1 < n && grid[j][i] !== grid[j][i + 1]) {
          el("line", {x1: x + c, y1: y, x2: x + c, y2: y + c, class: "knn-tree"}, g);
        }
        if (j + 1 < n && grid[j][i] !== grid[j + 1][i]) {
          el("line", {x1: x, y1: y, x2: x + c, y2: y, class: "knn-tree"}, g);
        }
      }
    }
  }

  function live(now, lines) {
    state.live = now;
    lines = lines || document.getElementById("knn-lines");
    const old = document.getElementById("knn-live");
    if (old) old.remove();
    if (lines) lines.textContent = "";
    document.querySelectorAll(".knn-point.near").forEach((d) => d.classList.remove("near"));
    const k = now ? now.k : state.k;
    svg.dataset.k = String(k);
    document.querySelectorAll(".knn-k").forEach((b) => {
      b.setAttribute("aria-pressed", String(Number(b.dataset.k) === k));
    });
    if (!now || !now.reading) {
      svg.dataset.live = "";
      status.textContent = state.points.length ? T.status.replace("{k}", k)
        .replace("{n}", state.points.length).replace("{vote}", T.no_reading) : T.no_points;
      return;
    }
    const [x, y] = now.reading;
    (now.nearest || []).forEach((i) => {
      const p = state.points[i];
      if (!p) return;
      el("line", {x1: sx(x), y1: sy(y), x2: sx(p[0]), y2: sy(p[1]), class: "knn-line"}, lines);
      const dot = svg.querySelector('.knn-point[data-index="' + i + '"]');
      if (dot) dot.classList.add("near");
    });
    el("circle", {id: "knn-live", cx: sx(x), cy: sy(y), r: 9, class: "knn-live",
                  stroke: now.vote === null ? "#222" : colourOf(now.vote)}, svg);
    svg.dataset.live = x + "," + y;
    status.textContent = state.points.length ? T.status.replace("{k}", k)
      .replace("{n}", state.points.length)
      .replace("{vote}", now.vote === null ? T.no_reading : labelName(now.vote)) : T.no_points;
  }

  function enable(on) {
    part.querySelector("[data-empty]").hidden = on;
    part.querySelectorAll("button").forEach((b) => { b.disabled = !on; });
    part.dataset.ready = on ? "yes" : "no";
  }
  async function load() {
    if (runId === null) return;
    try {
      state = await Labkit.get("/api/labs/runs/" + runId + "/parts/neighbours");
      draw();
    } catch (err) { Labkit.showError(err); }
  }
  async function change(body) {
    if (runId === null) return;
    try {
      state = await Labkit.post("/api/labs/runs/" + runId + "/parts/neighbours",
                                Object.assign({name: part.dataset.name}, body));
      draw();
      part.dataset.applied = String((Number(part.dataset.applied) || 0) + 1);
    } catch (err) { Labkit.showError(err); }
  }
  part.querySelectorAll(".knn-k").forEach((b) => b.addEventListener("click", () =>
    change({action: "k", k: Number(b.dataset.k)})));
  part.querySelectorAll(".knn-label").forEach((b) => b.addEventListener("click", () =>
    change({action: "add", label: JSON.parse(b.dataset.label)})));
  part.querySelectorAll("[data-action]").forEach((b) => b.addEventListener("click", () =>
    change({action: b.dataset.action})));

  Labkit.on("lab.neighbours", (d) => {
    if (d.name !== part.dataset.name) return;
    if (d.points) { state = d; draw(); enable(true); return; }
    if (state) live(d.live);
  });
  Labkit.on("lab.state", (d) => {
    if (d.lesson !== cfg.lesson) return;
    if (d.status === "running" && d.run_id) { runId = d.run_id; enable(true); load(); }
    else if (d.status === "stopped" || d.status === "finished") { runId = null; enable(false); }
  });
  Labkit.topics.add("lab.neighbours");
  Labkit.topics.add("lab.state");
  draw();
  enable(runId !== null);
  load();
})();
