/**
 * The parts of prom-client the probe uses (a registry, counters, histograms and
 * the default process metrics), loaded module by module: the probe's bundle
 * (runtime/probe/bundle/build.ts) resolves `prom-client` to this file.
 *
 * prom-client's index also loads the cluster aggregator (node:cluster), the
 * Pushgateway client (http, https, url) and Summary with its t-digest, which
 * the probe never uses. Under tsx and tests the probe imports `prom-client`
 * itself; this file only changes what the bundle loads.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import type * as PromClient from 'prom-client';

export const Registry = require('prom-client/lib/registry.js') as typeof PromClient.Registry;
export const Counter = require('prom-client/lib/counter.js') as typeof PromClient.Counter;
export const Gauge = require('prom-client/lib/gauge.js') as typeof PromClient.Gauge;
export const Histogram = require('prom-client/lib/histogram.js') as typeof PromClient.Histogram;
export const collectDefaultMetrics = require('prom-client/lib/defaultMetrics.js') as typeof PromClient.collectDefaultMetrics;
