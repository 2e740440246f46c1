import { SNSClient } from '@aws-sdk/client-sns';
import { clientOptions } from './options';

export const sns = new SNSClient(clientOptions);
