import { rateSeconds, scheduledEvent, scheduleSecondsFromEnvironment, startSchedules, type ScheduleTarget } from '../../../local/stack/schedules';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function waitFor(what: string, done: () => boolean, timeoutMs = 5_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !done(); await sleep(10)) if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
}
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:facewatch-local-checkProcessors';

function recordingTarget(failFirst = 0): ScheduleTarget & { events: unknown[] } {
  const events: unknown[] = [];
  let failures = failFirst;
  return {
    events,
    definition: { logicalId: 'CheckProcessorsLambdaFunction' },
    invoke: async (event) => {
      events.push(event);
      if (failures > 0) {
        failures -= 1;
        return { error: { errorType: 'Error', errorMessage: 'boom' } };
      }
      return {};
    },
  };
}

const rule = (properties: Record<string, unknown>) => ({ logicalId: 'CheckProcessorsEventsRuleSchedule1', name: 'rule-1', arn: 'arn:aws:events:us-east-1:000000000000:rule/rule-1', properties });

describe('local schedules (AWS::Events::Rule, as EventBridge runs them)', () => {
  it('reads rate expressions as EventBridge does, and nothing else', () => {
    expect(rateSeconds('rate(5 minutes)')).toBe(300);
    expect(rateSeconds('rate(1 minute)')).toBe(60);
    expect(rateSeconds('rate(2 hours)')).toBe(7200);
    expect(rateSeconds('rate(1 day)')).toBe(86_400);
    expect(rateSeconds('rate(0 minutes)')).toBeUndefined();
    expect(rateSeconds('cron(0 12 * * ? *)')).toBeUndefined();
    expect(rateSeconds('rate(5 seconds)')).toBeUndefined();
  });

  it('takes a shorter interval from FACEWATCH_SCHEDULE_SECONDS, and refuses a wrong one', () => {
    expect(scheduleSecondsFromEnvironment({})).toBeUndefined();
    expect(scheduleSecondsFromEnvironment({ FACEWATCH_SCHEDULE_SECONDS: '2.5' })).toBe(2.5);
    expect(() => scheduleSecondsFromEnvironment({ FACEWATCH_SCHEDULE_SECONDS: 'soon' })).toThrow('FACEWATCH_SCHEDULE_SECONDS is "soon"');
  });

  it('sends the Scheduled Event EventBridge sends', () => {
    expect(scheduledEvent(rule({}), 'us-east-1', '000000000000', new Date('2026-12-07T12:00:00.123Z'))).toEqual({
      version: '0',
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: '2026-12-07T12:00:00Z',
      region: 'us-east-1',
      resources: ['arn:aws:events:us-east-1:000000000000:rule/rule-1'],
      detail: {},
    });
  });

  it('given an enabled rate rule, when its interval passes, then its function gets the event, again at every tick, never before the first interval, and no more once stopped', async () => {
    const target = recordingTarget();
    const schedules = startSchedules({
      rules: [rule({ ScheduleExpression: 'rate(5 minutes)', State: 'ENABLED', Targets: [{ Arn: ARN, Id: 'check' }] })],
      targetOf: (arn) => (arn === ARN ? target : undefined),
      region: 'us-east-1',
      accountId: '000000000000',
      intervalSeconds: 0.1,
    });
    expect(schedules.schedules).toEqual([{ rule: 'CheckProcessorsEventsRuleSchedule1', expression: 'rate(5 minutes)', intervalSeconds: 0.1, targets: ['CheckProcessorsLambdaFunction'] }]);
    const started = Date.now();
    await waitFor('a first event', () => target.events.length >= 1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    await waitFor('a second tick', () => target.events.length >= 2);
    await schedules.stop();
    const fired = target.events.length;
    expect(fired).toBeGreaterThanOrEqual(2);
    expect(target.events[0]).toMatchObject({ 'detail-type': 'Scheduled Event', resources: ['arn:aws:events:us-east-1:000000000000:rule/rule-1'] });
    await sleep(250);
    expect(target.events).toHaveLength(fired);
  });

  it('sends a target\'s constant Input, retries a failed event twice as Lambda does, and skips cron, disabled and foreign targets with a word', async () => {
    const target = recordingTarget(5);
    const warnings: string[] = [];
    const schedules = startSchedules({
      rules: [
        rule({ ScheduleExpression: 'rate(1 minute)', Targets: [{ Arn: ARN, Id: 'check', Input: '{"dryRun":true}' }] }),
        { ...rule({ ScheduleExpression: 'cron(0 12 * * ? *)', Targets: [{ Arn: ARN, Id: 'noon' }] }), logicalId: 'Noon' },
        { ...rule({ ScheduleExpression: 'rate(1 minute)', State: 'DISABLED', Targets: [{ Arn: ARN, Id: 'off' }] }), logicalId: 'Off' },
        { ...rule({ ScheduleExpression: 'rate(1 minute)', Targets: [{ Arn: 'arn:aws:sqs:us-east-1:000000000000:q', Id: 'queue' }] }), logicalId: 'Queue' },
      ],
      targetOf: (arn) => (arn === ARN ? target : undefined),
      region: 'us-east-1',
      accountId: '000000000000',
      intervalSeconds: 0.1,
      retryDelaysMs: [10, 10],
      warn: (line) => warnings.push(line),
    });
    expect(schedules.schedules.map((s) => s.rule)).toEqual(['CheckProcessorsEventsRuleSchedule1']);
    expect(warnings.join('\n')).toContain('Noon: schedule cron(0 12 * * ? *) is not run locally');
    expect(warnings.join('\n')).toContain('Queue: target arn:aws:sqs:us-east-1:000000000000:q is not a function of the stack');

    await waitFor('the last attempt', () => warnings.some((w) => w.includes('after 3 attempts')));
    await schedules.stop();
    // one tick: the first attempt and Lambda's two retries, each with the constant input
    expect(target.events.slice(0, 3)).toEqual([{ dryRun: true }, { dryRun: true }, { dryRun: true }]);
    expect(warnings.join('\n')).toContain('failed on its scheduled event after 3 attempts: Error: boom');
  });
});
