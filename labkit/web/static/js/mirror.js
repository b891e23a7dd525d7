/* The magic mirror panel (templates/parts/_mirror.html): press a picture and the mirror
   stream (/mirror.mjpg) puts you in front of it; save a photo of your own drawing into your
   run's portfolio (POST /api/mirror/drawings) and press it to use it. */
(function () {
  "use strict";
  const panel = document.getElementById("mirror-panel");
  if (!panel) return;
  const T = Labkit.strings("mirror-i18n");
  const $ = (id) => document.getElementById(id);
  const errorBox = $("mirror-error"), status = $("mirror-status"), drawings = $("mirror-drawings");
  const fail = (msg) => { errorBox.textContent = msg; errorBox.hidden = false; };

  async function use(body, name, btn) {
    try {
      await Labkit.post("/api/mirror/background", body);
      panel.querySelectorAll(".mirror-pick").forEach((b) => b.classList.toggle("is-on", b === btn));
      status.textContent = (T.using || "").replace("{name}", name);
      panel.dataset.picture = body.picture || ("drawing-" + body.drawing);
      errorBox.hidden = true;
    } catch (err) { fail(err.message); }
  }
  panel.addEventListener("click", (ev) => {
    const btn = ev.target.closest && ev.target.closest(".mirror-pick");
    if (!btn) return;
    if (btn.dataset.drawing) use({ drawing: Number(btn.dataset.drawing) }, btn.textContent, btn);
    else use({ picture: btn.dataset.picture }, btn.textContent, btn);
  });

  async function myRun() {
    const state = await Labkit.get("/api/labs/active");
    const run = state && state.active;
    return run && run.run_id && run.lesson === panel.dataset.lesson ? run.run_id : null;
  }
  $("mirror-save").addEventListener("click", async () => {
    const file = $("mirror-file").files[0];
    if (!file) { fail(T.need_file || ""); return; }
    const runId = await myRun().catch(() => null);
    if (!runId) { fail(T.need_run || ""); return; }
    const form = new FormData();
    form.append("run_id", String(runId));
    form.append("file", file);
    try {
      const saved = await Labkit.post("/api/mirror/drawings", form);
      const li = document.createElement("li");
      const btn = document.createElement("button");
      btn.type = "button";
      btn.className = "btn secondary mirror-pick";
      btn.id = "mirror-drawing-" + saved.drawing;
      btn.dataset.drawing = String(saved.drawing);
      btn.textContent = saved.name;
      li.appendChild(btn);
      drawings.appendChild(li);
      status.textContent = T.saved || "";
      errorBox.hidden = true;
    } catch (err) { fail(err.message); }
  });
})();
