// The text of a command's output as a terminal would show it, and the bounded tail that gate events carry.
// Pure: no I/O.
import { stripVTControlCharacters } from "node:util";

/** What the terminal would show: ANSI/VT sequences and other control characters (but tabs) removed,
 *  CRLF → LF, and for a line redrawn with a bare CR (progress bars) only the text after the last CR. */
export function cleanOutput(output: string): string {
  return stripVTControlCharacters(output)
    .replace(/\r\n/g, "\n")
    .split("\n")
    .map((line) => line.slice(line.lastIndexOf("\r") + 1).replace(/[\x00-\x08\x0b-\x1f\x7f]/g, ""))
    .join("\n");
}

/** The end of a command's output for an event: ANSI stripped, at most `maxLines` lines and `maxChars`
 *  characters (a line cut by the character bound is dropped unless it is the only one). */
export function outputTail(output: string, maxLines = 40, maxChars = 4000): string {
  const lines = cleanOutput(output).trimEnd().split("\n");
  let tail = lines.slice(Math.max(0, lines.length - maxLines)).join("\n");
  if (tail.length > maxChars) {
    tail = tail.slice(tail.length - maxChars);
    const nl = tail.indexOf("\n");
    if (nl >= 0) tail = tail.slice(nl + 1);
  }
  return tail;
}
