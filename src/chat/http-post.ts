/**
 * A streaming HTTP POST on Node's own `http`/`https`, for the token path of the Chat
 * Completions client: the body arrives as a Node stream of strings, where `fetch` would pass
 * every chunk through a web `ReadableStream` and its promise machinery (a few per cent of the
 * server's CPU per relayed token in the benchmark's profiles). Node's global agents keep
 * connections alive (idle ones for 5 s), as `fetch` does. 307 and 308 redirects are followed.
 */
import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { finished } from 'node:stream';

/** The most of an error answer's body that is read. */
const MAX_ERROR_BODY = 64 * 1024;

/** The answer's status and headers; its body as text chunks, read once. */
export interface StreamingResponse {
  status: number;
  ok: boolean;
  statusText: string;
  header(name: string): string | undefined;
  /**
   * Reads the body: `onText` gets each chunk as it arrives, in the socket's own 'data' event
   * (no promise per chunk, as an async iterator would make). Resolves at the end of the body;
   * rejects if it breaks off, or with what `onText` throws (the body is then dropped).
   */
  read(onText: (text: string) => void): Promise<void>;
  /** The whole body (for an error answer), up to 64 KiB. */
  text(): Promise<string>;
  /** Drops the body unread. */
  discard(): void;
}

interface PostInit {
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
}

/**
 * POSTs `body`; resolves once the status line and headers are in. Aborting `signal` closes it.
 * A 307 or 308 (the redirects that keep the method and body) is followed, up to three times;
 * the API key is not sent on to another origin. Other redirects come back as they are.
 */
export async function postForStream(
  url: string,
  init: PostInit,
  redirectsLeft = 3,
): Promise<StreamingResponse> {
  const response = await postOnce(url, init);
  const location = response.header('location');
  if ((response.status !== 307 && response.status !== 308) || !location || redirectsLeft === 0) {
    return response;
  }
  response.discard();
  const next = new URL(location, url);
  const headers = { ...init.headers };
  if (next.origin !== new URL(url).origin) delete headers.authorization;
  return postForStream(next.toString(), { ...init, headers }, redirectsLeft - 1);
}

function postOnce(url: string, { headers, body, signal }: PostInit): Promise<StreamingResponse> {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    let answered = false;
    const send = (retry: boolean): ClientRequest => {
      const request = client.request(
        target,
        {
          method: 'POST',
          signal,
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        },
        (response: IncomingMessage) => {
          answered = true;
          response.setEncoding('utf8');
          const status = response.statusCode ?? 0;
          resolve({
            status,
            ok: status >= 200 && status < 300,
            statusText: response.statusMessage ?? '',
            header(name) {
              const value = response.headers[name.toLowerCase()];
              return Array.isArray(value) ? value[0] : value;
            },
            read: (onText) =>
              new Promise((done, fail) => {
                let failed = false;
                response.on('data', (text: string) => {
                  if (failed) return;
                  try {
                    onText(text);
                  } catch (error) {
                    failed = true;
                    response.destroy();
                    fail(error);
                  }
                });
                finished(response, (error) => {
                  if (failed) return;
                  if (error) fail(error);
                  else done();
                });
              }),
            discard: () => response.destroy(),
            async text() {
              let text = '';
              for await (const chunk of response) {
                text += chunk as string;
                if (text.length >= MAX_ERROR_BODY) {
                  response.destroy();
                  break;
                }
              }
              return text;
            },
          });
        },
      );
      request.on('error', (error: NodeJS.ErrnoException) => {
        // A kept-alive connection the server closed just as it was reused: try a fresh one.
        const stale = error.code === 'ECONNRESET' || error.code === 'EPIPE';
        if (retry && !answered && request.reusedSocket && stale && !signal.aborted) send(false);
        else reject(error);
      });
      request.end(body);
      return request;
    };
    send(true);
  });
}
