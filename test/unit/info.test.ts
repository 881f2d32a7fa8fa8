// Unit tests for INFO parsing: fields, numbers, commandstats and the replica list.
import { describe, it, expect } from 'vitest';
import {
  commandCalls,
  infoNumber,
  parseCommandStats,
  parseInfo,
  parseReplicas,
} from '../../src/stats/info.js';

// Trimmed from `INFO all` of a Redis 7.0.15 cluster primary (CRLF, as the server sends it).
const INFO_7_0 = [
  '# Server',
  'redis_version:7.0.15',
  'os:Linux 6.18.44-fc-v595 x86_64',
  'executable:/usr/bin/redis-server',
  'config_file:',
  '',
  '# Clients',
  'connected_clients:4',
  '',
  '# Stats',
  'pubsub_channels:2',
  'pubsub_patterns:1',
  'pubsubshard_channels:0',
  'slave_expires_tracked_keys:0',
  '',
  '# Replication',
  'role:master',
  'connected_slaves:2',
  'slave0:ip=127.0.0.1,port=31005,state=online,offset=14,lag=1',
  'slave1:ip=::1,port=31007,state=wait_bgsave,offset=0,lag=0',
  'master_failover_state:no-failover',
  'master_repl_offset:14',
  'second_repl_offset:-1',
  '',
  '# CPU',
  'used_cpu_sys:0.123456',
  'used_cpu_user:1.5e-3',
  '',
  '# Commandstats',
  'cmdstat_publish:calls=3,usec=27,usec_per_call=9.00,rejected_calls=1,failed_calls=0',
  'cmdstat_client|list:calls=1,usec=16,usec_per_call=16.00,rejected_calls=0,failed_calls=0',
  'cmdstat_cluster|nodes:calls=4,usec=243,usec_per_call=60.75,rejected_calls=0,failed_calls=0',
  '',
].join('\r\n');

// Redis 6.0 commandstats have no rejected/failed counts; LF endings as a file or redis-cli shows them.
const INFO_6_0 = [
  '# Commandstats',
  'cmdstat_subscribe:calls=10,usec=50,usec_per_call=5.00',
  'cmdstat_PSUBSCRIBE:calls=2,usec=4,usec_per_call=2.00',
  'cmdstat_broken:calls=x,usec=1,usec_per_call=1.00',
].join('\n');

describe('parseInfo', () => {
  it('reads every key:value line and ignores section headers and blank lines', () => {
    const info = parseInfo(INFO_7_0);
    expect(info['redis_version']).toBe('7.0.15');
    expect(info['connected_clients']).toBe('4');
    expect(Object.keys(info).some((k) => k.startsWith('#') || k === '')).toBe(false);
    expect(Object.values(info).some((v) => v.endsWith('\r'))).toBe(false);
  });

  it('splits on the first colon only', () => {
    const info = parseInfo(INFO_7_0);
    expect(info['executable']).toBe('/usr/bin/redis-server');
    expect(info['cmdstat_publish']).toBe(
      'calls=3,usec=27,usec_per_call=9.00,rejected_calls=1,failed_calls=0',
    );
    expect(parseInfo('a:b:c:d')).toEqual({ a: 'b:c:d' });
  });

  it('keeps empty values and skips lines without a key', () => {
    const info = parseInfo('config_file:\n:orphan\nnocolon\n');
    expect(info).toEqual({ config_file: '' });
  });

  it('reads LF and CRLF alike', () => {
    expect(parseInfo('a:1\nb:2\n')).toEqual(parseInfo('a:1\r\nb:2\r\n'));
  });
});

describe('infoNumber', () => {
  const info = parseInfo(INFO_7_0);

  it('reads integers, negatives, decimals and exponents', () => {
    expect(infoNumber(info, 'pubsub_channels')).toBe(2);
    expect(infoNumber(info, 'second_repl_offset')).toBe(-1);
    expect(infoNumber(info, 'used_cpu_sys')).toBeCloseTo(0.123456);
    expect(infoNumber(info, 'used_cpu_user')).toBeCloseTo(0.0015);
  });

  it('says undefined, not 0, for absent or non-numeric fields', () => {
    expect(infoNumber(info, 'pubsub_clients')).toBeUndefined();
    expect(infoNumber(info, 'config_file')).toBeUndefined();
    expect(infoNumber(info, 'role')).toBeUndefined();
    expect(infoNumber({ x: '0x1f' }, 'x')).toBeUndefined();
    expect(infoNumber({ x: '   ' }, 'x')).toBeUndefined();
  });

  it('does read a real 0', () => {
    expect(infoNumber(info, 'pubsubshard_channels')).toBe(0);
  });
});

describe('parseCommandStats', () => {
  it('reads 6.2+ lines with rejected and failed calls', () => {
    const stats = parseCommandStats(parseInfo(INFO_7_0));
    expect(stats['publish']).toEqual({
      calls: 3,
      usec: 27,
      usecPerCall: 9,
      rejectedCalls: 1,
      failedCalls: 0,
    });
  });

  it('keeps 7.0 subcommand names as given', () => {
    const stats = parseCommandStats(parseInfo(INFO_7_0));
    expect(Object.keys(stats).sort()).toEqual(['client|list', 'cluster|nodes', 'publish']);
    expect(stats['cluster|nodes']?.usecPerCall).toBe(60.75);
  });

  it('leaves rejected and failed undefined before 6.2, lower-cases names, skips unreadable lines', () => {
    const stats = parseCommandStats(parseInfo(INFO_6_0));
    expect(stats['subscribe']).toEqual({ calls: 10, usec: 50, usecPerCall: 5 });
    expect(stats['subscribe']).not.toHaveProperty('rejectedCalls');
    expect(stats['subscribe']).not.toHaveProperty('failedCalls');
    expect(stats['psubscribe']?.calls).toBe(2);
    expect(stats['broken']).toBeUndefined();
  });

  it('ignores fields that are not commandstats', () => {
    expect(parseCommandStats({ cmdstat_: 'calls=1,usec=1,usec_per_call=1', calls: '3' })).toEqual({});
  });
});

describe('commandCalls', () => {
  const stats = parseCommandStats(parseInfo(INFO_7_0));

  it('returns the calls of a command, whatever the case of the name', () => {
    expect(commandCalls(stats, 'publish')).toBe(3);
    expect(commandCalls(stats, 'PUBLISH')).toBe(3);
  });

  it('returns 0 for a command never called, whose line the server omits', () => {
    expect(commandCalls(stats, 'spublish')).toBe(0);
  });
});

describe('parseReplicas', () => {
  it('lists slaveN lines in order and ignores other slave_* fields', () => {
    const info = parseInfo(INFO_7_0);
    expect(parseReplicas(info)).toEqual([
      { host: '127.0.0.1', port: 31005, state: 'online' },
      { host: '::1', port: 31007, state: 'wait_bgsave' },
    ]);
  });

  it('orders by N, not by line order, and tolerates a missing state', () => {
    const info = parseInfo(
      'slave10:ip=10.0.0.3,port=6381\nslave2:ip=10.0.0.2,port=6380,state=online\nslave_priority:100\n',
    );
    const replicas = parseReplicas(info);
    expect(replicas.map((r) => r.port)).toEqual([6380, 6381]);
    expect(replicas[1]).toEqual({ host: '10.0.0.3', port: 6381 });
  });

  it('skips lines without a host or a numeric port', () => {
    const info = parseInfo('slave0:ip=,port=6380\nslave1:ip=10.0.0.1,port=abc\nslave2:port=6379\n');
    expect(parseReplicas(info)).toEqual([]);
  });

  it('returns nothing for a replica or a primary without replicas', () => {
    expect(parseReplicas(parseInfo('role:slave\nslave_repl_offset:14\nslave_read_only:1\n'))).toEqual([]);
  });
});
