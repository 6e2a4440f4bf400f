// Prints the size of every file of dist/ and of the whole bundle, raw and gzipped, and
// fails when the gzipped total passes the budget.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET_GZ = 300 * 1024;
const root = new URL("../dist/", import.meta.url).pathname;

function files(dir) {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? files(path) : [path];
    });
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
let raw = 0;
let gz = 0;
for (const path of files(root)) {
  const data = readFileSync(path);
  const zipped = gzipSync(data, { level: 9 }).length;
  raw += data.length;
  gz += zipped;
  console.log(`${relative(root, path).padEnd(40)} ${kb(data.length).padStart(10)} ${kb(zipped).padStart(10)} gz`);
}
console.log(`${"total".padEnd(40)} ${kb(raw).padStart(10)} ${kb(gz).padStart(10)} gz (budget ${kb(BUDGET_GZ)})`);
if (gz > BUDGET_GZ) {
  console.error(`dist/ is ${kb(gz)} gzipped, over the budget of ${kb(BUDGET_GZ)}`);
  process.exit(1);
}
