import { linkLifetime, buildAlertMessage, sightingPageUrl } from '../../../shared/domain/alert-message';
import { sightingsFromRecord } from '../../../shared/domain/sighting';
import { UNKNOWN_PERSON } from '../../../shared/tables';
import { faceSearchRecord, matchedFace } from '../../fixtures/face-search-records';

const [known, unknown] = sightingsFromRecord(
  faceSearchRecord({ faces: [{ matches: [matchedFace('alice', 97.123)] }, { matches: [] }] }),
  'front-door',
  { faceMatchThreshold: 85.5, retentionDays: 30 },
);

describe('buildAlertMessage', () => {
  it('reads as a short SMS: who, where, when (UTC), similarity', () => {
    // When an alert is built for Alice
    const message = buildAlertMessage(known, { displayName: 'Alice Martin', cooldownSeconds: 60 });
    const texts = JSON.parse(message.message);

    // Then the SMS names her, the camera, the time and the similarity, within one SMS
    expect(texts.sms).toBe('facewatch: Alice Martin at front-door, 2019-10-17 07:41:52 UTC (97.1%)');
    expect(texts.sms.length).toBeLessThanOrEqual(160);
    expect(texts.default).toBe(texts.sms);
    expect(message.messageStructure).toBe('json');
  });

  it('gives email the details: frame time, similarity, matched face, box, pose, quality, sighting id, video position', () => {
    const email: string = JSON.parse(buildAlertMessage(known, { displayName: 'Alice Martin', cooldownSeconds: 60 }).message).email;
    expect(email).toContain('Alice Martin (person id alice) was seen by camera front-door.');
    expect(email).toContain('2019-10-17T07:41:52.607Z');
    expect(email).toContain('97.12%');
    expect(email).toContain('face-alice-1');
    expect(email).toContain('left 0.479, top 0.300');
    expect(email).toContain('pitch 10.3°');
    expect(email).toContain('brightness 64.5');
    expect(email).toContain(known.sightingId);
    expect(email).toContain('every 60 s');
  });

  it('carries person and camera as message attributes for subscription filters', () => {
    const message = buildAlertMessage(known, { displayName: 'Alice', cooldownSeconds: 60 });
    expect(message.attributes).toMatchObject({ person: 'alice', camera: 'front-door', kind: 'known' });
    expect(JSON.parse(JSON.parse(message.message).sqs)).toMatchObject({ personId: 'alice', camera: 'front-door', sightingId: known.sightingId });
  });

  it('words an unknown face as such, without a similarity', () => {
    const message = buildAlertMessage(unknown, { cooldownSeconds: 300 });
    const texts = JSON.parse(message.message);
    expect(texts.sms).toBe('facewatch: Unknown face at front-door, 2019-10-17 07:41:52 UTC');
    expect(message.attributes).toMatchObject({ person: UNKNOWN_PERSON, kind: 'unknown' });
    expect(texts.email).toContain('matches no registered person');
  });

  it('keeps the email subject ASCII and short (SNS rules), falling back to the person id for other scripts', () => {
    // When the display name is in another script, then the subject names the person id, the sms keeps the name
    const message = buildAlertMessage(known, { displayName: '김민수', cooldownSeconds: 60 });
    expect(message.subject).toBe('facewatch: alice seen at front-door');
    expect(JSON.parse(message.message).sms).toContain('김민수');
    // When it is 300 characters long, then the subject stays under 100 and the sms within 160
    const long = buildAlertMessage(known, { displayName: 'A'.repeat(300), cooldownSeconds: 60 });
    expect(long.subject.length).toBeLessThan(100);
    expect(JSON.parse(long.message).sms.length).toBeLessThanOrEqual(160);
  });

  it('links the sighting\'s page in the console (sign-in required), before the short-lived snapshot link', () => {
    const message = buildAlertMessage(known, {
      displayName: 'Alice Martin',
      cooldownSeconds: 60,
      consoleUrl: 'https://d111111abcdef8.cloudfront.net/console/',
      snapshotUrl: 'https://bucket.example/snapshots/front-door/x.jpg?X-Amz-Signature=abc',
      snapshotUrlSeconds: 3600,
    });
    const texts = JSON.parse(message.message);
    const page = `https://d111111abcdef8.cloudfront.net/console/#/sightings/${known.sightingId}`;
    expect(texts.email).toContain(`In the console: ${page}`);
    expect(texts.email).toContain('sign in to see the sighting');
    expect(texts.email.indexOf(page)).toBeLessThan(texts.email.indexOf('Snapshot:'));
    expect(texts.email).toContain('(the link works for 1 h after the alert was sent)');
    // machines get the page too; the SMS stays one short text
    expect(JSON.parse(texts.sqs).consoleUrl).toBe(page);
    expect(texts.sms).not.toContain('http');
  });

  it('has no console line when no console URL is configured', () => {
    const texts = JSON.parse(buildAlertMessage(known, { cooldownSeconds: 60 }).message);
    expect(texts.email).not.toContain('In the console');
    expect(JSON.parse(texts.sqs).consoleUrl).toBeUndefined();
  });

  it('uses the person id when there is no display name', () => {
    expect(JSON.parse(buildAlertMessage(known, { cooldownSeconds: 60 }).message).sms).toMatch(/^facewatch: alice at/);
  });
});

describe('sightingPageUrl', () => {
  it('puts the sighting in the page\'s fragment route, on AWS and locally', () => {
    expect(sightingPageUrl('https://d111111abcdef8.cloudfront.net/console/', 'abc123')).toBe('https://d111111abcdef8.cloudfront.net/console/#/sightings/abc123');
    expect(sightingPageUrl('http://127.0.0.1:3000/console/', 'abc123')).toBe('http://127.0.0.1:3000/console/#/sightings/abc123');
    expect(sightingPageUrl('http://127.0.0.1:3000/console', 'abc123')).toBe('http://127.0.0.1:3000/console/#/sightings/abc123');
  });
});

describe('linkLifetime', () => {
  it.each([
    [3600, '1 h'],
    [5400, '1 h 30 min'],
    [900, '15 min'],
    [45, '45 s'],
    [604_800, '168 h'],
  ])('says %i s as "%s"', (seconds, words) => expect(linkLifetime(seconds)).toBe(words));
});
