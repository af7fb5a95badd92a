/**
 * Delivery channels against real local servers on 127.0.0.1: a node:http webhook receiver and an
 * smtp-server SMTP server. No mocks of fetch or nodemailer.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { createSmtpSender, createWebhookSender, verifyWebhookSignature } from '../delivery/channels';

const SECRET = 'test-secret';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

describe('webhook channel', () => {
  let server: Server | undefined;
  let received: Received[];

  /** Starts a receiver; `respond` gets the 1-based request number and decides the answer. */
  async function startReceiver(respond: (n: number, res: Parameters<RequestListener>[1]) => void) {
    received = [];
    const srv = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        respond(received.length, res);
      });
    });
    server = srv;
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(srv.address() as AddressInfo).port}/hook`;
  }

  afterEach(async () => {
    const srv = server;
    server = undefined;
    if (!srv) return;
    srv.closeAllConnections();
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  });

  it('retries a 500, then delivers a signed JSON body with a stable idempotency key', async () => {
    const url = await startReceiver((n, res) => {
      res.statusCode = n === 1 ? 500 : 200;
      res.end(n === 1 ? 'try later' : 'ok');
    });
    const send = createWebhookSender({ secret: SECRET, allowPrivate: true, minBackoffMs: 10 });
    const payload = { campaignId: 'c-1', recipient: 'ada@example.com', n: 1 };

    await expect(send(url, payload, 'key-123')).resolves.toEqual({ status: 'delivered', detail: 'HTTP 200' });

    expect(received).toHaveLength(2);
    for (const { headers, body } of received) {
      expect(headers['content-type']).toBe('application/json');
      expect(JSON.parse(body)).toEqual(payload);
      const timestamp = headers['x-campaign-timestamp'] as string;
      expect(timestamp).toMatch(/^\d+$/);
      expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(60);
      const signature = headers['x-campaign-signature'] as string;
      expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
      expect(verifyWebhookSignature(SECRET, timestamp, body, signature)).toBe(true);
    }
    expect(received[0].headers['idempotency-key']).toBe('key-123');
    expect(received[1].headers['idempotency-key']).toBe(received[0].headers['idempotency-key']);
  });

  it('fails permanently on a 4xx, after exactly one request', async () => {
    const url = await startReceiver((_n, res) => {
      res.statusCode = 400;
      res.end('bad address');
    });
    const send = createWebhookSender({ secret: SECRET, allowPrivate: true, minBackoffMs: 10 });

    await expect(send(url, { a: 1 }, 'key-400')).resolves.toEqual({
      status: 'failed',
      reason: 'HTTP 400 Bad Request',
    });
    expect(received).toHaveLength(1);
  });

  it('retries a 429 (rate limited) like a 5xx', async () => {
    const url = await startReceiver((n, res) => {
      res.statusCode = n === 1 ? 429 : 204;
      res.end();
    });
    const send = createWebhookSender({ secret: SECRET, allowPrivate: true, minBackoffMs: 10 });

    await expect(send(url, { a: 1 }, 'key-429')).resolves.toEqual({
      status: 'delivered',
      detail: 'HTTP 204',
    });
    expect(received).toHaveLength(2);
  });

  it('does not follow a redirect with the signed body', async () => {
    const url = await startReceiver((_n, res) => {
      res.writeHead(302, { location: '/elsewhere' });
      res.end('moved');
    });
    const send = createWebhookSender({ secret: SECRET, allowPrivate: true, minBackoffMs: 10 });

    await expect(send(url, { a: 1 }, 'key-302')).resolves.toEqual({
      status: 'failed',
      reason: 'HTTP 302 Found',
    });
    expect(received).toHaveLength(1);
  });

  it('keeps the status line of a refusal, never its body (message viewers read reasons)', async () => {
    const url = await startReceiver((_n, res) => {
      res.statusCode = 422;
      res.end(`secret-internal-detail ${'x'.repeat(100_000)}`);
    });
    const send = createWebhookSender({ secret: SECRET, allowPrivate: true, minBackoffMs: 10 });

    await expect(send(url, { a: 1 }, 'key-422')).resolves.toEqual({
      status: 'failed',
      reason: 'HTTP 422 Unprocessable Entity',
    });
  });

  it('refuses a non-public target when it connects, unless private targets are allowed', async () => {
    const url = await startReceiver((_n, res) => res.end('ok'));
    const guarded = createWebhookSender({ secret: SECRET, minBackoffMs: 10 });
    const byName = url.replace('127.0.0.1', 'localhost');

    await expect(guarded(url, { a: 1 }, 'key-ip')).resolves.toEqual({
      status: 'failed',
      reason: expect.stringMatching(/^refused: 127\.0\.0\.1 is not a public address/),
    });
    await expect(guarded(byName, { a: 1 }, 'key-name')).resolves.toEqual({
      status: 'failed',
      reason: expect.stringMatching(/^refused: .*localhost resolves to non-public address/),
    });
    await expect(guarded('http://[::1]:9/hook', { a: 1 }, 'key-v6')).resolves.toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/^refused: ::1 is not a public address/),
    });
    await expect(guarded('ftp://example.com/hook', { a: 1 }, 'key-ftp')).resolves.toMatchObject({
      status: 'failed',
    });
    expect(received).toHaveLength(0); // refused before any byte left

    const allowed = createWebhookSender({ secret: SECRET, allowPrivate: true, minBackoffMs: 10 });
    await expect(allowed(byName, { a: 1 }, 'key-ok')).resolves.toEqual({
      status: 'delivered',
      detail: 'HTTP 200',
    });
    expect(received).toHaveLength(1);
  });

  it('throws (retryable) with the status line when 5xx answers exhaust the attempts', async () => {
    const url = await startReceiver((_n, res) => {
      res.statusCode = 503;
      res.end('internal stack trace');
    });
    const send = createWebhookSender({ secret: SECRET, allowPrivate: true, attempts: 2, minBackoffMs: 10 });

    await expect(send(url, { a: 1 }, 'key-503')).rejects.toThrow(
      /failed after 2 attempt\(s\): HTTP 503 Service Unavailable$/,
    );
    expect(received).toHaveLength(2);
  });

  it('throws once the attempts are exhausted on a receiver that never answers', async () => {
    const url = await startReceiver(() => {
      /* never answers */
    });
    const send = createWebhookSender({
      secret: SECRET,
      allowPrivate: true,
      timeoutMs: 200,
      attempts: 2,
      minBackoffMs: 10,
    });

    await expect(send(url, { a: 1 }, 'key-hang')).rejects.toThrow(/failed after 2 attempt\(s\).*200 ms/);
    expect(received).toHaveLength(2);
  });

  it('throws (retryable) when nothing listens', async () => {
    const url = await startReceiver(() => undefined);
    const srv = server!;
    server = undefined;
    await new Promise<void>((resolve) => srv.close(() => resolve()));
    const send = createWebhookSender({ secret: SECRET, allowPrivate: true, attempts: 2, minBackoffMs: 10 });

    await expect(send(url, { a: 1 }, 'key-down')).rejects.toThrow(
      /failed after 2 attempt\(s\): request failed/,
    );
  });

  it('rejects a tampered body, a wrong secret, another timestamp and a malformed signature', () => {
    const timestamp = '1700000000';
    const body = JSON.stringify({ campaignId: 'c-1' });
    // Sign the way the sender does, through a receiver's eyes: the header value for (timestamp, body).
    const signature = `sha256=${createHmac('sha256', SECRET).update(`${timestamp}.${body}`).digest('hex')}`;

    expect(verifyWebhookSignature(SECRET, timestamp, body, signature)).toBe(true);
    expect(verifyWebhookSignature(SECRET, timestamp, body.replace('c-1', 'c-2'), signature)).toBe(false);
    expect(verifyWebhookSignature('wrong-secret', timestamp, body, signature)).toBe(false);
    expect(verifyWebhookSignature(SECRET, '1700000001', body, signature)).toBe(false);
    expect(verifyWebhookSignature(SECRET, timestamp, body, signature.slice(0, -1))).toBe(false);
    expect(verifyWebhookSignature(SECRET, timestamp, body, '')).toBe(false);
  });
});

describe('SMTP channel', () => {
  let server: SMTPServer | undefined;
  let sender: ReturnType<typeof createSmtpSender> | undefined;
  let messages: string[];

  async function startSmtpServer(options: SMTPServerOptions = {}): Promise<number> {
    messages = [];
    const srv = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, _session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          messages.push(Buffer.concat(chunks).toString('utf8'));
          callback();
        });
      },
      ...options,
    });
    server = srv;
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    return (srv.server.address() as AddressInfo).port;
  }

  afterEach(async () => {
    sender?.close();
    sender = undefined;
    const srv = server;
    server = undefined;
    if (srv) await new Promise<void>((resolve) => srv.close(() => resolve()));
  });

  it('delivers a message through the pooled transport', async () => {
    const port = await startSmtpServer();
    sender = createSmtpSender({ host: '127.0.0.1', port, allowInsecure: true });

    const result = await sender.send({
      from: 'news@shop.example',
      to: 'ada@example.com',
      subject: 'Hello Ada',
      text: 'Dear Ada',
    });

    expect(result).toEqual({ status: 'delivered', detail: expect.stringMatching(/^250\b/) });
    expect(messages).toHaveLength(1);
    const raw = messages[0];
    expect(raw).toContain('Subject: Hello Ada');
    expect(raw).toContain('Dear Ada');
    expect(raw).toMatch(/^To: ada@example\.com\r?$/m);
    expect(raw).toMatch(/^From: news@shop\.example\r?$/m);
  });

  it('fails permanently when the server rejects the recipient with a 5xx', async () => {
    const port = await startSmtpServer({
      onRcptTo(_address, _session, callback) {
        callback(Object.assign(new Error('No such user here'), { responseCode: 550 }));
      },
    });
    sender = createSmtpSender({ host: '127.0.0.1', port, allowInsecure: true });

    const result = await sender.send({
      from: 'news@shop.example',
      to: 'nobody@example.com',
      subject: 'Hello',
      text: 'Hi',
    });

    expect(result).toEqual({ status: 'failed', reason: expect.stringMatching(/^SMTP 550/) });
    expect(result.status === 'failed' && result.reason).toBe('SMTP 550: No such user here');
    expect(messages).toHaveLength(0);
  });

  it('throws (retryable) on a 4xx rejection', async () => {
    const port = await startSmtpServer({
      onRcptTo(_address, _session, callback) {
        callback(Object.assign(new Error('Mailbox busy, try later'), { responseCode: 450 }));
      },
    });
    sender = createSmtpSender({ host: '127.0.0.1', port, allowInsecure: true });

    await expect(
      sender.send({ from: 'news@shop.example', to: 'ada@example.com', subject: 'Hello', text: 'Hi' }),
    ).rejects.toMatchObject({ responseCode: 450 });
  });
});
