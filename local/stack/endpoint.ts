/**
 * The stack's single AWS endpoint: the gateway every SDK call goes through, metering each request's billable
 * units, warning of what local IAM denies, and injecting the faults FACEWATCH_FAULTS names from the start
 * (local/gateway/faults.ts; /_facewatch/faults changes them later). Its backends are added as they start.
 */
import { FaultInjector, parseFaults } from '../gateway/faults';
import { startGateway, type Gateway } from '../gateway/server';
import { UsageMeter } from '../usage/meter';

export interface EndpointOptions {
  port: number;
  host: string;
  debug: (line: string) => void;
  warn: (line: string) => void;
}

export async function startEndpoint({ port, host, debug, warn }: EndpointOptions): Promise<{ gateway: Gateway; usage: UsageMeter }> {
  const usage = new UsageMeter();
  let faultRules;
  try {
    faultRules = parseFaults(process.env.FACEWATCH_FAULTS);
  } catch (error) {
    throw new Error(`FACEWATCH_FAULTS: ${(error as Error).message}`);
  }
  const gateway = await startGateway({
    port,
    host,
    services: {},
    onError: (e) => debug(`gateway: ${String(e)}`),
    onDenied: (d) => warn(`IAM denied ${d.action} on ${d.resource} to ${d.principalArn} (its role in the template does not allow it)`),
    observe: usage.observe,
    observedBodies: usage.bodies,
    faults: new FaultInjector(faultRules),
  });
  if (faultRules.length) warn(`injecting faults (FACEWATCH_FAULTS): ${JSON.stringify(faultRules)}`);
  return { gateway, usage };
}
