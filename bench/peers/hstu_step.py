"""PyTorch CPU peer of one HSTU training step (SPEC §9), the yardstick for the tfjs backends.

Shapes: B=64 sequences of L=100 tokens, D=64, 2 HSTU blocks x 4 heads (dqk = dv = 16), an --items x 64 item
table (default 50k), 512 shared sampled negatives, InfoNCE (temperature 0.05, accidental hits masked), AdamW over every
parameter (--sparse: the item table's gradient row-sparse and SparseAdam on it, PyTorch's own answer to large tables). Ids-only tokens (no side features on either side).
Default architecture = ours (core/model) with ids only: the first real token of each sequence is a user token,
tokens and target items go through the same feature towers (fields -> squeeze-excite -> Linear-ReLU-Linear; history
fields: item id + action, target: item id, user: token type), one relative bias per block shared by the heads, FiLM by
action on the final states. --plain drops the towers/FiLM/user token and uses per-head biases (the SPEC §9 figure).
Prints the median step time and tokens/s (--json: one JSON line for bench/train-step.ts).
Setup: bash bench/peers/setup.sh; run: .venv/bin/python bench/peers/hstu_step.py
"""
import json
import argparse
import resource
import math
import statistics
import time
import warnings

warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

TIME_BUCKETS = 64  # log-bucketed |t_query - t_key| in seconds


class HstuBlock(nn.Module):
    """x + W_o(LN(SiLU(QK^T + rab) / n @ V) * U), with [U, V, Q, K] = SiLU(LN(x) W)."""

    def __init__(self, d: int, heads: int, dqk: int, dv: int, max_len: int, rope_dim: int, bias_heads: int):
        super().__init__()
        self.heads, self.dqk, self.dv, self.rope_dim = heads, dqk, dv, rope_dim
        self.norm_in = nn.LayerNorm(d)
        self.uvqk = nn.Linear(d, heads * (2 * dv + 2 * dqk))
        self.norm_attn = nn.LayerNorm(heads * dv)
        self.out = nn.Linear(heads * dv, d)
        self.rab_pos = nn.Parameter(torch.zeros(bias_heads, 2 * max_len - 1))  # relative position bias
        self.rab_time = nn.Parameter(torch.zeros(bias_heads, TIME_BUCKETS))  # bias_heads = 1: shared by the heads
        self.dropout = nn.Dropout(0.2)

    def rope(self, x: torch.Tensor) -> torch.Tensor:  # x [B, H, N, dqk]; rotate the first rope_dim dims
        n, half = x.shape[2], self.rope_dim // 2
        freq = 10000.0 ** (-torch.arange(half, dtype=torch.float32) / half)
        angle = torch.arange(n, dtype=torch.float32)[:, None] * freq[None, :]  # [N, half]
        cos, sin = angle.cos(), angle.sin()
        x1, x2, rest = x[..., :half], x[..., half:self.rope_dim], x[..., self.rope_dim:]
        return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos, rest], dim=-1)

    def forward(self, x, mask, rel_pos, time_bucket):
        b, n, _ = x.shape
        h = F.silu(self.uvqk(self.norm_in(x)))  # [B, N, H*(2dv+2dqk)]
        u, v, q, k = h.split([self.heads * self.dv] * 2 + [self.heads * self.dqk] * 2, dim=-1)
        q = self.rope(q.view(b, n, self.heads, self.dqk).transpose(1, 2))  # [B, H, N, dqk]
        k = self.rope(k.view(b, n, self.heads, self.dqk).transpose(1, 2))  # [B, H, N, dqk]
        v = v.view(b, n, self.heads, self.dv).transpose(1, 2)  # [B, H, N, dv]
        rab = self.rab_pos[:, rel_pos][None] + self.rab_time[:, time_bucket].permute(1, 0, 2, 3)  # [B, H, N, N]
        attn = F.silu(q @ k.transpose(-1, -2) + rab) / n * mask[:, None]  # [B, H, N, N]
        o = (self.dropout(attn) @ v).transpose(1, 2).reshape(b, n, self.heads * self.dv)  # [B, N, H*dv]
        return x + self.dropout(self.out(self.norm_attn(o) * self.dropout(u)))


class Tower(nn.Module):
    """F fields [R, F, E] -> squeeze-excite -> Linear(F*E, D) -> ReLU -> Linear(D, D) (core/model/towers.ts)."""

    def __init__(self, fields: int, e: int, d: int):
        super().__init__()
        h = max(2, math.ceil(fields / 4))
        self.se1, self.se2 = nn.Linear(fields, h), nn.Linear(h, fields)
        self.dnn1, self.dnn2 = nn.Linear(fields * e, d), nn.Linear(d, d)

    def forward(self, fields):  # [R, F, E]
        w = torch.sigmoid(self.se2(F.relu(self.se1(fields.mean(-1)))))  # [R, F]
        x = (fields * w[..., None]).flatten(1)  # [R, F*E]
        return self.dnn2(F.relu(self.dnn1(x)))  # [R, D]


class Hstu(nn.Module):
    def __init__(self, items: int, d: int, blocks: int, heads: int, dqk: int, dv: int, max_len: int, plain: bool, sparse: bool = False):
        super().__init__()
        self.plain = plain
        self.item_emb = nn.Embedding(items + 1, d, padding_idx=0, sparse=sparse)  # 0 = pad; sparse: a row-sparse gradient
        bias_heads = heads if plain else 1
        self.blocks = nn.ModuleList(HstuBlock(d, heads, dqk, dv, max_len, 8, bias_heads) for _ in range(blocks))
        self.norm_out = nn.LayerNorm(d)
        self.dropout = nn.Dropout(0.2)
        if not plain:
            self.action_emb = nn.Embedding(3, d)
            self.token_type_emb = nn.Embedding(4, d)
            self.history_tower, self.user_tower, self.target_tower = Tower(2, d, d), Tower(1, d, d), Tower(1, d, d)
            self.film_gamma, self.film_beta = nn.Embedding(3, d), nn.Embedding(3, d)
            self.film_r, self.film_b = nn.Parameter(torch.ones(1)), nn.Parameter(torch.ones(1))

    def embed_targets(self, ids):  # [R] -> [R, D] (not normalised)
        e = self.item_emb(ids)
        return e if self.plain else self.target_tower(e[:, None, :])

    def embed_tokens(self, history_ids, actions, is_user):  # [B, N] each -> [B, N, D]
        if self.plain:
            return self.item_emb(history_ids)
        b, n = history_ids.shape
        fields = torch.stack([self.item_emb(history_ids), self.action_emb(actions)], dim=2).view(b * n, 2, -1)
        items = self.history_tower(fields).view(b, n, -1)  # [B, N, D]
        user = self.user_tower(self.token_type_emb(torch.full((b, 1), 2))).view(b, 1, -1)  # [B, 1, D]
        is_item = (history_ids > 0).float()[..., None]
        return items * is_item + user * is_user.float()[..., None]

    def forward(self, history_ids, times, actions, is_user):  # [B, N] item indices, timestamps, actions, user-token flags
        n = history_ids.shape[1]
        idx = torch.arange(n)
        rel_pos = idx[:, None] - idx[None, :] + n - 1  # [N, N]
        valid = (history_ids > 0) | is_user
        mask = (idx[:, None] >= idx[None, :])[None] & valid[:, None, :] & valid[:, :, None]  # [B, N, N]
        dt = (times[:, :, None] - times[:, None, :]).abs().float()  # [B, N, N]
        time_bucket = torch.clamp((dt + 1).log2().long(), max=TIME_BUCKETS - 1)  # [B, N, N]
        x = self.dropout(self.embed_tokens(history_ids, actions, is_user))  # [B, N, D]
        for block in self.blocks:
            x = block(x, mask.float(), rel_pos, time_bucket)
        h = self.norm_out(x)
        if not self.plain:  # FiLM by the action each state is conditioned on
            h = h * (1 + self.film_r * self.film_gamma(actions)) + self.film_b * self.film_beta(actions)
        return F.normalize(h, dim=-1) * valid[..., None]  # [B, N, D]


def info_nce(model: Hstu, query, target_ids, neg_ids, temperature: float):
    """Mean over real positions of logsumexp([s_pos, s_neg...]) - s_pos on cosine logits."""
    valid = target_ids > 0  # [B, N]
    q = query[valid]  # [M, D]
    pos_ids = target_ids[valid]  # [M]
    items = F.normalize(model.embed_targets(torch.cat([pos_ids, neg_ids])), dim=-1)  # [M + K, D], one tower pass
    pos, neg = items[: pos_ids.shape[0]], items[pos_ids.shape[0]:]  # [M, D], [K, D]
    s_pos = (q * pos).sum(-1, keepdim=True) / temperature  # [M, 1]
    s_neg = (q @ neg.T) / temperature  # [M, K]
    s_neg = s_neg.masked_fill(pos_ids[:, None] == neg_ids[None, :], -1e9)  # accidental hits
    return (torch.logsumexp(torch.cat([s_pos, s_neg], dim=1), dim=1) - s_pos[:, 0]).mean()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seq-len", type=int, default=100)
    ap.add_argument("--items", type=int, default=50_000)
    ap.add_argument("--negatives", type=int, default=512)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--plain", action="store_true", help="ids-only HSTU without towers/FiLM/user token, per-head biases")
    ap.add_argument("--json", action="store_true", help="print one JSON line for bench/train-step.ts")
    ap.add_argument("--sparse", action="store_true", help="the item table as nn.Embedding(sparse=True) updated by SparseAdam "
                    "(lazy Adam on the rows a step touched, no weight decay); AdamW for the rest")
    args = ap.parse_args()
    torch.manual_seed(0)
    b, n = args.batch, args.seq_len
    model = Hstu(args.items, d=64, blocks=2, heads=4, dqk=16, dv=16, max_len=n, plain=args.plain, sparse=args.sparse)
    table = [model.item_emb.weight] if args.sparse else []
    rest = [p for p in model.parameters() if all(p is not t for t in table)]
    opts = [torch.optim.AdamW(rest, lr=2e-3, weight_decay=0.01, fused=True)]  # one kernel per tensor
    if args.sparse:
        opts.append(torch.optim.SparseAdam(table, lr=2e-3))

    ids = torch.randint(1, args.items + 1, (b, n + 1))
    ids[: b // 4, : n // 2] = 0  # a quarter of the batch left-padded to half length
    history = ids[:, :-1]  # [B, N]
    is_user = torch.zeros(b, n, dtype=torch.bool)
    if not args.plain:  # our layout: the first real token is the user token, then the items
        is_user[: b // 4, n // 2] = True
        is_user[b // 4:, 0] = True
        history = torch.where(is_user, 0, history)
    target = torch.where((history > 0) | is_user, ids[:, 1:], 0)  # [B, N]; no target at padded positions
    actions = torch.randint(0, 3, (b, n))
    times = torch.cumsum(torch.randint(1, 3600, (b, n)), dim=1)
    times_ms = []
    for step in range(args.warmup + args.steps):
        neg_ids = torch.randint(1, args.items + 1, (args.negatives,))
        t0 = time.perf_counter()
        loss = info_nce(model, model(history, times, actions, is_user), target, neg_ids, temperature=0.05)
        for opt in opts:
            opt.zero_grad(set_to_none=True)
        loss.backward()
        for opt in opts:
            opt.step()
        if step >= args.warmup:
            times_ms.append((time.perf_counter() - t0) * 1e3)
        if not math.isfinite(loss.item()):
            raise SystemExit(f"non-finite loss at step {step}")
    med = statistics.median(times_ms)
    if args.json:
        arch = "plain" if args.plain else "our architecture"
        update = "SparseAdam item table" if args.sparse else "AdamW"
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"backend": f"torch {torch.__version__} ({arch}, {torch.get_num_threads()} threads, {update})",
                          "msPerStep": [med], "detail": f"loss {loss.item():.3f}, peak RSS {rss:.0f} MB"}))
        return
    print(f"[peer] torch {torch.__version__} CPU, {torch.get_num_threads()} threads: B={b} L={n} D=64 "
          f"2x4 heads, {args.items} items, {args.negatives} negatives: median {med:.0f} ms/step, "
          f"{b * n / med * 1e3 / 1e3:.1f}k tokens/s (loss {loss.item():.3f})")


if __name__ == "__main__":
    main()
