// Exercise 1 (docs/exercises.md): the gradient of the cross-entropy loss with respect to a logit
// is softmax − one-hot. Run: npx tsx scripts/exercises/ce-gradient.ts
// It computes L = −log softmax(z)[y] for random logits with the library's crossEntropy (float64),
// takes dL/dz by its backward pass, and sets it beside softmax(z) − onehot(y) and a central
// finite difference (L(z + h eᵢ) − L(z − h eᵢ)) / 2h.
import { createJsBackend } from '../../src/backend/js/index.ts';
import { crossEntropy } from '../../src/tensor/ops/loss.ts';
import { fromArray, noGrad } from '../../src/tensor/tensor.ts';
import { Rng } from '../../src/util/rng.ts';

const be = createJsBackend();
const V = 8, y = 3, h = 1e-5;
const rng = new Rng(7);
const z = Array.from({ length: V }, () => 3 * rng.normal());
const loss = (zs: number[]) => noGrad(() => crossEntropy(fromArray(be, zs, [1, V], 'f64'), Int32Array.of(y)).item());

const logits = fromArray(be, z, [1, V], 'f64');
logits.requiresGrad = true;
const L = crossEntropy(logits, Int32Array.of(y));
L.backward();
const mx = Math.max(...z), e = z.map((x) => Math.exp(x - mx)), sum = e.reduce((a, b) => a + b, 0);
console.log(`L = −log softmax(z)[${y}] = ${L.item().toFixed(6)}`);
console.log(' i   z_i        dL/dz (backward)   softmax − onehot   finite difference');
let worst = 0;
for (let i = 0; i < V; i++) {
  const analytic = e[i] / sum - (i === y ? 1 : 0);
  const zp = z.slice(), zm = z.slice();
  zp[i] += h; zm[i] -= h;
  const fd = (loss(zp) - loss(zm)) / (2 * h);
  const g = logits.grad![i];
  worst = Math.max(worst, Math.abs(g - analytic), Math.abs(fd - analytic));
  console.log(`${String(i).padStart(2)}  ${z[i].toFixed(3).padStart(7)}   ${g.toFixed(9).padStart(14)}     ${analytic.toFixed(9).padStart(14)}    ${fd.toFixed(9).padStart(14)}`);
}
console.log(`largest disagreement: ${worst.toExponential(2)}; the gradients sum to ${Array.from(logits.grad!).reduce((a, b) => a + b, 0).toExponential(2)} (a softmax minus a one-hot sums to 0)`);
