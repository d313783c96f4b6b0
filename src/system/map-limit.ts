/**
 * Runs `fn` over `items` with at most `limit` in flight and returns the results in input order
 * (salvage's image pass, claims' file copies). On a failure the lanes stop taking new items,
 * every lane finishes, then the first error is thrown: the caller's cleanup sees everything
 * that was done.
 */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failure: { err: unknown } | null = null;
  const lane = async () => {
    while (!failure && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure) throw (failure as { err: unknown }).err;
  return out;
}
