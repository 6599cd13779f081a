/**
 * Options cross to the core as JSON text. Functions become "<function>" and host objects
 * (AbortSignal, a RetryBudget, a CircuitBreaker) "<object>", so the core checks their presence
 * and type while the shell keeps them; NaN and infinities become strings so that they are
 * rejected by name instead of turning into `null`.
 */
export function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function optionsJson(options: unknown): string {
  if (options === undefined || options === null) return '{}';
  return JSON.stringify(options, (_key, v: unknown) => {
    if (typeof v === 'function') return '<function>';
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
    if (typeof v === 'bigint') return Number(v);
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && !isPlainObject(v)) return '<object>';
    return v;
  });
}
