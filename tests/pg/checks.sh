# Checks for the scripts that test a throw-away cluster (run.sh, steering.sh, deb.sh,
# ../regress/run.sh).
# Source it after cluster.sh, then:
#
#   ok DESCRIPTION / not_ok DESCRIPTION      count and print `ok - …` / `FAILED - …`
#   check DESCRIPTION ACTUAL EXPECTED        ok when equal, else FAILED with both values
#   check_true DESCRIPTION COMMAND…          ok when the command succeeds
#   checks_finish STATUS                     from an EXIT trap (STATUS: the exit status the
#                                            trap was entered with): a run that did not set
#                                            finished=1 stopped early (FAILED, with the server
#                                            log's tail); destroys the cluster, prints
#                                            `N passed, M failed` and exits 0 only if none failed

passed=0
failed=0
finished=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "FAILED - $1"; }
check() { # description actual expected
  if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: got '$2', expected '$3'"; fi
}
check_true() { # description command…
  local what=$1; shift
  if "$@"; then ok "$what"; else not_ok "$what"; fi
}

checks_finish() { # status
  local status=$1
  if [ "$finished" = 0 ]; then
    not_ok "the tests stopped early (exit status $status); server log follows"
    [ -n "$CLUSTER_LOG" ] && [ -f "$CLUSTER_LOG" ] && tail -n 40 "$CLUSTER_LOG"
  fi
  cluster_destroy
  echo "$passed passed, $failed failed"
  # The script's exit status (an EXIT trap keeps the one it was entered with unless it exits).
  if [ "$failed" = 0 ]; then exit 0; else exit 1; fi
}
