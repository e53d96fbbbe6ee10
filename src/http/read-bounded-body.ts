import type { IncomingMessage } from 'node:http';

/** A request whose body was read already: Bolt's HTTPReceiver and Octokit's middleware take `rawBody` instead of the stream. */
export type BufferedRequest = IncomingMessage & { rawBody: Buffer };

/** What reading a request body gave: the bytes, or why there are none. */
export type BoundedBody = { kind: 'body'; body: Buffer } | { kind: 'too-large'; limit: number } | { kind: 'aborted' };

/**
 * Reads a request body of at most `limit` bytes, before anything verifies it: a declared Content-Length over the limit
 * is refused without reading a byte, and a chunked body is counted as it streams and dropped the moment it passes the
 * limit (the stream is paused; the caller answers 413 and closes the connection). Memory use is bounded by `limit`.
 */
export function readBoundedBody(req: IncomingMessage, limit: number): Promise<BoundedBody> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.pause();
    return Promise.resolve({ kind: 'too-large', limit });
  }
  // Errors after we stopped listening (the client hanging up on a 413) are nobody's business but the socket's.
  req.on('error', () => undefined);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (result: BoundedBody) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      req.off('close', onAbort);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        req.pause();
        done({ kind: 'too-large', limit });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => done({ kind: 'body', body: Buffer.concat(chunks, size) });
    // A client that goes away mid-body leaves nothing to answer.
    const onAbort = () => done({ kind: 'aborted' });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAbort);
    req.on('close', onAbort);
  });
}
