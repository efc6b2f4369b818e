/**
 * The OpenAPI document, generated from the routes' zod schemas, at `/docs/json` (and
 * `/docs/yaml`), and Swagger UI at `/docs`, served from the package (works offline).
 */
import swagger, { type SwaggerTransform } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import packageJson from '../../package.json' with { type: 'json' };

/**
 * WebSocket routes are GETs to Fastify but cannot be described by OpenAPI; the protocol is
 * documented in docs/protocol.md instead.
 */
const documentRoute: SwaggerTransform = function documentRoute(document) {
  if (document.url.startsWith('/ws/')) return { schema: { hide: true }, url: document.url };
  return jsonSchemaTransform(document);
};

/**
 * Registers the OpenAPI generator and Swagger UI. Call before any route is added: the
 * generator collects routes as they are registered.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Parley',
        version: packageJson.version,
        description: [
          packageJson.description,
          'Conversations themselves run over the WebSocket `GET /ws/session/{session_id}?user_id=…`;',
          'see docs/protocol.md. Errors are `application/problem+json` (RFC 9457).',
        ].join(' '),
      },
      tags: [{ name: 'sessions', description: 'Past and live sessions and their stored events' }],
    },
    transform: documentRoute,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}
