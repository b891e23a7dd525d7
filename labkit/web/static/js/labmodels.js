/* The lab page's "use the model you taught" part (labs/_part_teachable.html): lists my /learn
   projects of the kind the lab takes, says how their classes match the lab's targets, and
   binds the chosen one to my running lab run. Strings come from the page (#labmodels-i18n). */
(function () {
  "use strict";
  const T = Labkit.strings("labmodels-i18n");
  const cfg = Labkit.strings("lab-config");
  let runId = cfg.active && cfg.active.run_id ? cfg.active.run_id : null;
  const fill = (text, values) => Object.keys(values).reduce(
    (s, k) => s.split("{" + k + "}").join(values[k]), text);

  document.querySelectorAll('[data-part="teachable"]').forEach((part) => {
    const detector = part.dataset.detector;
    const select = part.querySelector("[data-select]");
    const use = part.querySelector("[data-use]");
    const back = part.querySelector("[data-demo]");
    const error = part.querySelector("[data-error]");
    let listing = { projects: [], targets: [] };

    const targetName = (id) => {
      const t = listing.targets.find((x) => x.id === id);
      return t ? t.names[0] : id;
    };
    function showMatch(p) {
      const box = part.querySelector("[data-match]");
      box.hidden = !p;
      if (!p) return;
      const pairs = Object.keys(p.mapped).map((name) =>
        listing.targets.length ? fill(T.maps_to, { name, target: targetName(p.mapped[name]) }) : name);
      part.querySelector("[data-mapped]").textContent = fill(T.mapped, { list: pairs.join(", ") });
      const missing = part.querySelector("[data-missing]");
      missing.hidden = !p.missing.length;
      missing.textContent = fill(T.missing, { list: p.missing.map((id) => {
        const t = listing.targets.find((x) => x.id === id);
        return t ? t.names.slice(0, 3).join(" / ") : id;
      }).join("; ") });
      const unmapped = part.querySelector("[data-unmapped]");
      unmapped.hidden = !p.unmapped.length;
      unmapped.textContent = fill(T.unmapped, { list: p.unmapped.join(", ") });
    }
    function enable() {
      const chosen = listing.projects.find((p) => p.id === select.value);
      use.disabled = runId === null || !chosen || !chosen.trained;
      back.disabled = runId === null;
      select.disabled = !listing.projects.length;
      part.querySelector("[data-start]").hidden = runId !== null;
      showMatch(chosen);
    }
    async function load() {
      try {
        listing = await Labkit.get("/api/labs/" + encodeURIComponent(part.dataset.lesson) +
                                   "/models/" + encodeURIComponent(detector));
      } catch (err) { error.textContent = err.message; error.hidden = false; return; }
      select.textContent = "";
      listing.projects.forEach((p) => {
        const opt = document.createElement("option");
        opt.value = p.id;
        opt.textContent = p.trained ? p.name : fill(T.untrained, { name: p.name });
        select.appendChild(opt);
      });
      const none = part.querySelector("[data-none]");
      none.hidden = listing.projects.length > 0;
      none.textContent = fill(T.none, { kind: listing.kind_name });
      enable();
    }
    async function pick(projectId) {
      error.hidden = true;
      try {
        const res = await Labkit.post("/api/labs/runs/" + runId + "/model",
                                      { detector, project: projectId });
        part.querySelector("[data-now]").textContent = res.picked
          ? fill(T.now_project, { name: res.picked.name }) : T.now_demo;
        part.dataset.picked = res.picked ? res.picked.id : "";
      } catch (err) { error.textContent = err.message; error.hidden = false; }
    }
    select.addEventListener("change", enable);
    use.addEventListener("click", () => pick(select.value));
    back.addEventListener("click", () => pick(null));
    Labkit.on("lab.state", (d) => {
      if (d.lesson !== cfg.lesson) return;
      if (d.status === "running" && d.run_id) runId = d.run_id;
      else if (d.status === "stopped" || d.status === "finished") {
        runId = null;
        part.querySelector("[data-now]").textContent = T.now_demo;
      }
      enable();
    });
    Labkit.topics.add("lab");
    load();
  });
})();
