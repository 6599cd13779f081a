/** `seawall` in Node: the napi backend under the shared shell. */
import './install-napi.js';

import { FLEET_DRIVERS } from './fleet.js';
import { installFleetDrivers } from './fleet-install.js';

installFleetDrivers(FLEET_DRIVERS);

export * from './index.js';
