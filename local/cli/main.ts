import { Command } from 'commander';
import { CliError, loadContext, type CliContext } from './context';
import { registerAlertCommands } from './commands/alerts';
import { registerApiCommands } from './commands/api';
import { registerCameraCommand } from './commands/camera';
import { registerPhotoCommands, registerPhotoReplayCommand } from './commands/photos';

const program = new Command('facewatch')
  .description('Talk to a running facewatch stack (`npm start`): register faces, see who was seen, control the processor.')
  .option('--data-dir <dir>', 'where the local stack keeps its files', '.facewatch')
  .option('--endpoint <url>', 'AWS endpoint (default: from stack.json, else http://127.0.0.1:4566)')
  .option('--api-url <url>', 'API base URL (default: from stack.json, else http://127.0.0.1:3000)')
  .showHelpAfterError();

let context: CliContext | undefined;
const getContext = () => (context ??= loadContext(program.opts()));

registerPhotoCommands(program, getContext);
registerPhotoReplayCommand(program, getContext);
registerApiCommands(program, getContext);
registerAlertCommands(program, getContext);
registerCameraCommand(program, getContext);

program.parseAsync().catch((error: unknown) => {
  if (error instanceof CliError) {
    console.error(`facewatch: ${error.message}`);
    process.exitCode = 1;
    return;
  }
  throw error;
});
