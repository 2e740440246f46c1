import { attributeValues, matchesFilterPolicy, parseFilterPolicy } from '../../../local/sns/filter-policy';

/** SNS filter policies as AWS evaluates them (docs/…/sns-subscription-filter-policies.html). */
describe('SNS filter policies', () => {
  const attrs = (values: Record<string, string | number | string[]>) =>
    attributeValues(
      Object.fromEntries(
        Object.entries(values).map(([k, v]) => [
          k,
          Array.isArray(v) ? { DataType: 'String.Array', StringValue: JSON.stringify(v) } : typeof v === 'number' ? { DataType: 'Number', StringValue: String(v) } : { DataType: 'String', StringValue: v },
        ]),
      ),
    );

  it('ANDs the keys and ORs the values of a key', () => {
    const policy = { person: ['alice', 'bob'], camera: ['front-door'] };
    expect(matchesFilterPolicy(policy, attrs({ person: 'alice', camera: 'front-door' }))).toBe(true);
    expect(matchesFilterPolicy(policy, attrs({ person: 'bob', camera: 'front-door' }))).toBe(true);
    expect(matchesFilterPolicy(policy, attrs({ person: 'carol', camera: 'front-door' }))).toBe(false);
    expect(matchesFilterPolicy(policy, attrs({ person: 'alice' }))).toBe(false);
  });

  it('never matches a message without attributes when the policy reads attributes', () => {
    expect(matchesFilterPolicy({ kind: [{ exists: false }] }, undefined)).toBe(false);
  });

  it('knows prefix, suffix, anything-but, equals-ignore-case, exists, numeric ranges, arrays and $or', () => {
    const m = attrs({ person: 'alice', camera: 'garage-2', kind: 'known', score: 97, tags: ['vip', 'staff'] });
    expect(matchesFilterPolicy({ camera: [{ prefix: 'garage' }] }, m)).toBe(true);
    expect(matchesFilterPolicy({ camera: [{ suffix: '-3' }] }, m)).toBe(false);
    expect(matchesFilterPolicy({ kind: [{ 'anything-but': 'unknown' }] }, m)).toBe(true);
    expect(matchesFilterPolicy({ kind: [{ 'anything-but': ['known', 'x'] }] }, m)).toBe(false);
    expect(matchesFilterPolicy({ person: [{ 'equals-ignore-case': 'ALICE' }] }, m)).toBe(true);
    expect(matchesFilterPolicy({ missing: [{ exists: false }], person: [{ exists: true }] }, m)).toBe(true);
    expect(matchesFilterPolicy({ score: [{ numeric: ['>=', 90, '<', 100] }] }, m)).toBe(true);
    expect(matchesFilterPolicy({ score: [{ numeric: ['<', 90] }] }, m)).toBe(false);
    expect(matchesFilterPolicy({ tags: ['staff'] }, m)).toBe(true);
    expect(matchesFilterPolicy({ $or: [{ person: ['bob'] }, { camera: [{ prefix: 'garage' }] }] }, m)).toBe(true);
  });

  it('reads nested keys of a JSON body (MessageBody scope)', () => {
    expect(matchesFilterPolicy({ sighting: { person: ['alice'] } }, { sighting: { person: 'alice' } })).toBe(true);
    expect(matchesFilterPolicy({ sighting: { person: ['alice'] } }, { sighting: 'alice' })).toBe(false);
  });

  it('refuses a policy that is not a JSON object, with the reason', () => {
    expect(() => parseFilterPolicy('{person:')).toThrow(/failed to parse JSON/);
    expect(() => parseFilterPolicy('["alice"]')).toThrow(/must be a JSON object/);
  });
});
