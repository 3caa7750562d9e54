/**
 * Typed errors. Every user-facing failure is one of these: a message naming the cause,
 * and a `hint` saying what to change. The CLI maps the class to an exit code.
 */
export class RdartsError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: number = 1;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = new.target.name;
    this.hint = hint;
  }
  /** Message plus the `help:` line, as printed by the CLI. */
  describe(): string {
    return this.hint ? `${this.message}\nhelp: ${this.hint}` : this.message;
  }
}

/** A malformed or inconsistent configuration, flag or file field. */
export class ConfigError extends RdartsError {
  override readonly exitCode = 2;
}

/** A dataset file is missing, truncated or not in the expected format. */
export class DataError extends RdartsError {
  override readonly exitCode = 3;
}

/** A checkpoint or run folder is missing, incomplete or corrupt. */
export class CheckpointError extends RdartsError {
  override readonly exitCode = 4;
}

/** Tensor shapes or dtypes do not fit an operation. */
export class ShapeError extends RdartsError {
  override readonly exitCode = 5;
}

/**
 * An error raised by libtorch or the native addon (bad arguments, shape or dtype mismatches
 * inside an op, a tensor used after dispose). The message starts with the public op's name
 * ("exp: …", "add_: …", "conv2d: …") followed by libtorch's own message.
 */
export class TorchError extends RdartsError {
  override readonly exitCode = 6;
  /** The public op that failed, when known (e.g. "exp"). */
  readonly op: string | undefined;
  constructor(message: string, hint?: string, op?: string) {
    super(message, hint);
    this.op = op;
  }
}

/** A genotype string or file cannot be parsed or does not fit its space. */
export class GenotypeError extends RdartsError {
  override readonly exitCode = 7;
}

/** The search diverged (NaN/Inf loss) and was stopped. */
export class DivergenceError extends RdartsError {
  override readonly exitCode = 8;
}
