// Terminal colours for every CLI line: ANSI codes only on a terminal and without NO_COLOR. No imports, so that
// `baton --help` and a usage error load nothing more.

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const color = (code: number) => (text: string) => (useColor ? `\x1b[${code}m${text}\x1b[0m` : text);
export const green = color(32), red = color(31), yellow = color(33), dim = color(2), bold = color(1), cyan = color(36);
