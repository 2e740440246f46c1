/**
 * Wraps a port so that chosen calls fail as the real service would under throttling or an outage,
 * while every other call goes through to the real adapter.
 */
export class InjectedFault extends Error {
  constructor(name = 'ProvisionedThroughputExceededException', message = 'Injected fault: rate of requests exceeds the allowed throughput') {
    super(message);
    this.name = name;
  }
}

export interface FaultPlan {
  /** Fails the calls whose 0-based index (per method) is listed. */
  failCalls: number[];
  error?: () => Error;
}

export function withFaults<T extends object>(target: T, faults: Partial<Record<keyof T, FaultPlan>>): T & { calls: Partial<Record<keyof T, unknown[][]>> } {
  const calls: Partial<Record<keyof T, unknown[][]>> = {};
  return new Proxy(target, {
    get(object, property, receiver) {
      if (property === 'calls') return calls;
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const key = property as keyof T;
        const seen = (calls[key] ??= []);
        seen.push(args);
        const plan = faults[key];
        if (plan?.failCalls.includes(seen.length - 1)) throw plan.error?.() ?? new InjectedFault();
        return value.apply(object, args);
      };
    },
  }) as T & { calls: Partial<Record<keyof T, unknown[][]>> };
}
