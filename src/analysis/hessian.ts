/**
 * The Hessian of the validation loss with respect to all architecture weights α
 * (docs/hessian.md): exact Hessian-vector products through double backward, the full matrix
 * row by row, and the dominant (algebraically largest) eigenvalue by Lanczos.
 *
 * The loss is evaluated on a fixed batch with one fixed realisation of every random op
 * (drop path, noise, train-mode batch norm): the graph of ∇α L is built once and reused for
 * every product, so all products see the same function. The optional shift adds
 * `shift`·I (the α weight decay of the reference's logged Hessians).
 */
import { Tensor, grad, keep, tidy, tensor, noGrad, type Device } from '../torch/index.js';
import { lanczos } from './lanczos.js';
import { symmetricEigen } from './eigen.js';
import type { Rng } from '../util/rng.js';

/** What the Hessian code needs from a model: α, and a flat view of α-shaped tensors. */
export interface ArchModel {
  archParameters(): Tensor[];
  /** flatten α-shaped tensors (valid entries, in the paper's order) */
  archVector(pair: Tensor[]): Tensor;
  /** the inverse of archVector (the CNN supernet: [normal, reduce]; the RNN search model: [α]) */
  archFromVector(v: Tensor): Tensor[];
  numArchParameters(): number;
}

/**
 * A Hessian-vector operator on α: build the gradient graph once (`loss()` is called once),
 * then `hvp(v)` returns H·v (+ shift·v) as a Float64Array. Call `dispose()` when done.
 */
export class AlphaHessian {
  private readonly gFlat: Tensor;
  readonly n: number;
  calls = 0;

  constructor(
    private readonly model: ArchModel,
    loss: () => Tensor,
    readonly shift = 0,
  ) {
    this.n = model.numArchParameters();
    this.gFlat = keep(
      tidy(() => {
        const g = grad(loss(), model.archParameters(), { createGraph: true }) as Tensor[];
        return model.archVector(g);
      }),
    );
  }

  /** The gradient ∇α L (flat), for logging as the reference does. */
  gradient(): Float64Array {
    return Float64Array.from(noGrad(() => tidy(() => this.gFlat.detach().double().toNumbers())));
  }

  hvp(v: Float64Array): Float64Array {
    this.calls++;
    return tidy(() => {
      const vt = tensor(Float64Array.from(v), [this.n]).to({ dtype: this.gFlat.dtype, device: this.gFlat.device as Device });
      const dot = this.gFlat.mul(vt).sum();
      const hv = grad(dot, this.model.archParameters(), { retainGraph: true }) as Tensor[];
      const flat = this.model.archVector(hv).double().toArray() as Float64Array;
      const out = Float64Array.from(flat);
      if (this.shift !== 0) for (let i = 0; i < out.length; i++) out[i]! += this.shift * v[i]!;
      return out;
    });
  }

  /** The full n×n Hessian (row-major), one product per unit vector, symmetrised. */
  full(): Float64Array {
    const n = this.n;
    const H = new Float64Array(n * n);
    const e = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      e.fill(0);
      e[i] = 1;
      H.set(this.hvp(e), i * n);
    }
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++) {
        const s = 0.5 * (H[i * n + j]! + H[j * n + i]!);
        H[i * n + j] = s;
        H[j * n + i] = s;
      }
    return H;
  }

  dispose(): void {
    this.gFlat.dispose();
  }
}

export interface EigenResult {
  maxEigenvalue: number;
  minEigenvalue: number | null;
  /** top-k, descending */
  eigenvalues: number[];
  operatorCalls: number;
  converged: boolean;
  /** the full matrix when method = 'full' */
  H?: Float64Array;
  /** the unit Ritz vector of λ_max (Lanczos with `returnVector`) */
  topVector?: Float64Array;
}

export interface DominantOptions {
  method: 'lanczos' | 'full';
  topK: number;
  maxIter?: number;
  tol?: number;
  /**
   * Lanczos stopping: 'top-k' (default) when every top-k Ritz value's residual ≤ tol·|θ|;
   * 'lambda-max' when λ_max's error estimate min(r, r²/gap) ≤ tol·|λ_max| (analysis/lanczos.ts):
   * far fewer products for the same λ_max, the other top-k values less converged.
   */
  converge?: 'top-k' | 'lambda-max';
  rng?: Rng;
  /** Lanczos start vector (e.g. the previous measurement's `topVector`: a warm start); default a random one from `rng` */
  start?: Float64Array;
  /** return λ_max's Ritz vector as `topVector` */
  returnVector?: boolean;
  /** keep the full matrix in the result (method 'full') */
  keepMatrix?: boolean;
}

/** Dominant eigenvalue (algebraic max) and top-k spectrum of one Hessian operator. */
export async function dominantEigenvalues(h: AlphaHessian, o: DominantOptions): Promise<EigenResult> {
  if (o.method === 'full') {
    const H = h.full();
    const { values } = symmetricEigen(H, { vectors: false });
    const desc = Array.from(values).reverse();
    return {
      maxEigenvalue: desc[0]!,
      minEigenvalue: desc[desc.length - 1]!,
      eigenvalues: desc.slice(0, o.topK),
      operatorCalls: h.calls,
      converged: true,
      ...(o.keepMatrix ? { H } : {}),
    };
  }
  // converge 'lambda-max': stop on λ_max's error estimate (tol relative to it), the other top-k values as they stand
  const stop = o.converge === 'lambda-max' ? { eigTol: o.tol ?? 1e-6 } : { tol: o.tol ?? 1e-6 };
  const r = await lanczos((v) => h.hvp(v), h.n, {
    k: Math.min(o.topK, h.n),
    maxIter: Math.min(h.n, o.maxIter ?? 30),
    ...stop,
    ...(o.rng ? { rng: o.rng } : {}),
    ...(o.start ? { start: o.start } : {}),
    ...(o.returnVector ? { vectors: true } : {}),
  });
  return {
    maxEigenvalue: r.top[0]!,
    minEigenvalue: r.bottom ?? null,
    eigenvalues: r.top.slice(0, o.topK),
    operatorCalls: r.operatorCalls,
    converged: r.converged,
    ...(r.ritzVectors ? { topVector: r.ritzVectors[0]! } : {}),
  };
}
