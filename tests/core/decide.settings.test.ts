import { describe, it } from 'node:test';
import { given } from '../helpers/decider-spec.ts';

describe('ChangeSettings', () => {
  it('turns anonymous access on (default off, DESIGN §5)', () => {
    given([]).when({ type: 'ChangeSettings', data: { allowAnonymous: true } }).then([{ type: 'AnonymousAccessChanged', data: { allowed: true } }]);
  });

  it('changes the $7$ iteration count (default 101) [ref §1.2]', () => {
    given([]).when({ type: 'ChangeSettings', data: { hashIterations: 1000 } }).then([{ type: 'HashIterationsChanged', data: { iterations: 1000 } }]);
    given([]).when({ type: 'ChangeSettings', data: { hashIterations: 1 } }).then([{ type: 'HashIterationsChanged', data: { iterations: 1 } }]);
    given([]).when({ type: 'ChangeSettings', data: { hashIterations: 10_000_000 } }).then([{ type: 'HashIterationsChanged', data: { iterations: 10_000_000 } }]);
  });

  it('changes both in one command', () => {
    given([]).when({ type: 'ChangeSettings', data: { allowAnonymous: true, hashIterations: 5000 } }).then([
      { type: 'AnonymousAccessChanged', data: { allowed: true } },
      { type: 'HashIterationsChanged', data: { iterations: 5000 } },
    ]);
  });

  it('is a no-op ([]) for the current values or no fields', () => {
    given([]).when({ type: 'ChangeSettings', data: { allowAnonymous: false, hashIterations: 101 } }).then([]);
    given([{ type: 'AnonymousAccessChanged', data: { allowed: true } }]).when({ type: 'ChangeSettings', data: { allowAnonymous: true } }).then([]);
    given([]).when({ type: 'ChangeSettings', data: {} }).then([]);
  });

  it('refuses out-of-range or non-integer iteration counts with MCM_ERR_SETTINGS_INVALID', () => {
    for (const hashIterations of [0, -1, 1.5, 10_000_001, Number.NaN, Infinity, '1000' as unknown as number]) {
      given([]).when({ type: 'ChangeSettings', data: { hashIterations } }).thenThrows('MCM_ERR_SETTINGS_INVALID');
    }
  });

  it('refuses a non-boolean allowAnonymous with MCM_ERR_SETTINGS_INVALID, emitting nothing for the valid field', () => {
    given([]).when({ type: 'ChangeSettings', data: { hashIterations: 500, allowAnonymous: 'true' as unknown as boolean } }).thenThrows('MCM_ERR_SETTINGS_INVALID');
  });
});
