// Shared by the browser tests: Debian's headless Chromium, run offline (every host name resolves to
// nothing and every request goes to a dead proxy), to dump a page's DOM after its scripts ran or to take a
// screenshot. Not a test file itself.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The Chromium binary: $CHROMIUM, else `chromium` / `chromium-browser` on PATH; null when there is none. */
export function findChromium(): string | null {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const name of ['chromium', 'chromium-browser']) {
      const path = join(dir, name);
      try {
        accessSync(path, constants.X_OK);
        return path;
      } catch {
        // not here
      }
    }
  }
  return null;
}

const OFFLINE = [
  '--proxy-server=127.0.0.1:9', // nothing listens on port 9 (discard): any http(s) request fails
  '--proxy-bypass-list=<-loopback>',
  '--host-resolver-rules=MAP * ~NOTFOUND', // and no host name resolves
];

/** Runs headless Chromium offline on a local file with `extra` flags; returns stdout (fails the test on a non-zero exit). */
function runOffline(chromium: string, page: string, extra: string[], size: [number, number]): string {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  const args = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--hide-scrollbars', '--no-first-run',
    `--user-data-dir=${profile}`, `--window-size=${size[0]},${size[1]}`,
    '--virtual-time-budget=20000', // run the page's scripts (and timers) to completion before dumping
    ...OFFLINE, ...extra, pathToFileURL(page).href,
  ];
  const r = spawnSync(chromium, args, { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `${chromium} ${args.join(' ')} failed (${r.signal ?? r.status}):\n${r.stderr}`);
  return r.stdout;
}

/** The page's DOM after its scripts ran, offline. */
export function dumpDomOffline(chromium: string, page: string): string {
  return runOffline(chromium, page, ['--dump-dom'], [1280, 1600]);
}

/** A PNG screenshot of the page, offline, written to `png`. */
export function screenshotOffline(chromium: string, page: string, png: string, size: [number, number] = [1280, 1000]): void {
  runOffline(chromium, page, [`--screenshot=${png}`], size);
}
