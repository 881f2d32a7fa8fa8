// Every metric pubsub-mon serves to Prometheus (the exporter, and check --format prometheus), declared once: name, type, help, labels.

export type MetricType = 'gauge' | 'counter' | 'histogram';

export interface MetricSpec {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labels: readonly string[];
}

const CHANNEL = ['channel', 'kind'] as const;
const NODE = ['node', 'role'] as const;

/** Status values shared by check and the contract series: the Nagios codes. */
const STATUS_HELP = '0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN';

function spec<const L extends readonly string[]>(name: string, type: MetricType, help: string, labels: L): MetricSpec & { labels: L } {
  return { name, type, help, labels };
}

/** What `pubsub-mon exporter` serves on /metrics (besides prom-client's process_* and nodejs_* defaults). */
export const EXPORTER_METRICS = {
  channelSubscribers: spec(
    'pubsub_mon_channel_subscribers',
    'gauge',
    'Subscribers of a channel summed over the nodes that deliver it (every node for classic channels, the owning shard for shard channels), pubsub-mon\'s own left out; pattern subscribers are not included.',
    CHANNEL,
  ),
  channelMessages: spec(
    'pubsub_mon_channel_messages_total',
    'counter',
    'Messages published to the channel since the exporter started following it, as heard by its sampling subscriptions (--rates).',
    CHANNEL,
  ),
  channels: spec('pubsub_mon_channels', 'gauge', 'Channels known in the last snapshot (with subscribers, traffic, or declared in the contract).', ['kind'] as const),
  channelsOmitted: spec('pubsub_mon_channels_omitted', 'gauge', 'Channels left out of the per-channel series by --max-channels.', [] as const),
  nodeUp: spec('pubsub_mon_node_up', 'gauge', '1 when the node answered the last poll, 0 when it did not (its other series are then absent).', NODE),
  nodeInfo: spec('pubsub_mon_node_info', 'gauge', 'Always 1; the node\'s server version as a label.', [...NODE, 'version'] as const),
  nodePubsubClients: spec('pubsub_mon_node_pubsub_clients', 'gauge', 'Pub/sub client connections on the node, pubsub-mon\'s own left out.', NODE),
  nodePatterns: spec('pubsub_mon_node_patterns', 'gauge', 'Pattern subscriptions on the node (PSUBSCRIBE), pubsub-mon\'s own left out.', NODE),
  nodePublishCalls: spec(
    'pubsub_mon_node_publish_calls_total',
    'counter',
    'PUBLISH and SPUBLISH calls the node executed (INFO commandstats; a standalone replica also counts the ones it replicated).',
    NODE,
  ),
  nodeMaxOutputBuffer: spec(
    'pubsub_mon_node_max_subscriber_output_buffer_bytes',
    'gauge',
    'Largest output buffer (omem) of a pub/sub client on the node, pubsub-mon\'s own left out.',
    NODE,
  ),
  nodeSoftLimit: spec(
    'pubsub_mon_node_pubsub_soft_limit_bytes',
    'gauge',
    'Soft output-buffer limit of pub/sub clients (client-output-buffer-limit pubsub); +Inf when disabled.',
    NODE,
  ),
  nodeHardLimit: spec(
    'pubsub_mon_node_pubsub_hard_limit_bytes',
    'gauge',
    'Hard output-buffer limit of pub/sub clients (client-output-buffer-limit pubsub); +Inf when disabled.',
    NODE,
  ),
  nodeObufDisconnections: spec(
    'pubsub_mon_node_output_buffer_disconnections_total',
    'counter',
    'Clients the node disconnected for exceeding an output-buffer limit (INFO client_output_buffer_limit_disconnections, Redis 7.4+ and Valkey 8+).',
    NODE,
  ),
  clientOutputBuffer: spec(
    'pubsub_mon_client_output_buffer_bytes',
    'gauge',
    'Output buffer (omem) of the subscriber connections with the largest ones (--top-clients).',
    ['node', 'addr', 'name'] as const,
  ),
  contractMinSubscribers: spec('pubsub_mon_contract_min_subscribers', 'gauge', 'Contract: fewer subscribers than this is CRITICAL (every declared or pattern-matched channel has one; such channels are never left out by --max-channels).', CHANNEL),
  contractWarnSubscribers: spec('pubsub_mon_contract_warn_subscribers', 'gauge', 'Contract: fewer subscribers than this is WARNING (absent when the entry sets no warn_subscribers).', CHANNEL),
  contractMinRate: spec('pubsub_mon_contract_min_rate', 'gauge', 'Contract: fewer messages per second than this is CRITICAL (absent when the entry sets no min_rate).', CHANNEL),
  contractStatus: spec('pubsub_mon_contract_status', 'gauge', `Contract status of a declared or pattern-matched channel: ${STATUS_HELP}.`, CHANNEL),
  contractPatternMatches: spec('pubsub_mon_contract_pattern_matches', 'gauge', 'Contract: channels a pattern entry matches now.', ['pattern', 'kind'] as const),
  contractPatternStatus: spec(
    'pubsub_mon_contract_pattern_status',
    'gauge',
    `Contract status of a pattern entry (CRITICAL when it matches no channel and asks for subscribers; else its channels' worst): ${STATUS_HELP}.`,
    ['pattern', 'kind'] as const,
  ),
  pollDuration: spec('pubsub_mon_exporter_poll_duration_seconds', 'histogram', 'Time one poll of every node took.', [] as const),
  pollErrors: spec('pubsub_mon_exporter_poll_errors_total', 'counter', 'Polls in which a node could not be read (node="" when the whole poll failed).', ['node'] as const),
  lastSuccess: spec('pubsub_mon_exporter_last_success_timestamp_seconds', 'gauge', 'When the last successful poll finished (seconds since the epoch; 0 before the first).', [] as const),
  snapshotAge: spec(
    'pubsub_mon_exporter_snapshot_age_seconds',
    'gauge',
    'Age of the snapshot this scrape is served from (since the exporter started, before the first successful poll).',
    [] as const,
  ),
  pollInterval: spec('pubsub_mon_exporter_poll_interval_seconds', 'gauge', 'Time between polls (--interval).', [] as const),
} as const;

/** What `check --format prometheus` prints: one run's verdicts. */
export const CHECK_METRICS = {
  checkStatus: spec('pubsub_mon_check_status', 'gauge', `Overall check status: ${STATUS_HELP}.`, [] as const),
  checkMinSubscribers: spec('pubsub_mon_check_min_subscribers', 'gauge', 'Subscribers a channel needs to pass the check (--min-subscribers).', [] as const),
  patternSubscriptions: spec(
    'pubsub_mon_pattern_subscriptions',
    'gauge',
    'Pattern subscriptions (NUMPAT summed over nodes, pubsub-mon excluded); NaN when not readable on every node.',
    [] as const,
  ),
  channelSubscribers: EXPORTER_METRICS.channelSubscribers,
  channelStatus: spec('pubsub_mon_channel_status', 'gauge', `Check status of a channel: ${STATUS_HELP}.`, CHANNEL),
  contractMinSubscribers: EXPORTER_METRICS.contractMinSubscribers,
  contractWarnSubscribers: EXPORTER_METRICS.contractWarnSubscribers,
  contractMinRate: EXPORTER_METRICS.contractMinRate,
  contractStatus: EXPORTER_METRICS.contractStatus,
  contractPatternMatches: EXPORTER_METRICS.contractPatternMatches,
  contractPatternStatus: EXPORTER_METRICS.contractPatternStatus,
} as const;
