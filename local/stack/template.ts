/**
 * Reads the CloudFormation template `osls package` compiled and evaluates it the way CloudFormation would
 * for one account/region: conditions, intrinsic functions, pseudo parameters, a dependency order, and the
 * Ref/GetAtt value of every resource. The local stack creates and wires everything from this model, so
 * the template stays the only list of resources.
 */

export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_PARTITION = 'aws';

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Condition?: string;
  DependsOn?: string | string[];
}

export interface CfnTemplate {
  Parameters?: Record<string, { Default?: unknown }>;
  Conditions?: Record<string, unknown>;
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, unknown>;
}

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

/** What a resource answers to `Ref` and `Fn::GetAtt`. */
export interface ResourceAttributes {
  ref: string;
  attributes: Record<string, string>;
}

/** The value CloudFormation uses for `{ Ref: AWS::NoValue }`: the property disappears. */
const NO_VALUE = Symbol('AWS::NoValue');

export interface EvaluationContext {
  stackName: string;
  region: string;
  accountId: string;
  parameters?: Record<string, unknown>;
}

const arn = (ctx: EvaluationContext, service: string, resource: string, region = ctx.region, account = ctx.accountId) =>
  `arn:${LOCAL_PARTITION}:${service}:${region}:${account}:${resource}`;

/**
 * Physical names and ARNs per resource type, as AWS returns them. Resources with no local meaning
 * (roles, log groups...) still get plausible values so templates referencing them evaluate.
 */
function defaultAttributes(ctx: EvaluationContext, logicalId: string, type: string, props: Record<string, unknown>): ResourceAttributes {
  const generated = `${ctx.stackName}-${logicalId}`;
  const name = (key: string, fallback = generated) => (typeof props[key] === 'string' ? (props[key] as string) : fallback);
  switch (type) {
    case 'AWS::S3::Bucket': {
      const bucket = name('BucketName', generated.toLowerCase());
      return {
        ref: bucket,
        attributes: {
          Arn: `arn:${LOCAL_PARTITION}:s3:::${bucket}`,
          DomainName: `${bucket}.s3.amazonaws.com`,
          RegionalDomainName: `${bucket}.s3.${ctx.region}.amazonaws.com`,
        },
      };
    }
    case 'AWS::DynamoDB::Table': {
      const table = name('TableName');
      return { ref: table, attributes: { Arn: arn(ctx, 'dynamodb', `table/${table}`), StreamArn: arn(ctx, 'dynamodb', `table/${table}/stream/local`) } };
    }
    case 'AWS::Kinesis::Stream': {
      const stream = name('Name');
      return { ref: stream, attributes: { Arn: arn(ctx, 'kinesis', `stream/${stream}`) } };
    }
    case 'AWS::Kinesis::StreamConsumer': {
      // Ref and ConsumerARN: <stream ARN>/consumer/<name>:<creation epoch seconds>, as AWS forms it.
      const consumerName = name('ConsumerName');
      const streamArn = String(props.StreamARN ?? arn(ctx, 'kinesis', 'stream/unknown'));
      const consumerArn = `${streamArn}/consumer/${consumerName}:1700000000`;
      return { ref: consumerArn, attributes: { ConsumerARN: consumerArn, ConsumerName: consumerName, StreamARN: streamArn, ConsumerStatus: 'ACTIVE' } };
    }
    case 'AWS::KinesisVideo::Stream': {
      const stream = name('Name');
      // AWS appends the creation time; the provisioner replaces this with the ARN the service returns.
      return { ref: stream, attributes: { Arn: arn(ctx, 'kinesisvideo', `stream/${stream}/0`) } };
    }
    case 'AWS::SQS::Queue': {
      const queue = name('QueueName');
      return {
        ref: `http://sqs.${ctx.region}.localhost/${ctx.accountId}/${queue}`,
        attributes: { Arn: arn(ctx, 'sqs', queue), QueueName: queue, QueueUrl: `http://sqs.${ctx.region}.localhost/${ctx.accountId}/${queue}` },
      };
    }
    case 'AWS::SNS::Topic': {
      const topic = name('TopicName');
      const topicArn = arn(ctx, 'sns', topic);
      return { ref: topicArn, attributes: { TopicArn: topicArn, TopicName: topic } };
    }
    case 'AWS::SNS::Subscription':
      return { ref: `${arn(ctx, 'sns', 'subscription')}:${logicalId}`, attributes: {} };
    case 'AWS::Lambda::Function': {
      const fn = name('FunctionName');
      return { ref: fn, attributes: { Arn: arn(ctx, 'lambda', `function:${fn}`) } };
    }
    case 'AWS::Lambda::Version':
      return { ref: `${arn(ctx, 'lambda', `function:${logicalId}`)}:1`, attributes: { Version: '1' } };
    case 'AWS::Rekognition::Collection': {
      const collection = name('CollectionId');
      return { ref: collection, attributes: { Arn: arn(ctx, 'rekognition', `collection/${collection}`) } };
    }
    case 'AWS::Rekognition::StreamProcessor': {
      const processor = name('Name');
      return { ref: processor, attributes: { Arn: arn(ctx, 'rekognition', `streamprocessor/${processor}`), Status: 'STOPPED' } };
    }
    case 'AWS::IAM::Role': {
      const role = name('RoleName');
      return { ref: role, attributes: { Arn: `arn:${LOCAL_PARTITION}:iam::${ctx.accountId}:role/${role}`, RoleId: `AROA${logicalId.toUpperCase().slice(0, 17)}` } };
    }
    case 'AWS::Logs::LogGroup': {
      const group = name('LogGroupName');
      return { ref: group, attributes: { Arn: arn(ctx, 'logs', `log-group:${group}:*`) } };
    }
    case 'AWS::Events::Rule': {
      const rule = name('Name');
      return { ref: rule, attributes: { Arn: arn(ctx, 'events', `rule/${rule}`) } };
    }
    case 'AWS::ApiGatewayV2::Api': {
      const id = logicalId.toLowerCase().slice(0, 10);
      return { ref: id, attributes: { ApiEndpoint: `http://127.0.0.1`, ApiId: id } };
    }
    case 'AWS::ApiGatewayV2::Authorizer': {
      const id = logicalId.toLowerCase().slice(0, 10);
      return { ref: id, attributes: { AuthorizerId: id } };
    }
    // The console's pieces (resources/console.yml) are stood in for locally (the API token, the HTTP API's port):
    // their ids only have to evaluate, in AWS's shapes.
    case 'AWS::Cognito::UserPool': {
      const id = `${ctx.region}_${logicalId.replace(/[^A-Za-z0-9]/g, '').slice(0, 9).padEnd(9, '0')}`;
      const arnOf = `arn:${LOCAL_PARTITION}:cognito-idp:${ctx.region}:${ctx.accountId}:userpool/${id}`;
      return { ref: id, attributes: { Arn: arnOf, UserPoolId: id, ProviderName: `cognito-idp.${ctx.region}.amazonaws.com/${id}`, ProviderURL: `https://cognito-idp.${ctx.region}.amazonaws.com/${id}` } };
    }
    case 'AWS::Cognito::UserPoolClient': {
      const id = `local${logicalId.toLowerCase().replace(/[^a-z0-9]/g, '')}`.slice(0, 26);
      return { ref: id, attributes: { ClientId: id } };
    }
    case 'AWS::Cognito::UserPoolDomain':
      return { ref: generated.toLowerCase(), attributes: {} };
    case 'AWS::CloudFront::Distribution': {
      const id = `E${logicalId.toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 13)}`;
      return { ref: id, attributes: { Id: id, DomainName: `${id.toLowerCase()}.cloudfront.net` } };
    }
    case 'AWS::CloudFront::OriginAccessControl': {
      const id = `E${logicalId.toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 13)}`;
      return { ref: id, attributes: { Id: id } };
    }
    case 'AWS::CloudFront::Function': {
      const fnArn = `arn:${LOCAL_PARTITION}:cloudfront::${ctx.accountId}:function/${name('Name')}`;
      return { ref: fnArn, attributes: { FunctionARN: fnArn, Stage: 'LIVE' } };
    }
    default:
      return { ref: generated, attributes: { Arn: arn(ctx, 'local', generated) } };
  }
}

type Json = unknown;

/**
 * The evaluated template. Resources are visited in dependency order (`order`); each provisioner may
 * replace the default attributes with what the local service answered (e.g. an ARN with a creation time).
 */
export class EvaluatedTemplate {
  readonly order: string[];
  private readonly attributes = new Map<string, ResourceAttributes>();
  private readonly conditionCache = new Map<string, boolean>();

  constructor(
    readonly template: CfnTemplate,
    readonly ctx: EvaluationContext,
  ) {
    if (!template || typeof template.Resources !== 'object') throw new TemplateError('The template has no Resources section');
    this.order = dependencyOrder(template);
  }

  /** False when the resource's Condition evaluates to false (CloudFormation does not create it). */
  isIncluded(logicalId: string): boolean {
    const resource = this.resource(logicalId);
    return resource.Condition === undefined || this.condition(resource.Condition);
  }

  resource(logicalId: string): CfnResource {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new TemplateError(`The template references ${logicalId}, which is not a resource of the template`);
    return resource;
  }

  /** Logical ids of the included resources of a type, in dependency order. */
  ofType(type: string): string[] {
    return this.order.filter((id) => this.template.Resources[id].Type === type && this.isIncluded(id));
  }

  condition(name: string): boolean {
    const cached = this.conditionCache.get(name);
    if (cached !== undefined) return cached;
    const definition = this.template.Conditions?.[name];
    if (definition === undefined) throw new TemplateError(`Condition ${name} is not defined in the template`);
    const value = this.evaluate(definition);
    if (typeof value !== 'boolean') throw new TemplateError(`Condition ${name} does not evaluate to a boolean`);
    this.conditionCache.set(name, value);
    return value;
  }

  /** The resource's properties with every intrinsic function evaluated. */
  properties(logicalId: string): Record<string, unknown> {
    return (this.evaluate(this.resource(logicalId).Properties ?? {}) as Record<string, unknown>) ?? {};
  }

  /** Ref/GetAtt values of a resource: the provisioner's, else the defaults for its type. */
  attributesOf(logicalId: string): ResourceAttributes {
    const known = this.attributes.get(logicalId);
    if (known) return known;
    const resource = this.resource(logicalId);
    const computed = defaultAttributes(this.ctx, logicalId, resource.Type, this.nameProperties(logicalId));
    this.attributes.set(logicalId, computed);
    return computed;
  }

  /** Records what the local service answered for a resource (overrides the defaults). */
  setAttributes(logicalId: string, attributes: Partial<ResourceAttributes> & { attributes?: Record<string, string> }): void {
    const current = this.attributesOf(logicalId);
    this.attributes.set(logicalId, { ref: attributes.ref ?? current.ref, attributes: { ...current.attributes, ...attributes.attributes } });
  }

  /** Reverse lookup: the logical id whose Ref or Arn is this value (e.g. an event source ARN). */
  logicalIdOf(value: string): string | undefined {
    return this.order.find((id) => {
      const a = this.attributesOf(id);
      return a.ref === value || Object.values(a.attributes).includes(value);
    });
  }

  /** Only the string properties that name a resource are needed for its default attributes. */
  private nameProperties(logicalId: string): Record<string, unknown> {
    const props = this.resource(logicalId).Properties ?? {};
    const out: Record<string, unknown> = {};
    for (const key of ['BucketName', 'TableName', 'Name', 'QueueName', 'TopicName', 'FunctionName', 'CollectionId', 'RoleName', 'LogGroupName', 'ConsumerName', 'StreamARN']) {
      if (props[key] !== undefined) out[key] = this.evaluate(props[key]);
    }
    return out;
  }

  private pseudo(name: string): string | undefined {
    switch (name) {
      case 'AWS::AccountId':
        return this.ctx.accountId;
      case 'AWS::Region':
        return this.ctx.region;
      case 'AWS::Partition':
        return LOCAL_PARTITION;
      case 'AWS::StackName':
        return this.ctx.stackName;
      case 'AWS::StackId':
        return arn(this.ctx, 'cloudformation', `stack/${this.ctx.stackName}/local`);
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      default:
        return undefined;
    }
  }

  private ref(name: string): unknown {
    if (name === 'AWS::NoValue') return NO_VALUE;
    const pseudo = this.pseudo(name);
    if (pseudo !== undefined) return pseudo;
    const parameter = this.template.Parameters?.[name];
    if (parameter) return this.ctx.parameters?.[name] ?? parameter.Default;
    return this.attributesOf(name).ref;
  }

  private getAtt(logicalId: string, attribute: string): string {
    const value = this.attributesOf(logicalId).attributes[attribute];
    if (value === undefined) {
      throw new TemplateError(`Fn::GetAtt ${logicalId}.${attribute}: the local stack does not know attribute ${attribute} of ${this.resource(logicalId).Type}`);
    }
    return value;
  }

  private sub(template: string, variables: Record<string, unknown>): string {
    return template.replace(/\$\{(!?)([^}]+)\}/g, (_whole, literal: string, expression: string) => {
      if (literal) return `\${${expression}}`;
      const name = expression.trim();
      if (name in variables) return String(variables[name]);
      if (this.pseudo(name) !== undefined || this.template.Parameters?.[name]) return String(this.ref(name));
      const dot = name.indexOf('.');
      if (dot > 0) return this.getAtt(name.slice(0, dot), name.slice(dot + 1));
      return String(this.ref(name));
    });
  }

  evaluate(value: Json): unknown {
    if (Array.isArray(value)) return value.map((v) => this.evaluate(v)).filter((v) => v !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, arg] = entries[0];
      if (key === 'Ref') return this.ref(String(arg));
      if (key === 'Condition' && typeof arg === 'string') return this.condition(arg);
      if (key.startsWith('Fn::')) return this.intrinsic(key, arg);
    }
    const out: Record<string, unknown> = {};
    for (const [key, v] of entries) {
      const evaluated = this.evaluate(v);
      if (evaluated !== NO_VALUE) out[key] = evaluated;
    }
    return out;
  }

  private intrinsic(name: string, arg: unknown): unknown {
    const list = (n: number) => {
      if (!Array.isArray(arg) || arg.length < n) throw new TemplateError(`${name} expects a list of ${n} arguments, got ${JSON.stringify(arg)}`);
      return arg as unknown[];
    };
    switch (name) {
      case 'Fn::GetAtt': {
        const [id, attribute] = typeof arg === 'string' ? [arg.slice(0, arg.indexOf('.')), arg.slice(arg.indexOf('.') + 1)] : (list(2) as string[]);
        return this.getAtt(String(this.evaluate(id)), String(this.evaluate(attribute)));
      }
      case 'Fn::Sub': {
        if (typeof arg === 'string') return this.sub(arg, {});
        const [text, vars] = list(2);
        return this.sub(String(text), (this.evaluate(vars) as Record<string, unknown>) ?? {});
      }
      case 'Fn::Join': {
        const [delimiter, items] = list(2);
        const values = this.evaluate(items);
        if (!Array.isArray(values)) throw new TemplateError(`Fn::Join expects a list, got ${JSON.stringify(values)}`);
        return values.map(String).join(String(delimiter));
      }
      case 'Fn::Select': {
        const [index, items] = list(2);
        const values = this.evaluate(items) as unknown[];
        const i = Number(this.evaluate(index));
        if (!Array.isArray(values) || !(i >= 0 && i < values.length)) throw new TemplateError(`Fn::Select index ${i} is out of range`);
        return values[i];
      }
      case 'Fn::Split': {
        const [delimiter, text] = list(2);
        return String(this.evaluate(text)).split(String(delimiter));
      }
      case 'Fn::If': {
        const [condition, whenTrue, whenFalse] = list(3);
        return this.evaluate(this.condition(String(condition)) ? whenTrue : whenFalse);
      }
      case 'Fn::Equals': {
        const [a, b] = list(2);
        return JSON.stringify(this.evaluate(a)) === JSON.stringify(this.evaluate(b));
      }
      case 'Fn::Not':
        return !this.evaluate(list(1)[0]);
      case 'Fn::And':
        return list(1).every((c) => this.evaluate(c) === true);
      case 'Fn::Or':
        return list(1).some((c) => this.evaluate(c) === true);
      case 'Fn::Base64':
        return Buffer.from(String(this.evaluate(arg))).toString('base64');
      case 'Fn::GetAZs':
        return ['a', 'b', 'c'].map((z) => `${this.ctx.region}${z}`);
      default:
        throw new TemplateError(`Intrinsic function ${name} is not supported by the local stack`);
    }
  }
}

/** Logical ids a value refers to (Ref, GetAtt, names inside Fn::Sub). */
function references(value: unknown, out: Set<string>): void {
  if (Array.isArray(value)) {
    value.forEach((v) => references(v, out));
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (key === 'Ref' && typeof v === 'string' && !v.startsWith('AWS::')) out.add(v);
    else if (key === 'Fn::GetAtt') out.add(typeof v === 'string' ? v.split('.')[0] : String((v as unknown[])[0]));
    else if (key === 'Fn::Sub') {
      const text = typeof v === 'string' ? v : String((v as unknown[])[0]);
      for (const m of text.matchAll(/\$\{([^!}][^}.]*)(?:\.[^}]*)?\}/g)) if (!m[1].startsWith('AWS::')) out.add(m[1].trim());
      if (Array.isArray(v)) references(v[1], out);
    } else references(v, out);
  }
}

/** Topological order (dependencies first); ties keep the template's order. */
export function dependencyOrder(template: CfnTemplate): string[] {
  const ids = Object.keys(template.Resources);
  const deps = new Map<string, Set<string>>();
  for (const id of ids) {
    const resource = template.Resources[id];
    const found = new Set<string>();
    references(resource.Properties, found);
    for (const d of [resource.DependsOn ?? []].flat()) found.add(d);
    deps.set(id, new Set([...found].filter((d) => d in template.Resources && d !== id)));
  }
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]) => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') throw new TemplateError(`Circular dependency between resources: ${[...path, id].join(' -> ')}`);
    state.set(id, 'visiting');
    for (const d of deps.get(id) ?? []) visit(d, [...path, id]);
    state.set(id, 'done');
    order.push(id);
  };
  ids.forEach((id) => visit(id, []));
  return order;
}
