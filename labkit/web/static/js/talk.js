/* The talking-robot panel (templates/parts/_talk.html): a ready-made or typed sentence, the
   voice's language, speed and pitch → POST /api/audio/say with purpose "talk". Typing Chinese
   characters switches the voice to Chinese, since the English voice cannot read them. */
(function () {
  "use strict";
  const panel = document.getElementById("talk-panel");
  if (!panel) return;
  const T = Labkit.strings("talk-i18n");
  const $ = (id) => document.getElementById(id);
  const text = $("talk-text"), speed = $("talk-speed"), pitch = $("talk-pitch");
  const errorBox = $("talk-error"), status = $("talk-status"), sayBtn = $("talk-say");
  const HANZI = /[\u3400-\u9fff]/;

  const lang = () => (document.querySelector('input[name="talk-lang"]:checked') || {}).value || "zh_CN";
  const setLang = (value) => { const r = $(value === "en" ? "talk-lang-en" : "talk-lang-zh"); if (r) r.checked = true; };
  const showOutput = (input) => { $(input.id + "-value").textContent = input.value; };

  panel.querySelectorAll(".talk-pick").forEach((btn) => btn.addEventListener("click", () => {
    text.value = btn.dataset.text;
    setLang(btn.dataset.lang);
    errorBox.hidden = true;
  }));
  text.addEventListener("input", () => { if (HANZI.test(text.value)) setLang("zh_CN"); errorBox.hidden = true; });
  [speed, pitch].forEach((input) => input.addEventListener("input", () => showOutput(input)));

  sayBtn.addEventListener("click", async () => {
    const sentence = text.value.replace(/\s+/g, " ").trim();
    if (!sentence) { errorBox.textContent = T.empty || ""; errorBox.hidden = false; text.focus(); return; }
    sayBtn.disabled = true;
    try {
      await Labkit.post("/api/audio/say", { text: sentence, lang: lang(), purpose: "talk",
        speed: Number(speed.value), pitch: Number(pitch.value) });
      const count = Number(status.dataset.said || 0) + 1;
      status.dataset.said = String(count);
      status.textContent = (T.said || "").replace("{count}", String(count));
      errorBox.hidden = true;
    } catch (err) {
      errorBox.textContent = `${T.failed || ""} ${err.message}`.trim();
      errorBox.hidden = false;
    } finally {
      sayBtn.disabled = false;
    }
  });
})();
