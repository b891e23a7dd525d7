/* The simulated camera's scene picker (labkit/web/scenes.py). */
(function () {
  "use strict";
  const select = document.getElementById("scene-select");
  if (!select) return;
  select.addEventListener("change", async () => {
    try {
      await Labkit.post("/api/camera/scene", { scene: select.value });
      select.dataset.shown = select.value;
    } catch (err) { Labkit.showError(err); }
  });
})();
