# TEST FIXTURE: local.sh as tron shipped it before the single-file records (one file per
# record), kept to prove that attempts it started are still read and reattached after an upgrade.
#
# tron local supervisor: run one attempt's command on this machine and record how it went.
#
# usage: sh -c "$(cat local.sh)" sh DIR [COMMAND]
# Only the LocalExecutor runs this (SSH nodes use ssh_agent.sh). It spawns us directly as a
# session leader, so our pid is also the attempt's process group, and it is our parent: we are
# the supervisor ourselves, with no launcher, `setsid` or second shell to exec, which makes a
# launch cost one exec, as much as a bare `sh -c`.
#   COMMAND   the command text; without it we read DIR/command (for texts too long for argv)
#
# The command runs in a forked subshell of ours through `eval`, in our process group: signalling
# the group signals the command and everything it started. Two consequences, by design:
# - We catch the usual termination signals with a no-op trap so they end only the command; a
#   subshell resets caught signals to their defaults, so the command still dies of them. SIGKILL
#   ends us too: the LocalExecutor then writes DIR/killed before signalling and reports that.
# - In the command `$$` is our pid (the process group), as in any subshell, not its own.
# Like any asynchronous command in a POSIX sh without job control, it starts with SIGINT and
# SIGQUIT ignored; Tron stops actions with SIGTERM and SIGKILL. SIGPIPE is at its default in the
# command (the executor spawns us so): we ignore it only once the command is forked, so that
# trond gone (our writes to a pipe, on fd 3, are the pid and at the very end the status) cannot
# kill us and lose the exit status; an ignored signal would stay ignored in everything the
# command runs.
#
# Records (their formats: tron/executors/supervisor.py):
#   exit               reserved first (17 spaces, no newline), with `set -C`: if it is already
#                      there (trond's reattach claimed the attempt as never started) or cannot be
#                      written (disk full), we start nothing. At the end, overwritten in place
#                      with the command's exit status padded to the same 17 bytes.
#   supervisor         our pid, which is also the attempt's process group (the LocalExecutor
#                      knows that: no `group` record, each file is a cost of every launch)
#   pid                the command's pid (the subshell)
#   signal             N when the command ended with status 128+N (written before `exit`)
# On file descriptor 3 (a pipe from the launcher; 0, 1 and 2 are /dev/null) we print the
# command's pid once recorded: the launcher reads it as the sign that the attempt started, and
# DIR/stdout and DIR/stderr exist by then. We keep it open until we exit (the command does not
# inherit it), and print the exit status there too once the `exit` record is written: the
# launcher then need not read the record, and the pipe's end of file tells it that we ended. No functions and no variables leak into
# the command: the subshell sees only what `sh -c` would show it.

trap : HUP INT QUIT TERM USR1 USR2 ALRM
set -C
if ! { printf '%17s' '' >"$1/exit"; } 2>/dev/null; then
    printf 'cannot reserve %s/exit\n' "$1" >&3
    exit 2
fi
set +C
if [ $# -lt 2 ]; then
    tron_text=
    while IFS= read -r tron_line || [ -n "$tron_line" ]; do
        tron_text="$tron_text$tron_line
"
    done <"$1/command" || exit 2
    set -- "$1" "$tron_text"
    unset tron_text tron_line
fi
printf '%s\n' "$$" >"$1/supervisor"
# Opened here rather than in the subshell so that they exist once the launcher hears of the pid.
exec >"$1/stdout" 2>"$1/stderr"
# `set --` first, so that $1 and $2 are empty in the command, as under `sh -c`.
eval "set --; $2" </dev/null 3>&- &
tron_pid=$!
trap '' PIPE
printf '%s\n' "$tron_pid" >"$1/pid"
printf '%s\n' "$tron_pid" 2>/dev/null >&3
exec >/dev/null 2>&1
wait "$tron_pid"
tron_status=$?
# A caught signal interrupts `wait` with 128+N while the command may still run. It is over once
# `wait` has reaped it; until then `kill -0` still finds it (alive, or a zombie).
while [ "$tron_status" -gt 128 ] && kill -0 "$tron_pid" 2>/dev/null; do
    wait "$tron_pid"
    tron_status=$?
done
if [ "$tron_status" -gt 128 ] && [ "$tron_status" -lt 193 ]; then
    printf '%s\n' $((tron_status - 128)) >"$1/signal"
fi
printf '%-16s\n' "$tron_status" 1<>"$1/exit"
printf '%s\n' "$tron_status" >&3
