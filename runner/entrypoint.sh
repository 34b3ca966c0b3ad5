#!/usr/bin/env bash
# Container entrypoint of the runner image, started by tini (PID 1).
#
# Reads the JIT config from ACTIONS_RUNNER_INPUT_JITCONFIG (injected by the task's S3 environment
# file), removes it from the environment and execs `run.sh --jitconfig <value>` in RUNNER_HOME.
#
# Why exec, and how SIGTERM reaches the runner: after the exec, run.sh is tini's direct child, so the
# SIGTERM that ECS sends to PID 1 on StopTask or a Fargate Spot interruption is forwarded straight to
# run.sh, with no shell of ours in between to swallow it. RUNNER_MANUALLY_TRAP_SIG=1 selects
# run.sh's container mode: it starts run-helper.sh (and so Runner.Listener) in its own process
# group, turns TERM/INT into a SIGINT for that group, which the listener handles as a graceful
# shutdown, waits for it and exits with its exit code. In the default mode bash run.sh would die at
# once on SIGTERM, tini would exit and the kernel would SIGKILL the listener mid-job.
set -euo pipefail

readonly JIT_VARIABLE=ACTIONS_RUNNER_INPUT_JITCONFIG
readonly EXIT_CONFIG_ERROR=78

fail() {
  echo "entrypoint: $1" >&2
  exit "$EXIT_CONFIG_ERROR"
}

is_base64() {
  local LC_ALL=C
  [[ "$1" =~ ^[A-Za-z0-9+/=_-]+$ ]]
}

jit_config="${ACTIONS_RUNNER_INPUT_JITCONFIG-}"
unset "$JIT_VARIABLE"

if [[ -z "$jit_config" ]]; then
  fail "$JIT_VARIABLE is missing or empty: start the task with its JIT environment file"
fi
# run.sh forwards its arguments unquoted ($*), so only base64 characters survive intact.
if ! is_base64 "$jit_config"; then
  fail "$JIT_VARIABLE is not a base64-encoded JIT config (value withheld)"
fi

runner_home="${RUNNER_HOME:-/home/runner/actions-runner}"
if [[ ! -x "$runner_home/run.sh" ]]; then
  fail "no executable run.sh in RUNNER_HOME ($runner_home)"
fi

cd "$runner_home"
export RUNNER_MANUALLY_TRAP_SIG=1
exec ./run.sh --jitconfig "$jit_config"
