// Memory bank of negatives (SPEC §6, seed §2.4): the item embeddings and ids of the previous
// `neg_cache_steps` steps' sampled negatives, kept as detached constants and fed to the loss as
// extra negative banks. FIFO: pushing into a full bank evicts (and disposes) the oldest step.
// The bank is part of the training state: a resumed run must see the same negatives as an
// uninterrupted one, so it exports to host arrays for the checkpoint and imports back.
import * as tf from '@tensorflow/tfjs';
import type { NegativeBank } from './infonce.ts';

/** One step's entry on the host: K rows of D floats, row-major, and their K item indices. */
export interface BankEntryState {
  ids: Int32Array; // [K]
  emb: Float32Array; // [K * D]
  dim: number; // D
}

export interface MemoryBankState {
  entries: BankEntryState[]; // oldest first
}

interface Entry {
  emb: tf.Tensor2D; // [K, D], kept outside every tidy scope until evicted
  ids: Int32Array; // [K]
}

export class MemoryBank {
  private entries: Entry[] = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`neg_cache_steps must be an integer >= 0, got ${capacity}`);
  }

  get size(): number {
    return this.entries.length;
  }

  /** Stores a detached copy of this step's negatives; the caller keeps ownership of `emb`. */
  push(emb: tf.Tensor2D, ids: Int32Array): void {
    if (emb.shape[0] !== ids.length) throw new Error(`MemoryBank.push: ${emb.shape[0]} rows but ${ids.length} ids`);
    if (this.capacity === 0) return;
    // A clone shares the data buffer, so the copy is free; the loss never differentiates through it.
    this.entries.push({ emb: tf.keep(tf.clone(emb)), ids: Int32Array.from(ids) });
    while (this.entries.length > this.capacity) this.entries.shift()!.emb.dispose();
  }

  /** The stored steps as loss negative banks (constants), oldest first. */
  banks(): NegativeBank[] {
    return this.entries.map((e) => ({ emb: e.emb, ids: e.ids, detached: true }));
  }

  exportState(): MemoryBankState {
    return {
      entries: this.entries.map((e) => ({ ids: Int32Array.from(e.ids), emb: Float32Array.from(e.emb.dataSync()), dim: e.emb.shape[1] })),
    };
  }

  /** Replaces the contents (oldest first); at most `capacity` newest entries are kept. */
  importState(state: MemoryBankState): void {
    this.clear();
    for (const e of state.entries) {
      if (e.emb.length !== e.ids.length * e.dim) {
        throw new Error(`memory bank entry: ${e.emb.length} values for ${e.ids.length} ids of dim ${e.dim}`);
      }
      const emb = tf.tensor2d(e.emb, [e.ids.length, e.dim], 'float32');
      this.push(emb, e.ids);
      emb.dispose();
    }
  }

  clear(): void {
    for (const e of this.entries) e.emb.dispose();
    this.entries = [];
  }

  dispose(): void {
    this.clear();
  }
}
