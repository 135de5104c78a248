// The three programs as separate processes: api-server, operator, node-agent.
import { startApiServer } from '../../../api-server/main.js';
import { startNodeAgent } from '../../../node-agent/main.js';
import { ResyncPeriod } from '../../../operator/crds/convention.js';
import { parseDuration } from '../../../operator/framework/reconciler.js';
import { OPERATOR_HTTP_PORT, startOperator } from '../../../operator/main.js';
import { createBusFromConfig } from '../../bus/index.js';
import type { Config } from '../../config.js';
import type { Logger } from '../../log.js';
import { orUnavailable, UsageError } from '../exit-codes.js';
import { closeOnSignal } from '../lifecycle.js';

export async function runApiServer(config: Config, log: Logger): Promise<number> {
  const server = await orUnavailable('cannot start the api-server', () => startApiServer(config, log));
  return closeOnSignal([{ name: 'api-server', close: server.close }], log, config.api.shutdownGraceMs);
}

export async function runOperator(
  config: Config,
  log: Logger,
  where: {
    kubeconfig: string | undefined;
    probes: { host: string; port: number } | undefined;
    /** The global default resync period, a Go duration as objects' resyncPeriod. */
    resyncPeriod: string | undefined;
  },
): Promise<number> {
  const http = where.probes ?? { host: '0.0.0.0', port: OPERATOR_HTTP_PORT };
  if (
    where.resyncPeriod !== undefined &&
    !new RegExp(ResyncPeriod.pattern as string).test(where.resyncPeriod)
  )
    throw new UsageError(
      `--resync-period: '${where.resyncPeriod}' is not a duration such as 90s, 10m or 1h30m`,
    );
  const framework =
    where.resyncPeriod === undefined
      ? {}
      : { reconciler: { defaultResyncMs: parseDuration(where.resyncPeriod) } };
  const operator = await orUnavailable('cannot start the operator', () =>
    startOperator({ kubeconfig: where.kubeconfig, http, framework }, log),
  );
  return closeOnSignal([{ name: 'operator', close: operator.close }], log, config.api.shutdownGraceMs);
}

export async function runNodeAgent(config: Config, log: Logger): Promise<number> {
  const bus = await orUnavailable('cannot connect to the message bus', () =>
    createBusFromConfig(config, log.child({ component: 'bus' })),
  );
  const agent = await startNodeAgent(config, bus, log);
  return closeOnSignal(
    [
      { name: 'bus', close: () => bus.close() },
      { name: 'node-agent', close: agent.close },
    ],
    log,
    config.api.shutdownGraceMs,
  );
}
