/* The quantisation experiment on the teachable-model page: asks the kit to measure the
   float32 and int8 models and shows the measured table and the server-drawn SVG chart. */
(() => {
  const box = document.getElementById("quantlab");
  if (!box) return;
  const t = JSON.parse(document.getElementById("quantlab-i18n").textContent);
  const status = document.getElementById("quantlab-status");
  const table = document.getElementById("quantlab-table");
  const cell = (row, text) => { const td = row.insertCell(); td.textContent = text; };
  document.getElementById("quantlab-run").addEventListener("click", async () => {
    status.textContent = t.running;
    try {
      const r = await window.Labkit.post(box.dataset.url, {});
      const body = table.tBodies[0];
      body.replaceChildren();
      for (const v of r.rows) {
        const row = body.insertRow();
        cell(row, v.name);
        cell(row, `${(v.bytes / 1024).toFixed(1)} KB`);
        cell(row, `${v.latency_ms.toFixed(3)} ms`);
        cell(row, v.accuracy === null ? t.unmeasured : `${Math.round(v.accuracy * 100)}%`);
      }
      table.hidden = false;
      document.getElementById("quantlab-chart").innerHTML = r.chart_svg;
      status.textContent = t.done.replace("{n}", r.n_test);
    } catch (err) {
      status.textContent = "";
      window.Labkit.showError(err);
    }
  });
})();
