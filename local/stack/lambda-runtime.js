'use strict';
/**
 * The runtime inside each local function's child process, like Lambda's Node.js runtime: loads the
 * handler once (cold start) from LAMBDA_TASK_ROOT, then runs one invocation at a time as the parent
 * sends them over IPC, with a Lambda-like context. Async and callback-style handlers are both supported.
 * Plain JavaScript: it runs in the function's own process, without the stack's TypeScript tooling.
 */
const path = require('node:path');

const taskRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
const handlerSpec = process.env._HANDLER || '';
let current = null;

function toError(error) {
  if (error instanceof Error) {
    return {
      errorType: error.name || 'Error',
      errorMessage: error.message,
      trace: String(error.stack || '').split('\n'),
    };
  }
  return { errorType: 'Error', errorMessage: typeof error === 'string' ? error : JSON.stringify(error), trace: [] };
}

function send(message) {
  if (process.connected) process.send(message);
}

function loadHandler() {
  const dot = handlerSpec.lastIndexOf('.');
  if (dot <= 0) throw Object.assign(new Error(`Bad handler "${handlerSpec}": expected <file>.<export>`), { name: 'Runtime.MalformedHandlerName' });
  const file = path.resolve(taskRoot, handlerSpec.slice(0, dot));
  const exportName = handlerSpec.slice(dot + 1);
  let mod;
  try {
    mod = require(file);
  } catch (error) {
    if (error && error.code === 'MODULE_NOT_FOUND' && String(error.message).includes(file)) {
      throw Object.assign(new Error(`Cannot find module '${handlerSpec.slice(0, dot)}'`), { name: 'Runtime.ImportModuleError' });
    }
    throw error;
  }
  const fn = exportName.split('.').reduce((o, k) => (o == null ? undefined : o[k]), mod);
  if (typeof fn !== 'function') {
    throw Object.assign(new Error(`${handlerSpec} is undefined or not exported`), { name: 'Runtime.HandlerNotFound' });
  }
  return fn;
}

let handler;
try {
  handler = loadHandler();
  send({ type: 'ready' });
} catch (error) {
  send({ type: 'init-error', error: toError(error) });
  // Let the message flush before exiting, as Lambda reports an init error then discards the sandbox.
  setTimeout(() => process.exit(1), 50);
}

function finish(id, outcome) {
  if (!current || current.id !== id) return;
  current = null;
  send({ type: 'done', id, ...outcome });
}

process.on('message', (message) => {
  if (!message || message.type !== 'invoke' || !handler) return;
  const { id, event, context: base } = message;
  current = { id };
  const context = {
    ...base,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, base.deadline - Date.now()),
    done: (error, result) => (error ? finish(id, { error: toError(error) }) : finish(id, { result })),
    succeed: (result) => finish(id, { result }),
    fail: (error) => finish(id, { error: toError(error) }),
  };
  const callback = (error, result) => (error ? finish(id, { error: toError(error) }) : finish(id, { result }));
  try {
    const returned = handler(event, context, callback);
    if (returned && typeof returned.then === 'function') {
      returned.then(
        (result) => finish(id, { result }),
        (error) => finish(id, { error: toError(error) }),
      );
    } else if (handler.length < 3) {
      // A synchronous handler without a callback: its return value is the result.
      finish(id, { result: returned === undefined ? null : returned });
    }
  } catch (error) {
    finish(id, { error: toError(error) });
  }
});

// Lambda fails the invocation and recycles the sandbox on these.
process.on('unhandledRejection', (reason) => {
  if (current) finish(current.id, { error: { ...toError(reason), errorType: 'Runtime.UnhandledPromiseRejection' }, fatal: true });
  setTimeout(() => process.exit(128), 50);
});
process.on('uncaughtException', (error) => {
  if (current) finish(current.id, { error: toError(error), fatal: true });
  else console.error(error);
  setTimeout(() => process.exit(129), 50);
});
process.on('disconnect', () => process.exit(0));
