"""Reference checkpoints and values for the architectures of issue #15 (llama options, qwen2,
gpt_neox), from an independent PyTorch implementation (torch + the standard library only).

Run with Debian's PyTorch (apt-get install -y python3-torch):
    /usr/bin/python3 scripts/torch_arch_reference.py test/fixtures/arch

Each model directory holds config.json and weights in the exact Hugging Face layout (tensor
names, (out, in) nn.Linear weights, NeoX's per-head fused query_key_value, sharded index), and
reference.safetensors: the input ids (2, 12), targets (with ignored positions), the logits and
the mean cross-entropy loss, computed in float64 from the weights exactly as stored (for bf16 /
f16 storage: from torch's `.float()` of the stored values). Sizes are odd on purpose: hidden 40,
5 heads (head size 8), 1 key/value head (GQA), intermediate 72, vocabulary 97.

| directory | what |
| llama/ | llama, 2 layers, GQA 5/1, llama3 rope_scaling (θ 100, so all three frequency bands occur), tied head, F32 |
| llama-untied/ | llama, 1 layer, 5 kv heads, untied lm_head, attention_bias + mlp_bias, θ 500000, F32 |
| llama-bf16/ | llama/'s weights stored as BF16; float32.sha256.json: sha256 of each tensor's `.float()` bytes (HF layout) |
| llama-bf16-sharded/ | the same BF16 tensors in 3 shards + model.safetensors.index.json |
| llama-lora/ | a PEFT adapter over llama/ (r 4, alpha 8, q_proj + v_proj, fixed A and B): logits with it, the loss, the gradients of every lora_A / lora_B, and the logits after one SGD step (lr 0.5) |
| qwen2/ | qwen2, 2 layers, GQA 5/1, q/k/v biases, tied, θ 1e6, stored F16 (+ float32.sha256.json) |
| gpt_neox/ | gpt_neox, 2 layers, rotary_pct 0.5, parallel residual, exact GELU, untied embed_out, plus the buffers old Pythia files carry (attention.bias BOOL, masked_bias, rotary_emb.inv_freq) |
| gpt_neox-seq/ | gpt_neox, 1 layer, rotary_pct 0.25, sequential residual, gelu_new, tied |
| dtypes.safetensors | float16 / bfloat16 bit patterns (±0, subnormals, ±inf, NaNs) with torch's `.float()` bits, and float32 values with torch's `.to(bfloat16)` / `.to(float16)` bits (round to nearest even) |

The math follows the published architecture descriptions (Llama / Llama 3 RoPE scaling, Qwen2,
GPT-NeoX), written here with torch alone, independently of the TypeScript implementation.
"""
import hashlib, json, math, os, struct, sys
import torch
import torch.nn.functional as F

torch.manual_seed(15)
torch.set_default_dtype(torch.float64)  # compute in float64

V, C, NH, HS, I, CTX = 97, 40, 5, 8, 72, 128
B, T = 2, 12


# ---------------------------------------------------------------- safetensors (torch + stdlib)

ST_DTYPE = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int32: "I32", torch.bool: "BOOL"}


def raw_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def write_safetensors(path, tensors, metadata=None):
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        t = tensors[name]
        raw = raw_bytes(t)
        header[name] = {"dtype": ST_DTYPE[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header).encode()
    h += b" " * ((8 - (8 + len(h)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def ref_tensor(t):
    return t.detach().to(torch.int32) if t.dtype in (torch.int64, torch.int32) else t.detach().to(torch.float32)


def save_model(d, cfg, weights, dtype=torch.float32, extra=None):
    """config.json + model.safetensors with every weight stored as `dtype` (+ extra tensors as given)."""
    os.makedirs(d, exist_ok=True)
    stored = {k: v.detach().to(torch.float32).to(dtype) for k, v in weights.items()}
    write_safetensors(os.path.join(d, "model.safetensors"), {**stored, **(extra or {})}, {"format": "pt"})
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    # what the forward uses: the stored values read back as float32 (torch's .float()), in float64
    return {k: v.float().to(torch.float64) for k, v in stored.items()}, stored


def sha256_of_float(stored):
    return {k: hashlib.sha256(v.float().contiguous().numpy().tobytes()).hexdigest() for k, v in sorted(stored.items())}


# ---------------------------------------------------------------- building blocks

def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def rope_inv_freq(theta, dim, scaling=None):
    """θ^(−2i/dim), i < dim/2; with Llama 3's scaling (Meta's apply_scaling): wavelengths shorter
    than original/high_freq_factor kept, longer than original/low_freq_factor divided by factor,
    smoothly interpolated in between."""
    inv = [1.0 / theta ** (2 * i / dim) for i in range(dim // 2)]
    if scaling is not None:
        factor, lo, hi = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
        old = scaling["original_max_position_embeddings"]
        low_wavelen, high_wavelen = old / lo, old / hi
        out = []
        for f in inv:
            wavelen = 2 * math.pi / f
            if wavelen < high_wavelen:
                out.append(f)
            elif wavelen > low_wavelen:
                out.append(f / factor)
            else:
                smooth = (old / wavelen - lo) / (hi - lo)
                out.append((1 - smooth) * f / factor + smooth * f)
        inv = out
    return torch.tensor(inv, dtype=torch.float64)


def rope_cos_sin(inv, T):
    ang = torch.outer(torch.arange(T, dtype=torch.float64), inv)   # (T, dim/2)
    emb = torch.cat((ang, ang), -1)                                # (T, dim)
    return emb.cos(), emb.sin()


def attention(q, k, v):
    """q (B, nh, T, hs), k / v (B, nkv, T, hs): causal softmax attention, kv heads shared by groups."""
    nh, nkv, T_ = q.shape[1], k.shape[1], q.shape[2]
    k = k.repeat_interleave(nh // nkv, dim=1)
    v = v.repeat_interleave(nh // nkv, dim=1)
    mask = torch.tril(torch.ones(T_, T_, dtype=torch.bool))
    att = ((q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])).masked_fill(~mask, float("-inf")).softmax(-1)
    return att @ v


def lin(p, name, x, bias=False):
    """nn.Linear: weight (out, in)."""
    y = x @ p[name + ".weight"].T
    return y + p[name + ".bias"] if bias else y


# ---------------------------------------------------------------- llama / qwen2

def llama_forward(p, cfg, ids, lora=None):
    """Llama (and Qwen2, which adds q/k/v biases): RMSNorm pre-norm blocks, RoPE on q and k
    (rotate_half pairs), grouped-query attention, SwiGLU MLP. `lora`: module → (A, B, scaling),
    adding scaling · x Aᵀ Bᵀ to that projection's output."""
    Bn, Tn = ids.shape
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hs = cfg["hidden_size"] // nh
    eps = cfg["rms_norm_eps"]
    qwen = cfg["model_type"] == "qwen2"
    attn_bias = qwen or cfg.get("attention_bias", False)
    o_bias = (not qwen) and cfg.get("attention_bias", False)
    mlp_bias = cfg.get("mlp_bias", False)
    cos, sin = rope_cos_sin(rope_inv_freq(cfg["rope_theta"], hs, cfg.get("rope_scaling")), Tn)

    def proj(name, x, bias):
        y = lin(p, name, x, bias)
        if lora is not None and name in lora:
            A, Bm, s = lora[name]
            y = y + s * (x @ A.T) @ Bm.T
        return y

    x = p["model.embed_tokens.weight"][ids]
    for i in range(cfg["num_hidden_layers"]):
        pre = f"model.layers.{i}."
        h = rms_norm(x, p[pre + "input_layernorm.weight"], eps)
        q = proj(pre + "self_attn.q_proj", h, attn_bias).view(Bn, Tn, nh, hs).transpose(1, 2)
        k = proj(pre + "self_attn.k_proj", h, attn_bias).view(Bn, Tn, nkv, hs).transpose(1, 2)
        v = proj(pre + "self_attn.v_proj", h, attn_bias).view(Bn, Tn, nkv, hs).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        y = attention(q, k, v).transpose(1, 2).reshape(Bn, Tn, nh * hs)
        x = x + proj(pre + "self_attn.o_proj", y, o_bias)
        h = rms_norm(x, p[pre + "post_attention_layernorm.weight"], eps)
        g = F.silu(proj(pre + "mlp.gate_proj", h, mlp_bias)) * proj(pre + "mlp.up_proj", h, mlp_bias)
        x = x + proj(pre + "mlp.down_proj", g, mlp_bias)
    x = rms_norm(x, p["model.norm.weight"], eps)
    head = p["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else p["lm_head.weight"]
    return x @ head.T


def llama_shapes(cfg):
    nh, nkv, L = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["num_hidden_layers"]
    hs = C // nh
    qwen = cfg["model_type"] == "qwen2"
    attn_bias = qwen or cfg.get("attention_bias", False)
    o_bias = (not qwen) and cfg.get("attention_bias", False)
    mlp_bias = cfg.get("mlp_bias", False)
    s = {"model.embed_tokens.weight": (V, C), "model.norm.weight": (C,)}
    if not cfg["tie_word_embeddings"]:
        s["lm_head.weight"] = (V, C)
    for i in range(L):
        pre = f"model.layers.{i}."
        s.update({pre + "input_layernorm.weight": (C,), pre + "post_attention_layernorm.weight": (C,),
                  pre + "self_attn.q_proj.weight": (nh * hs, C), pre + "self_attn.k_proj.weight": (nkv * hs, C),
                  pre + "self_attn.v_proj.weight": (nkv * hs, C), pre + "self_attn.o_proj.weight": (C, nh * hs),
                  pre + "mlp.gate_proj.weight": (I, C), pre + "mlp.up_proj.weight": (I, C), pre + "mlp.down_proj.weight": (C, I)})
        if attn_bias:
            s.update({pre + "self_attn.q_proj.bias": (nh * hs,), pre + "self_attn.k_proj.bias": (nkv * hs,), pre + "self_attn.v_proj.bias": (nkv * hs,)})
        if o_bias:
            s[pre + "self_attn.o_proj.bias"] = (C,)
        if mlp_bias:
            s.update({pre + "mlp.gate_proj.bias": (I,), pre + "mlp.up_proj.bias": (I,), pre + "mlp.down_proj.bias": (C,)})
    return s


# ---------------------------------------------------------------- gpt_neox

def neox_forward(p, cfg, ids):
    """GPT-NeoX (Pythia): LayerNorm with bias; one fused query_key_value projection whose output
    is, per head, [q | k | v] (view (B, T, nh, 3·hs)); RoPE on the first rotary_pct of each head's
    features (rotate_half within them; the rest pass through); GELU MLP dense_h_to_4h →
    dense_4h_to_h; parallel residual x + attn(ln1 x) + mlp(ln2 x), or sequential; embed_out head."""
    Bn, Tn = ids.shape
    nh = cfg["num_attention_heads"]
    hs = cfg["hidden_size"] // nh
    rot = int(hs * cfg["rotary_pct"])
    eps = cfg["layer_norm_eps"]
    act = (lambda z: F.gelu(z)) if cfg["hidden_act"] == "gelu" else (lambda z: F.gelu(z, approximate="tanh"))
    cos, sin = rope_cos_sin(rope_inv_freq(cfg["rotary_emb_base"], rot), Tn)

    def rope(t):
        r, rest = t[..., :rot], t[..., rot:]
        return torch.cat((r * cos + rotate_half(r) * sin, rest), -1)

    def ln(x, name):
        return F.layer_norm(x, (x.shape[-1],), p[name + ".weight"], p[name + ".bias"], eps)

    x = p["gpt_neox.embed_in.weight"][ids]
    for i in range(cfg["num_hidden_layers"]):
        pre = f"gpt_neox.layers.{i}."
        h = ln(x, pre + "input_layernorm")
        qkv = lin(p, pre + "attention.query_key_value", h, True).view(Bn, Tn, nh, 3 * hs)
        q, k, v = [qkv[..., j * hs:(j + 1) * hs].permute(0, 2, 1, 3) for j in range(3)]
        y = attention(rope(q), rope(k), v).transpose(1, 2).reshape(Bn, Tn, nh * hs)
        a = lin(p, pre + "attention.dense", y, True)
        if cfg["use_parallel_residual"]:
            m = lin(p, pre + "mlp.dense_4h_to_h", act(lin(p, pre + "mlp.dense_h_to_4h", ln(x, pre + "post_attention_layernorm"), True)), True)
            x = x + a + m
        else:
            x = x + a
            x = x + lin(p, pre + "mlp.dense_4h_to_h", act(lin(p, pre + "mlp.dense_h_to_4h", ln(x, pre + "post_attention_layernorm"), True)), True)
    x = ln(x, "gpt_neox.final_layer_norm")
    head = p["gpt_neox.embed_in.weight"] if cfg["tie_word_embeddings"] else p["embed_out.weight"]
    return x @ head.T


def neox_shapes(cfg):
    s = {"gpt_neox.embed_in.weight": (V, C), "gpt_neox.final_layer_norm.weight": (C,), "gpt_neox.final_layer_norm.bias": (C,)}
    if not cfg["tie_word_embeddings"]:
        s["embed_out.weight"] = (V, C)
    for i in range(cfg["num_hidden_layers"]):
        pre = f"gpt_neox.layers.{i}."
        s.update({pre + "input_layernorm.weight": (C,), pre + "input_layernorm.bias": (C,),
                  pre + "post_attention_layernorm.weight": (C,), pre + "post_attention_layernorm.bias": (C,),
                  pre + "attention.query_key_value.weight": (3 * C, C), pre + "attention.query_key_value.bias": (3 * C,),
                  pre + "attention.dense.weight": (C, C), pre + "attention.dense.bias": (C,),
                  pre + "mlp.dense_h_to_4h.weight": (I, C), pre + "mlp.dense_h_to_4h.bias": (I,),
                  pre + "mlp.dense_4h_to_h.weight": (C, I), pre + "mlp.dense_4h_to_h.bias": (C,)})
    return s


# ---------------------------------------------------------------- fixtures

def random_weights(shapes):
    out = {}
    for k, shp in shapes.items():
        if "norm" in k and k.endswith(".weight"):
            t = 1 + 0.1 * torch.randn(shp)
        elif len(shp) > 1:
            t = 0.3 * torch.randn(shp)
        else:
            t = 0.1 * torch.randn(shp)
        out[k] = t.to(torch.float32).to(torch.float64)   # float32 values, computed in float64
    return out


IDS = torch.randint(0, V, (B, T))
TARGETS = torch.randint(0, V, (B, T))
TARGETS[0, 3] = -100
TARGETS[1, 7] = -100


def ce(logits):
    return F.cross_entropy(logits.reshape(-1, V), TARGETS.reshape(-1), ignore_index=-100)


def write_reference(d, logits, **more):
    ref = {"ids": IDS, "targets": TARGETS, "logits": logits, "loss": ce(logits).reshape(1)}
    ref.update(more)
    write_safetensors(os.path.join(d, "reference.safetensors"), {k: ref_tensor(v) for k, v in ref.items()})
    print(os.path.basename(d), "loss", float(ref["loss"]))


def llama_cfg(**kw):
    cfg = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": V, "hidden_size": C,
           "intermediate_size": I, "num_hidden_layers": 2, "num_attention_heads": NH, "num_key_value_heads": 1,
           "max_position_embeddings": CTX, "rms_norm_eps": 1e-5, "rope_theta": 100.0, "hidden_act": "silu",
           "tie_word_embeddings": True, "attention_bias": False, "mlp_bias": False, "torch_dtype": "float32",
           "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                            "original_max_position_embeddings": 64}}
    cfg.update(kw)
    return cfg


def main(out):
    os.makedirs(out, exist_ok=True)

    # llama: GQA, llama3 rope scaling, tied
    cfg = llama_cfg()
    w = random_weights(llama_shapes(cfg))
    p, _ = save_model(os.path.join(out, "llama"), cfg, w)
    write_reference(os.path.join(out, "llama"), llama_forward(p, cfg, IDS))

    # llama-bf16 and its sharded copy: the same weights stored as bfloat16
    bcfg = dict(cfg, torch_dtype="bfloat16")
    pb, stored = save_model(os.path.join(out, "llama-bf16"), bcfg, w, torch.bfloat16)
    with open(os.path.join(out, "llama-bf16", "float32.sha256.json"), "w") as f:
        json.dump(sha256_of_float(stored), f, indent=2)
    write_reference(os.path.join(out, "llama-bf16"), llama_forward(pb, bcfg, IDS))
    sd = os.path.join(out, "llama-bf16-sharded")
    os.makedirs(sd, exist_ok=True)
    names = sorted(stored)
    parts = [names[0::3], names[1::3], names[2::3]]   # interleaved: every shard holds tensors of several layers
    weight_map, total = {}, 0
    for j, part in enumerate(parts):
        fn = f"model-{j + 1:05d}-of-{len(parts):05d}.safetensors"
        write_safetensors(os.path.join(sd, fn), {k: stored[k] for k in part}, {"format": "pt"})
        for k in part:
            weight_map[k] = fn
            total += stored[k].numel() * 2
    with open(os.path.join(sd, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}, f, indent=2)
    with open(os.path.join(sd, "config.json"), "w") as f:
        json.dump(bcfg, f, indent=2)

    # llama-lora: r 4, alpha 8 on q_proj and v_proj of llama/, fixed A and B
    r, alpha, lr = 4, 8.0, 0.5
    s = alpha / r
    ad = {}
    for i in range(cfg["num_hidden_layers"]):
        for m in ("q_proj", "v_proj"):
            mod = f"model.layers.{i}.self_attn.{m}"
            fout, fin = p[mod + ".weight"].shape   # nn.Linear (out, in)
            A = (0.3 * torch.randn(r, fin)).to(torch.float32).to(torch.float64).requires_grad_(True)
            Bm = (0.2 * torch.randn(fout, r)).to(torch.float32).to(torch.float64).requires_grad_(True)
            ad[mod] = (A, Bm)
    logits_on = llama_forward(p, cfg, IDS, {m: (A, Bm, s) for m, (A, Bm) in ad.items()})
    loss = ce(logits_on)
    loss.backward()
    ld = os.path.join(out, "llama-lora")
    os.makedirs(ld, exist_ok=True)
    tens, more = {}, {}
    for mod, (A, Bm) in ad.items():
        tens[f"base_model.model.{mod}.lora_A.weight"] = A.detach().to(torch.float32)
        tens[f"base_model.model.{mod}.lora_B.weight"] = Bm.detach().to(torch.float32)
        more[f"grad.{mod}.lora_A.weight"] = A.grad
        more[f"grad.{mod}.lora_B.weight"] = Bm.grad
    write_safetensors(os.path.join(ld, "adapter_model.safetensors"), tens, {"format": "pt"})
    with open(os.path.join(ld, "adapter_config.json"), "w") as f:
        json.dump({"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": r, "lora_alpha": alpha, "lora_dropout": 0.0,
                   "target_modules": ["q_proj", "v_proj"], "fan_in_fan_out": False, "bias": "none", "use_rslora": False,
                   "init_lora_weights": True, "base_model_name_or_path": "../llama", "modules_to_save": None,
                   "inference_mode": True}, f, indent=2)
    with torch.no_grad():
        stepped = {m: ((A - lr * A.grad).to(torch.float32).to(torch.float64), (Bm - lr * Bm.grad).to(torch.float32).to(torch.float64), s)
                   for m, (A, Bm) in ad.items()}
        logits_after = llama_forward(p, cfg, IDS, stepped)
    for m, (A2, B2, _) in stepped.items():
        more[f"after.{m}.lora_A.weight"] = A2
        more[f"after.{m}.lora_B.weight"] = B2
    write_reference(ld, logits_on.detach(), logits_after=logits_after, lr=torch.tensor([lr]), **more)

    # llama-untied: 1 layer, MHA, untied head, attention_bias + mlp_bias, θ 500000, no scaling
    ucfg = llama_cfg(num_hidden_layers=1, num_key_value_heads=NH, tie_word_embeddings=False, attention_bias=True,
                     mlp_bias=True, rope_theta=500000.0, rope_scaling=None, rms_norm_eps=1e-6)
    pu, _ = save_model(os.path.join(out, "llama-untied"), ucfg, random_weights(llama_shapes(ucfg)))
    write_reference(os.path.join(out, "llama-untied"), llama_forward(pu, ucfg, IDS))

    # qwen2: q/k/v biases, tied, θ 1e6, GQA, stored as float16
    qcfg = {"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"], "vocab_size": V, "hidden_size": C,
            "intermediate_size": I, "num_hidden_layers": 2, "num_attention_heads": NH, "num_key_value_heads": 1,
            "max_position_embeddings": CTX, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "hidden_act": "silu",
            "tie_word_embeddings": True, "use_sliding_window": False, "sliding_window": 4096, "max_window_layers": 28,
            "rope_scaling": None, "attention_dropout": 0.0, "torch_dtype": "float16"}
    pq, storedq = save_model(os.path.join(out, "qwen2"), qcfg, random_weights(llama_shapes(qcfg)), torch.float16)
    with open(os.path.join(out, "qwen2", "float32.sha256.json"), "w") as f:
        json.dump(sha256_of_float(storedq), f, indent=2)
    write_reference(os.path.join(out, "qwen2"), llama_forward(pq, qcfg, IDS))

    # gpt_neox: parallel residual, rotary_pct 0.5, exact GELU, untied embed_out, old Pythia buffers
    ncfg = {"model_type": "gpt_neox", "architectures": ["GPTNeoXForCausalLM"], "vocab_size": V, "hidden_size": C,
            "intermediate_size": I, "num_hidden_layers": 2, "num_attention_heads": NH, "max_position_embeddings": CTX,
            "layer_norm_eps": 1e-5, "rotary_pct": 0.5, "rotary_emb_base": 10000, "use_parallel_residual": True,
            "hidden_act": "gelu", "tie_word_embeddings": False, "attention_bias": True, "use_cache": True,
            "bos_token_id": 0, "eos_token_id": 0, "torch_dtype": "float32"}
    wn = random_weights(neox_shapes(ncfg))
    rot = int(HS * ncfg["rotary_pct"])
    extra = {}
    for i in range(ncfg["num_hidden_layers"]):
        pre = f"gpt_neox.layers.{i}.attention."
        extra[pre + "bias"] = torch.tril(torch.ones(CTX, CTX, dtype=torch.bool)).view(1, 1, CTX, CTX)
        extra[pre + "masked_bias"] = torch.tensor(-1e9, dtype=torch.float32)
        extra[pre + "rotary_emb.inv_freq"] = rope_inv_freq(10000, rot).to(torch.float32)
    pn, _ = save_model(os.path.join(out, "gpt_neox"), ncfg, wn, extra=extra)
    write_reference(os.path.join(out, "gpt_neox"), neox_forward(pn, ncfg, IDS))

    # gpt_neox-seq: sequential residual, rotary_pct 0.25 (2 of 8 features), gelu_new, tied
    scfg = dict(ncfg, num_hidden_layers=1, rotary_pct=0.25, use_parallel_residual=False, hidden_act="gelu_new", tie_word_embeddings=True)
    ps, _ = save_model(os.path.join(out, "gpt_neox-seq"), scfg, random_weights(neox_shapes(scfg)))
    write_reference(os.path.join(out, "gpt_neox-seq"), neox_forward(ps, scfg, IDS))

    dtypes(out)


def dtypes(out):
    """Bit patterns: float16 / bfloat16 → float32 (torch's .float()), and float32 → bfloat16 /
    float16 (torch's .to(), round to nearest even). Bits are stored as I32 so no NaN is touched
    on the way."""
    h16 = [0x0000, 0x8000, 0x0001, 0x8001, 0x0200, 0x03FF, 0x0400, 0x3C00, 0xBC00, 0x3555, 0x7BFF, 0xFBFF,
           0x7C00, 0xFC00, 0x7E00, 0xFE00, 0x7C01, 0x7D55, 0xFFFF]
    bf = [0x0000, 0x8000, 0x0001, 0x007F, 0x0080, 0x3F80, 0xBF80, 0x4049, 0x7F7F, 0xFF7F, 0x7F80, 0xFF80,
          0x7FC0, 0xFFC0, 0x7F81, 0x7FFF, 0xFFFF]
    h16 += list(torch.randint(0, 65536, (45,)).tolist())
    bf += list(torch.randint(0, 65536, (47,)).tolist())
    to_i16 = lambda xs: torch.tensor([x - 65536 if x >= 32768 else x for x in xs], dtype=torch.int16)
    f16 = to_i16(h16).view(torch.float16)
    b16 = to_i16(bf).view(torch.bfloat16)
    # float32 inputs: halfway cases, overflow, underflow into subnormals, NaN, random
    f32 = [0.0, -0.0, 1.0, 1.00048828125, 1.001953125, 1.0009765625, 65504.0, 65519.0, 65520.0, 1e6, -1e6,
           6.1e-5, 5.96e-8, 2.98e-8, 2.9802322387695312e-08, 1e-10, 3.0e-8, 8.9e-8, 1.5e-45, -1.5e-45,
           3.3895313892515355e38, 3.4028234663852886e38, float("inf"), float("-inf"), float("nan"),
           1.0078125, 1.00390625, 1.01171875, 2.0 ** -133, 2.0 ** -126, 3.0 * 2.0 ** -134]
    f32t = torch.tensor(f32, dtype=torch.float32)
    f32t = torch.cat([f32t, (torch.randn(64) * 10.0 ** torch.randint(-9, 6, (64,)).double()).to(torch.float32)])
    f32t = torch.cat([f32t, torch.tensor([-0.0], dtype=torch.float32).view(torch.int32).bitwise_or(torch.tensor(0x7FC00001, dtype=torch.int32)).view(torch.float32)])
    u16 = lambda t: t.view(torch.int16).to(torch.int32) & 0xFFFF
    tensors = {
        "f16": f16, "f16.float_bits": f16.float().view(torch.int32),
        "bf16": b16, "bf16.float_bits": b16.float().view(torch.int32),
        "f32_bits": f32t.view(torch.int32),
        "f32.bf16_bits": u16(f32t.to(torch.bfloat16)),
        "f32.f16_bits": u16(f32t.to(torch.float16)),
    }
    write_safetensors(os.path.join(out, "dtypes.safetensors"), tensors)
    print("dtypes", {k: list(v.shape) for k, v in tensors.items()})


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "test/fixtures/arch")
