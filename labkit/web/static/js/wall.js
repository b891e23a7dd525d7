/* The progress wall: one card per student, redrawn from the lesson's SSE stream.
   Strings come from the page (#wall-i18n); no framework, nothing from outside the kit. */
(function () {
  "use strict";
  const wall = document.getElementById("wall");
  if (!wall) return;
  const t = window.Labkit ? window.Labkit.strings("wall-i18n") : {};
  const fill = (text, params) => String(text || "").replace(/%\((\w+)\)s/g, (m, k) =>
    params[k] === undefined ? m : String(params[k]));

  function note(s) {
    if (s.state === "stuck") {
      return s.errors > 0 ? t.errors : fill(t.idle, { min: s.idle_min });
    }
    if (s.state === "finished" || (s.finished_titles && s.finished_titles.length)) {
      return fill(t.finished, { labs: s.finished_titles.join("、") });
    }
    if (s.state === "not_started") return t.not_started;
    if (s.state === "stopped") return t.stopped;
    return "";
  }

  function card(s) {
    const li = document.createElement("li");
    li.className = "wall-card state-" + s.state;
    li.dataset.student = s.student_id;
    li.dataset.state = s.state;
    [["wall-name", (s.student_no ? s.student_no + " " : "") + s.name],
     ["wall-lab", s.lab_title || ""],
     ["wall-step", s.run_id ? fill(t.steps, { done: s.steps_passed, total: s.steps_total }) : ""],
     ["wall-note", note(s)]].forEach(([cls, text]) => {
      const span = document.createElement("span");
      span.className = cls;
      span.textContent = text;
      li.appendChild(span);
    });
    return li;
  }

  function draw(data) {
    if (data.students.length) wall.replaceChildren(...data.students.map(card));
    Object.entries(data.counts).forEach(([state, n]) => {
      const el = document.querySelector('[data-count="' + state + '"]');
      if (el) el.textContent = n;
    });
    const ended = document.getElementById("wall-ended");
    if (ended) ended.hidden = data.session.running;
    wall.dataset.updated = String(Date.now());
  }

  const source = new EventSource(wall.dataset.events);
  source.addEventListener("wall", (ev) => draw(JSON.parse(ev.data)));
})();
