import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback Amazon ECR API speaking AWS JSON 1.1 (`POST /`, `X-Amz-Target:
 * AmazonEC2ContainerRegistry_V20150921.<Op>`), enough for the real `ECRClient`: DescribeImages,
 * BatchGetImage and DescribeRepositories. Errors use ECR's shapes (HTTP 400 + `__type` for client errors,
 * 500 `ServerException`), so the SDK raises its own modeled exception classes.
 */

/** How the next calls fail. */
export type EcrFailureKind = 'AccessDenied' | 'Throttling' | 'ServerError' | 'Unreachable';

/** One request the emulator received. */
export interface EcrCall {
  /** Operation from `X-Amz-Target`, e.g. `DescribeImages` (empty when the header was missing). */
  op: string;
  /** Parsed JSON body, or the raw text when it was not JSON. */
  body: unknown;
  /** Whether an `Authorization` header was present (the SDK signs with SigV4). */
  authorization: boolean;
  /** Access key id from the SigV4 credential scope, when signed. */
  accessKeyId?: string;
  /** Region from the SigV4 credential scope, when signed. */
  region?: string;
  contentType: string | undefined;
  /** Status answered; 0 for a destroyed socket (`Unreachable`). */
  status: number;
  /** True for an unknown operation or a request that is not `POST /`. */
  unexpected: boolean;
}

/** An image as `DescribeImages` reports it. */
export interface EcrImage {
  registryId: string;
  repositoryName: string;
  imageDigest: string;
  imageTags: string[];
  imageSizeInBytes: number;
  imagePushedAt: Date;
  imageManifestMediaType: string;
}

/** Options of {@link startEcrEmulator}. */
export interface EcrEmulatorOptions {
  /** AWS account id of the registry (default `123456789012`). */
  registryId?: string;
  /** Region used in repository ARNs and URIs (default `us-east-1`). */
  region?: string;
}

/** A running ECR emulator. */
export interface EcrEmulator {
  /** `http://127.0.0.1:PORT`: the client's `endpoint` or `AWS_ENDPOINT_URL_ECR`. */
  readonly url: string;
  readonly registryId: string;
  /** Every request so far, oldest first (a copy). */
  readonly calls: readonly EcrCall[];
  addRepository(name: string): void;
  /**
   * Tag an image in a repository (created if needed) and return its digest. Without `digest` the digest is
   * derived from repository and tag, so the same call gives the same digest in every run. A tag already
   * on another image moves, as with ECR's mutable tags; a known digest gains the tag.
   */
  addImage(repository: string, tag: string, opts?: { digest?: string; pushedAt?: Date; sizeInBytes?: number }): string;
  /** Images of a repository as the emulator holds them. */
  images(repository: string): EcrImage[];
  /** Fail the next `count` calls (of operation `op` only, when given). */
  failNext(failure: { count: number; kind: EcrFailureKind; op?: string }): void;
  unexpectedCalls(): EcrCall[];
  close(): Promise<void>;
}

interface Reply {
  status: number;
  body: unknown;
  unexpected?: boolean;
}

interface StoredImage {
  digest: string;
  tags: string[];
  sizeInBytes: number;
  pushedAt: Date;
}

const TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921.';
const MANIFEST_MEDIA_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';

/** Starts the ECR emulator on 127.0.0.1, port picked by the OS. */
export async function startEcrEmulator(opts: EcrEmulatorOptions = {}): Promise<EcrEmulator> {
  const registryId = opts.registryId ?? '123456789012';
  const region = opts.region ?? 'us-east-1';
  const repositories = new Map<string, { createdAt: Date; images: StoredImage[] }>();
  const calls: EcrCall[] = [];
  const failures: Array<{ remaining: number; kind: EcrFailureKind; op?: string }> = [];

  const clientError = (type: string, message: string): Reply => ({ status: 400, body: { __type: type, message } });
  const repositoryNotFound = (name: string): Reply =>
    clientError('RepositoryNotFoundException', `The repository with name '${name}' does not exist in the registry with id '${registryId}'`);

  function ensureRepository(name: string): { createdAt: Date; images: StoredImage[] } {
    let repo = repositories.get(name);
    if (repo === undefined) {
      repo = { createdAt: new Date(), images: [] };
      repositories.set(name, repo);
    }
    return repo;
  }

  function imageJson(repositoryName: string, image: StoredImage): Record<string, unknown> {
    return {
      registryId,
      repositoryName,
      imageDigest: image.digest,
      ...(image.tags.length > 0 ? { imageTags: [...image.tags] } : {}),
      imageSizeInBytes: image.sizeInBytes,
      // AWS JSON sends timestamps as epoch seconds (fractional); the SDK turns them into Dates.
      imagePushedAt: image.pushedAt.getTime() / 1000,
      imageManifestMediaType: MANIFEST_MEDIA_TYPE,
      artifactMediaType: 'application/vnd.docker.container.image.v1+json',
    };
  }

  interface ImageId {
    imageTag?: string;
    imageDigest?: string;
  }

  function findImage(images: StoredImage[], id: ImageId): StoredImage | undefined {
    return images.find(
      (i) =>
        (id.imageTag === undefined || i.tags.includes(id.imageTag)) &&
        (id.imageDigest === undefined || i.digest === id.imageDigest) &&
        (id.imageTag !== undefined || id.imageDigest !== undefined),
    );
  }

  /** Common checks; returns the repository or an error reply. */
  function lookupRepository(body: Record<string, unknown>): { name: string; images: StoredImage[] } | Reply {
    const name = body.repositoryName;
    if (typeof name !== 'string' || name === '') {
      return clientError(
        'InvalidParameterException',
        "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy constraint: [Member must not be null]'",
      );
    }
    const repo = repositories.get(name);
    if (repo === undefined || (body.registryId !== undefined && body.registryId !== registryId)) return repositoryNotFound(name);
    return { name, images: repo.images };
  }

  function describeImages(body: Record<string, unknown>): Reply {
    const repo = lookupRepository(body);
    if ('status' in repo) return repo;
    if (Array.isArray(body.imageIds) && body.imageIds.length > 0) {
      const found: StoredImage[] = [];
      for (const id of body.imageIds as ImageId[]) {
        const image = findImage(repo.images, id);
        if (image === undefined) {
          return clientError(
            'ImageNotFoundException',
            `The image with imageId {imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'} does not exist within the repository with name '${repo.name}' in the registry with id '${registryId}'`,
          );
        }
        if (!found.includes(image)) found.push(image);
      }
      return { status: 200, body: { imageDetails: found.map((i) => imageJson(repo.name, i)) } };
    }
    const tagStatus = (body.filter as { tagStatus?: string } | undefined)?.tagStatus ?? 'ANY';
    const all = repo.images.filter(
      (i) => tagStatus === 'ANY' || (tagStatus === 'TAGGED' ? i.tags.length > 0 : i.tags.length === 0),
    );
    const start = typeof body.nextToken === 'string' ? Number(body.nextToken) : 0;
    const max = typeof body.maxResults === 'number' ? body.maxResults : 100;
    const slice = all.slice(start, start + max);
    return {
      status: 200,
      body: {
        imageDetails: slice.map((i) => imageJson(repo.name, i)),
        ...(start + max < all.length ? { nextToken: String(start + max) } : {}),
      },
    };
  }

  function batchGetImage(body: Record<string, unknown>): Reply {
    const repo = lookupRepository(body);
    if ('status' in repo) return repo;
    const images: unknown[] = [];
    const failures: unknown[] = [];
    for (const id of Array.isArray(body.imageIds) ? (body.imageIds as ImageId[]) : []) {
      const image = findImage(repo.images, id);
      if (image !== undefined) {
        images.push({
          registryId,
          repositoryName: repo.name,
          imageId: { imageDigest: image.digest, ...(id.imageTag !== undefined ? { imageTag: id.imageTag } : {}) },
          imageManifest: manifestFor(image),
          imageManifestMediaType: MANIFEST_MEDIA_TYPE,
        });
        continue;
      }
      const mismatch =
        id.imageTag !== undefined && id.imageDigest !== undefined && findImage(repo.images, { imageTag: id.imageTag }) !== undefined;
      failures.push({
        imageId: id,
        failureCode: mismatch ? 'ImageTagDoesNotMatchDigest' : 'ImageNotFound',
        failureReason: mismatch ? 'Invalid image digest for the given tag' : 'Requested image not found',
      });
    }
    return { status: 200, body: { images, failures } };
  }

  function describeRepositories(body: Record<string, unknown>): Reply {
    const names = Array.isArray(body.repositoryNames) ? (body.repositoryNames as string[]) : [...repositories.keys()];
    const out: unknown[] = [];
    for (const name of names) {
      const repo = repositories.get(name);
      if (repo === undefined) return repositoryNotFound(name);
      out.push({
        repositoryArn: `arn:aws:ecr:${region}:${registryId}:repository/${name}`,
        registryId,
        repositoryName: name,
        repositoryUri: `${registryId}.dkr.ecr.${region}.amazonaws.com/${name}`,
        createdAt: repo.createdAt.getTime() / 1000,
        imageTagMutability: 'MUTABLE',
        imageScanningConfiguration: { scanOnPush: false },
        encryptionConfiguration: { encryptionType: 'AES256' },
      });
    }
    return { status: 200, body: { repositories: out } };
  }

  function failureReply(kind: Exclude<EcrFailureKind, 'Unreachable'>, op: string, body: Record<string, unknown>): Reply {
    if (kind === 'Throttling') return clientError('ThrottlingException', 'Rate exceeded');
    if (kind === 'ServerError') {
      return { status: 500, body: { __type: 'ServerException', message: 'Internal Server Error (simulated)' } };
    }
    const repo = typeof body.repositoryName === 'string' ? body.repositoryName : '*';
    return clientError(
      'AccessDeniedException',
      `User: arn:aws:iam::${registryId}:user/rollout-chatops is not authorized to perform: ecr:${op} on resource: arn:aws:ecr:${region}:${registryId}:repository/${repo} because no identity-based policy allows the ecr:${op} action`,
    );
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const target = req.headers['x-amz-target'];
    const op = typeof target === 'string' && target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
    const authorization = req.headers.authorization;
    const scope = /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\//.exec(authorization ?? '');
    let body: unknown = raw;
    try {
      body = raw === '' ? {} : JSON.parse(raw);
    } catch {
      // Keep the raw text in the record; the operation handlers see an empty object.
    }
    const call: EcrCall = {
      op,
      body,
      authorization: authorization !== undefined,
      ...(scope?.[1] !== undefined ? { accessKeyId: scope[1] } : {}),
      ...(scope?.[2] !== undefined ? { region: scope[2] } : {}),
      contentType: req.headers['content-type'],
      status: 0,
      unexpected: false,
    };
    calls.push(call);
    const input = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};

    const failure = failures.find((f) => f.remaining > 0 && (f.op === undefined || f.op === op));
    if (failure !== undefined) failure.remaining -= 1;
    if (failure?.kind === 'Unreachable') {
      // What a dropped connection looks like to the SDK: no response at all.
      req.socket.destroy();
      return;
    }
    let reply: Reply;
    if (failure !== undefined) reply = failureReply(failure.kind, op, input);
    else if (req.method !== 'POST' || (req.url ?? '/').split('?')[0] !== '/') {
      reply = { status: 404, body: { __type: 'UnknownOperationException' }, unexpected: true };
    } else if (op === 'DescribeImages') reply = describeImages(input);
    else if (op === 'BatchGetImage') reply = batchGetImage(input);
    else if (op === 'DescribeRepositories') reply = describeRepositories(input);
    else reply = { status: 400, body: { __type: 'UnknownOperationException' }, unexpected: true };

    call.status = reply.status;
    call.unexpected = reply.unexpected === true;
    res
      .writeHead(reply.status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() })
      .end(JSON.stringify(reply.body));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ __type: 'ServerException', message: `emulator bug: ${String(err)}` }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    registryId,
    get calls() {
      return [...calls];
    },
    addRepository(name) {
      ensureRepository(name);
    },
    addImage(repository, tag, imageOpts = {}) {
      const repo = ensureRepository(repository);
      const digest = imageOpts.digest ?? `sha256:${createHash('sha256').update(`${repository}:${tag}`).digest('hex')}`;
      if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new Error(`digest must be sha256:<64 hex>, got "${digest}"`);
      for (const image of repo.images) image.tags = image.tags.filter((t) => t !== tag);
      const existing = repo.images.find((i) => i.digest === digest);
      if (existing !== undefined) {
        existing.tags.push(tag);
        if (imageOpts.pushedAt !== undefined) existing.pushedAt = imageOpts.pushedAt;
        return digest;
      }
      repo.images.push({
        digest,
        tags: [tag],
        // A plausible size that differs per image, so tests can tell images apart by it too.
        sizeInBytes: imageOpts.sizeInBytes ?? 40_000_000 + (parseInt(digest.slice(7, 13), 16) % 10_000_000),
        pushedAt: imageOpts.pushedAt ?? new Date(),
      });
      return digest;
    },
    images(repository) {
      return (repositories.get(repository)?.images ?? []).map((i) => ({
        registryId,
        repositoryName: repository,
        imageDigest: i.digest,
        imageTags: [...i.tags],
        imageSizeInBytes: i.sizeInBytes,
        imagePushedAt: i.pushedAt,
        imageManifestMediaType: MANIFEST_MEDIA_TYPE,
      }));
    },
    failNext({ count, kind, op }) {
      failures.push({ remaining: count, kind, ...(op !== undefined ? { op } : {}) });
    },
    unexpectedCalls() {
      return calls.filter((c) => c.unexpected);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function manifestFor(image: StoredImage): string {
  const layer = createHash('sha256').update(`layer:${image.digest}`).digest('hex');
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: MANIFEST_MEDIA_TYPE,
    config: {
      mediaType: 'application/vnd.docker.container.image.v1+json',
      size: 1470,
      digest: `sha256:${createHash('sha256').update(`config:${image.digest}`).digest('hex')}`,
    },
    layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: image.sizeInBytes, digest: `sha256:${layer}` }],
  });
}
