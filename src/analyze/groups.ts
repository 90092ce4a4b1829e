/**
 * Parameter groups of a GPT-2 or Llama model, by Hugging Face name: where an update lives.
 *
 *   embeddings/head  token and position embeddings, an untied output head (GPT-2's head is the token embedding)
 *   attention qkv    c_attn; q_proj, k_proj, v_proj
 *   attention out    attn.c_proj; o_proj
 *   mlp up           c_fc; gate_proj, up_proj
 *   mlp down         mlp.c_proj; down_proj
 *   norms            LayerNorm / RMSNorm weights and biases
 * Each name also has its block (`block 0`, …), or none for the embeddings and the final norm.
 */
export const GROUPS = ['embeddings/head', 'attention qkv', 'attention out', 'mlp up', 'mlp down', 'norms'] as const;
export type Group = (typeof GROUPS)[number];

export function groupOf(name: string): Group {
  if (/(wte|wpe|embed_tokens|lm_head)\.weight$/.test(name)) return 'embeddings/head';
  if (/(ln_\d|ln_f|layernorm|\.norm)\.(weight|bias)$/.test(name) || /(input_layernorm|post_attention_layernorm)\.weight$/.test(name)) return 'norms';
  if (/attn\.c_attn\.|self_attn\.(q|k|v)_proj\./.test(name)) return 'attention qkv';
  if (/attn\.c_proj\.|self_attn\.o_proj\./.test(name)) return 'attention out';
  if (/mlp\.c_fc\.|mlp\.(gate|up)_proj\./.test(name)) return 'mlp up';
  if (/mlp\.c_proj\.|mlp\.down_proj\./.test(name)) return 'mlp down';
  throw new Error(`no parameter group for ${name}`);
}

/** `block 3` for a name inside transformer block 3, or null. */
export function blockOf(name: string): string | null {
  const m = /\.(?:h|layers)\.(\d+)\./.exec(name);
  return m ? `block ${m[1]}` : null;
}
