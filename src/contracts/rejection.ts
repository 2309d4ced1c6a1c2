import type { ErrorCode } from './payloads.js';

/** Input the hub refuses: answered on the device's `error` topic, or as 4xx / `{ok:false}` to a manager. Changes nothing. */
export class Rejection extends Error {
  constructor(
    readonly code: ErrorCode | 'not-found' | 'conflict' | 'forbidden',
    readonly detail: string,
  ) {
    super(`${code}: ${detail}`);
  }
}
