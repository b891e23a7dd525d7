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

  window.LabkitPrimary = { setPinyin, fieldError, clearErrors };
})();
