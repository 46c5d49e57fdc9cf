import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OperatorAccess } from './operator-access.js';
import { ApiProblem } from './operator-api.js';
import { TOKEN_KEY } from './token-store.js';

/** localStorage as the page has it: the module reaches it through window. */
function fakeStorage(initial: Record<string, string> = {}): Storage {
  const items = new Map(Object.entries(initial));
  return {
    get length() {
      return items.size;
    },
    clear: () => items.clear(),
    getItem: (key) => items.get(key) ?? null,
    key: (i) => [...items.keys()][i] ?? null,
    removeItem: (key) => void items.delete(key),
    setItem: (key, value) => void items.set(key, value),
  };
}

function host(): ReactiveControllerHost & { updates: number; controllers: ReactiveController[] } {
  const h = {
    updates: 0,
    controllers: [] as ReactiveController[],
    addController: (c: ReactiveController) => void h.controllers.push(c),
    removeController: () => {},
    requestUpdate: () => void h.updates++,
    updateComplete: Promise.resolve(true),
  };
  return h;
}

const refused = new ApiProblem({ status: 403, title: 'The operator token is not right', hint: 'Use EASEL_OPERATOR_TOKEN' });

function withStorage(initial: Record<string, string> = {}): Storage {
  const storage = fakeStorage(initial);
  vi.stubGlobal('window', { localStorage: storage });
  return storage;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('OperatorAccess', () => {
  it('takes a token the server accepts, keeps it, and tells the page', async () => {
    const storage = withStorage();
    const changes: Array<string | undefined> = [];
    const access = new OperatorAccess(host(), { checkToken: async () => {}, onChange: (t) => changes.push(t) });
    expect(await access.tryToken('right')).toBe(true);
    expect(access.token).toBe('right');
    expect(storage.getItem(TOKEN_KEY)).toBe('right');
    expect(changes).toEqual(['right']);
  });

  it("keeps a refused token out with the server's words, and forgets the kept one", async () => {
    const storage = withStorage({ [TOKEN_KEY]: 'old' });
    const access = new OperatorAccess(host(), { checkToken: () => Promise.reject(refused) });
    expect(await access.tryToken('wrong')).toBe(false);
    expect(access.token).toBeUndefined();
    expect(access.problem).toEqual({ title: 'The operator token is not right', detail: undefined, hint: 'Use EASEL_OPERATOR_TOKEN' });
    expect(access.checking).toBe(false);
    expect(storage.getItem(TOKEN_KEY)).toBeNull();
  });

  it('checks a kept token when the page connects; one kept while the server is unreachable is taken', async () => {
    withStorage({ [TOKEN_KEY]: 'kept' });
    const h = host();
    const check = vi.fn(() => Promise.reject(new ApiProblem({ status: 0, title: 'Cannot reach the Easel server' })));
    const access = new OperatorAccess(h, { checkToken: check });
    for (const c of h.controllers) c.hostConnected?.();
    await access.restored;
    expect(check).toHaveBeenCalledWith('kept');
    expect(access.token).toBe('kept');
  });

  it('a typed token is not taken while the server is unreachable', async () => {
    withStorage();
    const access = new OperatorAccess(host(), {
      checkToken: () => Promise.reject(new ApiProblem({ status: 0, title: 'Cannot reach the Easel server' })),
    });
    expect(await access.tryToken('typed')).toBe(false);
    expect(access.problem?.title).toBe('Cannot reach the Easel server');
  });

  it('a command refused later forgets the token and asks again; lock forgets it with no message', async () => {
    const storage = withStorage();
    const access = new OperatorAccess(host(), { checkToken: async () => {} });
    await access.tryToken('right');
    access.refused(refused);
    expect(access.token).toBeUndefined();
    expect(access.problem?.hint).toBe('Use EASEL_OPERATOR_TOKEN');
    expect(storage.getItem(TOKEN_KEY)).toBeNull();
    await access.tryToken('right');
    access.lock();
    expect(access.token).toBeUndefined();
    expect(access.problem).toBeUndefined();
    expect(storage.getItem(TOKEN_KEY)).toBeNull();
  });

  it('with storage blocked it still works for the visit', async () => {
    vi.stubGlobal('window', {
      get localStorage(): Storage {
        throw new Error('SecurityError');
      },
    });
    const access = new OperatorAccess(host(), { checkToken: async () => {} });
    expect(await access.tryToken('right')).toBe(true);
    expect(access.token).toBe('right');
  });
});
