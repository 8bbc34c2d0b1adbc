"""PyTorch CPU peer of one HSTU training step (SPEC §9), the yardstick for the tfjs backends.

Shapes: B=64 sequences of L=100 tokens, D=64, 2 HSTU blocks x 4 heads (dqk = dv = 16), a 50k x 64 item
table, 512 shared sampled negatives, InfoNCE (temperature 0.05, accidental hits masked), AdamW over every
parameter. Ids-only tokens: the feature towers are left out on both sides of the comparison.
Prints the median step time and tokens/s. Setup: bash bench/peers/setup.sh; run: .venv/bin/python bench/peers/hstu_step.py
"""
import argparse
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

    def __init__(self, d: int, heads: int, dqk: int, dv: int, max_len: int, rope_dim: int):
        super().__init__()
        self.heads, self.dqk, self.dv, self.rope_dim = heads, dqk, dv, rope_dim
        self.norm_in = nn.LayerNorm(d)
        self.uvqk = nn.Linear(d, heads * (2 * dv + 2 * dqk))
        self.norm_attn = nn.LayerNorm(heads * dv)
        self.out = nn.Linear(heads * dv, d)
        self.rab_pos = nn.Parameter(torch.zeros(heads, 2 * max_len - 1))  # relative position bias
        self.rab_time = nn.Parameter(torch.zeros(heads, TIME_BUCKETS))
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


class Hstu(nn.Module):
    def __init__(self, items: int, d: int, blocks: int, heads: int, dqk: int, dv: int, max_len: int):
        super().__init__()
        self.item_emb = nn.Embedding(items + 1, d, padding_idx=0)  # 0 = pad
        self.blocks = nn.ModuleList(HstuBlock(d, heads, dqk, dv, max_len, rope_dim=8) for _ in range(blocks))
        self.norm_out = nn.LayerNorm(d)
        self.dropout = nn.Dropout(0.2)

    def forward(self, history_ids, times):  # [B, N] item indices and timestamps
        n = history_ids.shape[1]
        idx = torch.arange(n)
        rel_pos = idx[:, None] - idx[None, :] + n - 1  # [N, N]
        valid = history_ids > 0
        mask = (idx[:, None] >= idx[None, :])[None] & valid[:, None, :] & valid[:, :, None]  # [B, N, N]
        dt = (times[:, :, None] - times[:, None, :]).abs().float()  # [B, N, N]
        time_bucket = torch.clamp((dt + 1).log2().long(), max=TIME_BUCKETS - 1)  # [B, N, N]
        x = self.dropout(self.item_emb(history_ids))  # [B, N, D]
        for block in self.blocks:
            x = block(x, mask.float(), rel_pos, time_bucket)
        return F.normalize(self.norm_out(x), dim=-1)  # [B, N, D]


def info_nce(model: Hstu, query, target_ids, neg_ids, temperature: float):
    """Mean over real positions of logsumexp([s_pos, s_neg...]) - s_pos on cosine logits."""
    valid = target_ids > 0  # [B, N]
    q = query[valid]  # [M, D]
    pos_ids = target_ids[valid]  # [M]
    pos = F.normalize(model.item_emb(pos_ids), dim=-1)  # [M, D]
    neg = F.normalize(model.item_emb(neg_ids), dim=-1)  # [K, D]
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
    args = ap.parse_args()
    torch.manual_seed(0)
    b, n = args.batch, args.seq_len
    model = Hstu(args.items, d=64, blocks=2, heads=4, dqk=16, dv=16, max_len=n)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01, fused=True)  # one kernel per tensor

    ids = torch.randint(1, args.items + 1, (b, n + 1))
    ids[: b // 4, : n // 2] = 0  # a quarter of the batch left-padded to half length
    history = ids[:, :-1]  # [B, N]
    target = torch.where(history > 0, ids[:, 1:], 0)  # [B, N]; no target at padded positions
    times = torch.cumsum(torch.randint(1, 3600, (b, n)), dim=1)
    times_ms = []
    for step in range(args.warmup + args.steps):
        neg_ids = torch.randint(1, args.items + 1, (args.negatives,))
        t0 = time.perf_counter()
        loss = info_nce(model, model(history, times), target, neg_ids, temperature=0.05)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step >= args.warmup:
            times_ms.append((time.perf_counter() - t0) * 1e3)
        if not math.isfinite(loss.item()):
            raise SystemExit(f"non-finite loss at step {step}")
    med = statistics.median(times_ms)
    print(f"[peer] torch {torch.__version__} CPU, {torch.get_num_threads()} threads: B={b} L={n} D=64 "
          f"2x4 heads, {args.items} items, {args.negatives} negatives: median {med:.0f} ms/step, "
          f"{b * n / med * 1e3 / 1e3:.1f}k tokens/s (loss {loss.item():.3f})")


if __name__ == "__main__":
    main()
