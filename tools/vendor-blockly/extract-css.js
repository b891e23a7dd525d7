// Prints Blockly's common stylesheet (what Blockly.inject would put in a <style> element).
// The kit's CSP forbids inline <style>, so the page injects Blockly with `css: false` and
// links this text as a file instead. Run by ./vendor (node, no DOM: a minimal stand-in).
"use strict";
let captured = null;
global.window = {};
global.document = { head: { prepend(node) { captured = node; } }, createElement: () => ({}) };
const Blockly = require(process.argv[2] + "/blockly_compressed.js");
require(process.argv[2] + "/blocks_compressed.js");
Blockly.Css.inject({ getRootNode: () => ({}) }, true, process.argv[3] || "media");
if (!captured || !captured.textContent) {
  console.error("Blockly.Css.inject made no stylesheet: its internals changed; update this script");
  process.exit(1);
}
process.stdout.write("/* Blockly " + process.argv[4] + " common CSS, extracted by tools/vendor-blockly */\n");
process.stdout.write(captured.textContent);
