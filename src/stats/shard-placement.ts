// Whether the nodes' own answers contradict the slot owners of a topology: the sign that a slot moved since it was read.
import { hashSlot } from './hash-slot.js';
import { slotOwners, type Topology } from './topology.js';
import type { NodeReading } from './snapshot.js';

/**
 * Shard channels that a node lists although the topology gives their slot to another shard. A
 * node lists only shard channels of slots its shard serves (it ends the others' subscriptions when
 * a slot leaves), so each one means the topology is older than the move.
 */
export function shardChannelsElsewhere(topology: Topology, readings: ReadonlyMap<string, NodeReading>): string[] {
  if (topology.mode !== 'cluster') return [];
  const ownerOf = slotOwners(topology);
  const out: string[] = [];
  for (const node of topology.nodes) {
    for (const [name, count] of readings.get(node.id)?.shardChannels ?? []) {
      const owner = ownerOf(hashSlot(name));
      if (count > 0 && owner?.shardId !== node.shardId) out.push(name);
    }
  }
  return out;
}
