// Users streamed into shards of `shard_users` lines: the current ShardBuilder takes users until it is
// full, then its tables are written in the background (at most `io_concurrency` shards in flight, so
// memory stays bounded by a few shards) while the next one fills. One writer per output folder:
// the training users of seq.jsonl, and the predict users of predict_seq.jsonl.
import pLimit from 'p-limit';
import type { ShardInfo } from '../../core/artifacts/artifacts.ts';
import { ShardBuilder, writeShard } from './shards.ts';
import type { UserLayout, UserLayoutTracker } from './user-layout.ts';

export class ShardWriter {
  readonly shards: ShardInfo[] = [];
  /** the user layout each shard was written with (the one known when it was full) */
  readonly layouts: UserLayout[] = [];
  private builder: ShardBuilder;
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly pending: Promise<void>[] = [];

  constructor(
    private readonly outDir: string,
    private readonly tracker: UserLayoutTracker,
    /** the user layout to write a shard with, asked when the shard is full */
    private readonly layoutNow: () => UserLayout,
    private readonly p: { shard_users: number; io_concurrency: number },
  ) {
    this.builder = new ShardBuilder(0, tracker);
    this.limit = pLimit(p.io_concurrency);
  }

  /** The shard taking users now. */
  get current(): ShardBuilder {
    return this.builder;
  }

  /** Call after each added user: writes the shard once it holds shard_users users. */
  async added(): Promise<void> {
    if (this.builder.users >= this.p.shard_users) await this.flush();
  }

  /** Writes the last shard (an empty one when there were no users at all) and waits for every write. */
  async finish(): Promise<void> {
    if (this.builder.users > 0 || this.shards.length === 0) await this.flush();
    await this.settle();
  }

  /** Waits for the writes in flight; throws the first failure. Call it before the folder can go away. */
  async settle(): Promise<void> {
    const results = await Promise.allSettled(this.pending.splice(0));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private async flush(): Promise<void> {
    const s = this.builder;
    const layout = this.layoutNow();
    this.shards.push({ name: s.name, users: s.users, events: s.events });
    this.layouts.push(layout);
    this.pending.push(this.limit(() => writeShard(this.outDir, s, layout)));
    this.builder = new ShardBuilder(s.index + 1, this.tracker);
    if (this.pending.length >= this.p.io_concurrency) await this.pending.shift();
  }
}
