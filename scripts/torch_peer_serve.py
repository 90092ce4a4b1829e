#!/usr/bin/env python3
"""The PyTorch peer's training step (shared/peers/torch_gpt.py), served step by step for
bench:peer's paired mode (`--pairs N`): ours and the peer take turns in short bursts, so a
phase of the shared host (minutes long) falls on both sides of every pair.

The model, its initialisation, LoRA, the optimizer, the batch and the step are torch_gpt.py's
own: this file loads that script as a module (its argument parsing and thread settings run as
they do when it runs alone, before torch loads) and repeats its `main()`'s set-up and step
verbatim, without timing them itself.

  /usr/bin/python3 scripts/torch_peer_serve.py --peer-script PATH --config tiny --mode full --threads 1

Protocol (a JSON line each way): after the warm-up steps it prints
  {"ready": true, "params", "trainable", "flops_per_token", "tokens_per_step", "blas_core", "torch"}
then for each line `run N` on stdin it takes N steps and prints {"times": [seconds of each step]};
`quit` or the end of stdin ends it.
"""
import importlib.util
import json
import sys
import time


def main():
    argv = sys.argv[1:]
    if "--peer-script" not in argv:
        sys.exit("torch_peer_serve.py: --peer-script PATH is required")
    i = argv.index("--peer-script")
    path = argv[i + 1]
    rest = argv[:i] + argv[i + 2:]
    # torch_gpt.py parses sys.argv and sets the thread variables when it loads
    sys.argv = [path] + rest
    spec = importlib.util.spec_from_file_location("torch_gpt_peer", path)
    peer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(peer)
    args, torch, F = peer.args, peer.torch, peer.F
    if args.mode == "infer":
        sys.exit("torch_peer_serve.py: training modes only (full, lora)")

    # torch_gpt.py main()'s set-up, in its order (so the same random numbers)
    c = peer.CONFIGS[args.config]
    V, d, L, H, T, B = c["vocab"], c["d"], c["L"], c["H"], c["T"], c["B"]
    model = peer.GPT(V, d, L, H, T)
    n_params = sum(p.numel() for p in model.parameters())
    if args.mode == "lora":
        peer.apply_lora(model, args.rank, args.alpha)
    n_train = sum(p.numel() for p in model.parameters() if p.requires_grad)
    n_mm = 12 * L * d * d + d * V
    attn_fwd = 4 * L * d * T
    flops_tok = 6 * n_params + 3 * attn_fwd if args.mode == "full" else 4 * n_mm + 6 * n_train + 3 * attn_fwd
    x = torch.randint(0, V, (B, T + 1))
    inp, tgt = x[:, :-1].contiguous(), x[:, 1:].contiguous()
    model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, weight_decay=0.01)

    def step():
        opt.zero_grad(set_to_none=True)
        logits = model(inp)
        loss = F.cross_entropy(logits.view(-1, V), tgt.view(-1))
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(args.warmup):
        step()
    core, _ = peer.blas_info()
    print(json.dumps(dict(ready=True, params=n_params, trainable=n_train, flops_per_token=flops_tok,
                          tokens_per_step=B * T, blas_core=core, torch=torch.__version__)), flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        if cmd[0] != "run" or len(cmd) != 2 or not cmd[1].isdigit():
            sys.exit(f"torch_peer_serve.py: unknown command {line.strip()!r}")
        times = []
        for _ in range(int(cmd[1])):
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
        print(json.dumps(dict(times=times)), flush=True)


if __name__ == "__main__":
    main()
