'use strict';
/*
 * sfnlocal: a local AWS Step Functions service for Recoup's local stack.
 *
 * It speaks the Step Functions API (awsJson1_0: POST /, X-Amz-Target:
 * AWSStepFunctions.<Operation>) on 127.0.0.1 so that aws-sdk-go-v2's sfn
 * client works against it, and runs every execution with
 * aws-local-stepfunctions (the ASL interpreter already pinned in
 * infra/local/package.json). Lambda functions are invoked through the Lambda
 * Invoke API at --lambda-endpoint (our Lambda host).
 *
 * Usage (under the Node 22 binary from infra/local/node_modules):
 *
 *   node sfnlocal/server.cjs [--port 8083] [--state-dir DIR]
 *        [--lambda-endpoint http://127.0.0.1:9001] [--region us-east-1]
 *        [--account 000000000000] [--wait-scale 1] [--invoke-timeout 900]
 *
 *   --port N             TCP port on 127.0.0.1 (0 picks a free one). Once it
 *                        listens the server prints one line
 *                        "sfnlocal listening on http://127.0.0.1:N".
 *   --state-dir DIR      folder for the journal sfnlocal.jsonl (state machines,
 *                        execution starts and ends). Without it nothing is kept
 *                        across restarts.
 *   --lambda-endpoint U  Lambda Invoke API endpoint (default:
 *                        AWS_ENDPOINT_URL_LAMBDA, else AWS_ENDPOINT_URL, else
 *                        http://127.0.0.1:9001).
 *   --region R           region in ARNs and for the Lambda client (us-east-1).
 *   --account A          12-digit account in ARNs (000000000000).
 *   --wait-scale F       factor (> 0) applied to demo time: Wait states, the
 *                        TimeoutSeconds(Path) and HeartbeatSeconds(Path) of
 *                        .waitForTaskToken tasks, and the machine's top-level
 *                        TimeoutSeconds. 1 is real time; 1/86400 turns a day
 *                        into a second, so "wait 30 days" takes 30 s. It does
 *                        NOT scale Lambda run time, the timeouts of
 *                        request-response Lambda tasks (they measure real
 *                        work) or Retry intervals.
 *   --invoke-timeout S   seconds (> 0) one Lambda Invoke may take before it
 *                        fails as Lambda.SdkClientException, so a request
 *                        lost on the way never leaves a task waiting for
 *                        ever; the state's Retry then decides (default 900,
 *                        Lambda's longest function timeout). Set it above the
 *                        longest timeout of the functions the machines call.
 *
 * How tasks run. The interpreter's own Lambda call cannot do callbacks, has a
 * 60 s default Task timeout (AWS: 99999999 s) and cannot scale time, so every
 * Task state is routed through `taskResourceLocalHandlers`, and the definition
 * handed to the interpreter is rewritten:
 *   - Task states lose Parameters, TimeoutSecondsPath, HeartbeatSeconds(Path)
 *     and get TimeoutSeconds 2147483 (the largest whole number of seconds a
 *     Node timer can hold; the interpreter's timer is then effectively off).
 *     Our handler receives the state input after InputPath, evaluates the
 *     original Parameters itself with a per-task Context Object ($$.Task.Token,
 *     $$.State.Name/EnteredTime/RetryCount, $$.Execution.*, $$.StateMachine.*)
 *     and enforces the timeouts itself.
 *   - Wait states become Task states handled by us (so they can be scaled).
 *   - The top-level TimeoutSeconds is enforced by us (scaled).
 * ResultSelector, ResultPath, OutputPath, Retry and Catch stay with the
 * interpreter, which matches ErrorEquals against the thrown error's `name`.
 *
 * Deviations from AWS (the package comment in sfnlocal.go summarises the rest):
 *   - Only Lambda resources: function ARNs, arn:aws:states:::lambda:invoke
 *     and arn:aws:states:::lambda:invoke.waitForTaskToken. Other resources
 *     are refused by CreateStateMachine (InvalidDefinition).
 *   - $$.Map.* is not available inside Task Parameters of Map iterations,
 *     and $$.State/$$.Task only inside Task Parameters and *Path fields.
 *   - State names must be unique across the whole definition (handlers are
 *     keyed by name).
 *   - A callback task's timeout never fires while its Lambda invocation is
 *     still running; it fires when the invocation returns.
 *   - No single Task or Wait can last longer than about 24.8 days of real time.
 *   - GetExecutionHistory is built from the interpreter's event log (state
 *     entered/exited, task failed, map iterations, execution events); only
 *     the last 10000 events are kept, and after a restart only the start and
 *     end events.
 *   - STANDARD machines only; no versions, aliases, activities, tags, IAM,
 *     SigV4 checks, redrive, or Express workflows.
 */

const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { StateMachine, ExecutionError, ExecutionAbortedError } = require('aws-local-stepfunctions');
const { LambdaClient, InvokeCommand } = require('@aws-sdk/client-lambda');

// ---------------------------------------------------------------------------
// Constants

// The largest whole number of seconds a Node timer can hold (2^31-1 ms); a
// bigger value makes setTimeout fire after 1 ms.
const LIBRARY_TIMER_OFF_SECONDS = 2147483;
const MAX_TIMER_MS = 2147483647;
// AWS's TimeoutSeconds when a Task state gives none (the interpreter uses 60).
const DEFAULT_TASK_TIMEOUT_SECONDS = 99999999;
// AWS limits on execution input/output and task output (256 KiB).
const MAX_PAYLOAD = 262144;
const MAX_REQUEST_BODY = 2 * 1024 * 1024;
const MAX_HISTORY_EVENTS = 10000;
const RESTART_CAUSE = 'local stepfunctions restarted';
const TOKEN_PREFIX = 'sfnlocal-v1-';
const TOKEN_PATTERN = /^sfnlocal-v1-[A-Za-z0-9_-]{43}$/;
// AWS: 1-80 characters, none of whitespace, brackets, wildcards, the listed
// punctuation or control characters.
const NAME_PATTERN = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/u;
const MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:([^:]+)$/;
const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:([^:]+):([^:]+)$/;
const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$/;
const INVOKE_ARN = /^arn:aws[a-z-]*:states:::lambda:invoke$/;
const CALLBACK_ARN = /^arn:aws[a-z-]*:states:::lambda:invoke\.waitForTaskToken$/;
const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'];

// ---------------------------------------------------------------------------
// Options

function usage() {
  return 'usage: server.cjs [--port N] [--state-dir DIR] [--lambda-endpoint URL] [--region R] [--account A] [--wait-scale F] [--invoke-timeout S]';
}

function parseArgs(argv) {
  const opts = {
    port: 8083,
    stateDir: '',
    lambdaEndpoint: process.env.AWS_ENDPOINT_URL_LAMBDA || process.env.AWS_ENDPOINT_URL || 'http://127.0.0.1:9001',
    region: 'us-east-1',
    account: '000000000000',
    waitScale: 1,
    invokeTimeout: 900,
  };
  const names = { '--port': 'port', '--state-dir': 'stateDir', '--lambda-endpoint': 'lambdaEndpoint', '--region': 'region', '--account': 'account', '--wait-scale': 'waitScale', '--invoke-timeout': 'invokeTimeout' };
  for (let i = 0; i < argv.length; i++) {
    let flag = argv[i];
    let value;
    const eq = flag.indexOf('=');
    if (eq > 0) {
      value = flag.slice(eq + 1);
      flag = flag.slice(0, eq);
    }
    if (flag === '--help' || flag === '-h') {
      console.log(usage());
      process.exit(0);
    }
    const key = names[flag];
    if (!key) throw new Error(`unknown flag ${flag}\n${usage()}`);
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new Error(`flag ${flag} needs a value`);
      value = argv[++i];
    }
    opts[key] = value;
  }
  opts.port = Number(opts.port);
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw new Error('--port must be 0..65535');
  opts.waitScale = Number(opts.waitScale);
  if (!Number.isFinite(opts.waitScale) || opts.waitScale <= 0) throw new Error('--wait-scale must be a number > 0');
  opts.invokeTimeout = Number(opts.invokeTimeout);
  if (!Number.isFinite(opts.invokeTimeout) || opts.invokeTimeout <= 0) throw new Error('--invoke-timeout must be a number of seconds > 0');
  if (!/^\d{12}$/.test(opts.account)) throw new Error('--account must be 12 digits');
  if (!/^[a-z0-9-]+$/.test(opts.region)) throw new Error('--region is not a region name');
  try {
    new URL(opts.lambdaEndpoint);
  } catch {
    throw new Error(`--lambda-endpoint ${opts.lambdaEndpoint} is not a URL`);
  }
  return opts;
}

function log(msg) {
  process.stdout.write(`${new Date().toISOString()} ${msg}\n`);
}

// ---------------------------------------------------------------------------
// Errors

// ApiError is an error answered to the API caller (awsJson1_0 error shape).
class ApiError extends Error {
  constructor(code, message, status = 400) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

// taskError is a task failure as the interpreter's Retry/Catch see it: they
// match ErrorEquals against `name`, and a Catch puts `message` in "Cause".
function taskError(name, cause) {
  const err = new Error(cause ?? '');
  err.name = name;
  return err;
}

// runtimeError is States.Runtime, which (as in AWS) no Retry or Catch can
// handle: the interpreter reads isRetryable/isCatchable when present.
function runtimeError(message) {
  const err = taskError('States.Runtime', message);
  err.isRetryable = false;
  err.isCatchable = false;
  return err;
}

// stoppedError ends a task whose execution was stopped, timed out or lost:
// it must not be retried or caught, so the interpreter just unwinds.
function stoppedError() {
  const err = runtimeError('execution is no longer running');
  err.name = 'sfnlocal.Stopped';
  return err;
}

// The interpreter treats States.TaskFailed as "any error but States.Timeout"
// by checking `instanceof StatesTimeoutError`, a class it does not export.
// discoverTimeoutClass gets it from a real interpreter timeout (1 ms), so our
// own timeouts are instances of it and behave exactly like the
// interpreter's.
let StatesTimeoutError = null;

async function discoverTimeoutClass() {
  const probe = new StateMachine(
    { StartAt: 'T', States: { T: { Type: 'Task', Resource: 'probe', TimeoutSeconds: 0.001, End: true } } },
    { validationOptions: { noValidate: true } },
  );
  try {
    await probe.run(null, { overrides: { taskResourceLocalHandlers: { T: () => new Promise(() => {}) } } }).result;
  } catch (err) {
    if (err instanceof ExecutionError && err.cause && err.cause.name === 'States.Timeout') {
      return err.cause.constructor;
    }
    throw new Error(`aws-local-stepfunctions did not time out as expected: ${err}`);
  }
  throw new Error('aws-local-stepfunctions did not time out as expected');
}

function timeoutError(name, cause) {
  const err = new StatesTimeoutError();
  err.name = name;
  err.message = cause;
  return err;
}

// ---------------------------------------------------------------------------
// Timers

// longTimeout is setTimeout without the 2^31-1 ms limit: it re-arms until the
// deadline. It returns a cancel function.
function longTimeout(fn, ms) {
  const deadline = Date.now() + Math.max(0, ms);
  let handle;
  const arm = () => {
    const left = deadline - Date.now();
    if (left <= 0) {
      fn();
      return;
    }
    handle = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
  };
  handle = setTimeout(arm, Math.min(Math.max(0, ms), MAX_TIMER_MS));
  return () => clearTimeout(handle);
}

// ---------------------------------------------------------------------------
// Definitions

// Evaluator runs a Parameters template (or one path) through the interpreter
// itself, as a one-state Pass machine, so JSONPath, intrinsic functions and
// their errors behave exactly as in the main run. The interpreter overwrites
// $$.Execution.Input and StartTime with the Pass machine's own, so the
// template reads them from fields under other names.
function evaluator(template) {
  const machine = new StateMachine(
    { StartAt: 'P', States: { P: { Type: 'Pass', Parameters: retargetExecutionPaths(template), End: true } } },
    { validationOptions: { noValidate: true } },
  );
  return async (input, context) => {
    try {
      return await machine.run(input, { context }).result;
    } catch (err) {
      // A path that finds nothing is States.Runtime, as in AWS.
      throw err instanceof ExecutionError && err.cause ? err.cause : err;
    }
  };
}

function retargetExecutionPaths(value) {
  if (Array.isArray(value)) return value.map(retargetExecutionPaths);
  if (value === null || typeof value !== 'object') return value;
  const out = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = k.endsWith('.$') && typeof v === 'string'
      ? v.replace(/\$\$\.Execution\.(Input|StartTime)(?![A-Za-z0-9_])/g, '$$$$.Execution.SfnLocal$1')
      : retargetExecutionPaths(v);
  }
  return out;
}

// pathEvaluator evaluates one reference path (TimeoutSecondsPath etc.).
function pathEvaluator(p) {
  const evaluate = evaluator({ 'value.$': p });
  return async (input, context) => (await evaluate(input, context)).value;
}

function resourceKind(resource) {
  if (typeof resource !== 'string') return null;
  if (LAMBDA_ARN.test(resource)) return 'lambda';
  if (INVOKE_ARN.test(resource)) return 'invoke';
  if (CALLBACK_ARN.test(resource)) return 'callback';
  return null;
}

// withHeartbeatTimeout adds States.HeartbeatTimeout next to States.Timeout in
// Retry and Catch: AWS matches a heartbeat timeout with either name, the
// interpreter only with the exact one.
function withHeartbeatTimeout(list) {
  if (!Array.isArray(list)) return list;
  return list.map((r) => {
    const errs = Array.isArray(r.ErrorEquals) ? r.ErrorEquals : [];
    if (errs.includes('States.Timeout') && !errs.includes('States.HeartbeatTimeout')) {
      return { ...r, ErrorEquals: [...errs, 'States.HeartbeatTimeout'] };
    }
    return r;
  });
}

// compile validates a definition and prepares what executions need: the
// rewritten definition for the interpreter and, per state name, the original
// state with its evaluators.
function compile(text) {
  let def;
  try {
    def = JSON.parse(text);
  } catch (err) {
    throw new ApiError('InvalidDefinition', `Invalid State Machine Definition: not JSON: ${err.message}`);
  }
  if (def === null || typeof def !== 'object' || Array.isArray(def)) {
    throw new ApiError('InvalidDefinition', 'Invalid State Machine Definition: not a JSON object');
  }
  try {
    // The constructor validates with asl-validator (schema, paths, ARNs,
    // reachability).
    new StateMachine(def);
  } catch (err) {
    throw new ApiError('InvalidDefinition', `Invalid State Machine Definition: ${err.message}`);
  }
  const states = new Map();
  const runnable = rewriteMachine(def, states);
  delete runnable.TimeoutSeconds; // enforced by us, scaled
  return { runnable, states, timeoutSeconds: typeof def.TimeoutSeconds === 'number' ? def.TimeoutSeconds : null };
}

function rewriteMachine(def, states) {
  const out = { ...def, States: {} };
  for (const [name, state] of Object.entries(def.States)) {
    if (states.has(name)) {
      throw new ApiError('InvalidDefinition', `Invalid State Machine Definition: state name "${name}" is used more than once`);
    }
    const info = { name, type: state.Type, state, kind: null };
    states.set(name, info);
    out.States[name] = rewriteState(name, state, info, states);
  }
  return out;
}

function rewriteState(name, state, info, states) {
  switch (state.Type) {
    case 'Task':
      return rewriteTask(name, state, info);
    case 'Wait': {
      info.kind = 'wait';
      if (state.SecondsPath) info.secondsPath = pathEvaluator(state.SecondsPath);
      if (state.TimestampPath) info.timestampPath = pathEvaluator(state.TimestampPath);
      const out = { Type: 'Task', Resource: 'arn:aws:states:::sfnlocal:wait', TimeoutSeconds: LIBRARY_TIMER_OFF_SECONDS };
      for (const k of ['Comment', 'InputPath', 'OutputPath', 'Next', 'End']) {
        if (k in state) out[k] = state[k];
      }
      return out;
    }
    case 'Map': {
      const out = { ...state };
      if (state.ItemProcessor) out.ItemProcessor = rewriteMachine(state.ItemProcessor, states);
      if (state.Iterator) out.Iterator = rewriteMachine(state.Iterator, states);
      return out;
    }
    case 'Parallel':
      return { ...state, Branches: state.Branches.map((b) => rewriteMachine(b, states)) };
    default:
      return state;
  }
}

function rewriteTask(name, state, info) {
  const kind = resourceKind(state.Resource);
  if (!kind) {
    throw new ApiError('InvalidDefinition',
      `Invalid State Machine Definition: state "${name}": resource ${state.Resource} is not supported by local stepfunctions (Lambda function ARNs, arn:aws:states:::lambda:invoke and arn:aws:states:::lambda:invoke.waitForTaskToken are)`);
  }
  const params = state.Parameters;
  if (kind !== 'lambda') {
    if (params === null || typeof params !== 'object' || !('FunctionName' in params || 'FunctionName.$' in params)) {
      throw new ApiError('InvalidDefinition', `Invalid State Machine Definition: state "${name}": ${state.Resource} needs Parameters.FunctionName`);
    }
  }
  if (kind === 'callback' && !JSON.stringify(params).includes('$$.Task.Token')) {
    throw new ApiError('InvalidDefinition', `Invalid State Machine Definition: state "${name}": .waitForTaskToken needs $$.Task.Token in Parameters`);
  }
  info.kind = kind;
  if (params !== undefined) info.parameters = evaluator(params);
  if (state.TimeoutSecondsPath) info.timeoutPath = pathEvaluator(state.TimeoutSecondsPath);
  if (state.HeartbeatSecondsPath) info.heartbeatPath = pathEvaluator(state.HeartbeatSecondsPath);
  const out = { ...state, TimeoutSeconds: LIBRARY_TIMER_OFF_SECONDS };
  delete out.Parameters;
  delete out.TimeoutSecondsPath;
  delete out.HeartbeatSeconds;
  delete out.HeartbeatSecondsPath;
  delete out.Credentials;
  if (out.Retry) out.Retry = withHeartbeatTimeout(out.Retry);
  if (out.Catch) out.Catch = withHeartbeatTimeout(out.Catch);
  return out;
}

// ---------------------------------------------------------------------------
// Server state

let opts;
let lambda;
let journal;
const machines = new Map(); // state machine ARN -> machine
const executions = new Map(); // execution ARN -> execution
const tokens = new Map(); // task token -> pending callback task

function machineArn(name) {
  return `arn:aws:states:${opts.region}:${opts.account}:stateMachine:${name}`;
}

function executionArn(machineName, name) {
  return `arn:aws:states:${opts.region}:${opts.account}:execution:${machineName}:${name}`;
}

const seconds = (ms) => (ms === undefined || ms === null ? undefined : ms / 1000);

// Journal is the append-only JSON-lines record of machines and executions
// (<state-dir>/sfnlocal.jsonl). Writes are synchronous so a record is on disk
// before the API answers.
class Journal {
  constructor(dir) {
    this.file = dir ? path.join(dir, 'sfnlocal.jsonl') : null;
    if (this.file) fs.mkdirSync(dir, { recursive: true });
  }

  append(record) {
    if (this.file) fs.appendFileSync(this.file, JSON.stringify(record) + '\n');
  }

  // replay reads every record; a line cut short by a crash is skipped, and a
  // newline is added so the next record starts on a line of its own.
  replay(apply) {
    if (!this.file || !fs.existsSync(this.file)) return;
    const text = fs.readFileSync(this.file, 'utf8');
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        apply(JSON.parse(line));
      } catch (err) {
        log(`journal ${this.file}:${i + 1}: skipped (${err.message})`);
      }
    });
    if (text.length > 0 && !text.endsWith('\n')) fs.appendFileSync(this.file, '\n');
  }
}

function loadJournal() {
  journal.replay((r) => {
    switch (r.kind) {
      case 'machine':
        machines.set(r.arn, { arn: r.arn, name: r.name, definition: r.definition, roleArn: r.roleArn, creationDate: r.creationDate, compiled: null });
        break;
      case 'start':
        executions.set(r.arn, newExecution(r));
        break;
      case 'end': {
        const e = executions.get(r.arn);
        if (e) Object.assign(e, { status: r.status, stopDate: r.stopDate, output: r.output, error: r.error, cause: r.cause });
        break;
      }
      default:
        throw new Error(`unknown record kind ${r.kind}`);
    }
  });
  for (const m of machines.values()) {
    try {
      m.compiled = compile(m.definition);
    } catch (err) {
      log(`state machine ${m.arn} from the journal does not compile: ${err.message}`);
    }
  }
  const now = Date.now();
  for (const e of executions.values()) {
    addEvent(e, { type: 'ExecutionStarted', timestamp: e.startDate, executionStartedEventDetails: { input: e.input, roleArn: machines.get(e.machineArn)?.roleArn } });
    if (e.status === 'RUNNING') {
      // Nothing of a running execution survives the process; say so.
      e.status = 'ABORTED';
      e.stopDate = now;
      e.cause = RESTART_CAUSE;
      journal.append({ kind: 'end', arn: e.arn, status: e.status, stopDate: e.stopDate, cause: e.cause });
    }
    e.historyClosed = true;
    endEvent(e);
  }
  log(`journal: ${machines.size} state machine(s), ${executions.size} execution(s)`);
}

function newExecution(r) {
  return {
    arn: r.arn,
    machineArn: r.machineArn,
    machineName: r.machineName,
    name: r.name,
    input: r.input,
    startDate: r.startDate,
    status: 'RUNNING',
    stopDate: undefined,
    output: undefined,
    error: undefined,
    cause: undefined,
    events: [],
    eventCount: 0,
    pending: new Set(),
    attempts: new Map(),
    abort: null,
    cancelTimeout: null,
    historyClosed: false,
    endRecorded: false,
  };
}

// ---------------------------------------------------------------------------
// History

function addEvent(exec, event) {
  exec.eventCount++;
  event.id = exec.eventCount;
  event.previousEventId = exec.eventCount - 1;
  event.timestamp = seconds(event.timestamp);
  exec.events.push(event);
  if (exec.events.length > MAX_HISTORY_EVENTS) exec.events.shift();
}

function addEndEvent(exec) {
  const t = exec.stopDate;
  switch (exec.status) {
    case 'SUCCEEDED':
      addEvent(exec, { type: 'ExecutionSucceeded', timestamp: t, executionSucceededEventDetails: { output: exec.output } });
      break;
    case 'FAILED':
      addEvent(exec, { type: 'ExecutionFailed', timestamp: t, executionFailedEventDetails: { error: exec.error, cause: exec.cause } });
      break;
    case 'ABORTED':
      addEvent(exec, { type: 'ExecutionAborted', timestamp: t, executionAbortedEventDetails: { error: exec.error, cause: exec.cause } });
      break;
    case 'TIMED_OUT':
      addEvent(exec, { type: 'ExecutionTimedOut', timestamp: t, executionTimedOutEventDetails: { error: exec.error, cause: exec.cause } });
      break;
  }
}

function stringify(v) {
  return typeof v === 'string' ? v : JSON.stringify(v ?? null);
}

// recordEvent turns one interpreter event into an AWS history event. The end
// of the execution is recorded by finish, which knows the final status.
function recordEvent(exec, compiled, ev) {
  const info = ev.state && compiled.states.get(ev.state.name);
  const type = info ? info.type : ev.state?.type;
  switch (ev.type) {
    case 'ExecutionStarted':
      addEvent(exec, { type: 'ExecutionStarted', timestamp: ev.timestamp, executionStartedEventDetails: { input: exec.input, roleArn: machines.get(exec.machineArn)?.roleArn } });
      break;
    case 'StateEntered':
      addEvent(exec, { type: `${type}StateEntered`, timestamp: ev.timestamp, stateEnteredEventDetails: { name: ev.state.name, input: stringify(ev.state.input) } });
      break;
    case 'StateExited':
      addEvent(exec, { type: `${type}StateExited`, timestamp: ev.timestamp, stateExitedEventDetails: { name: ev.state.name, output: stringify(ev.state.output) } });
      break;
    case 'StateFailed':
      if (type === 'Task' && ev.Error !== 'sfnlocal.Stopped') {
        addEvent(exec, { type: 'TaskFailed', timestamp: ev.timestamp, taskFailedEventDetails: { resourceType: 'lambda', resource: info?.state.Resource, error: ev.Error, cause: stringify(ev.Cause) } });
      }
      break;
    case 'StateCaught':
      // A caught failure ends the state's attempts ($$.State.RetryCount).
      exec.attempts.delete(ev.state.name);
      break;
    case 'MapIterationStarted':
    case 'MapIterationSucceeded':
    case 'MapIterationFailed': {
      const key = ev.type.charAt(0).toLowerCase() + ev.type.slice(1) + 'EventDetails';
      addEvent(exec, { type: ev.type, timestamp: ev.timestamp, [key]: { name: ev.parentState?.name, index: ev.index } });
      break;
    }
    default:
      // StateRetried, parallel branches and the execution's end: nothing
      // (the end comes from finish).
      break;
  }
}

async function consumeEvents(exec, compiled, eventLogs) {
  try {
    for await (const ev of eventLogs) recordEvent(exec, compiled, ev);
  } catch (err) {
    log(`${exec.arn}: event log: ${err.message}`);
  } finally {
    exec.historyClosed = true;
    endEvent(exec);
  }
}

// endEvent adds the execution's last history event once both the
// interpreter's event log has closed and finish has set the final status:
// whichever comes second, so the end is always the last event.
function endEvent(exec) {
  if (exec.status === 'RUNNING' || !exec.historyClosed || exec.endRecorded) return;
  exec.endRecorded = true;
  addEndEvent(exec);
}

// ---------------------------------------------------------------------------
// Executions

function launch(exec, machine) {
  const compiled = machine.compiled;
  const handlers = Object.create(null);
  for (const info of compiled.states.values()) {
    if (info.kind) handlers[info.name] = (input) => runState(exec, info, input);
  }
  const context = {
    Execution: { Id: exec.arn, Name: exec.name, RoleArn: machine.roleArn, RedriveCount: 0 },
    StateMachine: { Id: machine.arn, Name: machine.name },
  };
  const sm = new StateMachine(compiled.runnable, { validationOptions: { noValidate: true } });
  const run = sm.run(JSON.parse(exec.input), { overrides: { taskResourceLocalHandlers: handlers }, context });
  exec.abort = run.abort;
  consumeEvents(exec, compiled, run.eventLogs);
  if (compiled.timeoutSeconds) {
    exec.cancelTimeout = longTimeout(
      () => finish(exec, 'TIMED_OUT', { error: 'States.Timeout', cause: `The execution ran longer than its TimeoutSeconds (${compiled.timeoutSeconds} s, wait scale ${opts.waitScale})` }),
      compiled.timeoutSeconds * 1000 * opts.waitScale,
    );
  }
  run.result.then(
    (out) => {
      const output = JSON.stringify(out ?? null);
      if (Buffer.byteLength(output) > MAX_PAYLOAD) {
        finish(exec, 'FAILED', { error: 'States.DataLimitExceeded', cause: `The execution output is larger than ${MAX_PAYLOAD} bytes` });
      } else {
        finish(exec, 'SUCCEEDED', { output });
      }
    },
    (err) => {
      if (err instanceof ExecutionAbortedError) return; // stopped by us; finish already ran
      const cause = err instanceof ExecutionError && err.cause ? err.cause : err;
      finish(exec, 'FAILED', { error: cause.name, cause: stringify(cause.message) });
    },
  );
}

// finish records the end of an execution once: the first caller wins (a
// stop, a timeout or the interpreter's own end).
function finish(exec, status, { output, error, cause } = {}) {
  if (exec.status !== 'RUNNING') return;
  Object.assign(exec, { status, stopDate: Date.now(), output, error, cause });
  journal.append({ kind: 'end', arn: exec.arn, status, stopDate: exec.stopDate, output, error, cause });
  if (exec.cancelTimeout) exec.cancelTimeout();
  for (const p of [...exec.pending]) {
    p.controller.abort();
    p.reject(stoppedError());
  }
  if (status !== 'SUCCEEDED' && status !== 'FAILED' && exec.abort) exec.abort();
  endEvent(exec);
  log(`${exec.arn}: ${status}${error ? ` ${error}` : ''}`);
}

// Pending is one unit of work a state waits on (a Lambda call, a callback, a
// Wait). finish settles whatever is still pending when an execution ends.
class Pending {
  constructor(exec) {
    const { promise, resolve, reject } = Promise.withResolvers();
    this.promise = promise;
    this.resolveFn = resolve;
    this.rejectFn = reject;
    this.done = false;
    this.cleanups = [];
    this.controller = new AbortController();
    this.exec = exec;
    exec.pending.add(this);
  }

  resolve(v) {
    if (this.settle()) this.resolveFn(v);
  }

  reject(e) {
    if (this.settle()) this.rejectFn(e);
  }

  onSettle(f) {
    this.cleanups.push(f);
  }

  settle() {
    if (this.done) return false;
    this.done = true;
    this.exec.pending.delete(this);
    for (const f of this.cleanups) f();
    return true;
  }
}

// runState is the taskResourceLocalHandler of every Task and (rewritten) Wait
// state. It gets the state input after InputPath.
async function runState(exec, info, input) {
  if (exec.status !== 'RUNNING') throw stoppedError();
  if (info.kind === 'wait') return runWait(exec, info, input);
  // $$.State.RetryCount and EnteredTime: an attempt after a failure of the
  // same state (not yet caught) is a retry.
  let attempt = exec.attempts.get(info.name);
  if (!attempt) {
    attempt = { enteredTime: new Date().toISOString(), retryCount: 0, failures: 0 };
    exec.attempts.set(info.name, attempt);
  }
  attempt.retryCount = attempt.failures;
  try {
    const result = await runTask(exec, info, input, attempt);
    exec.attempts.delete(info.name);
    return result;
  } catch (err) {
    attempt.failures++;
    throw err;
  }
}

function taskContext(exec, info, attempt, token) {
  const machine = machines.get(exec.machineArn);
  const startTime = new Date(exec.startDate).toISOString();
  const ctx = {
    Execution: {
      Id: exec.arn,
      Name: exec.name,
      RoleArn: machine?.roleArn,
      RedriveCount: 0,
      StartTime: startTime,
      Input: JSON.parse(exec.input),
      // Read by retargeted templates; see evaluator.
      SfnLocalStartTime: startTime,
      SfnLocalInput: JSON.parse(exec.input),
    },
    StateMachine: { Id: exec.machineArn, Name: exec.machineName },
    State: { Name: info.name, EnteredTime: attempt.enteredTime, RetryCount: attempt.retryCount },
  };
  if (token) ctx.Task = { Token: token };
  return ctx;
}

// positiveSeconds reads TimeoutSeconds(Path) or HeartbeatSeconds(Path).
async function positiveSeconds(value, pathEval, field, input, ctx) {
  if (pathEval) {
    const v = await pathEval(input, ctx);
    if (!Number.isInteger(v) || v < 1) throw runtimeError(`${field}Path must point to a positive integer, got ${JSON.stringify(v)}`);
    return v;
  }
  return typeof value === 'number' ? value : null;
}

async function runTask(exec, info, input, attempt) {
  const st = info.state;
  const token = info.kind === 'callback' ? TOKEN_PREFIX + crypto.randomBytes(32).toString('base64url') : null;
  const ctx = taskContext(exec, info, attempt, token);
  const params = info.parameters ? await info.parameters(input, ctx) : input;
  const timeout = (await positiveSeconds(st.TimeoutSeconds, info.timeoutPath, 'TimeoutSeconds', input, ctx)) ?? DEFAULT_TASK_TIMEOUT_SECONDS;
  if (exec.status !== 'RUNNING') throw stoppedError();

  if (info.kind === 'callback') {
    const heartbeat = await positiveSeconds(st.HeartbeatSeconds, info.heartbeatPath, 'HeartbeatSeconds', input, ctx);
    return runCallback(exec, info, invokeRequest(params), token, timeout, heartbeat);
  }

  // Request-response: the timeout is real time (the Lambda does real work).
  const p = new Pending(exec);
  p.onSettle(longTimeout(() => {
    p.controller.abort();
    p.reject(timeoutError('States.Timeout', `Task timed out after ${timeout} s`));
  }, timeout * 1000));
  const req = info.kind === 'lambda' ? { FunctionName: st.Resource, Payload: params } : invokeRequest(params);
  invokeLambda(req, p.controller.signal).then((res) => {
    if (info.kind === 'lambda') {
      p.resolve(res.payload);
    } else {
      p.resolve({
        ExecutedVersion: res.executedVersion,
        Payload: res.payload,
        SdkHttpMetadata: { HttpHeaders: res.headers, HttpStatusCode: res.statusCode },
        SdkResponseMetadata: { RequestId: res.requestId },
        StatusCode: res.statusCode,
      });
    }
  }, (err) => p.reject(err));
  return p.promise;
}

function invokeRequest(params) {
  if (params === null || typeof params !== 'object' || typeof params.FunctionName !== 'string' || params.FunctionName === '') {
    throw runtimeError('Parameters.FunctionName must be a non-empty string');
  }
  return params;
}

// runCallback invokes the Lambda with the token and waits for
// SendTaskSuccess/SendTaskFailure, the (scaled) timeout or heartbeat.
function runCallback(exec, info, req, token, timeoutSeconds, heartbeatSeconds) {
  const p = new Pending(exec);
  const task = { token, exec, state: info.name, pending: p, invoked: false, deferred: null, armHeartbeat: null };
  tokens.set(token, task);
  p.onSettle(() => tokens.delete(token));

  // A timeout that falls due while the Lambda is still being invoked waits
  // for the invocation to return (see the header).
  const fire = (err) => {
    if (task.invoked) p.reject(err);
    else task.deferred = task.deferred ?? err;
  };
  p.onSettle(longTimeout(
    () => fire(timeoutError('States.Timeout', `Task timed out after ${timeoutSeconds} s (wait scale ${opts.waitScale})`)),
    timeoutSeconds * 1000 * opts.waitScale,
  ));
  if (heartbeatSeconds) {
    let cancel = null;
    task.armHeartbeat = () => {
      if (cancel) cancel();
      cancel = longTimeout(
        () => fire(timeoutError('States.HeartbeatTimeout', `No heartbeat for ${heartbeatSeconds} s (wait scale ${opts.waitScale})`)),
        heartbeatSeconds * 1000 * opts.waitScale,
      );
    };
    task.armHeartbeat();
    p.onSettle(() => cancel && cancel());
  }

  invokeLambda(req, p.controller.signal).then(() => {
    task.invoked = true;
    if (task.deferred) p.reject(task.deferred);
  }, (err) => p.reject(err));
  return p.promise;
}

// runWait is a Wait state, scaled by --wait-scale.
async function runWait(exec, info, input) {
  const st = info.state;
  const ctx = taskContext(exec, info, { enteredTime: new Date().toISOString(), retryCount: 0 }, null);
  let ms = 0;
  if (typeof st.Seconds === 'number') {
    ms = st.Seconds * 1000;
  } else if (typeof st.Timestamp === 'string') {
    ms = Date.parse(st.Timestamp) - Date.now();
  } else if (info.secondsPath) {
    const v = await info.secondsPath(input, ctx);
    if (!Number.isInteger(v) || v < 0) throw runtimeError(`SecondsPath must point to a non-negative integer, got ${JSON.stringify(v)}`);
    ms = v * 1000;
  } else if (info.timestampPath) {
    const v = await info.timestampPath(input, ctx);
    const t = typeof v === 'string' ? Date.parse(v) : NaN;
    if (Number.isNaN(t)) throw runtimeError(`TimestampPath must point to an RFC 3339 timestamp, got ${JSON.stringify(v)}`);
    ms = t - Date.now();
  }
  if (exec.status !== 'RUNNING') throw stoppedError();
  const p = new Pending(exec);
  p.onSettle(longTimeout(() => p.resolve(input), Math.max(0, ms) * opts.waitScale));
  return p.promise;
}

// invokeLambda calls the Invoke API. Function errors become task errors named
// by the function's errorType (Retry/Catch match it, e.g. a Go error type
// Transient); Lambda service errors become Lambda.<Exception>, and a Lambda
// endpoint that cannot be reached Lambda.SdkClientException.
async function invokeLambda(req, signal) {
  const payload = JSON.stringify(req.Payload === undefined ? {} : req.Payload);
  const cmd = new InvokeCommand({
    FunctionName: req.FunctionName,
    Payload: Buffer.from(payload),
    InvocationType: req.InvocationType,
    Qualifier: req.Qualifier,
    ClientContext: req.ClientContext,
    LogType: req.LogType,
  });
  let res;
  try {
    res = await lambda.send(cmd, { abortSignal: signal });
  } catch (err) {
    if (err && err.$metadata && err.$metadata.httpStatusCode) {
      throw taskError(`Lambda.${err.name}`, err.message);
    }
    throw taskError('Lambda.SdkClientException', `Unable to invoke ${req.FunctionName} at ${opts.lambdaEndpoint}: ${err && err.message}`);
  }
  const text = res.Payload && res.Payload.length ? Buffer.from(res.Payload).toString('utf8') : '';
  if (res.FunctionError) {
    let type;
    try {
      type = JSON.parse(text).errorType;
    } catch {
      type = undefined;
    }
    throw taskError(typeof type === 'string' && type !== '' ? type : 'Lambda.Unknown', text);
  }
  let value = null;
  if (text !== '') {
    try {
      value = JSON.parse(text);
    } catch {
      throw runtimeError(`${req.FunctionName} returned a payload that is not JSON`);
    }
  }
  if (Buffer.byteLength(text) > MAX_PAYLOAD) {
    throw taskError('States.DataLimitExceeded', `${req.FunctionName} returned more than ${MAX_PAYLOAD} bytes`);
  }
  return {
    payload: value,
    statusCode: res.StatusCode,
    executedVersion: res.ExecutedVersion,
    requestId: res.$metadata?.requestId,
    headers: { 'X-Amz-Executed-Version': res.ExecutedVersion },
  };
}

// ---------------------------------------------------------------------------
// API operations

function field(body, name, { required = false, max = Infinity } = {}) {
  const v = body[name];
  if (v === undefined || v === null) {
    if (required) throw new ApiError('ValidationException', `1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`);
    return undefined;
  }
  if (typeof v !== 'string') throw new ApiError('ValidationException', `${name} must be a string`);
  if (v.length > max) throw new ApiError('ValidationException', `${name} is longer than ${max} characters`);
  return v;
}

function pageArgs(body) {
  let max = body.maxResults ?? 0;
  if (!Number.isInteger(max) || max < 0 || max > 1000) throw new ApiError('ValidationException', 'maxResults must be 0..1000');
  if (max === 0) max = 100;
  let start = 0;
  if (body.nextToken !== undefined && body.nextToken !== null) {
    start = Number.parseInt(Buffer.from(String(body.nextToken), 'base64url').toString('utf8'), 10);
    if (!Number.isInteger(start) || start < 0) throw new ApiError('InvalidToken', 'Invalid nextToken');
  }
  return { max, start };
}

function page(items, { max, start }) {
  const out = items.slice(start, start + max);
  const next = start + max < items.length ? Buffer.from(String(start + max)).toString('base64url') : undefined;
  return { out, next };
}

function getMachine(arn) {
  if (!MACHINE_ARN.test(arn)) throw new ApiError('InvalidArn', `Invalid Arn: '${arn}'`);
  const m = machines.get(arn);
  if (!m) throw new ApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
  return m;
}

function getExecution(arn) {
  if (!EXECUTION_ARN.test(arn)) throw new ApiError('InvalidArn', `Invalid Arn: '${arn}'`);
  const e = executions.get(arn);
  if (!e) throw new ApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
  return e;
}

function recordMachine(m) {
  journal.append({ kind: 'machine', arn: m.arn, name: m.name, definition: m.definition, roleArn: m.roleArn, creationDate: m.creationDate });
}

const operations = {
  CreateStateMachine(body) {
    const name = field(body, 'name', { required: true });
    const definition = field(body, 'definition', { required: true, max: 1048576 });
    const roleArn = field(body, 'roleArn', { required: true, max: 256 });
    const type = field(body, 'type') ?? 'STANDARD';
    if (!NAME_PATTERN.test(name)) throw new ApiError('InvalidName', `Invalid Name: '${name}'`);
    if (type !== 'STANDARD') throw new ApiError('ValidationException', 'local stepfunctions runs STANDARD state machines only');
    const arn = machineArn(name);
    const existing = machines.get(arn);
    if (existing) {
      // Idempotent for the same definition and role, as AWS.
      if (existing.definition === definition && existing.roleArn === roleArn) {
        return { stateMachineArn: arn, creationDate: seconds(existing.creationDate) };
      }
      throw new ApiError('StateMachineAlreadyExists', `State Machine Already Exists: '${arn}'`);
    }
    const compiled = compile(definition);
    const m = { arn, name, definition, roleArn, creationDate: Date.now(), compiled };
    machines.set(arn, m);
    recordMachine(m);
    log(`state machine ${arn} created`);
    return { stateMachineArn: arn, creationDate: seconds(m.creationDate) };
  },

  UpdateStateMachine(body) {
    const m = getMachine(field(body, 'stateMachineArn', { required: true }));
    const definition = field(body, 'definition', { max: 1048576 });
    const roleArn = field(body, 'roleArn', { max: 256 });
    if (definition === undefined && roleArn === undefined) {
      throw new ApiError('MissingRequiredParameter', 'Either the definition or the roleArn must be specified');
    }
    // Running executions keep the definition they started with, as in AWS.
    if (definition !== undefined) {
      m.compiled = compile(definition);
      m.definition = definition;
    }
    if (roleArn !== undefined) m.roleArn = roleArn;
    m.updateDate = Date.now();
    recordMachine(m);
    log(`state machine ${m.arn} updated`);
    return { updateDate: seconds(m.updateDate) };
  },

  DescribeStateMachine(body) {
    const m = getMachine(field(body, 'stateMachineArn', { required: true }));
    return describeMachine(m);
  },

  DescribeStateMachineForExecution(body) {
    const e = getExecution(field(body, 'executionArn', { required: true }));
    const m = getMachine(e.machineArn);
    return { ...describeMachine(m), updateDate: seconds(m.updateDate ?? m.creationDate) };
  },

  ListStateMachines(body) {
    const all = [...machines.values()].sort((a, b) => a.name.localeCompare(b.name));
    const { out, next } = page(all, pageArgs(body));
    return {
      stateMachines: out.map((m) => ({ stateMachineArn: m.arn, name: m.name, type: 'STANDARD', creationDate: seconds(m.creationDate) })),
      nextToken: next,
    };
  },

  StartExecution(body) {
    const m = getMachine(field(body, 'stateMachineArn', { required: true }));
    const name = field(body, 'name') ?? crypto.randomUUID();
    const input = field(body, 'input') ?? '{}';
    if (!NAME_PATTERN.test(name)) throw new ApiError('InvalidName', `Invalid Name: '${name}'`);
    if (Buffer.byteLength(input) > MAX_PAYLOAD) throw new ApiError('InvalidExecutionInput', `Input is larger than ${MAX_PAYLOAD} bytes`);
    try {
      JSON.parse(input);
    } catch (err) {
      throw new ApiError('InvalidExecutionInput', `Invalid execution input: ${err.message}`);
    }
    const arn = executionArn(m.name, name);
    const existing = executions.get(arn);
    if (existing) {
      // AWS: the same name and input while RUNNING returns the original
      // execution; a different input, or a closed execution, conflicts.
      if (existing.status === 'RUNNING' && existing.input === input) {
        return { executionArn: arn, startDate: seconds(existing.startDate) };
      }
      throw new ApiError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
    }
    if (!m.compiled) throw new ApiError('InvalidDefinition', `state machine ${m.arn} does not compile; update it`);
    const record = { kind: 'start', arn, machineArn: m.arn, machineName: m.name, name, input, startDate: Date.now() };
    journal.append(record);
    const exec = newExecution(record);
    executions.set(arn, exec);
    launch(exec, m);
    log(`${arn}: started`);
    return { executionArn: arn, startDate: seconds(exec.startDate) };
  },

  DescribeExecution(body) {
    const e = getExecution(field(body, 'executionArn', { required: true }));
    const out = {
      executionArn: e.arn,
      stateMachineArn: e.machineArn,
      name: e.name,
      status: e.status,
      startDate: seconds(e.startDate),
      stopDate: seconds(e.stopDate),
      input: e.input,
      inputDetails: { included: true },
      redriveCount: 0,
      redriveStatus: 'NOT_REDRIVABLE',
    };
    if (e.status === 'SUCCEEDED') {
      out.output = e.output;
      out.outputDetails = { included: true };
    }
    if (e.error !== undefined && e.error !== null) out.error = e.error;
    if (e.cause !== undefined && e.cause !== null) out.cause = e.cause;
    return out;
  },

  ListExecutions(body) {
    const m = getMachine(field(body, 'stateMachineArn', { required: true }));
    const status = field(body, 'statusFilter');
    if (status !== undefined && !STATUSES.includes(status)) throw new ApiError('ValidationException', `statusFilter must be one of ${STATUSES.join(', ')}`);
    const all = [...executions.values()]
      .filter((e) => e.machineArn === m.arn && (status === undefined || e.status === status))
      .sort((a, b) => b.startDate - a.startDate);
    const { out, next } = page(all, pageArgs(body));
    return {
      executions: out.map((e) => ({
        executionArn: e.arn,
        stateMachineArn: e.machineArn,
        name: e.name,
        status: e.status,
        startDate: seconds(e.startDate),
        stopDate: seconds(e.stopDate),
      })),
      nextToken: next,
    };
  },

  StopExecution(body) {
    const e = getExecution(field(body, 'executionArn', { required: true }));
    const error = field(body, 'error', { max: 256 });
    const cause = field(body, 'cause', { max: 32768 });
    finish(e, 'ABORTED', { error, cause });
    return { stopDate: seconds(e.stopDate) };
  },

  GetExecutionHistory(body) {
    const e = getExecution(field(body, 'executionArn', { required: true }));
    let events = e.events;
    if (body.reverseOrder === true) events = [...events].reverse();
    const { out, next } = page(events, pageArgs(body));
    return { events: out, nextToken: next };
  },

  SendTaskSuccess(body) {
    const task = pendingTask(field(body, 'taskToken', { required: true }));
    const output = field(body, 'output', { required: true });
    if (Buffer.byteLength(output) > MAX_PAYLOAD) throw new ApiError('InvalidOutput', `Output is larger than ${MAX_PAYLOAD} bytes`);
    let value;
    try {
      value = JSON.parse(output);
    } catch (err) {
      throw new ApiError('InvalidOutput', `Invalid output: ${err.message}`);
    }
    // As AWS records a callback's answer: what the approvals read back when
    // the answer to their SendTaskSuccess was lost.
    addEvent(task.exec, { type: 'TaskSucceeded', timestamp: Date.now(), taskSucceededEventDetails: { resourceType: 'lambda', resource: 'invoke.waitForTaskToken', output } });
    task.pending.resolve(value);
    return {};
  },

  SendTaskFailure(body) {
    const task = pendingTask(field(body, 'taskToken', { required: true }));
    const error = field(body, 'error', { max: 256 });
    const cause = field(body, 'cause', { max: 32768 });
    task.pending.reject(taskError(error ?? '', cause ?? ''));
    return {};
  },

  SendTaskHeartbeat(body) {
    const task = pendingTask(field(body, 'taskToken', { required: true }));
    if (task.armHeartbeat) task.armHeartbeat();
    return {};
  },
};

function describeMachine(m) {
  return {
    stateMachineArn: m.arn,
    name: m.name,
    status: 'ACTIVE',
    definition: m.definition,
    roleArn: m.roleArn,
    type: 'STANDARD',
    creationDate: seconds(m.creationDate),
    loggingConfiguration: { level: 'OFF', includeExecutionData: false },
    tracingConfiguration: { enabled: false },
  };
}

// pendingTask finds the callback task of a token. As in AWS, a token that is
// not one of ours is InvalidToken, and one whose task is over (completed,
// timed out, execution ended, or lost in a restart) is TaskTimedOut.
function pendingTask(token) {
  if (token.length < 1 || token.length > 1024 || !TOKEN_PATTERN.test(token)) {
    throw new ApiError('InvalidToken', 'Invalid Token');
  }
  const task = tokens.get(token);
  if (!task) throw new ApiError('TaskTimedOut', 'Task Timed Out: Provided task does not exist anymore');
  return task;
}

// ---------------------------------------------------------------------------
// HTTP

function send(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/x-amz-json-1.0',
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': crypto.randomUUID(),
    ...headers,
  });
  res.end(text);
}

function sendError(res, err) {
  send(res, err.status, { __type: err.code, message: err.message }, { 'x-amzn-ErrorType': err.code });
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_REQUEST_BODY) {
        reject(new ApiError('ValidationException', `request body larger than ${MAX_REQUEST_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function handle(req, res) {
  if (req.method === 'GET' && req.url === '/health') {
    send(res, 200, { status: 'ok' });
    return;
  }
  if (req.method !== 'POST' || (req.url !== '/' && !req.url.startsWith('/?'))) {
    throw new ApiError('UnknownOperationException', `local stepfunctions does not serve ${req.method} ${req.url}`, 404);
  }
  const target = String(req.headers['x-amz-target'] || '');
  const op = target.startsWith('AWSStepFunctions.') ? target.slice('AWSStepFunctions.'.length) : '';
  if (!Object.hasOwn(operations, op)) {
    throw new ApiError('UnknownOperationException', `Unknown operation ${JSON.stringify(target)}`);
  }
  const text = await readBody(req);
  let body = {};
  if (text.trim() !== '') {
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new ApiError('SerializationException', `request body is not JSON: ${err.message}`);
    }
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError('SerializationException', 'request body is not a JSON object');
  }
  send(res, 200, operations[op](body));
}

async function main() {
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(err.message);
    process.exit(2);
  }
  StatesTimeoutError = await discoverTimeoutClass();
  lambda = new LambdaClient({
    endpoint: opts.lambdaEndpoint,
    region: opts.region,
    // The local Lambda host accepts any signature.
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    // The definition's Retry decides about retries, not the SDK.
    maxAttempts: 1,
    // A request that gets no answer fails (Lambda.SdkClientException)
    // instead of holding its task for ever; many executions invoke at
    // once, so the agent may open more than the SDK's default 50 sockets.
    requestHandler: {
      requestTimeout: opts.invokeTimeout * 1000,
      throwOnRequestTimeout: true,
      httpAgent: { maxSockets: 256 },
    },
  });
  journal = new Journal(opts.stateDir ? path.resolve(opts.stateDir) : '');
  loadJournal();

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!(err instanceof ApiError)) {
        log(`internal error: ${err.stack || err}`);
        err = new ApiError('InternalFailure', String(err.message || err), 500);
      }
      if (!res.headersSent) sendError(res, err);
    });
  });
  // Idle keep-alive connections outlive the SDK's own idle timeout (90 s in
  // aws-sdk-go-v2), so the client, not the server, closes them: a request
  // sent on a connection the server is just closing would fail.
  server.keepAliveTimeout = 120000;
  server.headersTimeout = 125000;
  server.on('error', (err) => {
    console.error(`sfnlocal: ${err.message}`);
    process.exit(1);
  });
  server.listen(opts.port, '127.0.0.1', () => {
    const { port } = server.address();
    // The Go side (sfnlocal.Start) waits for this exact line.
    console.log(`sfnlocal listening on http://127.0.0.1:${port}`);
    log(`lambda endpoint ${opts.lambdaEndpoint}, region ${opts.region}, account ${opts.account}, wait scale ${opts.waitScale}, journal ${journal.file ?? '(none)'}`);
  });

  // Running executions are not saved: the journal already says they started,
  // and the next start marks them ABORTED. So shutting down is just closing.
  const stop = (sig) => {
    log(`${sig}: shutting down`);
    server.close();
    server.closeAllConnections();
    process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

// One execution's stray promise must not take the whole service down.
process.on('unhandledRejection', (err) => log(`unhandled rejection: ${err && err.stack ? err.stack : err}`));

main().catch((err) => {
  console.error(`sfnlocal: ${err.stack || err}`);
  process.exit(1);
});
