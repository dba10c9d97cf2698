import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { createApp } from "../src/app.js";

async function start() {
  const server = createApp().listen(0);
  await once(server, "listening");
  const { port } = server.address();
  return { base: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) };
}

test("GET /health answers ok", async () => {
  const app = await start();
  try {
    const res = await fetch(`${app.base}/health`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type"), /application\/json/);
    assert.deepEqual(await res.json(), { status: "ok" });
  } finally {
    await app.close();
  }
});

test("unknown paths get a JSON 404", async () => {
  const app = await start();
  try {
    const res = await fetch(`${app.base}/nope`);
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { error: "no route for /nope" });
  } finally {
    await app.close();
  }
});
