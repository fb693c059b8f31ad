// Validate AsyncAPI documents with the official parser: `node validate.mjs FILE...`.
// Prints every diagnostic; exits 1 when a document has an error (or a warning: a contract
// partners read should carry none), 0 when all are clean.
import { readFile } from "node:fs/promises";
import { Parser, fromFile } from "@asyncapi/parser";

const SEVERITY = ["error", "warning", "info", "hint"];
const parser = new Parser();
let failed = false;
for (const file of process.argv.slice(2)) {
  const { document, diagnostics } = await fromFile(parser, file).parse();
  const serious = diagnostics.filter((d) => d.severity <= 1);
  for (const d of diagnostics) {
    const where = d.path.join("/") || "(document)";
    console.log(`${file}: ${SEVERITY[d.severity]} ${d.code} at ${where}: ${d.message}`);
  }
  if (document === undefined || serious.length > 0) {
    failed = true;
  } else {
    console.log(`${file}: valid AsyncAPI ${document.version()}, ${document.messages().length} messages`);
  }
}
process.exit(failed ? 1 : 0);
