// Model folders written before model_type (weights format 'hstu-weights-v1') kept the HSTU knobs
// flat in config.json. Their weights are named as today's HSTU's, so upgrading the config is all a
// load needs: the flat knobs move under `encoder`.
import { UserError } from '../stage/errors.ts';

const HSTU_V1_KEYS = ['linearDim', 'attentionDim', 'useRope', 'ropeTheta', 'ropePartialDim', 'attnNorm', 'timeBuckets'] as const;

/** A v1 config.json (parsed) → today's layout with an HSTU encoder, for parseModelConfig. `dir` names the folder in errors. */
export function upgradeHstuV1Config(raw: unknown, dir: string): Record<string, unknown> {
  if (raw === null || typeof raw !== 'object') throw new UserError(`${dir}/config.json: expected an object`);
  const flat = { ...(raw as Record<string, unknown>) };
  const missing = HSTU_V1_KEYS.filter((k) => !(k in flat));
  if (missing.length > 0) {
    throw new UserError(`${dir}/config.json: an hstu-weights-v1 config lacks ${missing.join(', ')}; retrain with \`dvc repro train\``);
  }
  const encoder: Record<string, unknown> = { type: 'hstu' };
  for (const k of HSTU_V1_KEYS) {
    encoder[k] = flat[k];
    delete flat[k];
  }
  return { ...flat, encoder };
}
