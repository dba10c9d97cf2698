// Terminal text for the board: how wide a line shows (ANSI colour codes take no room, East Asian wide characters
// and emoji two columns), cutting a line to a width, and making untrusted text (a task's output) safe to draw.

/** An SGR colour sequence, as colors.ts writes them. */
const SGR = /\x1b\[[0-9;]*m/y;
/** Any escape sequence (CSI, OSC, or a lone ESC and its next character) and every other control character. */
const UNSAFE = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b.?|[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

const WIDE: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f], [0x2e80, 0x303e], [0x3041, 0x33ff], [0x3400, 0x4dbf], [0x4e00, 0x9fff], [0xa000, 0xa4cf],
  [0xac00, 0xd7a3], [0xf900, 0xfaff], [0xfe30, 0xfe4f], [0xff00, 0xff60], [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f], [0x1f900, 0x1f9ff], [0x20000, 0x3fffd],
];

/** Columns one character takes: 0 for combining marks and zero-width joiners, 2 for wide ones, else 1. */
export function charWidth(char: string): number {
  const code = char.codePointAt(0) ?? 0;
  if ((code >= 0x300 && code <= 0x36f) || code === 0x200d || (code >= 0xfe00 && code <= 0xfe0f)) return 0;
  return WIDE.some(([low, high]) => code >= low && code <= high) ? 2 : 1;
}

/** How many columns `text` shows (colour codes excluded). */
export function visibleWidth(text: string): number {
  let width = 0;
  for (const part of pieces(text)) if (!part.code) width += charWidth(part.text);
  return width;
}

/**
 * `text` cut to at most `width` columns, with "…" where it was cut; colour codes are kept (they take no room) and a
 * cut coloured line ends with a reset, so nothing bleeds into the next line. Text that fits is returned as is.
 */
export function fit(text: string, width: number): string {
  if (width <= 0) return "";
  if (visibleWidth(text) <= width) return text;
  let out = "";
  let used = 0;
  let coloured = false;
  for (const part of pieces(text)) {
    if (part.code) {
      out += part.text;
      coloured = true;
      continue;
    }
    const size = charWidth(part.text);
    if (used + size > width - 1) break;
    out += part.text;
    used += size;
  }
  return `${out}…${coloured ? "\x1b[0m" : ""}`;
}

/** `text` padded with spaces to `width` columns (cut with "…" when longer). */
export function pad(text: string, width: number): string {
  const cut = fit(text, width);
  return cut + " ".repeat(Math.max(0, width - visibleWidth(cut)));
}

/**
 * Untrusted text (a task's output line, a question) made safe to draw on one line: escape sequences and control
 * characters removed, tabs and newlines turned into spaces, runs of spaces folded, ends trimmed.
 */
export function clean(text: string): string {
  return text.replace(/[\t\n\r]/g, " ").replace(UNSAFE, "").replace(/ {2,}/g, " ").trim();
}

/** The characters of `text` one by one, each colour sequence as one piece marked `code`. */
function* pieces(text: string): Generator<{ text: string; code: boolean }> {
  let index = 0;
  while (index < text.length) {
    SGR.lastIndex = index;
    const match = SGR.exec(text);
    if (match) {
      yield { text: match[0], code: true };
      index += match[0].length;
      continue;
    }
    const char = String.fromCodePoint(text.codePointAt(index)!);
    yield { text: char, code: false };
    index += char.length;
  }
}
