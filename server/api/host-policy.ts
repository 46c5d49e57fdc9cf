import { isIP } from 'node:net';
import os from 'node:os';

export interface HostPolicyOptions {
  /** `http.allowedHosts`: extra names; `*` allows any, `*.example.org` a whole domain. */
  allowedHosts: readonly string[];
  /** The address or name the server listens on (`host`); a wildcard adds nothing. */
  bindHost: string;
  /** This machine's names; tests pass their own. */
  machineNames?: readonly string[];
}

/** `Host` or `Origin` authority → the bare lower-case name: no port, no brackets, no trailing dot. */
export function hostName(authority: string): string {
  let host = authority.trim().toLowerCase();
  if (host.startsWith('[')) host = host.slice(1, host.indexOf(']') > 0 ? host.indexOf(']') : undefined);
  else if (host.split(':').length === 2) host = host.slice(0, host.indexOf(':'));
  return host.replace(/%.*$/, '').replace(/\.$/, '');
}

function defaultMachineNames(): string[] {
  const name = os.hostname().toLowerCase();
  const short = name.split('.')[0]!;
  return [name, short, `${short}.local`];
}

/**
 * Which `Host` and `Origin` values the API answers (DNS rebinding and CSRF protection).
 *
 * A page on another site can make a browser on this machine (or the venue's network) send
 * requests here: with DNS rebinding its own name points at this server, so the request carries
 * the attacker's name in `Host`. So only names this server is known by are answered: loopback
 * (`localhost`, `*.localhost`), this machine's host names (and `<name>.local` for mDNS), the
 * name it listens on, and `http.allowedHosts`. Any IP address literal is accepted too: a browser
 * only sends one when it was pointed at that address itself, which rebinding cannot do, and a
 * server behind NAT or in a container is reached at addresses it does not have. A cross-origin
 * `Origin` must name loopback, this machine (by name or by one of its own addresses) or an
 * allowed host.
 */
export function createHostPolicy(options: HostPolicyOptions) {
  const names = new Set<string>(['localhost', ...(options.machineNames ?? defaultMachineNames())]);
  const suffixes: string[] = ['.localhost'];
  let any = false;
  const bind = hostName(options.bindHost);
  if (bind !== '' && bind !== '0.0.0.0' && bind !== '::') names.add(bind);
  for (const entry of options.allowedHosts) {
    const e = entry.trim().toLowerCase().replace(/\.$/, '');
    if (e === '*') any = true;
    else if (e.startsWith('*.')) suffixes.push(e.slice(1));
    else if (e.startsWith('.')) suffixes.push(e);
    else if (e !== '') names.add(hostName(e));
  }

  /** Loopback and this machine's own addresses, read afresh each time (DHCP, Wi-Fi changes). */
  const ownAddress = (name: string) =>
    /^127\./.test(name) ||
    name === '::1' ||
    Object.values(os.networkInterfaces()).some((list) => list?.some((i) => i.address.toLowerCase().replace(/%.*$/, '') === name));
  const known = (name: string) =>
    names.has(name) || suffixes.some((s) => name.endsWith(s)) || (isIP(name) !== 0 && ownAddress(name.replace(/^::ffff:/, '')));

  return {
    /** An absent `Host` (HTTP/1.0 health checks) is allowed: no browser sends a request without one. */
    hostAllowed(host: string | undefined): boolean {
      if (any || host === undefined || host === '') return true;
      const name = hostName(host);
      return isIP(name) !== 0 || known(name);
    },
    /**
     * An absent `Origin` is allowed (curl, the CLI, OSC bridges: not a browser acting for another
     * site). Otherwise the page must be served from this server (same origin), or from an
     * allowed host (the Vite dev server on another port). `null` (sandboxed frames, file:) is not.
     */
    originAllowed(origin: string | undefined, host: string | undefined): boolean {
      if (origin === undefined || origin === '') return true;
      let url: URL;
      try {
        url = new URL(origin);
      } catch {
        return false;
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
      if (host !== undefined && url.host === host.trim().toLowerCase() && this.hostAllowed(host)) return true;
      // Not any IP literal here: a page at http://<some address>/ is another site.
      return known(hostName(url.host));
    },
  };
}

export type HostPolicy = ReturnType<typeof createHostPolicy>;
