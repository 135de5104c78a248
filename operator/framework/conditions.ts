// The two conditions every kind reports (docs/operator.md, "Status"), computed from what the
// reconcile found; lastTransitionTime moves only when a condition's status does.
import type { CONDITION_REASONS } from '../crds/convention.js';

export type Reason = (typeof CONDITION_REASONS)[number];

export interface Condition {
  type: 'Available' | 'Progressing';
  status: 'True' | 'False' | 'Unknown';
  reason: Reason;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

/** What a reconcile concluded, in the words of the two conditions. */
export interface Outcome {
  available: boolean;
  /** True while work remains (waiting, retrying, converging). */
  progressing: boolean;
  reason: Reason;
  message: string;
  /** The Available message when it differs from the outcome's ("Network is available"). */
  availableMessage?: string;
}

export function nextConditions(
  previous: Condition[] | undefined,
  outcome: Outcome,
  generation: number | undefined,
  now: string,
): Condition[] {
  const build = (
    type: Condition['type'],
    status: Condition['status'],
    reason: Reason,
    message: string,
  ): Condition => {
    const before = previous?.find((condition) => condition.type === type);
    return {
      type,
      status,
      reason,
      message,
      ...(generation === undefined ? {} : { observedGeneration: generation }),
      lastTransitionTime: before && before.status === status ? before.lastTransitionTime : now,
    };
  };
  return [
    build(
      'Available',
      outcome.available ? 'True' : 'False',
      outcome.available ? 'Success' : outcome.reason,
      outcome.available ? (outcome.availableMessage ?? outcome.message) : outcome.message,
    ),
    build('Progressing', outcome.progressing ? 'True' : 'False', outcome.reason, outcome.message),
  ];
}

/** The condition of `type` on an object's status, if written. */
export function conditionOf(status: { conditions?: Condition[] } | undefined, type: Condition['type']) {
  return status?.conditions?.find((condition) => condition.type === type);
}

/** Available=True for the spec it describes: what a dependent waits for. */
export function isAvailable(object: {
  metadata: { generation?: number };
  status?: { conditions?: Condition[] };
}) {
  return conditionOf(object.status, 'Available')?.status === 'True';
}

/**
 * A terminal failure already reported for this generation: nothing to do until the spec
 * changes (a new generation), however often the object is queued.
 */
export function isTerminalFor(
  status: { conditions?: Condition[] } | undefined,
  generation: number | undefined,
) {
  const progressing = conditionOf(status, 'Progressing');
  return (
    progressing !== undefined &&
    progressing.status === 'False' &&
    (progressing.reason === 'InvalidConfiguration' || progressing.reason === 'UnrecoverableError') &&
    progressing.observedGeneration === generation
  );
}
