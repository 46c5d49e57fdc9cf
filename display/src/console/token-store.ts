/** Where the console keeps the operator token between visits, on this device only. */
export const TOKEN_KEY = 'easel.operatorToken';

/**
 * The stored operator token: a string once entered ('' means "this server needs none"),
 * undefined when the console must ask. Storage that is blocked (a private window's quota,
 * a policy) just means asking every visit.
 */
export function loadToken(storage: Storage | undefined = safeStorage()): string | undefined {
  try {
    return storage?.getItem(TOKEN_KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

export function saveToken(token: string, storage: Storage | undefined = safeStorage()): void {
  try {
    storage?.setItem(TOKEN_KEY, token);
  } catch {
    // Kept in memory for this visit only.
  }
}

export function forgetToken(storage: Storage | undefined = safeStorage()): void {
  try {
    storage?.removeItem(TOKEN_KEY);
  } catch {
    // Nothing stored, nothing to forget.
  }
}

function safeStorage(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined;
  }
}
