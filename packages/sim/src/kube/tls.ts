/**
 * A per-stack certificate authority and a server certificate for 127.0.0.1/localhost, generated at run
 * time with the `openssl` CLI (node:crypto cannot issue X.509 certificates). Without openssl the
 * Kubernetes API simulator falls back to plain HTTP (see the README's fidelity notes).
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TlsMaterial {
  caPem: string
  certPem: string
  keyPem: string
}

function run(dir: string, args: string[]): boolean {
  const r = spawnSync('openssl', args, { cwd: dir, stdio: 'ignore', timeout: 20000 })
  return r.status === 0
}

/** Generates an EC P-256 CA and a server certificate (SAN 127.0.0.1, ::1, localhost), or undefined. */
export function generateTls(commonName = 'kubernetes'): TlsMaterial | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'shipline-sim-kube-tls-'))
  try {
    writeFileSync(
      join(dir, 'ext.cnf'),
      [
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth',
        'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc'
      ].join('\n')
    )
    const ok =
      run(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key']) &&
      run(dir, [
        'req',
        '-x509',
        '-new',
        '-key',
        'ca.key',
        '-sha256',
        '-days',
        '3650',
        '-subj',
        `/CN=${commonName}-ca`,
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
        '-out',
        'ca.crt'
      ]) &&
      run(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'server.key']) &&
      run(dir, [
        'req',
        '-new',
        '-key',
        'server.key',
        '-subj',
        `/CN=kube-apiserver`,
        '-out',
        'server.csr'
      ]) &&
      run(dir, [
        'x509',
        '-req',
        '-in',
        'server.csr',
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-days',
        '3650',
        '-sha256',
        '-extfile',
        'ext.cnf',
        '-out',
        'server.crt'
      ])
    if (!ok) return undefined
    return {
      caPem: readFileSync(join(dir, 'ca.crt'), 'utf8'),
      certPem: readFileSync(join(dir, 'server.crt'), 'utf8'),
      keyPem: readFileSync(join(dir, 'server.key'), 'utf8')
    }
  } catch {
    return undefined
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
