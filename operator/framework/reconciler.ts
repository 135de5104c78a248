// The generic reconciler (ORC's shape): it owns the loop, the finalizer, credentials,
// dependency waiting, import versus managed, adoption, deletion, the conditions and the Events;
// each kind contributes only an Actuator. The cause of each pass is named in kopf's vocabulary
// (create / update with a field diff / delete / resume after a restart / resync).
import type { Logger } from '../../lib/log.js';
import type { OpenStackClient } from '../../lib/openstack/index.js';
import type { OpenStackKind } from '../crds/convention.js';
import { type Condition, isAvailable, isTerminalFor, nextConditions, type Outcome } from './conditions.js';
import type { CloudClients } from './credentials.js';
import { type DiffOperation, describeDiff, diff, jsonEqual } from './diff.js';
import { classify, DependencyNotReady, TemporaryError, TerminalError } from './errors.js';
import type { EventRecorder } from './events.js';
import { FINALIZER } from './finalizer.js';
import type { KubeObject } from './informer.js';
import { DONE, type WorkResult } from './queue.js';
import type { ObjectWriter } from './writer.js';

export type Cause = 'create' | 'update' | 'delete' | 'resume' | 'resync';

/** An object of this namespace the spec names (`projectRef: nebula` → Project/nebula). */
export interface Dependency {
  kind: string;
  name: string;
  /**
   * Whether the dependency is held (not deleted from the cloud) while this object refers to
   * it; true unless said otherwise. A Project's role bindings wait for their User without
   * holding it, which would otherwise make a cycle with the User's defaultProjectRef.
   */
  held?: boolean;
}

export interface ActuatorContext {
  client: OpenStackClient;
  object: KubeObject;
  cause: Cause;
  /** What changed in the spec since this process last handled it (empty on create and resume). */
  diff: DiffOperation[];
  /** The OpenStack ID of each dependency, keyed "Kind/name". */
  dependencyIds: ReadonlyMap<string, string>;
  /**
   * The dependency objects themselves, keyed as dependencyIds: what a kind needs from another
   * object's spec (an ApplicationCredential authenticates with its User's passwordRef).
   */
  dependencyObjects: ReadonlyMap<string, KubeObject>;
  /**
   * A value from a Secret of the object's namespace (a User's password); waits
   * (WaitingForDependency) while the Secret or the key is missing. Never log or store it.
   */
  readSecret(secretName: string, key: string): Promise<string>;
}

/** The observed resource in the words of the status: `status.resource` and whether it can be used. */
export interface Observation {
  resource: Record<string, unknown>;
  available: boolean;
  /** Why it is not available yet ("Network is BUILD"). */
  message?: string;
  /**
   * Available, but part of the spec waits for something no watch brings back here (a route
   * whose next hop a Subnet naming this Router has yet to attach): Progressing stays True with
   * this message and the object is looked at again after pollMs. Not an error, since what it
   * waits for may itself wait for this object to be available.
   */
  pending?: string;
}

/**
 * What a kind contributes. Methods throw what lib/openstack throws (classified in errors.ts),
 * or TerminalError/TemporaryError where only the kind knows what a failure means.
 */
export interface Actuator<R> {
  kind: OpenStackKind;
  /** Objects the spec (resource or import filter) refers to; all must be Available first. */
  dependencies(object: KubeObject): Dependency[];
  idOf(resource: R): string;
  /** The resource with this ID, or undefined when the cloud has none (never throws NotFound). */
  getById(context: ActuatorContext, id: string): Promise<R | undefined>;
  /**
   * What this object would have created (same name and scope): called right before every
   * create, so a crash between the create and the status.id write adopts instead of duplicating.
   */
  listForAdoption(context: ActuatorContext): Promise<R[]>;
  /** The resources matching spec.import.filter. */
  listForImport(context: ActuatorContext): Promise<R[]>;
  /**
   * Creates the resource from spec.resource with one call, and nothing after it that can
   * fail: status.id must be written before any further step.
   */
  create(context: ActuatorContext): Promise<R>;
  /**
   * Makes `current` match spec.resource; the new state, or undefined when nothing differed.
   * Also called right after create (with status.id written), so the steps a create cannot
   * do in its one call (a subnet's router interface, a group's rules, an image's data) live
   * here and are redone after a crash.
   */
  update(context: ActuatorContext, current: R): Promise<R | undefined>;
  /** Deletes; no error when already gone. The reconciler confirms by getById. */
  delete(context: ActuatorContext, current: R): Promise<void>;
  observe(resource: R): Observation;
}

export interface ReconcilerOptions {
  /** Resync when the object names no resyncPeriod; 0 turns drift detection off. */
  defaultResyncMs: number;
  /** How often an import filter matching nothing, or a resource not yet usable, is looked at again. */
  pollMs: number;
  /** How long to wait for the watch to show the operator's own write before acting anyway. */
  consistencyTimeoutMs: number;
  random?: () => number;
}

export interface ReconcilerParts {
  actuator: Actuator<unknown>;
  clients: CloudClients;
  writer: ObjectWriter;
  events: EventRecorder;
  log: Logger;
  /** The cached object of this kind under namespace/name. */
  cached(key: string): KubeObject | undefined;
  /** A cached object of any served kind, or undefined (also when the kind is not served). */
  lookup(kind: string, namespace: string, name: string): KubeObject | undefined;
  /** Counts a failed pass by its classified reason (the errors metric). */
  failed(reason: string): void;
  /** Records that `object` waits on `dependencies`, so their changes queue it again. */
  dependOn(object: KubeObject, dependencies: Dependency[]): void;
  /** The objects ("Kind/name", same namespace) that hold `object`: it waits for them to go. */
  referrers(object: KubeObject): string[];
}

/** Go duration (10m, 1h30m, 500ms) in ms. */
export function parseDuration(text: string): number {
  const units = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g))
    total += Number(amount) * units[unit as keyof typeof units];
  return total;
}

/**
 * What a settled pass asks of the queue: nothing when the period is 0 (drift detection off),
 * else to come back after the period ±10%, so objects applied together do not resync together.
 */
export function resyncAfter(periodMs: number, random: () => number): WorkResult {
  if (periodMs <= 0) return DONE;
  return { kind: 'after', ms: Math.round(periodMs * (0.9 + 0.2 * random())) };
}

const NO_WRITE = Symbol('no status change');

export class Reconciler {
  /** Spec and generation last handled by this process, for the cause and the diff. */
  private readonly handled = new Map<string, { generation: number | undefined; spec: unknown }>();
  /** Keys whose reconcile waits for the watch to show the operator's own write. */
  private readonly parked = new Set<string>();
  private readonly awaited = new Map<
    string,
    { resourceVersion: string; until: number; object: KubeObject }
  >();

  constructor(
    private readonly parts: ReconcilerParts,
    private readonly options: ReconcilerOptions,
  ) {}

  private get kind(): string {
    return this.parts.actuator.kind.kind;
  }

  /**
   * Called with every version the watch delivers; true when it is the operator's own awaited
   * write, so that the key, parked until then, can run again.
   */
  observed(key: string, object: KubeObject): boolean {
    const awaited = this.awaited.get(key);
    if (awaited?.resourceVersion !== object.metadata.resourceVersion) return false;
    this.awaited.delete(key);
    // Only a parked key runs again: the arrival of every write of ours would otherwise queue
    // a pass that writes again (lastSyncTime), and so on forever.
    return this.parked.delete(key);
  }

  forget(key: string): void {
    this.handled.delete(key);
    this.awaited.delete(key);
    this.parked.delete(key);
  }

  async reconcile(key: string): Promise<WorkResult> {
    const object = this.parts.cached(key);
    if (!object) {
      this.forget(key);
      return DONE;
    }
    // kopf's consistency timeout: the cache has not caught up with our own write yet, and
    // acting on the older copy would redo (or undo) what that write recorded.
    const awaited = this.awaited.get(key);
    if (awaited && awaited.resourceVersion !== object.metadata.resourceVersion) {
      const remaining = awaited.until - Date.now();
      if (remaining > 0) {
        this.parked.add(key);
        return { kind: 'after', ms: remaining };
      }
    }
    this.awaited.delete(key);
    this.parked.delete(key);
    if (object.metadata.deletionTimestamp) return this.guard(object, () => this.finalize(object));
    const generation = object.metadata.generation;
    if (isTerminalFor(object.status, generation)) return DONE;
    const last = this.handled.get(key);
    const cause: Cause =
      !object.status?.id && !object.status?.conditions
        ? 'create'
        : !last
          ? 'resume'
          : last.generation !== generation
            ? 'update'
            : 'resync';
    const changes = last && cause === 'update' ? diff(last.spec, object.spec) : [];
    const result = await this.guard(object, () => this.converge(object, cause, changes));
    if (result.kind !== 'retry') this.handled.set(key, { generation, spec: object.spec });
    return result;
  }

  /** Runs one pass; any failure is classified once, written to the conditions and posted as an Event. */
  private async guard(object: KubeObject, pass: () => Promise<WorkResult>): Promise<WorkResult> {
    try {
      return await pass();
    } catch (error) {
      const failure = classify(error);
      if (failure.reason !== 'WaitingForDependency') this.parts.failed(failure.reason);
      // The pass may have written the object already: its answer is newer than the cache.
      const key = this.keyOf(object);
      const latest = this.awaited.get(key)?.object ?? this.parts.cached(key) ?? object;
      if (failure.reason === 'WaitingForDependency') {
        this.parts.log.debug({ object: this.keyOf(object), reason: failure.message }, 'waiting');
      } else {
        this.parts.log.warn(
          { object: this.keyOf(object), err: error, reason: failure.reason },
          'reconcile failed',
        );
        await this.parts.events.record(latest, 'Warning', failure.reason, failure.message);
      }
      const terminal = !failure.retry && failure.reason !== 'WaitingForDependency';
      try {
        await this.writeOutcome(latest, {
          available: isAvailable(latest) && failure.reason !== 'UnrecoverableError',
          progressing: !terminal,
          reason: failure.reason,
          message: failure.message,
        });
      } catch (writeError) {
        this.parts.log.warn(
          { err: writeError, object: this.keyOf(object) },
          'could not write the failure to status',
        );
        return { kind: 'retry' };
      }
      return failure.retry ? { kind: 'retry' } : DONE;
    }
  }

  private keyOf(object: KubeObject): string {
    return `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
  }

  private async context(
    object: KubeObject,
    cause: Cause,
    changes: DiffOperation[],
  ): Promise<ActuatorContext> {
    const client = await this.parts.clients.forObject(
      object.metadata.namespace ?? '',
      object.spec.cloudCredentialsRef,
    );
    const namespace = object.metadata.namespace ?? '';
    return {
      client,
      object,
      cause,
      diff: changes,
      dependencyIds: new Map(),
      dependencyObjects: new Map(),
      readSecret: (secretName, key) => this.parts.clients.readSecret(namespace, secretName, key),
    };
  }

  /** The dependencies' IDs and objects, or DependencyNotReady naming the first one not available. */
  private resolveDependencies(
    object: KubeObject,
  ): Pick<ActuatorContext, 'dependencyIds' | 'dependencyObjects'> {
    const dependencies = this.parts.actuator.dependencies(object);
    this.parts.dependOn(object, dependencies);
    const dependencyIds = new Map<string, string>();
    const dependencyObjects = new Map<string, KubeObject>();
    for (const dependency of dependencies) {
      const found = this.parts.lookup(dependency.kind, object.metadata.namespace ?? '', dependency.name);
      if (!found || !isAvailable(found) || !found.status?.id)
        throw new DependencyNotReady(
          `Waiting for ${dependency.kind}/${dependency.name} to be available`,
          false,
        );
      const key = `${dependency.kind}/${dependency.name}`;
      dependencyIds.set(key, found.status.id as string);
      dependencyObjects.set(key, found);
    }
    return { dependencyIds, dependencyObjects };
  }

  private async converge(object: KubeObject, cause: Cause, changes: DiffOperation[]): Promise<WorkResult> {
    const actuator = this.parts.actuator;
    const dependencies = this.resolveDependencies(object);
    let current = object;
    // The finalizer goes on before anything exists in the cloud, so nothing can be left behind.
    if (!current.metadata.finalizers?.includes(FINALIZER)) {
      current = await this.parts.writer.setFinalizers(current, [
        ...(current.metadata.finalizers ?? []),
        FINALIZER,
      ]);
      this.await(current);
    }
    const context = { ...(await this.context(current, cause, changes)), ...dependencies };
    const managed = current.spec.managementPolicy !== 'unmanaged';
    let resource: unknown;
    if (managed) {
      const ensured = await this.ensureManaged(context, current);
      resource = ensured.resource;
      current = ensured.object;
    } else {
      resource = await this.findImported(context, current);
      if (resource === undefined) {
        await this.writeOutcome(current, {
          available: false,
          progressing: true,
          reason: 'Progressing',
          message: `No ${this.kind} matches the import filter yet`,
        });
        return { kind: 'after', ms: this.options.pollMs };
      }
    }
    const observation = actuator.observe(resource);
    const id = actuator.idOf(resource);
    // An imported resource is never corrected: a change in the cloud is reported instead.
    const externalChange =
      managed || !current.status?.resource
        ? ''
        : describeDiff(diff(current.status.resource, observation.resource));
    if (externalChange)
      await this.parts.events.record(
        current,
        'Normal',
        'ExternalChange',
        `Imported ${this.kind} ${id} changed in the cloud: ${externalChange}`,
      );
    await this.writeOutcome(current, this.outcomeOf(observation, current, externalChange), {
      id,
      resource: observation.resource,
      lastSyncTime: new Date().toISOString(),
    });
    if (!observation.available || observation.pending) return { kind: 'after', ms: this.options.pollMs };
    return this.resync(current);
  }

  /** The conditions a pass that observed `observation` ends with. */
  private outcomeOf(observation: Observation, object: KubeObject, externalChange: string): Outcome {
    if (!observation.available)
      return {
        available: false,
        progressing: true,
        reason: 'Progressing',
        message: observation.message ?? `Waiting for ${this.kind} to be available`,
      };
    const availableMessage = `${this.kind} is available`;
    if (observation.pending)
      return {
        available: true,
        progressing: true,
        reason: 'Progressing',
        message: observation.pending,
        availableMessage,
      };
    return {
      available: true,
      progressing: false,
      reason: 'Success',
      message: externalChange
        ? `Imported ${this.kind} changed in the cloud (${externalChange}); left as it is`
        : // The last change reported stays until another one replaces it.
          (this.reportedChange(object) ?? `${this.kind} is up to date`),
      availableMessage,
    };
  }

  /** The Progressing message that reported an imported resource's last change in the cloud. */
  private reportedChange(object: KubeObject): string | undefined {
    const message = (object.status?.conditions as Condition[] | undefined)?.find(
      (found) => found.type === 'Progressing',
    )?.message;
    return message?.startsWith(`Imported ${this.kind} changed in the cloud`) ? message : undefined;
  }

  private resync(object: KubeObject): WorkResult {
    const period =
      object.spec.resyncPeriod === undefined
        ? this.options.defaultResyncMs
        : parseDuration(object.spec.resyncPeriod as string);
    return resyncAfter(period, this.options.random ?? Math.random);
  }

  private async ensureManaged(
    context: ActuatorContext,
    object: KubeObject,
  ): Promise<{ resource: unknown; object: KubeObject }> {
    const actuator = this.parts.actuator;
    const knownId = object.status?.id as string | undefined;
    let resource = knownId ? await actuator.getById(context, knownId) : undefined;
    if (knownId && resource === undefined)
      await this.parts.events.record(
        object,
        'Warning',
        'ExternalDeletion',
        `${this.kind} ${knownId} was deleted outside the operator; creating it again`,
      );
    if (resource !== undefined) {
      const updated = await actuator.update(context, resource);
      if (updated !== undefined) {
        if (context.diff.length > 0 || context.cause !== 'resync') {
          const fields = describeDiff(context.diff);
          await this.parts.events.record(
            object,
            'Normal',
            'Updated',
            `Updated ${this.kind} ${knownId}${fields ? ` (changed ${fields})` : ''}`,
          );
        } else {
          // The spec did not change: the cloud did, behind the operator's back.
          const fields = describeDiff(
            diff(actuator.observe(resource).resource, actuator.observe(updated).resource),
          );
          await this.parts.events.record(
            object,
            'Normal',
            'DriftCorrected',
            `Corrected ${this.kind} ${knownId}, changed outside the operator${fields ? ` (${fields})` : ''}`,
          );
        }
        resource = updated;
      }
      return { resource, object };
    }
    const candidates = await actuator.listForAdoption(context);
    if (candidates.length > 1)
      throw new TerminalError(
        `${candidates.length} existing ${this.kind}s have this object's name and project; cannot tell which one to adopt`,
      );
    const [adopted] = candidates;
    if (adopted !== undefined) {
      resource = adopted;
      await this.parts.events.record(
        object,
        'Normal',
        'Adopted',
        `Adopted existing ${this.kind} ${actuator.idOf(adopted)}`,
      );
    } else {
      resource = await actuator.create(context);
      await this.parts.events.record(
        object,
        'Normal',
        'Created',
        `Created ${this.kind} ${actuator.idOf(resource)}`,
      );
    }
    // status.id right away: a crash from here on finds the resource by its ID. The conditions
    // the object carries describe the resource it had before (deleted in the cloud, say), so
    // they go back to not available until this one is observed.
    const id = actuator.idOf(resource);
    const written = await this.writeOutcome(
      object,
      {
        available: false,
        progressing: true,
        reason: 'Progressing',
        message: `Waiting for ${this.kind} ${id} to be available`,
      },
      { id },
    );
    // What the create could not do in its one call (it is part of creating: no Updated Event).
    resource = (await actuator.update(context, resource)) ?? resource;
    return { resource, object: written === NO_WRITE ? object : written };
  }

  private async findImported(context: ActuatorContext, object: KubeObject): Promise<unknown> {
    const actuator = this.parts.actuator;
    const knownId = object.status?.id as string | undefined;
    if (knownId) {
      const found = await actuator.getById(context, knownId);
      if (found === undefined)
        throw new TerminalError(
          `The imported ${this.kind} ${knownId} was deleted from the cloud`,
          'UnrecoverableError',
        );
      return found;
    }
    const importId = object.spec.import?.id as string | undefined;
    if (importId) {
      const found = await actuator.getById(context, importId);
      if (found === undefined) throw new TerminalError(`No ${this.kind} has the ID ${importId}`);
      return found;
    }
    const matches = await actuator.listForImport(context);
    if (matches.length > 1)
      throw new TerminalError(
        `${matches.length} ${this.kind}s match the import filter; it must match exactly one`,
      );
    return matches[0];
  }

  /**
   * Deletes the cloud resource (managed, onDelete: delete) once no object refers to it any
   * more (the deletion guard: a topology deleted at once goes in dependency order), then
   * lets the object go. Detached and imported objects leave the cloud as it is, and so need
   * not wait: that is the way out when the cloud is gone for good.
   */
  private async finalize(object: KubeObject): Promise<WorkResult> {
    if (!object.metadata.finalizers?.includes(FINALIZER)) return DONE;
    const actuator = this.parts.actuator;
    const deletesResource =
      object.spec.managementPolicy !== 'unmanaged' && object.spec.managedOptions?.onDelete !== 'detach';
    if (deletesResource) {
      const referrers = this.parts.referrers(object);
      // Queued again when a referrer goes (the manager's index), so no retry of its own.
      if (referrers.length > 0)
        throw new DependencyNotReady(
          `Waiting for ${referrers.slice(0, 3).join(', ')}${referrers.length > 3 ? ` and ${referrers.length - 3} more` : ''} to be deleted first`,
          false,
        );
      const context = await this.context(object, 'delete', []);
      const knownId = object.status?.id as string | undefined;
      const resource = knownId
        ? await actuator.getById(context, knownId)
        : await this.leftBehind(context, object);
      if (resource !== undefined) {
        const id = actuator.idOf(resource);
        await actuator.delete(context, resource);
        if ((await actuator.getById(context, id)) !== undefined)
          throw new TemporaryError(`${this.kind} ${id} is still being deleted`);
        await this.parts.events.record(object, 'Normal', 'Deleted', `Deleted ${this.kind} ${id}`);
      }
    }
    const remaining = (object.metadata.finalizers ?? []).filter((finalizer) => finalizer !== FINALIZER);
    await this.parts.writer.setFinalizers(object, remaining);
    this.forget(this.keyOf(object));
    return DONE;
  }

  /**
   * For an object deleted without status.id: what a create just before a crash would have
   * made. Nothing is created before the dependencies are there, so without them nothing is
   * looked for; and only an unambiguous match is taken, never someone else's namesake.
   */
  private async leftBehind(context: ActuatorContext, object: KubeObject): Promise<unknown> {
    let dependencies: Pick<ActuatorContext, 'dependencyIds' | 'dependencyObjects'>;
    try {
      dependencies = this.resolveDependencies(object);
    } catch {
      return undefined;
    }
    const candidates = await this.parts.actuator.listForAdoption({ ...context, ...dependencies });
    return candidates.length === 1 ? candidates[0] : undefined;
  }

  private await(written: KubeObject): void {
    const key = this.keyOf(written);
    // The watch may deliver the write before its own response arrives: then nothing to wait for.
    if (
      !written.metadata.resourceVersion ||
      this.parts.cached(key)?.metadata.resourceVersion === written.metadata.resourceVersion
    ) {
      this.awaited.delete(key);
      return;
    }
    this.awaited.set(key, {
      resourceVersion: written.metadata.resourceVersion,
      until: Date.now() + this.options.consistencyTimeoutMs,
      object: written,
    });
  }

  // biome-ignore lint/suspicious/noExplicitAny: a status of any kind
  private async writeStatus(object: KubeObject, status: any): Promise<KubeObject | typeof NO_WRITE> {
    if (jsonEqual(object.status, status)) return NO_WRITE;
    const written = await this.parts.writer.replaceStatus(object, status);
    this.await(written);
    return written;
  }

  /** The conditions for `outcome` (and any other status fields), written when they changed. */
  private async writeOutcome(
    object: KubeObject,
    outcome: Outcome,
    fields: Record<string, unknown> = {},
  ): Promise<KubeObject | typeof NO_WRITE> {
    const previous = object.status?.conditions as Condition[] | undefined;
    const now = new Date().toISOString();
    const conditions = nextConditions(previous, outcome, object.metadata.generation, now);
    return this.writeStatus(object, { ...object.status, ...fields, conditions });
  }
}
