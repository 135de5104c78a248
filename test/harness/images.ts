import { randomBytes } from 'node:crypto';

/**
 * Image data a test can upload as qcow2: a real qcow2 header (version 3, the virtual size at
 * offset 24, as qemu writes it) followed by `payloadBytes` random bytes, enough for the server
 * to read the virtual size and for hashes to mean something.
 */
export function qcow2Image(virtualSize: bigint, payloadBytes: number): Buffer {
  const header = Buffer.alloc(512);
  header.write('QFI\xfb', 0, 'latin1');
  header.writeUInt32BE(3, 4);
  header.writeBigUInt64BE(virtualSize, 24);
  return Buffer.concat([header, randomBytes(payloadBytes)]);
}
