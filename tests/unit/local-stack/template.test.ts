import { EvaluatedTemplate, TemplateError, dependencyOrder, type CfnTemplate } from '../../../local/stack/template';

const ctx = { stackName: 'facewatch-local', region: 'us-east-1', accountId: '000000000000' };

describe('EvaluatedTemplate: the intrinsics the compiled template uses', () => {
  const template: CfnTemplate = {
    Conditions: {
      IsManaged: { 'Fn::Equals': ['self', 'managed'] },
      HasEmail: { 'Fn::Not': [{ 'Fn::Equals': ['me@example.com', ''] }] },
    },
    Resources: {
      Bucket: { Type: 'AWS::S3::Bucket', Properties: { BucketName: { 'Fn::Sub': 'faces-${AWS::AccountId}-${AWS::Region}' } } },
      Table: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'people' } },
      Stream: { Type: 'AWS::Kinesis::Stream', Properties: { Name: 'cam-face-search' } },
      Queue: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'dlq' } },
      Topic: { Type: 'AWS::SNS::Topic', Properties: { TopicName: 'alerts' } },
      Processor: { Type: 'AWS::Rekognition::StreamProcessor', Condition: 'IsManaged', Properties: { Name: 'p' } },
      Fn: {
        Type: 'AWS::Lambda::Function',
        DependsOn: ['Role'],
        Properties: {
          FunctionName: 'svc-local-indexFace',
          Environment: {
            Variables: {
              TABLE: { Ref: 'Table' },
              TABLE_ARN: { 'Fn::GetAtt': ['Table', 'Arn'] },
              STREAM_ARN: { 'Fn::GetAtt': 'Stream.Arn' },
              TOPIC: { Ref: 'Topic' },
              JOINED: { 'Fn::Join': ['/', ['a', { Ref: 'AWS::Partition' }, { Ref: 'AWS::StackName' }]] },
              PICKED: { 'Fn::Select': [1, { 'Fn::Split': [',', 'x,y,z'] }] },
              SUBBED: { 'Fn::Sub': ['${Name}:${Bucket.Arn}:${!Literal}', { Name: 'n' }] },
              MODE: { 'Fn::If': ['IsManaged', 'managed', 'self'] },
              GONE: { 'Fn::If': ['IsManaged', 'x', { Ref: 'AWS::NoValue' }] },
            },
          },
        },
      },
      Role: { Type: 'AWS::IAM::Role', Properties: {} },
    },
  };

  test('given a compiled template, when its function environment is evaluated, then every intrinsic resolves as CloudFormation would', () => {
    const cfn = new EvaluatedTemplate(template, ctx);

    const env = (cfn.properties('Fn').Environment as { Variables: Record<string, unknown> }).Variables;

    expect(env).toEqual({
      TABLE: 'people',
      TABLE_ARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/people',
      STREAM_ARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/cam-face-search',
      TOPIC: 'arn:aws:sns:us-east-1:000000000000:alerts',
      JOINED: 'a/aws/facewatch-local',
      PICKED: 'y',
      SUBBED: 'n:arn:aws:s3:::faces-000000000000-us-east-1:${Literal}',
      MODE: 'self',
    });
  });

  test('given conditions, then resources whose condition is false are not included', () => {
    const cfn = new EvaluatedTemplate(template, ctx);

    expect(cfn.isIncluded('Processor')).toBe(false);
    expect(cfn.isIncluded('Bucket')).toBe(true);
    expect(cfn.condition('HasEmail')).toBe(true);
  });

  test('given a queue, then Ref is its URL and the provisioner can replace it with the one the service answered', () => {
    const cfn = new EvaluatedTemplate(template, ctx);

    cfn.setAttributes('Queue', { ref: 'http://127.0.0.1:4566/000000000000/dlq', attributes: { QueueUrl: 'http://127.0.0.1:4566/000000000000/dlq' } });

    expect(cfn.evaluate({ Ref: 'Queue' })).toBe('http://127.0.0.1:4566/000000000000/dlq');
    expect(cfn.evaluate({ 'Fn::GetAtt': ['Queue', 'Arn'] })).toBe('arn:aws:sqs:us-east-1:000000000000:dlq');
    expect(cfn.logicalIdOf('arn:aws:sqs:us-east-1:000000000000:dlq')).toBe('Queue');
  });

  test('dependencies come before their dependants (Ref, GetAtt, Sub and DependsOn)', () => {
    const order = dependencyOrder(template);

    for (const dependency of ['Table', 'Stream', 'Topic', 'Bucket', 'Role']) expect(order.indexOf(dependency)).toBeLessThan(order.indexOf('Fn'));
  });

  test('an unknown attribute, resource or intrinsic fails with a message naming it', () => {
    const cfn = new EvaluatedTemplate(template, ctx);

    expect(() => cfn.evaluate({ 'Fn::GetAtt': ['Table', 'Nope'] })).toThrow(/Table\.Nope/);
    expect(() => cfn.evaluate({ Ref: 'Missing' })).toThrow(/Missing/);
    expect(() => cfn.evaluate({ 'Fn::ImportValue': 'x' })).toThrow(TemplateError);
  });

  test('a circular dependency is reported with its path', () => {
    const cyclic: CfnTemplate = {
      Resources: {
        A: { Type: 'AWS::SNS::Topic', Properties: { TopicName: { Ref: 'B' } } },
        B: { Type: 'AWS::SNS::Topic', Properties: { TopicName: { Ref: 'A' } } },
      },
    };

    expect(() => dependencyOrder(cyclic)).toThrow(/A -> B -> A/);
  });
});
