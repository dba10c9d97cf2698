// Where the dashboard draws each task of a feature's DAG: columns by dependency depth (a task sits one column right
// of its deepest dependency), rows ordered to keep edges short. Pure: the page draws the SVG from these numbers.

export const NODE_WIDTH = 212;
export const NODE_HEIGHT = 58;
const GAP_X = 64;
const GAP_Y = 22;
const MARGIN = 16;

export interface DagInput {
  id: string;
  dependsOn: readonly string[];
}

export interface DagNode {
  id: string;
  /** Column: 0 for a task without dependencies, else 1 + the deepest dependency's column. */
  layer: number;
  /** Row within its column, from 0. */
  order: number;
  /** Top-left corner, in SVG units. */
  x: number;
  y: number;
}

export interface DagLayout {
  nodes: DagNode[];
  /** Dependency → dependent, only between tasks of the input. */
  edges: { from: string; to: string }[];
  width: number;
  height: number;
  nodeWidth: number;
  nodeHeight: number;
}

/**
 * Lays out `tasks` (any order). Dependencies on ids not in the input are ignored; a cycle (plans are checked to have
 * none) cannot loop: a task met again while its depth is being computed counts as depth 0. Deterministic: the same
 * input gives the same layout. Each column is ordered by the mean row of its tasks' dependencies, ties by input order.
 */
export function layoutDag(tasks: readonly DagInput[]): DagLayout {
  const known = new Map(tasks.map((task, index) => [task.id, { task, index }]));
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const depthOf = (id: string): number => {
    const seen = depth.get(id);
    if (seen !== undefined) return seen;
    if (visiting.has(id)) return 0;
    visiting.add(id);
    const deps = known.get(id)?.task.dependsOn.filter((dep) => known.has(dep)) ?? [];
    const value = deps.length ? 1 + Math.max(...deps.map(depthOf)) : 0;
    visiting.delete(id);
    depth.set(id, value);
    return value;
  };
  const layers: string[][] = [];
  for (const task of tasks) (layers[depthOf(task.id)] ??= []).push(task.id);
  const row = new Map<string, number>();
  for (const layer of layers) {
    if (!layer) continue;
    const weight = (id: string): number => {
      const rows = (known.get(id)?.task.dependsOn ?? []).map((dep) => row.get(dep)).filter((value): value is number => value !== undefined);
      return rows.length ? rows.reduce((sum, value) => sum + value, 0) / rows.length : -1;
    };
    layer.sort((left, right) => weight(left) - weight(right) || known.get(left)!.index - known.get(right)!.index);
    layer.forEach((id, order) => row.set(id, order));
  }
  const tallest = Math.max(0, ...layers.map((layer) => layer?.length ?? 0));
  const height = tallest ? MARGIN * 2 + tallest * NODE_HEIGHT + (tallest - 1) * GAP_Y : 0;
  const nodes: DagNode[] = [];
  layers.forEach((layer, index) => {
    // Each column is centred vertically against the tallest one.
    const offset = ((tallest - layer.length) * (NODE_HEIGHT + GAP_Y)) / 2;
    layer.forEach((id, order) => nodes.push({ id, layer: index, order, x: MARGIN + index * (NODE_WIDTH + GAP_X), y: MARGIN + offset + order * (NODE_HEIGHT + GAP_Y) }));
  });
  nodes.sort((left, right) => known.get(left.id)!.index - known.get(right.id)!.index);
  const edges = tasks.flatMap((task) => task.dependsOn.filter((dep) => known.has(dep) && dep !== task.id).map((dep) => ({ from: dep, to: task.id })));
  const width = layers.length ? MARGIN * 2 + layers.length * NODE_WIDTH + (layers.length - 1) * GAP_X : 0;
  return { nodes, edges, width, height, nodeWidth: NODE_WIDTH, nodeHeight: NODE_HEIGHT };
}
