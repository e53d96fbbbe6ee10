import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  ECRServiceException,
  ImageNotFoundException,
  RepositoryNotFoundException,
  ServerException,
} from '@aws-sdk/client-ecr';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEcrEmulator, type EcrEmulator } from '../../emulators/ecr-emulator.js';

// The SDK warns once per process on Node 20; the warning is about future releases, not about this test.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

describe('ECR emulator with the real ECRClient', () => {
  let ecr: EcrEmulator;
  let client: ECRClient;

  beforeEach(async () => {
    ecr = await startEcrEmulator();
    client = new ECRClient({
      region: 'us-east-1',
      endpoint: ecr.url,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      maxAttempts: 1,
    });
  });

  afterEach(async () => {
    client.destroy();
    await ecr.close();
  });

  const describeTag = (repositoryName: string, imageTag: string) =>
    client.send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageTag }] }));

  /** Runs `fn` and returns what it threw (fails the test if it did not throw). */
  async function thrown(fn: () => Promise<unknown>): Promise<unknown> {
    try {
      await fn();
    } catch (err) {
      return err;
    }
    throw new Error('expected a rejection');
  }

  it('returns the digest, tags and push time of a tag that exists', async () => {
    const pushedAt = new Date('2026-01-29T12:56:07.000Z');
    const digest = ecr.addImage('voting01-vote', 'ea11a24-20260129125607', { pushedAt });

    const out = await describeTag('voting01-vote', 'ea11a24-20260129125607');

    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(out.imageDetails).toHaveLength(1);
    expect(out.imageDetails?.[0]).toMatchObject({
      registryId: '123456789012',
      repositoryName: 'voting01-vote',
      imageDigest: digest,
      imageTags: ['ea11a24-20260129125607'],
    });
    expect(out.imageDetails?.[0]?.imagePushedAt).toEqual(pushedAt);
    expect(out.imageDetails?.[0]?.imageSizeInBytes).toBeGreaterThan(0);
  });

  it('derives the same digest from repository and tag every time', async () => {
    const other = await startEcrEmulator();
    try {
      expect(ecr.addImage('voting01-vote', 'v1')).toBe(other.addImage('voting01-vote', 'v1'));
      expect(ecr.addImage('voting01-vote', 'v2')).not.toBe(ecr.addImage('voting01-vote', 'v3'));
    } finally {
      await other.close();
    }
  });

  it('finds an image by digest and lists all its tags', async () => {
    const digest = ecr.addImage('voting01-vote', 'ea11a24');
    ecr.addImage('voting01-vote', 'qa-current', { digest });

    const out = await client.send(new DescribeImagesCommand({ repositoryName: 'voting01-vote', imageIds: [{ imageDigest: digest }] }));

    expect(out.imageDetails?.[0]?.imageTags).toEqual(['ea11a24', 'qa-current']);
  });

  it('throws ImageNotFoundException for a tag that is not in the repository', async () => {
    ecr.addImage('voting01-vote', 'v1');

    const err = await thrown(() => describeTag('voting01-vote', 'nope'));

    expect(err).toBeInstanceOf(ImageNotFoundException);
    expect((err as ImageNotFoundException).$metadata.httpStatusCode).toBe(400);
    expect((err as ImageNotFoundException).message).toBe(
      "The image with imageId {imageDigest:'null', imageTag:'nope'} does not exist within the repository with name 'voting01-vote' in the registry with id '123456789012'",
    );
  });

  it('throws RepositoryNotFoundException for a repository that does not exist', async () => {
    const err = await thrown(() => describeTag('no-such-repo', 'v1'));

    expect(err).toBeInstanceOf(RepositoryNotFoundException);
    expect(err).not.toBeInstanceOf(ImageNotFoundException);
  });

  it('surfaces a simulated AccessDeniedException as a service error that is not ImageNotFoundException', async () => {
    ecr.addImage('voting01-vote', 'v1');
    ecr.failNext({ count: 1, kind: 'AccessDenied' });

    const err = await thrown(() => describeTag('voting01-vote', 'v1'));

    expect(err).toBeInstanceOf(ECRServiceException);
    expect(err).not.toBeInstanceOf(ImageNotFoundException);
    expect(err).toMatchObject({ name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
  });

  it('surfaces a simulated throttling error as a service error that is not ImageNotFoundException', async () => {
    ecr.addImage('voting01-vote', 'v1');
    ecr.failNext({ count: 1, kind: 'Throttling' });

    const err = await thrown(() => describeTag('voting01-vote', 'v1'));

    expect(err).toBeInstanceOf(ECRServiceException);
    expect(err).not.toBeInstanceOf(ImageNotFoundException);
    expect(err).toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
  });

  it('surfaces a simulated 500 as ServerException', async () => {
    ecr.addImage('voting01-vote', 'v1');
    ecr.failNext({ count: 1, kind: 'ServerError' });

    const err = await thrown(() => describeTag('voting01-vote', 'v1'));

    expect(err).toBeInstanceOf(ServerException);
    expect(err).not.toBeInstanceOf(ImageNotFoundException);
    expect(err).toMatchObject({ $fault: 'server', $metadata: { httpStatusCode: 500 } });
  });

  it('surfaces a dropped connection as an error that is not a service exception', async () => {
    ecr.addImage('voting01-vote', 'v1');
    ecr.failNext({ count: 1, kind: 'Unreachable' });

    const err = await thrown(() => describeTag('voting01-vote', 'v1'));

    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(ECRServiceException);
    expect(ecr.calls.at(-1)?.status).toBe(0);
  });

  it('answers normally again once the simulated failures are used up', async () => {
    ecr.addImage('voting01-vote', 'v1');
    ecr.failNext({ count: 1, kind: 'ServerError' });
    await thrown(() => describeTag('voting01-vote', 'v1'));

    const out = await describeTag('voting01-vote', 'v1');

    expect(out.imageDetails).toHaveLength(1);
  });

  it('records the operation, the body and the SigV4 scope of every call', async () => {
    ecr.addImage('voting01-vote', 'v1');

    await describeTag('voting01-vote', 'v1');

    expect(ecr.calls).toEqual([
      expect.objectContaining({
        op: 'DescribeImages',
        body: { repositoryName: 'voting01-vote', imageIds: [{ imageTag: 'v1' }] },
        authorization: true,
        accessKeyId: 'x',
        region: 'us-east-1',
        contentType: 'application/x-amz-json-1.1',
        status: 200,
      }),
    ]);
    expect(ecr.unexpectedCalls()).toEqual([]);
  });

  it('reports missing images of BatchGetImage as failures instead of throwing', async () => {
    const digest = ecr.addImage('voting01-vote', 'v1');

    const out = await client.send(
      new BatchGetImageCommand({ repositoryName: 'voting01-vote', imageIds: [{ imageTag: 'v1' }, { imageTag: 'gone' }] }),
    );

    expect(out.images?.map((i) => i.imageId)).toEqual([{ imageDigest: digest, imageTag: 'v1' }]);
    expect(out.failures).toEqual([
      { imageId: { imageTag: 'gone' }, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' },
    ]);
  });

  it('describes registered repositories', async () => {
    ecr.addRepository('voting01-vote');

    const out = await client.send(new DescribeRepositoriesCommand({ repositoryNames: ['voting01-vote'] }));

    expect(out.repositories?.[0]).toMatchObject({
      repositoryName: 'voting01-vote',
      repositoryUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/voting01-vote',
    });
  });

  it('reads its endpoint from AWS_ENDPOINT_URL_ECR like the bot does', async () => {
    ecr.addImage('voting01-vote', 'v1');
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_ECR: ecr.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'y',
    });
    const fromEnv = new ECRClient({ maxAttempts: 1 });
    try {
      const out = await fromEnv.send(new DescribeImagesCommand({ repositoryName: 'voting01-vote', imageIds: [{ imageTag: 'v1' }] }));
      expect(out.imageDetails).toHaveLength(1);
    } finally {
      fromEnv.destroy();
      for (const key of ['AWS_ENDPOINT_URL_ECR', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  });

  it('counts an unknown operation as unexpected', async () => {
    await fetch(ecr.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.PutImage' },
      body: '{}',
    });

    expect(ecr.unexpectedCalls()).toEqual([expect.objectContaining({ op: 'PutImage', status: 400 })]);
  });
});
