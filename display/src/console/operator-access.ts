import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ProblemText } from './easel-problem.js';
import { ApiProblem } from './operator-api.js';
import { forgetToken, loadToken, saveToken } from './token-store.js';

export interface OperatorAccessOptions {
  /** Asks the server whether it would take `token` for commands (`POST /api/auth/check`). */
  checkToken(token: string): Promise<void>;
  /** Called after the accepted token changed (opened, refused, locked). */
  onChange?(token: string | undefined): void;
}

/**
 * The operator token of a page that sends commands (the console, the gallery), kept in
 * localStorage under one key so a token entered on one page opens the other. A token, entered
 * or kept from an earlier visit, is checked with the server before it is used, so a wrong one
 * stays at the token gate with the server's hint (`problem`). A command refused for the token
 * later (it changed on the server) calls `refused()`: the token is forgotten and the gate shows
 * again with the server's words; the page keeps everything else it had.
 *
 * @example
 * access = new OperatorAccess(this, { checkToken: (t) => api.checkToken(t) });
 * html`<easel-token-gate .problem=${access.problem} ?checking=${access.checking}
 *   @easel-token-entered=${(e) => access.tryToken(e.detail.token)}></easel-token-gate>`
 */
export class OperatorAccess implements ReactiveController {
  /** The token the server accepted; undefined while the page must ask for one. */
  token: string | undefined;
  /** Why the gate is shown (again): the server's answer to a refused token. */
  problem: ProblemText | undefined;
  /** A token is with the server for checking. */
  checking = false;
  /** Settles once a token kept from an earlier visit has been checked (at once when none was kept). */
  restored: Promise<void> = Promise.resolve();

  private readonly host: ReactiveControllerHost;
  private readonly options: OperatorAccessOptions;

  constructor(host: ReactiveControllerHost, options: OperatorAccessOptions) {
    this.host = host;
    this.options = options;
    host.addController(this);
  }

  hostConnected(): void {
    const stored = loadToken();
    // A generated token changes with every server start: the kept one may be stale.
    if (stored !== undefined && this.token === undefined && !this.checking)
      this.restored = this.tryToken(stored, true).then(() => undefined);
  }

  /**
   * Takes `token` once the server accepts it and resolves true. A refusal keeps the gate with
   * the server's words and resolves false. A kept token whose check cannot get through (server
   * down) is taken anyway: it was accepted before, and the page says the server cannot be reached.
   */
  async tryToken(token: string, stored = false): Promise<boolean> {
    this.checking = true;
    this.host.requestUpdate();
    try {
      await this.options.checkToken(token);
    } catch (err) {
      const problem =
        err instanceof ApiProblem ? err : new ApiProblem({ status: 0, title: 'The token could not be checked', detail: String(err) });
      if (!(stored && problem.status === 0)) {
        if (problem.isAuth) forgetToken();
        this.problem = { title: problem.title, detail: problem.detail, hint: problem.hint };
        this.checking = false;
        this.host.requestUpdate();
        return false;
      }
    }
    this.checking = false;
    saveToken(token);
    this.problem = undefined;
    this.set(token);
    return true;
  }

  /** A command was refused for the token (401/403): forget it and ask again with the server's words. */
  refused(problem: ProblemText): void {
    forgetToken();
    this.problem = { title: problem.title, detail: problem.detail, hint: problem.hint };
    this.set(undefined);
  }

  /** Forget the token on this device. */
  lock(): void {
    forgetToken();
    this.problem = undefined;
    this.set(undefined);
  }

  private set(token: string | undefined): void {
    this.token = token;
    this.host.requestUpdate();
    this.options.onChange?.(token);
  }
}
