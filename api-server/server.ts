// The api-server: one fastify instance, one encapsulated plugin per OpenStack service.
import { randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Config } from '../lib/config.js';
import type { Logger } from '../lib/log.js';
import type { ServerDependencies } from './common/dependencies.js';
import { keystoneErrorBody } from './common/error-bodies.js';
import { errorHandlerFor, notFoundHandlerFor } from './common/error-handler.js';
import { loadPolicyFile, PolicyEnforcer } from './common/policy/enforcer.js';
import { deferredChildLogger } from './common/request-logger.js';
import { mountService, type OpenStackService } from './common/service.js';
import { requestBaseUrl } from './common/versions.js';
import { identityVersions } from './identity/plugin.js';
import { IdentityRuntime } from './identity/runtime.js';
import { SERVICES } from './services.js';

export const REQUEST_ID_HEADER = 'x-openstack-request-id';

export async function buildApiServer(
  dependencies: ServerDependencies,
  logger: Logger,
  services: readonly OpenStackService[] = SERVICES,
): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: dependencies.config.api.maxBodyBytes,
    genReqId: () => `req-${randomUUID()}`,
    requestIdLogLabel: 'request_id',
    // One access-log line per request (below) instead of fastify's two: logging is a real part
    // of the cost of a token validation.
    disableRequestLogging: true,
    childLoggerFactory: deferredChildLogger,
    ajv: {
      customOptions: {
        // Unknown fields are an error where a schema says so, never silently dropped.
        removeAdditional: false,
        // No type coercion: a number where a string belongs is a 400, as in OpenStack.
        // (Query strings are parsed by the handlers, which know their types.)
        coerceTypes: false,
        useDefaults: true,
        allErrors: false,
      },
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Once shutdown starts, answers to requests still in flight close their connection, so a
  // keep-alive client cannot hold the server open until its idle timeout.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  // The access log: method, URL and status, never headers or bodies. Its lines have a fixed
  // shape with nothing secret in it, so they skip the redaction pass lib/log.ts applies to
  // everything else (on a token validation that pass costs more than the validation).
  const accessLog = logger.child({}, { redact: [] });
  app.addHook('onResponse', (request, reply, done) => {
    accessLog.info(
      {
        request_id: request.id,
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request',
    );
    done();
  });

  // OpenStack clients (tempest among them) send `Content-Type: application/json` on PUT and
  // DELETE requests with no body; OpenStack's services accept that as "no body", so do we.
  // Anything non-empty goes through fastify's own parser (prototype poisoning is an error).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString();
    if (text.trim() === '') return done(null, undefined);
    return parseJson(request, text, done);
  });

  // Outside every service (unknown prefixes) errors use Keystone's shape, the most common one.
  app.setErrorHandler(errorHandlerFor(keystoneErrorBody));
  app.setNotFoundHandler(notFoundHandlerFor(keystoneErrorBody));

  // Keystone-style discovery at the root, so an auth_url of http://host:port/ works too.
  app.get('/', async (request, reply) => reply.code(300).send(identityVersions(requestBaseUrl(request))));

  app.get('/healthz', async (_request, reply) => {
    const checks = await runHealthChecks(dependencies);
    const healthy = Object.values(checks).every((check) => check === 'ok');
    return reply.code(healthy ? 200 : 503).send({ status: healthy ? 'ok' : 'failing', checks });
  });

  const identity = await IdentityRuntime.start(dependencies.database, dependencies.config, logger);
  app.addHook('onClose', async () => identity.close());
  const policy = policyFor(services, dependencies.config);
  for (const service of services) {
    await mountService(app, service, { ...dependencies, identity, policy });
  }
  return app;
}

/** One enforcer over every service's default rules, with the operator's policy file on top. */
export function policyFor(services: readonly OpenStackService[], config: Config): PolicyEnforcer {
  const defaults = Object.assign({}, ...services.map((service) => service.policyDefaults));
  const overrides = config.identity.policyFile ? loadPolicyFile(config.identity.policyFile) : {};
  return new PolicyEnforcer(defaults, overrides);
}

async function runHealthChecks(dependencies: ServerDependencies): Promise<Record<string, string>> {
  const probe = async (check: () => Promise<unknown>) => {
    try {
      await check();
      return 'ok';
    } catch (err) {
      return `failing: ${(err as Error).message}`;
    }
  };
  const [database, bus] = await Promise.all([
    probe(() => sql`select 1`.execute(dependencies.database.db)),
    probe(() => dependencies.bus.healthCheck()),
  ]);
  return { database, bus };
}
