import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { HashConstructor } from '@smithy/types';
import { signRequest } from '../../../local/kinesis-video/sigv4';

/** node:crypto as the SDK's Hash interface. */
class Sha256 {
  private readonly h: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: string | Uint8Array) {
    this.h = secret ? createHmac('sha256', Buffer.from(secret as Uint8Array)) : createHash('sha256');
  }
  update(data: string | Uint8Array): void {
    this.h.update(typeof data === 'string' ? Buffer.from(data) : data);
  }
  async digest(): Promise<Uint8Array> {
    return this.h.digest();
  }
}

describe('signRequest', () => {
  it('produces the same Authorization header as the AWS SDK signer', async () => {
    // Given a PutMedia request with a session token
    const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'tok' };
    const date = new Date('2024-05-06T07:08:09Z');
    const headers = { 'x-amzn-stream-name': 'cam-1', 'x-amzn-fragment-timecode-type': 'RELATIVE', 'x-amzn-producer-start-timestamp': '1714979289.000' };
    // When it is signed here and by the AWS SDK's signer
    const ours = signRequest({ method: 'POST', url: 'http://127.0.0.1:4566/putMedia', headers, region: 'eu-west-1', service: 'kinesisvideo', credentials, date });

    const signer = new SignatureV4({ credentials, region: 'eu-west-1', service: 'kinesisvideo', sha256: Sha256 as unknown as HashConstructor });
    const theirs = await signer.sign(
      {
        method: 'POST',
        protocol: 'http:',
        hostname: '127.0.0.1',
        port: 4566,
        path: '/putMedia',
        query: {},
        headers: { ...headers, host: '127.0.0.1:4566', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
        body: undefined,
      },
      { signingDate: date },
    );
    // Then both Authorization headers are the same, and the token is sent
    expect(ours.authorization).toBe(theirs.headers.authorization);
    expect(ours['x-amz-security-token']).toBe('tok');
  });

  it('changes the signature when a signed header changes', () => {
    const base = { method: 'POST', url: 'http://h/putMedia', region: 'us-east-1', service: 'kinesisvideo', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, date: new Date(0) };
    const a = signRequest({ ...base, headers: { 'x-amzn-stream-name': 'a' } });
    const b = signRequest({ ...base, headers: { 'x-amzn-stream-name': 'b' } });
    expect(a.authorization).not.toBe(b.authorization);
  });
});
