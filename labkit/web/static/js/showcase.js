/* The showcase page's Print button (no inline handlers: the page's CSP forbids them). */
document.getElementById("print-showcase")?.addEventListener("click", () => window.print());
