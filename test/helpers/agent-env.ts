// The environment agent CLIs get in tests: a HOME of their own (an empty folder), so the shell their tools start
// reads none of this machine's dotfiles. Why: this machine's ~/.bashrc runs `pyenv init`, whose rehash takes a lock
// file; an agent killed in the middle of starting its shell (the stall, cancel and budget tests kill agents on
// purpose) leaves that lock behind, and every later interactive or login bash then waits 60 s for it — Claude Code's
// Bash tool moves such a command to the background and the test times out.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

let home: string | undefined;

/** `{ HOME }`: one empty folder per test process, for the role `env` of agent roles. */
export function agentHome(): { HOME: string } {
  home ??= mkdtempSync(join(tmpdir(), "baton-agent-home-"));
  return { HOME: home };
}
