/**
 * Builds the web UI into web/dist when its sources changed since the last build: a hash of
 * web/'s sources, the protocol and client it imports, and the lockfile, kept in
 * web/dist/.build-stamp. `npm start` runs it first (fast when nothing changed), the browser
 * tests through their global setup; `--force` always builds.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const webRoot = join(repoRoot, 'web');
const distDir = join(webRoot, 'dist');
const stampFile = join(distDir, '.build-stamp');

/** What the built UI depends on. */
const inputs = ['web/index.html', 'web/vite.config.ts', 'web/tsconfig.json', 'web/src', 'web/public', 'src/client', 'src/protocol', 'package-lock.json'];

async function filesUnder(path: string): Promise<string[]> {
  if (!existsSync(path)) return [];
  const entries = await readdir(path, { withFileTypes: true, recursive: true }).catch(() => undefined);
  if (entries === undefined) return [path];
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

/** A hash of every input file's path and content. */
export async function sourceHash(): Promise<string> {
  const files: string[] = [];
  for (const input of inputs) files.push(...(await filesUnder(join(repoRoot, input))));
  const hash = createHash('sha256');
  // Tests are not part of the bundle; editing one need not rebuild it.
  for (const file of files.filter((name) => !/\.test\.tsx?$/.test(name)).sort()) {
    hash.update(relative(repoRoot, file)).update('\0').update(await readFile(file)).update('\0');
  }
  return hash.digest('hex');
}

/** Builds the UI unless web/dist is already built from the current sources. */
export async function buildWebIfStale({ force = false, log = console.log } = {}): Promise<'fresh' | 'built'> {
  const hash = await sourceHash();
  const stamp = await readFile(stampFile, 'utf8').catch(() => '');
  if (!force && stamp.trim() === hash && existsSync(join(distDir, 'index.html'))) return 'fresh';
  log('Building the web UI (web/ → web/dist)…');
  const started = performance.now();
  const { build } = await import('vite');
  await build({ configFile: join(webRoot, 'vite.config.ts'), logLevel: 'warn' });
  await writeFile(stampFile, `${hash}\n`);
  log(`Built the web UI in ${((performance.now() - started) / 1000).toFixed(1)} s.`);
  return 'built';
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await buildWebIfStale({ force: process.argv.includes('--force') });
  if (result === 'fresh') console.log('The web UI in web/dist is up to date.');
}
