# tron local supervisor: run one attempt's command on this machine and record how it went.
#
# usage: sh -c "$(cat local.sh)" sh DIR STARTED [COMMAND]
# Only the LocalExecutor runs this (remote nodes use wrapper.sh). It spawns us directly as a
# session leader, so our pid is also the attempt's process group, and it is our parent: we are
# the supervisor ourselves, with no launcher, `setsid` or second shell to exec, which makes a
# launch cost one exec, as much as a bare `sh -c`.
#   COMMAND   the command text; without it we read DIR/command (for texts too long for argv)
#   STARTED   the launch time in epoch seconds
#
# The command runs in a forked subshell of ours through `eval`, in our process group: signalling
# the group signals the command and everything it started. Two consequences, by design:
# - We catch the usual termination signals with a no-op trap so they end only the command; a
#   subshell resets caught signals to their defaults, so the command still dies of them. SIGKILL
#   ends us too: the LocalExecutor then writes DIR/killed before signalling and reports that.
# - In the command `$$` is our pid (the process group), as in any subshell, not its own.
# Like any asynchronous command in a POSIX sh without job control, it starts with SIGINT and
# SIGQUIT ignored; Tron stops actions with SIGTERM and SIGKILL.
#
# Records, each written by a single write(2) ending in a newline (same as wrapper.sh):
#   supervisor, group  our pid
#   pid                the command's pid (the subshell)
#   started            STARTED
#   signal             N when the command ended with status 128+N (written before `exit`)
#   exit               the command's exit status
# On file descriptor 3 (a pipe from the launcher; 0, 1 and 2 are /dev/null) we print the
# command's pid once recorded, then close it: the launcher reads it as the sign that the attempt
# started, and DIR/stdout and DIR/stderr exist by then. No functions and no variables leak into the command:
# the subshell sees only what `sh -c` would show it.

trap : HUP INT QUIT TERM USR1 USR2 ALRM
if [ $# -lt 3 ]; then
    tron_text=
    while IFS= read -r tron_line || [ -n "$tron_line" ]; do
        tron_text="$tron_text$tron_line
"
    done <"$1/command" || exit 2
    set -- "$1" "$2" "$tron_text"
    unset tron_text tron_line
fi
printf '%s\n' "$$" >"$1/supervisor"
printf '%s\n' "$$" >"$1/group"
# Opened here rather than in the subshell so that they exist once the launcher hears of the pid.
exec >"$1/stdout" 2>"$1/stderr"
# `set --` first, so that $1, $2 and $3 are empty in the command, as under `sh -c`.
eval "set --; $3" </dev/null 3>&- &
tron_pid=$!
printf '%s\n' "$tron_pid" >"$1/pid"
printf '%s\n' "$tron_pid" >&3
exec >/dev/null 2>&1 3>&-
printf '%s\n' "$2" >"$1/started"
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
printf '%s\n' "$tron_status" >"$1/exit"
