/**
 * A streaming HTTP POST on Node's own `http`/`https`, for the token path of the Chat
 * Completions client: the body arrives as a Node stream of strings, where `fetch` would pass
 * every chunk through a web `ReadableStream` and its promise machinery (a few per cent of the
 * server's CPU per relayed token in the benchmark's profiles). Connections are kept alive and
 * reused, as `fetch` does.
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';

const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

/** The answer's status and headers; its body as text chunks, read once. */
export interface StreamingResponse {
  status: number;
  ok: boolean;
  statusText: string;
  header(name: string): string | undefined;
  body: AsyncIterable<string>;
  /** The whole body (for an error answer). */
  text(): Promise<string>;
}

/** POSTs `body`; resolves once the status line and headers are in. Aborting `signal` closes it. */
export function postForStream(
  url: string,
  { headers, body, signal }: { headers: Record<string, string>; body: string; signal: AbortSignal },
): Promise<StreamingResponse> {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  const agent = target.protocol === 'https:' ? agents['https:'] : agents['http:'];
  return new Promise((resolve, reject) => {
    const request = client.request(
      target,
      {
        method: 'POST',
        agent,
        signal,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      },
      (response: IncomingMessage) => {
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
          body: response,
          async text() {
            let text = '';
            for await (const chunk of response) text += chunk as string;
            return text;
          },
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}
