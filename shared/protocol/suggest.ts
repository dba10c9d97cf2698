// "Did you mean …?": the nearest of a few known names to a misspelt one, by edit distance. Pure.

/** Edit distance between two strings: insert, delete, substitute and swap two neighbours cost 1 each. */
export function editDistance(from: string, to: string): number {
  let before: number[] = [];
  let prev = Array.from({ length: to.length + 1 }, (_, col) => col);
  for (let row = 1; row <= from.length; row++) {
    const cur = [row];
    for (let col = 1; col <= to.length; col++) {
      const cost = from[row - 1] === to[col - 1] ? 0 : 1;
      cur[col] = Math.min(prev[col]! + 1, cur[col - 1]! + 1, prev[col - 1]! + cost);
      if (row > 1 && col > 1 && from[row - 1] === to[col - 2] && from[row - 2] === to[col - 1]) cur[col] = Math.min(cur[col]!, before[col - 2]! + 1);
    }
    before = prev;
    prev = cur;
  }
  return prev[to.length]!;
}

/**
 * The known name closest to `name` when it is close enough to be a typo (at most a third of its length,
 * rounded up, edits away; case differences count as none), else undefined. Ties go to the first.
 */
export function nearest(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = name.toLowerCase();
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best !== undefined && bestDistance <= Math.ceil(name.length / 3) ? best : undefined;
}

/** ` (did you mean "x"?)` when a known name is near `name`, else "". */
export function didYouMean(name: string, known: Iterable<string>): string {
  const hit = nearest(name, known);
  return hit !== undefined && hit !== name ? ` (did you mean "${hit}"?)` : "";
}
