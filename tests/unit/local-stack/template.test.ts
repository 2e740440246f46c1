import { EvaluatedTemplate, TemplateError, dependencyOrder, type CfnTemplate } from '../../../local/stack/template';
import { bucketsBehindDistributions, localBehaviours } from '../../../local/stack/console-hosting';

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

describe('the operator console\'s resources on the local stack (resources/console.yml)', () => {
  const template: CfnTemplate = {
    Resources: {
      HttpApi: { Type: 'AWS::ApiGatewayV2::Api', Properties: {} },
      Pool: { Type: 'AWS::Cognito::UserPool', Properties: {} },
      Client: { Type: 'AWS::Cognito::UserPoolClient', Properties: { UserPoolId: { Ref: 'Pool' } } },
      Domain: { Type: 'AWS::Cognito::UserPoolDomain', Properties: { UserPoolId: { Ref: 'Pool' }, Domain: 'facewatch-local-000000000000' } },
      Pages: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'console-pages' } },
      Faces: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'faces' } },
      Oac: { Type: 'AWS::CloudFront::OriginAccessControl', Properties: {} },
      Paths: { Type: 'AWS::CloudFront::Function', Properties: { Name: 'console-paths' } },
      Cdn: {
        Type: 'AWS::CloudFront::Distribution',
        Properties: {
          DistributionConfig: {
            Origins: [
              { Id: 'pages', DomainName: { 'Fn::GetAtt': ['Pages', 'RegionalDomainName'] }, OriginAccessControlId: { 'Fn::GetAtt': ['Oac', 'Id'] } },
              { Id: 'api', DomainName: { 'Fn::Sub': '${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}' } },
            ],
            DefaultCacheBehavior: { TargetOriginId: 'pages', FunctionAssociations: [{ FunctionARN: { 'Fn::GetAtt': ['Paths', 'FunctionARN'] } }] },
            CacheBehaviors: [
              { PathPattern: '/console/*', TargetOriginId: 'pages' },
              { PathPattern: '/api/*', TargetOriginId: 'api' },
            ],
          },
        },
      },
      Authorizer: {
        Type: 'AWS::ApiGatewayV2::Authorizer',
        Properties: { JwtConfiguration: { Issuer: { 'Fn::Sub': 'https://cognito-idp.${AWS::Region}.amazonaws.com/${Pool}' }, Audience: [{ Ref: 'Client' }] } },
      },
      Consumer: { Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables: { CONSOLE_URL: { 'Fn::Sub': 'https://${Cdn.DomainName}/console/' } } } } },
    },
  };

  test('given the console\'s resources, then their Refs and GetAtts evaluate in AWS\'s shapes', () => {
    const cfn = new EvaluatedTemplate(template, ctx);
    const props = cfn.properties('Cdn') as { DistributionConfig: { Origins: { DomainName: string; OriginAccessControlId?: string }[] } };
    expect(props.DistributionConfig.Origins.map((o) => o.DomainName)).toEqual(['console-pages.s3.us-east-1.amazonaws.com', 'httpapi.execute-api.us-east-1.amazonaws.com']);
    expect(props.DistributionConfig.Origins[0].OriginAccessControlId).toMatch(/^E[A-Z0-9]+$/);
    const jwt = (cfn.properties('Authorizer') as { JwtConfiguration: { Issuer: string; Audience: string[] } }).JwtConfiguration;
    expect(jwt.Issuer).toMatch(/^https:\/\/cognito-idp\.us-east-1\.amazonaws\.com\/us-east-1_\w{9}$/);
    expect(jwt.Audience).toEqual([cfn.attributesOf('Client').ref]);
    expect(cfn.evaluate({ 'Fn::GetAtt': ['Paths', 'FunctionARN'] })).toBe('arn:aws:cloudfront::000000000000:function/console-paths');
    // until the stack records the HTTP API's address as the distribution's, the consumer's URL names a CloudFront domain
    expect((cfn.properties('Consumer').Environment as { Variables: Record<string, string> }).Variables.CONSOLE_URL).toMatch(/^https:\/\/e\w+\.cloudfront\.net\/console\/$/);
    cfn.setAttributes('Cdn', { attributes: { DomainName: '127.0.0.1:3000' } });
    expect((cfn.properties('Consumer').Environment as { Variables: Record<string, string> }).Variables.CONSOLE_URL).toBe('https://127.0.0.1:3000/console/');
  });

  test('the buckets behind a distribution are its page origins only, and each path pattern says what serves it locally', () => {
    expect([...bucketsBehindDistributions(template)]).toEqual(['Pages']);
    const config = template.Resources.Cdn.Properties!.DistributionConfig as Parameters<typeof localBehaviours>[0];
    expect(localBehaviours(config, template, 'http://127.0.0.1:3000')).toEqual([
      'http://127.0.0.1:3000/console/* -> console/dist (bucket Pages on AWS)',
      'http://127.0.0.1:3000/api/* -> the HTTP API routes',
      'http://127.0.0.1:3000/* (default) -> console/dist (bucket Pages on AWS)',
    ]);
  });
});
