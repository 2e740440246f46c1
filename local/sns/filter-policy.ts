/**
 * SNS subscription filter policies, as AWS evaluates them
 * (https://docs.aws.amazon.com/sns/latest/dg/sns-subscription-filter-policies.html): every key of the policy
 * must match (AND); a key matches when any of its values does (OR); `$or` holds alternative policies.
 * Values: exact strings and numbers, `{"prefix"}`, `{"suffix"}`, `{"equals-ignore-case"}`, `{"anything-but"}`
 * (a value, a list, or `{"prefix"}`), `{"numeric": [">", 0, "<=", 5]}`, `{"exists": true|false}`.
 * Scope `MessageAttributes` (the default) reads the message attributes (String, String.Array, Number);
 * `MessageBody` reads the JSON message, nested keys included. A message with no attributes never matches an
 * attribute policy (AWS's rule). Not modelled: `cidr`.
 */

type Policy = Record<string, unknown>;

export class FilterPolicyError extends Error {}

export function parseFilterPolicy(text: string): Policy {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new FilterPolicyError('Invalid parameter: FilterPolicy: failed to parse JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new FilterPolicyError('Invalid parameter: FilterPolicy: the policy must be a JSON object');
  return parsed as Policy;
}

/** Attribute values as filter policies see them: strings, numbers, or the elements of a String.Array. */
export function attributeValues(attributes: Record<string, { DataType: string; StringValue?: string }>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [name, attribute] of Object.entries(attributes)) {
    if (attribute.DataType === 'Number') values[name] = Number(attribute.StringValue);
    else if (attribute.DataType === 'String.Array') {
      try {
        values[name] = JSON.parse(attribute.StringValue ?? '[]');
      } catch {
        values[name] = attribute.StringValue;
      }
    } else if (attribute.DataType.startsWith('String')) values[name] = attribute.StringValue;
  }
  return values;
}

export function matchesFilterPolicy(policy: Policy, subject: Record<string, unknown> | undefined): boolean {
  if (!subject) return false;
  return Object.entries(policy).every(([key, condition]) => {
    if (key === '$or') return Array.isArray(condition) && condition.some((alternative) => matchesFilterPolicy(alternative as Policy, subject));
    const present = Object.prototype.hasOwnProperty.call(subject, key);
    const value = subject[key];
    if (condition && typeof condition === 'object' && !Array.isArray(condition)) {
      // A nested key (MessageBody scope).
      return present && value !== null && typeof value === 'object' && !Array.isArray(value) && matchesFilterPolicy(condition as Policy, value as Record<string, unknown>);
    }
    const rules = Array.isArray(condition) ? condition : [condition];
    return rules.some((rule) => matchesRule(rule, present, value));
  });
}

function matchesRule(rule: unknown, present: boolean, value: unknown): boolean {
  if (rule && typeof rule === 'object') {
    const r = rule as Record<string, unknown>;
    if ('exists' in r) return r.exists === present;
    if (!present) return false;
    const values = Array.isArray(value) ? value : [value];
    return values.some((v) => matchesOperator(r, v));
  }
  if (!present) return false;
  const values = Array.isArray(value) ? value : [value];
  return values.some((v) => v === rule || (typeof rule === 'number' && typeof v === 'number' && v === rule));
}

function matchesOperator(r: Record<string, unknown>, v: unknown): boolean {
  if ('prefix' in r) return typeof v === 'string' && v.startsWith(String(r.prefix));
  if ('suffix' in r) return typeof v === 'string' && v.endsWith(String(r.suffix));
  if ('equals-ignore-case' in r) return typeof v === 'string' && v.toLowerCase() === String(r['equals-ignore-case']).toLowerCase();
  if ('anything-but' in r) {
    const but = r['anything-but'];
    if (but && typeof but === 'object' && !Array.isArray(but) && 'prefix' in but) return typeof v === 'string' && !v.startsWith(String((but as { prefix: unknown }).prefix));
    return !(Array.isArray(but) ? but : [but]).includes(v as never);
  }
  if ('numeric' in r) {
    const terms = r.numeric as unknown[];
    if (typeof v !== 'number' || !Array.isArray(terms)) return false;
    for (let i = 0; i + 1 < terms.length; i += 2) {
      const [op, bound] = [terms[i], Number(terms[i + 1])];
      const ok = op === '=' ? v === bound : op === '>' ? v > bound : op === '>=' ? v >= bound : op === '<' ? v < bound : op === '<=' ? v <= bound : false;
      if (!ok) return false;
    }
    return true;
  }
  return false;
}
