// Where in the document a refusal of a policy points: the server names the line
// ("line 2: ...", "TOML parse error at line 1, column 7") or else the key at fault
// ("category.legal_aid.reply: ..."), which is looked up in the text as written.

/** The 1-based line of `text` that `message` (the refusal, without `toml: `) is about. */
export function errorLine(message: string, text: string): number | undefined {
  const line = /\bline (\d+)\b/.exec(message);
  if (line) return Number(line[1]);
  const key = /^([A-Za-z_][\w-]*(?:\.[\w-]+)*):/.exec(message);
  return key ? keyLine(key[1], text) : undefined;
}

/**
 * The line that sets `path` (`category.legal_aid.reply`): the key itself, else the
 * header of its table (`[category.divorce]`), else the first table under it, else the
 * nearest table above it.
 */
export function keyLine(path: string, text: string): number | undefined {
  let table = "";
  let under: number | undefined;
  let above: { line: number; depth: number } | undefined;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].replace(/#.*$/, "").trim();
    const header = /^\[\s*([^[\]]+?)\s*\]$/.exec(raw);
    let full: string;
    if (header) {
      table = dotted(header[1]);
      full = table;
    } else {
      const kv = /^([\w."' -]+?)\s*=/.exec(raw);
      if (!kv) continue;
      full = table ? `${table}.${dotted(kv[1])}` : dotted(kv[1]);
    }
    if (full === path) return i + 1;
    if (under === undefined && full.startsWith(`${path}.`)) under = i + 1;
    if (header && path.startsWith(`${full}.`) && (!above || full.length > above.depth)) {
      above = { line: i + 1, depth: full.length };
    }
  }
  return under ?? above?.line;
}

/** `category . "legal_aid"` -> `category.legal_aid` */
function dotted(key: string): string {
  return key
    .split(".")
    .map((part) => part.trim().replace(/^["']|["']$/g, ""))
    .join(".");
}
