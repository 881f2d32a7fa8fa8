// One pub/sub message as `tail` receives it, before any rendering.

export type TailKind = 'message' | 'pmessage' | 'smessage';

export interface TailMessage {
  /** Milliseconds since the epoch when the message was read. */
  receivedAt: number;
  /** `host:port` of the node it came from. */
  node: string;
  kind: TailKind;
  /** For pmessage: the pattern that matched. */
  pattern?: Buffer;
  channel: Buffer;
  payload: Buffer;
}
