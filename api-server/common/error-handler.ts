// One error handler, parameterized by the service's error body. A 5xx keeps its details in
// the log and gives the client only the generic message; a 4xx is logged as a rejection.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorBodyFormatter } from './error-bodies.js';
import { NotFound, toApiError } from './errors.js';

export function errorHandlerFor(errorBody: ErrorBodyFormatter) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const apiError = toApiError(error);
    if (apiError.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ status: apiError.status, reason: apiError.message }, 'request rejected');
    return reply.code(apiError.status).send(errorBody(apiError, String(request.id)));
  };
}

export function notFoundHandlerFor(errorBody: ErrorBodyFormatter) {
  return (request: FastifyRequest, reply: FastifyReply) => {
    const apiError = new NotFound(`The resource could not be found: ${request.method} ${request.url}`);
    return reply.code(404).send(errorBody(apiError, String(request.id)));
  };
}
