/**
 * Readable lines for a person at a terminal; JSON for log collectors, files
 * and pipes, and always in production.
 */
export function chooseLogFormat(opts: { isTTY: boolean | undefined; nodeEnv: string | undefined; override?: string | undefined }): 'pretty' | 'json' {
  if (opts.override === 'json' || opts.override === 'pretty') return opts.override;
  if (opts.nodeEnv === 'production') return 'json';
  return opts.isTTY ? 'pretty' : 'json';
}
