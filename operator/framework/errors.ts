// Every failure of a reconcile is classified here and only here: whether it is retried with
// backoff, and which condition reason tells the user what to do. Actuators throw what they
// get from lib/openstack, or TerminalError/TemporaryError where only they know (a 409 that is
// a dependency settling versus one that will never go away).
import {
  BadRequest,
  ConfigurationError,
  Conflict,
  EndpointNotFound,
  Forbidden,
  QuotaExceeded,
  Unauthorized,
} from '../../lib/openstack/index.js';

export type FailureReason =
  | 'TransientError'
  | 'InvalidConfiguration'
  | 'UnrecoverableError'
  | 'WaitingForDependency';

/** Will not go away by itself: reported in status, not retried until the spec changes. */
export class TerminalError extends Error {
  override name = 'TerminalError';
  constructor(
    message: string,
    readonly reason: 'InvalidConfiguration' | 'UnrecoverableError' = 'InvalidConfiguration',
  ) {
    super(message);
  }
}

/** Expected to pass (a dependency settling): retried with backoff. */
export class TemporaryError extends Error {
  override name = 'TemporaryError';
}

/**
 * Something the object names is missing or not available yet ("Waiting for Network/x to be
 * available"). `retry` is false where a watch brings the object back when the dependency
 * changes (the dependency index), true where nothing watches it (a Secret).
 */
export class DependencyNotReady extends Error {
  override name = 'DependencyNotReady';
  constructor(
    message: string,
    readonly retry: boolean,
  ) {
    super(message);
  }
}

export interface Classification {
  reason: FailureReason;
  /** Retried with backoff; otherwise left until the object's generation changes. */
  retry: boolean;
  /** For the status and the Event: plain words, no secret (lib/openstack masks them). */
  message: string;
}

export function classify(error: unknown): Classification {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof TerminalError) return { reason: error.reason, retry: false, message };
  if (error instanceof DependencyNotReady)
    return { reason: 'WaitingForDependency', retry: error.retry, message };
  if (error instanceof TemporaryError) return { reason: 'TransientError', retry: true, message };
  // Over quota is a 409 (Neutron) or 403/413 elsewhere: only a spec (or quota) change helps.
  if (error instanceof QuotaExceeded)
    return { reason: 'InvalidConfiguration', retry: false, message: `quota exceeded: ${message}` };
  // The cloud refused the request as such: retrying the same spec gets the same answer.
  if (error instanceof BadRequest || error instanceof Forbidden)
    return { reason: 'InvalidConfiguration', retry: false, message };
  // Wrong credentials or clouds.yaml live in a Secret, which changes without the object's
  // generation changing: say so, and keep retrying with backoff so a fixed Secret is picked up.
  if (
    error instanceof Unauthorized ||
    error instanceof ConfigurationError ||
    error instanceof EndpointNotFound
  )
    return { reason: 'InvalidConfiguration', retry: true, message };
  // Any other 409 (a network still in use, a resource in a transitional state) settles.
  if (error instanceof Conflict) return { reason: 'TransientError', retry: true, message };
  // 5xx, connection failures, the operator's own Kubernetes writes (a KubernetesApiError: a
  // 409 means the object changed under the pass; read again and retry) and anything unforeseen.
  return { reason: 'TransientError', retry: true, message };
}
