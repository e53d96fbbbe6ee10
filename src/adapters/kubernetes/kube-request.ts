import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node/dist/config.js';

/** An answer of the API server outside 2xx: `code` is the HTTP status and `body` the raw body, as client-node's ApiException has them. */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  constructor(
    readonly code: number,
    readonly body: string,
  ) {
    super(`HTTP-Code: ${code}\nBody: ${body}`);
  }
}

export interface KubeRequest {
  method: 'GET' | 'PATCH';
  /** The API path, e.g. `/apis/argoproj.io/v1alpha1/namespaces/apps/rollouts/web`. */
  path: string;
  /** Sent as JSON. */
  body?: unknown;
  contentType?: string;
}

/**
 * One request to the current cluster of `kubeConfig`, resolving to the parsed JSON of a 2xx answer. The connection is
 * set up by client-node (`applyToHTTPSOptions`, as its Watch and exec/attach use it): the user's authenticator (exec
 * plugin, OIDC, token file of the in-cluster ServiceAccount), bearer or basic credentials, client certificate, CA,
 * skip-TLS-verify and TLS server name, and the proxy agent. What this replaces is the generated API's request
 * building, whose import alone costs some 40 MB (client-node-hooks.ts).
 */
export async function kubeRequest(kubeConfig: KubeConfig, req: KubeRequest): Promise<unknown> {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('No active cluster!');
  const url = new URL(cluster.server + req.path);
  const options: https.RequestOptions = { method: req.method, headers: {} };
  await kubeConfig.applyToHTTPSOptions(options);
  const payload = req.body === undefined ? undefined : JSON.stringify(req.body);
  // applyToHTTPSOptions keeps the object given it (never the array form).
  const headers: http.OutgoingHttpHeaders = { ...(options.headers as http.OutgoingHttpHeaders), Accept: 'application/json' };
  if (payload !== undefined) {
    headers['Content-Type'] = req.contentType ?? 'application/json';
    headers['Content-Length'] = Buffer.byteLength(payload);
  }
  const send = url.protocol === 'http:' ? http.request : https.request;
  return new Promise((resolve, reject) => {
    const request = send(url, { ...options, method: req.method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299) return reject(new KubeApiError(status, text));
        try {
          resolve(text ? JSON.parse(text) : undefined);
        } catch (err) {
          reject(err);
        }
      });
    });
    request.on('error', reject);
    request.end(payload);
  });
}
