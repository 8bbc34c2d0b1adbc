// Loader of the Node-API kernels (core/**/native/*.cc), which scripts/setup-kernels.sh compiles into
// node_modules/.cache/hstu-native/<name>.node with a stamp beside it. Optional like the native TensorFlow backend:
// where a kernel is not built (no C++ compiler), was built from another version of its source, or
// HSTU_NO_KERNELS=1 (or lists its name: HSTU_NO_KERNELS=hstu_attention,count_above), loadAddon returns null and its
// caller runs the tfjs path instead (the same arithmetic, slower).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
/** The headers the kernels share: a build is stale when its source or one of these changes. */
const SHARED_HEADERS = [new URL('./napi-args.h', import.meta.url), new URL('./hash.h', import.meta.url)];
const loaded = new Map<string, unknown>();

/**
 * The first 16 hex digits of sha256(source ‖ napi-args.h ‖ hash.h): what setup-kernels.sh stamps a build with (line 1
 * of `<name>.node.stamp`).
 */
export function addonSourceHash(source: URL): string {
  const hash = createHash('sha256').update(readFileSync(source, 'utf8'));
  for (const header of SHARED_HEADERS) hash.update(readFileSync(header, 'utf8'));
  return hash.digest('hex').slice(0, 16);
}

/** The addon `name` built from `source`, or null (not built, built from another source, or turned off by HSTU_NO_KERNELS). */
export function loadAddon<T>(source: URL, name: string): T | null {
  if (loaded.has(name)) return loaded.get(name) as T | null;
  let addon: T | null = null;
  const path = join(ROOT, 'node_modules/.cache/hstu-native', `${name}.node`);
  const fresh = existsSync(path) && existsSync(`${path}.stamp`) &&
    readFileSync(`${path}.stamp`, 'utf8').split('\n')[0] === addonSourceHash(source); // stale: rerun setup
  const off = process.env.HSTU_NO_KERNELS ?? '';
  if (off !== '1' && !off.split(',').includes(name) && fresh) {
    try {
      addon = createRequire(import.meta.url)(path) as T;
    } catch {
      // an addon that does not load (another Node ABI, a broken build): the tfjs path runs instead
    }
  }
  loaded.set(name, addon);
  return addon;
}
