import { listenSmtp } from './smtp-sink';

/**
 * An SMTP server for the crash tests (smtp-sink.ts's `listenSmtp`): counts
 * deliveries per recipient and can hold transactions at RCPT (so a sender can
 * be killed while every one of its connections is mid-transaction, before any
 * DATA) or slow each DATA.
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
  const server = await listenSmtp({
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
    onMessage(data, session, callback) {
      const head = data.subarray(0, 4096).toString('utf8');
      const messageId = /^Message-ID:\s*(\S+)/im.exec(head)?.[1] ?? '';
      const accept = () => {
        for (const r of session.envelope.rcptTo) received.push({ to: r.address, messageId });
        callback();
      };
      if (delayMs) setTimeout(accept, delayMs);
      else accept();
    },
  });
  return {
    url: server.url,
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
    close() {
      for (const w of [...waiting]) w(false);
      return server.close();
    },
  };
}
