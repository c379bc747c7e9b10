import type { Readable } from "node:stream";
import { type ArtifactStore, assertStorageKey, type ByteRange } from "./store";

export interface S3StoreOptions {
  bucket: string;
  /** An S3-compatible endpoint (MinIO, R2, ...); AWS itself when unset. */
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  /** Default: the usual AWS variables and files (AWS_ACCESS_KEY_ID, AWS_PROFILE, ...). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Keys are stored under this prefix (e.g. `testtrack/`). */
  prefix?: string;
  /** Bytes per multipart part (min 5 MB); larger files upload in parts, 4 at a time. */
  partSize?: number;
}

/**
 * Artifacts in an S3 bucket. Uploads go through lib-storage's `Upload`: a body larger than one
 * part becomes a multipart upload, aborted (nothing left behind) when the stream fails.
 * The AWS SDK is loaded here, not when the module is: it costs a server that stores artifacts on
 * local disk about 24 MB of resident memory for nothing.
 */
export async function createS3Store(options: S3StoreOptions): Promise<ArtifactStore> {
  const [{ DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, S3Client }, { Upload }] =
    await Promise.all([import("@aws-sdk/client-s3"), import("@aws-sdk/lib-storage")]);
  const client = new S3Client({
    region: options.region ?? "us-east-1",
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle,
    credentials: options.credentials,
    // Checksums only where S3 requires them: S3-compatible servers (MinIO, s3rver, older Ceph)
    // reject the CRC headers newer SDKs send by default on every part.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  const Bucket = options.bucket;
  const keyOf = (key: string) => {
    assertStorageKey(key);
    return `${options.prefix ?? ""}${key}`;
  };
  return {
    description: `S3 bucket ${Bucket}${options.endpoint ? ` at ${options.endpoint}` : ""}`,
    async put(key, body, contentType) {
      const upload = new Upload({
        client,
        params: { Bucket, Key: keyOf(key), Body: body, ContentType: contentType },
        partSize: options.partSize ?? 8 * 1024 * 1024,
        queueSize: 4,
        leavePartsOnError: false,
      });
      // A failing source stream must fail the upload (lib-storage would otherwise wait on it).
      const failed = new Promise<never>((_, reject) => body.once("error", reject));
      failed.catch(() => {});
      try {
        await Promise.race([upload.done(), failed]);
      } catch (error) {
        await upload.abort().catch(() => {});
        await client.send(new DeleteObjectCommand({ Bucket, Key: keyOf(key) })).catch(() => {});
        throw error;
      }
    },
    async get(key, range?: ByteRange) {
      const answer = await client.send(
        new GetObjectCommand({
          Bucket,
          Key: keyOf(key),
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      );
      return answer.Body as Readable;
    },
    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket, Key: keyOf(key) }));
    },
    async exists(key) {
      try {
        await client.send(new HeadObjectCommand({ Bucket, Key: keyOf(key) }));
        return true;
      } catch (error) {
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
        if (status?.httpStatusCode === 404) return false;
        throw error;
      }
    },
  };
}
