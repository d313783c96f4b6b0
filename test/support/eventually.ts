/**
 * Polls `check` until it holds (returns true, or a value `accept` accepts) or
 * the time runs out; the one way tests wait for background work.
 */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 30_000, intervalMs = 50): Promise<void> {
  await eventuallyValue(check, (ok) => ok, timeoutMs, intervalMs);
}

/**
 * Polls `read` until `accept` accepts what it returns, and returns that value; throws with the last value
 * (or error) once `timeoutMs` has passed. For waiting on a row, a page or a process output to reach a state.
 */
export async function eventuallyValue<T>(read: () => T | Promise<T>, accept: (value: T) => boolean, timeoutMs = 30_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let last: { value: T } | undefined;
  for (;;) {
    try {
      const value = await read();
      if (accept(value)) return value;
      last = { value };
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError ? `: ${(lastError as Error).message}` : last && typeof last.value !== 'boolean' ? `; last value ${JSON.stringify(last.value)}` : '';
      throw new Error(`condition not met within ${timeoutMs} ms${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
