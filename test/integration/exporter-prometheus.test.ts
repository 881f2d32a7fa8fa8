// A real Prometheus scraping pubsub-mon exporter on a 3+3 cluster: PromQL equals what every node says by hand, and the shipped alert fires when a consumer dies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import type { Redis } from 'ioredis';
import { startSandbox, type Sandbox, type SandboxNode } from '../../src/sandbox/sandbox.js';
import { hashSlot } from '../../src/stats/hash-slot.js';
import { Clients, ownerOfSlot } from '../helpers/redis.js';
import { ExporterProcess } from '../helpers/exporter.js';
import { startPrometheus, type PrometheusServer } from '../helpers/prometheus.js';

const RULES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../deploy/prometheus/pubsub-mon.rules.yml');

let sb: Sandbox;
let exporter: ExporterProcess | undefined;
let prom: PrometheusServer | undefined;
let dir: string;
const clients = new Clients();

beforeAll(async () => {
  sb = await startSandbox({ cluster: 3, replicas: 1 });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pubsub-mon-prometheus-test-'));
});
afterAll(async () => {
  clients.closeAll();
  await exporter?.terminate();
  await prom?.stop();
  await sb?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * The shipped rules with every `for:` cut to 0s, so a test sees an alert fire in seconds: the
 * expressions, labels and names are exactly the shipped ones.
 */
function rulesWithoutDelay(): string {
  const doc = parse(fs.readFileSync(RULES, 'utf8')) as { groups: Array<{ rules: Array<Record<string, unknown>> }> };
  for (const g of doc.groups) for (const r of g.rules) if ('for' in r) r.for = '0s';
  const file = path.join(dir, 'rules.yml');
  fs.writeFileSync(file, stringify(doc));
  return file;
}

/** What a careful person gets by asking every node: NUMSUB summed over all of them, SHARDNUMSUB over the owning shard. */
async function byHand(nodes: SandboxNode[], channel: string, command: 'NUMSUB' | 'SHARDNUMSUB'): Promise<number> {
  let sum = 0;
  for (const node of nodes) {
    const c: Redis = await clients.open(node, 'test:admin');
    const reply = (await c.call('PUBSUB', command, channel)) as [string, number];
    sum += Number(reply[1]);
  }
  return sum;
}

describe('Prometheus scraping the exporter', () => {
  it('PromQL answers equal ground truth, and a killed consumer drives its contract alert to firing', async () => {
    const primaries = sb.nodes.filter((n) => n.role === 'primary');
    const replicas = sb.nodes.filter((n) => n.role === 'replica');
    await clients.subscribe(primaries[0]!, 'orders');
    await clients.subscribe(replicas[0]!, 'orders');
    await clients.subscribe(replicas[2]!, 'orders', 'news');
    const shard = '{shop:9}:carts';
    const owner = await ownerOfSlot(sb, clients, hashSlot(shard));
    await clients.ssubscribe(owner.primary, shard);
    await clients.ssubscribe(owner.replicas[0]!, shard);
    const consumer = await clients.subscribe(replicas[1]!, 'billing');

    const contract = path.join(dir, 'contract.yaml');
    fs.writeFileSync(contract, `channels:\n  - name: orders\n    min_subscribers: 3\n  - name: "${shard}"\n    kind: shard\n    min_subscribers: 2\n  - name: billing\n`);
    exporter = await ExporterProcess.start(['-u', sb.urls[3]!, '--interval', '500ms', '--contract', contract]);
    prom = await startPrometheus({ jobs: [{ job: 'pubsub-mon', targets: [new URL(exporter.url).host] }], ruleFiles: [rulesWithoutDelay()] });
    const p = prom;

    const value = async (promql: string): Promise<number | undefined> => {
      const r = await p.query(promql);
      return r.length === 1 ? r[0]!.value : undefined;
    };
    const ordersTruth = await byHand(sb.nodes, 'orders', 'NUMSUB');
    const shardTruth = await byHand([owner.primary, ...owner.replicas], shard, 'SHARDNUMSUB');
    expect([ordersTruth, shardTruth]).toEqual([3, 2]);
    await p.waitFor('orders in Prometheus', async () => ((await value('pubsub_mon_channel_subscribers{channel="orders",kind="channel"}')) === ordersTruth ? true : undefined), 60_000);
    expect(await value(`pubsub_mon_channel_subscribers{channel="${shard}",kind="shard"}`)).toBe(shardTruth);
    expect(await value('pubsub_mon_channel_subscribers{channel="news"}')).toBe(await byHand(sb.nodes, 'news', 'NUMSUB'));
    expect(await value('sum(pubsub_mon_node_up)')).toBe(6);
    expect(await value('count(pubsub_mon_node_up{role="replica"})')).toBe(3);
    expect(await value('sum(pubsub_mon_node_pubsub_clients)')).toBe(6);
    expect(await value('pubsub_mon_contract_status{channel="billing"}')).toBe(0);
    const firing = async () => (await p.alerts()).filter((a) => a.state === 'firing' && a.labels.alertname === 'PubsubMonContractChannelBelowMinimum');
    // Nothing fires while all is well: wait for two rule evaluations that saw the data, then look.
    const seen = Date.now();
    await p.waitFor('two rule evaluations after the data arrived', async () => {
      const res = (await (await fetch(`${p.url}/api/v1/rules`)).json()) as { data: { groups: Array<{ lastEvaluation: string; interval: number }> } };
      const group = res.data.groups[0];
      return group && Date.parse(group.lastEvaluation) > seen + 1000 * group.interval ? true : undefined;
    }, 30_000);
    expect(await firing()).toEqual([]);

    consumer.disconnect();
    const alerts = await p.waitFor('the billing alert firing', async () => {
      const a = (await firing()).filter((x) => x.labels.channel === 'billing');
      return a.length > 0 ? a : undefined;
    }, 60_000);
    expect(alerts[0]!.labels).toMatchObject({ alertname: 'PubsubMonContractChannelBelowMinimum', channel: 'billing', kind: 'channel' });
    expect(await value('pubsub_mon_channel_subscribers{channel="billing"}')).toBe(await byHand(sb.nodes, 'billing', 'NUMSUB'));
    // Only billing broke its contract.
    expect((await firing()).map((a) => a.labels.channel)).toEqual(['billing']);
  }, 180_000);
});
