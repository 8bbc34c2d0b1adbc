// Shared by tests that also run on the native backend: why it cannot run here, or null when the
// built tfjs-node addon is on disk (so those tests skip with a reason instead of failing).
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export function nativeAbsentReason(): string | null {
  let pkgDir: string;
  try {
    pkgDir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-node/package.json'));
  } catch {
    return '@tensorflow/tfjs-node is not installed (npm dropped the optional dependency)';
  }
  const libDir = join(pkgDir, 'lib');
  const built = existsSync(libDir) && readdirSync(libDir).some((d) => existsSync(join(libDir, d, 'tfjs_binding.node')));
  return built ? null : 'tfjs-node addon not built (scripts/setup-native.sh skipped or failed)';
}
