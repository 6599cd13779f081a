/**
 * What Seawall decides, published on `node:diagnostics_channel` (as undici does: no dependency,
 * nothing paid without a subscriber). The events, their channels and their fields are the core's
 * (core/src/telemetry.rs); Python logs the same events. In a browser there is no such module and
 * nothing is published.
 */
import { backend } from './backend.js';

interface Channel {
  readonly hasSubscribers: boolean;
  publish(message: unknown): void;
}

/** The event names, as the core declares them. */
export type EventName = 'retry.scheduled' | 'retry.gave_up' | 'breaker.state_changed' | 'call.rejected';

// Read without an import, so that browser bundles have nothing to resolve.
const diagnostics = (globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } }).process?.getBuiltinModule?.('node:diagnostics_channel') as
  | { channel(name: string): Channel }
  | undefined;

let channels: Map<string, { channel: Channel; fields: string[] }> | undefined;

function channelOf(name: EventName): { channel: Channel; fields: string[] } | undefined {
  if (diagnostics === undefined) return undefined;
  if (channels === undefined) {
    const events = JSON.parse(backend().telemetryEvents()) as Array<{ name: string; channel: string; fields: string[] }>;
    channels = new Map(events.map((e) => [e.name, { channel: diagnostics.channel(e.channel), fields: e.fields }]));
  }
  return channels.get(name);
}

/** Whether anyone listens for `name` (the caller then builds the event's fields). */
export function listening(name: EventName): boolean {
  return channelOf(name)?.channel.hasSubscribers === true;
}

/** Publishes `name` with its declared fields, in order (null where not given). */
export function report(name: EventName, fields: Record<string, unknown>): void {
  const c = channelOf(name);
  if (c === undefined || !c.channel.hasSubscribers) return;
  const message: Record<string, unknown> = { event: name };
  for (const f of c.fields) message[f] = fields[f] ?? null;
  c.channel.publish(message);
}

/** How an error is named in events: its code, else its name. */
export function errorType(error: unknown): string | null {
  const e = error as { code?: unknown; name?: unknown } | null;
  return typeof e?.code === 'string' ? e.code : typeof e?.name === 'string' ? e.name : null;
}
