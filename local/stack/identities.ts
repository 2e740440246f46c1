/**
 * What the endpoint needs to enforce IAM locally: each function's identity (its own access key, its role's
 * policy statements from the template) and the video streams' ARNs that requests by stream name resolve to.
 */
import { identitiesFromTemplate, type PolicyStatement } from '../gateway/iam';
import type { FunctionDefinition } from './functions';
import type { ResourceInfo } from './stack-info';
import { LOCAL_ACCOUNT_ID, type EvaluatedTemplate } from './template';

export function functionIdentities(cfn: EvaluatedTemplate, definitions: FunctionDefinition[]) {
  const { template } = cfn;
  const roleLogicalIdOf = (functionId: string) => {
    const role = template.Resources[functionId]?.Properties?.Role as { 'Fn::GetAtt'?: [string, string] } | undefined;
    return Array.isArray(role?.['Fn::GetAtt']) ? role['Fn::GetAtt'][0] : undefined;
  };
  return identitiesFromTemplate(
    definitions.map((d) => ({ name: d.name, roleLogicalId: roleLogicalIdOf(d.logicalId) })),
    (roleId) => {
      if (!template.Resources[roleId]) return undefined;
      const props = cfn.properties(roleId) as { RoleName?: string; Policies?: { PolicyDocument?: { Statement?: PolicyStatement[] | PolicyStatement } }[] };
      const statements = (props.Policies ?? []).flatMap((p) => {
        const st = p.PolicyDocument?.Statement;
        return st ? (Array.isArray(st) ? st : [st]) : [];
      });
      return { roleName: String(props.RoleName ?? roleId), statements };
    },
    LOCAL_ACCOUNT_ID,
  );
}

/** Video stream name → ARN, from the created resources. */
export function videoStreamArns(resources: Record<string, ResourceInfo>): Map<string, string> {
  return new Map(
    Object.values(resources)
      .filter((r) => r.type === 'AWS::KinesisVideo::Stream' && r.attributes.Arn)
      .map((r) => [r.ref, r.attributes.Arn]),
  );
}
