import { describe, expect, it } from 'vitest';
import { apiErrorOf, KubernetesApiError } from './errors.js';

const request = { method: 'PATCH', path: '/api/v1/namespaces/n/secrets/cloud' };

describe('Kubernetes API errors', () => {
  it("takes the status, and the Status body's reason and message", () => {
    const error = apiErrorOf(
      409,
      JSON.stringify({
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        message: 'Operation cannot be fulfilled on secrets "cloud": the object has been modified',
        reason: 'Conflict',
        code: 409,
      }),
      request,
    );
    expect(error).toBeInstanceOf(KubernetesApiError);
    expect(error).toMatchObject({ statusCode: 409, reason: 'Conflict', request });
    expect(error.message).toBe(
      'the Kubernetes API answered 409: Operation cannot be fulfilled on secrets "cloud": the object has been modified',
    );
  });

  it('says only the status for an empty body, and the first line of one that is not a Status', () => {
    expect(apiErrorOf(503, '', request).message).toBe('the Kubernetes API answered 503');
    const proxied = apiErrorOf(502, 'Bad Gateway\n<html>...</html>', request);
    expect(proxied).toMatchObject({ statusCode: 502, reason: undefined, detail: 'Bad Gateway' });
    expect(proxied.message).toBe('the Kubernetes API answered 502: Bad Gateway');
  });
});
