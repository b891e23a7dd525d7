/* Read-aloud: a speaker button asks the kit to say a text with its own voice (espeak-ng on the
   kit, POST /api/audio/say), so a child who cannot read yet hears every step and result.
   Buttons come from the speak_button macro (_speak.html), or are added here to any element
   marked `data-speak` (its value, or else the element's own text when pressed, is read).
   LabkitSpeak.scan(root) does the same for content a script adds later. */
(function () {
  "use strict";
  const T = Labkit.strings("speak-i18n");
  const SPEAKING_MS = 1500;   // how long a pressed button shows it is busy after the answer
  const sprite = () => document.body.dataset.icons || "";

  const pageLang = () => document.body.dataset.lang || "zh_CN";
  const clean = (text) => String(text || "").replace(/\s+/g, " ").trim();

  async function say(text, lang) {
    const body = { text: clean(text), lang: lang || pageLang() };
    if (!body.text) return null;
    return Labkit.post("/api/audio/say", body);
  }

  function makeButton(text, lang) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "speak-btn";
    if (text) b.dataset.speak = text;
    if (lang) b.dataset.speakLang = lang;
    b.setAttribute("aria-label", T.read || "");
    b.title = T.read || "";
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("viewBox", "0 0 48 48");
    const use = document.createElementNS("http://www.w3.org/2000/svg", "use");
    use.setAttribute("href", sprite() + "#speaker");
    svg.appendChild(use);
    b.appendChild(svg);
    return b;
  }

  /* add a button to every marked element under `root` that has none yet. The button goes
     at the end of the element, or right after it with `data-speak-after` (for text a script
     rewrites: setting textContent would remove a button inside). With an empty data-speak
     the element's text is read as it is when pressed, and the button hides while it is empty. */
  const sources = new WeakMap();   // button → the element whose text it reads
  function textFor(btn) {
    const el = sources.get(btn);
    return clean(btn.dataset.speak || (el ? el.textContent : ""));
  }
  function scan(root) {
    (root || document).querySelectorAll("[data-speak]:not(.speak-btn):not([data-speak-ready])")
      .forEach((el) => {
        el.dataset.speakReady = "1";
        const fixed = clean(el.dataset.speak);
        const btn = makeButton(fixed, el.dataset.speakLang);
        if (!fixed) sources.set(btn, el);
        if ("speakAfter" in el.dataset) el.after(btn);
        else { el.appendChild(document.createTextNode(" ")); el.appendChild(btn); }
        if (!fixed) {
          const sync = () => { btn.hidden = !clean(el.textContent); };
          new MutationObserver(sync).observe(el, { childList: true, characterData: true, subtree: true });
          sync();
        }
      });
  }

  document.addEventListener("click", async (ev) => {
    const btn = ev.target.closest && ev.target.closest(".speak-btn");
    if (!btn || btn.disabled) return;
    ev.preventDefault();
    btn.classList.add("is-speaking");
    btn.setAttribute("aria-busy", "true");
    try {
      await say(textFor(btn), btn.dataset.speakLang);
      btn.dataset.spoken = String(Number(btn.dataset.spoken || 0) + 1);
      setTimeout(() => { btn.classList.remove("is-speaking"); btn.removeAttribute("aria-busy"); },
                 SPEAKING_MS);
    } catch (err) {
      btn.classList.remove("is-speaking");
      btn.removeAttribute("aria-busy");
      Labkit.showError({ message: `${T.failed || ""} ${err.message}`.trim() });
    }
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => scan());
  else scan();
  window.LabkitSpeak = { say, scan };
})();
