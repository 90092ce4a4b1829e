"""Reference logits for a llama2.c legacy `.bin` checkpoint, from an independent implementation.

Run with Debian's PyTorch (apt-get install -y python3-torch):
    /usr/bin/python3 scripts/llama2c_reference.py \
        ../shared/data/external/stories260k/stories260K.bin test/fixtures/stories260k

Reads the checkpoint exactly as karpathy/llama2.c run.c does (7 int32 header, negative
vocab_size = unshared classifier, nn.Linear (out, in) weights, freq_cis tables skipped) and runs
the forward pass in llama2.c's own convention (model.py): RoPE on INTERLEAVED pairs (2i, 2i+1)
as a complex multiplication, RMSNorm eps 1e-5, SwiGLU w2(silu(w1 x) * w3 x), grouped-query
attention with kv head h // (nh / nkv). No weight permutation, unlike src/model/llama2c.ts,
which converts to HF's rotate_half layout. Computes in float64.

Writes reference.safetensors: ids (B, T) int32 and logits (B, T, V) float32. The .bin itself is
not copied.
"""
import os, struct, sys
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from torch_reference import write_safetensors  # noqa: E402


def read_llama2c(path):
    with open(path, "rb") as f:
        raw = f.read()
    dim, hidden, L, nh, nkv, vocab, seq_len = struct.unpack("<7i", raw[:28])
    shared = vocab > 0
    V, hs = abs(vocab), dim // nh
    w = torch.from_numpy(np.frombuffer(raw[28:], dtype="<f4").astype(np.float64))
    off = 0

    def take(*shape):
        nonlocal off
        n = int(np.prod(shape))
        t = w[off:off + n].view(*shape)
        off += n
        return t

    p = dict(tok=take(V, dim), rms_att=take(L, dim), wq=take(L, nh * hs, dim), wk=take(L, nkv * hs, dim),
             wv=take(L, nkv * hs, dim), wo=take(L, dim, nh * hs), rms_ffn=take(L, dim),
             w1=take(L, hidden, dim), w2=take(L, dim, hidden), w3=take(L, hidden, dim), rms_final=take(dim))
    take(seq_len, hs // 2); take(seq_len, hs // 2)   # freq_cis_real / freq_cis_imag
    p["wcls"] = p["tok"] if shared else take(V, dim)
    assert off == w.numel(), f"{w.numel() - off} floats left over"
    cfg = dict(dim=dim, hidden=hidden, L=L, nh=nh, nkv=nkv, V=V, seq_len=seq_len)
    return cfg, p


def rmsnorm(x, w, eps=1e-5):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope_interleaved(x, T, hs, theta=10000.0):
    """x: (B, T, n, hs); pairs (2i, 2i+1) rotated by pos·θ^(−2i/hs), as llama2.c model.py."""
    freqs = 1.0 / theta ** (torch.arange(0, hs, 2, dtype=torch.float64) / hs)      # (hs/2,)
    cis = torch.polar(torch.ones(T, hs // 2, dtype=torch.float64), torch.outer(torch.arange(T, dtype=torch.float64), freqs))
    xc = torch.view_as_complex(x.reshape(*x.shape[:-1], hs // 2, 2).contiguous())  # (B, T, n, hs/2)
    return torch.view_as_real(xc * cis[None, :, None, :]).reshape(x.shape)


def forward(cfg, p, ids):
    B, T = ids.shape
    C, nh, nkv = cfg["dim"], cfg["nh"], cfg["nkv"]
    hs = C // nh
    x = p["tok"][ids]                                                   # (B, T, C)
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for l in range(cfg["L"]):
        h = rmsnorm(x, p["rms_att"][l])
        q = (h @ p["wq"][l].T).view(B, T, nh, hs)
        k = (h @ p["wk"][l].T).view(B, T, nkv, hs)
        v = (h @ p["wv"][l].T).view(B, T, nkv, hs)
        q, k = rope_interleaved(q, T, hs), rope_interleaved(k, T, hs)
        rep = nh // nkv
        k, v = k.repeat_interleave(rep, dim=2), v.repeat_interleave(rep, dim=2)   # kv head h // rep
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))                # (B, nh, T, hs)
        att = (q @ k.transpose(-2, -1)) / hs ** 0.5
        att = att.masked_fill(~mask, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + y @ p["wo"][l].T
        h = rmsnorm(x, p["rms_ffn"][l])
        x = x + (F.silu(h @ p["w1"][l].T) * (h @ p["w3"][l].T)) @ p["w2"][l].T
    return rmsnorm(x, p["rms_final"]) @ p["wcls"].T                      # (B, T, V)


def main():
    src, out_dir = sys.argv[1], sys.argv[2]
    cfg, p = read_llama2c(src)
    g = torch.Generator().manual_seed(260)
    B, T = 2, 12
    ids = torch.randint(3, cfg["V"], (B, T), generator=g)
    ids[0, 0] = 1                                                        # a BOS-led sequence
    logits = forward(cfg, p, ids)
    os.makedirs(out_dir, exist_ok=True)
    write_safetensors(os.path.join(out_dir, "reference.safetensors"), {"ids": ids, "logits": logits})
    print(cfg, "logits", tuple(logits.shape), "argmax after BOS:", int(logits[0, 0].argmax()))


if __name__ == "__main__":
    main()
