import { empty, record, type Tensor } from '../tensor/tensor.ts';

/**
 * GELU in its exact form, x·Φ(x) = ½·x·(1 + erf(x/√2)) — PyTorch's `F.gelu` default, the
 * `"gelu"` of Hugging Face configs (GPT-NeoX / Pythia). GPT-2's `"gelu_new"` is the tanh
 * approximation (`gelu` in tensor/ops/activation.ts); the two differ by up to ~5e-4.
 * Computed in float64 per element. d/dx = Φ(x) + x·φ(x).
 */
export function geluExact(x: Tensor): Tensor {
  const out = empty(x.backend, x.shape.slice(), x.dtype);
  const X = x.data, Y = out.data;
  for (let i = 0; i < X.length; i++) Y[i] = 0.5 * X[i] * (1 + erf(X[i] * Math.SQRT1_2));
  return record(out, [x], () => {
    const G = out.grad!, D = x.ensureGrad();
    for (let i = 0; i < X.length; i++) {
      const v = X[i];
      D[i] += G[i] * (0.5 * (1 + erf(v * Math.SQRT1_2)) + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v));
    }
  });
}

const INV_SQRT_2PI = 0.3989422804014327;

/*
 * erf(x) after fdlibm's s_erf.c (Sun Microsystems, 1993): rational approximations on
 * [0, 0.84375), [0.84375, 1.25), [1.25, 1/0.35), [1/0.35, 6), and ±1 beyond; error < 1 ulp
 * there. (The last two use exp(−x² − 0.5625 + R/S) in one call instead of fdlibm's split of x
 * into high and low words: a few ulp, far below float32.)
 */
const efx = 1.28379167095512586316e-1, erx = 8.45062911510467529297e-1;
const pp = [1.28379167095512558561e-1, -3.25042107247001499370e-1, -2.84817495755985104766e-2, -5.77027029648944159157e-3, -2.37630166566501626084e-5];
const qq = [3.97917223959155352819e-1, 6.50222499887672944485e-2, 5.08130628187576562776e-3, 1.32494738004321644526e-4, -3.96022827877536812320e-6];
const pa = [-2.36211856075265944077e-3, 4.14856118683748331666e-1, -3.72207876035701323847e-1, 3.18346619901161753674e-1, -1.10894694282396677476e-1, 3.54783043256182359371e-2, -2.16637559486879084300e-3];
const qa = [1.06420880400844228286e-1, 5.40397917702171048937e-1, 7.18286544141962662868e-2, 1.26171219808761642112e-1, 1.36370839120290507362e-2, 1.19844998467991074170e-2];
const ra = [-9.86494403484714822705e-3, -6.93858572707181764372e-1, -1.05586262253232909814e1, -6.23753324503260060396e1, -1.62396669462573470355e2, -1.84605092906711035994e2, -8.12874355063065934246e1, -9.81432934416914548592];
const sa = [1.96512716674392571292e1, 1.37657754143519042600e2, 4.34565877475229228821e2, 6.45387271733267880336e2, 4.29008140027567833386e2, 1.08635005541779435134e2, 6.57024977031928170135, -6.04244152148580987438e-2];
const rb = [-9.86494292470009928597e-3, -7.99283237680523006574e-1, -1.77579549177547519889e1, -1.60636384855821916062e2, -6.37566443368389627722e2, -1.02509513161107724954e3, -4.83519191608651397019e2];
const sb = [3.03380607434824582924e1, 3.25792512996573918826e2, 1.53672958608443695994e3, 3.19985821950859553908e3, 2.55305040643316442583e3, 4.74528541206955367215e2, -2.24409524465858183362e1];

/** Σ c[i]·z^i (Horner). */
function poly(c: readonly number[], z: number): number {
  let s = c[c.length - 1];
  for (let i = c.length - 2; i >= 0; i--) s = s * z + c[i];
  return s;
}

export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x), sign = x < 0 ? -1 : 1;
  if (ax < 0.84375) {
    if (ax < 2 ** -28) return x + efx * x;
    const z = x * x;
    return x + x * (poly(pp, z) / (1 + z * poly(qq, z)));
  }
  if (ax < 1.25) {
    const s = ax - 1;
    return sign * (erx + poly(pa, s) / (1 + s * poly(qa, s)));
  }
  if (ax >= 6) return sign;
  const s = 1 / (ax * ax);
  const [R, S] = ax < 1 / 0.35 ? [poly(ra, s), 1 + s * poly(sa, s)] : [poly(rb, s), 1 + s * poly(sb, s)];
  return sign * (1 - Math.exp(-ax * ax - 0.5625 + R / S) / ax);
}
