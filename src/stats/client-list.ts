// Turns the text of CLIENT LIST into one ClientInfo per connection, and tells pub/sub clients apart.

/** One line of CLIENT LIST, the fields pubsub-mon uses; absent fields stay undefined. */
export interface ClientInfo {
  id: string;
  addr: string;
  name: string;
  flags: string;
  age?: number;
  idle?: number;
  sub?: number;
  psub?: number;
  /** Absent before Redis 7.0.3. */
  ssub?: number;
  omem?: number;
  /** Absent before Redis 6.2. */
  totMem?: number;
  /** Everything the line had, for fields not named above. */
  raw: Record<string, string>;
}

const INTEGER = /^[+-]?\d+$/;

/** Only whole decimal numbers: every numeric CLIENT LIST field is one. */
function parseInteger(text: string | undefined): number | undefined {
  if (text === undefined || !INTEGER.test(text)) return undefined;
  return Number(text);
}

/** Splits one line into its `key=value` fields; a value keeps any later '=' (`cmd=client|list`). */
function parseFields(line: string): Record<string, string> {
  const fields: Record<string, string> = {};
  let lastKey: string | undefined;
  for (const token of line.split(' ')) {
    if (token === '') continue;
    const eq = token.indexOf('=');
    if (eq > 0) {
      lastKey = token.slice(0, eq);
      fields[lastKey] = token.slice(eq + 1);
    } else if (lastKey !== undefined) {
      // The server forbids spaces in names, but should a value ever carry one, the piece after it
      // belongs to the field before, not to a field of its own.
      fields[lastKey] = `${fields[lastKey] ?? ''} ${token}`;
    }
  }
  return fields;
}

/** One entry per non-empty line of CLIENT LIST; numeric fields the server did not send stay undefined. */
export function parseClientList(text: string): ClientInfo[] {
  const clients: ClientInfo[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '') continue;
    const raw = parseFields(line);
    clients.push({
      id: raw['id'] ?? '',
      addr: raw['addr'] ?? '',
      name: raw['name'] ?? '',
      flags: raw['flags'] ?? '',
      age: parseInteger(raw['age']),
      idle: parseInteger(raw['idle']),
      sub: parseInteger(raw['sub']),
      psub: parseInteger(raw['psub']),
      ssub: parseInteger(raw['ssub']),
      omem: parseInteger(raw['omem']),
      totMem: parseInteger(raw['tot-mem']),
      raw,
    });
  }
  return clients;
}

/** A connection in pub/sub mode: flag P, or any channel, pattern or shard-channel subscription. */
export function isPubsubClient(client: ClientInfo): boolean {
  return (
    client.flags.includes('P') ||
    (client.sub ?? 0) > 0 ||
    (client.psub ?? 0) > 0 ||
    (client.ssub ?? 0) > 0
  );
}
