// `watch --once --json` as the integration tests read it: the document's shape and a runner.
import { expect } from 'vitest';
import { runCli } from './cli.js';

export interface ChannelJson { name: string; kind: string; subscribers: number; slot?: number; shard?: string; rate: number | null }
export interface NodeJson {
  address: string; role: string; up: boolean; error?: string; version: string | null; numpat: number | null;
  pubsub_clients: number | null; publish_per_sec: number | null; publish_replicated: boolean;
}
export interface WatchJson { mode: string; channels: ChannelJson[]; nodes: NodeJson[]; patterns_present: boolean; warnings: string[]; publish_per_sec: number | null }

/** One snapshot (two samples 300 ms apart unless --interval says otherwise); it must succeed quietly. */
export async function watchOnce(url: string, ...extra: string[]): Promise<WatchJson> {
  const r = await runCli(['watch', '-u', url, '--once', '--json', '--interval', '300ms', ...extra]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as WatchJson;
}

export const findChannel = (w: WatchJson, name: string, kind = 'channel') => w.channels.find((c) => c.name === name && c.kind === kind);
