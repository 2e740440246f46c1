/** Request validation with AWS's constraint messages (pure, unit-tested). */
import { RekognitionError, invalidParameter, validationError } from './errors';
import { decodePageToken, encodePageToken } from '../../shared/domain/page-token';

export type Body = Record<string, unknown>;

/** Collects constraint violations for one request, then throws one ValidationException listing them. */
export class Checker {
  private readonly problems: string[] = [];

  constructor(private readonly body: Body) {}

  private fail(field: string, value: unknown, constraint: string): void {
    const shown = typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value);
    this.problems.push(`Value '${shown}' at '${field}' failed to satisfy constraint: ${constraint}`);
  }

  private field(name: string): string {
    return name.charAt(0).toLowerCase() + name.slice(1);
  }

  string(name: string, opts: { required?: boolean; min?: number; max?: number; pattern?: RegExp; enum?: readonly string[] } = {}): string | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) {
      if (opts.required) this.problems.push(`Value null at '${this.field(name)}' failed to satisfy constraint: Member must not be null`);
      return undefined;
    }
    if (typeof v !== 'string') {
      throw invalidParameter(`${name} must be a string`);
    }
    const f = this.field(name);
    if (opts.min !== undefined && v.length < opts.min) this.fail(f, v, `Member must have length greater than or equal to ${opts.min}`);
    if (opts.max !== undefined && v.length > opts.max) this.fail(f, v, `Member must have length less than or equal to ${opts.max}`);
    if (opts.pattern && v.length && !new RegExp(`^(?:${opts.pattern.source})$`).test(v))
      this.fail(f, v, `Member must satisfy regular expression pattern: ${opts.pattern.source}`);
    if (opts.enum && !opts.enum.includes(v)) this.fail(f, v, `Member must satisfy enum value set: [${opts.enum.join(', ')}]`);
    return v;
  }

  number(name: string, opts: { required?: boolean; min?: number; max?: number; integer?: boolean } = {}): number | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) {
      if (opts.required) this.problems.push(`Value null at '${this.field(name)}' failed to satisfy constraint: Member must not be null`);
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || (opts.integer && !Number.isInteger(v))) {
      throw new RekognitionError('SerializationException', `Cannot deserialize ${name}: a number was expected`);
    }
    const f = this.field(name);
    if (opts.min !== undefined && v < opts.min) this.fail(f, v, `Member must have value greater than or equal to ${opts.min}`);
    if (opts.max !== undefined && v > opts.max) this.fail(f, v, `Member must have value less than or equal to ${opts.max}`);
    return v;
  }

  list<T = unknown>(name: string, opts: { required?: boolean; min?: number; max?: number } = {}): T[] | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) {
      if (opts.required) this.problems.push(`Value null at '${this.field(name)}' failed to satisfy constraint: Member must not be null`);
      return undefined;
    }
    if (!Array.isArray(v)) throw invalidParameter(`${name} must be a list`);
    const f = this.field(name);
    if (opts.min !== undefined && v.length < opts.min) this.fail(f, `[${v.join(', ')}]`, `Member must have length greater than or equal to ${opts.min}`);
    if (opts.max !== undefined && v.length > opts.max) this.fail(f, `[${v.length} items]`, `Member must have length less than or equal to ${opts.max}`);
    return v as T[];
  }

  /** Adds a problem for a nested or computed field. */
  problem(field: string, value: unknown, constraint: string): void {
    this.fail(field, value, constraint);
  }

  done(): void {
    if (this.problems.length) throw validationError(this.problems);
  }
}

export const COLLECTION_ID = /[a-zA-Z0-9_.\-]+/;
export const EXTERNAL_IMAGE_ID = /[a-zA-Z0-9_.\-:]+/;
export const FACE_ID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
export const STREAM_PROCESSOR_NAME = /[a-zA-Z0-9_.\-]+/;
export const QUALITY_FILTERS = ['NONE', 'AUTO', 'LOW', 'MEDIUM', 'HIGH'] as const;
export const ATTRIBUTES = [
  'DEFAULT', 'ALL', 'AGE_RANGE', 'BEARD', 'EMOTIONS', 'EYE_DIRECTION', 'EYEGLASSES', 'EYES_OPEN', 'GENDER',
  'MOUTH_OPEN', 'MUSTACHE', 'FACE_OCCLUDED', 'SMILE', 'SUNGLASSES',
] as const;
export type Attribute = (typeof ATTRIBUTES)[number];
export type QualityFilterLevel = (typeof QUALITY_FILTERS)[number];

/** Pagination tokens (the product's page-token codec), bound to the listing they came from; null when not one of its. */
export const encodeToken = (scope: string, position: string | number): string => encodePageToken(scope, position);

export function decodeToken(token: string, scope: string): string | number | null {
  const decoded = decodePageToken(token, scope);
  if ('problem' in decoded) return null;
  return typeof decoded.position === 'string' || typeof decoded.position === 'number' ? decoded.position : null;
}
