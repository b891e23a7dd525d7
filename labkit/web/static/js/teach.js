/* Teach the kit (templates/parts/_teach.html): the child's first teachable model, an image
   project of their own on /learn. A picture is taken with the big buttons or the kit's button
   (a `bench.state` press, for the thing chosen last); "Learn!" trains it; "What do you see?"
   asks for a prediction and the kit says the answer aloud. */
(function () {
  "use strict";
  const panel = document.getElementById("teach-panel");
  if (!panel) return;
  const T = Labkit.strings("teach-i18n");
  const $ = (id) => document.getElementById(id);
  const errorBox = $("teach-error"), status = $("teach-status"), answer = $("teach-answer");
  let project = null, classes = [], current = 0, pressed = false, busy = false;
  const fail = (err) => { errorBox.textContent = err.message || String(err); errorBox.hidden = false; };
  const names = () => [0, 1].map((i) => $("teach-name-" + i).value.replace(/\s+/g, " ").trim());

  async function ensureProject() {
    if (project) return project;
    const [a, b] = names();
    if (!a || !b || a === b) throw new Error(T.need_names || "");
    const made = await Labkit.post("/api/learn/projects", { name: a + " · " + b, kind: "image", classes: [a, b] });
    project = made.id;
    classes = made.classes.map((c) => c.id);
    panel.dataset.project = project;
    panel.querySelectorAll(".teach-name").forEach((el) => { el.readOnly = true; });
    return project;
  }

  async function record(index) {
    if (busy) return;
    busy = true;
    current = index;
    panel.querySelectorAll(".teach-thing").forEach((li) => li.classList.toggle("is-on", Number(li.dataset.index) === index));
    try {
      await ensureProject();
      const got = await Labkit.post(`/api/learn/projects/${project}/classes/${classes[index]}/capture`, {});
      $("teach-count-" + index).textContent = String(got.count);
      errorBox.hidden = true;
    } catch (err) { fail(err); } finally { busy = false; }
  }
  panel.querySelectorAll(".teach-record").forEach((btn) =>
    btn.addEventListener("click", () => record(Number(btn.dataset.index))));

  // the kit's own button: a press (not a release) takes a picture for the chosen thing
  Labkit.on("bench.state", (devices) => {
    const button = devices && devices.button;
    if (!button) return;
    const now = Boolean(button.pressed);
    if (now && !pressed) record(current);
    pressed = now;
  });
  Labkit.topics.add("bench.state");
  Labkit.on("learn.progress", (job) => {
    if (!project || job.project !== project) return;
    if (job.state === "done") status.textContent = T.trained || "";
    else if (job.state === "error") fail({ message: job.message || "" });
  });
  Labkit.topics.add("learn.progress");

  $("teach-train").addEventListener("click", async () => {
    try {
      await ensureProject();
      status.textContent = T.training || "";
      await Labkit.post(`/api/learn/projects/${project}/train`, {});
      errorBox.hidden = true;
    } catch (err) { fail(err); }
  });
  $("teach-guess").addEventListener("click", async () => {
    try {
      if (!project) throw new Error(T.trained || "");
      const guess = await Labkit.get(`/api/learn/projects/${project}/predict?act=0`);
      const text = guess.label ? (T.answer || "").replace("{label}", guess.label) : (T.unsure || "");
      answer.textContent = text;
      answer.dataset.label = guess.label || "";
      errorBox.hidden = true;
      if (window.LabkitSpeak) window.LabkitSpeak.say(text).catch(() => {});
    } catch (err) { fail(err); }
  });
})();
