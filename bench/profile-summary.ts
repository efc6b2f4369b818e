/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`) and says where the time went: self time per
 * function and per package, so a report can name what to optimize.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export interface ProfileSummary {
  total_ms: number;
  functions: { name: string; self_ms: number; percent: number }[];
  packages: { name: string; self_ms: number; percent: number }[];
}

/** Where a script belongs: a package under node_modules, Parley's own code, or Node. */
function packageOf(url: string): string {
  if (!url) return '(native / V8)';
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match) return match[1]!;
  if (url.startsWith('node:')) return 'node (internals)';
  if (url.includes('/src/'))
    return `parley ${url
      .slice(url.indexOf('/src/') + 1)
      .split('/')
      .slice(0, 2)
      .join('/')}`;
  return url;
}

/**
 * `window`: only the samples taken between `fromEndMs` and `toEndMs` milliseconds before the
 * profile ended (e.g. the load phase, leaving out startup and shutdown).
 */
export function summarizeProfile(
  file: string,
  { top = 15, window }: { top?: number; window?: { fromEndMs: number; toEndMs: number } } = {},
): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
    startTime: number;
    endTime: number;
  };
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  const from = window ? profile.endTime - window.fromEndMs * 1000 : -Infinity;
  const to = window ? profile.endTime - window.toEndMs * 1000 : Infinity;
  let at = profile.startTime;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    at += delta;
    if (at >= from && at <= to) selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });
  const functions = new Map<string, number>();
  const packages = new Map<string, number>();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    totalUs += us;
    const where = url
      ? `${url.replace(/^.*node_modules\//, '').replace(/^.*\/src\//, 'src/')}:${lineNumber + 1}`
      : '';
    const name = `${functionName || '(anonymous)'} ${where}`.trim();
    functions.set(name, (functions.get(name) ?? 0) + us);
    const pkg = functionName === '(garbage collector)' ? '(garbage collector)' : packageOf(url);
    packages.set(pkg, (packages.get(pkg) ?? 0) + us);
  }
  const rank = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({
        name,
        self_ms: Math.round(us / 1000),
        percent: Math.round((us / totalUs) * 1000) / 10,
      }));
  return {
    total_ms: Math.round(totalUs / 1000),
    functions: rank(functions),
    packages: rank(packages),
  };
}

if (import.meta.main) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: node bench/profile-summary.ts <file.cpuprofile>');
  process.stdout.write(`${JSON.stringify(summarizeProfile(file), null, 2)}\n`);
}
