// A minimal HTTP app: `createApp()` returns a node:http server that is not listening yet.
// Routes are plain functions in a table; the Baton demo's agents add more of them.
import { createServer } from "node:http";
import { HttpError, sendJson } from "./http.js";

function health(_req, res) {
  sendJson(res, 200, { status: "ok" });
}

/**
 * Creates the app's HTTP server (not listening yet). Each call gets its own routes and state,
 * so tests can start as many independent apps as they like.
 */
export function createApp() {
  /** [path, handler]: a handler serves its path and everything below it, and gets (req, res, pathname). */
  const routes = [
    ["/health", health],
  ];
  const route = (pathname) => routes.find(([p]) => pathname === p || pathname.startsWith(`${p}/`))?.[1];

  return createServer(async (req, res) => {
    const { pathname } = new URL(req.url ?? "/", "http://localhost");
    const handler = route(pathname);
    try {
      if (!handler) return sendJson(res, 404, { error: `no route for ${pathname}` });
      await handler(req, res, pathname);
    } catch (e) {
      if (res.headersSent) return res.destroy();
      if (e instanceof HttpError) return sendJson(res, e.status, { error: e.message });
      console.error(e);
      sendJson(res, 500, { error: "internal error" });
    }
  });
}
