/** AWS::Events::Rule: kept for the local scheduler (schedules.ts), which runs its rate expression against its targets. */
import type { Provisioner } from './provisioner';

export const provisionRule: Provisioner = async ({ id }, { found }) => {
  found.scheduleRules.push(id);
};
