// Every OpenStack service words its errors differently; clients parse these shapes, so each
// service plugin picks its formatter and the shared error handler applies it.
import { type ApiError, STATUS_TITLES } from './errors.js';

export type ErrorBodyFormatter = (error: ApiError, requestId: string) => unknown;

const title = (status: number) => STATUS_TITLES[status] ?? 'Error';

/** Keystone: {"error": {"code", "title", "message"}}. */
export const keystoneErrorBody: ErrorBodyFormatter = (error) => ({
  error: { code: error.status, title: title(error.status), message: error.message },
});

/** Glance (webob's JSON error page): {"code": "404 Not Found", "title", "message"}. */
export const glanceErrorBody: ErrorBodyFormatter = (error) => ({
  code: `${error.status} ${title(error.status)}`,
  title: title(error.status),
  message: error.message,
});

const NOVA_FAULT_NAMES: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

/** Nova: {"itemNotFound": {"code": 404, "message"}}; unknown statuses are a computeFault. */
export const novaErrorBody: ErrorBodyFormatter = (error) => ({
  [NOVA_FAULT_NAMES[error.status] ?? 'computeFault']: { code: error.status, message: error.message },
});

const NEUTRON_DEFAULT_TYPES: Record<number, string> = {
  400: 'HTTPBadRequest',
  401: 'HTTPUnauthorized',
  403: 'HTTPForbidden',
  404: 'HTTPNotFound',
  405: 'HTTPMethodNotAllowed',
  409: 'HTTPConflict',
  413: 'HTTPRequestEntityTooLarge',
  415: 'HTTPUnsupportedMediaType',
  500: 'HTTPInternalServerError',
  503: 'HTTPServiceUnavailable',
};

/** Neutron: {"NeutronError": {"type", "message", "detail"}}. */
export const neutronErrorBody: ErrorBodyFormatter = (error) => ({
  NeutronError: {
    type: error.type ?? NEUTRON_DEFAULT_TYPES[error.status] ?? 'HTTPError',
    message: error.message,
    detail: '',
  },
});

/** Placement: {"errors": [{"status", "title", "detail", "request_id", "code"}]}. */
export const placementErrorBody: ErrorBodyFormatter = (error, requestId) => ({
  errors: [
    {
      status: error.status,
      title: title(error.status),
      detail: error.message,
      request_id: requestId,
      code: error.type ?? 'placement.undefined_code',
    },
  ],
});
