// The one error an answer of the Kubernetes API becomes when it is not a success. The API
// answers failures with a Status object (kind: Status) whose reason is a machine word
// (Conflict, NotFound, Expired...) and whose message is for people; the message here keeps
// the people's part only, on one line.

/** An HTTP answer of 400 or more from the Kubernetes API. */
export class KubernetesApiError extends Error {
  override name = 'KubernetesApiError';
  constructor(
    /** The HTTP status: 404, 409, 410 (a watch's resourceVersion too old)... */
    readonly statusCode: number,
    /** The Status's reason (NotFound, Conflict, AlreadyExists...), when the body was a Status. */
    readonly reason: string | undefined,
    /** The Status's message, when there was one. */
    readonly detail: string | undefined,
    readonly request: { method: string; path: string },
  ) {
    super(`the Kubernetes API answered ${statusCode}${detail ? `: ${detail}` : ''}`);
  }
}

/** The error for a failed answer's status and body (a Status object, or anything else). */
export function apiErrorOf(
  statusCode: number,
  body: string,
  request: { method: string; path: string },
): KubernetesApiError {
  let status: { kind?: unknown; reason?: unknown; message?: unknown } | undefined;
  try {
    status = JSON.parse(body);
  } catch {
    status = undefined;
  }
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  const reason = text(status?.reason);
  // Not a Status (a proxy's HTML page, a plain-text 404): its first line says enough.
  const detail =
    status && typeof status === 'object' ? text(status.message) : text(body.trim().split('\n')[0]);
  return new KubernetesApiError(statusCode, reason, detail?.slice(0, 500), request);
}
