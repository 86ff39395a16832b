/** Where uploaded workflow archives live. `scheme` names the real store in workflow URIs (`db://workflow/...`). */
export abstract class BlobStore {
  abstract readonly scheme: string;
  abstract put(key: string, bytes: Buffer): Promise<void>;
  /** null when there is no such blob. */
  abstract get(key: string): Promise<Buffer | null>;
  abstract delete(key: string): Promise<void>;
}
