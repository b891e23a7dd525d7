/* /teacher/packs: install a pack found on a USB drive as a background job, its progress bar
   filled from the job's status (verifying the signature → checking the archive → installing). */
(() => {
  const progress = document.getElementById("pack-progress");
  const result = document.getElementById("pack-result");
  const stage = document.getElementById("pack-stage");
  if (!progress || !result) return;
  const t = result.dataset;
  const stages = { start: t.stageSignature, signature: t.stageSignature,
                   archive: t.stageArchive, installing: t.stageInstalling, done: t.done };
  const mb = (n) => (n / (1024 * 1024)).toFixed(1);

  function show(job) {
    progress.hidden = false;
    if (job.total > 0) {
      progress.max = job.total;
      progress.value = job.done;
    } else {
      progress.removeAttribute("value");
    }
    const bytes = job.total > 0 ? ` ${mb(job.done)} / ${mb(job.total)} MB` : "";
    stage.textContent = `${stages[job.stage] || ""}${bytes}`;
  }

  async function follow() {
    for (;;) {
      const { job } = await window.Labkit.get("/teacher/packs/install/status");
      if (!job) return null;
      show(job);
      if (job.state !== "running") return job;
      await new Promise((ok) => { window.setTimeout(ok, 300); });
    }
  }

  function ended(job) {
    if (!job) return;
    if (job.state === "done") {
      progress.value = progress.max;
      result.textContent = `${t.done} ${job.installed.id} ${job.installed.version}`;
      window.setTimeout(() => window.location.reload(), 1500);
    } else {
      progress.hidden = true;
      stage.textContent = "";
      result.textContent = job.fix ? `${job.message} ${job.fix}` : job.message;
    }
  }

  document.querySelectorAll("button.pack-install").forEach((button) => {
    button.addEventListener("click", async () => {
      const buttons = document.querySelectorAll("button.pack-install");
      buttons.forEach((b) => { b.disabled = true; });
      result.textContent = "";
      try {
        const { job } = await window.Labkit.post("/teacher/packs/install",
                                                 { index: Number(button.dataset.index) });
        show(job);
        ended(await follow());
      } catch (err) {
        progress.hidden = true;
        stage.textContent = "";
        result.textContent = err.message;
      } finally {
        buttons.forEach((b) => { b.disabled = false; });
      }
    });
  });
})();
