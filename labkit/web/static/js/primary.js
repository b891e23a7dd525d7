/* What lets a young child use a lab page alone: the pinyin toggle (remembered in this
   browser), the self-assessment stars, the reflection faces and drawing canvas, and form
   errors shown next to the control they are about. No strings here: the page renders them.
   Global LabkitPrimary: fieldError(control, message), clearErrors(root), reflection(). */
(function () {
  "use strict";
  const PINYIN_KEY = "labkit.pinyin";

  // ---- pinyin ---------------------------------------------------------------------------
  function setPinyin(on) {
    document.body.classList.toggle("pinyin-hidden", !on);
    const btn = document.getElementById("pinyin-toggle");
    if (btn) btn.setAttribute("aria-pressed", on ? "true" : "false");
  }
  function storedPinyin() {
    try { return window.localStorage.getItem(PINYIN_KEY) !== "off"; } catch (e) { return true; }
  }
  const toggle = document.getElementById("pinyin-toggle");
  // pages without the toggle (the lab picker) follow the choice made on a lab page
  if (!toggle && document.querySelector("ruby")) setPinyin(storedPinyin());
  if (toggle) {
    setPinyin(storedPinyin());
    toggle.addEventListener("click", () => {
      const on = document.body.classList.contains("pinyin-hidden");
      try { window.localStorage.setItem(PINYIN_KEY, on ? "on" : "off"); } catch (e) { /* private mode */ }
      setPinyin(on);
    });
  }

  // ---- errors next to their control --------------------------------------------------------
  /* Show `message` right after `control` (or inside a fieldset/group), linked with
     aria-describedby so a screen reader reads it with the control, and bring it into view. */
  function fieldError(control, message) {
    if (!control) return null;
    const id = (control.id || "field") + "-error";
    let box = document.getElementById(id);
    if (!box) {
      box = document.createElement("p");
      box.id = id;
      box.className = "field-error";
      box.setAttribute("role", "alert");
      if (control.matches("fieldset, .field-group")) control.appendChild(box);
      else control.after(box);
    }
    box.textContent = message || "";
    box.hidden = !message;
    const described = (control.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
    if (message && !described.includes(id)) described.push(id);
    if (described.length) control.setAttribute("aria-describedby", described.join(" "));
    if (message) {
      control.setAttribute("aria-invalid", "true");
      box.scrollIntoView({ behavior: "smooth", block: "center" });
    }
    return box;
  }
  function clearErrors(root) {
    (root || document).querySelectorAll(".field-error").forEach((box) => {
      box.hidden = true; box.textContent = "";
    });
    (root || document).querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
  }

  // ---- drawing canvas ----------------------------------------------------------------------
  /* Strokes stay in the page; the PNG leaves it only with the reflection, when the child
     presses save. */
  const canvas = document.getElementById("reflection-canvas");
  let drawn = false;
  if (canvas) {
    const ctx = canvas.getContext("2d");
    const COLOURS = { black: "#1d2433", red: "#e53935", blue: "#1e66f5", green: "#2e9d4a",
                      orange: "#f08c00" };
    let colour = COLOURS.black;
    let last = null;
    const blank = () => {
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      drawn = false;
      canvas.dataset.drawn = "false";
    };
    blank();
    const at = (ev) => {
      const r = canvas.getBoundingClientRect();
      return [(ev.clientX - r.left) * canvas.width / r.width, (ev.clientY - r.top) * canvas.height / r.height];
    };
    canvas.addEventListener("pointerdown", (ev) => {
      last = at(ev);
      canvas.setPointerCapture(ev.pointerId);
      ctx.fillStyle = colour;
      ctx.beginPath(); ctx.arc(last[0], last[1], 3, 0, 2 * Math.PI); ctx.fill();
      drawn = true; canvas.dataset.drawn = "true";
      clearErrors(document.getElementById("reflection"));
      ev.preventDefault();
    });
    canvas.addEventListener("pointermove", (ev) => {
      if (!last) return;
      const p = at(ev);
      ctx.strokeStyle = colour; ctx.lineWidth = 6; ctx.lineCap = "round"; ctx.lineJoin = "round";
      ctx.beginPath(); ctx.moveTo(last[0], last[1]); ctx.lineTo(p[0], p[1]); ctx.stroke();
      last = p;
    });
    const up = () => { last = null; };
    canvas.addEventListener("pointerup", up);
    canvas.addEventListener("pointercancel", up);
    document.querySelectorAll(".draw-colour").forEach((btn) => btn.addEventListener("click", () => {
      colour = COLOURS[btn.dataset.colour] || COLOURS.black;
      document.querySelectorAll(".draw-colour").forEach((b) => b.setAttribute("aria-pressed", b === btn ? "true" : "false"));
    }));
    const clear = document.getElementById("draw-clear");
    if (clear) clear.addEventListener("click", blank);
  }

  /* What the child answered: {face, answer, drawing, voice} (drawing: a PNG data URL, or
     null; voice: a recorded answer waits in the kit's memory, voice_answer.js). */
  function reflection() {
    const face = document.querySelector("input[name=reflection-face]:checked");
    const text = document.getElementById("reflection-answer");
    return { face: face ? face.value : "", answer: text ? text.value.trim() : "",
             drawing: canvas && drawn ? canvas.toDataURL("image/png") : null,
             voice: !!(window.LabkitVoice && window.LabkitVoice.taken) };
  }

  // choosing an answer clears the error it was about
  document.addEventListener("change", (ev) => {
    const group = ev.target.closest && ev.target.closest("fieldset, .field-group");
    if (group) clearErrors(group);
  });
  document.addEventListener("input", (ev) => {
    const group = ev.target.closest && ev.target.closest(".field-group");
    if (group) clearErrors(group);
  });

  window.LabkitPrimary = { setPinyin, fieldError, clearErrors, reflection };
})();
