// List, then watch from the list's resourceVersion, keeping a cache of the objects, as
// client-go's reflector and informer: bookmarks move the resourceVersion on without an object,
// a 410 Gone (the version left the apiserver's window) lists again and reports what changed
// meanwhile, and a watchdog restarts a stream that went silent without closing.
import { type KubernetesClient, resourcePath } from '../../lib/kubernetes/index.js';
import type { Logger } from '../../lib/log.js';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  deletionTimestamp?: string;
  finalizers?: string[];
  annotations?: Record<string, string>;
  creationTimestamp?: string;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  // biome-ignore lint/suspicious/noExplicitAny: the spec and status of any kind; reconcilers type them
  spec?: any;
  // biome-ignore lint/suspicious/noExplicitAny: see spec
  status?: any;
}

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export const keyOf = (object: KubeObject) => `${object.metadata.namespace ?? ''}/${object.metadata.name}`;

/** A watch stream the informer can stop. */
export interface OpenWatch {
  abort(): void;
}

/** Where the objects come from: the Kubernetes API, or a test's fake. */
export interface ListWatchSource {
  list(): Promise<{ items: KubeObject[]; resourceVersion: string }>;
  /**
   * Streams changes after `resourceVersion`, BOOKMARKs included. `onEnd` is called once, with
   * the error (an HTTP failure carries `statusCode`) or nothing when the server closed it.
   */
  watch(
    resourceVersion: string,
    onEvent: (type: string, object: KubeObject) => void,
    onEnd: (error?: unknown) => void,
  ): Promise<OpenWatch>;
}

export interface InformerOptions {
  /** A stream with nothing on it (not even a bookmark) for this long is restarted. */
  watchdogMs: number;
  /** Wait before watching again after a failed watch or list. */
  retryMs?: number;
  log?: Logger;
  onChange(type: ChangeType, object: KubeObject, old: KubeObject | undefined): void;
}

/** One line for the log: the HTTP status, or the message. */
function failureOf(error: unknown): string {
  const { statusCode, code, message } = (error ?? {}) as {
    statusCode?: number;
    code?: number;
    message?: string;
  };
  const status = statusCode ?? (typeof code === 'number' ? code : undefined);
  return status === undefined ? String(message ?? error) : `HTTP ${status}`;
}

function isGone(error: unknown): boolean {
  const { statusCode, code } = (error ?? {}) as { statusCode?: number; code?: number };
  return statusCode === 410 || code === 410;
}

export class Informer {
  private readonly cache = new Map<string, KubeObject>();
  private resourceVersion = '';
  private stream: OpenWatch | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Bumped on each new stream so that the callbacks of an abandoned one are ignored. */
  private generation = 0;
  synced = false;
  /** Lists after the first, for the metrics and the tests. */
  relists = 0;
  watchRestarts = 0;

  constructor(
    private readonly source: ListWatchSource,
    private readonly options: InformerOptions,
  ) {}

  /**
   * Lists, fills the cache and starts watching; resolves once the cache holds the first list.
   * A failing list (the CRD not installed yet, the apiserver away) is retried until it works
   * or the informer is stopped.
   */
  async start(): Promise<void> {
    for (let failures = 0; !this.stopped; failures++) {
      try {
        await this.relist();
        return;
      } catch (error) {
        this.options.log?.warn({ failure: failureOf(error) }, 'cannot list; trying again');
        const waitMs = Math.min(30_000, (this.options.retryMs ?? 1000) * 2 ** Math.min(failures, 5));
        await new Promise((resolve) => {
          this.retryTimer = setTimeout(resolve, waitMs);
        });
      }
    }
  }

  get(key: string): KubeObject | undefined {
    return this.cache.get(key);
  }

  list(): KubeObject[] {
    return [...this.cache.values()];
  }

  /** The resourceVersion the next watch starts from. */
  get lastResourceVersion(): string {
    return this.resourceVersion;
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    clearTimeout(this.watchdog);
    clearTimeout(this.retryTimer);
    this.stream?.abort();
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    const { items, resourceVersion } = await this.source.list();
    const seen = new Set<string>();
    for (const object of items) {
      const key = keyOf(object);
      seen.add(key);
      this.apply(this.cache.has(key) ? 'MODIFIED' : 'ADDED', object);
    }
    for (const [key, object] of [...this.cache]) if (!seen.has(key)) this.apply('DELETED', object);
    this.resourceVersion = resourceVersion;
    this.synced = true;
    await this.openWatch();
  }

  /** Updates the cache and tells the owner, unless the object is the version already held. */
  private apply(type: ChangeType, object: KubeObject): void {
    const key = keyOf(object);
    const old = this.cache.get(key);
    if (type === 'DELETED') this.cache.delete(key);
    else {
      if (old && old.metadata.resourceVersion === object.metadata.resourceVersion) return;
      this.cache.set(key, object);
    }
    this.options.onChange(type, object, old);
  }

  private async openWatch(): Promise<void> {
    if (this.stopped) return;
    const generation = ++this.generation;
    const current = () => generation === this.generation && !this.stopped;
    this.kickWatchdog();
    try {
      this.stream = await this.source.watch(
        this.resourceVersion,
        (type, object) => {
          if (!current()) return;
          this.kickWatchdog();
          if (type === 'BOOKMARK') {
            this.resourceVersion = object.metadata.resourceVersion ?? this.resourceVersion;
          } else if (type === 'ERROR') {
            // A Status object: 410 when the version is too old for the watch cache.
            this.restart(object);
          } else {
            this.apply(type as ChangeType, object);
            this.resourceVersion = object.metadata.resourceVersion ?? this.resourceVersion;
          }
        },
        (error) => {
          if (current()) this.restart(error);
        },
      );
    } catch (error) {
      if (current()) this.restart(error);
    }
  }

  private kickWatchdog(): void {
    clearTimeout(this.watchdog);
    const generation = this.generation;
    this.watchdog = setTimeout(() => {
      if (generation !== this.generation) return;
      this.options.log?.warn(
        { resourceVersion: this.resourceVersion },
        'watch silent too long; restarting it',
      );
      this.restart(undefined);
    }, this.options.watchdogMs);
  }

  /** Ends the current stream and goes on: a re-list after 410, else a watch from where it was. */
  private restart(error: unknown): void {
    this.generation++;
    clearTimeout(this.watchdog);
    this.stream?.abort();
    this.stream = undefined;
    if (this.stopped) return;
    this.watchRestarts++;
    const gone = isGone(error);
    const failed = error !== undefined && error !== null && !gone;
    if (failed) this.options.log?.warn({ failure: failureOf(error) }, 'watch failed; watching again');
    const next = async () => {
      try {
        if (gone) {
          this.relists++;
          this.options.log?.info(
            { resourceVersion: this.resourceVersion },
            'watch expired (410 Gone); listing again',
          );
          await this.relist();
        } else await this.openWatch();
      } catch (listError) {
        this.options.log?.warn({ failure: failureOf(listError) }, 'list failed; trying again');
        this.retryTimer = setTimeout(() => void next(), this.options.retryMs ?? 1000);
      }
    };
    if (failed) this.retryTimer = setTimeout(() => void next(), this.options.retryMs ?? 1000);
    else void next();
  }
}

/** How long the apiserver keeps a watch open before closing it (client-go picks 5–10 min). */
export const WATCH_TIMEOUT_SECONDS = 300;

/** Every object of a custom resource, in all namespaces, from the Kubernetes API. */
export function customResourceSource(
  kubernetes: KubernetesClient,
  resource: { group: string; version: string; plural: string },
  timeoutSeconds = WATCH_TIMEOUT_SECONDS,
): ListWatchSource {
  const path = resourcePath(resource);
  return {
    async list() {
      const answer = await kubernetes.get<{ items: KubeObject[]; metadata: { resourceVersion: string } }>(
        path,
      );
      return { items: answer.items, resourceVersion: answer.metadata.resourceVersion };
    },
    watch(resourceVersion, onEvent, onEnd) {
      return kubernetes.watch(
        path,
        { resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
        (type, object) => onEvent(type, object as KubeObject),
        onEnd,
      );
    },
  };
}
