import { LambdaClient } from '@aws-sdk/client-lambda';
import { clientOptions } from './options';

export const lambda = new LambdaClient(clientOptions);
