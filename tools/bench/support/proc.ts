/**
 * What a process costs, read from Linux /proc: CPU seconds, resident memory now and at its peak,
 * and the open-file limit it runs under. Benchmarks read the server from outside, so the
 * figures include everything the process does (libvips threads, uWS, GC), not just JS.
 */
import { readFileSync } from 'node:fs';

/** USER_HZ: /proc/<pid>/stat counts CPU time in these ticks on every Linux we run on. */
const TICKS_PER_SECOND = 100;

export interface ProcStat {
  /** User + system CPU time since the process started, seconds. */
  cpuSeconds: number;
  /** Resident set size now, MB (MiB). */
  rssMb: number;
  /** Peak resident set size since the process started (VmHWM), MB (MiB). */
  peakRssMb: number;
}

/** Reads CPU and memory of a live process; throws when it is gone. */
export function procStat(pid: number): ProcStat {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { cpuSeconds, rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
}

/** Like procStat, or undefined when the process has exited. */
export function tryProcStat(pid: number): ProcStat | undefined {
  try {
    return procStat(pid);
  } catch {
    return undefined;
  }
}

export interface FileLimit {
  soft: number;
  hard: number;
}

/** The "Max open files" limit of a process ('self' for this one); Infinity for unlimited. */
export function openFileLimit(pid: number | 'self' = 'self'): FileLimit {
  const text = readFileSync(`/proc/${pid}/limits`, 'utf8');
  const m = /Max open files\s+(\S+)\s+(\S+)/.exec(text);
  const parse = (v: string | undefined) => (v === undefined || v === 'unlimited' ? Infinity : Number(v));
  return { soft: parse(m?.[1]), hard: parse(m?.[2]) };
}

export interface SystemCpu {
  /** Jiffies spent busy, all cores together. */
  busy: number;
  /** Of which in interrupts and softirqs (loopback networking is largely here, charged to no process). */
  irq: number;
  /** Of which stolen by the hypervisor for other guests. */
  steal: number;
  /** All jiffies, all cores together. */
  total: number;
  cores: number;
}

/** The machine's CPU counters from /proc/stat, to tell how busy the whole box was over a window. */
export function systemCpu(): SystemCpu {
  const text = readFileSync('/proc/stat', 'utf8');
  const line = text.split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line;
  const busy = user + nice + system + irq + softirq + steal;
  const cores = text.split('\n').filter((l) => /^cpu\d+ /.test(l)).length;
  return { busy, irq: irq + softirq, steal, total: busy + idle + iowait, cores };
}

/**
 * CPU the whole box spent between two readings, in "% of one core" (200 % = two cores busy).
 * Jiffies are per core, so busy/total is the share of all cores; times cores gives core units.
 */
export function busyPercentOfOneCore(before: SystemCpu, after: SystemCpu, field: 'busy' | 'irq' | 'steal' = 'busy'): number {
  const total = after.total - before.total;
  return total > 0 ? (100 * after.cores * (after[field] - before[field])) / total : NaN;
}
