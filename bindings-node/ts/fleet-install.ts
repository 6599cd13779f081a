/**
 * Where a policy given `fleet` options gets its sync with the shared store. The Node entries
 * install the drivers (fleet.ts); the browser's entries do not, so a page's bundle leaves the
 * fleet code out without configuration (a browser's wasm module refuses `fleet` options in the
 * core, before a policy gets here).
 */
import { ErrorCodes } from './errors.js';
import type { FleetOptions, FleetPort, FleetSync, QuotaSync } from './fleet.js';

export interface FleetDrivers {
  breaker(name: string, config: { syncInterval: number }, options: FleetOptions, port: FleetPort): FleetSync;
  quota(kind: 'rateLimit' | 'budget', name: string, config: { syncInterval: number }, options: FleetOptions, handle: number): QuotaSync;
}

let drivers: FleetDrivers | undefined;

export function installFleetDrivers(d: FleetDrivers): void {
  drivers = d;
}

export function fleetDrivers(): FleetDrivers {
  if (drivers === undefined) {
    const e = new TypeError("seawall: fleets sync through a shared store from Node (import 'seawall' there): this entry has no fleet drivers");
    throw Object.assign(e, { code: ErrorCodes.NOT_IN_MODULE, option: 'fleet', value: null });
  }
  return drivers;
}
