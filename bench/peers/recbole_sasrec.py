"""Outside reference row for the quality bench: RecBole 1.2.1's SASRec on a TAAC-format folder's sequences.

Usage (setup once: bash bench/peers/setup-recbole.sh):
  .venv-bench/bin/python bench/peers/recbole_sasrec.py <taac-raw-dir> [--seeds 1,2,3] [--epochs N] [--out TSV]
      [--threads 2] [--mask-history on|off] [--keep-workdir] [--workdir DIR] [--max-len 50]

What it measures. Reads <taac-raw-dir>/seq.jsonl (SPEC §3: one user per line, a JSON array of records
[user_id, item_id, user_feature, item_feature, action_type, timestamp]), drops user-profile records (item_id null)
and keeps the item records with action_type >= 1 (clicks and conversions: our targets). EXPOSURES (action 0) ARE
DROPPED: the peer's input sequence is the user's clicks only, while our model's history also holds the exposures,
so on exposure-heavy data (real TAAC: ~90% exposures) the two see different histories; on all-click data (an
imported rating log such as MovieLens) they see the same one. Each user's records keep their file order (they
ascend by timestamp; ties keep file order) and are written as RecBole atomic files in a temp dir with POSITIONAL
timestamps 0, 1, 2, ... per user, so RecBole's time ordering is exactly the file order (its own sort is not
stable on tied timestamps). RecBole then trains SASRec with its defaults and early stopping, one run per seed,
sequentially, on the CPU, and prints one TSV row per seed plus mean and sd (sample sd, n-1) over the seeds.

Split: RecBole's leave-one-out by time (eval_args split LS valid_and_test, order TO), applied after RecBole's
sequential data augmentation (one row per target position 2..n, history = the up to 50 records before it). Per
user with n click records:
  n >= 4: test target = record n (history 1..n-1), valid target = record n-1 (history 1..n-2), training targets =
          records 2..n-2. This is exactly our ingest split (stages/ingest/split.ts) when every record is a click:
          test = last target, valid = the one before, training = what lies strictly before the valid target, and
          the evaluation history = everything before the target (exposures aside, see above).
  n == 3: RecBole: record 2 is a TRAINING target, record 3 the test target, no valid target.
          Ours: record 2 is the valid target, record 3 the test target, no training pair.
  n == 2: RecBole: record 2 is a training target; the user is not evaluated.
          Ours: record 1 is a valid target with an empty history, record 2 the test target.
  n <= 1: RecBole: nothing (n == 0: the user is absent). Ours: counted, trains on its events, not evaluated.
The script prints how many users fall in each case (MovieLens-100k: none below 20 ratings).
Item universe: RecBole ranks every item that occurs in a kept (click) record; ours ranks every item of the items
table, including items only ever exposed.

Model and training (RecBole 1.2.1 defaults unless said): SASRec n_layers 2, n_heads 2, hidden_size 64,
inner_size 256, hidden_dropout_prob 0.5, attn_dropout_prob 0.5, hidden_act gelu, layer_norm_eps 1e-12,
initializer_range 0.02; MAX_ITEM_LIST_LENGTH 50 (ours: maxlen 50; --max-len, see below); loss_type CE (softmax over all items, no
negative sampling); Adam, learning_rate 0.001, train_batch_size 2048, weight_decay 0; eval every epoch, early
stopping on valid NDCG@10 with stopping_step 10, at most --epochs epochs; the test figures come from the best-valid
checkpoint. Full ranking over all items; metrics Hit@10 (= HR@10: one target per user) and NDCG@10.
Score = 0.31*HR@10 + 0.69*NDCG@10 (SPEC's competition score).

History masking. Stock RecBole 1.2.1 does NOT mask a sequential model's history in full-ranking evaluation (its
FullSortEvalDataLoader passes no history index when MODEL_TYPE is SEQUENTIAL; only the padding item is set to
-inf). Our evaluate does (exclude_history: true: every item of the whole history before the target is unrankable,
the target itself stays rankable). --mask-history on (default) does the same here, for validation (so early
stopping too) and test; the test figures without the mask (stock RecBole behaviour, same checkpoint) are printed
as the last two columns either way. --mask-history off runs stock RecBole throughout.

Shorter padding (--max-len N). RecBole pads every history to MAX_ITEM_LIST_LENGTH and its SASRec gives
position k the k-th history item's position embedding whatever the padding, with padding masked out of attention, so
when no user has more than N + 2 click records (no history is cut) any --max-len >= N computes the same function at
N/50 of the cost. On the sparse profile (5-15 records a user) --max-len 16 is exact and about 3x faster. The script
refuses a --max-len that would cut a history. Parameter shapes change with it, so the initial weights differ from a
--max-len 50 run of the same seed (another draw, not another model).

Resuming (--workdir DIR). A converged run takes hours on a 2-core CPU (MovieLens-100k: 5-9 minutes an epoch, 20+
epochs), longer than a working session. With --workdir the atomic files and checkpoints live in DIR instead of a
temp dir, and after every epoch saved-<seed>/ holds last.pth (model, optimizer, RecBole's early-stopping counter and
best score, as RecBole's own resume_checkpoint reads them), best.pth (the best-valid model) and progress.json (the
epoch log, the best epoch's validation figures, train seconds so far, and the seed's row once finished). Rerunning
with the same DIR resumes each unfinished seed after its last finished epoch and reuses finished seeds' rows. The
torch RNG is not restored, so a resumed run is not bit-identical to an uninterrupted one (dropout masks and batch
order differ after the resume); train seconds add up the epochs actually run.

Columns: dataset, seed, epochs run, best epoch, best valid HR@10, NDCG@10, test HR@10, NDCG@10, test Score, train
seconds (wall time of RecBole's fit: training epochs plus the per-epoch validation), test HR@10 / NDCG@10 unmasked.
Rows go to --out (default bench/out/recbole_sasrec-<dataset>.tsv, git-ignored) and to stdout; progress to stderr.
"""
import os

os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")  # RecBole 1.2.1 torch.load()s its own checkpoint
import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

warnings.filterwarnings("ignore")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATASET = "taac_seq"  # RecBole dataset name (not a shipped one, so no properties/dataset/<name>.yaml applies)
COLUMNS = ["dataset", "seed", "epochs", "best_epoch", "valid_HR@10", "valid_NDCG@10", "test_HR@10", "test_NDCG@10",
           "test_Score", "train_s", "test_HR@10_unmasked", "test_NDCG@10_unmasked"]


def log(msg: str) -> None:
    print(f"[recbole-sasrec] {msg}", file=sys.stderr, flush=True)


def read_click_sequences(seq_path: str) -> list[tuple[object, list[object]]]:
    """[(user_id, [item_id ...])] in file order: item records with action >= 1, file order within a line."""
    users: list[tuple[object, list[object]]] = []
    seen: set[object] = set()
    stats = {"lines": 0, "item_records": 0, "exposures": 0, "clicks": 0}
    with open(seq_path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                records = json.loads(line)
            except json.JSONDecodeError as e:
                raise SystemExit(f"{seq_path}:{n}: invalid JSON: {e}")
            if not isinstance(records, list) or not records:
                raise SystemExit(f"{seq_path}:{n}: expected a non-empty JSON array of records")
            stats["lines"] += 1
            user, items, last_ts = None, [], None
            for r in records:
                if not isinstance(r, list) or len(r) != 6:
                    raise SystemExit(f"{seq_path}:{n}: a record is not [user, item, user_feat, item_feat, action, ts]")
                if user is None and r[0] is not None:
                    user = r[0]
                if r[1] is None:
                    continue  # user-profile record
                stats["item_records"] += 1
                if last_ts is not None and r[5] < last_ts:
                    raise SystemExit(f"{seq_path}:{n}: item records do not ascend by timestamp")
                last_ts = r[5]
                if r[4] is None or r[4] < 1:
                    stats["exposures"] += 1
                    continue
                stats["clicks"] += 1
                items.append(r[1])
            if user is None:
                raise SystemExit(f"{seq_path}:{n}: no user id")
            if user in seen:
                raise SystemExit(f"{seq_path}:{n}: user {user} appears on two lines")
            seen.add(user)
            users.append((user, items))
    log(f"{seq_path}: {stats['lines']} users, {stats['item_records']} item records: {stats['clicks']} with action >= 1 "
        f"kept, {stats['exposures']} exposures (action 0) DROPPED")
    return users


def split_cases(users: list[tuple[object, list[object]]]) -> dict[str, int]:
    c = {"n>=4": 0, "n=3": 0, "n=2": 0, "n<=1": 0}
    for _, items in users:
        n = len(items)
        c["n>=4" if n >= 4 else "n=3" if n == 3 else "n=2" if n == 2 else "n<=1"] += 1
    return c


def write_atomic(users, data_dir: str) -> None:
    """RecBole atomic file <data_dir>/taac_seq/taac_seq.inter with positional timestamps."""
    os.makedirs(os.path.join(data_dir, DATASET), exist_ok=True)
    with open(os.path.join(data_dir, DATASET, f"{DATASET}.inter"), "w", encoding="utf-8") as f:
        f.write("user_id:token\titem_id:token\ttimestamp:float\n")
        for user, items in users:
            for pos, item in enumerate(items):
                f.write(f"{user}\t{item}\t{pos}\n")


def histories(users, dataset):
    """{internal uid: (valid-history item ids, test-history item ids)} as int64 tensors, for users with n >= 3."""
    import torch
    out = {}
    for user, items in users:
        if len(items) < 3:
            continue
        uid = int(dataset.token2id(dataset.uid_field, str(user)))
        iids = dataset.token2id(dataset.iid_field, [str(i) for i in items])
        out[uid] = (torch.as_tensor(sorted(set(iids[:-2].tolist())), dtype=torch.int64),
                    torch.as_tensor(sorted(set(iids[:-1].tolist())), dtype=torch.int64))
    return out


def make_trainer_class():
    import numpy as np
    import torch
    from recbole.trainer import Trainer

    class MaskingTrainer(Trainer):
        """RecBole's Trainer; full-sort evaluation optionally masks the whole history before the target (the target
        itself stays rankable), as our evaluate does with exclude_history. Counts epochs and records the best one."""

        mask_on = True
        history = {}  # internal uid -> (valid history, test history)
        split_of = {}  # id(dataloader) -> 0 (valid) / 1 (test)
        _split = None
        epochs_run = 0

        def _train_epoch(self, *args, **kwargs):
            self.epochs_run += 1
            return super()._train_epoch(*args, **kwargs)

        @torch.no_grad()
        def evaluate(self, eval_data, *args, **kwargs):
            self._split = self.split_of.get(id(eval_data))
            return super().evaluate(eval_data, *args, **kwargs)

        def _full_sort_batch_eval(self, batched_data):
            interaction, scores, positive_u, positive_i = super()._full_sort_batch_eval(batched_data)
            if self.mask_on and self._split is not None:
                uids = interaction[self.config["USER_ID_FIELD"]].tolist()
                rows, cols = [], []
                for r, u in enumerate(uids):
                    h = self.history[u][self._split]
                    rows.append(torch.full((len(h),), r, dtype=torch.int64))
                    cols.append(h)
                rows, cols = torch.cat(rows), torch.cat(cols)
                keep = scores[positive_u, positive_i].clone()
                scores[rows, cols] = -np.inf
                scores[positive_u, positive_i] = keep  # the target stays rankable
            return interaction, scores, positive_u, positive_i

    return MaskingTrainer


def run_seed(seed: int, args, users, data_dir: str, work_dir: str) -> dict:
    import torch
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.model.sequential_recommender import SASRec
    from recbole.utils import init_seed

    config = Config(model="SASRec", dataset=DATASET, config_dict={
        "data_path": data_dir, "checkpoint_dir": os.path.join(work_dir, f"saved-{seed}"),
        "use_gpu": False, "device": "cpu", "worker": 0, "seed": seed, "reproducibility": True,
        "state": "INFO", "show_progress": False,
        "USER_ID_FIELD": "user_id", "ITEM_ID_FIELD": "item_id", "TIME_FIELD": "timestamp",
        "load_col": {"inter": ["user_id", "item_id", "timestamp"]},
        "rm_dup_inter": None, "val_interval": None, "filter_inter_by_user_or_item": True,
        "user_inter_num_interval": "[0,inf)", "item_inter_num_interval": "[0,inf)",
        "MAX_ITEM_LIST_LENGTH": args.max_len,
        # SASRec, as RecBole 1.2.1's properties/model/SASRec.yaml (written out so the run says what it used)
        "n_layers": 2, "n_heads": 2, "hidden_size": 64, "inner_size": 256,
        "hidden_dropout_prob": 0.5, "attn_dropout_prob": 0.5, "hidden_act": "gelu",
        "layer_norm_eps": 1e-12, "initializer_range": 0.02, "loss_type": "CE",
        "train_neg_sample_args": None,
        "epochs": args.epochs, "train_batch_size": 2048, "learner": "adam", "learning_rate": 0.001,
        "weight_decay": 0.0, "eval_step": 1, "stopping_step": 10,
        "eval_args": {"split": {"LS": "valid_and_test"}, "order": "TO", "group_by": "user", "mode": "full"},
        "metrics": ["Hit", "NDCG"], "topk": [10], "valid_metric": "NDCG@10", "valid_metric_bigger": True,
        "eval_batch_size": 4096,
    })
    init_seed(config["seed"], config["reproducibility"])
    torch.set_num_threads(args.threads)
    for h in logging.getLogger().handlers:  # RecBole's console handler -> only warnings; its log file keeps all
        if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler):
            h.setLevel(logging.WARNING)
    dataset = create_dataset(config)
    train_data, valid_data, test_data = data_preparation(config, dataset)
    log(f"seed {seed}: {dataset.user_num - 1} users, {dataset.item_num - 1} items; rows train {len(train_data.dataset)}"
        f" valid {len(valid_data.dataset)} test {len(test_data.dataset)}")
    init_seed(config["seed"] + config["local_rank"], config["reproducibility"])  # as RecBole's run_recbole does
    model = SASRec(config, train_data.dataset).to(config["device"])
    trainer = make_trainer_class()(config, model)
    trainer.mask_on = args.mask_history == "on"
    trainer.history = histories(users, dataset)
    trainer.split_of = {id(valid_data): 0, id(test_data): 1}

    # Checkpoints (see "Resuming"): best.pth is RecBole's best-valid model, last.pth the state after the last
    # finished epoch, progress.json the epoch log, the best epoch's validation result and the seed's final row.
    ck_dir = os.path.join(work_dir, f"saved-{seed}")
    os.makedirs(ck_dir, exist_ok=True)
    best_file, last_file, progress_file = (os.path.join(ck_dir, n) for n in ("best.pth", "last.pth", "progress.json"))
    trainer.saved_model_file = best_file
    progress = {"epochs": [], "best": {"epoch": -1, "score": -1.0}, "best_valid": None, "train_s": 0.0, "result": None}
    if os.path.isfile(progress_file):
        with open(progress_file, encoding="utf-8") as f:
            progress = json.load(f)
        if progress["result"] is not None:
            log(f"seed {seed}: finished earlier in {work_dir} ({len(progress['epochs'])} epochs); its row is reused")
            return progress["result"]
        trainer.resume_checkpoint(last_file)
        trainer.saved_model_file = best_file  # resume_checkpoint points it at the file it read
        trainer.epochs_run = len(progress["epochs"])
        log(f"seed {seed}: resuming after epoch {trainer.start_epoch} from {last_file} (best valid NDCG@10 "
            f"{progress['best']['score']:.4f} at epoch {progress['best']['epoch']}, {trainer.cur_step} epochs since)")
    best = progress["best"]
    t_epoch = [time.time()]

    def save_progress():
        tmp = f"{progress_file}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(progress, f)
        os.replace(tmp, progress_file)

    def on_epoch(epoch_idx, valid_score):
        now = time.time()
        if valid_score >= best["score"]:  # RecBole's early_stopping updates on ties too
            best.update(epoch=epoch_idx + 1, score=valid_score)
            progress["best_valid"] = {k: float(v) for k, v in trainer.best_valid_result.items()}
        progress["epochs"].append(valid_score)
        progress["train_s"] += now - t_epoch[0]
        trainer._save_checkpoint(epoch_idx, verbose=False, saved_model_file=f"{last_file}.tmp")
        os.replace(f"{last_file}.tmp", last_file)
        save_progress()  # after last.pth: a kill between the two loses that epoch's log entry, not its training
        log(f"seed {seed} epoch {epoch_idx + 1}: valid NDCG@10 {valid_score:.4f} "
            f"(best {best['score']:.4f} at epoch {best['epoch']}), {now - t_epoch[0]:.1f} s")
        t_epoch[0] = now

    trainer.fit(train_data, valid_data, saved=True, show_progress=False, callback_fn=on_epoch)
    valid_result = progress["best_valid"]
    if valid_result is None:  # e.g. a work dir seeded from a bare checkpoint: validate the best model again
        valid_result = trainer.evaluate(valid_data, load_best_model=True, model_file=best_file, show_progress=False)
    test_result = trainer.evaluate(test_data, load_best_model=True, model_file=best_file, show_progress=False)
    trainer.mask_on = False
    unmasked = trainer.evaluate(test_data, load_best_model=False, show_progress=False)  # same (best) weights
    hr, ndcg = test_result["hit@10"], test_result["ndcg@10"]
    progress["result"] = {"seed": seed, "epochs": trainer.epochs_run, "best_epoch": best["epoch"],
                          "valid_HR@10": valid_result["hit@10"], "valid_NDCG@10": valid_result["ndcg@10"],
                          "test_HR@10": hr, "test_NDCG@10": ndcg, "test_Score": 0.31 * hr + 0.69 * ndcg,
                          "train_s": progress["train_s"], "test_HR@10_unmasked": unmasked["hit@10"],
                          "test_NDCG@10_unmasked": unmasked["ndcg@10"]}
    save_progress()
    return progress["result"]


def write_tsv(rows: list[dict], name: str, out: str) -> str:
    """Writes the per-seed rows (plus mean and sample sd when there are several) to `out` atomically; returns the text."""
    lines = ["\t".join(COLUMNS)]
    for r in rows:
        lines.append("\t".join([name] + [fmt(r[c]) for c in COLUMNS[1:]]))
    if len(rows) > 1:
        for label, f in (("mean", statistics.mean), ("sd", statistics.stdev)):
            vals = [f([float(r[c]) for r in rows]) for c in COLUMNS[2:]]
            lines.append("\t".join([name, label] + [f"{v:.4f}" if c not in ("train_s", "epochs", "best_epoch")
                                                    else f"{v:.1f}" for c, v in zip(COLUMNS[2:], vals)]))
    text = "\n".join(lines) + "\n"
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = f"{out}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, out)
    return text


def fmt(v) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="See the module docstring for the split and what differs from our pipeline.")
    ap.add_argument("raw_dir", help="TAAC-format folder holding seq.jsonl")
    ap.add_argument("--seeds", default="1,2,3", help="comma-separated seeds, run one after another (default 1,2,3)")
    ap.add_argument("--epochs", type=int, default=300, help="max epochs per seed (RecBole default 300); early "
                    "stopping after 10 epochs without a better valid NDCG@10")
    ap.add_argument("--out", help="TSV file (default bench/out/recbole_sasrec-<dataset>.tsv)")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    ap.add_argument("--mask-history", choices=["on", "off"], default="on",
                    help="mask the history in full ranking, as our evaluate's exclude_history (default on)")
    ap.add_argument("--max-len", type=int, default=50, help="RecBole's MAX_ITEM_LIST_LENGTH (default 50 = our maxlen); "
                    "smaller only when no history exceeds it (then the same model, less padding)")
    ap.add_argument("--keep-workdir", action="store_true", help="keep the temp dir (atomic files, logs, checkpoints)")
    ap.add_argument("--workdir", help="a lasting work dir instead of a temp one: checkpoints every epoch, and a rerun "
                    "with the same dir resumes each seed where it stopped (finished seeds are reused)")
    args = ap.parse_args()
    sys.argv = sys.argv[:1]  # RecBole's Config also parses --key=value from sys.argv
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    name = os.path.basename(os.path.normpath(args.raw_dir))
    out = os.path.abspath(args.out or os.path.join(REPO, "bench", "out", f"recbole_sasrec-{name}.tsv"))
    seq_path = os.path.join(args.raw_dir, "seq.jsonl")
    if not os.path.isfile(seq_path):
        raise SystemExit(f"{seq_path}: not found")
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    users = read_click_sequences(seq_path)
    cases = split_cases(users)
    longest = max((len(items) for _, items in users), default=0) - 1  # the test target's history
    if args.max_len < 50 and longest > args.max_len:
        raise SystemExit(f"--max-len {args.max_len} would cut histories: the longest holds {longest} items; use at "
                         f"least {longest}, or 50 (our maxlen)")
    log(f"click records per user: n>=4 {cases['n>=4']} (split = ours), n=3 {cases['n=3']} (RecBole: no valid target, "
        f"record 2 trains), n=2 {cases['n=2']} (RecBole: not evaluated), n<=1 {cases['n<=1']}")
    log(f"SASRec (RecBole 1.2.1 defaults): 2 layers, hidden 64, 2 heads, inner 256, dropout 0.5/0.5, CE over all items, "
        f"max len {args.max_len}, batch 2048, lr 0.001; early stop on valid NDCG@10 (10 epochs), max {args.epochs} epochs; "
        f"history mask {args.mask_history}; {args.threads} threads")
    work_dir = os.path.abspath(args.workdir) if args.workdir else tempfile.mkdtemp(prefix="recbole-sasrec-")
    os.makedirs(work_dir, exist_ok=True)
    rows = []
    try:
        data_dir = os.path.join(work_dir, "data")
        write_atomic(users, data_dir)
        cwd = os.getcwd()
        os.chdir(work_dir)  # RecBole writes ./log and ./log_tensorboard
        try:
            import torch
            import recbole
            log(f"recbole {recbole.__version__}, torch {torch.__version__}; work dir {work_dir}")
            for seed in seeds:
                rows.append(run_seed(seed, args, users, data_dir, work_dir))
                log("seed result: " + " ".join(f"{k}={fmt(v)}" for k, v in rows[-1].items()))
                write_tsv(rows, name, out)  # after every seed, so a stopped run keeps the finished seeds
        finally:
            os.chdir(cwd)
    finally:
        if args.keep_workdir or args.workdir:
            log(f"kept {work_dir}")
        else:
            shutil.rmtree(work_dir, ignore_errors=True)

    sys.stdout.write(write_tsv(rows, name, out))
    if len(rows) > 1:
        def pm(c):
            v = [float(r[c]) for r in rows]
            return f"{statistics.mean(v):.4f} ± {statistics.stdev(v):.4f}"
        log(f"mean ± sd over {len(rows)} seeds (history mask {args.mask_history}): valid HR@10 {pm('valid_HR@10')}, "
            f"NDCG@10 {pm('valid_NDCG@10')}; test HR@10 {pm('test_HR@10')}, NDCG@10 {pm('test_NDCG@10')}, "
            f"Score {pm('test_Score')}")
    log(f"wrote {out}")


if __name__ == "__main__":
    main()
