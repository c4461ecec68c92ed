# Sourced by tools/demo.sh and tools/demo-pulumi.sh: what both demos print and wait for.

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

# free_port prints a TCP port on 127.0.0.1 that nothing listens on.
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 20000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

# wait_healthy URL: polls URL until it answers 200, for at most 20 seconds.
wait_healthy() {
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "timed out waiting for $1" >&2
  return 1
}
