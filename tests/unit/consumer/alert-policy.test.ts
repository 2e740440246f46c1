import { decideAlert, evaluateClaim, type AlertClaim, type AlertSettings } from '../../../shared/domain/alert-policy';
import { UNKNOWN_PERSON } from '../../../shared/tables';

const settings: AlertSettings = { cooldownSeconds: 60, unknownAlerts: false, unknownCooldownSeconds: 300, watchlistOnly: false };
const open = { muted: false, watchlist: false };

describe('decideAlert', () => {
  it('alerts for a known person with the person cooldown', () => {
    expect(decideAlert('alice', open, settings)).toEqual({ alert: true, cooldownMs: 60_000 });
  });

  it('alerts for a person without a profile, like anyone not muted', () => {
    expect(decideAlert('alice', undefined, settings)).toEqual({ alert: true, cooldownMs: 60_000 });
  });

  it('does not alert for unknown faces unless switched on, then with their own cooldown', () => {
    expect(decideAlert(UNKNOWN_PERSON, undefined, settings)).toEqual({ alert: false, reason: 'unknown-alerts-off' });
    expect(decideAlert(UNKNOWN_PERSON, undefined, { ...settings, unknownAlerts: true })).toEqual({ alert: true, cooldownMs: 300_000 });
  });

  it('never alerts for a muted person, watchlist or not', () => {
    expect(decideAlert('bob', { muted: true, watchlist: true }, settings)).toEqual({ alert: false, reason: 'muted' });
    expect(decideAlert('bob', { muted: true, watchlist: true }, { ...settings, watchlistOnly: true })).toEqual({ alert: false, reason: 'muted' });
  });

  it('when restricted to the watchlist, alerts only for people on it (and unknown faces follow their own switch)', () => {
    const watchlistOnly = { ...settings, watchlistOnly: true, unknownAlerts: true };
    expect(decideAlert('carol', { muted: false, watchlist: true }, watchlistOnly).alert).toBe(true);
    expect(decideAlert('dave', open, watchlistOnly)).toEqual({ alert: false, reason: 'not-on-watchlist' });
    expect(decideAlert('erin', undefined, watchlistOnly)).toEqual({ alert: false, reason: 'not-on-watchlist' });
    expect(decideAlert(UNKNOWN_PERSON, undefined, watchlistOnly).alert).toBe(true);
  });
});

describe('evaluateClaim (the cooldown window)', () => {
  const claim = (sightingId: string, frameTimeMs: number): AlertClaim => ({ personId: 'alice', camera: 'porch', sightingId, frameTimeMs, cooldownMs: 60_000 });
  const last = { sightingId: 's1', lastAlertAt: 1_000_000, status: 'sent' as const };

  it('claims when nothing alerted before', () => {
    expect(evaluateClaim(undefined, claim('s1', 1_000_000))).toBe('claimed');
  });

  it('suppresses within the cooldown, up to one millisecond before it ends', () => {
    expect(evaluateClaim(last, claim('s2', 1_000_001))).toBe('suppressed');
    expect(evaluateClaim(last, claim('s2', 1_059_999))).toBe('suppressed');
  });

  it('claims again exactly when the cooldown has passed', () => {
    expect(evaluateClaim(last, claim('s2', 1_060_000))).toBe('claimed');
  });

  it('suppresses a frame older than the last alert (a late redelivery)', () => {
    expect(evaluateClaim(last, claim('s0', 900_000))).toBe('suppressed');
  });

  it('suppresses the sighting that already alerted, and resumes it while its publish is unconfirmed', () => {
    expect(evaluateClaim(last, claim('s1', 1_000_000))).toBe('suppressed');
    expect(evaluateClaim({ ...last, status: 'pending' }, claim('s1', 1_000_000))).toBe('resumed');
  });

  it('lets a pending claim of another sighting hold the window like a sent one', () => {
    expect(evaluateClaim({ ...last, status: 'pending' }, claim('s2', 1_030_000))).toBe('suppressed');
  });
});
