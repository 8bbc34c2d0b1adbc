// Lazy AdamW on the rows a step touched (embedding_updates: sparse; TF's LazyAdam, PyTorch's SparseAdam, with
// AdamW's decoupled decay). For every row r the step's RowSparseGrad holds (core/train/row-tape.ts), with the
// clipped gradient g_r = gradScale·Σdy:
//   p_r ← p_r·(1 − lr·wd);  m_r ← β1·m_r + (1 − β1)·g_r;  v_r ← β2·v_r + (1 − β2)·g_r²;  p_r ← p_r − lr_t·m_r / (√v_r + ε̂)
// with the optimizer's global step t in lr_t and ε̂ (adam-slots.ts biasTerms), as the dense update. Rows the step
// did not touch keep p, m and v bit-identical: no decay, no moment decay. When every row is touched the update
// is the dense one (to float rounding: the same expressions as TensorAdamSlot).
//
// Where the table lives while it trains (RowStore):
// - TensorRows (every backend): tfjs tensors; writing rows makes a new full tensor (a select between the table and
//   the scattered rows), so the cost still grows with the table — correct, not fast.
// - ResourceRows (native TensorFlow): TF resource variables read by ResourceGather and written in place by
//   ResourceScatterUpdate: a step reads and writes only its rows, whatever the table's size. The model's tfjs
//   variable is brought up to date only when something reads it (flush(): validation, checkpoints, saves) —
//   a full copy, where doing it every step would cost what the sparse update saves.
// The slot also keeps Σp² of the table (the l2_emb penalty's ‖W‖ without reading W each step): exact at
// creation and when the variable changed outside the slot, then updated by Σp_new² − Σp_old² over each step's rows.
import * as tf from '@tensorflow/tfjs';
import { type AdamStep, biasTerms } from './adam-slots.ts';
import { assignResource, newResourceVariable, readResource, resourceGather, resourceScatterUpdate, resourceVariablesAvailable } from '../ops/resource-variables.ts';

/** A [V, E] array that reads and writes whole rows. */
interface RowStore {
  gather(ids: tf.Tensor): tf.Tensor; // [R, E]
  scatter(ids: tf.Tensor, rows: tf.Tensor): void; // ids distinct
  read(): tf.Tensor; // the whole table (the caller disposes it)
  write(full: tf.Tensor): void;
  dispose(): void;
}

class TensorRows implements RowStore {
  private t: tf.Variable;

  constructor(init: tf.Tensor) {
    this.t = tf.variable(init, false);
  }

  gather(ids: tf.Tensor): tf.Tensor {
    return tf.gather(this.t, ids);
  }

  scatter(ids: tf.Tensor, rows: tf.Tensor): void {
    // Not tf.tensorScatterUpdate: tfjs 4.22's cpu kernel writes into its input's buffer, which other tensors share.
    tf.tidy(() => {
      const at = tf.reshape(ids, [-1, 1]);
      const [V, E] = this.t.shape as [number, number];
      const touched = tf.greater(tf.scatterND(at, tf.ones([rows.shape[0]!, 1]), [V, 1]), 0); // [V, 1]
      this.t.assign(tf.where(tf.broadcastTo(touched, [V, E]), tf.scatterND(at, rows, [V, E]), this.t));
    });
  }

  read(): tf.Tensor {
    return tf.clone(this.t);
  }

  write(full: tf.Tensor): void {
    this.t.assign(full);
  }

  dispose(): void {
    this.t.dispose();
  }
}

class ResourceRows implements RowStore {
  private readonly handle: tf.Tensor;

  constructor(init: tf.Tensor) {
    this.handle = newResourceVariable(init.shape);
    assignResource(this.handle, init);
  }

  gather(ids: tf.Tensor): tf.Tensor {
    return resourceGather(this.handle, ids);
  }

  scatter(ids: tf.Tensor, rows: tf.Tensor): void {
    resourceScatterUpdate(this.handle, ids, rows);
  }

  read(): tf.Tensor {
    return readResource(this.handle);
  }

  write(full: tf.Tensor): void {
    assignResource(this.handle, full);
  }

  dispose(): void {
    this.handle.dispose();
  }
}

/** One lookup table's parameters and moments under lazy AdamW, beside the model's variable for it. */
export class RowAdamSlot {
  private readonly p: RowStore;
  private readonly m: RowStore;
  private readonly v: RowStore;
  private synced: object | null = null; // the variable's dataId when p last equalled it
  private dirty = false; // p has rows the variable lacks
  private sumSq: tf.Scalar | null = null;
  readonly native: boolean;

  constructor(private readonly variable: tf.Variable) {
    if (variable.rank !== 2) throw new Error(`row-sparse AdamW needs a [rows, width] table, got [${variable.shape}]`);
    this.native = resourceVariablesAvailable();
    const make = (init: tf.Tensor): RowStore => (this.native ? new ResourceRows(init) : new TensorRows(init));
    this.p = make(variable);
    const zeros = tf.zerosLike(variable);
    this.m = make(zeros);
    this.v = make(zeros);
    zeros.dispose();
    this.synced = variable.dataId;
    this.resetSumOfSquares();
  }

  /** Σp² read off the whole variable (at creation, and when the variable changed outside the slot). */
  private resetSumOfSquares(): void {
    this.sumSq?.dispose();
    this.sumSq = tf.keep(tf.tidy(() => tf.sum(tf.square(this.variable)) as tf.Scalar));
  }

  /** Picks up a variable assigned outside the slot (checkpoint restore, fine-tuning weights). */
  private current(): void {
    if (this.variable.dataId === this.synced) return;
    this.p.write(this.variable);
    this.synced = this.variable.dataId;
    this.dirty = false;
    this.resetSumOfSquares();
  }

  /** The table's current rows at int32 `ids` [R] → [R, E]. */
  readRows(ids: tf.Tensor): tf.Tensor {
    this.current();
    return this.p.gather(ids);
  }

  /** Σp² over the whole table, current (a scalar the slot owns). */
  sumOfSquares(): tf.Scalar {
    this.current();
    return this.sumSq!;
  }

  /** One lazy AdamW step on rows `ids` (distinct) with their gradient rows `g` [U, E]; s.decay a number or null. */
  update(ids: tf.Tensor, g: tf.Tensor, s: AdamStep): void {
    if (s.decay instanceof tf.Tensor) throw new Error('row-sparse AdamW: one decay factor per table');
    this.current();
    const { c, epsHat } = biasTerms(s);
    tf.tidy(() => {
      const [p0, m0, v0] = [this.p.gather(ids), this.m.gather(ids), this.v.gather(ids)];
      // the expressions of TensorAdamSlot, on the rows
      const m = tf.add(tf.mul(m0, s.beta1), tf.mul(g, (1 - s.beta1) * s.gradScale));
      const v = tf.add(tf.mul(v0, s.beta2), tf.mul(tf.square(g), (1 - s.beta2) * s.gradScale * s.gradScale));
      const decayed = s.decay === null ? p0 : tf.mul(p0, s.decay as number);
      const p = tf.sub(decayed, tf.mul(tf.div(m, tf.add(tf.sqrt(v), epsHat)), c));
      this.p.scatter(ids, p);
      this.m.scatter(ids, m);
      this.v.scatter(ids, v);
      const next = tf.keep(tf.add(this.sumSq!, tf.sub(tf.sum(tf.square(p)), tf.sum(tf.square(p0))))) as tf.Scalar;
      this.sumSq!.dispose();
      this.sumSq = next;
    });
    this.dirty = true;
    if (!this.native) this.flush(); // a tfjs tensor: handing it over is free
  }

  /** Brings the model's variable up to date (on native TensorFlow a full copy of the table: call it before reads, not every step). */
  flush(): void {
    if (!this.dirty) return;
    tf.tidy(() => this.variable.assign(this.p.read()));
    this.synced = this.variable.dataId;
    this.dirty = false;
  }

  /** One moment on the host, a copy the caller owns (a checkpoint reads each in turn: 1.2 GB apiece at 4.8M × 64). */
  moment(which: 'm' | 'v'): Float32Array {
    // A native read is a fresh TF buffer and dataSync a fresh copy of it: copying again would cost ~2.5 s a moment
    // at 4.8M × 64 [measured, bench/checkpoint.ts]. A tfjs tensor's dataSync may be the tensor's own array: copied.
    const host = (t: tf.Tensor): Float32Array => (this.native ? (t.dataSync() as Float32Array) : Float32Array.from(t.dataSync()));
    let out: Float32Array = new Float32Array(0);
    tf.tidy(() => void (out = host((which === 'm' ? this.m : this.v).read())));
    return out;
  }

  setMoments(m: Float32Array, v: Float32Array): void {
    tf.tidy(() => {
      this.m.write(tf.tensor(m, this.variable.shape, 'float32'));
      this.v.write(tf.tensor(v, this.variable.shape, 'float32'));
    });
  }

  /** Σp² as saved with the optimizer state, so that a resumed run continues the same sums as an uninterrupted one. */
  setSumOfSquares(x: number): void {
    this.current();
    this.sumSq!.dispose();
    this.sumSq = tf.keep(tf.scalar(x, 'float32'));
  }

  dispose(): void {
    this.p.dispose();
    this.m.dispose();
    this.v.dispose();
    this.sumSq?.dispose();
    this.sumSq = null;
  }
}
