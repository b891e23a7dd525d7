/* The report's Print button: the browser's own print dialog (the page has print CSS). */
(function () {
  "use strict";
  const button = document.getElementById("report-print");
  if (button) button.addEventListener("click", () => window.print());
})();
