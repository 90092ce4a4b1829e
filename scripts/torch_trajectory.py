"""Golden 10-step training trajectories from an independent implementation (PyTorch).

Run with Debian's PyTorch (apt-get install -y python3-torch), after torch_reference.py:
    /usr/bin/python3 scripts/torch_trajectory.py test/fixtures

Reads only the committed fixtures test/fixtures/tiny-gpt2/{config.json,model.safetensors} and
test/fixtures/tiny-gpt2-lora/{adapter_config.json,adapter_model.safetensors}, and writes
test/fixtures/golden-trajectory/reference.json: the micro-batches, the hyper-parameters and, for
(a) full fine-tuning of tiny-gpt2 and (b) LoRA on tiny-gpt2 from the tiny-gpt2-lora adapter,
per optimizer step: the loss (mean over the micro-batches, before the update), the global
gradient norm before clipping and the learning rate; then a checksum (sum, sum of |w|, sum of
squares; total and per tensor, the key third of each c_attn bias left out) of the trainable
weights after the last step. It also reruns each case in float32 (PyTorch's kernels, 8 runs
from weights jittered by ±1 ulp) and stores how far those land from float64, per step and for
the weights: the floor the TypeScript test (src/train/golden.test.ts) scales its bounds from.

The training step is the one the TypeScript Trainer documents (src/train/trainer.ts,
src/optim/{adamw,schedule}.ts), written here in float64:
  * lr(step) = maxLr·(step+1)/warmup for step < warmup, then cosine from maxLr to minLr:
    minLr + (maxLr − minLr)·½(1 + cos(π (step − warmup)/(total − warmup)));
  * gradient = mean over `accum` micro-batches of ∇(mean cross-entropy over scored targets);
  * global L2 norm over all trainable gradients; if norm > clip: g ← g · clip/(norm + 1e−6);
  * AdamW, t = step + 1, decay only on tensors with ≥ 2 dims, in the kernel's order:
    p −= lr·wd·p;  m = β1 m + (1−β1) g;  v = β2 v + (1−β2) g²;
    p −= lr·(m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + eps).
The hand-written update is cross-checked every step against torch.optim.AdamW (same math,
written by the PyTorch authors) and the clip against torch.nn.utils.clip_grad_norm_.
The model math (gpt2_forward) comes from torch_reference.py, which never reads this codebase.
"""
import json, math, os, re, sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_lite import read_safetensors          # noqa: E402
from torch_reference import gpt2_forward               # noqa: E402  (sets float64 as default dtype)

torch.set_default_dtype(torch.float64)
IGNORE = -100

# ---- hyper-parameters --------------------------------------------------------------------
STEPS, WARMUP, ACCUM = 10, 3, 2
FLOAT32_RUNS = 8
B, T = 2, 10
CASES = {
    # clip lies inside the range of the gradient norms, so some steps clip and some do not
    # (checked below)
    "full": {"maxLr": 3e-3, "minLr": 3e-4, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weightDecay": 0.1, "clip": 2.7},
    "lora": {"maxLr": 3e-3, "minLr": 3e-4, "beta1": 0.9, "beta2": 0.95, "eps": 1e-8, "weightDecay": 0.1, "clip": 10.0},
}


def lr_at(step, maxLr, minLr, warmup, total):
    if step < warmup:
        return maxLr * (step + 1) / warmup
    if step >= total:
        return minLr
    p = (step - warmup) / max(1, total - warmup)
    return minLr + (maxLr - minLr) * 0.5 * (1 + math.cos(math.pi * p))


def make_batches(V):
    """STEPS·ACCUM fixed micro-batches (B, T); targets are the next id of a longer window, with
    a varying number of ignored (−100) positions per micro-batch, so the mean over micro-batches
    differs from a mean over all scored tokens of a step."""
    g = torch.Generator().manual_seed(20240611)
    out = []
    for k in range(STEPS * ACCUM):
        w = torch.randint(0, V, (B, T + 1), generator=g)
        ids, targets = w[:, :T].clone(), w[:, 1:].clone()
        n_ignored = k % 5                                   # 0 … 4 ignored positions
        if k % 3 == 0:
            targets[0, :2] = IGNORE                         # a prompt-like prefix
        flat = targets.reshape(-1)
        idx = torch.randperm(B * T, generator=g)[:n_ignored]
        flat[idx] = IGNORE
        assert (targets != IGNORE).sum() > 0
        out.append({"ids": ids.reshape(-1).tolist(), "targets": targets.reshape(-1).tolist()})
    return out


def ce(logits, targets):
    V = logits.shape[-1]
    return F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=IGNORE)


def train(names, params, loss_of, batches, h, check=True):
    """Runs STEPS steps on `params` (leaf tensors, updated in place); returns the per-step
    records. `check`: cross-check every update against torch.optim.AdamW and the clip
    against torch.nn.utils.clip_grad_norm_ (float64 runs)."""
    m = [torch.zeros_like(p) for p in params]
    v = [torch.zeros_like(p) for p in params]
    twins = [p.detach().clone().requires_grad_(True) for p in params]
    opt = torch.optim.AdamW([
        {"params": [q for q in twins if q.dim() >= 2], "weight_decay": h["weightDecay"]},
        {"params": [q for q in twins if q.dim() < 2], "weight_decay": 0.0},
    ], lr=h["maxLr"], betas=(h["beta1"], h["beta2"]), eps=h["eps"], foreach=False)
    steps, clipped = [], 0
    for step in range(STEPS):
        lr = lr_at(step, h["maxLr"], h["minLr"], WARMUP, STEPS)
        for p in params:
            p.grad = None
        losses = []
        for a in range(ACCUM):
            b = batches[step * ACCUM + a]
            ids = torch.tensor(b["ids"]).reshape(B, T)
            tg = torch.tensor(b["targets"]).reshape(B, T)
            loss = loss_of(ids, tg)
            losses.append(float(loss))
            (loss / ACCUM).backward()                       # mean over micro-batches
        grads = [p.grad for p in params]
        norm = math.sqrt(sum(float((g.double() * g.double()).sum()) for g in grads))
        if check:
            for q, g in zip(twins, grads):
                q.grad = g.clone()
            tnorm = float(torch.nn.utils.clip_grad_norm_(twins, h["clip"]))
            assert abs(tnorm - norm) <= 1e-12 * norm
            # torch clips when clip/(norm+1e-6) < 1, ours when norm > clip: keep clear of the gap
            assert abs(norm - h["clip"]) > 1e-3 * h["clip"], "grad norm too close to the clip threshold"
        if norm > h["clip"]:
            clipped += 1
            s = h["clip"] / (norm + 1e-6)
            grads = [g * s for g in grads]
        t = step + 1
        bc1, bc2 = 1 - h["beta1"] ** t, 1 - h["beta2"] ** t
        with torch.no_grad():
            for i, (p, g) in enumerate(zip(params, grads)):
                wd = h["weightDecay"] if p.dim() >= 2 else 0.0
                p -= lr * wd * p
                m[i] = h["beta1"] * m[i] + (1 - h["beta1"]) * g
                v[i] = h["beta2"] * v[i] + (1 - h["beta2"]) * g * g
                p -= lr * (m[i] / bc1) / (torch.sqrt(v[i] / bc2) + h["eps"])
        if check:
            for grp in opt.param_groups:
                grp["lr"] = lr
            opt.step()
            worst = max(float((p - q).abs().max() / p.abs().max()) for p, q in zip(params, twins))
            assert worst < 1e-12, f"hand-written AdamW and torch.optim.AdamW disagree ({worst})"
        steps.append({"step": step + 1, "loss": sum(losses) / ACCUM, "micro_losses": losses, "grad_norm": norm, "lr": lr})
    return steps, clipped


def checksums(names, params, excludes):
    per = {}
    for n, p in zip(names, params):
        d = p.detach().double().reshape(-1)
        if n in excludes:
            a, b = excludes[n]
            d = torch.cat((d[:a], d[b:]))
        per[n] = {"sum": float(d.sum()), "abs_sum": float(d.abs().sum()), "sq_sum": float((d * d).sum())}
    total = {k: sum(x[k] for x in per.values()) for k in ("sum", "abs_sum", "sq_sum")}
    return total, per


def ulp_jitter(t, gen):
    """Moves each element of a float32 tensor by −1, 0 or +1 ulp at random (seeded)."""
    u = torch.randint(0, 3, t.shape, generator=gen)
    return torch.where(u == 1, torch.nextafter(t, torch.full_like(t, math.inf)),
                       torch.where(u == 2, torch.nextafter(t, torch.full_like(t, -math.inf)), t))


def setup(kind, fixtures, dtype, jitter=None):
    """The trainable tensors (names, leaf tensors in `dtype`) and the loss of one micro-batch.
    `jitter` (a seed, float32 only): start the trainable weights ±1 ulp off at random."""
    gen = torch.Generator().manual_seed(jitter) if jitter is not None else None
    jit = (lambda t: ulp_jitter(t, gen)) if gen is not None else (lambda t: t)
    base = os.path.join(fixtures, "tiny-gpt2")
    cfg = json.load(open(os.path.join(base, "config.json")))
    w = {k: t.to(dtype).clone() for k, t in read_safetensors(os.path.join(base, "model.safetensors")).items()}
    if kind == "full":
        # every parameter of the checkpoint (the output head is tied to wte)
        names = sorted(w)
        for k in names:
            w[k] = jit(w[k]).requires_grad_(True)
        return names, [w[k] for k in names], (lambda ids, tg: ce(gpt2_forward(w, cfg, ids), tg)), {}
    # LoRA from the tiny-gpt2-lora adapter (base frozen); A (r, in) and B (out, r) trainable
    ad_dir = os.path.join(fixtures, "tiny-gpt2-lora")
    acfg = json.load(open(os.path.join(ad_dir, "adapter_config.json")))
    assert acfg["fan_in_fan_out"] and acfg["lora_dropout"] == 0 and not acfg["use_rslora"]
    s = acfg["lora_alpha"] / acfg["r"]
    st = read_safetensors(os.path.join(ad_dir, "adapter_model.safetensors"))
    pre = "base_model.model."
    mods = sorted({k[len(pre):].rsplit(".lora_", 1)[0] for k in st})
    assert all(any(mod.endswith("." + t) for t in acfg["target_modules"]) for mod in mods)
    ab = {mod: (jit(st[f"{pre}{mod}.lora_A.weight"].to(dtype).clone()).requires_grad_(True),
                jit(st[f"{pre}{mod}.lora_B.weight"].to(dtype).clone()).requires_grad_(True)) for mod in mods}
    assert any(float(Bm.abs().max()) > 0 for _, Bm in ab.values()), "fixture B is all zero"

    def loss_of(ids, tg):
        q = dict(w)
        for mod, (A, Bm) in ab.items():
            q[mod + ".weight"] = w[mod + ".weight"] + s * (Bm @ A).T    # Conv1D (in, out): ΔW transposed
        return ce(gpt2_forward(q, cfg, ids), tg)

    names, params = [], []
    for mod in mods:
        names += [f"{mod}.lora_A.weight", f"{mod}.lora_B.weight"]
        params += list(ab[mod])
    return names, params, loss_of, {"scaling": s}


def main(fixtures):
    cfg = json.load(open(os.path.join(fixtures, "tiny-gpt2", "config.json")))
    V, C = cfg["vocab_size"], cfg["n_embd"]
    assert T <= cfg["n_positions"]
    batches = make_batches(V)
    # The key third of each c_attn bias adds q·b_k to every score of a row, which softmax
    # ignores: its true gradient is exactly 0, in float32 it is rounding noise that Adam
    # normalizes into ±lr steps. It is left out of the weight checksums (its effect on the
    # loss is exactly nothing, so the loss and norms still cover it).
    excludes = {f"transformer.h.{i}.attn.c_attn.bias": [C, 2 * C] for i in range(cfg["n_layer"])}
    out = {
        "about": "scripts/torch_trajectory.py (PyTorch, float64): per-step loss / grad_norm / lr and final checksums",
        "B": B, "T": T, "steps": STEPS, "warmup": WARMUP, "grad_accum": ACCUM, "ignore_index": IGNORE,
        "checksum_excludes": excludes, "batches": batches, "cases": {},
    }
    for kind in ("full", "lora"):
        h = CASES[kind]
        names, params, loss_of, extra = setup(kind, fixtures, torch.float64)
        steps, clipped = train(names, params, loss_of, batches, h)
        assert 0 < clipped < STEPS, f"clip {h['clip']} clipped {clipped} of {STEPS} steps; pick one that clips some"
        total, per = checksums(names, params, excludes)
        # The same run in float32 (PyTorch's own kernels), FLOAT32_RUNS times: unperturbed, then
        # from weights moved ±1 ulp at random (a stand-in for another implementation's rounding).
        # The worst relative error against float64 over these runs is how far float32 alone
        # lands on this trajectory: the floor for the TypeScript run's tolerances.
        rel = lambda a, b: abs(a - b) / abs(b)
        floor = {"loss": 0.0, "grad_norm": 0.0, "sq_sum": 0.0, "sum": 0.0}
        for run in range(FLOAT32_RUNS):
            n32, p32, l32, _ = setup(kind, fixtures, torch.float32, jitter=None if run == 0 else run)
            s32, _ = train(n32, p32, l32, batches, h, check=False)
            _, per32 = checksums(n32, p32, excludes)
            e = {
                "loss": max(rel(a["loss"], b["loss"]) for a, b in zip(s32, steps)),
                "grad_norm": max(rel(a["grad_norm"], b["grad_norm"]) for a, b in zip(s32, steps)),
                "sq_sum": max(rel(per32[n]["sq_sum"], per[n]["sq_sum"]) for n in names),
                "sum": max(abs(per32[n]["sum"] - per[n]["sum"]) / per[n]["abs_sum"] for n in names),
            }
            floor = {k: max(floor[k], e[k]) for k in floor}
            for a, b in zip(s32, steps):      # and per step
                b["float32_loss_err"] = max(b.get("float32_loss_err", 0.0), rel(a["loss"], b["loss"]))
                b["float32_grad_norm_err"] = max(b.get("float32_grad_norm_err", 0.0), rel(a["grad_norm"], b["grad_norm"]))
        print(kind)
        for st in steps:
            print(f"  step {st['step']:2d}  loss {st['loss']:.6f}  grad_norm {st['grad_norm']:.4f}"
                  f"{' (clipped)' if st['grad_norm'] > h['clip'] else '          '}  lr {st['lr']:.3e}")
        print(f"  float32 PyTorch vs float64, worst relative error over {FLOAT32_RUNS} runs:", "  ".join(f"{k} {v:.2e}" for k, v in floor.items()))
        out["cases"][kind] = {"model": "tiny-gpt2" if kind == "full" else "tiny-gpt2 + tiny-gpt2-lora", "hparams": h, **extra,
                              "steps": steps, "clipped_steps": clipped, "checksum": total, "tensors": per,
                              "float32_torch_worst_rel_err": floor, "float32_runs": FLOAT32_RUNS}

    d = os.path.join(fixtures, "golden-trajectory")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "reference.json")
    text = json.dumps(out, indent=1)
    # number lists on one line each (ids, targets, micro_losses)
    text = re.sub(r"\[\s*(-?[\d.eE+-]+(?:,\s*-?[\d.eE+-]+)*)\s*\]", lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",")) + "]", text)
    assert json.loads(text) == out
    with open(path, "w") as f:
        f.write(text + "\n")
    print("wrote", path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "test/fixtures")
