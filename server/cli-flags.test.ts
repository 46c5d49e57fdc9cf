import { describe, expect, it } from 'vitest';
import { checkFlags, helpText, schemaOptions } from './cli-flags.js';
import { schema } from './config.js';

const options = schemaOptions(schema);
const check = (...argv: string[]) => checkFlags(argv, options);

describe('checkFlags', () => {
  it('takes the schema flags in every form yargs-parser reads', () => {
    expect(check('--port', '9000', '--log-level=debug', '--osc', '--fps', '0.5', '--no-osc')).toEqual({ ok: true, help: false });
    expect(check('--osc', 'true', '--port', '0')).toEqual({ ok: true, help: false });
    expect(check('-h')).toEqual({ ok: true, help: true });
    expect(check('--port', '1', '--help')).toEqual({ ok: true, help: true });
  });

  it('refuses unknown flags, naming the closest one when it is a likely typo', () => {
    expect(check('--prot', '9000')).toEqual({ ok: false, message: 'Unknown flag "--prot" (did you mean --port?)' });
    expect(check('--log-levl=debug')).toEqual({ ok: false, message: 'Unknown flag "--log-levl" (did you mean --log-level?)' });
    expect(check('--inferenc', 'a:1')).toEqual({ ok: false, message: 'Unknown flag "--inferenc" (did you mean --inference?)' });
    expect(check('--zzzzzzzz')).toEqual({ ok: false, message: 'Unknown flag "--zzzzzzzz"' });
    // A setting with no flag of its own is not one.
    expect(check('--max-canvases', '3').ok).toBe(false);
  });

  it('refuses stray words and a flag left without its value', () => {
    expect(check('9000')).toMatchObject({ ok: false, message: expect.stringContaining('Unexpected argument "9000"') });
    expect(check('--port')).toEqual({ ok: false, message: 'Flag --port needs a value, e.g. --port 8000' });
    expect(check('--host', '--port', '1')).toMatchObject({ ok: false, message: expect.stringContaining('Flag --host needs a value') });
  });
});

describe('helpText', () => {
  it('never shows a secret default', () => {
    const withSecret = schemaOptions({ token: { doc: 'Secret', format: String, default: 'hunter2', env: 'X_TOKEN', sensitive: true } });
    expect(helpText(withSecret)).not.toContain('hunter2');
  });
});
