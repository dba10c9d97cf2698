// Demo "database" agent: writes the SQL migration for the todos table and hands its columns on.
import { runAgent, sleep, writeFile } from "./lib.mjs";

const MIGRATION = "migrations/001_create_todos.sql";

/** The table, described once: the SQL below and the handoff both come from it. */
const COLUMNS = [
  { name: "id", sql: "INTEGER PRIMARY KEY", type: "integer", nullable: false, generated: true },
  { name: "title", sql: "TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200)", type: "string", nullable: false, maxLength: 200 },
  { name: "done", sql: "BOOLEAN NOT NULL DEFAULT FALSE", type: "boolean", nullable: false },
  { name: "created_at", sql: "TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP", type: "timestamp", nullable: false, generated: true },
];

const sql = `-- 001_create_todos: the todos table behind GET/POST /todos.
-- SQLite dialect: id is the rowid alias, so each insert gets the next id automatically.

CREATE TABLE IF NOT EXISTS todos (
${COLUMNS.map((c) => `  ${c.name} ${c.sql}`).join(",\n")}
);

CREATE INDEX IF NOT EXISTS todos_created_at_idx ON todos (created_at);
`;

await runAgent("database", async (_task, say) => {
  say("designing the todos table");
  await sleep(400);
  say(`${writeFile(MIGRATION, sql)} ${MIGRATION}`);
  await sleep(300);
  return {
    summary: `todos table (${COLUMNS.length} columns) in ${MIGRATION}`,
    handoff: {
      migration: MIGRATION,
      table: "todos",
      columns: COLUMNS.map(({ sql: _s, ...c }) => c),
    },
  };
});
