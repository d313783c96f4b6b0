import { SMTPServer } from 'smtp-server';

/**
 * An SMTP server for the crash tests: counts deliveries per recipient and can
 * hold transactions at RCPT (so a sender can be killed while every one of
 * its connections is mid-transaction, before any DATA) or slow each DATA.
 */
export interface ControlledSink {
  url: string;
  received: Array<{ to: string; messageId: string }>;
  /** Transactions currently held at RCPT. */
  held(): number;
  hold(on: boolean): void;
  /** Lets every held transaction continue normally. */
  releaseHeld(): void;
  delay(ms: number): void;
  countByRecipient(): Map<string, number>;
  close(): Promise<void>;
}

export async function startControlledSink(): Promise<ControlledSink> {
  const received: ControlledSink['received'] = [];
  let holding = false;
  let delayMs = 0;
  const waiting = new Set<(accept: boolean) => void>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(_address, session, callback) {
      if (!holding) return callback();
      // Answered only when released (or refused at shutdown); a client killed meanwhile just disappears.
      const release = (accept: boolean) => {
        waiting.delete(release);
        callback(accept ? undefined : Object.assign(new Error('shutting down'), { responseCode: 421 }));
      };
      waiting.add(release);
      (session as unknown as { _held?: (accept: boolean) => void })._held = release;
    },
    onClose(session) {
      const release = (session as unknown as { _held?: (accept: boolean) => void })._held;
      if (release) waiting.delete(release);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const head = Buffer.concat(chunks).subarray(0, 4096).toString('utf8');
        const messageId = /^Message-ID:\s*(\S+)/im.exec(head)?.[1] ?? '';
        const accept = () => {
          for (const r of session.envelope.rcptTo) received.push({ to: r.address, messageId });
          callback();
        };
        if (delayMs) setTimeout(accept, delayMs);
        else accept();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as { port: number }).port;
  return {
    url: `smtp://127.0.0.1:${port}?tls=off`,
    received,
    held: () => waiting.size,
    hold(on) {
      holding = on;
    },
    releaseHeld() {
      for (const w of [...waiting]) w(true);
    },
    delay(ms) {
      delayMs = ms;
    },
    countByRecipient() {
      const m = new Map<string, number>();
      for (const r of received) m.set(r.to, (m.get(r.to) ?? 0) + 1);
      return m;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const w of [...waiting]) w(false);
        server.close(() => resolve());
      }),
  };
}
