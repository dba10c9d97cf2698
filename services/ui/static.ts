// The page itself: the files of services/ui/public (HTML, CSS, browser modules; no build step), read once at start-up
// and served by name only, so no path can reach another file.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

/** Scripts only from this origin, no inline script, no framing, nothing sent elsewhere. */
const SECURITY_HEADERS = {
  "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

/**
 * The folder of the page's files: `public/` beside this module when it holds index.html, else the nearest
 * `services/ui/public` above it (the compiled dist/services/ui/ has no HTML or CSS: they stay in the sources).
 */
export function publicDir(from = dirname(fileURLToPath(import.meta.url))): string {
  if (existsSync(join(from, "public", "index.html"))) return join(from, "public");
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, "services", "ui", "public");
    if (existsSync(join(candidate, "index.html"))) return candidate;
    if (dirname(dir) === dir) throw new Error(`cannot find the dashboard's files (services/ui/public/index.html) above ${from}`);
  }
}

export interface StaticFiles {
  /** Answers a GET for `/` (index.html) or `/<file>`; a first `?token=` visit is redirected without the token. */
  serve(req: IncomingMessage, res: ServerResponse, url: URL, tokenInUrl: boolean): void;
}

/** Reads every file of `dir` with a known type now (a missing or unreadable folder throws at start-up, not later). */
export function loadStaticFiles(dir: string): StaticFiles {
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type) files.set(`/${name}`, { type, body: readFileSync(join(dir, name)) });
  }
  return {
    serve(req, res, url, tokenInUrl) {
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { Allow: "GET, HEAD" }).end();
        return;
      }
      if (tokenInUrl) {
        // The cookie is set: the token leaves the address bar (and the history) at once.
        url.searchParams.delete("token");
        res.writeHead(303, { Location: `${url.pathname}${url.search}` }).end();
        return;
      }
      const file = files.get(url.pathname === "/" ? "/index.html" : url.pathname);
      if (!file) {
        res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end(`no such file ${url.pathname}\n`);
        return;
      }
      res.writeHead(200, { "Content-Type": file.type, "Content-Length": file.body.length, "Cache-Control": "no-cache", ...SECURITY_HEADERS });
      res.end(req.method === "HEAD" ? undefined : file.body);
    },
  };
}
