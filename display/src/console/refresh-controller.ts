import type { ReactiveController, ReactiveControllerHost } from 'lit';

/**
 * The console's usual refresh: last frames, displays and source health (and an open Screens
 * list) are asked for this often; the events stream has the rest.
 */
export const REFRESH_MS = 2_000;

export interface RefreshOptions {
  /** Whether to refresh at all now (the console is unlocked). */
  enabled(): boolean;
  /** One refresh; the next waits until it has settled, so slow replies never pile up. */
  refresh(): Promise<void>;
  /** The pause between one refresh settling and the next; a function is asked each time. */
  intervalMs: number | (() => number);
}

/**
 * Calls `refresh()` every `intervalMs` while the host is connected, `enabled()` and the page is
 * visible (a phone in a pocket asks for nothing), and at once when the page becomes visible
 * again. The events stream carries commands and job progress; this brings what it does not
 * (last frame, displays, source health). Call `sync()` after `enabled()` may have changed.
 *
 * @example
 * refresher = new RefreshController(this, { enabled: () => this.unlocked, refresh: () => this.loadCanvases(), intervalMs: 2000 });
 */
export class RefreshController implements ReactiveController {
  private readonly options: RefreshOptions;
  private connected = false;
  private timer: number | undefined;
  private running: Promise<void> | undefined;

  constructor(host: ReactiveControllerHost, options: RefreshOptions) {
    this.options = options;
    host.addController(this);
  }

  hostConnected(): void {
    this.connected = true;
    document.addEventListener('visibilitychange', this.onVisibility);
    this.sync();
  }

  hostDisconnected(): void {
    this.connected = false;
    document.removeEventListener('visibilitychange', this.onVisibility);
    this.stop();
  }

  /** Starts (with a refresh now) or stops to match `enabled()` and the page's visibility. */
  sync(): void {
    if (this.wanted()) {
      if (this.timer === undefined && !this.running) void this.tick();
    } else {
      this.stop();
    }
  }

  private wanted(): boolean {
    return this.connected && document.visibilityState !== 'hidden' && this.options.enabled();
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    if (!this.wanted()) return;
    this.running = this.options.refresh().catch(() => {}); // refresh() reports its own failures
    await this.running;
    this.running = undefined;
    const { intervalMs } = this.options;
    const wait = typeof intervalMs === 'function' ? intervalMs() : intervalMs;
    if (this.wanted() && this.timer === undefined) this.timer = window.setTimeout(() => void this.tick(), wait);
  }

  private stop(): void {
    window.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly onVisibility = (): void => this.sync();
}
