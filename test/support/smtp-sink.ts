import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';

/** What an in-process SMTP server does with what it is sent; RCPT and connection hooks are passed on as they are. */
export type SmtpServerHooks = Pick<SMTPServerOptions, 'onRcptTo' | 'onClose'> & {
  /** A whole message as received (after DATA); `callback` answers it (an error with `responseCode` refuses it). */
  onMessage(raw: Buffer, session: SMTPServerSession, callback: (err?: Error | null) => void): void | Promise<void>;
};

export interface SmtpServerHandle {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * A real SMTP server in process on a random port of 127.0.0.1 (no TLS, no AUTH): the one both test sinks
 * (`startSmtpSink` here, `startControlledSink` in campaigns-sink.ts) are built on.
 */
export async function listenSmtp(hooks: SmtpServerHooks): Promise<SmtpServerHandle> {
  const { onMessage, ...passed } = hooks;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    ...passed,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => void onMessage(Buffer.concat(chunks), session, callback));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as { port: number }).port;
  return {
    url: `smtp://127.0.0.1:${port}?tls=off`,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface ReceivedMail {
  envelopeTo: string[];
  raw: string;
  parsed: ParsedMail;
}

export interface SmtpSink {
  url: string;
  port: number;
  messages: ReceivedMail[];
  /** Resolves once at least n messages have arrived. */
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  /** Makes the next RCPT/DATA answers fail with this SMTP code (e.g. 451 temporary, 550 permanent). */
  failWith(code: number | null, message?: string): void;
  close(): Promise<void>;
}

/** A real SMTP server in process; messages are parsed with mailparser as a mail client would. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  let failure: { code: number; message: string } | null = null;
  const waiters: Array<() => void> = [];
  const server = await listenSmtp({
    async onMessage(data, session, callback) {
      if (failure) {
        const err = Object.assign(new Error(failure.message), { responseCode: failure.code });
        return callback(err);
      }
      const raw = data.toString('utf8');
      messages.push({ envelopeTo: session.envelope.rcptTo.map((r) => r.address), raw, parsed: await simpleParser(raw) });
      waiters.splice(0).forEach((w) => w());
      return callback();
    },
  });
  return {
    url: server.url,
    port: server.port,
    messages,
    failWith(code, message = 'test failure') {
      failure = code === null ? null : { code, message };
    },
    async waitFor(n, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} messages, got ${messages.length}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
      return messages;
    },
    close: server.close,
  };
}
