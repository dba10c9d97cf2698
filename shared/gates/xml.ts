// A small, strict XML reader for test and coverage reports: elements, attributes (any order, either quote)
// and entities; text, comments, CDATA, processing instructions and a DOCTYPE without an internal subset are
// skipped. Enough for JUnit XML without a dependency; not a general-purpose parser (no namespaces, no DTD). Pure.

/** One element: its name, decoded attributes and child elements (text is not kept). */
export interface XmlElement {
  name: string;
  attrs: Map<string, string>;
  children: XmlElement[];
}

const NAME = "[A-Za-z_][\\w.:-]*";
/** One token at the cursor: comment | CDATA | PI | DOCTYPE | close tag | open tag | text. */
const TOKEN = new RegExp(
  [
    "<!--[\\s\\S]*?-->",
    "<!\\[CDATA\\[[\\s\\S]*?\\]\\]>",
    "<\\?[\\s\\S]*?\\?>",
    "<!DOCTYPE[^>\\[]*>",
    `</(${NAME})\\s*>`,
    `<(${NAME})((?:\\s+${NAME}\\s*=\\s*(?:"[^"<]*"|'[^'<]*'))*)\\s*(/?)>`,
    "[^<]+",
  ].join("|"),
  "y",
);
const ATTR = new RegExp(`(${NAME})\\s*=\\s*(?:"([^"]*)"|'([^']*)')`, "g");
const NAMED: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

/** Decodes the five named entities and numeric character references; anything else (a bare `&`, an entity
 *  a DTD would define) is left as written, since a report's names matter more than its strictness. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[A-Za-z]+);/g, (whole, ref: string) => {
    if (!ref.startsWith("#")) return NAMED[ref] ?? whole;
    const code = ref[1] === "x" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

function attributes(source: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const match of source.matchAll(ATTR)) {
    if (out.has(match[1]!)) throw new Error(`attribute ${match[1]} given twice`);
    out.set(match[1]!, decodeEntities(match[2] ?? match[3] ?? ""));
  }
  return out;
}

/**
 * The document's root element. Throws an Error saying where when the text is not well-formed: a tag that
 * does not parse, a close tag that does not match, an unclosed element (a truncated file), text or a second
 * element outside the root.
 */
export function parseXml(text: string): XmlElement {
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  TOKEN.lastIndex = 0;
  const source = text.replace(/^\uFEFF/, "");
  while (TOKEN.lastIndex < source.length) {
    const at = TOKEN.lastIndex;
    const token = TOKEN.exec(source);
    if (!token) throw new Error(`malformed markup at character ${at}: ${JSON.stringify(source.slice(at, at + 40))}`);
    const [whole, closeName, openName, attrSource, selfClose] = token;
    if (closeName !== undefined) {
      const open = stack.pop();
      if (!open || open.name !== closeName) throw new Error(`</${closeName}> at character ${at} closes ${open ? `<${open.name}>` : "nothing"}`);
    } else if (openName !== undefined) {
      if (stack.length === 0 && root) throw new Error(`a second root element <${openName}> at character ${at}`);
      const element: XmlElement = { name: openName, attrs: attributes(attrSource ?? ""), children: [] };
      if (stack.length > 0) stack.at(-1)!.children.push(element);
      else root = element;
      if (selfClose !== "/") stack.push(element);
    } else if (whole.startsWith("<![CDATA[") && stack.length === 0) {
      throw new Error(`CDATA outside the root element at character ${at}`);
    } else if (!whole.startsWith("<") && stack.length === 0 && whole.trim() !== "") {
      throw new Error(`text outside the root element at character ${at}`);
    }
  }
  if (stack.length > 0) throw new Error(`<${stack.at(-1)!.name}> is never closed (truncated?)`);
  if (!root) throw new Error("no root element");
  return root;
}

/** Every element named `name` under `element` (depth first, document order), not looking inside matches. */
export function findAll(element: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  const visit = (node: XmlElement): void => {
    for (const child of node.children) {
      if (child.name === name) out.push(child);
      else visit(child);
    }
  };
  if (element.name === name) return [element];
  visit(element);
  return out;
}
