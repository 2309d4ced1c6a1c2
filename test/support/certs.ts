import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCerts {
  /** The private CA's certificate: what a client must trust. */
  ca: string;
  /** A server certificate for localhost and 127.0.0.1 signed by that CA, and its key. */
  cert: string;
  key: string;
  /** A file that is not a certificate. */
  notACert: string;
  remove(): void;
}

/** A private CA and a server certificate signed by it, made with openssl in a fresh temp folder. */
export function makeCerts(prefix: string): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=branch-hub test CA');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.ext');
  return { ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key'), notACert: join(dir, 'san.ext'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
