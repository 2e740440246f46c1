import { UNKNOWN_PERSON } from '../tables';
import { DEFAULT_RULES, type AlertRules, type AlertState } from './model';

export interface AlertSettings {
  /** At most one alert per person per camera within this many seconds of frame time. */
  cooldownSeconds: number;
  /** Alerts for faces that matched nobody; off unless switched on. */
  unknownAlerts: boolean;
  /** Cooldown of unknown-face alerts, per camera (all unknown faces of a camera share it). */
  unknownCooldownSeconds: number;
  /** Only people on the watchlist alert (unknown faces follow `unknownAlerts` alone). */
  watchlistOnly: boolean;
}

export type AlertDecision =
  | { alert: true; cooldownMs: number }
  | { alert: false; reason: 'unknown-alerts-off' | 'muted' | 'not-on-watchlist' };

/**
 * Whether a sighting may alert at all, before the cooldown (which needs the alert-state table) is checked. A person
 * without a profile (photos removed mid-stream, or indexed by hand) alerts like anyone else unless watchlist-only.
 */
export function decideAlert(personId: string, rules: AlertRules | undefined, settings: AlertSettings): AlertDecision {
  if (personId === UNKNOWN_PERSON) {
    return settings.unknownAlerts ? { alert: true, cooldownMs: settings.unknownCooldownSeconds * 1000 } : { alert: false, reason: 'unknown-alerts-off' };
  }
  const { muted, watchlist } = rules ?? DEFAULT_RULES;
  if (muted) return { alert: false, reason: 'muted' };
  if (settings.watchlistOnly && !watchlist) return { alert: false, reason: 'not-on-watchlist' };
  return { alert: true, cooldownMs: settings.cooldownSeconds * 1000 };
}

export interface AlertClaim {
  personId: string;
  camera: string;
  sightingId: string;
  /** Frame time (epoch ms): redeliveries carry the same frame time, so they cannot reopen a window. */
  frameTimeMs: number;
  cooldownMs: number;
}

/**
 * - claimed: no alert in the window; this sighting now holds it (state pending) and must publish.
 * - resumed: this same sighting claimed before and its publish was never confirmed; publish again.
 * - suppressed: another sighting alerted less than a cooldown ago (or this one already did).
 */
export type ClaimOutcome = 'claimed' | 'resumed' | 'suppressed';

/**
 * The cooldown rule the alert-state store enforces atomically (its DynamoDB condition mirrors this
 * function; tests hold the two together). A window opened at frame time t admits the next alert at t + cooldown.
 * Frames older than the last alert (a late redelivery) never alert.
 */
export function evaluateClaim(state: Pick<AlertState, 'sightingId' | 'lastAlertAt' | 'status'> | undefined, claim: AlertClaim): ClaimOutcome {
  if (!state) return 'claimed';
  // sending: an earlier attempt died during Publish; publishing again could alert twice (at most once here).
  if (state.sightingId === claim.sightingId) return state.status === 'pending' ? 'resumed' : 'suppressed';
  return claim.frameTimeMs >= state.lastAlertAt + claim.cooldownMs ? 'claimed' : 'suppressed';
}
