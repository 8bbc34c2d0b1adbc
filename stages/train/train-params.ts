// The params the train stage reads (main.ts loads exactly these keys) and the seed's GPU-only options,
// each either accepted with a notice or rejected with the reason (SPEC §6: never silently ignored).
import { UserError } from '../../core/stage/errors.ts';
import type { Params } from '../../core/stage/params.ts';

export type TrainParams = Pick<
  Params,
  | 'seed' | 'backend' | 'model_type' | 'sasrec_features'
  | 'maxlen' | 'hidden_units' | 'num_blocks' | 'num_heads' | 'linear_dim' | 'attention_dim' | 'dropout_rate'
  | 'use_rope' | 'rope_theta' | 'rope_partial_dim' | 'attn_norm' | 'load_time_intervals' | 'tower_init' | 'train_windows'
  | 'batch_size' | 'grad_accum_steps' | 'lr' | 'weight_decay' | 'warmup_ratio' | 'clip_norm' | 'l2_emb' | 'num_epochs'
  | 'temperature' | 'loss_negatives' | 'train_exclude_history' | 'embedding_updates' | 'num_negatives' | 'neg_cache_steps' | 'neg_cache_on_cpu' | 'margin_click' | 'margin_conv' | 'pos_weight_a'
  | 'grad_checkpoint' | 'ckpt_every' | 'bf16_autocast' | 'adamw_8bit'
  | 'ckpt_every_steps' | 'eval_every_steps' | 'early_stop_patience' | 'resume' | 'state_dict_path' | 'exclude_history' | 'eval_item_chunk'
>;

/**
 * Checks the seed options with no TensorFlow.js equivalent. Returns the notices to print for the
 * accepted ones; throws a UserError for an option switched on that cannot be honoured.
 */
export function checkSeedOptions(p: Pick<TrainParams, 'grad_checkpoint' | 'ckpt_every' | 'bf16_autocast' | 'adamw_8bit' | 'neg_cache_on_cpu'>): string[] {
  if (p.grad_checkpoint) {
    throw new UserError(
      'grad_checkpoint: true is not available: tfjs keeps every activation on its gradient tape and has no ' +
        'recompute-in-backward API (torch.utils.checkpoint); set grad_checkpoint: false (ckpt_every then has no effect)',
    );
  }
  if (p.bf16_autocast) {
    throw new UserError('bf16_autocast: true is not available: tfjs has no bfloat16 dtype or autocast on any backend; set bf16_autocast: false (training runs in float32)');
  }
  if (p.adamw_8bit) {
    throw new UserError('adamw_8bit: true is not available: bitsandbytes 8-bit optimizer states have no tfjs counterpart; set adamw_8bit: false (AdamW keeps float32 moments)');
  }
  const notices: string[] = [];
  if (p.neg_cache_on_cpu) notices.push('neg_cache_on_cpu: true accepted — every tfjs backend here keeps tensors in host memory, so the memory bank already lives there');
  return notices;
}

/** train_exclude_history without exclude_history: the model is not taught to rank seen items low, yet ranking shows them. */
export function exclusionNotice(p: Pick<TrainParams, 'train_exclude_history' | 'exclude_history'>): string | null {
  if (!p.train_exclude_history || p.exclude_history) return null;
  return 'train_exclude_history: true with exclude_history: false — training never contrasts a positive with the items its user already saw, but ranking will show them; set both the same unless that is what you want';
}
