/* The sound meter panel (_microphone.html): a big bar, a word and a number for how loud it is,
   from the kit's `audio.meter` events (their `level` reading) or `audio.level` events (the
   reading itself). Unless told not to (data-start="false"), asks for the sound state once so
   the kit's sound monitor is running. */
(function () {
  "use strict";
  const panel = document.getElementById("mic-panel");
  if (!panel) return;
  const T = Labkit.strings("mic-i18n");
  const $ = (id) => document.getElementById(id);
  const meter = $("mic-meter"), fillEl = $("mic-meter-fill"), mark = $("mic-meter-mark");
  const word = $("mic-word"), db = $("mic-db"), claps = $("mic-claps");
  const DB_LO = 30, DB_HI = 100;   // the range the bar spans (the sound page's meter too)
  const share = (v) => Math.max(0, Math.min(1, (v - DB_LO) / (DB_HI - DB_LO)));

  function showLevel(lv) {
    if (!lv || typeof lv.db !== "number") return;
    const value = typeof lv.value === "number" ? lv.value : share(lv.db);
    const state = lv.clipping ? "clipping" : lv.loud ? "loud"
      : (typeof lv.threshold_db === "number" && lv.db > lv.threshold_db - 10) ? "medium" : "quiet";
    fillEl.style.width = (value * 100).toFixed(1) + "%";
    meter.setAttribute("aria-valuenow", String(Math.round(value * 100)));
    meter.dataset.state = state;
    if (typeof lv.threshold_db === "number") mark.style.left = (share(lv.threshold_db) * 100).toFixed(1) + "%";
    word.textContent = T[state] || "";
    word.dataset.state = state;
    db.textContent = lv.db.toFixed(0);
    panel.dataset.level = lv.db.toFixed(1);
  }
  function showClaps(c) { if (claps && c && typeof c.count === "number") claps.textContent = c.count; }

  Labkit.on("audio.meter", (m) => { showLevel(m.level); showClaps(m.clap); });
  Labkit.on("audio.level", showLevel);
  Labkit.on("audio.clap", showClaps);
  Labkit.topics.add("audio.meter");
  Labkit.topics.add("audio.level");
  Labkit.topics.add("audio.clap");
  if (panel.dataset.start !== "false") {
    Labkit.get("/api/audio/state")
      .then((s) => { showLevel(s.level); showClaps(s.clap); })
      .catch(() => {});   // no sound service: the panel says so (no microphone) or stays at --
  }
})();
