/**
 * The generated configuration of the cluster profile's Temporal server and Web UI server. JSON is
 * YAML, so every file is written as JSON.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** Temporal's databases on the same PostgreSQL, named as Temporal's own docs and Helm chart name them. */
export const DATABASES = { temporal: 'temporal', visibility: 'temporal_visibility' } as const;
/** Fixed at the first start of a database: history shards cannot be changed later. */
const HISTORY_SHARDS = 4;

export interface Ports {
  frontend: number;
  frontendHttp: number;
  history: number;
  matching: number;
  worker: number;
  metrics: number;
  membership: number[];
}

/**
 * The server's static configuration (the module's `development-postgres12.yaml`, with our ports and
 * database) and its dynamic configuration.
 */
export function writeServerConfig(dir: string, databaseUrl: string, ports: Ports): void {
  const url = new URL(databaseUrl);
  const store = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `${url.hostname}:${url.port || '5432'}`,
      connectProtocol: 'tcp',
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const service = (grpcPort: number, membershipPort: number, extra: Record<string, number> = {}) => ({
    rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...extra },
  });
  const config = {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'default',
      visibilityStore: 'visibility',
      numHistoryShards: HISTORY_SHARDS,
      datastores: { default: store(DATABASES.temporal, 20), visibility: store(DATABASES.visibility, 10) },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      metrics: {
        prometheus: {
          framework: 'tally',
          timerType: 'histogram',
          listenAddress: `127.0.0.1:${ports.metrics}`,
        },
      },
    },
    services: {
      frontend: service(ports.frontend, ports.membership[0], { httpPort: ports.frontendHttp }),
      history: service(ports.history, ports.membership[1]),
      matching: service(ports.matching, ports.membership[2]),
      worker: service(ports.worker, ports.membership[3]),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `127.0.0.1:${ports.frontend}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
    namespaceDefaults: { archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } } },
    dynamicConfigClient: { filepath: path.join(dir, 'config', 'dynamicconfig.yaml'), pollInterval: '10s' },
  };
  // What the dev server turns on and we rely on: update-with-start (a multi-operation), search
  // attributes visible as soon as they are registered.
  const value = (v: unknown) => [{ value: v, constraints: {} }];
  const dynamic = {
    'limit.maxIDLength': value(255),
    'frontend.enableExecuteMultiOperation': value(true),
    'frontend.enableUpdateWorkflowExecution': value(true),
    'frontend.enableUpdateWorkflowExecutionAsyncAccepted': value(true),
    'system.forceSearchAttributesCacheRefreshOnRead': value(true),
    'history.hostLevelCacheMaxSize': value(8192),
  };
  writeFileSync(path.join(dir, 'config', 'development.yaml'), JSON.stringify(config, null, 2));
  writeFileSync(path.join(dir, 'config', 'dynamicconfig.yaml'), JSON.stringify(dynamic, null, 2));
}

/** The Web UI server's configuration (`<dir>/development.yaml`). */
export function writeUiConfig(dir: string, ui: { port: number; address: string; namespace: string }): void {
  mkdirSync(dir, { recursive: true });
  const config = {
    port: ui.port,
    temporalGrpcAddress: ui.address,
    enableUi: true,
    defaultNamespace: ui.namespace,
    publicPath: '',
    cors: { cookieInsecure: true, allowOrigins: [`http://localhost:${ui.port}`] },
  };
  writeFileSync(path.join(dir, 'development.yaml'), JSON.stringify(config, null, 2));
}

/** A free TCP port in 20000-32767. */
export async function lowPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_768);
    const free = await new Promise<boolean>((resolve) => {
      const probe = net.createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
}
