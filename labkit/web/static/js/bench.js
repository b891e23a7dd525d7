/* The virtual bench panel: draws one card per wired device from live `bench.state` events.
   When the page names the devices it needs (_bench.html `devices` → data-devices), only
   those show, in that order; "show all devices" reveals the rest. */
(function () {
  "use strict";
  const grid = document.getElementById("bench-grid");
  if (!grid) return;
  const T = Labkit.strings("bench-i18n");
  const simulated = document.body.dataset.hardware === "sim";
  const cards = {};
  const panel = document.getElementById("bench");
  const wanted = ((panel && panel.dataset.devices) || "").split(",").filter(Boolean);
  const showAll = document.getElementById("bench-show-all");
  const hiddenCount = document.getElementById("bench-hidden-count");
  const sprite = (panel && panel.dataset.icons) || "";
  /* an icon per device: by its wiring name, else by its gpiozero class */
  const ICON_NAMES = ["led", "rgb", "buzzer", "servo", "button", "motion", "distance", "light",
                      "soil", "temperature", "fan", "pump"];
  const ICON_TYPES = { LED: "led", PWMLED: "led", RGBLED: "rgb", Buzzer: "buzzer",
    TonalBuzzer: "buzzer", AngularServo: "servo", Servo: "servo", Button: "button",
    MotionSensor: "motion", DistanceSensor: "distance", LightSensor: "light",
    DigitalOutputDevice: "device" };
  const iconFor = (name, type) => (ICON_NAMES.includes(name) ? name : (ICON_TYPES[type] || "device"));
  const SVG = "http://www.w3.org/2000/svg";

  function icon(name, type) {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "device-icon");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("viewBox", "0 0 48 48");
    const use = document.createElementNS(SVG, "use");
    use.setAttribute("href", sprite + "#" + iconFor(name, type));
    svg.appendChild(use);
    return svg;
  }

  /* only the page's devices (in its order) unless "show all" is ticked */
  function applyFilter() {
    if (!wanted.length) return;
    const all = showAll && showAll.checked;
    let hidden = 0;
    Object.entries(cards).forEach(([name, c]) => {
      const pos = wanted.indexOf(name);
      c.card.style.order = pos >= 0 ? pos : wanted.length;
      c.card.classList.toggle("device-extra", pos < 0);
      c.card.hidden = pos < 0 && !all;
      if (pos < 0) hidden++;
    });
    if (hiddenCount) hiddenCount.textContent = hidden ? (T.more || "").replace("{n}", hidden) : "";
  }
  if (showAll) showAll.addEventListener("change", applyFilter);

  const label = (name) => T[name] || name;
  const fmt = (v, digits) => (v === null || v === undefined) ? T.unknown : Number(v).toFixed(digits);

  function send(device, payload) {
    return Labkit.post("/api/bench/input", Object.assign({ device }, payload))
      .catch((err) => Labkit.showError(err));
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function makeCard(name, st) {
    const card = el("div", "device device-" + st.type.toLowerCase());
    card.id = "device-" + name;
    card.dataset.device = name;
    const head = el("div", "device-head");
    head.appendChild(icon(name, st.type));
    head.appendChild(el("span", "device-name", label(name)));
    const pins = Object.values(st.pins || {});
    const where = pins.length ? T.pin + " " + pins.join("/")
      : (st.channel !== undefined ? T.channel + " " + st.channel : "");
    head.appendChild(el("span", "device-pins", where));
    card.appendChild(head);
    const vis = el("div", "device-visual");
    card.appendChild(vis);
    const val = el("div", "device-value");
    card.appendChild(val);
    if (simulated && st.role !== "output") card.appendChild(makeControl(name, st));
    grid.appendChild(card);
    cards[name] = { card, vis, val };
    applyFilter();
    return cards[name];
  }

  function makeControl(name, st) {
    const box = el("div", "device-control");
    if (st.type === "Button") {
      const b = el("button", "hold", T.hold);
      b.type = "button";
      b.id = "bench-" + name + "-press";
      const press = (ev) => { ev.preventDefault(); send(name, { action: "press" }); };
      const release = (ev) => { ev.preventDefault(); send(name, { action: "release" }); };
      b.addEventListener("pointerdown", press);
      b.addEventListener("pointerup", release);
      b.addEventListener("pointerleave", (ev) => { if (ev.buttons) release(ev); });
      b.addEventListener("keydown", (ev) => { if (ev.key === " " || ev.key === "Enter") press(ev); });
      b.addEventListener("keyup", (ev) => { if (ev.key === " " || ev.key === "Enter") release(ev); });
      box.appendChild(b);
    } else if (st.type === "MotionSensor") {
      const b = el("button", "toggle", T.wave);
      b.type = "button";
      b.id = "bench-" + name + "-toggle";
      b.addEventListener("click", () => send(name, { value: !cards[name].active }));
      box.appendChild(b);
    } else {
      const r = el("input", "slider");
      r.type = "range";
      r.id = "bench-" + name + "-slider";
      r.setAttribute("aria-label", label(name));
      if (st.type === "DistanceSensor") {
        Object.assign(r, { min: 0.02, max: st.max_distance, step: 0.01, value: st.distance });
        r.addEventListener("input", () => send(name, { value: Number(r.value) }));
      } else if (st.celsius !== undefined) {
        Object.assign(r, { min: -10, max: 50, step: 0.5, value: st.celsius });
        r.addEventListener("input", () => send(name, { celsius: Number(r.value) }));
      } else {
        Object.assign(r, { min: 0, max: 1, step: 0.01, value: st.value });
        r.addEventListener("input", () => send(name, { value: Number(r.value) }));
      }
      box.appendChild(r);
    }
    return box;
  }

  function render(name, st) {
    const c = cards[name] || makeCard(name, st);
    const { card, vis, val } = c;
    let text = "";
    card.classList.remove("is-on");
    switch (st.type) {
      case "RGBLED": {
        const [r, g, b] = st.value.map((x) => Math.round(x * 255));
        vis.style.background = `rgb(${r},${g},${b})`;
        if (r + g + b > 0) card.classList.add("is-on");
        text = st.value.map((x) => fmt(x, 2)).join(" / ");
        break;
      }
      case "AngularServo": {
        const angle = st.angle === null ? 0 : st.angle;
        vis.style.setProperty("--angle", angle + "deg");
        text = st.angle === null ? T.detached : fmt(st.angle, 0) + T.degrees;
        break;
      }
      case "Button":
        if (st.pressed) card.classList.add("is-on");
        text = st.pressed ? T.pressed : T.released;
        break;
      case "MotionSensor":
        c.active = st.active;
        if (st.active) card.classList.add("is-on");
        text = st.active ? T.motion_yes : T.motion_no;
        break;
      case "DistanceSensor":
        vis.style.setProperty("--level", st.distance === null ? 0 : st.distance / st.max_distance);
        text = fmt(st.distance, 2) + " " + T.metres;
        break;
      case "MCP3008":
        vis.style.setProperty("--level", st.value || 0);
        text = st.celsius !== undefined ? fmt(st.celsius, 1) + " " + T.celsius
                                        : fmt((st.value || 0) * 100, 0) + T.percent;
        break;
      default: {
        const on = st.value > 0;
        if (on) card.classList.add("is-on");
        vis.style.setProperty("--level", st.value);
        text = st.frequency ? Math.round(st.frequency) + " Hz" : (on ? T.on : T.off);
      }
    }
    val.textContent = text;
    card.dataset.state = JSON.stringify(st);
  }

  Labkit.on("bench.state", (devices) => {
    Object.entries(devices).forEach(([name, st]) => render(name, st));
  });
  Labkit.topics.add("bench");
})();
