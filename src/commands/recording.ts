// The --record flags watch and the exporter share, and what ends a recording window: the profile written, and one line saying so.
import type { Io } from './io.js';
import { duration, text, textList } from '../options.js';
import { globFromArgument } from '../stats/channel-name.js';
import { MAX_PROFILE_CHANNELS } from '../stats/profile.js';
import type { TrafficRecording } from '../stats/traffic-recording.js';
import { plural } from '../stats/plural.js';
import { escapeText } from '../render/escape.js';
import { writeProfile } from './profile-file.js';
import { NoDataError } from '../errors.js';

const RECORDING = 'Traffic profile:';

/** How long a recording lasts unless --record-window says: long enough for slow channels to show. */
export const DEFAULT_RECORD_WINDOW_MS = 60_000;

export const RECORDING_FLAGS = {
  record: text({ group: RECORDING, describe: 'Write a traffic profile (JSON, for bench --profile) of the traffic over --record-window to this file (watch then exits; the exporter rewrites it every window)' }),
  'record-window': duration({ group: RECORDING, min: 1000, describe: 'How long the traffic profile is measured (default 60s; at least 1s and one --interval)' }),
  'record-group': textList({ group: RECORDING, describe: 'Channels matching this glob make one group of the profile, named by it (repeatable; the first that matches wins)' }),
} as const;

/** The combinations of recording flags that make no sense, as the one line that says so; undefined when they are fine. */
export function recordingFlagsProblem(args: { record?: string | undefined; recordWindow?: number | undefined; recordGroup: string[]; interval: number }): string | undefined {
  if (args.record === undefined) {
    if (args.recordWindow !== undefined) return '--record-window is how long a recording lasts: add --record FILE';
    if (args.recordGroup.length > 0) return '--record-group groups the channels of a recording: add --record FILE';
    return undefined;
  }
  if (args.record === '') return '--record needs a file name';
  const window = args.recordWindow ?? DEFAULT_RECORD_WINDOW_MS;
  if (window < args.interval) return `--record-window (${window / 1000} s) must be at least one --interval (${args.interval / 1000} s): rates are measured between refreshes`;
  return undefined;
}

/**
 * Writes the window's profile to `file` (atomically); returns the line that says what was written,
 * for `tell`. A window in which no channel carried a message has nothing to replay: a NoDataError,
 * and the file is left as it was (a profile needs at least one channel).
 */
export async function saveRecording(file: string, recording: TrafficRecording, groups: readonly string[], source: string): Promise<string> {
  const built = recording.profile(
    source,
    groups.map((written) => ({ written, glob: globFromArgument(written) })),
  );
  if (built.profile.groups.length === 0) {
    const why = recording.ratesProblem ?? `${plural(built.quiet, 'channel')} seen, none carried a message`;
    throw new NoDataError(`no traffic recorded in ${(recording.elapsedMs / 1000).toFixed(1)} s (${why}): ${file} not written`);
  }
  const bytes = await writeProfile(file, built.profile);
  const channels = built.profile.groups.reduce((n, g) => n + g.channels.length, 0);
  const left = [
    built.quiet > 0 ? `${plural(built.quiet, 'channel')} without traffic left out` : '',
    built.overCap > 0 ? `${plural(built.overCap, 'quieter channel')} beyond the ${MAX_PROFILE_CHANNELS} a profile holds left out` : '',
  ].filter((x) => x !== '');
  return `wrote ${file} (${bytes} bytes): ${plural(channels, 'channel')} in ${plural(built.profile.groups.length, 'group')} over ${(recording.elapsedMs / 1000).toFixed(1)} s${left.length > 0 ? `; ${left.join(', ')}` : ''}`;
}

/** One line on stderr from `command`, escaped: it names a file, which may hold anything. */
export function tell(io: Io, command: string, line: string): void {
  io.stderr.write(`pubsub-mon ${command}: ${escapeText(line)}\n`);
}
