/* Shows a notice over the live view while the camera is unplugged or reconnecting, and
   restarts the MJPEG stream when it comes back. Also attaches the overlays _camera.html
   declared (runs deferred: after labkit.js, before the page's event stream opens). */
(function () {
  "use strict";
  if (window.LabkitOverlay) window.LabkitOverlay.autoAttach();
  const img = document.getElementById("camera-view");
  const notice = document.getElementById("camera-status");
  if (!img || !notice) return;
  let wasConnected = true;
  async function check() {
    try {
      const health = await Labkit.get("/healthz");
      const connected = health.camera.connected;
      notice.hidden = connected;
      if (connected && !wasConnected) img.src = img.src.split("?")[0] + "?t=" + Date.now();
      wasConnected = connected;
    } catch (e) {
      notice.hidden = false;
      wasConnected = false;
    }
  }
  img.addEventListener("error", () => { notice.hidden = false; wasConnected = false; });
  setInterval(check, 3000);
})();
