/**
 * HTTP errors as `application/problem+json` (RFC 9457), mapped in this one place: request
 * validation failures, `AppError`, Fastify's own client errors, unknown routes, and the rest.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../errors.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const PROBLEM_TYPE_BASE = 'https://parley.dev/problems/';

export const FieldError = z.object({
  field: z.string().describe('Where the bad value is, e.g. `query.limit` or `params.id`'),
  message: z.string(),
});
export type FieldError = z.infer<typeof FieldError>;

export const Problem = z
  .object({
    type: z.string().describe(`${PROBLEM_TYPE_BASE}<code>`),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().describe('Stable, machine-readable error code'),
    errors: z.array(FieldError).optional(),
  })
  .describe('An RFC 9457 problem');
export type Problem = z.infer<typeof Problem>;

/** Titles of the codes the HTTP API uses; other codes fall back to the status text. */
const titles: Record<string, string> = {
  invalid_request: 'Invalid request',
  not_found: 'Not found',
  session_active: 'Session is active',
  method_not_allowed: 'Method not allowed',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  internal_error: 'Internal server error',
};

/** Codes for Fastify's own client errors (bad JSON body, wrong content type, …), by status. */
const clientErrorCodes: Record<number, string> = {
  400: 'invalid_request',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

/** Builds a problem document; `title` comes from the code. */
export function problem({
  status,
  code,
  detail,
  errors,
}: {
  status: number;
  code: string;
  detail: string;
  errors?: FieldError[] | undefined;
}): Problem {
  return {
    type: `${PROBLEM_TYPE_BASE}${code}`,
    title: titles[code] ?? STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    code,
    ...(errors === undefined ? {} : { errors }),
  };
}

/**
 * Documents the problem responses of a route for OpenAPI, e.g. `problemResponses(400, 404)`.
 * Problems are sent pre-serialized by the error handler, so these schemas never run.
 */
export function problemResponses<const S extends number>(...statuses: S[]) {
  const response = {
    description: 'Problem details (RFC 9457)',
    content: { [PROBLEM_CONTENT_TYPE]: { schema: Problem } },
  };
  return Object.fromEntries(statuses.map((status) => [status, response])) as Record<
    S,
    typeof response
  >;
}

/** Sets the app's one error handler and its not-found handler. Call on the root instance. */
export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler(function problemErrorHandler(error: FastifyError, request, reply) {
    const body = toProblem(error, request);
    return sendProblem(reply, body);
  });
  app.setNotFoundHandler(function problemNotFound(request, reply) {
    const path = request.url.split('?', 1)[0];
    return sendProblem(
      reply,
      problem({
        status: 404,
        code: 'not_found',
        detail: `No route for ${request.method} ${path}.`,
      }),
    );
  });
}

function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  // A string with a JSON content type bypasses the route's response serializers.
  return reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
}

function toProblem(error: FastifyError, request: FastifyRequest): Problem {
  if (Array.isArray(error.validation)) {
    const errors = validationErrors(error);
    return problem({
      status: 400,
      code: 'invalid_request',
      detail: errors.map((entry) => `${entry.field}: ${entry.message}`).join('; '),
      errors,
    });
  }
  if (error instanceof AppError) {
    // AppError messages are written for clients (they also become WebSocket `error` events).
    if (error.status >= 500) request.log.error({ err: error }, 'request failed');
    const errors = FieldError.array().safeParse(error.details?.errors);
    return problem({
      status: error.status,
      code: error.code,
      detail: error.message,
      errors: errors.success ? errors.data : undefined,
    });
  }
  const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
  if (status >= 400 && status < 500) {
    // Fastify's own client errors (malformed JSON, unsupported media type, …) say what is wrong.
    return problem({
      status,
      code: clientErrorCodes[status] ?? 'invalid_request',
      detail: error.message,
    });
  }
  request.log.error({ err: error }, 'request failed');
  return problem({
    status: 500,
    code: 'internal_error',
    detail: 'The server failed to handle this request.',
  });
}

const contextNames: Record<string, string> = {
  querystring: 'query',
  params: 'params',
  body: 'body',
  headers: 'headers',
};

/** One `{ field, message }` per failed check: `query.limit`, `params.id`, `body.items.0.name`. */
function validationErrors(error: FastifyError): FieldError[] {
  const context =
    contextNames[error.validationContext ?? ''] ?? error.validationContext ?? 'request';
  return (error.validation ?? []).map((issue) => {
    const segments = issue.instancePath.split('/').filter((segment) => segment !== '');
    // JSON-schema validators report a missing property on the parent object.
    const missing = issue.params?.missingProperty;
    if (typeof missing === 'string') segments.push(missing);
    return { field: [context, ...segments].join('.'), message: issue.message ?? 'is invalid' };
  });
}
