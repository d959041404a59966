/**
 * The report module: the schema shared by the probe (producer) and the app
 * (consumer). Depends on nothing in the runtime but node's standard library.
 */
export * from './schema';
export * from './errors';
export * from './ids';
export * from './merge';
export * from './delta-base';
export * from './validate';
export * from './codec';
export * from './record';
