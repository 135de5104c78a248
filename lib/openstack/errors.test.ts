import { describe, expect, it } from 'vitest';
import {
  glanceErrorBody,
  keystoneErrorBody,
  neutronErrorBody,
  novaErrorBody,
  placementErrorBody,
} from '../../api-server/common/error-bodies.js';
import * as server from '../../api-server/common/errors.js';
import {
  BadRequest,
  Conflict,
  errorFromResponse,
  Forbidden,
  HttpError,
  NotFound,
  QuotaExceeded,
  redactSecrets,
  ServerError,
  Unauthorized,
} from './errors.js';

const request = { method: 'GET', url: 'http://cloud/network/v2.0/networks/x' };
const json = 'application/json';

function answer(status: number, contentType: string, body: unknown, requestId?: string) {
  return errorFromResponse(request, {
    status,
    contentType,
    text: typeof body === 'string' ? body : JSON.stringify(body),
    requestId,
    retryAfter: undefined,
  });
}

describe('error bodies real OpenStack services send', () => {
  it('Keystone: {"error": {code, title, message}}', () => {
    const error = answer(404, json, {
      error: { code: 404, message: 'Could not find project: nebula.', title: 'Not Found' },
    });
    expect(error).toBeInstanceOf(NotFound);
    expect(error.message).toBe(`GET ${request.url} answered 404: Could not find project: nebula.`);
    expect(error.type).toBe('Not Found');
    expect(
      answer(401, json, {
        error: {
          code: 401,
          message: 'The request you have made requires authentication.',
          title: 'Unauthorized',
        },
      }),
    ).toBeInstanceOf(Unauthorized);
  });

  it('Neutron: {"NeutronError": {type, message, detail}}, OverQuota as QuotaExceeded', () => {
    const missing = answer(
      404,
      json,
      { NeutronError: { type: 'NetworkNotFound', message: 'Network x could not be found.', detail: '' } },
      'req-1',
    );
    expect(missing).toBeInstanceOf(NotFound);
    expect(missing).toMatchObject({ type: 'NetworkNotFound', requestId: 'req-1', status: 404 });
    expect(missing.message).toBe(
      `GET ${request.url} answered 404: Network x could not be found. (request req-1)`,
    );
    const inUse = answer(409, json, {
      NeutronError: {
        type: 'NetworkInUse',
        message: 'Unable to complete operation on network x.',
        detail: '',
      },
    });
    expect(inUse).toBeInstanceOf(Conflict);
    expect(inUse).not.toBeInstanceOf(QuotaExceeded);
    const over = answer(409, json, {
      NeutronError: { type: 'OverQuota', message: "Quota exceeded for resources: ['network'].", detail: '' },
    });
    expect(over).toBeInstanceOf(QuotaExceeded);
    expect(over.status).toBe(409);
  });

  it('Nova: the fault name as the key; a 403 about quota, and 413 overLimit, are QuotaExceeded', () => {
    const missing = answer(404, json, {
      itemNotFound: { code: 404, message: 'Flavor m1.huge could not be found.' },
    });
    expect(missing).toBeInstanceOf(NotFound);
    expect(missing.type).toBe('itemNotFound');
    const quota = answer(403, json, {
      forbidden: {
        code: 403,
        message: 'Quota exceeded for cores: Requested 4, but already used 20 of 20 cores',
      },
    });
    expect(quota).toBeInstanceOf(QuotaExceeded);
    expect(quota.message).toContain('Quota exceeded for cores');
    expect(
      answer(403, json, {
        forbidden: { code: 403, message: "Policy doesn't allow os_compute_api:servers:create" },
      }),
    ).toBeInstanceOf(Forbidden);
    expect(
      answer(413, json, {
        overLimit: { code: 413, message: 'Quota exceeded for instances', retryAfter: '0' },
      }),
    ).toBeInstanceOf(QuotaExceeded);
    expect(
      answer(409, json, {
        conflictingRequest: {
          code: 409,
          message: "Cannot 'delete' instance x while it is in task_state deleting",
        },
      }),
    ).toBeInstanceOf(Conflict);
  });

  it('Glance: webob HTML and plain-text pages, read as one line; 413 as QuotaExceeded', () => {
    const html =
      '<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n  No image found with ID 123<br /><br />\n\n\n\n </body>\n</html>';
    const missing = answer(404, 'text/html; charset=UTF-8', html);
    expect(missing).toBeInstanceOf(NotFound);
    expect(missing.message).toBe(`GET ${request.url} answered 404: No image found with ID 123`);
    const quota = answer(
      413,
      'text/plain; charset=UTF-8',
      '413 Request Entity Too Large\n\nImage exceeds the storage quota: 0 bytes remaining.\n\n   ',
    );
    expect(quota).toBeInstanceOf(QuotaExceeded);
    expect(quota.message).toMatch(/answered 413: Image exceeds the storage quota: 0 bytes remaining\.$/);
  });

  it('Placement: {"errors": [{title, detail, code}]}', () => {
    const conflict = answer(409, json, {
      errors: [
        {
          status: 409,
          title: 'Conflict',
          detail: 'Unable to allocate inventory',
          code: 'placement.concurrent_update',
        },
      ],
    });
    expect(conflict).toBeInstanceOf(Conflict);
    expect(conflict).toMatchObject({ type: 'placement.concurrent_update' });
    expect(conflict.message).toMatch(/Unable to allocate inventory$/);
  });

  it('statuses with no body or no class of their own still say what failed', () => {
    expect(answer(503, json, '')).toBeInstanceOf(ServerError);
    expect(answer(503, json, '').message).toBe(`GET ${request.url} answered 503`);
    const teapot = answer(418, json, 'not json at all');
    expect(teapot.constructor).toBe(HttpError);
    expect(teapot.message).toMatch(/answered 418: not json at all$/);
  });
});

describe('error bodies our api-server sends', () => {
  const cases = [
    ['keystone', keystoneErrorBody],
    ['glance', glanceErrorBody],
    ['nova', novaErrorBody],
    ['neutron', neutronErrorBody],
    ['placement', placementErrorBody],
  ] as const;

  for (const [service, format] of cases) {
    it(`${service}: the message comes through and the status picks the class`, () => {
      const read = (thrown: server.ApiError) => answer(thrown.status, json, format(thrown, 'req-x'));
      const missing = read(new server.NotFound('Thing t could not be found.'));
      expect(missing).toBeInstanceOf(NotFound);
      expect(missing.message).toMatch(/answered 404: Thing t could not be found\.$/);
      expect(read(new server.BadRequest('bad cidr'))).toBeInstanceOf(BadRequest);
      expect(read(new server.Conflict('in use'))).toBeInstanceOf(Conflict);
      const quota = read(new server.QuotaExceeded("Quota exceeded for resources: ['port'].", 409));
      expect(quota).toBeInstanceOf(QuotaExceeded);
      expect(read(new server.QuotaExceeded('Quota exceeded for instances', 403))).toBeInstanceOf(
        QuotaExceeded,
      );
    });
  }
});

describe('secrets in error messages', () => {
  it('are masked wherever they appear, including an answer that echoes them', () => {
    const error = errorFromResponse(
      { method: 'POST', url: 'http://cloud/identity/v3/auth/tokens' },
      {
        status: 400,
        contentType: json,
        text: JSON.stringify({
          error: { code: 400, message: 'Invalid input: password hunter2-pw is wrong' },
        }),
        requestId: undefined,
        retryAfter: undefined,
      },
      ['hunter2-pw'],
    );
    expect(error.message).toBe(
      'POST http://cloud/identity/v3/auth/tokens answered 400: Invalid input: password *** is wrong',
    );
    const cut = errorFromResponse(
      { method: 'GET', url: 'http://cloud/x' },
      {
        status: 500,
        contentType: 'text/plain',
        text: `${'a'.repeat(495)} topsecretvalue`,
        requestId: undefined,
        retryAfter: undefined,
      },
      ['topsecretvalue'],
    );
    expect(cut.message).not.toContain('tops');
    expect(redactSecrets('token gAAAA-xyz and gAAAA-xyz', ['gAAAA-xyz', 'ab'])).toBe('token *** and ***');
  });
});
