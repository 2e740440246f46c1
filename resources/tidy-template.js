'use strict';
/**
 * Last touches on the compiled template, after the per-function roles exist (hook order follows the plugin list):
 * - drops the framework's shared role IamRoleLambdaExecution, which no function uses (each has its own);
 * - drops `kinesis:ListStreams` from the stream grants the framework adds: ListStreams is an account-level
 *   action, so granting it on a stream ARN allows nothing (cfn-lint/IAM: no resource-level permissions).
 */
class TidyTemplate {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:finalize': () => this.tidy() };
  }

  tidy() {
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    const roles = Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Role');
    const used = Object.values(resources).some(
      (r) => r.Type === 'AWS::Lambda::Function' && JSON.stringify(r.Properties.Role ?? '').includes('"IamRoleLambdaExecution"'),
    );
    if (!used) delete resources.IamRoleLambdaExecution;
    for (const role of roles) {
      for (const policy of role.Properties?.Policies ?? []) {
        const statements = policy.PolicyDocument.Statement;
        for (const statement of statements) {
          if (Array.isArray(statement.Action)) statement.Action = statement.Action.filter((a) => a !== 'kinesis:ListStreams');
        }
        policy.PolicyDocument.Statement = statements.filter((s) => !Array.isArray(s.Action) || s.Action.length > 0);
      }
    }
  }
}

module.exports = TidyTemplate;
