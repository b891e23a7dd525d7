// Bundle entry.mjs into ../../labkit/web/static/vendor/codemirror/codemirror.js and write
// VERSIONS from the installed packages. Built once by a maintainer and committed; the kit
// never builds anything at run time or test time.
import { build } from "esbuild";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";

const out = new URL("../../labkit/web/static/vendor/codemirror/", import.meta.url);
mkdirSync(out, { recursive: true });
// The kit's pages forbid inline styles (CSP style-src 'self'). style-mod, which CodeMirror
// uses for its theme, writes a <style> element into a document's head and keeps constructed
// stylesheets (adoptedStyleSheets, which CSP permits) for shadow roots; this makes it use the
// constructed stylesheet for the document too.
const constructedStyles = {
  name: "style-mod-constructed-sheets",
  setup(b) {
    b.onLoad({ filter: /style-mod[\\/]src[\\/]style-mod\.js$/ }, (args) => {
      const text = readFileSync(args.path, "utf8");
      const patched = text.replace("!root.head && root.adoptedStyleSheets", "root.adoptedStyleSheets");
      if (patched === text) throw new Error("style-mod changed: review the CSP patch in build.mjs");
      return { contents: patched, loader: "js" };
    });
  },
};

await build({
  entryPoints: ["entry.mjs"],
  plugins: [constructedStyles],
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
