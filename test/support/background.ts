import type { AppContext } from '../../src/app-context';
import { features } from '../../src/features';
import { startBackground, type BackgroundWork } from '../../src/jobs/runner';
import type { QueueKey } from '../../src/jobs/registry';

/**
 * Works only the named queues with the features' real handlers (no timers, no other queue), for a test
 * that needs, say, queued test messages sent without campaigns of the same file starting to send.
 */
export function workQueues(ctx: AppContext, keys: QueueKey[]): Promise<() => Promise<void>> {
  const queues: Record<string, unknown> = {};
  for (const f of features) for (const [key, handler] of Object.entries(f.background?.queues ?? {})) if (keys.includes(key as QueueKey)) queues[key] = handler;
  const missing = keys.filter((k) => !(k in queues));
  if (missing.length) throw new Error(`no feature handles ${missing.join(', ')}`);
  return startBackground(ctx, [{ name: 'test', background: { queues } as BackgroundWork }], { timers: false });
}
