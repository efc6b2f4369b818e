import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, test } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { COALESCE_MAX_BYTES, coalescedSend } from './coalesced-send.ts';

/** A real WebSocket pair over TCP; the server side's socket counts the writes it makes. */
async function socketPair() {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const accepted = once(server, 'connection') as Promise<[WebSocket, { socket: Duplex }]>;
  const client = new WebSocket(`ws://127.0.0.1:${port}`);
  const received: string[] = [];
  client.on('message', (data) => received.push(String(data)));
  await once(client, 'open');
  const [serverSide, request] = await accepted;
  const raw = request.socket;
  const writes = { count: 0 };
  // What Writable hands to the operating system: one call per write.
  for (const method of ['_write', '_writev'] as const) {
    const original = (raw as unknown as Record<string, (...args: unknown[]) => unknown>)[method]!;
    (raw as unknown as Record<string, unknown>)[method] = function (
      this: Duplex,
      ...args: unknown[]
    ) {
      writes.count += 1;
      return original.apply(this, args);
    };
  }
  return {
    serverSide,
    raw,
    writes,
    received,
    async close() {
      client.terminate();
      serverSide.terminate();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('coalescedSend', () => {
  let pair: Awaited<ReturnType<typeof socketPair>> | undefined;
  afterEach(async () => {
    await pair?.close();
    pair = undefined;
  });

  test('frames sent in one go leave in one write, in order', async () => {
    pair = await socketPair();
    const { serverSide, raw, writes, received } = pair;
    const send = coalescedSend(raw, (frame) => serverSide.send(frame));
    for (let index = 1; index <= 10; index += 1) send(`frame ${index}`);
    await expect.poll(() => received.length).toBe(10);
    expect(received).toStrictEqual(Array.from({ length: 10 }, (_, index) => `frame ${index + 1}`));
    expect(writes.count).toBe(1);

    // Sent uncoalesced, the same ten frames take ten writes.
    for (let index = 1; index <= 10; index += 1) serverSide.send(`plain ${index}`);
    await expect.poll(() => received.length).toBe(20);
    expect(writes.count).toBe(11);
  });

  test('a frame sent later leaves at once, in a write of its own', async () => {
    pair = await socketPair();
    const { serverSide, raw, writes, received } = pair;
    const send = coalescedSend(raw, (frame) => serverSide.send(frame));
    send('first');
    await expect.poll(() => received).toStrictEqual(['first']);
    await new Promise((resolve) => setImmediate(resolve));
    send('second');
    await expect.poll(() => received).toStrictEqual(['first', 'second']);
    expect(writes.count).toBe(2);
  });

  test('a large burst leaves in pieces, so what is held back never looks like a slow client', async () => {
    pair = await socketPair();
    const { serverSide, raw, writes, received } = pair;
    const send = coalescedSend(raw, (frame) => serverSide.send(frame));
    const frame = 'y'.repeat(1_000);
    let mostHeld = 0;
    for (let index = 0; index < 100; index += 1) {
      send(frame);
      mostHeld = Math.max(mostHeld, serverSide.bufferedAmount);
    }
    await expect.poll(() => received.length).toBe(100);
    // 100 kB in writes of about 16 KiB: a handful of writes, never 100 kB held at once.
    expect(mostHeld).toBeLessThan(COALESCE_MAX_BYTES + 1_100);
    expect(writes.count).toBeGreaterThanOrEqual(6);
    expect(writes.count).toBeLessThanOrEqual(8);
  });
});
