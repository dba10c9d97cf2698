// Markdown for the benchmark's reports: one table helper shared by every section.

/** A markdown table; the first column left-aligned, the others right-aligned unless `left`. */
export function table(head: string[], rows: (string | number)[][], left = false): string {
  const align = head.map((_, i) => (i && !left ? "---:" : "---")).join("|");
  return [`| ${head.join(" | ")} |`, `|${align}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}
