// What each task did last, as the board shows it: the latest task.progress (tool, files, text) or task.log line.
import type { StatusEvent } from "../../../shared/protocol/events.ts";
import { clean } from "./text.ts";

/** Task id → its last progress or output line (already made safe to draw: see `clean`). */
export type RecentLines = Map<string, string>;

/**
 * Keeps `event`'s news in `recent`: a task.progress event's tool, files and text, or a task.log event's last non-blank
 * line; a new dispatch of a task forgets its previous attempt's line. Returns whether `recent` changed. Pure apart
 * from the mutation.
 */
export function noteRecent(recent: RecentLines, event: StatusEvent): boolean {
  switch (event.kind) {
    case "task.progress": {
      const line = clean([event.tool ?? "", event.files?.join(", ") ?? "", event.text ?? ""].filter(Boolean).join(" "));
      return line ? set(recent, event.taskId, line) : false;
    }
    case "task.log": {
      const line = event.lines.map(clean).findLast(Boolean);
      return line ? set(recent, event.taskId, line) : false;
    }
    case "task.dispatched":
      return recent.delete(event.taskId);
    default:
      return false;
  }
}

function set(recent: RecentLines, taskId: string, line: string): boolean {
  if (recent.get(taskId) === line) return false;
  recent.set(taskId, line);
  return true;
}
