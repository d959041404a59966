/**
 * The parts of prom-client the probe uses (a registry, counters, gauges and
 * histograms), loaded module by module: the probe's bundle
 * (runtime/probe/bundle/build.ts) resolves `prom-client` to this file.
 *
 * prom-client's index also loads the cluster aggregator (node:cluster), the
 * Pushgateway client (http, https, url) and Summary with its t-digest, which
 * the probe never uses, and collectDefaultMetrics with every default metric
 * set (runtime/probe/metrics.ts loads the few it exports itself). Under tsx and tests the probe imports `prom-client`
 * itself; this file only changes what the bundle loads.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import type * as PromClient from 'prom-client';

export const Registry = require('prom-client/lib/registry.js') as typeof PromClient.Registry;
export const Counter = require('prom-client/lib/counter.js') as typeof PromClient.Counter;
export const Gauge = require('prom-client/lib/gauge.js') as typeof PromClient.Gauge;
export const Histogram = require('prom-client/lib/histogram.js') as typeof PromClient.Histogram;
