/* The spoken reflection (labkit/web/voice_answer.py): "Record" has the kit's microphone
   listen for a few seconds; the take waits in the kit's memory, where the child hears it,
   records again or throws it away. It is kept (sealed, in their portfolio) only when they
   press Save, which sends {voice: true} with the rest of the reflection (labs.js). */
(function () {
  "use strict";
  const box = document.getElementById("reflection-voice");
  if (!box) return;
  const T = Labkit.strings("labs-i18n");
  const finish = document.getElementById("lab-finish");
  const recordBtn = document.getElementById("voice-record");
  const discardBtn = document.getElementById("voice-discard");
  const player = document.getElementById("voice-play");
  const status = document.getElementById("voice-status");
  const state = { taken: false };
  window.LabkitVoice = state;
  const url = () => "/api/labs/runs/" + encodeURIComponent(finish.dataset.run || "") + "/voice";
  const P = window.LabkitPrimary;

  function show(taken, message) {
    state.taken = taken;
    player.hidden = !taken;
    discardBtn.hidden = !taken;
    status.textContent = message || "";
  }

  recordBtn.addEventListener("click", async () => {
    if (!finish.dataset.run) return;
    if (P) P.clearErrors(box.parentElement);
    recordBtn.disabled = true;
    show(false, T.voice_recording);
    try {
      await Labkit.post(url(), { seconds: Number(box.dataset.seconds) || 8 });
      player.src = url() + "?take=" + Date.now();
      show(true, T.voice_ready);
    } catch (err) {
      show(false, "");
      if (P) P.fieldError(recordBtn, err.message); else Labkit.showError(err);
    } finally {
      recordBtn.disabled = false;
    }
  });
  discardBtn.addEventListener("click", async () => {
    try { await Labkit.del(url()); } catch (err) { Labkit.showError(err); }
    player.removeAttribute("src");
    show(false, T.voice_gone);
  });
})();
