/* The big counter (templates/parts/_counter.html): each number this lab logs gets a large
   tile, labelled from the lab's signal labels (#lab-config). One lab runs on a kit at a time,
   so the signals of this lesson are the kit's count now; a new run starts from zero. */
(function () {
  "use strict";
  const panel = document.getElementById("counter-panel");
  if (!panel) return;
  const tiles = document.getElementById("counter-tiles");
  const empty = document.getElementById("counter-empty");
  const cfg = Labkit.strings("lab-config");
  const lesson = panel.dataset.lesson;

  function tile(name) {
    let li = document.getElementById("count-" + name);
    if (li) return li;
    li = document.createElement("li");
    li.id = "count-" + name;
    li.className = "counter-tile";
    const num = document.createElement("strong");
    num.className = "counter-number";
    const label = document.createElement("span");
    label.className = "counter-label";
    label.textContent = (cfg.labels || {})[name] || name;
    li.append(num, label);
    tiles.appendChild(li);
    empty.hidden = true;
    return li;
  }

  Labkit.on("lab.signal", (d) => {
    if (d.lesson !== lesson || typeof d.value !== "number") return;
    const li = tile(d.name);
    const num = li.querySelector(".counter-number");
    if (num.textContent !== String(d.value)) {
      num.textContent = String(d.value);
      li.classList.remove("bump");
      void li.offsetWidth;   // restart the animation
      li.classList.add("bump");
    }
  });
  Labkit.on("lab.state", (d) => {
    if (d.lesson === lesson && d.status === "running" && !d.resumed) { tiles.textContent = ""; empty.hidden = false; }
  });
  Labkit.topics.add("lab.signal");
  Labkit.topics.add("lab.state");
})();
