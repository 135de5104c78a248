// Typed domain errors. Service logic throws these; each service's error handler turns them
// into that service's OpenStack error body (see error-bodies.ts) in one place.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Neutron-style error type ("NetworkNotFound"); defaults from the status. */
    readonly type?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequest extends ApiError {
  constructor(message: string, type?: string) {
    super(400, message, type);
  }
}
export class Unauthorized extends ApiError {
  constructor(message = 'The request you have made requires authentication.', type?: string) {
    super(401, message, type);
  }
}
export class Forbidden extends ApiError {
  constructor(message = 'You are not authorized to perform the requested action.', type?: string) {
    super(403, message, type);
  }
}
export class NotFound extends ApiError {
  constructor(message = 'The resource could not be found.', type?: string) {
    super(404, message, type);
  }
}
export class MethodNotAllowed extends ApiError {
  constructor(message = 'The method is not allowed for the requested URL.', type?: string) {
    super(405, message, type);
  }
}
export class Conflict extends ApiError {
  constructor(message: string, type?: string) {
    super(409, message, type);
  }
}
export class PayloadTooLarge extends ApiError {
  constructor(message = 'Request is too large.', type?: string) {
    super(413, message, type);
  }
}
export class UnsupportedMediaType extends ApiError {
  constructor(message = 'The media type of the request is not supported.', type?: string) {
    super(415, message, type);
  }
}
/** A quota would be exceeded. OpenStack answers 403 (Nova) or 409 (Neutron); services choose. */
export class QuotaExceeded extends ApiError {
  constructor(message: string, status: 403 | 409 = 403, type = 'OverQuota') {
    super(status, message, type);
  }
}
export class ServiceUnavailable extends ApiError {
  constructor(message = 'The service is unavailable.', type?: string) {
    super(503, message, type);
  }
}

export const STATUS_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  410: 'Gone',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  416: 'Requested Range Not Satisfiable',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * Turns anything thrown inside a request into an ApiError. Fastify's own errors (malformed
 * JSON, body too large, unsupported media type, schema validation) keep their 4xx status;
 * anything else is a 500 whose details stay in the log, never in the response.
 */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const candidate = error as { statusCode?: number; code?: string; message?: string; validation?: unknown };
  const status = candidate.statusCode;
  if (candidate.validation) return new BadRequest(`Invalid input for field/attribute: ${candidate.message}`);
  if (typeof status === 'number' && status >= 400 && status < 500) {
    switch (candidate.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return new PayloadTooLarge();
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return new UnsupportedMediaType();
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return new BadRequest('The request body is empty but the content type is JSON.');
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return new BadRequest('Malformed JSON in request body.');
      default:
        return new ApiError(status, candidate.message ?? STATUS_TITLES[status] ?? 'Error');
    }
  }
  return new ApiError(500, 'An unexpected error prevented the server from fulfilling your request.');
}
