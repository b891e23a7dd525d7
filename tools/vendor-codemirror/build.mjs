// Bundle entry.mjs into ../../labkit/web/static/vendor/codemirror/codemirror.js and write
// VERSIONS from the installed packages. Built once by a maintainer and committed; the kit
// never builds anything at run time or test time.
import { build } from "esbuild";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";

const out = new URL("../../labkit/web/static/vendor/codemirror/", import.meta.url);
mkdirSync(out, { recursive: true });
await build({
  entryPoints: ["entry.mjs"],
  bundle: true,
  format: "esm",
  minify: true,
  legalComments: "eof",
  outfile: new URL("codemirror.js", out).pathname,
});
const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const lines = Object.entries(lock.packages)
  .filter(([path]) => path.startsWith("node_modules/") && !path.includes("esbuild"))
  .map(([path, info]) => `${path.slice("node_modules/".length)} ${info.version} ${info.license ?? ""}`.trim())
  .sort();
writeFileSync(new URL("VERSIONS", out),
  "# CodeMirror 6, bundled by tools/vendor-codemirror (npm ci && npm run build)\n" +
  lines.join("\n") + "\n");
console.log("wrote", out.pathname);
