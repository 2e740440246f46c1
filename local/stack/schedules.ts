/**
 * Scheduled rules (`AWS::Events::Rule` with a ScheduleExpression: serverless.yml's `schedule` events) run as
 * EventBridge runs them: every `rate(...)`, each Lambda target is invoked asynchronously (Lambda retries a failed
 * event twice) with EventBridge's "Scheduled Event", or with the target's constant `Input`. The first run comes
 * one interval after the start, as on AWS after a deploy.
 *
 * `FACEWATCH_SCHEDULE_SECONDS=N` makes every rate schedule fire every N seconds instead (tests, and trying
 * checkProcessors' repair of a broken processor chain without waiting 5 minutes).
 *
 * Not modelled: `cron(...)` expressions (warned, not run), InputPath and InputTransformer (the default event is
 * sent), targets other than the stack's functions, rules with an EventPattern instead of a schedule.
 */
import { randomUUID } from 'node:crypto';

export const SCHEDULE_SECONDS_VARIABLE = 'FACEWATCH_SCHEDULE_SECONDS';

/** A rule from the evaluated template. */
export interface ScheduleRuleDefinition {
  logicalId: string;
  /** Its physical name (Ref). */
  name: string;
  arn: string;
  properties: Record<string, unknown>;
}

/** A function of the stack (structurally local/stack/functions.ts's LocalFunction). */
export interface ScheduleTarget {
  definition: { logicalId: string };
  invoke(event: unknown): Promise<{ error?: { errorType: string; errorMessage: string } }>;
}

export interface ScheduleInfo {
  rule: string;
  expression: string;
  /** What the stack actually uses (the expression's, or FACEWATCH_SCHEDULE_SECONDS'). */
  intervalSeconds: number;
  targets: string[];
}

export interface SchedulesOptions {
  rules: ScheduleRuleDefinition[];
  /** The stack's function behind a target ARN, if any. */
  targetOf(arn: string): ScheduleTarget | undefined;
  region: string;
  accountId: string;
  /** Overrides every rate (default: FACEWATCH_SCHEDULE_SECONDS from the environment). */
  intervalSeconds?: number;
  /** Lambda's delays between the attempts of an asynchronous event. */
  retryDelaysMs?: number[];
  now?: () => Date;
  debug?: (line: string) => void;
  warn?: (line: string) => void;
}

export interface Schedules {
  schedules: ScheduleInfo[];
  stop(): Promise<void>;
}

const UNIT_SECONDS: Record<string, number> = { minute: 60, minutes: 60, hour: 3600, hours: 3600, day: 86_400, days: 86_400 };

/** `rate(5 minutes)` → 300 (seconds); undefined for anything else (cron, malformed). */
export function rateSeconds(expression: string): number | undefined {
  const match = /^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$/.exec(expression.trim());
  if (!match) return undefined;
  const value = Number(match[1]);
  return value > 0 ? value * UNIT_SECONDS[match[2]] : undefined;
}

/** FACEWATCH_SCHEDULE_SECONDS, when set: a positive number of seconds. */
export function scheduleSecondsFromEnvironment(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env[SCHEDULE_SECONDS_VARIABLE]?.trim();
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`${SCHEDULE_SECONDS_VARIABLE} is "${raw}": give a positive number of seconds`);
  return seconds;
}

/** EventBridge's event for a scheduled rule (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html). */
export function scheduledEvent(rule: Pick<ScheduleRuleDefinition, 'arn'>, region: string, accountId: string, at: Date): Record<string, unknown> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: accountId,
    time: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [rule.arn],
    detail: {},
  };
}

export function startSchedules(options: SchedulesOptions): Schedules {
  const debug = options.debug ?? (() => undefined);
  const warn = options.warn ?? (() => undefined);
  const override = options.intervalSeconds ?? scheduleSecondsFromEnvironment();
  const retryDelaysMs = options.retryDelaysMs ?? [1_000, 2_000];
  const now = options.now ?? (() => new Date());
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;
  const schedules: ScheduleInfo[] = [];

  for (const rule of options.rules) {
    const p = rule.properties;
    const expression = typeof p.ScheduleExpression === 'string' ? p.ScheduleExpression : undefined;
    if (!expression) {
      if (p.EventPattern) debug(`${rule.logicalId}: an event pattern rule; only schedules run locally`);
      continue;
    }
    if (p.State !== undefined && p.State !== 'ENABLED') {
      debug(`${rule.logicalId} (${expression}): ${String(p.State)}, not run`);
      continue;
    }
    const seconds = rateSeconds(expression);
    if (seconds === undefined) {
      warn(`${rule.logicalId}: schedule ${expression} is not run locally (only rate(...) expressions are)`);
      continue;
    }
    const targets: { target: ScheduleTarget; input?: unknown }[] = [];
    for (const t of (p.Targets as { Arn?: unknown; Id?: string; Input?: unknown; InputPath?: unknown; InputTransformer?: unknown }[] | undefined) ?? []) {
      const target = typeof t.Arn === 'string' ? options.targetOf(t.Arn) : undefined;
      if (!target) {
        warn(`${rule.logicalId}: target ${String(t.Arn)} is not a function of the stack; not run`);
        continue;
      }
      if (t.InputPath !== undefined || t.InputTransformer !== undefined) warn(`${rule.logicalId}: InputPath/InputTransformer of target ${t.Id} are not applied locally`);
      let input: unknown;
      if (typeof t.Input === 'string') {
        try {
          input = JSON.parse(t.Input);
        } catch {
          warn(`${rule.logicalId}: target ${t.Id}'s Input is not JSON; the scheduled event is sent instead`);
        }
      }
      targets.push({ target, ...(input !== undefined ? { input } : {}) });
    }
    if (!targets.length) continue;
    const intervalSeconds = override ?? seconds;
    schedules.push({ rule: rule.logicalId, expression, intervalSeconds, targets: targets.map((t) => t.target.definition.logicalId) });
    debug(`${rule.logicalId}: ${expression} → ${targets.map((t) => t.target.definition.logicalId).join(', ')} every ${intervalSeconds} s${override ? ` (${SCHEDULE_SECONDS_VARIABLE})` : ''}`);

    const busy = new Set<ScheduleTarget>();
    const fire = () => {
      const event = scheduledEvent(rule, options.region, options.accountId, now());
      for (const { target, input } of targets) {
        // A run still going (a slow one, or its retries) is not doubled by the next tick.
        if (busy.has(target)) {
          debug(`${rule.logicalId}: ${target.definition.logicalId} still runs the previous event; tick skipped`);
          continue;
        }
        busy.add(target);
        void (async () => {
          for (let attempt = 0; !stopped; attempt++) {
            const outcome = await target.invoke(input ?? event);
            if (!outcome.error) return;
            if (attempt >= retryDelaysMs.length) {
              warn(`${rule.logicalId}: ${target.definition.logicalId} failed on its scheduled event after ${attempt + 1} attempts: ${outcome.error.errorType}: ${outcome.error.errorMessage}`);
              return;
            }
            await new Promise((resolve) => setTimeout(resolve, retryDelaysMs[attempt]).unref());
          }
        })()
          .catch((error: unknown) => warn(`${rule.logicalId}: ${target.definition.logicalId}: ${error instanceof Error ? error.message : String(error)}`))
          .finally(() => busy.delete(target));
      }
    };
    timers.push(setInterval(fire, intervalSeconds * 1000));
  }

  return {
    schedules,
    /** No tick and no retry after this; an invocation already running ends with its function. */
    async stop() {
      stopped = true;
      for (const timer of timers.splice(0)) clearInterval(timer);
    },
  };
}
