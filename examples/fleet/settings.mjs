// The fleet demo's settings, shared with the Python replicas (settings.json).
import { readFileSync } from 'node:fs';

const s = JSON.parse(readFileSync(new URL('./settings.json', import.meta.url), 'utf8'));
export const BREAKER = s.breaker;
export const FLEET = s.fleet;
export const CALL_EVERY_MS = s.callEveryMs;
export const HEALTHY_UNTIL_MS = s.healthyUntilMs;
export const END_MS = s.endMs;
export const QUOTA = s.quota;
