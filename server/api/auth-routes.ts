import type { createApi } from './http.js';

/**
 * `POST /api/auth/check`: answers 200 when the operator token would be accepted, and the same
 * 401/403/429 as any command when not. It changes nothing but runs every check a command runs
 * (it is registered as mutating), so the console can refuse a wrong token at the gate instead
 * of opening and then losing the technician's first action.
 */
export function registerAuthRoutes(api: ReturnType<typeof createApi>): void {
  api.route('post', '/api/auth/check', () => ({ status: 200, json: { ok: true } }), { mutating: true });
}
