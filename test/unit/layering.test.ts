// The import directions of src/: data flows commands -> (redis | bench | tail | sandbox) -> stats -> render, never back.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');

/** One import: the importing file and the imported file, both relative to src/ (`stats/topology.ts`). */
interface Edge {
  from: string;
  to: string;
}

/** The top folder of a path under src/, or the file itself for src/cli.ts, src/errors.ts and the like. */
function area(file: string): string {
  const slash = file.indexOf('/');
  return slash < 0 ? file : file.slice(0, slash);
}

/**
 * What each area may import from besides itself (packages and node: builtins are always allowed).
 * An area missing here may import anything: cli.ts and commands/ sit on top.
 */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  // Pure data and the code that builds and folds it: nothing above it.
  stats: [],
  // Renderers read models and return strings: models only.
  render: ['stats'],
  // The wire: may show names escaped in its debug output, never reach up to commands.
  redis: ['stats', 'render', 'errors.ts'],
  // Load generation: its results are models; reports are the command's business.
  bench: ['redis', 'stats', 'errors.ts'],
  tail: ['redis', 'stats', 'errors.ts'],
  sandbox: ['redis', 'stats', 'errors.ts'],
  // The exporter's state and HTTP side: fed snapshots, renders through render/, never reaches up.
  exporter: ['redis', 'stats', 'render', 'errors.ts'],
  'errors.ts': [],
  'values.ts': ['errors.ts'],
};

/** Every forbidden edge, as `from -> to` lines. */
function violations(edges: readonly Edge[]): string[] {
  const out: string[] = [];
  for (const { from, to } of edges) {
    const a = area(from);
    const b = area(to);
    const allowed = ALLOWED[a];
    if (a === b || allowed === undefined || allowed.includes(b)) continue;
    out.push(`${from} -> ${to}`);
  }
  return out;
}

/** Static imports, re-exports and dynamic import() of relative paths. */
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s*'([^']+)'|import\(\s*'([^']+)'\s*\)|(?:^|\n)\s*import\s*'([^']+)'/g;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [full] : [];
  });
}

function edgesOf(file: string): Edge[] {
  const text = fs.readFileSync(file, 'utf8');
  const from = path.relative(SRC, file);
  const edges: Edge[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec === undefined || !spec.startsWith('.')) continue;
    const target = path.relative(SRC, path.resolve(path.dirname(file), spec)).replace(/\.js$/, '.ts');
    edges.push({ from, to: target });
  }
  return edges;
}

describe('import directions in src/', () => {
  const files = sourceFiles(SRC);
  const edges = files.flatMap(edgesOf);

  it('reads the real imports (the scan itself works)', () => {
    expect(files.length).toBeGreaterThan(40);
    expect(edges).toContainEqual({ from: 'render/watch-table.ts', to: 'stats/snapshot.ts' });
    expect(edges).toContainEqual({ from: 'cli.ts', to: 'commands/command.ts' });
    // Every relative import points at a file that exists.
    for (const e of edges) expect(fs.existsSync(path.join(SRC, e.to)), `${e.from} imports missing ${e.to}`).toBe(true);
  });

  it('has no edge that runs back up', () => {
    expect(violations(edges)).toEqual([]);
  });

  it('would catch each back-arrow the code once had', () => {
    const before: Edge[] = [
      { from: 'stats/arrange.ts', to: 'redis/types.ts' },
      { from: 'render/watch-table.ts', to: 'redis/types.ts' },
      { from: 'render/tail-line.ts', to: 'errors.ts' },
      { from: 'bench/runner.ts', to: 'render/bench-report.ts' },
      { from: 'redis/monitor.ts', to: 'commands/io.ts' },
      { from: 'stats/snapshot.ts', to: 'bench/plan.ts' },
    ];
    expect(violations(before)).toEqual(before.map((e) => `${e.from} -> ${e.to}`));
  });

  it('leaves process exit codes, argv and the terminal to cli.ts and the commands', () => {
    const touching = files
      .map((f) => path.relative(SRC, f))
      .filter((f) => area(f) !== 'commands' && f !== 'cli.ts')
      .filter((f) => /process\.(exit|exitCode|argv|stdout|stderr|stdin)\b/.test(fs.readFileSync(path.join(SRC, f), 'utf8')));
    expect(touching).toEqual([]);
  });
});
