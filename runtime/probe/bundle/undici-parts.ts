/**
 * The parts of undici the probe uses, loaded module by module: the probe's
 * bundle (runtime/probe/bundle/build.ts) resolves `undici` to this file.
 *
 * undici's index loads every dispatcher, the mock agents, the cache stores,
 * the interceptors and fetch (110 modules, about 9 MB of resident memory
 * that the probe would carry for nothing); the probe needs the Unix-socket
 * Client/Pool for the engine, an Agent for the app and the API server, the
 * error classes (the control channel's WebSocket is the `ws` package's). Under tsx and tests
 * the probe imports `undici` itself; this file only changes what the bundle
 * loads, not the API it sees.
 *
 * The request() method lives in undici's api modules, which the index copies
 * onto Dispatcher.prototype; the same is done here for the one method used.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import type * as Undici from 'undici';

const dispatcherClass = require('undici/lib/dispatcher/dispatcher.js') as { prototype: Record<string, unknown> };
if (typeof dispatcherClass.prototype['request'] !== 'function') {
  dispatcherClass.prototype['request'] = require('undici/lib/api/api-request.js') as unknown;
}

export const Client = require('undici/lib/dispatcher/client.js') as typeof Undici.Client;
export const Pool = require('undici/lib/dispatcher/pool.js') as typeof Undici.Pool;
export const Agent = require('undici/lib/dispatcher/agent.js') as typeof Undici.Agent;
export const errors = require('undici/lib/core/errors.js') as typeof Undici.errors;
