"""Reference values from an independent implementation (PyTorch) for the model tests.

Run with Debian's PyTorch (apt-get install -y python3-torch):
    /usr/bin/python3 scripts/torch_reference.py test/fixtures

Writes, for a tiny random `gpt2` and a tiny random `llama` (hidden sizes not multiples of 8,
grouped-query attention for llama), a model directory in the Hugging Face layout
(config.json + model.safetensors) and reference.safetensors holding the input ids, targets
(with ignored positions), logits, the mean cross-entropy loss and the gradient of that loss
with respect to every parameter (named as in the checkpoint, HF layout).
The math is written here from the papers / HF modeling code conventions, independently of
the TypeScript implementation.
"""
import json, math, os, struct, sys
import torch
import torch.nn.functional as F

torch.manual_seed(1234)
torch.set_default_dtype(torch.float64)  # compute in float64; stored as float32


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name]
        if t.dtype in (torch.int64, torch.int32):
            raw = t.to(torch.int32).contiguous().numpy().tobytes(); dt = "I32"
        else:
            raw = t.to(torch.float32).contiguous().numpy().tobytes(); dt = "F32"
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw); off += len(raw)
    h = json.dumps(header).encode()
    h += b" " * ((8 - (8 + len(h)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h))); f.write(h)
        for b in blobs: f.write(b)


def gelu_tanh(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def gpt2_forward(p, cfg, ids):
    B, T = ids.shape
    C, nh = cfg["n_embd"], cfg["n_head"]
    hs = C // nh
    x = p["transformer.wte.weight"][ids] + p["transformer.wpe.weight"][torch.arange(T)]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(cfg["n_layer"]):
        pre = f"transformer.h.{i}."
        h = F.layer_norm(x, (C,), p[pre + "ln_1.weight"], p[pre + "ln_1.bias"], cfg["layer_norm_epsilon"])
        qkv = h @ p[pre + "attn.c_attn.weight"] + p[pre + "attn.c_attn.bias"]   # Conv1D: (in, out)
        q, k, v = qkv.split(C, dim=2)
        q, k, v = [t.view(B, T, nh, hs).transpose(1, 2) for t in (q, k, v)]
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hs)
        att = att.masked_fill(~mask, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + y @ p[pre + "attn.c_proj.weight"] + p[pre + "attn.c_proj.bias"]
        h = F.layer_norm(x, (C,), p[pre + "ln_2.weight"], p[pre + "ln_2.bias"], cfg["layer_norm_epsilon"])
        h = gelu_tanh(h @ p[pre + "mlp.c_fc.weight"] + p[pre + "mlp.c_fc.bias"])
        x = x + h @ p[pre + "mlp.c_proj.weight"] + p[pre + "mlp.c_proj.bias"]
    x = F.layer_norm(x, (C,), p["transformer.ln_f.weight"], p["transformer.ln_f.bias"], cfg["layer_norm_epsilon"])
    return x @ p["transformer.wte.weight"].T


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def llama_forward(p, cfg, ids):
    B, T = ids.shape
    C, nh, nkv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hs = C // nh
    inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hs, 2) / hs))
    ang = torch.outer(torch.arange(T, dtype=torch.float64), inv)
    cos, sin = torch.cat((ang, ang), -1).cos(), torch.cat((ang, ang), -1).sin()
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    x = p["model.embed_tokens.weight"][ids]
    eps = cfg["rms_norm_eps"]
    for i in range(cfg["num_hidden_layers"]):
        pre = f"model.layers.{i}."
        h = rms_norm(x, p[pre + "input_layernorm.weight"], eps)
        q = (h @ p[pre + "self_attn.q_proj.weight"].T).view(B, T, nh, hs).transpose(1, 2)   # nn.Linear: (out, in)
        k = (h @ p[pre + "self_attn.k_proj.weight"].T).view(B, T, nkv, hs).transpose(1, 2)
        v = (h @ p[pre + "self_attn.v_proj.weight"].T).view(B, T, nkv, hs).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(nh // nkv, dim=1); v = v.repeat_interleave(nh // nkv, dim=1)
        att = ((q @ k.transpose(-2, -1)) / math.sqrt(hs)).masked_fill(~mask, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + y @ p[pre + "self_attn.o_proj.weight"].T
        h = rms_norm(x, p[pre + "post_attention_layernorm.weight"], eps)
        g = F.silu(h @ p[pre + "mlp.gate_proj.weight"].T) * (h @ p[pre + "mlp.up_proj.weight"].T)
        x = x + g @ p[pre + "mlp.down_proj.weight"].T
    x = rms_norm(x, p["model.norm.weight"], eps)
    return x @ p["lm_head.weight"].T


def make(out_dir, name, cfg, shapes, fwd, V):
    d = os.path.join(out_dir, name); os.makedirs(d, exist_ok=True)
    params = {}
    for k, shp in shapes.items():
        if k.endswith("ln_1.weight") or k.endswith("ln_2.weight") or k.endswith("norm.weight") or k.endswith("ln_f.weight") or k.endswith("layernorm.weight"):
            t = 1 + 0.1 * torch.randn(shp)
        else:
            t = 0.3 * torch.randn(shp) if len(shp) > 1 else 0.1 * torch.randn(shp)
        params[k] = t.to(torch.float32).to(torch.float64).requires_grad_(True)
    ids = torch.randint(0, V, (2, 7))
    targets = torch.randint(0, V, (2, 7)); targets[0, 2] = -100; targets[1, 5] = -100
    logits = fwd(params, cfg, ids)
    loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=-100)
    loss.backward()
    write_safetensors(os.path.join(d, "model.safetensors"), {k: v.detach() for k, v in params.items()})
    with open(os.path.join(d, "config.json"), "w") as f: json.dump(cfg, f, indent=2)
    ref = {"ids": ids, "targets": targets, "logits": logits.detach(), "loss": loss.detach().reshape(1)}
    for k, v in params.items(): ref["grad." + k] = v.grad
    write_safetensors(os.path.join(d, "reference.safetensors"), ref)
    print(name, "loss", float(loss))


def main(out_dir):
    V, C, L, nh, inner, ctx = 37, 20, 2, 2, 44, 16
    gcfg = {"model_type": "gpt2", "vocab_size": V, "n_positions": ctx, "n_embd": C, "n_layer": L, "n_head": nh,
            "n_inner": inner, "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new"}
    gs = {"transformer.wte.weight": (V, C), "transformer.wpe.weight": (ctx, C), "transformer.ln_f.weight": (C,), "transformer.ln_f.bias": (C,)}
    for i in range(L):
        pre = f"transformer.h.{i}."
        gs.update({pre + "ln_1.weight": (C,), pre + "ln_1.bias": (C,), pre + "attn.c_attn.weight": (C, 3 * C),
                   pre + "attn.c_attn.bias": (3 * C,), pre + "attn.c_proj.weight": (C, C), pre + "attn.c_proj.bias": (C,),
                   pre + "ln_2.weight": (C,), pre + "ln_2.bias": (C,), pre + "mlp.c_fc.weight": (C, inner),
                   pre + "mlp.c_fc.bias": (inner,), pre + "mlp.c_proj.weight": (inner, C), pre + "mlp.c_proj.bias": (C,)})
    make(out_dir, "tiny-gpt2", gcfg, gs, gpt2_forward, V)

    nkv = 1
    hs = C // nh
    lcfg = {"model_type": "llama", "vocab_size": V, "max_position_embeddings": ctx, "hidden_size": C,
            "num_hidden_layers": L, "num_attention_heads": nh, "num_key_value_heads": nkv, "intermediate_size": inner,
            "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": False, "hidden_act": "silu"}
    ls = {"model.embed_tokens.weight": (V, C), "model.norm.weight": (C,), "lm_head.weight": (V, C)}
    for i in range(L):
        pre = f"model.layers.{i}."
        ls.update({pre + "input_layernorm.weight": (C,), pre + "self_attn.q_proj.weight": (nh * hs, C),
                   pre + "self_attn.k_proj.weight": (nkv * hs, C), pre + "self_attn.v_proj.weight": (nkv * hs, C),
                   pre + "self_attn.o_proj.weight": (C, nh * hs), pre + "post_attention_layernorm.weight": (C,),
                   pre + "mlp.gate_proj.weight": (inner, C), pre + "mlp.up_proj.weight": (inner, C),
                   pre + "mlp.down_proj.weight": (C, inner)})
    make(out_dir, "tiny-llama", lcfg, ls, llama_forward, V)


def make_lora(out_dir):
    """LoRA (r 3, alpha 6, on c_attn and c_proj incl. mlp.c_proj) over tiny-gpt2 with a nonzero B,
    plus the anchor regularizer lam * ||s B A||_F^2 summed over adapters: loss, and the
    gradients of the total with respect to every A and B (PEFT names)."""
    from safetensors_lite import read_safetensors
    base = os.path.join(out_dir, "tiny-gpt2")
    p = {k: v.to(torch.float64) for k, v in read_safetensors(os.path.join(base, "model.safetensors")).items()}
    cfg = json.load(open(os.path.join(base, "config.json")))
    ref = read_safetensors(os.path.join(base, "reference.safetensors"))
    r, alpha, lam = 3, 6.0, 0.05
    s = alpha / r
    ad = {}
    for k in list(p):
        if k.endswith("attn.c_attn.weight") or k.endswith("c_proj.weight"):
            fin, fout = p[k].shape  # Conv1D (in, out)
            mod = k[: -len(".weight")]
            ad[mod] = (torch.randn(r, fin).to(torch.float32).to(torch.float64).requires_grad_(True),
                       (0.2 * torch.randn(fout, r)).to(torch.float32).to(torch.float64).requires_grad_(True))
    q = dict(p)
    for mod, (A, B) in ad.items():
        q[mod + ".weight"] = p[mod + ".weight"] + s * (B @ A).T     # fan_in_fan_out: delta transposed
    ids, targets = ref["ids"].long(), ref["targets"].long()
    logits = gpt2_forward(q, cfg, ids)
    V = cfg["vocab_size"]
    ce = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=-100)
    reg = sum((s * (B @ A)).pow(2).sum() for A, B in ad.values())
    total = ce + lam * reg
    total.backward()
    d = os.path.join(out_dir, "tiny-gpt2-lora"); os.makedirs(d, exist_ok=True)
    tens = {}
    out = {"logits": logits.detach(), "ce": ce.detach().reshape(1), "reg": reg.detach().reshape(1), "total": total.detach().reshape(1)}
    for mod, (A, B) in ad.items():
        tens[f"base_model.model.{mod}.lora_A.weight"] = A.detach(); tens[f"base_model.model.{mod}.lora_B.weight"] = B.detach()
        out[f"grad.{mod}.lora_A.weight"] = A.grad; out[f"grad.{mod}.lora_B.weight"] = B.grad
    write_safetensors(os.path.join(d, "adapter_model.safetensors"), tens)
    json.dump({"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": r, "lora_alpha": alpha, "lora_dropout": 0.0,
               "target_modules": ["c_attn", "c_proj"], "fan_in_fan_out": True, "bias": "none", "use_rslora": False,
               "init_lora_weights": True, "base_model_name_or_path": "../tiny-gpt2", "lambda": lam},
              open(os.path.join(d, "adapter_config.json"), "w"), indent=2)
    write_safetensors(os.path.join(d, "reference.safetensors"), out)
    print("tiny-gpt2-lora total", float(total))


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "test/fixtures"
    main(out)
    make_lora(out)
