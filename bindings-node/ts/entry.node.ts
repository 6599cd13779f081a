/** `seawall` in Node: the napi backend under the shared shell. */
import './install-napi.js';

import { FLEET_DRIVERS } from './fleet.js';
import { installFleetDrivers } from './fleet-install.js';
import { installHedging, installInlineFetch } from './fetch.js';
import { fetchInline } from './inline.js';
import { HEDGING } from './hedge.js';
import { setDeadline } from './deadlines.js';
import { installDeadlines } from './timeout.js';

installFleetDrivers(FLEET_DRIVERS);
installHedging(HEDGING);
installInlineFetch(fetchInline);
installDeadlines(setDeadline);

export * from './index.js';
