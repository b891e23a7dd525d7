/* labkit page helpers: CSRF-protected JSON calls, live events, translated strings.
   No framework and no network beyond this kit. */
(function () {
  "use strict";
  const csrfToken = () => {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  };

  async function request(method, url, body) {
    const opts = { method, headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" } };
    if (body instanceof FormData) {
      opts.body = body;
    } else if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const res = await fetch(url, opts);
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok) {
      const err = new Error((data && data.error && data.error.message) || res.statusText);
      err.code = data && data.error && data.error.code;
      err.status = res.status;
      err.details = (data && data.error) || {};   /* e.g. the line of a pipeline's mistake */
      throw err;
    }
    return data;
  }

  /* Strings for scripts come from the page (rendered from the catalogues), never from JS. */
  function strings(id) {
    const el = document.getElementById(id);
    if (!el) return {};
    try { return JSON.parse(el.textContent); } catch (e) { return {}; }
  }

  /* One EventSource per page; handlers keyed by event topic. */
  const handlers = {};
  let source = null;
  function on(topic, fn) {
    (handlers[topic] = handlers[topic] || []).push(fn);
    if (source) source.addEventListener(topic, (ev) => fn(JSON.parse(ev.data)));
  }
  function listen(topics) {
    if (source) source.close();
    source = new EventSource("/events?topics=" + encodeURIComponent(topics.join(",")));
    Object.keys(handlers).forEach((topic) => handlers[topic].forEach((fn) =>
      source.addEventListener(topic, (ev) => fn(JSON.parse(ev.data)))));
    return source;
  }

  function showError(err, where) {
    const box = where || document.getElementById("page-error");
    if (box) { box.textContent = err.message; box.hidden = false; }
    else console.warn(err.message);
  }

  /* Scripts add the topics they need (Labkit.topics.add) while the page loads;
     one EventSource then carries all of them. */
  document.addEventListener("DOMContentLoaded", () => {
    if (!window.Labkit.topics.size) return;
    /* the teacher made the kit ready for the next class: a student's page goes home */
    if (!location.pathname.startsWith("/teacher")) {
      window.Labkit.topics.add("kit.reset");
      on("kit.reset", (data) => location.assign((data && data.home) || "/"));
    }
    listen([...window.Labkit.topics]);
  });

  /* A form with data-confirm asks before it is sent (no inline handlers: the page's CSP
     forbids them). */
  document.addEventListener("submit", (ev) => {
    const form = ev.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      ev.preventDefault();
    }
  });

  window.Labkit = { get: (u) => request("GET", u), post: (u, b) => request("POST", u, b),
    del: (u) => request("DELETE", u), request, strings, on, listen, showError,
    topics: new Set() };
})();
