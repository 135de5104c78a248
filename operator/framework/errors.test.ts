import { describe, expect, it } from 'vitest';
import { apiErrorOf } from '../../lib/kubernetes/errors.js';
import {
  BadRequest,
  ConfigurationError,
  Conflict,
  ConnectionFailed,
  type HttpError,
  QuotaExceeded,
  ServerError,
  Unauthorized,
} from '../../lib/openstack/index.js';
import { classify, TemporaryError, TerminalError } from './errors.js';

const request = { method: 'POST', url: 'http://cloud.test/network/v2.0/networks' };
function http<E extends HttpError>(
  ErrorClass: new (...args: ConstructorParameters<typeof HttpError>) => E,
  status: number,
  message: string,
): E {
  return new ErrorClass(message, status, request, 'req-1', undefined, undefined);
}

describe('error classification', () => {
  it('retries what passes by itself: 5xx, connection failures, a 409 conflict', () => {
    for (const error of [
      http(ServerError, 503, 'unavailable'),
      new ConnectionFailed('refused', request, 'ECONNREFUSED', true),
      http(Conflict, 409, 'Unable to complete operation on network: one or more ports in use'),
      new TemporaryError('waiting'),
    ]) {
      expect(classify(error), error.message).toMatchObject({ reason: 'TransientError', retry: true });
    }
  });

  it('reports over quota and refused requests as InvalidConfiguration, not retried', () => {
    expect(classify(http(QuotaExceeded, 409, 'Quota exceeded for resources: network'))).toEqual({
      reason: 'InvalidConfiguration',
      retry: false,
      message: 'quota exceeded: Quota exceeded for resources: network',
    });
    expect(classify(http(BadRequest, 400, 'Invalid input for mtu'))).toMatchObject({
      reason: 'InvalidConfiguration',
      retry: false,
    });
    expect(classify(new TerminalError('the imported network is gone', 'UnrecoverableError'))).toMatchObject({
      reason: 'UnrecoverableError',
      retry: false,
    });
  });

  it('keeps retrying bad credentials, which are fixed in the Secret without a spec change', () => {
    expect(
      classify(http(Unauthorized, 401, 'The request you have made requires authentication.')),
    ).toMatchObject({ reason: 'InvalidConfiguration', retry: true });
    expect(classify(new ConfigurationError('cloud "x" is not in clouds.yaml'))).toMatchObject({
      reason: 'InvalidConfiguration',
      retry: true,
    });
  });

  it('retries a Kubernetes conflict on its own write, saying so in one line', () => {
    const body = JSON.stringify({
      kind: 'Status',
      message:
        'Operation cannot be fulfilled on networks.openstack.overcast.dev "a": the object has been modified',
      code: 409,
    });
    const conflict = apiErrorOf(409, body, {
      method: 'PUT',
      path: '/apis/openstack.overcast.dev/v1alpha1/namespaces/n/networks/a/status',
    });
    expect(classify(conflict)).toEqual({
      reason: 'TransientError',
      retry: true,
      message:
        'the Kubernetes API answered 409: Operation cannot be fulfilled on networks.openstack.overcast.dev "a": the object has been modified',
    });
  });
});
