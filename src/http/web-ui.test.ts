import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { registerProblemHandlers } from './problem.ts';
import { registerWebUi } from './web-ui.ts';

let root: string;
let app: FastifyInstance;

async function start(): Promise<FastifyInstance> {
  app = Fastify({ logger: false });
  registerProblemHandlers(app);
  app.get('/api/sessions', async () => ({ sessions: [] }));
  await registerWebUi(app, { root });
  return app;
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'parley-web-'));
});
afterEach(async () => {
  await app?.close();
  await rm(root, { recursive: true, force: true });
});

describe('with a built UI', () => {
  beforeEach(async () => {
    await mkdir(join(root, 'assets'));
    await writeFile(join(root, 'index.html'), '<!doctype html><title>Parley</title>');
    await writeFile(join(root, 'assets', 'index-abc123.js'), 'console.log(1)');
    await writeFile(join(root, 'favicon.svg'), '<svg/>');
    await start();
  });

  test('serves index.html at / with a strict content security policy', async () => {
    const response = await app.inject('/');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/html');
    expect(response.body).toContain('<title>Parley</title>');
    expect(response.headers['content-security-policy']).toContain("script-src 'self'");
    expect(response.headers['content-security-policy']).toContain(
      "connect-src 'self' ws://localhost:80 wss://localhost:80",
    );
    expect(response.headers['cache-control']).toBe('no-cache');
  });

  test("the UI's own routes get index.html, so a reload keeps the page", async () => {
    const response = await app.inject('/chat/5f0c2a3e-1111-4222-8333-944445555666');
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('<title>Parley</title>');
  });

  test('hashed assets are cached for good; other files are not', async () => {
    const asset = await app.inject('/assets/index-abc123.js');
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    const icon = await app.inject('/favicon.svg');
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['cache-control']).not.toContain('immutable');
  });

  test('API, WebSocket and docs paths keep their problem+json 404s; missing files 404', async () => {
    for (const path of ['/api/nope', '/ws/nope', '/docs/nope', '/assets/missing.js']) {
      const response = await app.inject(path);
      expect(response.statusCode, path).toBe(404);
      expect(response.headers['content-type'], path).toContain('application/problem+json');
    }
    expect((await app.inject('/api/sessions')).json()).toEqual({ sessions: [] });
  });

  test('nothing outside the build is served', async () => {
    const response = await app.inject('/assets/..%2f..%2fpackage.json');
    expect(response.statusCode).not.toBe(200);
  });
});

test('without a build, / says how to make one instead of failing', async () => {
  await start();
  const response = await app.inject('/');
  expect(response.statusCode).toBe(503);
  expect(response.body).toContain('npm run build:web');
  // Built while the server runs: served from the next request on.
  await writeFile(join(root, 'index.html'), '<!doctype html><title>Parley</title>');
  expect((await app.inject('/')).statusCode).toBe(200);
});
