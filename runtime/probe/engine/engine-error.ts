/**
 * The one error type of the container-engine client. Callers (the probe's
 * container collector and its control channel) branch on `code`, never on
 * message text, so every failure path maps to one of these codes.
 */
export type EngineErrorCode =
  | 'ENGINE_UNREACHABLE' // no socket, refused, reset, closed: the engine is not there
  | 'ENGINE_TIMEOUT' // connected, but no complete answer in time
  | 'ENGINE_BAD_RESPONSE' // answered, but not with what the API promises
  | 'ENGINE_NOT_FOUND' // no such container
  | 'ENGINE_CONFLICT' // the container is not in a state that allows this
  | 'ENGINE_REJECTED'; // any other error status, with the engine's message

export class EngineError extends Error {
  override name = 'EngineError';
  readonly code: EngineErrorCode;
  readonly status?: number;

  constructor(code: EngineErrorCode, message: string, status?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    if (status !== undefined) this.status = status;
  }
}

/** Shorthand for the most common failure: the engine sent something we cannot trust. */
export function badResponse(what: string): EngineError {
  return new EngineError('ENGINE_BAD_RESPONSE', what);
}
