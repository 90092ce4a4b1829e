#!/usr/bin/env python3
"""PyTorch-CPU peer of an SFT step (bench/peer.ts's `sft` row): the lab's nano GPT-2 model,
batches of variable-length prompt/completion rows padded to their longest row, the loss on the
completion tokens only (targets -100 elsewhere), AdamW with gradient clipping; LoRA on the
lab's default targets `c_attn` and `c_proj` by PEFT's suffix rule (the packed q/k/v, the
attention output and the MLP output projections: as ours, the same trainable parameters and
work) or every weight.

Torch only (no transformers / peft). The batches come from a JSON file written by
bench/peer.ts — the very ids and targets ours trains on — so both sides do the same work:

  {"model": {"vocab", "d", "layers", "heads", "ctx", "mlp"},
   "batches": [{"B": 16, "T": 43, "ids": [...B*T], "targets": [...B*T]}, ...]}

One mode and thread setting per process (OpenBLAS's thread count is fixed before torch loads).
Prints one JSON line: step time median/min/max over the timed steps, tokens per step (B*T,
padded) and supervised tokens per step, tokens/s. With --serve (bench:peer's paired mode) it
prints a ready line after the warm-up instead, then takes `run I N` lines from stdin (batches
I..I+N-1, modulo their count) and answers each with {"times": [seconds of each step]}.

  /usr/bin/python3 scripts/torch_sft_peer.py --batches b.json --mode lora --threads 1
"""
import argparse
import ctypes
import json
import math
import os
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("--batches", required=True)
ap.add_argument("--mode", default="lora", choices=["full", "lora"])
ap.add_argument("--threads", default="1")
ap.add_argument("--steps", type=int, default=30)
ap.add_argument("--warmup", type=int, default=5)
ap.add_argument("--rank", type=int, default=8)
ap.add_argument("--alpha", type=float, default=16.0)
ap.add_argument("--lr", type=float, default=1e-4)
ap.add_argument("--serve", action="store_true",
                help="after the warm-up, print a ready line, then take `run I N` from stdin (batches I..I+N-1) and answer each with its steps' times")
args = ap.parse_args()

n = args.threads.rstrip("p")
os.environ["OPENBLAS_NUM_THREADS"] = n
os.environ["OMP_NUM_THREADS"] = n
if args.threads.endswith("p"):
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(int(n))
torch.manual_seed(0)


def blas_core():
    """The kernel set OpenBLAS picked (its matmuls are torch's here), or "?"."""
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_corename.restype = ctypes.c_char_p
        return lib.openblas_get_corename().decode()
    except (OSError, AttributeError):
        return "?"


class Attention(nn.Module):
    def __init__(self, d, H):
        super().__init__()
        self.H = H
        self.c_attn = nn.Linear(d, 3 * d)
        self.c_proj = nn.Linear(d, d)

    def forward(self, x):
        B, T, C = x.shape
        hd = C // self.H
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.H, hd).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
        mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
        att = F.softmax(att.masked_fill(mask, float("-inf")), dim=-1)
        return self.c_proj((att @ v).transpose(1, 2).contiguous().view(B, T, C))


class Block(nn.Module):
    def __init__(self, d, H, mlp):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d)
        self.attn = Attention(d, H)
        self.ln_2 = nn.LayerNorm(d)
        self.c_fc = nn.Linear(d, mlp)
        self.c_proj = nn.Linear(mlp, d)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.c_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, vocab, d, L, H, ctx, mlp):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(ctx, d)
        self.h = nn.ModuleList([Block(d, H, mlp) for _ in range(L)])
        self.ln_f = nn.LayerNorm(d)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, 0.0, 0.02)
                if isinstance(m, nn.Linear):
                    nn.init.zeros_(m.bias)

    def forward(self, idx):
        B, T = idx.shape
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for b in self.h:
            x = b(x)
        return self.ln_f(x) @ self.wte.weight.t()   # tied head


class LoRALinear(nn.Module):
    """y = base(x) + (alpha/r) x Aᵀ Bᵀ; A Kaiming-uniform, B zeros, base frozen (PEFT's LoRA)."""

    def __init__(self, base, r, alpha):
        super().__init__()
        self.base = base
        self.A = nn.Parameter(torch.empty(r, base.in_features))
        self.B = nn.Parameter(torch.zeros(base.out_features, r))
        nn.init.kaiming_uniform_(self.A, a=math.sqrt(5))
        self.scale = alpha / r

    def forward(self, x):
        return self.base(x) + (x @ self.A.t() @ self.B.t()) * self.scale


def main():
    spec = json.load(open(args.batches))
    m = spec["model"]
    model = GPT(m["vocab"], m["d"], m["layers"], m["heads"], m["ctx"], m["mlp"])
    if args.mode == "lora":
        for p in model.parameters():
            p.requires_grad_(False)
        for b in model.h:   # PEFT's suffix rule on ["c_attn", "c_proj"]: both c_proj layers
            b.attn.c_attn = LoRALinear(b.attn.c_attn, args.rank, args.alpha)
            b.attn.c_proj = LoRALinear(b.attn.c_proj, args.rank, args.alpha)
            b.c_proj = LoRALinear(b.c_proj, args.rank, args.alpha)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
    batches = [(torch.tensor(b["ids"], dtype=torch.long).view(b["B"], b["T"]),
                torch.tensor(b["targets"], dtype=torch.long).view(b["B"], b["T"])) for b in spec["batches"]]
    model.train()

    def step(i):
        ids, tgt = batches[i % len(batches)]
        opt.zero_grad(set_to_none=True)
        logits = model(ids)
        loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), tgt.view(-1), ignore_index=-100)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        return ids.numel(), int((tgt != -100).sum())

    for i in range(args.warmup):
        step(i)
    if args.serve:
        serve(step, params)
        return
    times, toks, sup = [], 0, 0
    for i in range(args.warmup, args.warmup + args.steps):
        t0 = time.perf_counter()
        a, s = step(i)
        times.append(time.perf_counter() - t0)
        toks += a
        sup += s
    total = sum(times)
    times.sort()
    print(json.dumps(dict(mode=args.mode, threads=args.threads, torch=torch.__version__, torch_threads=torch.get_num_threads(), blas_core=blas_core(),
                          trainable=sum(p.numel() for p in params), steps=args.steps,
                          step_s_median=times[len(times) // 2], step_s_min=times[0], step_s_max=times[-1],
                          tokens_per_s=toks / total, supervised_tokens_per_s=sup / total)))
    sys.stdout.flush()


def serve(step, params):
    """bench:peer's paired mode: a JSON line when ready, then {"times": [...]} for each `run I N`."""
    print(json.dumps(dict(ready=True, mode=args.mode, threads=args.threads, torch=torch.__version__, blas_core=blas_core(),
                          trainable=sum(p.numel() for p in params))), flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        if cmd[0] != "run" or len(cmd) != 3 or not (cmd[1].isdigit() and cmd[2].isdigit()):
            sys.exit(f"torch_sft_peer.py: unknown command {line.strip()!r}")
        first, n = int(cmd[1]), int(cmd[2])
        times = []
        for i in range(first, first + n):
            t0 = time.perf_counter()
            step(i)
            times.append(time.perf_counter() - t0)
        print(json.dumps(dict(times=times)), flush=True)


if __name__ == "__main__":
    main()
