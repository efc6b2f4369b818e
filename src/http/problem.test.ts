import Fastify, { type FastifyInstance } from 'fastify';
import {
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { afterEach, describe, expect, test } from 'vitest';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import { registerProblemHandlers } from './problem.ts';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** A small app with the problem handlers and routes that fail in each way. */
function buildApp(): FastifyInstance {
  app = Fastify({ logger: false });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerProblemHandlers(app);
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.post(
    '/items/:id',
    {
      schema: {
        params: z.object({ id: z.uuid() }),
        body: z.object({ name: z.string(), tags: z.array(z.string()) }),
        response: { 200: z.object({ ok: z.boolean() }) },
      },
    },
    async function createItem() {
      return { ok: true };
    },
  );
  api.get('/conflict', async function conflict() {
    throw new AppError('session_active', { status: 409, message: 'Still active.' });
  });
  api.get('/crash', async function crash() {
    throw new Error('password=hunter2 at db.internal:5432');
  });
  api.get(
    '/bad-response',
    { schema: { response: { 200: z.object({ ok: z.boolean() }) } } },
    async function badResponse() {
      return { ok: 'yes' } as unknown as { ok: boolean };
    },
  );
  return app;
}

async function call(method: 'GET' | 'POST', url: string, payload?: unknown) {
  const response = await buildApp().inject({
    method,
    url,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  return { status: response.statusCode, body: response.json() as Record<string, unknown> };
}

describe('problem+json errors', () => {
  test('a validation failure names each field', async () => {
    const { status, body } = await call('POST', '/items/00000000-0000-4000-8000-000000000000', {
      name: 1,
      tags: ['a', 2],
    });
    expect(status).toBe(400);
    expect(body).toMatchObject({
      type: 'https://parley.dev/problems/invalid_request',
      title: 'Invalid request',
      status: 400,
      code: 'invalid_request',
    });
    expect(body.errors).toEqual([
      { field: 'body.name', message: expect.any(String) },
      { field: 'body.tags.1', message: expect.any(String) },
    ]);
    expect(body.detail).toContain('body.name');
  });

  test('params are reported as params', async () => {
    const { status, body } = await call('POST', '/items/nope', { name: 'x', tags: [] });
    expect(status).toBe(400);
    expect(body.errors).toEqual([{ field: 'params.id', message: expect.any(String) }]);
  });

  test('malformed JSON is a 400 invalid_request', async () => {
    const response = await buildApp().inject({
      method: 'POST',
      url: '/items/00000000-0000-4000-8000-000000000000',
      headers: { 'content-type': 'application/json' },
      payload: '{"name":',
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ code: 'invalid_request', status: 400 });
  });

  test('an AppError keeps its status, code and message', async () => {
    const { status, body } = await call('GET', '/conflict');
    expect(status).toBe(409);
    expect(body).toEqual({
      type: 'https://parley.dev/problems/session_active',
      title: 'Session is active',
      status: 409,
      detail: 'Still active.',
      code: 'session_active',
    });
  });

  test('anything else is a 500 that does not leak internals', async () => {
    const { status, body } = await call('GET', '/crash');
    expect(status).toBe(500);
    expect(body).toMatchObject({ code: 'internal_error', status: 500 });
    expect(JSON.stringify(body)).not.toContain('hunter2');
  });

  test('a response that breaks its own schema is a 500', async () => {
    const { status, body } = await call('GET', '/bad-response');
    expect(status).toBe(500);
    expect(body).toMatchObject({ code: 'internal_error' });
  });

  test('an unknown route is a 404 not_found', async () => {
    const { status, body } = await call('GET', '/nowhere?user_id=x');
    expect(status).toBe(404);
    expect(body).toMatchObject({
      type: 'https://parley.dev/problems/not_found',
      code: 'not_found',
      detail: 'No route for GET /nowhere.',
    });
  });
});
