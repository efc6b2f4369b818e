/**
 * The web UI: the static files Vite builds into `web/dist`, served at `/`. Paths that are not
 * files (`/chat/<id>`, …) get `index.html`, so the UI's own routes survive a reload; `/api`,
 * `/ws` and `/docs` keep their own 404s. Without a build, a short page says how to make one.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Where `npm run build:web` writes the UI. */
export const defaultWebRoot = fileURLToPath(new URL('../../web/dist', import.meta.url));

/** Paths that never fall back to the UI: their unknown routes answer problem+json 404s. */
const reservedPrefixes = /^\/(?:api|ws|docs|health|ready)(?:[/?]|$)/;

/**
 * The UI renders model output, so the page allows no script but its own bundle, no images
 * from elsewhere (a markdown image is a classic way to leak a conversation) and no framing.
 */
const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The policy for one response. Its own host's WebSocket URLs are named too: `'self'` covers
 * them in current browsers, not in older Safari.
 */
function policyFor(host: string): string {
  if (!/^[A-Za-z0-9.:[\]-]+$/.test(host)) return contentSecurityPolicy;
  return contentSecurityPolicy.replace(
    "connect-src 'self'",
    `connect-src 'self' ws://${host} wss://${host}`,
  );
}

export interface WebUiOptions {
  /** The built UI (a folder with `index.html`); defaults to `web/dist`. */
  root?: string;
}

/** Registers `GET /` and the UI's files and routes. */
export async function registerWebUi(
  app: FastifyInstance,
  { root = defaultWebRoot }: WebUiOptions = {},
): Promise<void> {
  const built = () => existsSync(join(root, 'index.html'));
  if (!built()) {
    app.log.warn(
      { root },
      'the web UI is not built: / shows how to build it (npm run build:web, or npm start)',
    );
  }
  await app.register(fastifyStatic, { root, serve: false });

  const sendIndex = (reply: FastifyReply, host: string) =>
    reply
      .header('content-security-policy', policyFor(host))
      .header('x-content-type-options', 'nosniff')
      .sendFile('index.html', root, { cacheControl: false })
      .header('cache-control', 'no-cache');

  app.get<{ Params: { '*': string } }>('/*', function webUi(request, reply) {
    // The router has decoded the path already (`%20` → space); `send` keeps it inside root.
    const path = `/${request.params['*']}`;
    if (reservedPrefixes.test(path)) return reply.callNotFound();
    // Checked on each request, so a UI built while the server runs is picked up.
    if (!built()) return reply.code(503).type('text/html').send(notBuiltPage);
    const lastSegment = path.slice(path.lastIndexOf('/') + 1);
    if (!lastSegment.includes('.') || lastSegment === 'index.html')
      return sendIndex(reply, request.host);
    // Vite names assets by content hash: they never change under the same name.
    const hashed = path.startsWith('/assets/');
    return reply.sendFile(path.slice(1), root, {
      maxAge: hashed ? '365d' : 0,
      immutable: hashed,
    });
  });
}

const notBuiltPage = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Parley: web UI not built</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5">
<h1>Parley is running, but its web UI is not built</h1>
<p>Build it once with <code>npm run build:web</code> (or restart with <code>npm start</code>,
which builds it when its sources changed), then reload this page.</p>
<p>The server itself works: the WebSocket API is at <code>/ws/session</code>, the history API
at <code>/api/sessions</code>, and its documentation at <a href="/docs">/docs</a>.</p>
</body>
</html>
`;
