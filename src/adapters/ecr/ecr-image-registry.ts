import { DescribeImagesCommand, type ECRClient } from '@aws-sdk/client-ecr';
import type { ImageFacts, ImageRegistry } from '../../core/ports.js';
import { RateLimitedError, ServiceError } from '../../core/ports.js';

/** ECR through the AWS SDK. Only a missing tag means "missing"; every other failure is reported as what it is. */
export class EcrImageRegistry implements ImageRegistry {
  constructor(private readonly client: ECRClient) {}

  async describe(repository: string, tag: string): Promise<ImageFacts | undefined> {
    try {
      const res = await this.client.send(new DescribeImagesCommand({ repositoryName: repository, imageIds: [{ imageTag: tag }] }));
      const image = res.imageDetails?.find((d) => d.imageTags?.includes(tag)) ?? res.imageDetails?.[0];
      if (!image?.imageDigest) return undefined;
      return { digest: image.imageDigest, pushedAt: image.imagePushedAt?.getTime() };
    } catch (err) {
      const name = (err as { name?: string }).name ?? '';
      if (name === 'ImageNotFoundException') return undefined;
      const message = (err as Error).message;
      if (name === 'RepositoryNotFoundException') {
        throw new ServiceError('ecr', `ECR repository "${repository}" does not exist (check image.ecrRepository in the config and AWS_REGION)`, { code: name, permanent: true, cause: err });
      }
      if (name === 'AccessDeniedException') {
        throw new ServiceError('ecr', `ECR denied access to "${repository}": ${message}. Fix: allow ecr:DescribeImages for the bot's AWS identity`, { code: name, permanent: true, cause: err });
      }
      if (name === 'CredentialsProviderError') {
        throw new ServiceError('ecr', `no AWS credentials found. Fix: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give the pod an IAM role (IRSA) allowed ecr:DescribeImages`, { code: name, permanent: true, cause: err });
      }
      if (name === 'ThrottlingException') throw new RateLimitedError('ecr', 1000, `ECR throttled the request: ${message}`);
      throw new ServiceError('ecr', `ECR did not answer properly (${name || 'network error'}): ${message}`, { code: name || 'request_error', cause: err });
    }
  }
}
