/* /teacher/packs: install a pack found on a USB drive, with a progress bar while it is
   verified (signature, hashes, models) and written. */
(() => {
  const progress = document.getElementById("pack-progress");
  const result = document.getElementById("pack-result");
  document.querySelectorAll("button.pack-install").forEach((button) => {
    button.addEventListener("click", async () => {
      const buttons = document.querySelectorAll("button.pack-install");
      buttons.forEach((b) => { b.disabled = true; });
      progress.hidden = false;
      result.textContent = "";
      try {
        const data = await window.Labkit.post("/teacher/packs/install",
                                              { index: Number(button.dataset.index) });
        result.textContent = `${result.dataset.done} ${data.installed.id} ${data.installed.version}`;
        window.setTimeout(() => window.location.reload(), 1500);
      } catch (err) {
        result.textContent = err.message;
      } finally {
        progress.hidden = true;
        buttons.forEach((b) => { b.disabled = false; });
      }
    });
  });
})();
