import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { EaselError } from '../errors.js';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** True when the host is only reachable from this machine. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** True for a peer address on this machine, as uWS writes it (IPv4, or IPv6 such as ::1 and ::ffff:127.0.0.1). */
export function isLoopbackAddress(address: string): boolean {
  const a = address.replace(/^::ffff:/i, '').replace(/^0000:0000:0000:0000:0000:ffff:/i, '');
  return /^127\./.test(a) || a === '::1' || a === '0000:0000:0000:0000:0000:0000:0000:0001';
}

/** A token an operator can copy: 32 random bytes, URL-safe. */
export function makeToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The operator token in force (docs/api.md "Tokens"): with none set and a host reachable from other
 * machines, Easel makes one (`generated`, to print once); on loopback none is needed.
 */
export function operatorTokenFor(configured: string, host: string): { token: string | undefined; generated: boolean } {
  const generated = !configured && !isLoopbackHost(host);
  return { token: configured || (generated ? makeToken() : undefined), generated };
}

/**
 * Checks `Authorization: Bearer <token>` in constant time (both sides hashed to equal length
 * first, so neither length nor content leaks through timing). No token configured: open.
 */
export function checkBearer(header: string, token: string | undefined): void {
  if (!token) return;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) {
    throw new EaselError('EASEL_ERR_AUTH_REQUIRED', 'This route needs the operator token', {
      hint: 'Send the header "Authorization: Bearer <token>"; the token is EASEL_OPERATOR_TOKEN, or the one printed at start',
    });
  }
  if (!timingSafeEqual(digest(match[1]!), digest(token))) {
    throw new EaselError('EASEL_ERR_AUTH_INVALID', 'The operator token is not right', {
      hint: 'Use the token from EASEL_OPERATOR_TOKEN (or the one printed at start)',
    });
  }
}

/** Constant-time equality of a presented token and a configured one (both hashed first). */
export function sameToken(presented: string, token: string): boolean {
  return timingSafeEqual(digest(presented), digest(token));
}

/** The token of an `Authorization: Bearer <token>` header, or undefined when there is none. */
export function bearerOf(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match ? match[1] : undefined;
}

/** A short fingerprint of a token, to tell guesses apart without keeping any token in memory. */
export function tokenFingerprint(token: string): string {
  return digest(token).toString('base64url').slice(0, 16);
}

/** Key for rate limiting by token without keeping the token itself in memory. */
export function tokenKey(header: string): string | undefined {
  const match = /^Bearer\s+(\S+)/i.exec(header);
  return match ? `t:${digest(match[1]!).toString('base64url').slice(0, 16)}` : undefined;
}
